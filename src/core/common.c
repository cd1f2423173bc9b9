/*
 * common.c — error records, panics, allocation and small file helpers.
 */
#define _POSIX_C_SOURCE 200809L
#include "metagrid/common.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int mg_fail(MgErr *e, int code, const char *fmt, ...)
{
    if (!e || e->code != 0) return code;
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return code;
}

int mg_vfail_at(MgErr *e, const char *name, int line, const char *fmt, va_list ap)
{
    char buf[MG_ERRMSG_MAX];
    vsnprintf(buf, sizeof buf, fmt, ap);
    for (char *p = buf; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
    if (!name) return mg_fail(e, MG_EUSAGE, "%s", buf);
    if (line <= 0) return mg_fail(e, MG_EUSAGE, "%s: %s", name, buf);
    return mg_fail(e, MG_EUSAGE, "%s:%d: %s", name, line, buf);
}

int mg_fail_at(MgErr *e, const char *name, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = mg_vfail_at(e, name, line, fmt, ap);
    va_end(ap);
    return rc;
}

void mg_print_err(const MgErr *e)
{
    fprintf(stderr, "metagrid: %s\n", e->msg[0] ? e->msg : "unknown error");
    fflush(stderr);
}

_Noreturn void mg_panic(const char *file, int line, const char *expr)
{
    fprintf(stderr, "metagrid: internal error: %s:%d: assertion '%s' failed\n",
            file, line, expr);
    abort();
}

void *mg_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        fprintf(stderr, "metagrid: out of memory (%zu x %zu bytes)\n", n, size);
        abort();
    }
    return p;
}

void *mg_malloc(size_t size) { return mg_calloc(1, size); }

char *mg_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = mg_malloc(n);
    memcpy(p, s, n);
    return p;
}

double mg_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int mg_mkdir_p(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) { errno = ENAMETOOLONG; return -1; }
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST) return -1;
            buf[i] = c;
        }
    }
    return 0;
}

char *mg_read_file(const char *path, size_t max_bytes, size_t *len, MgErr *e)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        mg_fail(e, MG_EUSAGE, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = mg_malloc(cap + 1);
    for (;;) {
        if (n == cap) {
            if (cap > max_bytes) { /* read max_bytes + 1: more than allowed */
                mg_fail(e, MG_EUSAGE, "%s: file larger than %zu bytes", path, max_bytes);
                free(buf);
                fclose(f);
                return NULL;
            }
            cap *= 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) { free(buf); fclose(f); mg_fail(e, MG_EFAIL, "out of memory"); return NULL; }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    int err = ferror(f);
    fclose(f);
    if (err || n > max_bytes) {
        if (err) mg_fail(e, MG_EUSAGE, "%s: read error", path);
        else mg_fail(e, MG_EUSAGE, "%s: file larger than %zu bytes", path, max_bytes);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

int mg_load_file(const char *path, size_t max_bytes, MgParseFn parse, void *obj, MgErr *e)
{
    size_t len = 0;
    char *text = mg_read_file(path, max_bytes, &len, e);
    if (!text) return e && e->code ? e->code : MG_EUSAGE;
    int rc = parse(obj, text, len, path, e);
    free(text);
    return rc;
}

FILE *mg_open_out(const char *path, const char *mode, MgErr *e)
{
    FILE *f = fopen(path, mode);
    if (!f) mg_fail(e, MG_EFAIL, "%s: cannot write: %s", path, strerror(errno));
    return f;
}

int mg_close_out(FILE *f, const char *path, MgErr *e)
{
    int bad = ferror(f) != 0;
    errno = 0;
    if (fclose(f) != 0 || bad)
        return mg_fail(e, MG_EFAIL, "%s: write failed%s%s", path, errno ? ": " : "",
                       errno ? strerror(errno) : "");
    return MG_OK;
}

int mg_write_text(const char *path, const char *text, MgErr *e)
{
    FILE *f = mg_open_out(path, "w", e);
    if (!f) return e->code;
    fputs(text, f);
    return mg_close_out(f, path, e);
}

void mg_path_join(char *out, size_t n, const char *dir, const char *name)
{
    if (!dir || !dir[0]) snprintf(out, n, "%s", name);
    else snprintf(out, n, "%s/%s", dir, name);
}

const char *mg_default_config(const char *name, char *buf, size_t n)
{
    snprintf(buf, n, "configs/%s", name);
    if (access(buf, R_OK) == 0) return buf;
    char exe[4096];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) *slash = '\0';
        static const char *const rel[] = {"../configs", "../share/metagrid/configs"};
        for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
            snprintf(buf, n, "%s/%s/%s", exe, rel[i], name);
            if (access(buf, R_OK) == 0) return buf;
        }
    }
    snprintf(buf, n, "configs/%s", name);
    return buf;
}

double mg_mem_limit(void)
{
    const char *env = getenv("METAGRID_MEM_LIMIT");
    if (env && *env) {
        char *end;
        double v = strtod(env, &end);
        if (end != env && v > 0) return v;
    }
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || size <= 0) return 1e18; /* unknown: no limit */
    return (double)pages * (double)size;
}

int mg_mem_check(double bytes, const char *what, const char *fix, MgErr *e)
{
    double lim = mg_mem_limit();
    if (bytes <= lim) return MG_OK;
    const double gib = 1024.0 * 1024.0 * 1024.0;
    return mg_fail(e, MG_EUSAGE, "%s needs about %.1f GiB per rank, more than this machine's "
                   "%.1f GiB: %s", what, bytes / gib, lim / gib, fix);
}
