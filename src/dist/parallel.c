/*
 * parallel.c — the MPI layer (the only file that includes <mpi.h>).
 *
 * Every collective has a serial fallback (-DMG_SERIAL) so that unit tests and
 * tools link without MPI. Errors from MPI itself are fatal (MPI's default
 * handler); errors from our own code are agreed with par_agree_error so that
 * every rank exits with the same status and the user sees one message.
 */
#include "metagrid/parallel.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#ifndef MG_SERIAL
#include <mpi.h>
#endif

static int g_rank = 0, g_size = 1, g_init = 0;

#ifndef MG_SERIAL
static char g_lib[MPI_MAX_LIBRARY_VERSION_STRING];
#endif

void par_init(int *argc, char ***argv)
{
    if (g_init) return;
    g_init = 1;
#ifndef MG_SERIAL
    MPI_Init(argc, argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    int len = 0;
    MPI_Get_library_version(g_lib, &len);
    char *nl = strchr(g_lib, '\n');
    if (nl) *nl = '\0';
    char *comma = strchr(g_lib, ',');
    if (comma) *comma = '\0';
#else
    (void)argc;
    (void)argv;
#endif
}

void par_finalize(void)
{
    if (!g_init) return;
#ifndef MG_SERIAL
    int fin = 0;
    MPI_Finalized(&fin);
    if (!fin) MPI_Finalize();
#endif
    g_init = 0;
}

_Noreturn void par_exit(int status)
{
    fflush(stdout);
    fflush(stderr);
    par_finalize();
    exit(status);
}

int par_rank(void) { return g_rank; }
int par_size(void) { return g_size; }
int par_is_root(void) { return g_rank == 0; }

#define PAR_STR2(x) #x
#define PAR_STR(x) PAR_STR2(x)
const char *par_library(void)
{
#ifndef MG_SERIAL
    if (g_init) return g_lib;
#if defined(OMPI_MAJOR_VERSION)
    return "Open MPI v" PAR_STR(OMPI_MAJOR_VERSION) "." PAR_STR(OMPI_MINOR_VERSION) "." PAR_STR(
        OMPI_RELEASE_VERSION) " (compiled against)";
#elif defined(MPICH_VERSION)
    return "MPICH " MPICH_VERSION " (compiled against)";
#else
    return "MPI " PAR_STR(MPI_VERSION) "." PAR_STR(MPI_SUBVERSION) " (compiled against)";
#endif
#else
    return "serial";
#endif
}

void par_barrier(void)
{
#ifndef MG_SERIAL
    if (g_init) MPI_Barrier(MPI_COMM_WORLD);
#endif
}

void par_bcast(void *buf, size_t bytes, int root)
{
#ifndef MG_SERIAL
    if (!g_init || g_size == 1) return;
    /* MPI counts are int: send in chunks of at most 1 GiB. */
    char *p = buf;
    while (bytes > 0) {
        int chunk = bytes > (1u << 30) ? (1 << 30) : (int)bytes;
        MPI_Bcast(p, chunk, MPI_BYTE, root, MPI_COMM_WORLD);
        p += chunk;
        bytes -= (size_t)chunk;
    }
#else
    (void)buf;
    (void)bytes;
    (void)root;
#endif
}

/* The element types and operations of the allreduces we use. In the serial
 * build every allreduce over one rank is the identity. */
typedef enum { PAR_F64, PAR_I64 } ParType;
typedef enum { PAR_SUM, PAR_MIN, PAR_MAX } ParOp;

static void par_allreduce(void *buf, size_t n, ParType type, ParOp op)
{
#ifndef MG_SERIAL
    if (!g_init || g_size == 1) return;
    MPI_Datatype t = type == PAR_F64 ? MPI_DOUBLE : MPI_INT64_T;
    MPI_Op o = op == PAR_SUM ? MPI_SUM : op == PAR_MIN ? MPI_MIN : MPI_MAX;
    size_t esize = type == PAR_F64 ? sizeof(double) : sizeof(int64_t);
    char *p = buf;
    while (n > 0) { /* MPI counts are int: at most 2^26 elements a call */
        int chunk = n > (1u << 26) ? (1 << 26) : (int)n;
        MPI_Allreduce(MPI_IN_PLACE, p, chunk, t, o, MPI_COMM_WORLD);
        p += (size_t)chunk * esize;
        n -= (size_t)chunk;
    }
#else
    (void)buf;
    (void)n;
    (void)type;
    (void)op;
#endif
}

void par_allreduce_sum_d(double *buf, size_t n) { par_allreduce(buf, n, PAR_F64, PAR_SUM); }
void par_allreduce_sum_i64(int64_t *buf, size_t n) { par_allreduce(buf, n, PAR_I64, PAR_SUM); }
void par_allreduce_min_d(double *buf, size_t n) { par_allreduce(buf, n, PAR_F64, PAR_MIN); }
void par_allreduce_max_d(double *buf, size_t n) { par_allreduce(buf, n, PAR_F64, PAR_MAX); }

int par_max_int(int v)
{
#ifndef MG_SERIAL
    if (g_init && g_size > 1)
        MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
#endif
    return v;
}

void par_allgather_d(double v, double *out)
{
#ifndef MG_SERIAL
    if (g_init && g_size > 1) {
        MPI_Allgather(&v, 1, MPI_DOUBLE, out, 1, MPI_DOUBLE, MPI_COMM_WORLD);
        return;
    }
#endif
    out[0] = v;
}

void par_block_of(size_t n, int rank, int size, size_t *lo, size_t *hi)
{
    size_t base = n / (size_t)size, extra = n % (size_t)size, r = (size_t)rank;
    *lo = r * base + (r < extra ? r : extra);
    *hi = *lo + base + (r < extra ? 1 : 0);
}

void par_block(size_t n, size_t *lo, size_t *hi) { par_block_of(n, g_rank, g_size, lo, hi); }

void par_blocks(size_t n, size_t *off, size_t *cnt)
{
    for (int r = 0; r < g_size; r++) {
        size_t lo, hi;
        par_block_of(n, r, g_size, &lo, &hi);
        off[r] = lo;
        cnt[r] = hi - lo;
    }
}

int par_check_count(uint64_t count, const char *what, const char *fix, MgErr *e)
{
    if (count <= (uint64_t)INT32_MAX) return MG_OK;
    return mg_fail(e, MG_EUSAGE, "%s: %llu elements, more than MPI's int counts (2^31 - 1): %s",
                   what, (unsigned long long)count, fix);
}

#ifndef MG_SERIAL
/* MPI counts and displacements are int: refuse what does not fit
 * (callers check with par_check_count first). */
static int *par_int_array(const size_t *v, size_t scale)
{
    int *out = mg_calloc((size_t)g_size, sizeof(int));
    for (int r = 0; r < g_size; r++) {
        MG_ASSERT(v[r] * scale <= (size_t)INT32_MAX);
        out[r] = (int)(v[r] * scale);
    }
    return out;
}
#endif

void par_reduce_scatter_sum_i64(const int64_t *send, int64_t *recv, const size_t *off,
                                const size_t *cnt, size_t stride)
{
#ifndef MG_SERIAL
    if (g_init && g_size > 1) {
        int *counts = par_int_array(cnt, stride);
        MPI_Reduce_scatter(send, recv, counts, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
        free(counts);
        return;
    }
#endif
    memcpy(recv, send + off[g_rank] * stride, cnt[g_rank] * stride * sizeof(int64_t));
}

void par_allgatherv_d(double *buf, const size_t *off, const size_t *cnt)
{
#ifndef MG_SERIAL
    if (g_init && g_size > 1) {
        int *counts = par_int_array(cnt, 1), *displs = par_int_array(off, 1);
        MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf, counts, displs, MPI_DOUBLE,
                       MPI_COMM_WORLD);
        free(counts);
        free(displs);
    }
#else
    (void)buf;
    (void)off;
    (void)cnt;
#endif
}

int par_agree_error(MgErr *e)
{
#ifndef MG_SERIAL
    if (!g_init || g_size == 1) return e->code;
    /* MAXLOC on (code, rank) picks the largest code, lowest rank among ties. */
    int in[2] = {e->code, g_rank}, out[2];
    MPI_Allreduce(in, out, 1, MPI_2INT, MPI_MAXLOC, MPI_COMM_WORLD);
    int code = out[0], owner = out[1];
    if (code != 0) {
        MPI_Bcast(e->msg, (int)sizeof e->msg, MPI_CHAR, owner, MPI_COMM_WORLD);
        e->msg[sizeof e->msg - 1] = '\0';
    }
    e->code = code;
    return code;
#else
    return e->code;
#endif
}

void par_report_err(const MgErr *e)
{
    if (g_rank == 0 && e->code != 0) mg_print_err(e);
}

void par_printf(const char *fmt, ...)
{
    if (g_rank != 0) return;
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
}
