/*
 * case.c — the MATPOWER / PGLib-OPF case reader and the transportation
 * instance derived from a case (see case.h).
 *
 * Reading is line by line: a statement outside a matrix is `function ...`,
 * `mpc.NAME = VALUE;`, `mpc.NAME = [` (a matrix, rows up to `];`) or
 * `mpc.NAME = {` (a cell array, skipped up to `}`); `%` starts a comment
 * (outside quotes). A matrix row is whitespace- or comma-separated numbers
 * ending with `;` or the end of the line. The four matrices that matter are
 * kept (mpc.bus, mpc.gen, mpc.gencost, mpc.branch); any other is skipped.
 * Everything is checked, and every error names the line.
 */
#define _POSIX_C_SOURCE 200809L
#include "metagrid/case.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A matrix being read: rows of `cols` numbers. */
typedef struct {
    const char *what; /* "bus", ... */
    int max_rows, min_cols;
    int seen, decl_line;
    int rows, cols, cap;
    double *v;        /* (rows, cols) */
    int *line;        /* (rows) */
    char (*tag)[CASE_FUEL_MAX]; /* (rows) trailing one-word comment or "" */
} Mat;

typedef struct {
    const char *name;
    MgErr *e;
    Mat bus, gen, gencost, branch;
    Mat *cur;         /* the matrix being read (NULL: top level or skipping) */
    int in_matrix;    /* inside [ ... ] */
    int in_cell;      /* inside { ... } */
    int open_line;    /* line of the last '[' */
    char open_name[32]; /* its matrix name */
    int base_line;
    double base_mva;
    /* the row being read */
    double row[CASE_MAX_COLS];
    int nrow;
} Reader;

