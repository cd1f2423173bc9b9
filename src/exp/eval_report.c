/*
 * eval_report.c — what `metagrid eval` writes: eval.json, report.md,
 * gaps.tsv, hours.tsv, mse_by_step.tsv, and the tables printed on stdout
 * (see eval.h).
 *
 * Wording rules of the report: one unit per table and per sentence (gaps in
 * %, times in µs, horizons in hours); the unpolished quality (the proposal
 * as returned) leads, a polished run is a second, labelled table;
 * significance is stated in words that cannot be misread.
 */
#define _POSIX_C_SOURCE 200809L
#include "metagrid/eval.h"
#include "metagrid/json.h"
#include "metagrid/provenance.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *kind_name(int kind)
{
    switch (kind) {
    case EVAL_CKPT: return "checkpoint";
    case EVAL_NO_ADAPT: return "no_adapt";
    case EVAL_SCRATCH: return "scratch";
    case EVAL_SCRATCH_LONG: return "scratch_long";
    case EVAL_GREEDY: return "greedy";
    case EVAL_SOLVER: return "solver";
    case EVAL_SUPPORT_MEAN: return "support_mean";
    case EVAL_NEAREST: return "nearest";
    case EVAL_SUPPORT_DUALS: return "support_duals";
    case EVAL_SOLVER_WARM: return "solver_warm";
    case EVAL_SIMPLEX_WARM: return "simplex_warm";
    case EVAL_SIMPLEX_NEAREST: return "simplex_nearest";
    }
    return "?";
}

static const char *plural(long n) { return n == 1 ? "" : "s"; }

static void json_key_num(FILE *f, const char *key, double v)
{
    fprintf(f, ", \"%s\": ", key);
    json_num(f, v);
}

static const EvalMethod *find_kind(const EvalResult *r, int kind)
{
    for (int k = 0; k < r->n_methods; k++)
        if (r->m[k].kind == kind) return &r->m[k];
    return NULL;
}

/* latency of the method of `kind` / latency of m, or NAN. */
static double speedup(const EvalResult *r, const EvalMethod *m, int kind)
{
    const EvalMethod *b = find_kind(r, kind);
    return b && m->latency_us > 0 ? b->latency_us / m->latency_us : NAN;
}

static void json_lp_fields(FILE *f, const EvalResult *r, const EvalMethod *m)
{
    static const char *names[] = {
        "gap_mean", "gap_mean_ci95", "gap_median", "gap_p95", "gap_max", "viol_max_raw",
        "viol_max", "feasible_frac", "gap_mean_unpolished", "gap_mean_unpolished_ci95",
        "gap_median_unpolished", "gap_p95_unpolished", "gap_max_unpolished", "cert_gap_median",
        "cert_gap_p95", "cert_gap_max", "certified_frac", "fallback_frac",
        "gap_max_after_fallback", "gap_mean_after_fallback"};
    const double vals[] = {
        m->gap_mean, m->gap_mean_ci95, m->gap_median, m->gap_p95, m->gap_max, m->viol_max_raw,
        m->viol_max, m->feasible_frac, m->gap0_mean, m->gap0_mean_ci95, m->gap0_median,
        m->gap0_p95, m->gap0_max, m->cert_gap_median, m->cert_gap_p95, m->cert_gap_max,
        m->certified_frac, m->fallback_frac, m->gap_max_after_fallback,
        m->gap_mean_after_fallback};
    for (size_t j = 0; j < sizeof names / sizeof names[0]; j++) json_key_num(f, names[j], vals[j]);
    fprintf(f, ", \"invalid_bounds\": %d, \"own_prices\": %s", m->invalid_bounds,
            m->prices ? "true" : "false");
    (void)r;
}

