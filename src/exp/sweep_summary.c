/*
 * sweep_summary.c — what a sweep's trial folders hold: trial states, a tiny
 * JSON reader (one number at a dotted path; no JSON library on the machines
 * we target) and writer, and summary.csv / summary.md.
 */
#define _POSIX_C_SOURCE 200809L
#include "metagrid/json.h"
#include "metagrid/sweep.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- JSON writer -------------------------------------------------------- */

static int is_json_number(const char *s)
{
    if (*s == '-') s++;
    if (!isdigit((unsigned char)*s)) return 0;
    if (*s == '0' && isdigit((unsigned char)s[1])) return 0;
    while (isdigit((unsigned char)*s)) s++;
    if (*s == '.') {
        s++;
        if (!isdigit((unsigned char)*s)) return 0;
        while (isdigit((unsigned char)*s)) s++;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-') s++;
        if (!isdigit((unsigned char)*s)) return 0;
        while (isdigit((unsigned char)*s)) s++;
    }
    return *s == '\0';
}

static void json_scalar(FILE *f, const char *s, size_t n)
{
    char buf[SWEEP_VALUE_MAX];
    while (n && isspace((unsigned char)*s)) s++, n--;
    while (n && isspace((unsigned char)s[n - 1])) n--;
    if (n >= sizeof buf) n = sizeof buf - 1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (is_json_number(buf) || !strcmp(buf, "true") || !strcmp(buf, "false") || !strcmp(buf, "null"))
        fputs(buf, f);
    else
        json_strn(f, buf, n);
}

void sweep_json_value(FILE *f, const char *v)
{
    size_t n = strlen(v);
    if (n >= 2 && v[0] == '[' && v[n - 1] == ']') {
        fputc('[', f);
        const char *p = v + 1, *end = v + n - 1;
        int first = 1;
        while (p < end) {
            const char *q = memchr(p, ',', (size_t)(end - p));
            if (!q) q = end;
            const char *a = p;
            while (a < q && isspace((unsigned char)*a)) a++;
            if (a < q || q < end) {
                if (!first) fputs(", ", f);
                json_scalar(f, p, (size_t)(q - p));
                first = 0;
            }
            p = q + 1;
        }
        fputc(']', f);
        return;
    }
    json_scalar(f, v, n);
}

void sweep_json_overrides(FILE *f, const Sweep *s, char (*vals)[SWEEP_VALUE_MAX])
{
    fputc('{', f);
    for (int j = 0; j < s->n_params; j++) {
        if (j) fputs(", ", f);
        json_str(f, s->params[j].key);
        fputs(": ", f);
        sweep_json_value(f, vals[j]);
    }
    fputc('}', f);
}

/* ---- JSON reader: one number at a dotted path --------------------------- */

static const char *ws(const char *p)
{
    while (*p && isspace((unsigned char)*p)) p++;
    return p;
}

/* End of the string starting at the quote p, or NULL. */
static const char *skip_string(const char *p)
{
    for (p++; *p; p++) {
        if (*p == '\\') {
            if (!*++p) return NULL;
        } else if (*p == '"') {
            return p + 1;
        }
    }
    return NULL;
}

/* End of the value at p (any JSON value, plus bare nan/inf), or NULL. */
static const char *skip_value(const char *p, int depth)
{
    p = ws(p);
    if (depth > 64) return NULL;
    if (*p == '"') return skip_string(p);
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        p = ws(p + 1);
        if (*p == close) return p + 1;
        for (;;) {
            if (close == '}') {
                if (*p != '"' || !(p = skip_string(p))) return NULL;
                p = ws(p);
                if (*p++ != ':') return NULL;
            }
            if (!(p = skip_value(p, depth + 1))) return NULL;
            p = ws(p);
            if (*p == ',') { p = ws(p + 1); continue; }
            if (*p == close) return p + 1;
            return NULL;
        }
    }
    const char *q = p;
    while (*q && (isalnum((unsigned char)*q) || strchr("+-.", *q))) q++;
    return q > p ? q : NULL;
}