static int rfail(Reader *r, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int rfail(Reader *r, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = mg_vfail_at(r->e, r->name, line, fmt, ap);
    va_end(ap);
    return rc;
}

static void mat_free(Mat *m)
{
    free(m->v);
    free(m->line);
    free(m->tag);
    m->v = NULL;
    m->line = NULL;
    m->tag = NULL;
}

/* A one-word comment ("COW", "NG") becomes the row's tag; else "". */
static void comment_tag(const char *c, char *tag)
{
    tag[0] = '\0';
    if (!c) return;
    while (*c == '%' || *c == ' ' || *c == '\t') c++;
    size_t n = 0;
    while (isalnum((unsigned char)c[n]) || c[n] == '_') n++;
    const char *rest = c + n;
    while (*rest == ' ' || *rest == '\t' || *rest == '\r') rest++;
    if (n == 0 || n >= CASE_FUEL_MAX || *rest) return;
    memcpy(tag, c, n);
    tag[n] = '\0';
}

/* Finish the row being read (if any numbers) into the current matrix. */
static int row_end(Reader *r, int line, const char *tag)
{
    if (r->nrow == 0) return MG_OK;
    int n = r->nrow;
    r->nrow = 0;
    Mat *m = r->cur;
    if (!m) return MG_OK;
    if (m->rows == 0) {
        if (n < m->min_cols)
            return rfail(r, line, "mpc.%s: row has %d columns, at least %d are needed",
                         m->what, n, m->min_cols);
        m->cols = n;
    } else if (n != m->cols) {
        char w[96];
        snprintf(w, sizeof w, "%s: row has %d columns but the first row (line %d) has",
                 m->what, n, m->line[0]);
        return rfail(r, line, "mpc.%s %d (ragged matrix)", w, m->cols);
    }
    if (m->rows >= m->max_rows)
        return rfail(r, line, "mpc.%s: more than %d rows (size limit)", m->what, m->max_rows);
    if (m->rows == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 64;
        if (m->cap > m->max_rows) m->cap = m->max_rows;
        m->v = realloc(m->v, (size_t)m->cap * m->cols * sizeof(double));
        m->line = realloc(m->line, (size_t)m->cap * sizeof(int));
        m->tag = realloc(m->tag, (size_t)m->cap * sizeof *m->tag);
        MG_ASSERT(m->v && m->line && m->tag);
    }
    memcpy(m->v + (size_t)m->rows * m->cols, r->row, (size_t)n * sizeof(double));
    m->line[m->rows] = line;
    snprintf(m->tag[m->rows], CASE_FUEL_MAX, "%s", tag ? tag : "");
    m->rows++;
    return MG_OK;
}

/* One number token [s, s+len). */
static int read_number(Reader *r, int line, const char *s, size_t len)
{
    char tok[64];
    snprintf(tok, sizeof tok, "%.*s", (int)MG_MIN(len, 60), s);
    if (len > 60) strcat(tok, "...");
    int alpha = 0;
    for (size_t i = 0; i < len; i++)
        if (!strchr("+-.0123456789eE", s[i])) alpha = 1;
    if (alpha) {
        const char *t = tok;
        if (*t == '+' || *t == '-') t++;
        if (!strncasecmp(t, "nan", 3) || !strncasecmp(t, "inf", 3))
            return rfail(r, line, "NaN or infinity is not allowed ('%s')", tok);
        return rfail(r, line, "not a number: '%s'", tok);
    }
    char *end;
    errno = 0;
    char buf[64];
    if (len >= sizeof buf) return rfail(r, line, "number too long: '%s'", tok);
    memcpy(buf, s, len);
    buf[len] = '\0';
    double v = strtod(buf, &end);
    if (end != buf + len) return rfail(r, line, "not a number: '%s'", tok);
    if (!isfinite(v)) return rfail(r, line, "number out of range: '%s'", tok);
    if (r->nrow >= CASE_MAX_COLS)
        return rfail(r, line, "row has more than %d columns", CASE_MAX_COLS);
    r->row[r->nrow++] = v;
    return MG_OK;
}

/* Matrix content from s (a line, comment removed). Sets r->in_matrix = 0
 * at the closing ']'. */
static int read_matrix_text(Reader *r, int line, const char *s, const char *tag)
{
    while (*s) {
        if (*s == ' ' || *s == '\t' || *s == ',' || *s == '\r') { s++; continue; }
        if (*s == ';') {
            if (row_end(r, line, tag)) return MG_EUSAGE;
            s++;
            continue;
        }
        if (*s == ']') {
            if (row_end(r, line, tag)) return MG_EUSAGE;
            r->in_matrix = 0;
            r->cur = NULL;
            s++;
            while (*s == ' ' || *s == '\t' || *s == '\r') s++;
            if (*s == ';') s++;
            while (*s == ' ' || *s == '\t' || *s == '\r') s++;
            if (*s) return rfail(r, line, "unexpected text after ']': '%.40s'", s);
            return MG_OK;
        }
        size_t n = strcspn(s, " \t,;]\r");
        if (read_number(r, line, s, n)) return MG_EUSAGE;
        s += n;
    }
    /* a row may end at the end of its line */
    return row_end(r, line, tag);
}

static Mat *matrix_named(Reader *r, const char *name, size_t n)
{
    Mat *all[4] = {&r->bus, &r->gen, &r->gencost, &r->branch};
    for (int i = 0; i < 4; i++)
        if (strlen(all[i]->what) == n && !strncmp(all[i]->what, name, n)) return all[i];
    return NULL;
}

/* A statement outside a matrix: s is the line without its comment, trimmed. */
static int read_statement(Reader *r, int line, char *s, const char *tag)
{
    if (!*s) return MG_OK;
    if (!strncmp(s, "function", 8) && (!s[8] || isspace((unsigned char)s[8]))) return MG_OK;
    if (!strcmp(s, "end") || !strcmp(s, "end;") || !strcmp(s, "return") ||
        !strcmp(s, "return;"))
        return MG_OK;
    if (strncmp(s, "mpc.", 4) != 0)
        return rfail(r, line, "unexpected text '%.40s' (expected mpc.NAME = ...)", s);
    const char *nm = s + 4;
    size_t nl = 0;
    while (isalnum((unsigned char)nm[nl]) || nm[nl] == '_') nl++;
    const char *p = nm + nl;
    while (*p == ' ' || *p == '\t') p++;
    if (nl == 0 || *p != '=')
        return rfail(r, line, "unexpected text '%.40s' (expected mpc.NAME = ...)", s);
    p++;
    while (*p == ' ' || *p == '\t') p++;
    if (*p == '[') {
        Mat *m = matrix_named(r, nm, nl);
        if (m && m->seen)
            return rfail(r, line, "mpc.%s appears twice (first at line %d)", m->what,
                         m->decl_line);
        if (m) {
            m->seen = 1;
            m->decl_line = line;
        }
        r->cur = m;
        r->open_line = line;
        snprintf(r->open_name, sizeof r->open_name, "%.*s", (int)MG_MIN(nl, 31), nm);
        r->in_matrix = 1;
        r->nrow = 0;
        return read_matrix_text(r, line, p + 1, tag);
    }
    if (*p == '{') {
        r->in_cell = !strchr(p, '}');
        return MG_OK;
    }
    if (nl == 7 && !strncmp(nm, "baseMVA", 7)) {
        if (r->base_line)
            return rfail(r, line, "mpc.baseMVA appears twice (first at line %d)",
                         r->base_line);
        char *q = (char *)p + strcspn(p, ";");
        while (q > p && (q[-1] == ' ' || q[-1] == '\t')) q--;
        r->nrow = 0;
        Mat *save = r->cur;
        r->cur = NULL;
        int rc = read_number(r, line, p, (size_t)(q - p));
        r->cur = save;
        if (rc) return rc;
        r->base_mva = r->row[0];
        r->nrow = 0;
        r->base_line = line;
        if (!(r->base_mva > 0.0))
            return rfail(r, line, "mpc.baseMVA must be > 0");
    }
    return MG_OK;
}

/* Split off the comment of a line (a '%' outside single quotes). */
static char *strip_comment(char *s)
{
    int q = 0;
    for (char *p = s; *p; p++) {
        if (*p == '\'') q = !q;
        else if (*p == '%' && !q) {
            *p = '\0';
            return p + 1;
        }
    }
    return NULL;
}

static void trim(char **s)
{
    while (**s == ' ' || **s == '\t') (*s)++;
    size_t n = strlen(*s);
    while (n && ((*s)[n - 1] == ' ' || (*s)[n - 1] == '\t' || (*s)[n - 1] == '\r')) n--;
    (*s)[n] = '\0';
}

static int read_lines(Reader *r, const char *text, size_t len)
{
    char *buf = mg_malloc(len + 1);
    memcpy(buf, text, len);
    buf[len] = '\0';
    int rc = MG_OK, line = 0;
    char *s = buf;
    while (rc == MG_OK && s < buf + len) {
        line++;
        char *nl = memchr(s, '\n', (size_t)(buf + len - s));
        char *next = nl ? nl + 1 : buf + len;
        if (nl) *nl = '\0';
        if (strlen(s) != (size_t)((nl ? nl : buf + len) - s)) {
            rc = rfail(r, line, "NUL byte in the file");
            break;
        }
        char *comment = strip_comment(s);
        char tag[CASE_FUEL_MAX];
        comment_tag(comment, tag);
        trim(&s);
        if (r->in_matrix) rc = read_matrix_text(r, line, s, tag);
        else if (r->in_cell) r->in_cell = !strchr(s, '}');
        else rc = read_statement(r, line, s, tag);
        s = next;
    }
    free(buf);
    if (rc == MG_OK && r->in_matrix)
        rc = rfail(r, line, "end of file inside mpc.%s (opened at line %d; missing ']')",
                   r->open_name, r->open_line);
    return rc;
}

/* ---- checks and conversion ---- */

typedef struct {
    int num, idx;
} BusKey;

static int buskey_cmp(const void *a, const void *b)
{
    int x = ((const BusKey *)a)->num, y = ((const BusKey *)b)->num;
    return x < y ? -1 : x > y;
}

static int bus_index(const BusKey *keys, int n, double v)
{
    if (v != floor(v) || v < 1 || v > 2147483647.0) return -1;
    BusKey k = {(int)v, 0};
    const BusKey *f = bsearch(&k, keys, (size_t)n, sizeof k, buskey_cmp);
    return f ? f->idx : -1;
}

/* Marginal cost at p of gencost row g (model 1 or 2); fails on a bad row. */
static int gen_marginal(Reader *r, const Mat *gc, int g, double p, double *mc)
{
    const double *row = gc->v + (size_t)g * gc->cols;
    int line = gc->line[g];
    double model = row[0], nd = row[3];
    int avail = gc->cols - 4;
    if (nd != floor(nd) || nd < 0 || nd > avail)
        return rfail(r, line, "mpc.gencost: n = %g does not fit the row", nd);
    int n = (int)nd;
    const double *c = row + 4;
    if (model == 2) {
        double d = 0.0;
        for (int k = 0; k < n - 1; k++) d += (n - 1 - k) * c[k] * pow(p, n - 2 - k);
        *mc = d;
        return MG_OK;
    }
    if (model == 1) {
        if (n < 2 || 2 * n > avail)
            return rfail(r, line, "mpc.gencost: piecewise linear needs n >= 2 points "
                         "(2n values); n = %d", n);
        for (int k = 1; k < n; k++)
            if (!(c[2 * k] > c[2 * k - 2]))
                return rfail(r, line, "mpc.gencost: piecewise linear points must have "
                             "increasing P (point %d)", k + 1);
        int k = 1;
        while (k < n - 1 && p > c[2 * k]) k++;
        *mc = (c[2 * k + 1] - c[2 * k - 1]) / (c[2 * k] - c[2 * k - 2]);
        return MG_OK;
    }
    return rfail(r, line, "mpc.gencost: model %g is not 1 (piecewise linear) or 2 "
                 "(polynomial)", model);
}

static int need(Reader *r, const Mat *m)
{
    if (!m->seen) return mg_fail(r->e, MG_EUSAGE, "%s: mpc.%s is missing", r->name, m->what);
    if (m->rows == 0)
        return rfail(r, m->decl_line, "mpc.%s is empty", m->what);
    return MG_OK;
}

static int convert_buses(Reader *r, GridCase *gc, BusKey *keys)
{
    const Mat *b = &r->bus;
    gc->n_bus = b->rows;
    gc->bus_num = mg_calloc((size_t)b->rows, sizeof(int));
    gc->bus_pd = mg_calloc((size_t)b->rows, sizeof(double));
    for (int i = 0; i < b->rows; i++) {
        double num = b->v[(size_t)i * b->cols], pd = b->v[(size_t)i * b->cols + 2];
        if (num != floor(num) || num < 1 || num > 2147483647.0)
            return rfail(r, b->line[i], "mpc.bus: bus number must be a positive integer");
        gc->bus_num[i] = (int)num;
        gc->bus_pd[i] = pd;
        keys[i].num = (int)num;
        keys[i].idx = i;
    }
    qsort(keys, (size_t)b->rows, sizeof *keys, buskey_cmp);
    for (int i = 1; i < b->rows; i++)
        if (keys[i].num == keys[i - 1].num)
            return rfail(r, b->line[keys[i].idx], "mpc.bus: bus %d appears twice",
                         keys[i].num);
    return MG_OK;
}

static int convert_gens(Reader *r, GridCase *gc, const BusKey *keys)
{
    const Mat *g = &r->gen, *c = &r->gencost;
    int ng = g->rows;
    if (c->rows != ng && c->rows != 2 * ng)
        return rfail(r, c->decl_line, "mpc.gencost has %d rows but mpc.gen has %d (one cost row "
                     "per generator, or two with reactive costs)", c->rows, ng);
    gc->n_gen = ng;
    gc->gen_bus = mg_calloc((size_t)ng, sizeof(int));
    gc->gen_pmax = mg_calloc((size_t)ng, sizeof(double));
    gc->gen_on = mg_calloc((size_t)ng, sizeof(int));
    gc->gen_line = mg_calloc((size_t)ng, sizeof(int));
    gc->gen_fuel = mg_calloc((size_t)ng, sizeof *gc->gen_fuel);
    gc->gen_mc = mg_calloc((size_t)ng, sizeof(double));
    for (int k = 0; k < ng; k++) {
        const double *row = g->v + (size_t)k * g->cols;
        int line = g->line[k];
        gc->gen_line[k] = line;
        gc->gen_bus[k] = bus_index(keys, gc->n_bus, row[0]);
        if (gc->gen_bus[k] < 0)
            return rfail(r, line, "mpc.gen: generator at unknown bus %g", row[0]);
        gc->gen_on[k] = row[7] > 0;
        gc->gen_pmax[k] = row[8];
        if (row[8] < 0)
            return rfail(r, line, "mpc.gen: negative Pmax %g (generator %d)", row[8], k + 1);
        snprintf(gc->gen_fuel[k], CASE_FUEL_MAX, "%s", g->tag[k][0] ? g->tag[k] : c->tag[k]);
        if (gen_marginal(r, c, k, 0.5 * row[8], &gc->gen_mc[k])) return MG_EUSAGE;
        if (!isfinite(gc->gen_mc[k]))
            return rfail(r, c->line[k], "mpc.gencost: marginal cost is not finite");
    }
    return MG_OK;
}

static int convert_branches(Reader *r, GridCase *gc, const BusKey *keys)
{
    const Mat *b = &r->branch;
    gc->n_branch = b->rows;
    gc->br_from = mg_calloc((size_t)b->rows, sizeof(int));
    gc->br_to = mg_calloc((size_t)b->rows, sizeof(int));
    gc->br_x = mg_calloc((size_t)b->rows, sizeof(double));
    gc->br_on = mg_calloc((size_t)b->rows, sizeof(int));
    for (int k = 0; k < b->rows; k++) {
        const double *row = b->v + (size_t)k * b->cols;
        gc->br_from[k] = bus_index(keys, gc->n_bus, row[0]);
        gc->br_to[k] = bus_index(keys, gc->n_bus, row[1]);
        if (gc->br_from[k] < 0 || gc->br_to[k] < 0)
            return rfail(r, b->line[k], "mpc.branch: branch to unknown bus %g",
                         gc->br_from[k] < 0 ? row[0] : row[1]);
        gc->br_x[k] = fabs(row[3]);
        gc->br_on[k] = row[10] > 0;
    }
    return MG_OK;
}

int case_parse(GridCase *gc, const char *text, size_t len, const char *name, MgErr *e)
{
    memset(gc, 0, sizeof *gc);
    Reader r;
    memset(&r, 0, sizeof r);
    r.name = name;
    r.e = e;
    r.bus = (Mat){.what = "bus", .max_rows = CASE_MAX_BUSES, .min_cols = 13};
    r.gen = (Mat){.what = "gen", .max_rows = CASE_MAX_GENS, .min_cols = 10};
    r.gencost = (Mat){.what = "gencost", .max_rows = 2 * CASE_MAX_GENS, .min_cols = 5};
    r.branch = (Mat){.what = "branch", .max_rows = CASE_MAX_BRANCHES, .min_cols = 11};
    int rc = MG_OK;
    if (len > CASE_MAX_BYTES)
        rc = mg_fail(e, MG_EUSAGE, "%s: case file larger than %u MiB", name,
                     CASE_MAX_BYTES >> 20);
    if (rc == MG_OK) rc = read_lines(&r, text, len);
    if (rc == MG_OK && !r.base_line) rc = mg_fail(e, MG_EUSAGE, "%s: mpc.baseMVA is missing", name);
    if (rc == MG_OK) rc = need(&r, &r.bus);
    if (rc == MG_OK) rc = need(&r, &r.gen);
    if (rc == MG_OK) rc = need(&r, &r.gencost);
    if (rc == MG_OK) rc = need(&r, &r.branch);
    BusKey *keys = rc == MG_OK ? mg_calloc((size_t)r.bus.rows, sizeof *keys) : NULL;
    if (rc == MG_OK) rc = convert_buses(&r, gc, keys);
    if (rc == MG_OK) rc = convert_gens(&r, gc, keys);
    if (rc == MG_OK) rc = convert_branches(&r, gc, keys);
    gc->base_mva = r.base_mva;
    free(keys);
    mat_free(&r.bus);
    mat_free(&r.gen);
    mat_free(&r.gencost);
    mat_free(&r.branch);
    if (rc != MG_OK) case_free(gc);
    return rc;
}

static int case_parse_text(void *gc, const char *text, size_t len, const char *name, MgErr *e)
{
    return case_parse(gc, text, len, name, e);
}

int case_load(GridCase *gc, const char *path, MgErr *e)
{
    memset(gc, 0, sizeof *gc);
    return mg_load_file(path, CASE_MAX_BYTES, case_parse_text, gc, e);
}

void case_free(GridCase *gc)
{
    if (!gc) return;
    free(gc->bus_num);
    free(gc->bus_pd);
    free(gc->gen_bus);
    free(gc->gen_pmax);
    free(gc->gen_on);
    free(gc->gen_line);
    free(gc->gen_fuel);
    free(gc->gen_mc);
    free(gc->br_from);
    free(gc->br_to);
    free(gc->br_x);
    free(gc->br_on);
    memset(gc, 0, sizeof *gc);
}

/* ---- the derived transportation instance ---- */

/* In-service branches as adjacency lists (CSR over buses). */
typedef struct {
    int *start;  /* (n_bus + 1) */
    int *to;     /* (2 * branches on) */
    double *w;   /* (2 * branches on) |x| */
} Adjacency;

static void adjacency_build(Adjacency *a, const GridCase *gc)
{
    int nb = gc->n_bus, ne = 0;
    a->start = mg_calloc((size_t)nb + 1, sizeof(int));
    for (int k = 0; k < gc->n_branch; k++)
        if (gc->br_on[k]) {
            a->start[gc->br_from[k] + 1]++;
            a->start[gc->br_to[k] + 1]++;
            ne += 2;
        }
    for (int i = 0; i < nb; i++) a->start[i + 1] += a->start[i];
    a->to = mg_calloc((size_t)ne + 1, sizeof(int));
    a->w = mg_calloc((size_t)ne + 1, sizeof(double));
    int *fill = mg_calloc((size_t)nb, sizeof(int));
    for (int k = 0; k < gc->n_branch; k++) {
        if (!gc->br_on[k]) continue;
        int f = gc->br_from[k], t = gc->br_to[k];
        int pf = a->start[f] + fill[f]++, pt = a->start[t] + fill[t]++;
        a->to[pf] = t;
        a->w[pf] = gc->br_x[k];
        a->to[pt] = f;
        a->w[pt] = gc->br_x[k];
    }
    free(fill);
}

static void adjacency_free(Adjacency *a)
{
    free(a->start);
    free(a->to);
    free(a->w);
}

/* Binary min-heap of (distance, bus) with lazy deletion. */
typedef struct {
    double *key;
    int *bus;
    int n, cap;
} Heap;

static void heap_push(Heap *h, double key, int bus)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? 2 * h->cap : 256;
        h->key = realloc(h->key, (size_t)h->cap * sizeof(double));
        h->bus = realloc(h->bus, (size_t)h->cap * sizeof(int));
        MG_ASSERT(h->key && h->bus);
    }
    int i = h->n++;
    while (i > 0 && h->key[(i - 1) / 2] > key) {
        h->key[i] = h->key[(i - 1) / 2];
        h->bus[i] = h->bus[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->key[i] = key;
    h->bus[i] = bus;
}

static void heap_pop(Heap *h, double *key, int *bus)
{
    *key = h->key[0];
    *bus = h->bus[0];
    double k = h->key[--h->n];
    int b = h->bus[h->n], i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && h->key[c + 1] < h->key[c]) c++;
        if (h->key[c] >= k) break;
        h->key[i] = h->key[c];
        h->bus[i] = h->bus[c];
        i = c;
    }
    h->key[i] = k;
    h->bus[i] = b;
}

