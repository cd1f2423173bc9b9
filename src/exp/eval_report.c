/*
 * eval_report.c — what `metagrid eval` writes: eval.json, report.md,
 * gaps.tsv, mse_by_step.tsv, and the table printed on stdout (see eval.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "metagrid/json.h"
#include "metagrid/eval.h"

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
    }
    return "?";
}

static void json_key_num(FILE *f, const char *key, double v)
{
    fprintf(f, ", \"%s\": ", key);
    json_num(f, v);
}

/* The solver's median latency, or NAN. */
static double solver_latency(const EvalResult *r)
{
    for (int k = 0; k < r->n_methods; k++)
        if (r->m[k].kind == EVAL_SOLVER) return r->m[k].latency_us;
    return NAN;
}

static double speedup(const EvalResult *r, const EvalMethod *m)
{
    double s = solver_latency(r);
    return m->latency_us > 0 ? s / m->latency_us : NAN;
}

int eval_write_json(const EvalResult *r, const char *path, MgErr *e)
{
    FILE *f = mg_open_out(path, "w", e);
    if (!f) return e->code;
    const Config *c = &r->cfg;
    fputs("{\"methods\": {", f);
    for (int k = 0; k < r->n_methods; k++) {
        const EvalMethod *m = &r->m[k];
        fputs(k ? ",\n  " : "\n  ", f);
        json_str(f, m->label);
        fputs(": {\"kind\": ", f);
        json_str(f, kind_name(m->kind));
        if (m->kind == EVAL_CKPT) fprintf(f, ", \"checkpoint\": %d", m->ckpt);
        if (m->steps >= 0) fprintf(f, ", \"steps\": %d", m->steps);
        json_key_num(f, "mse", m->mse);
        json_key_num(f, "mse_ci95", m->mse_ci95);
        if (r->lp) {
            json_key_num(f, "gap_mean", m->gap_mean);
            json_key_num(f, "gap_mean_ci95", m->gap_mean_ci95);
            json_key_num(f, "gap_median", m->gap_median);
            json_key_num(f, "gap_p95", m->gap_p95);
            json_key_num(f, "gap_max", m->gap_max);
            json_key_num(f, "viol_max_raw", m->viol_max_raw);
            json_key_num(f, "viol_max", m->viol_max);
            json_key_num(f, "feasible_frac", m->feasible_frac);
            json_key_num(f, "gap_mean_unpolished", m->gap0_mean);
            json_key_num(f, "gap_mean_unpolished_ci95", m->gap0_mean_ci95);
            json_key_num(f, "gap_median_unpolished", m->gap0_median);
            json_key_num(f, "gap_p95_unpolished", m->gap0_p95);
            json_key_num(f, "gap_max_unpolished", m->gap0_max);
        }
        json_key_num(f, "latency_us", m->latency_us);
        if (r->lp) json_key_num(f, "speedup_vs_solver", speedup(r, m));
        if (r->lp && isfinite(m->polish_us)) json_key_num(f, "polish_us", m->polish_us);
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
    fputs("},\n \"config\": {\"family\": ", f);
    json_str(f, config_family_name(c->task.family));
    if (r->lp) fprintf(f, ", \"n_demand\": %d, \"n_supply\": %d", c->task.n_demand, c->task.n_supply);
    fprintf(f,
            ", \"tasks\": %d, \"k_support\": %d, \"steps\": %d, \"query\": %d, "
            "\"scratch_steps\": %d, \"seed\": %lld},\n",
            c->eval.tasks, c->eval.k_support, c->eval.steps, c->eval.query, c->eval.scratch_steps,
            (long long)c->seed);
    fprintf(f, " \"ranks\": %d,\n \"checkpoints\": [", r->ranks);
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
    fputs("],\n \"wall_s\": ", f);
    json_num(f, r->wall_s);
    fputs("}\n", f);
    return mg_close_out(f, path, e);
}

int eval_write_tsv(const EvalResult *r, const char *dir, MgErr *e)
{
    char path[2048];
    FILE *f;
    if (r->lp) {
        snprintf(path, sizeof path, "%s/gaps.tsv", dir);
        if (!(f = mg_open_out(path, "w", e))) return e->code;
        int first = 1;
        for (int k = 0; k < r->n_methods; k++) {
            fprintf(f, "%s%s", first ? "" : "\t", r->m[k].label);
            first = 0;
        }
        fputc('\n', f);
        size_t N = (size_t)r->cfg.eval.tasks * (size_t)r->cfg.eval.query;
        for (size_t i = 0; i < N; i++) {
            for (int k = 0; k < r->n_methods; k++)
                fprintf(f, "%s%.9g", k ? "\t" : "", r->m[k].gaps ? r->m[k].gaps[i] : NAN);
            fputc('\n', f);
        }
        if (mg_close_out(f, path, e) != MG_OK) return e->code;
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

/* "1.23 ± 0.04" with a shared scale (%g-ish), or "-" when not finite. */
static void fmt_pm(char *out, size_t n, double v, double ci)
{
    if (isnan(v) || isinf(v)) snprintf(out, n, "diverged");
    else if (isfinite(ci)) snprintf(out, n, "%.4g ± %.2g", v, ci);
    else snprintf(out, n, "%.4g", v);
}

/* Percent with 3 decimals; tiny negatives (solver round-off) print as 0. */
static double pct(double v)
{
    return fabs(100 * v) < 5e-4 ? 0.0 : 100 * v;
}

static void fmt_pct(char *out, size_t n, double v)
{
    if (!isfinite(v)) snprintf(out, n, "-");
    else snprintf(out, n, "%.3f %%", pct(v));
}

static void fmt_g(char *out, size_t n, const char *fmt, double v)
{
    if (!isfinite(v)) snprintf(out, n, "-");
    else snprintf(out, n, fmt, v);
}

/* The table, as markdown (md) or aligned text. */
static void write_table(const EvalResult *r, FILE *f, int md)
{
    static const char *lp_hdr[] = {"method", "gap median", "gap p95", "gap max", "gap mean ± CI",
                                   "feasible", "viol raw", "mse ± CI", "latency µs",
                                   "speedup", "adapt ms", "unpolished med / p95"};
    static const char *sin_hdr[] = {"method", "mse ± CI", "mse step 0", "mse last step",
                                    "adapt ms", "latency µs"};
    int nc = r->lp ? 12 : 6;
    const char **hdr = r->lp ? lp_hdr : sin_hdr;
    char cell[EVAL_MAX_METHODS + 1][12][64];
    for (int j = 0; j < nc; j++) snprintf(cell[0][j], 64, "%s", hdr[j]);
    for (int k = 0; k < r->n_methods; k++) {
        const EvalMethod *m = &r->m[k];
        char(*c)[64] = cell[k + 1];
        snprintf(c[0], 64, "%s", m->label);
        if (r->lp) {
            fmt_pct(c[1], 64, m->gap_median);
            fmt_pct(c[2], 64, m->gap_p95);
            fmt_pct(c[3], 64, m->gap_max);
            if (isfinite(m->gap_mean))
                snprintf(c[4], 64, "%.3f ± %.3f %%", pct(m->gap_mean),
                         isfinite(m->gap_mean_ci95) ? pct(m->gap_mean_ci95) : 0.0);
            else snprintf(c[4], 64, "-");
            fmt_g(c[5], 64, "%.1f %%", 100 * m->feasible_frac);
            fmt_g(c[6], 64, "%.2g", m->viol_max_raw);
            fmt_pm(c[7], 64, m->mse, m->mse_ci95);
            fmt_g(c[8], 64, "%.1f", m->latency_us);
            fmt_g(c[9], 64, "%.0fx", speedup(r, m));
            fmt_g(c[10], 64, "%.2f", m->adapt_ms);
            if (m->kind == EVAL_SOLVER || !isfinite(m->gap0_median)) snprintf(c[11], 64, "-");
            else snprintf(c[11], 64, "%.2f / %.1f %%", pct(m->gap0_median), pct(m->gap0_p95));
        } else {
            fmt_pm(c[1], 64, m->mse, m->mse_ci95);
            fmt_g(c[2], 64, "%.4g", m->n_by_step ? m->mse_by_step[0] : NAN);
            fmt_g(c[3], 64, "%.4g", m->n_by_step ? m->mse_by_step[m->n_by_step - 1] : NAN);
            fmt_g(c[4], 64, "%.2f", m->adapt_ms);
            fmt_g(c[5], 64, "%.1f", m->latency_us);
        }
    }
    /* Column widths in characters (UTF-8 continuation bytes do not count). */
    int w[12] = {0};
    for (int k = 0; k <= r->n_methods; k++)
        for (int j = 0; j < nc; j++) {
            int len = 0;
            for (const char *s = cell[k][j]; *s; s++) len += ((unsigned char)*s & 0xC0) != 0x80;
            if (len > w[j]) w[j] = len;
        }
    for (int k = 0; k <= r->n_methods; k++) {
        for (int j = 0; j < nc; j++) {
            int len = 0;
            for (const char *s = cell[k][j]; *s; s++) len += ((unsigned char)*s & 0xC0) != 0x80;
            fprintf(f, md ? (j ? " %s" : "| %s") : (j ? "  %s" : "%s"), cell[k][j]);
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

void eval_print_table(const EvalResult *r, FILE *f)
{
    const Config *c = &r->cfg;
    fprintf(f, "eval: %s", config_family_name(c->task.family));
    if (r->lp) fprintf(f, " %dx%d", c->task.n_demand, c->task.n_supply);
    fprintf(f, ", %d held-out tasks, K=%d, %d steps, %d query, %d rank%s, %.1f s\n", c->eval.tasks,
            c->eval.k_support, c->eval.steps, c->eval.query, r->ranks, r->ranks > 1 ? "s" : "",
            r->wall_s);
    write_table(r, f, 0);
}

static const EvalMethod *find_kind(const EvalResult *r, int kind)
{
    for (int k = 0; k < r->n_methods; k++)
        if (r->m[k].kind == kind) return &r->m[k];
    return NULL;
}

/* The main comparison number: gap mean for LP, query MSE for sinusoid. */

/* Lower is better: is v (± ci) ahead of the baseline bv (± bci)? Values
 * within 1e-12 of each other (e.g. both at the optimum up to rounding) tie. */
static const char *report_verdict(double v, double ci, double bv, double bci)
{
    if (fabs(v - bv) <= 1e-12 * fmax(1.0, fmax(fabs(v), fabs(bv)))) return "tied";
    if (!(v < bv)) return "NOT ahead";
    if (isfinite(ci) && isfinite(bci) && v + ci < bv - bci) return "ahead";
    return "ahead, within the 95 % CIs";
}

static double score(const EvalResult *r, const EvalMethod *m, double *ci)
{
    *ci = r->lp ? m->gap_mean_ci95 : m->mse_ci95;
    return r->lp ? m->gap_mean : m->mse;
}

void eval_write_goals(const EvalResult *r, FILE *f)
{
    int any = 0;
    const char *what = r->lp ? "mean gap" : "query MSE";
    for (int k = 0; k < r->n_methods; k++) {
        const EvalMethod *m = &r->m[k];
        if (m->kind != EVAL_CKPT || m->algo == ALGO_PRETRAIN) continue;
        any = 1;
        fprintf(f, "Meta-learned `%s`:\n\n", m->label);
        if (r->lp) {
            fprintf(f, "- median gap ≤ 0.5 %%: **%s** (%.3f %%)\n",
                    m->gap_median <= 0.005 ? "met" : "NOT met", 100 * m->gap_median);
            fprintf(f, "- p95 gap ≤ 2 %%: **%s** (%.3f %%)\n",
                    m->gap_p95 <= 0.02 ? "met" : "NOT met", 100 * m->gap_p95);
            fprintf(f, "- 100 %% feasible after repair: **%s** (%.2f %%, largest violation %.2g)\n",
                    m->feasible_frac >= 1.0 ? "met" : "NOT met", 100 * m->feasible_frac,
                    m->viol_max);
            double sp = speedup(r, m);
            fprintf(f, "- ≥ 50× faster than GLPK: **%s** (%.0f×: %.1f µs vs %.1f µs per instance)\n",
                    sp >= 50 ? "met" : "NOT met", sp, m->latency_us, solver_latency(r));
        }
        double ci, v = score(r, m, &ci);
        for (int j = 0; j < r->n_methods; j++) {
            const EvalMethod *b = &r->m[j];
            int base = b->kind == EVAL_NO_ADAPT || b->kind == EVAL_SCRATCH ||
                       b->kind == EVAL_SCRATCH_LONG ||
                       (b->kind == EVAL_CKPT && b->algo == ALGO_PRETRAIN);
            if (!base) continue;
            double bci, bv = score(r, b, &bci);
            if (!isfinite(bv)) {
                fprintf(f, "- ahead of `%s` (%s): **ahead** (%.4g vs non-finite: the baseline "
                           "diverged)\n", b->label, what, v);
                continue;
            }
            const char *verdict = report_verdict(v, ci, bv, bci);
            fprintf(f, "- ahead of `%s` (%s): **%s** (%.4g vs %.4g)", b->label, what, verdict, v,
                    bv);
            if (r->lp && isfinite(m->gap0_mean) && isfinite(b->gap0_mean)) {
                double u = m->gap0_mean, uc = m->gap0_mean_ci95;
                double bu = b->gap0_mean, buc = b->gap0_mean_ci95;
                const char *v0 = report_verdict(u, uc, bu, buc);
                fprintf(f, "; before the polish: **%s** (%.4g vs %.4g)", v0, u, bu);
            }
            fputc('\n', f);
        }
        fputc('\n', f);
    }
    if (!any) fputs("No meta-learned checkpoint (only pretrain) was evaluated.\n\n", f);
}

int eval_write_report(const EvalResult *r, const char *path, const char *plots, MgErr *e)
{
    FILE *f = mg_open_out(path, "w", e);
    if (!f) return e->code;
    const Config *c = &r->cfg;
    fprintf(f, "# Evaluation\n\n");
    fprintf(f, "Task family `%s`", config_family_name(c->task.family));
    if (r->lp) fprintf(f, " (%d demand × %d supply)", c->task.n_demand, c->task.n_supply);
    fprintf(f,
            "; %d held-out tasks from the evaluation stream (disjoint from training), "
            "K = %d support instances per task, %d adaptation steps, %d query %s per task; "
            "seed %lld; %d rank%s; %.1f s.\n\n",
            c->eval.tasks, c->eval.k_support, c->eval.steps, c->eval.query,
            r->lp ? "instances" : "points", (long long)c->seed, r->ranks, r->ranks > 1 ? "s" : "",
            r->wall_s);
    fputs("Checkpoints:\n\n", f);
    for (int i = 0; i < r->n_ckpt; i++)
        fprintf(f, "- `%s`: %s, %lld meta-iterations, %zu meta-parameters\n", r->ckpt[i].path,
                r->ckpt[i].algo, (long long)r->ckpt[i].iter, r->ckpt[i].n_meta);
    fputc('\n', f);
    write_table(r, f, 1);
    fputc('\n', f);
    if (r->lp)
        fputs("Gap: relative optimality gap (cost − GLPK optimum) / optimum of the final "
              "allocation (learned methods: each demand on its most likely supplier under the "
              "network's split, then the feasibility repair, then the cost polish; support_mean: "
              "the same from its split; greedy: the rule, then the polish), over all "
              "query instances of all tasks; ± is the 95 % CI half-width across per-task means. "
              "feasible: share of instances feasible after repair; viol raw: largest relative "
              "constraint violation of the network's allocation before repair. latency: median "
              "time to produce one instance's allocation from its raw data (features + forward pass + argmax decode + repair + polish; "
              "greedy rule + polish; one GLPK dual simplex solve from the standard basis for `solver`), "
              "adaptation excluded and reported per task as adapt ms. speedup: solver latency / "
              "method latency. mse: squared error of the per-demand split fractions against "
              "GLPK's, mean over outputs and query instances. unpolished: the gap "
              "median and p95 of the same allocations before the polish (alloc_polish: slack "
              "moves and 2-row exchanges that never raise cost and keep feasibility).\n\n",
              f);
    else
        fputs("mse: mean squared error on the query points (evenly spaced on [-5, 5], the MAML "
              "evaluation protocol) after adaptation; ± is the 95 % CI half-width across "
              "tasks. mse_by_step in eval.json and mse_by_step.tsv gives it for steps 0 … "
              "eval.steps.\n\n",
              f);
    fputs("## Goals\n\n", f);
    eval_write_goals(r, f);
    const EvalMethod *sc = find_kind(r, EVAL_SCRATCH);
    if (sc) fprintf(f, "`scratch` starts from a random network and takes the same %d plain SGD "
                       "steps; `no_adapt` is the first checkpoint's initialisation as is.%s\n\n",
                    sc->steps,
                    r->lp ? " `support_mean` uses the mean split of the K support instances for "
                            "every query instance (then the same decoding, repair and polish): "
                            "what memorising the "
                            "task's typical allocation gives, without a network. `greedy` fills "
                            "the cheapest arcs first; `solver` is GLPK."
                          : "");
    fputs("## Plots\n\n", f);
    fputs(plots && plots[0] ? plots : "Not made (gnuplot not found); run `tools/plot.sh DIR "
                                      "[RUNDIR...]` where gnuplot is installed.\n",
          f);
    fputc('\n', f);
    return mg_close_out(f, path, e);
}