int sweep_json_number(const char *json, const char *path, double *out)
{
    const char *p = ws(json);
    const char *seg = path;
    while (*seg) {
        size_t sl = strcspn(seg, ".");
        if (*p != '{') return -1;
        p = ws(p + 1);
        int found = 0;
        while (*p == '"') {
            const char *kend = skip_string(p);
            if (!kend) return -1;
            int match = (size_t)(kend - p - 2) == sl && !memcmp(p + 1, seg, sl);
            p = ws(kend);
            if (*p++ != ':') return -1;
            p = ws(p);
            if (match) { found = 1; break; }
            if (!(p = skip_value(p, 0))) return -1;
            p = ws(p);
            if (*p == ',') p = ws(p + 1);
        }
        if (!found) return -1;
        seg += sl;
        if (*seg == '.') seg++;
    }
    if (*p == '"' || *p == '{' || *p == '[' || !*p) return -1;
    char *end;
    double v = strtod(p, &end);
    if (end == p) return -1;
    *out = v;
    return 0;
}

/* ---- trial folders ------------------------------------------------------ */

static int exists(const char *dir, const char *name)
{
    char path[CONFIG_PATH_MAX + 64];
    struct stat st;
    mg_path_join(path, sizeof path, dir, name);
    return stat(path, &st) == 0;
}

static int read_status(const char *tdir)
{
    char path[CONFIG_PATH_MAX + 64];
    mg_path_join(path, sizeof path, tdir, "status");
    FILE *f = fopen(path, "r");
    int rc = -1;
    if (f) {
        if (fscanf(f, "%d", &rc) != 1) rc = -1;
        fclose(f);
    }
    return rc;
}

const char *sweep_state_name(int state)
{
    static const char *const names[] = {"done", "unfinished", "failed", "missing"};
    return state >= 0 && state <= TRIAL_MISSING ? names[state] : "?";
}

int sweep_trial_state(const char *tdir, int need_eval)
{
    int st = read_status(tdir);
    if (exists(tdir, "done") && (!need_eval || exists(tdir, "eval.json"))) return TRIAL_DONE;
    if (st > 0 && st != MG_ESTOP) return TRIAL_FAILED;
    if (st >= 0 || exists(tdir, "checkpoint.bin") || exists(tdir, "metrics.jsonl") || exists(tdir, "done"))
        return TRIAL_UNFINISHED;
    return TRIAL_MISSING;
}

/* The metric of a finished trial, NAN when absent. */
static double trial_metric(const Sweep *s, const char *tdir, const char *metric)
{
    char path[CONFIG_PATH_MAX + 64];
    MgErr e = {0};
    double v = NAN;
    if (sweep_metric_from_eval(s)) {
        mg_path_join(path, sizeof path, tdir, "eval.json");
        char *text = mg_read_file(path, 16u << 20, NULL, &e);
        if (text && sweep_json_number(text, metric, &v) != 0) v = NAN;
        free(text);
        return v;
    }
    mg_path_join(path, sizeof path, tdir, "metrics.jsonl");
    char *text = mg_read_file(path, 256u << 20, NULL, &e);
    if (!text) return NAN;
    /* last non-empty line */
    char *end = text + strlen(text);
    while (end > text && isspace((unsigned char)end[-1])) *--end = '\0';
    char *line = strrchr(text, '\n');
    line = line ? line + 1 : text;
    if (sweep_json_number(line, metric, &v) != 0) v = NAN;
    free(text);
    return v;
}

/* ---- the summary -------------------------------------------------------- */

typedef struct {
    long t;
    int state;
    double metric;
} Row;

static int g_maximize; /* qsort has no context argument; set just before sorting */

static int rank_of(const Row *r)
{
    if (r->state == TRIAL_DONE) return isnan(r->metric) ? 1 : 0;
    return 1 + r->state; /* unfinished 2, failed 3, missing 4 */
}

static int row_cmp(const void *a, const void *b)
{
    const Row *x = a, *y = b;
    int rx = rank_of(x), ry = rank_of(y);
    if (rx != ry) return rx < ry ? -1 : 1;
    if (rx == 0 && x->metric != y->metric)
        return (g_maximize ? x->metric > y->metric : x->metric < y->metric) ? -1 : 1;
    return x->t < y->t ? -1 : x->t > y->t;
}

static void csv_field(FILE *f, const char *v)
{
    if (!strpbrk(v, ",\"\n")) { fputs(v, f); return; }
    fputc('"', f);
    for (; *v; v++) {
        if (*v == '"') fputc('"', f);
        fputc(*v, f);
    }
    fputc('"', f);
}