/* Shortest |x|-weighted distances from bus src to every bus: dist (n_bus),
 * INFINITY where unreachable. */
static void dijkstra(const Adjacency *a, int n_bus, int src, double *dist, Heap *h)
{
    for (int i = 0; i < n_bus; i++) dist[i] = INFINITY;
    dist[src] = 0.0;
    h->n = 0;
    heap_push(h, 0.0, src);
    while (h->n) {
        double d;
        int u;
        heap_pop(h, &d, &u);
        if (d > dist[u]) continue;
        for (int p = a->start[u]; p < a->start[u + 1]; p++) {
            double nd = d + a->w[p];
            if (nd < dist[a->to[p]]) {
                dist[a->to[p]] = nd;
                heap_push(h, nd, a->to[p]);
            }
        }
    }
}

static void model_points(GridModel *gm, const GridCase *gc)
{
    int n = 0, m = 0;
    for (int b = 0; b < gc->n_bus; b++) n += gc->bus_pd[b] > 0.0;
    for (int k = 0; k < gc->n_gen; k++) m += gc->gen_on[k] && gc->gen_pmax[k] > 0.0;
    gm->n = n;
    gm->m = m;
    gm->demand_id = mg_calloc((size_t)MG_MAX(n, 1), sizeof *gm->demand_id);
    gm->supply_id = mg_calloc((size_t)MG_MAX(m, 1), sizeof *gm->supply_id);
    gm->demand_bus = mg_calloc((size_t)MG_MAX(n, 1), sizeof(int));
    gm->supply_gen = mg_calloc((size_t)MG_MAX(m, 1), sizeof(int));
    gm->pd = mg_calloc((size_t)MG_MAX(n, 1), sizeof(double));
    gm->pmax = mg_calloc((size_t)MG_MAX(m, 1), sizeof(double));
    gm->mc = mg_calloc((size_t)MG_MAX(m, 1), sizeof(double));
    gm->fuel = mg_calloc((size_t)MG_MAX(m, 1), sizeof(int));
    gm->fuel_names = mg_calloc((size_t)MG_MAX(m, 1), sizeof *gm->fuel_names);
    n = m = 0;
    for (int b = 0; b < gc->n_bus; b++) {
        if (!(gc->bus_pd[b] > 0.0)) continue;
        snprintf(gm->demand_id[n], sizeof gm->demand_id[n], "bus%d", gc->bus_num[b]);
        gm->demand_bus[n] = b;
        gm->pd[n] = gc->bus_pd[b];
        gm->total_demand += gc->bus_pd[b];
        n++;
    }
    for (int k = 0; k < gc->n_gen; k++) {
        if (!(gc->gen_on[k] && gc->gen_pmax[k] > 0.0)) continue;
        snprintf(gm->supply_id[m], sizeof gm->supply_id[m], "gen%d", k + 1);
        gm->supply_gen[m] = k;
        gm->pmax[m] = gc->gen_pmax[k];
        gm->mc[m] = gc->gen_mc[k];
        gm->total_capacity += gc->gen_pmax[k];
        const char *fuel = gc->gen_fuel[k][0] ? gc->gen_fuel[k] : "none";
        int f = 0;
        while (f < gm->n_fuel && strcmp(gm->fuel_names[f], fuel)) f++;
        if (f == gm->n_fuel) snprintf(gm->fuel_names[gm->n_fuel++], CASE_FUEL_MAX, "%s", fuel);
        gm->fuel[m] = f;
        m++;
    }
}

