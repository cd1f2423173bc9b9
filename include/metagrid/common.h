/*
 * common.h — status codes, the error record every library call fills, and
 * small helpers shared by all modules.
 *
 * Library code never exits (mg_panic aborts on a broken invariant or out of
 * memory) and never prints an error: it returns a status and fills an MgErr.
 * The command layer (src/cli) prints errors and exits, under MPI after
 * agreeing the status over all ranks (par_agree_error). The only other
 * output is the experiment layer's (src/exp) on the root rank: train's
 * progress lines and the tables of the benchmarks, to stdout.
 */
#ifndef METAGRID_COMMON_H
#define METAGRID_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit statuses of the command line (see CONTRACT.md). */
enum {
    MG_OK = 0,       /* done */
    MG_EFAIL = 1,    /* any other failure (I/O, divergence, solver, ...) */
    MG_EUSAGE = 2,   /* bad usage, config or input */
    MG_ESTOP = 75    /* stopped by SIGINT/SIGTERM/SIGUSR1 after a checkpoint */
};

#define MG_ERRMSG_MAX 1024

/* An error record: a status and one human-readable message (no "metagrid:"
 * prefix, no trailing newline). Zero-initialise before use. */
typedef struct {
    int code;
    char msg[MG_ERRMSG_MAX];
} MgErr;

/* Fill e (if non-NULL) with code and a printf-style message; returns code.
 * Keeps the first error: a record that already holds one is not overwritten. */
int mg_fail(MgErr *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* An input error (MG_EUSAGE) at "NAME:LINE: text" (NAME NULL: the text
 * alone; LINE <= 0: "NAME: text"). Control characters in the formatted text
 * become '?', so a hostile file cannot garble the terminal through its own
 * bytes quoted back. The one formatter of the readers (config, sweep, case,
 * CSV). Returns MG_EUSAGE; keeps the first error like mg_fail. */
int mg_fail_at(MgErr *e, const char *name, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int mg_vfail_at(MgErr *e, const char *name, int line, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

/* Print "metagrid: MSG" on stderr (the one user-visible error line). */
void mg_print_err(const MgErr *e);

/* Invariant check that names the expression; for the impossible only. */
#define MG_ASSERT(cond)                                                        \
    do {                                                                       \
        if (!(cond)) mg_panic(__FILE__, __LINE__, #cond);                      \
    } while (0)
_Noreturn void mg_panic(const char *file, int line, const char *expr);

/* Allocation that panics on out-of-memory (sizes here are small and known). */
void *mg_calloc(size_t n, size_t size);
void *mg_malloc(size_t size);
char *mg_strdup(const char *s);

/* Wall-clock seconds (monotonic). */
double mg_now(void);

/* Make a directory and its parents; 0 or -1 with errno. */
int mg_mkdir_p(const char *path);

/* Read a whole file into a fresh NUL-terminated buffer (caller frees).
 * Refuses files larger than max_bytes. Returns NULL and fills e on failure. */
char *mg_read_file(const char *path, size_t max_bytes, size_t *len, MgErr *e);
/* A parser of an in-memory text into obj; name (the path) is for messages. */
typedef int (*MgParseFn)(void *obj, const char *text, size_t len, const char *name, MgErr *e);
/* The file readers' load: read the file at path (at most max_bytes) and
 * parse it into obj (the text is freed after). Returns parse's status, or
 * the read's error with e filled and obj untouched. */
int mg_load_file(const char *path, size_t max_bytes, MgParseFn parse, void *obj, MgErr *e);

/* Memory a run may ask for before it is refused as oversized: the physical
 * memory of the machine (sysconf), or METAGRID_MEM_LIMIT bytes if set. */
double mg_mem_limit(void);
/* MG_OK if `bytes` (one rank's estimate) fits in mg_mem_limit(), else
 * MG_EUSAGE "WHAT needs about X GiB per rank, more than this machine's
 * Y GiB: FIX" — an oversized input fails with a message instead of an
 * out-of-memory abort halfway through. */
int mg_mem_check(double bytes, const char *what, const char *fix, MgErr *e);

/* The output-file pair: open path for writing (mode "w" or "a"; NULL and e
 * filled on failure), and close it, failing (e filled) if any write or the
 * close failed. */
FILE *mg_open_out(const char *path, const char *mode, MgErr *e);
int mg_close_out(FILE *f, const char *path, MgErr *e);
/* Write text (may be "") to path, replacing it: the pair above in one call. */
int mg_write_text(const char *path, const char *text, MgErr *e);

/* Join dir and name into out (size n). */
void mg_path_join(char *out, size_t n, const char *dir, const char *name);

/* The path of a shipped config file NAME ("sinusoid.yaml"): configs/NAME in
 * the current directory, else next to the binary (../configs in a build tree,
 * ../share/metagrid/configs when installed); writes into buf (size n). */
const char *mg_default_config(const char *name, char *buf, size_t n);

#define MG_MIN(a, b) ((a) < (b) ? (a) : (b))
#define MG_MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