static void fmt_metric(char *out, size_t n, const Row *r)
{
    if (isnan(r->metric)) snprintf(out, n, "%s", r->state == TRIAL_DONE ? "n/a" : "");
    else snprintf(out, n, "%.6g", r->metric);
}

/* A metric that eval.json holds as a fraction (gap_*, cert_gap_*, *_frac):
 * summary.md shows it in % (summary.csv keeps the fraction). */
static int metric_is_fraction(const char *metric)
{
    const char *last = strrchr(metric, '.');
    last = last ? last + 1 : metric;
    size_t l = strlen(last);
    return !strncmp(last, "gap", 3) || !strncmp(last, "cert_gap", 8) ||
           (l > 5 && !strcmp(last + l - 5, "_frac"));
}

/* Per setting of the non-seed parameters: mean +- sd of finished trials
 * (times scale: 100 for a fraction shown in %). */
static void md_groups(FILE *f, const Sweep *s, const Row *rows, char (*all)[SWEEP_VALUE_MAX],
                      double scale)
{
    const char *pct = scale == 100.0 ? " %" : "";
    int seed_j = -1;
    for (int j = 0; j < s->n_params; j++)
        if (!strcmp(s->params[j].key, "seed") && s->params[j].kind != SWEEP_VALUE) seed_j = j;
    if (seed_j < 0) return;
    long n = s->n_trials;
    int np = s->n_params;
    char *seen = mg_calloc((size_t)n, 1);
    /* columns: the parameters that vary, but the seed */
#define SHOWN(j) ((j) != seed_j && s->params[j].kind != SWEEP_VALUE)
    fprintf(f, "\nMean +- sd of %s over seeds (finished trials%s):\n\n|", s->metric,
            *pct ? ", in %" : "");
    for (int j = 0; j < np; j++)
        if (SHOWN(j)) fprintf(f, " %s |", s->params[j].key);
    fprintf(f, " n | mean | sd |\n|");
    for (int j = 0; j < np; j++)
        if (SHOWN(j)) fprintf(f, "---|");
    fprintf(f, "---|---|---|\n");
    /* one group per setting of the shown keys: mean and sd of its finished trials */
    typedef struct {
        Row r;    /* r.t: a member trial; r.metric: the mean (NAN: none finished) */
        int cnt;
        double sd;
    } Group;
    Group *g = mg_calloc((size_t)n, sizeof *g);
    long ng = 0;
    for (long a = 0; a < n; a++) {
        long ta = rows[a].t;
        if (seen[ta]) continue;
        double sum = 0, sum2 = 0;
        int cnt = 0;
        for (long b = a; b < n; b++) {
            long tb = rows[b].t;
            int same = 1;
            for (int j = 0; j < np && same; j++)
                if (j != seed_j && strcmp(all[ta * np + j], all[tb * np + j])) same = 0;
            if (!same) continue;
            seen[tb] = 1;
            if (rows[b].state == TRIAL_DONE && !isnan(rows[b].metric)) {
                sum += rows[b].metric;
                sum2 += rows[b].metric * rows[b].metric;
                cnt++;
            }
        }
        Group *q = &g[ng++];
        q->r.t = ta;
        q->cnt = cnt;
        q->r.state = cnt ? TRIAL_DONE : TRIAL_MISSING;
        q->r.metric = cnt ? sum / cnt : NAN;
        double var = cnt > 1 ? fmax(0.0, (sum2 - cnt * q->r.metric * q->r.metric) / (cnt - 1)) : 0.0;
        q->sd = sqrt(var);
    }
    /* best mean first (Row is Group's first member: row_cmp orders groups) */
    qsort(g, (size_t)ng, sizeof *g, row_cmp);
    for (long i = 0; i < ng; i++) {
        fputc('|', f);
        for (int j = 0; j < np; j++)
            if (SHOWN(j)) fprintf(f, " %s |", all[g[i].r.t * np + j]);
        if (g[i].cnt == 0) fprintf(f, " 0 | | |\n");
        else fprintf(f, " %d | %.4g%s | %.3g%s |\n", g[i].cnt, g[i].r.metric * scale, pct,
                     g[i].sd * scale, pct);
    }
    free(g);
    free(seen);
#undef SHOWN
}