/* dist (n*m): one Dijkstra per distinct generator bus. */
static int model_distances(GridModel *gm, const GridCase *gc, const char *name, MgErr *e)
{
    int n = gm->n, m = gm->m, rc = MG_OK;
    Adjacency a;
    adjacency_build(&a, gc);
    Heap h = {0};
    double *d = mg_calloc((size_t)gc->n_bus, sizeof(double));
    int *done = mg_calloc((size_t)gc->n_bus, sizeof(int)); /* gen bus -> 1 + supply j */
    for (int j = 0; j < m && rc == MG_OK; j++) {
        int gb = gc->gen_bus[gm->supply_gen[j]];
        if (done[gb]) {
            int j0 = done[gb] - 1;
            for (int i = 0; i < n; i++)
                gm->dist[(size_t)i * m + j] = gm->dist[(size_t)i * m + j0];
            continue;
        }
        done[gb] = j + 1;
        dijkstra(&a, gc->n_bus, gb, d, &h);
        for (int i = 0; i < n; i++) {
            double v = d[gm->demand_bus[i]];
            if (!isfinite(v)) {
                rc = mg_fail(e, MG_EUSAGE, "%s: load %s is not connected to generator %s "
                             "(bus %d) by in-service branches", name, gm->demand_id[i],
                             gm->supply_id[j], gc->bus_num[gb]);
                break;
            }
            gm->dist[(size_t)i * m + j] = v;
        }
    }
    free(d);
    free(done);
    free(h.key);
    free(h.bus);
    adjacency_free(&a);
    return rc;
}