static void json_method(FILE *f, const EvalResult *r, const EvalMethod *m)
{
    json_str(f, m->label);
    fputs(": {\"kind\": ", f);
    json_str(f, kind_name(m->kind));
    if (m->kind == EVAL_CKPT) fprintf(f, ", \"checkpoint\": %d", m->ckpt);
    if (m->steps >= 0) fprintf(f, ", \"steps\": %d", m->steps);
    json_key_num(f, "mse", m->mse);
    json_key_num(f, "mse_ci95", m->mse_ci95);
    if (r->lp) json_lp_fields(f, r, m);
    json_key_num(f, "latency_us", m->latency_us);
    if (r->lp) {
        json_key_num(f, "latency_mean_us", m->latency_mean_us);
        json_key_num(f, "propose_us", m->propose_us);
        json_key_num(f, "speedup_vs_solver", speedup(r, m, EVAL_SOLVER));
        json_key_num(f, "speedup_vs_solver_warm", speedup(r, m, EVAL_SOLVER_WARM));
        json_key_num(f, "setup_ms", m->setup_ms);
        json_key_num(f, "cost_per_hour_us", m->cost_per_hour_us);
        json_key_num(f, "break_even_hours", m->break_even_hours);
        if (isfinite(m->polish_us)) json_key_num(f, "polish_us", m->polish_us);
    }
    if (isfinite(m->adapt_ms)) json_key_num(f, "adapt_ms", m->adapt_ms);
    if (m->n_by_step > 0) {
        fputs(", \"mse_by_step\": [", f);
        for (int s = 0; s < m->n_by_step; s++) {
            if (s) fputs(", ", f);
            json_num(f, m->mse_by_step[s]);
        }
        fputc(']', f);
    }
    fputc('}', f);
}

static void json_paired(FILE *f, const EvalResult *r)
{
    fputs(",\n \"paired\": [", f);
    for (int i = 0; i < r->n_paired; i++) {
        const EvalPaired *p = &r->paired[i];
        fputs(i ? ",\n   {\"a\": " : "\n   {\"a\": ", f);
        json_str(f, r->m[p->a].label);
        fputs(", \"b\": ", f);
        json_str(f, r->m[p->b].label);
        fputs(", \"metric\": ", f);
        json_str(f, p->metric);
        json_key_num(f, "mean_diff", p->mean_diff);
        fputs(", \"ci95\": [", f);
        json_num(f, p->lo);
        fputs(", ", f);
        json_num(f, p->hi);
        fprintf(f, "], \"n_tasks\": %d}", p->n_tasks);
    }
    fputc(']', f);
}

int eval_write_json(const EvalResult *r, const char *path, MgErr *e)
{
    FILE *f = mg_open_out(path, "w", e);
    if (!f) return e->code;
    const Config *c = &r->cfg;
    fputs("{\"methods\": {", f);
    for (int k = 0; k < r->n_methods; k++) {
        fputs(k ? ",\n  " : "\n  ", f);
        json_method(f, r, &r->m[k]);
    }
    fputs("},\n \"config\": {\"family\": ", f);
    json_str(f, config_family_name(c->task.family));
    if (r->lp) fprintf(f, ", \"n_demand\": %d, \"n_supply\": %d", c->task.n_demand, c->task.n_supply);
    fprintf(f,
            ", \"tasks\": %d, \"k_support\": %d, \"steps\": %d, \"query\": %d, "
            "\"scratch_steps\": %d, \"seed\": %lld",
            c->eval.tasks, c->eval.k_support, c->eval.steps, c->eval.query, c->eval.scratch_steps,
            (long long)c->seed);
    if (r->lp) {
        fprintf(f, ", \"polish\": %d, \"tolerance\": ", c->eval.polish);
        json_num(f, c->eval.tolerance);
        int simplex = c->eval.fallback == FALLBACK_SIMPLEX;
        fprintf(f, ", \"horizon\": %d, \"ascent_steps\": %d, \"fallback\": \"%s\"", c->eval.horizon,
                simplex ? 0 : EVAL_ASCENT_STEPS, simplex ? "simplex" : "solver");
    }
    fputs("}", f);
    if (r->lp) json_paired(f, r);
    fprintf(f, ",\n \"ranks\": %d,\n \"checkpoints\": [", r->ranks);
    for (int i = 0; i < r->n_ckpt; i++) {
        const EvalCkptInfo *ci = &r->ckpt[i];
        fputs(i ? ",\n   {\"path\": " : "\n   {\"path\": ", f);
        json_str(f, ci->path);
        fputs(", \"label\": ", f);
        for (int k = 0; k < r->n_methods; k++)
            if (r->m[k].kind == EVAL_CKPT && r->m[k].ckpt == i) json_str(f, r->m[k].label);
        fputs(", \"algo\": ", f);
        json_str(f, ci->algo);
        fprintf(f, ", \"iter\": %lld, \"n_meta\": %zu}", (long long)ci->iter, ci->n_meta);
    }
    fputs("],\n \"provenance\": ", f);
    Provenance prov;
    provenance_get(&prov);
    provenance_write_json(&prov, f);
    fputs(",\n \"wall_s\": ", f);
    json_num(f, r->wall_s);
    fputs("}\n", f);
    return mg_close_out(f, path, e);
}

