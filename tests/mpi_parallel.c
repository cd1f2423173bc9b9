/*
 * mpi_parallel.c — the MPI layer under mpirun (run by tests/e2e_parallel.sh
 * at np = 1, 2 and 4). Checks are agreed over ranks; the root prints the
 * report, every rank exits with the same status.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "metagrid/parallel.h"
#include "metagrid/rng.h"
#include "metagrid/xsum.h"

int main(int argc, char **argv)
{
    par_init(&argc, &argv);
    int r = par_rank(), p = par_size();
    int local_fail = 0;
#define LCHECK(c) do { if (!(c)) { local_fail++; fprintf(stderr, "rank %d: FAIL %s:%d %s\n", r, __FILE__, __LINE__, #c); } } while (0)

    /* Broadcast from the root and from the last rank. */
    double b[3] = {r == 0 ? 1.5 : 0, r == 0 ? -2 : 0, r == 0 ? 1e300 : 0};
    par_bcast(b, sizeof b, 0);
    LCHECK(b[0] == 1.5 && b[1] == -2 && b[2] == 1e300);
    int last = r == p - 1 ? 42 : 0;
    par_bcast(&last, sizeof last, p - 1);
    LCHECK(last == 42);

    /* Sums, min, max. */
    double s[2] = {(double)r, 1.0};
    par_allreduce_sum_d(s, 2);
    LCHECK(s[0] == p * (p - 1) / 2.0 && s[1] == p);
    int64_t si = (int64_t)1 << 40;
    par_allreduce_sum_i64(&si, 1);
    LCHECK(si == ((int64_t)p << 40));
    double mn = r, mx = r;
    par_allreduce_min_d(&mn, 1);
    par_allreduce_max_d(&mx, 1);
    LCHECK(mn == 0 && mx == p - 1);
    LCHECK(par_max_int(r * 3) == 3 * (p - 1));
    double g[64];
    par_allgather_d(r + 0.5, g);
    for (int i = 0; i < p && i < 64; i++) LCHECK(g[i] == i + 0.5);

    /* Exact sums: 100 values spread over ranks in blocks give the same bits
     * as the serial sum in order. */
    enum { N = 100 };
    double v[N];
    RngStream st;
    rng_stream_init(&st, 5, RNG_TEST, 0, 0, 0);
    for (int i = 0; i < N; i++) v[i] = rng_normal(&st) * (i % 7 ? 1e-3 : 1e5);
    int64_t acc[XSUM_STRIDE] = {0}, ser[XSUM_STRIDE] = {0};
    for (int i = r * N / p; i < (r + 1) * N / p; i++) xsum_add(acc, &v[i], 1);
    par_allreduce_sum_i64(acc, XSUM_STRIDE);
    for (int i = 0; i < N; i++) xsum_add(ser, &v[i], 1);
    double a, bb;
    xsum_to_double(acc, &a, 1);
    xsum_to_double(ser, &bb, 1);
    LCHECK(memcmp(&a, &bb, sizeof a) == 0);

    /* Sharded collectives: blocks cover [0, n) in order; reduce-scatter gives
     * each rank the sum over ranks of its block; allgatherv completes a
     * vector of which each rank wrote only its block. */
    {
        enum { M = 11, S = 3 };
        size_t off[64], cnt[64], tot = 0;
        par_blocks(M, off, cnt);
        for (int q = 0; q < p; q++) {
            LCHECK(off[q] == tot);
            tot += cnt[q];
        }
        LCHECK(tot == M);
        int64_t send[M * S], recv[M * S];
        for (int i = 0; i < M * S; i++) send[i] = (int64_t)(i + 1) * (r + 1);
        par_reduce_scatter_sum_i64(send, recv, off, cnt, S);
        int64_t ranks_sum = (int64_t)p * (p + 1) / 2;
        for (size_t i = 0; i < cnt[r] * S; i++)
            LCHECK(recv[i] == (int64_t)(off[r] * S + i + 1) * ranks_sum);
        double full[M];
        for (int i = 0; i < M; i++) full[i] = -1.0;
        for (size_t i = off[r]; i < off[r] + cnt[r]; i++) full[i] = 0.5 * (double)i;
        par_allgatherv_d(full, off, cnt);
        for (int i = 0; i < M; i++) LCHECK(full[i] == 0.5 * i);
    }

    /* Error agreement: no error -> 0 everywhere. */
    MgErr e0 = {0};
    LCHECK(par_agree_error(&e0) == 0 && e0.code == 0);
    /* The last rank fails with 1, rank 0 (if another) with 2: everyone gets
     * 2 and rank 0's message; then only the last rank fails: its message. */
    MgErr e1 = {0};
    if (r == p - 1) mg_fail(&e1, 1, "failure on rank %d", r);
    if (r == 0 && p > 1) mg_fail(&e1, 2, "usage error on rank 0");
    int code = par_agree_error(&e1);
    LCHECK(code == (p > 1 ? 2 : 1) && e1.code == code);
    LCHECK(strstr(e1.msg, p > 1 ? "rank 0" : "rank 0") != NULL);
    MgErr e2 = {0};
    if (r == p - 1) mg_fail(&e2, 1, "failure on rank %d", r);
    char want[64];
    snprintf(want, sizeof want, "failure on rank %d", p - 1);
    LCHECK(par_agree_error(&e2) == 1 && strcmp(e2.msg, want) == 0);

    int fails = par_max_int(local_fail);
    double passed = local_fail == 0;
    par_allreduce_sum_d(&passed, 1);
    if (par_is_root()) {
        th_passed = (int)passed;
        th_failed = p - (int)passed;
        (void)fails;
    }
    int rc = 0;
    if (par_is_root()) rc = TEST_REPORT();
    rc = par_max_int(rc);
    par_exit(rc);
}
