/*
 * hours.c — the operator's hourly CSV reader (see hours.h). Strict: the
 * header must name every id of the case once, every row must have one label
 * and one non-negative finite number per column, and every hour must be
 * feasible. Errors name the line.
 */
#define _POSIX_C_SOURCE 200809L
#include "metagrid/hours.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    const char *name;
    MgErr *e;
    const GridModel *gm;
    int ncol;     /* columns after the label */
    int *col_of;  /* (ncol) column -> 0..n-1 demand, n..n+m-1 supply */
} CsvCtx;

static int hfail(CsvCtx *x, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int hfail(CsvCtx *x, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = mg_vfail_at(x->e, x->name, line, fmt, ap);
    va_end(ap);
    return rc;
}

/* Split line s (modified) at commas into at most max fields; returns the
 * count, or max + 1 when there are more. Fields are trimmed of blanks. */
static int split(char *s, char **f, int max)
{
    int n = 0;
    for (;;) {
        char *comma = strchr(s, ',');
        if (comma) *comma = '\0';
        while (*s == ' ' || *s == '\t') s++;
        size_t l = strlen(s);
        while (l && (s[l - 1] == ' ' || s[l - 1] == '\t')) s[--l] = '\0';
        if (n == max) return max + 1;
        f[n++] = s;
        if (!comma) return n;
        s = comma + 1;
    }
}

static int read_header(CsvCtx *x, char *s, int line)
{
    const GridModel *gm = x->gm;
    int want = gm->n + gm->m, fields = 1;
    for (const char *c = s; *c; c++) fields += *c == ',';
    char **f = mg_calloc((size_t)fields + 1, sizeof(char *));
    int nf = split(s, f, fields), rc = MG_OK;
    int *seen = mg_calloc((size_t)want, sizeof(int));
    if (strcmp(f[0], "hour") != 0)
        rc = hfail(x, line, "the header must start with 'hour', got '%.40s'", f[0]);
    for (int k = 1; rc == MG_OK && k < nf; k++) {
        int id = case_model_find(gm, f[k]);
        if (id < 0) rc = hfail(x, line, "unknown id '%.40s' (not a demand or supply id of the "
                               "case; see metagrid case)", f[k]);
        else if (seen[id]) rc = hfail(x, line, "duplicate column '%.40s'", f[k]);
        else {
            seen[id] = k;
            x->col_of[k - 1] = id;
        }
    }
    for (int id = 0; rc == MG_OK && id < want; id++)
        if (!seen[id])
            rc = hfail(x, line, "missing column '%s'",
                       id < gm->n ? gm->demand_id[id] : gm->supply_id[id - gm->n]);
    free(f);
    free(seen);
    return rc;
}

static int parse_value(CsvCtx *x, int line, const char *col, const char *f, double *v)
{
    if (!f[0]) return hfail(x, line, "%s: empty value", col);
    char *end;
    errno = 0;
    double d = strtod(f, &end);
    const char *t = f + (*f == '+' || *f == '-');
    if (end == f || *end || !strncasecmp(t, "0x", 2))
        return hfail(x, line, "%s: not a number: '%.40s'", col, f);
    if (!isfinite(d)) return hfail(x, line, "%s: NaN or infinity is not allowed", col);
    if (d < 0) return hfail(x, line, "%s: negative value %.17g", col, d);
    *v = d;
    return MG_OK;
}

/* One hour row into hour h of ht. */
static int read_row(CsvCtx *x, HourTable *ht, char *s, int line, int h)
{
    const GridModel *gm = x->gm;
    int want = x->ncol + 1;
    char **f = mg_calloc((size_t)want + 2, sizeof(char *));
    int nf = split(s, f, want), rc = MG_OK;
    if (nf != want)
        rc = hfail(x, line, "%s fields, the header has %d (ragged row)",
                   nf > want ? "more" : "fewer", want);
    if (rc == MG_OK && !f[0][0]) rc = hfail(x, line, "empty hour label");
    if (rc == MG_OK && strlen(f[0]) >= HOURS_LABEL_MAX)
        rc = hfail(x, line, "hour label longer than %d characters", HOURS_LABEL_MAX - 1);
    for (int k = 0; rc == MG_OK && k < h; k++)
        if (!strcmp(ht->label[k], f[0]))
            rc = hfail(x, line, "hour '%s' appears twice (first at line %d)", f[0], ht->line[k]);
    double sd = 0.0, ss = 0.0;
    for (int k = 1; rc == MG_OK && k < want; k++) {
        int id = x->col_of[k - 1];
        const char *col = id < gm->n ? gm->demand_id[id] : gm->supply_id[id - gm->n];
        double v = 0.0;
        rc = parse_value(x, line, col, f[k], &v);
        if (id < gm->n) ht->d[(size_t)h * gm->n + id] = v, sd += v;
        else ht->s[(size_t)h * gm->m + id - gm->n] = v, ss += v;
    }
    if (rc == MG_OK && ss < sd)
        rc = hfail(x, line, "hour '%s': capacities (%.6g MW) cannot meet the demands "
                   "(%.6g MW)", f[0], ss, sd);
    if (rc == MG_OK) {
        snprintf(ht->label[h], HOURS_LABEL_MAX, "%s", f[0]);
        ht->line[h] = line;
    }
    free(f);
    return rc;
}

/* Count the non-empty lines (an upper bound on the hours + 1). */
static long count_lines(const char *t, size_t len)
{
    long n = 0;
    int any = 0;
    for (size_t i = 0; i < len; i++) {
        if (t[i] == '\n') {
            n += any;
            any = 0;
        } else if (t[i] != '\r' && t[i] != ' ' && t[i] != '\t') {
            any = 1;
        }
    }
    return n + any;
}

int hours_parse(HourTable *ht, const GridModel *gm, const char *text, size_t len,
                const char *name, MgErr *e)
{
    memset(ht, 0, sizeof *ht);
    CsvCtx x = {name, e, gm, gm->n + gm->m, NULL};
    if (len > HOURS_MAX_BYTES)
        return mg_fail(e, MG_EUSAGE, "%s: larger than %u MiB", name, HOURS_MAX_BYTES >> 20);
    if (memchr(text, '\0', len)) return mg_fail(e, MG_EUSAGE, "%s: NUL byte in the file", name);
    const char *quote = memchr(text, '"', len);
    if (quote) {
        int ql = 1;
        for (const char *p = text; p < quote; p++) ql += *p == '\n';
        return mg_fail(e, MG_EUSAGE, "%s:%d: quoted fields are not supported", name, ql);
    }
    long rows = count_lines(text, len) - 1;
    if (rows > HOURS_MAX_ROWS)
        return mg_fail(e, MG_EUSAGE, "%s: more than %d hours", name, HOURS_MAX_ROWS);
    if (rows < 1) rows = 1;
    x.col_of = mg_calloc((size_t)x.ncol, sizeof(int));
    ht->n = gm->n;
    ht->m = gm->m;
    ht->label = mg_calloc((size_t)rows, sizeof *ht->label);
    ht->line = mg_calloc((size_t)rows, sizeof(int));
    ht->d = mg_calloc((size_t)rows * gm->n, sizeof(double));
    ht->s = mg_calloc((size_t)rows * gm->m, sizeof(double));
    char *buf = mg_malloc(len + 1);
    memcpy(buf, text, len);
    buf[len] = '\0';
    int rc = MG_OK, line = 0, header = 0, lastline = 0;
    for (char *s = buf; rc == MG_OK && s < buf + len;) {
        char *nl = strchr(s, '\n'), *next = nl ? nl + 1 : buf + len;
        if (nl) *nl = '\0';
        line++;
        size_t l = strlen(s);
        if (l && s[l - 1] == '\r') s[--l] = '\0';
        if (strspn(s, " \t") != l) {
            lastline = line;
            if (!header) {
                rc = read_header(&x, s, line);
                header = 1;
            } else {
                rc = read_row(&x, ht, s, line, ht->k);
                if (rc == MG_OK) ht->k++;
            }
        }
        s = next;
    }
    if (rc == MG_OK && !header) rc = mg_fail(e, MG_EUSAGE, "%s: empty file (expected a header "
                                             "'hour,ID,...' and one row per hour)", name);
    else if (rc == MG_OK && ht->k == 0)
        rc = mg_fail(e, MG_EUSAGE, "%s:%d: no hours after the header", name, lastline);
    free(buf);
    free(x.col_of);
    if (rc != MG_OK) hours_free(ht);
    return rc;
}

/* hours_parse as an MgParseFn: the table and the case it is read against. */
typedef struct {
    HourTable *ht;
    const GridModel *gm;
} HoursTarget;

static int hours_parse_text(void *target, const char *text, size_t len, const char *name,
                            MgErr *e)
{
    HoursTarget *t = target;
    return hours_parse(t->ht, t->gm, text, len, name, e);
}

int hours_load(HourTable *ht, const GridModel *gm, const char *path, MgErr *e)
{
    memset(ht, 0, sizeof *ht);
    HoursTarget t = {ht, gm};
    return mg_load_file(path, HOURS_MAX_BYTES, hours_parse_text, &t, e);
}

void hours_free(HourTable *ht)
{
    if (!ht) return;
    free(ht->label);
    free(ht->line);
    free(ht->d);
    free(ht->s);
    memset(ht, 0, sizeof *ht);
}