/* hours.tsv: one row per (method, task, query hour). */
static int write_hours(const EvalResult *r, const char *dir, MgErr *e)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/hours.tsv", dir);
    FILE *f = mg_open_out(path, "w", e);
    if (!f) return e->code;
    fputs("method\ttask\thour\tcost\topt\tlower_bound\tcert_gap\tfallback\tlatency_us\tgap\t"
          "gap_unpolished\n", f);
    int T = r->cfg.eval.tasks, Q = r->cfg.eval.query;
    for (int k = 0; k < r->n_methods; k++) {
        const EvalHours *h = &r->m[k].hours;
        for (int t = 0; t < T; t++)
            for (int q = 0; q < Q; q++) {
                size_t i = (size_t)t * Q + q;
                fprintf(f, "%s\t%d\t%d\t%.17g\t%.17g\t%.17g\t%.9g\t%d\t%.3f\t%.9g\t%.9g\n",
                        r->m[k].label, t, q, h->cost[i], r->opt[i], h->lb[i], h->cert_gap[i],
                        h->fallback[i] != 0.0, 1e6 * h->lat[i], h->gap[i], h->gap0[i]);
            }
    }
    return mg_close_out(f, path, e);
}

int eval_write_tsv(const EvalResult *r, const char *dir, MgErr *e)
{
    char path[2048];
    FILE *f;
    if (r->lp) {
        snprintf(path, sizeof path, "%s/gaps.tsv", dir);
        if (!(f = mg_open_out(path, "w", e))) return e->code;
        for (int k = 0; k < r->n_methods; k++) fprintf(f, "%s%s", k ? "\t" : "", r->m[k].label);
        fputc('\n', f);
        size_t N = (size_t)r->cfg.eval.tasks * (size_t)r->cfg.eval.query;
        for (size_t i = 0; i < N; i++) {
            for (int k = 0; k < r->n_methods; k++)
                fprintf(f, "%s%.9g", k ? "\t" : "", r->m[k].gaps ? r->m[k].gaps[i] : NAN);
            fputc('\n', f);
        }
        if (mg_close_out(f, path, e) != MG_OK) return e->code;
        if (write_hours(r, dir, e) != MG_OK) return e->code;
    }
    snprintf(path, sizeof path, "%s/mse_by_step.tsv", dir);
    if (!(f = mg_open_out(path, "w", e))) return e->code;
    int S = 0;
    fputs("step", f);
    for (int k = 0; k < r->n_methods; k++) {
        if (r->m[k].n_by_step == 0) continue;
        fprintf(f, "\t%s", r->m[k].label);
        S = r->m[k].n_by_step > S ? r->m[k].n_by_step : S;
    }
    fputc('\n', f);
    for (int s = 0; s < S; s++) {
        fprintf(f, "%d", s);
        for (int k = 0; k < r->n_methods; k++) {
            const EvalMethod *m = &r->m[k];
            if (m->n_by_step == 0) continue;
            if (s < m->n_by_step) fprintf(f, "\t%.9g", m->mse_by_step[s]);
            else fputs("\t", f);
        }
        fputc('\n', f);
    }
    return mg_close_out(f, path, e);
}