static void write_md(FILE *f, const Sweep *s, const Row *rows, char (*all)[SWEEP_VALUE_MAX])
{
    int np = s->n_params;
    int counts[4] = {0};
    const double scale = metric_is_fraction(s->metric) ? 100.0 : 1.0;
    for (long i = 0; i < s->n_trials; i++) counts[rows[i].state]++;
    fprintf(f, "# Sweep %s\n\n%ld trials: %d done, %d unfinished, %d failed, %d missing. "
               "Metric: %s (%s), best first%s.\n\n| trial |",
            s->name, s->n_trials, counts[0], counts[1], counts[2], counts[3], s->metric,
            s->maximize ? "maximize" : "minimize",
            scale == 100.0 ? "; in % here (eval.json and summary.csv hold fractions)" : "");
    for (int j = 0; j < np; j++) fprintf(f, " %s |", s->params[j].key);
    fprintf(f, " %s%s | status |\n|---|", s->metric, scale == 100.0 ? " (%)" : "");
    for (int j = 0; j < np; j++) fprintf(f, "---|");
    fprintf(f, "---|---|\n");
    for (long i = 0; i < s->n_trials; i++) {
        Row r_md = rows[i];
        const Row *r = &r_md;
        r_md.metric *= scale;
        char m[64];
        fmt_metric(m, sizeof m, r);
        if (scale == 100.0 && !isnan(r->metric)) strcat(m, " %");
        fprintf(f, "| %ld |", r->t);
        for (int j = 0; j < np; j++) fprintf(f, " %s |", all[r->t * np + j]);
        const char *st = sweep_state_name(r->state);
        fprintf(f, " %s | %s%s%s |\n", m, r->state == TRIAL_DONE ? "" : "**", st,
                r->state == TRIAL_DONE ? "" : "**");
    }
    md_groups(f, s, rows, all, scale);
}

int sweep_summary(const Sweep *s, const char *dir, FILE *echo, MgErr *e)
{
    long n = s->n_trials;
    int np = s->n_params;
    char (*all)[SWEEP_VALUE_MAX] = mg_calloc((size_t)(n * np + 1), SWEEP_VALUE_MAX);
    Row *rows = mg_calloc((size_t)n, sizeof *rows);
    char tdir[CONFIG_PATH_MAX + 32], metric[512];
    for (long t = 0; t < n; t++) {
        char (*vals)[SWEEP_VALUE_MAX] = all + t * np;
        sweep_trial_values(s, t, vals);
        sweep_trial_dir(tdir, sizeof tdir, dir, t);
        sweep_metric_name(s, vals, metric, sizeof metric);
        rows[t].t = t;
        rows[t].state = sweep_trial_state(tdir, sweep_metric_from_eval(s));
        rows[t].metric = rows[t].state == TRIAL_DONE ? trial_metric(s, tdir, metric) : NAN;
    }
    g_maximize = s->maximize;
    qsort(rows, (size_t)n, sizeof *rows, row_cmp);

    int rc = MG_OK;
    char path[CONFIG_PATH_MAX + 32];
    mg_path_join(path, sizeof path, dir, "summary.csv");
    FILE *f = mg_open_out(path, "w", e);
    if (!f) {
        rc = e->code;
        goto out;
    }
    fprintf(f, "trial");
    for (int j = 0; j < np; j++) fputc(',', f), csv_field(f, s->params[j].key);
    fputc(',', f);
    csv_field(f, s->metric);
    fprintf(f, ",status\n");
    for (long i = 0; i < n; i++) {
        char m[64];
        fmt_metric(m, sizeof m, &rows[i]);
        if (!strcmp(m, "n/a")) m[0] = '\0';
        fprintf(f, "%ld", rows[i].t);
        for (int j = 0; j < np; j++) fputc(',', f), csv_field(f, all[rows[i].t * np + j]);
        fprintf(f, ",%s,%s\n", m, sweep_state_name(rows[i].state));
    }
    if ((rc = mg_close_out(f, path, e)) != MG_OK) goto out;
    mg_path_join(path, sizeof path, dir, "summary.md");
    if (!(f = mg_open_out(path, "w", e))) {
        rc = e->code;
        goto out;
    }
    write_md(f, s, rows, all);
    rc = mg_close_out(f, path, e);
    if (echo) write_md(echo, s, rows, all);
out:
    free(rows);
    free(all);
    return rc;
}