int case_build(GridModel *gm, const GridCase *gc, double transmission_cost, const char *name,
               MgErr *e)
{
    memset(gm, 0, sizeof *gm);
    model_points(gm, gc);
    int n = gm->n, m = gm->m, rc = MG_OK;
    if (n == 0) rc = mg_fail(e, MG_EUSAGE, "%s: no load (no bus with Pd > 0)", name);
    else if (m == 0)
        rc = mg_fail(e, MG_EUSAGE, "%s: no generator (none in service with Pmax > 0)", name);
    else if ((long long)n * m > CASE_MAX_ROUTES)
        rc = mg_fail(e, MG_EUSAGE, "%s: %d loads x %d generators is above the limit of %d "
                     "routes", name, n, m, CASE_MAX_ROUTES);
    else if (gm->total_capacity < gm->total_demand)
        rc = mg_fail(e, MG_EUSAGE, "%s: total capacity %.6g MW is below total demand %.6g MW",
                     name, gm->total_capacity, gm->total_demand);
    if (rc == MG_OK) {
        gm->dist = mg_calloc((size_t)n * m, sizeof(double));
        gm->c = mg_calloc((size_t)n * m, sizeof(double));
        rc = model_distances(gm, gc, name, e);
    }
    if (rc != MG_OK) {
        case_model_free(gm);
        return rc;
    }
    gm->cost_min = INFINITY;
    gm->cost_max = -INFINITY;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++) {
            double c = gm->mc[j] + transmission_cost * gm->dist[(size_t)i * m + j];
            gm->c[(size_t)i * m + j] = c;
            gm->cost_min = fmin(gm->cost_min, c);
            gm->cost_max = fmax(gm->cost_max, c);
        }
    return MG_OK;
}

void case_model_free(GridModel *gm)
{
    if (!gm) return;
    free(gm->demand_id);
    free(gm->supply_id);
    free(gm->demand_bus);
    free(gm->supply_gen);
    free(gm->pd);
    free(gm->pmax);
    free(gm->mc);
    free(gm->fuel);
    free(gm->fuel_names);
    free(gm->dist);
    free(gm->c);
    memset(gm, 0, sizeof *gm);
}

int case_model_find(const GridModel *gm, const char *id)
{
    for (int i = 0; i < gm->n; i++)
        if (!strcmp(gm->demand_id[i], id)) return i;
    for (int j = 0; j < gm->m; j++)
        if (!strcmp(gm->supply_id[j], id)) return gm->n + j;
    return -1;
}