/* ---- tables -------------------------------------------------------------- */

#define TAB_MAX_COLS 12
#define TAB_CELL 48
typedef char TabRow[TAB_MAX_COLS][TAB_CELL];

/* Percent with 3 decimals, no unit (the table header carries it); tiny
 * negatives (solver round-off) print as 0. */
static void fmt_pct(char *out, double v)
{
    if (!isfinite(v)) snprintf(out, TAB_CELL, "%s", isnan(v) ? "-" : "inf");
    else snprintf(out, TAB_CELL, "%.3f", fabs(100 * v) < 5e-4 ? 0.0 : 100 * v);
}

static void fmt_g(char *out, const char *fmt, double v)
{
    if (!isfinite(v)) snprintf(out, TAB_CELL, "-");
    else snprintf(out, TAB_CELL, fmt, v);
}

/* rows[0] is the header; n_rows includes it. Markdown (md) or aligned text. */
static void emit_table(FILE *f, int md, int nc, TabRow *rows, int n_rows)
{
    int w[TAB_MAX_COLS] = {0};
    for (int k = 0; k < n_rows; k++)
        for (int j = 0; j < nc; j++) {
            int len = 0;
            for (const char *s = rows[k][j]; *s; s++) len += ((unsigned char)*s & 0xC0) != 0x80;
            if (len > w[j]) w[j] = len;
        }
    for (int k = 0; k < n_rows; k++) {
        for (int j = 0; j < nc; j++) {
            int len = 0;
            for (const char *s = rows[k][j]; *s; s++) len += ((unsigned char)*s & 0xC0) != 0x80;
            fprintf(f, md ? (j ? " %s" : "| %s") : (j ? "  %s" : "%s"), rows[k][j]);
            fprintf(f, "%*s", w[j] - len, "");
            if (md) fputs(" |", f);
        }
        fputc('\n', f);
        if (md && k == 0) {
            for (int j = 0; j < nc; j++) {
                fputs(j ? "" : "|", f);
                for (int i = 0; i < w[j] + 2; i++) fputc(i == w[j] + 1 && j ? ':' : '-', f);
                fputc('|', f);
            }
            fputc('\n', f);
        }
    }
}

static void header(TabRow row, int nc, const char *const *h)
{
    for (int j = 0; j < nc; j++) snprintf(row[j], TAB_CELL, "%s", h[j]);
}

/* Gaps in %: unpolished (polished = 0) or after eval.polish passes. */
static void table_gaps(const EvalResult *r, FILE *f, int md, int polished)
{
    static const char *h[] = {"method", "median", "p95", "max", "mean ± 95 % CI",
                              "feasible", "certified", "fallback", "cert gap median",
                              "cert gap p95", "max after fallback"};
    int nc = polished ? 5 : 11;
    TabRow *rows = mg_calloc((size_t)r->n_methods + 1, sizeof(TabRow));
    header(rows[0], nc, h);
    for (int k = 0; k < r->n_methods; k++) {
        const EvalMethod *m = &r->m[k];
        char(*c)[TAB_CELL] = rows[k + 1];
        snprintf(c[0], TAB_CELL, "%s", m->label);
        double med = polished ? m->gap_median : m->gap0_median;
        double p95 = polished ? m->gap_p95 : m->gap0_p95;
        double mx = polished ? m->gap_max : m->gap0_max;
        double mean = polished ? m->gap_mean : m->gap0_mean;
        double ci = polished ? m->gap_mean_ci95 : m->gap0_mean_ci95;
        fmt_pct(c[1], med);
        fmt_pct(c[2], p95);
        fmt_pct(c[3], mx);
        char a[TAB_CELL], b[TAB_CELL];
        fmt_pct(a, mean);
        fmt_pct(b, ci);
        snprintf(c[4], TAB_CELL, "%.20s ± %.20s", a, b);
        if (polished) continue;
        fmt_g(c[5], "%.1f", 100 * m->feasible_frac);
        fmt_g(c[6], "%.1f", 100 * m->certified_frac);
        fmt_g(c[7], "%.1f", 100 * m->fallback_frac);
        fmt_pct(c[8], m->cert_gap_median);
        fmt_pct(c[9], m->cert_gap_p95);
        fmt_pct(c[10], m->gap_max_after_fallback);
    }
    emit_table(f, md, nc, rows, r->n_methods + 1);
    free(rows);
}

/* Times in µs. */
static void table_times(const EvalResult *r, FILE *f, int md)
{
    static const char *h[] = {"method", "latency median", "latency mean", "propose median",
                              "setup per task", "cost per hour"};
    TabRow *rows = mg_calloc((size_t)r->n_methods + 1, sizeof(TabRow));
    header(rows[0], 6, h);
    for (int k = 0; k < r->n_methods; k++) {
        const EvalMethod *m = &r->m[k];
        char(*c)[TAB_CELL] = rows[k + 1];
        snprintf(c[0], TAB_CELL, "%s", m->label);
        fmt_g(c[1], "%.1f", m->latency_us);
        fmt_g(c[2], "%.1f", m->latency_mean_us);
        fmt_g(c[3], "%.1f", m->propose_us);
        fmt_g(c[4], "%.0f", 1e3 * m->setup_ms);
        fmt_g(c[5], "%.1f", m->cost_per_hour_us);
    }
    emit_table(f, md, 6, rows, r->n_methods + 1);
    free(rows);
}

/* Sinusoid: the query MSE (no unit). */
static void table_mse(const EvalResult *r, FILE *f, int md)
{
    static const char *h[] = {"method", "mse ± 95 % CI", "mse step 0", "mse last step"};
    TabRow *rows = mg_calloc((size_t)r->n_methods + 1, sizeof(TabRow));
    header(rows[0], 4, h);
    for (int k = 0; k < r->n_methods; k++) {
        const EvalMethod *m = &r->m[k];
        char(*c)[TAB_CELL] = rows[k + 1];
        snprintf(c[0], TAB_CELL, "%s", m->label);
        if (!isfinite(m->mse)) snprintf(c[1], TAB_CELL, "diverged");
        else if (isfinite(m->mse_ci95)) snprintf(c[1], TAB_CELL, "%.4g ± %.2g", m->mse, m->mse_ci95);
        else snprintf(c[1], TAB_CELL, "%.4g", m->mse);
        fmt_g(c[2], "%.4g", m->n_by_step ? m->mse_by_step[0] : NAN);
        fmt_g(c[3], "%.4g", m->n_by_step ? m->mse_by_step[m->n_by_step - 1] : NAN);
    }
    emit_table(f, md, 4, rows, r->n_methods + 1);
    free(rows);
}

/* Times of the sinusoid methods, µs (only latency and adaptation). */
static void table_sin_times(const EvalResult *r, FILE *f, int md)
{
    static const char *h[] = {"method", "latency median", "adaptation per task"};
    TabRow *rows = mg_calloc((size_t)r->n_methods + 1, sizeof(TabRow));
    header(rows[0], 3, h);
    for (int k = 0; k < r->n_methods; k++) {
        char(*c)[TAB_CELL] = rows[k + 1];
        snprintf(c[0], TAB_CELL, "%s", r->m[k].label);
        fmt_g(c[1], "%.2f", r->m[k].latency_us);
        fmt_g(c[2], "%.1f", 1e3 * r->m[k].adapt_ms);
    }
    emit_table(f, md, 3, rows, r->n_methods + 1);
    free(rows);
}

static void settings_line(const EvalResult *r, FILE *f)
{
    const Config *c = &r->cfg;
    fprintf(f, "%s", config_family_name(c->task.family));
    if (r->lp) fprintf(f, " %dx%d", c->task.n_demand, c->task.n_supply);
    fprintf(f, ", %d held-out task%s, K = %d support %s, %d adaptation step%s, %d query %s",
            c->eval.tasks, plural(c->eval.tasks), c->eval.k_support,
            r->lp ? (c->eval.k_support == 1 ? "hour" : "hours")
                  : (c->eval.k_support == 1 ? "point" : "points"),
            c->eval.steps, plural(c->eval.steps), c->eval.query,
            r->lp ? (c->eval.query == 1 ? "hour" : "hours")
                  : (c->eval.query == 1 ? "point" : "points"));
    if (r->lp)
        fprintf(f, " per task; polish %d pass%s, tolerance %g %% (fallback: %s), horizon %d hour%s",
                c->eval.polish, c->eval.polish == 1 ? "" : "es", 100 * c->eval.tolerance,
                c->eval.fallback == FALLBACK_SIMPLEX ? "transportation simplex" : "GLPK warm",
                c->eval.horizon, plural(c->eval.horizon));
    else fputs(" per task", f);
    fprintf(f, "; seed %lld; %d rank%s; %.1f s", (long long)c->seed, r->ranks, plural(r->ranks),
            r->wall_s);
}

void eval_print_table(const EvalResult *r, FILE *f)
{
    fputs("eval: ", f);
    settings_line(r, f);
    fputs("\n\n", f);
    if (!r->lp) {
        table_mse(r, f, 0);
        return;
    }
    fputs("Gaps without polish (the proposal as returned), %:\n", f);
    table_gaps(r, f, 0, 0);
    if (r->cfg.eval.polish > 0) {
        fprintf(f, "\nGaps after %d polish pass%s (a second table), %%:\n", r->cfg.eval.polish,
                r->cfg.eval.polish == 1 ? "" : "es");
        table_gaps(r, f, 0, 1);
    }
    fputs("\nTimes per hour and per task, µs (certificate and fallback included):\n", f);
    table_times(r, f, 0);
}

/* ---- paired comparisons and goals -------------------------------------- */

/* One sentence per comparison, in % only. */
static void write_paired(const EvalResult *r, FILE *f)
{
    for (int i = 0; i < r->n_paired; i++) {
        const EvalPaired *p = &r->paired[i];
        const char *a = r->m[p->a].label, *b = r->m[p->b].label;
        fprintf(f, "- `%s` − `%s`, per-task mean gap%s: %.3f %% (95 %% CI %.3f %% to %.3f %%, "
                "%d task%s): ", a, b, strcmp(p->metric, "gap_mean") ? " before the polish" : "",
                100 * p->mean_diff, 100 * p->lo, 100 * p->hi, p->n_tasks, plural(p->n_tasks));
        if (!isfinite(p->lo) || !isfinite(p->hi))
            fputs("no interval (fewer than 2 tasks)\n", f);
        else if (p->hi < 0)
            fprintf(f, "`%s` has a significantly lower gap (the 95 %% CI of the difference "
                       "lies below 0)\n", a);
        else if (p->lo > 0)
            fprintf(f, "`%s` has a significantly higher gap (the 95 %% CI of the difference "
                       "lies above 0)\n", a);
        else
            fputs("no significant difference (the 95 % CI of the difference includes 0)\n", f);
    }
}

/* Does checkpoint a beat b significantly (paired, on the reported gap)? */
static int beats(const EvalResult *r, int a, int b)
{
    for (int i = 0; i < r->n_paired; i++)
        if (r->paired[i].a == a && r->paired[i].b == b &&
            !strcmp(r->paired[i].metric, "gap_mean"))
            return r->paired[i].hi < 0;
    return 0;
}

void eval_write_goals(const EvalResult *r, FILE *f)
{
    int any = 0;
    for (int k = 0; k < r->n_methods; k++) {
        const EvalMethod *m = &r->m[k];
        if (m->kind != EVAL_CKPT || m->algo == ALGO_PRETRAIN) continue;
        any = 1;
        fprintf(f, "Meta-learned `%s`:\n\n", m->label);
        if (!r->lp) {
            const EvalMethod *sc = find_kind(r, EVAL_SCRATCH);
            if (sc) fprintf(f, "- query MSE below `scratch`: **%s** (%.4g vs %.4g)\n",
                            m->mse < sc->mse ? "met" : "NOT met", m->mse, sc->mse);
            fputc('\n', f);
            continue;
        }
        fprintf(f, "- unpolished median gap ≤ 0.2 %%: **%s** (%.3f %%)\n",
                m->gap0_median <= 0.002 ? "met" : "NOT met", 100 * m->gap0_median);
        fprintf(f, "- unpolished p95 gap ≤ 2 %%: **%s** (%.3f %%)\n",
                m->gap0_p95 <= 0.02 ? "met" : "NOT met", 100 * m->gap0_p95);
        fprintf(f, "- hours certified within tolerance without a solver call ≥ 95 %%: **%s** "
                "(%.1f %%)\n", m->certified_frac >= 0.95 ? "met" : "NOT met",
                100 * m->certified_frac);
        double sp = speedup(r, m, EVAL_SOLVER_WARM);
        fprintf(f, "- median latency with fallback ≥ 5× faster than `solver_warm`: **%s** "
                "(%.1f×)\n", sp >= 5 ? "met" : "NOT met", sp);
        if (isfinite(m->break_even_hours))
            fprintf(f, "- break-even against `solver_warm` within 24 hours: **%s** (after %.0f "
                    "hour%s)\n", m->break_even_hours <= 24 ? "met" : "NOT met",
                    m->break_even_hours, plural((long)m->break_even_hours));
        else
            fputs("- break-even against `solver_warm` within 24 hours: **NOT met** (never "
                  "cheaper at any horizon)\n", f);
        for (int b = 0; b < r->n_methods; b++) {
            const EvalMethod *bm = &r->m[b];
            if (bm->learned || EVAL_KIND_EXACT(bm->kind)) continue;
            fprintf(f, "- significantly lower mean gap than `%s` (paired 95 %% CI below 0): "
                    "**%s**\n", bm->label, beats(r, k, b) ? "met" : "NOT met");
        }
        fputc('\n', f);
    }
    if (!any) fputs("No meta-learned checkpoint (only pretrain) was evaluated.\n\n", f);
}

static void write_definitions(const EvalResult *r, FILE *f)
{
    if (!r->lp) {
        fputs("mse: mean squared error on the query points (evenly spaced on [-5, 5], the MAML "
              "evaluation protocol) after adaptation; ± is the 95 % CI half-width across "
              "tasks. mse_by_step in eval.json and mse_by_step.tsv gives it for steps 0 … "
              "eval.steps.\n\n", f);
        return;
    }
    fputs("Gap: (cost − GLPK optimum) / optimum of one query hour's allocation, in %. Every "
          "heuristic method goes through the same pipeline: its proposal (learned allocation "
          "head: each demand on its most likely supplier; price head and `support_duals`: the "
          "price decode of cert.c; `support_mean`: the mean support split, decoded like the "
          "network's; `nearest`: the optimal split of the support hour nearest in demand and "
          "supply; `greedy`: cheapest arcs first), then the feasibility repair, then "
          "`eval.polish` passes of the cost polish. The first table is the proposal as "
          "returned (no polish). ± is the 95 % CI half-width across per-task means. feasible: "
          "share of hours feasible after repair. Certificate: the Lagrangian lower bound of "
          "the method's own capacity prices (price head, `support_duals`, the solvers' duals) "
          "or else of the nearest support hour's prices, improved by up to a few ascent steps "
          "when it does not certify; cert gap = (cost − bound) / bound; certified: share of "
          "hours with cert gap ≤ tolerance; fallback: share re-solved by the warm solver "
          "because the certificate was above tolerance; max after fallback: the largest gap "
          "of what is finally returned (at most the tolerance). Every bound is in hours.tsv "
          "with the optimum, so anyone can re-check it. `simplex_warm` and `simplex_nearest` "
          "are exact: metagrid's transportation simplex (transport.c) started from the "
          "previous query hour's optimal prices or from the prices of the nearest support "
          "hour (the support hours solved by the same simplex as its setup), certified by "
          "its own final prices.\n\n", f);
    fputs("Times: latency is one hour from its raw data to the returned allocation, "
          "certificate and fallback included (propose: before the certificate); setup per task "
          "is the K support solves plus the adaptation (`solver_warm`: its first, cold solve; "
          "`simplex_warm`: the simplex's cold solve of the last support hour; "
          "`simplex_nearest`: the simplex's solves of the K support hours; `solver`: none); "
          "cost per hour = setup / horizon + mean latency.\n\n", f);
}

int eval_write_report(const EvalResult *r, const char *path, const char *plots, MgErr *e)
{
    FILE *f = mg_open_out(path, "w", e);
    if (!f) return e->code;
    fprintf(f, "# Evaluation\n\n");
    settings_line(r, f);
    fputs(". Held-out tasks come from the evaluation stream (disjoint from training); support "
          "hours from each region's history, query hours from later days.\n\n", f);
    fputs("Checkpoints:\n\n", f);
    for (int i = 0; i < r->n_ckpt; i++)
        fprintf(f, "- `%s`: %s, %lld meta-iteration%s, %zu meta-parameters\n", r->ckpt[i].path,
                r->ckpt[i].algo, (long long)r->ckpt[i].iter, plural((long)r->ckpt[i].iter),
                r->ckpt[i].n_meta);
    fputc('\n', f);
    if (r->lp) {
        fputs("## Gaps without polish (the proposal as returned), in %\n\n", f);
        table_gaps(r, f, 1, 0);
        if (r->cfg.eval.polish > 0) {
            fprintf(f, "\n## Second table: gaps after %d polish pass%s, in %%\n\n",
                    r->cfg.eval.polish, r->cfg.eval.polish == 1 ? "" : "es");
            table_gaps(r, f, 1, 1);
        }
        fputs("\n## Times, in µs\n\n", f);
        table_times(r, f, 1);
        fputs("\n## Break-even against `solver_warm`, in hours\n\n", f);
        for (int k = 0; k < r->n_methods; k++) {
            const EvalMethod *m = &r->m[k];
            if (m->kind == EVAL_SOLVER_WARM) continue;
            if (isfinite(m->break_even_hours))
                fprintf(f, "- `%s`: cheaper from %.0f hour%s on\n", m->label, m->break_even_hours,
                        plural((long)m->break_even_hours));
            else fprintf(f, "- `%s`: never cheaper\n", m->label);
        }
        fputs("\n## Paired comparisons (per-task mean gap, checkpoint − baseline), in %\n\n", f);
        write_paired(r, f);
        fputc('\n', f);
    } else {
        table_mse(r, f, 1);
        fputs("\nTimes, in µs:\n\n", f);
        table_sin_times(r, f, 1);
        fputc('\n', f);
    }
    write_definitions(r, f);
    fputs("## Goals\n\n", f);
    eval_write_goals(r, f);
    fputs("## Plots\n\n", f);
    fputs(plots && plots[0] ? plots : "Not made (gnuplot not found); run `tools/plot.sh DIR "
                                      "[RUNDIR...]` where gnuplot is installed.\n", f);
    fputc('\n', f);
    return mg_close_out(f, path, e);
}
