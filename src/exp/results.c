/*
 * results.c — the tables of results.h and the check of a sweep metric
 * against them.
 */
#include "metagrid/results.h"

#include <stdio.h>
#include <string.h>

#include "metagrid/schema.h"

const ResultField results_metrics_fields[] = {
    {"iter", 0, "meta-iterations completed"},
    {"meta_loss", 0, "mean meta-loss of the iteration's tasks"},
    {"wall_s", 0, "training wall time so far"},
    {"tasks_per_s", 0, "tasks per second since the last line"},
    {"grad_norm", 0, "L2 norm of the meta-gradient before clipping"},
    {"lp_iters", 0, "simplex iterations of the iteration, all ranks"},
    {"val_loss", 0, "validation loss (only when train.val_every > 0)"},
    {NULL, 0, NULL},
};

const ResultField results_eval_fields[] = {
    {"mse", 0, "query mean squared error"},
    {"mse_ci95", 0, "half-width of its 95 % CI over tasks"},
    {"steps", 0, "adaptation steps"},
    {"latency_us", 0, "median per-instance time"},
    {"adapt_ms", 0, "adaptation time per task"},
    {"gap_mean", 1, "mean relative optimality gap"},
    {"gap_mean_ci95", 1, "half-width of its 95 % CI over tasks"},
    {"gap_median", 1, NULL},
    {"gap_p95", 1, NULL},
    {"gap_max", 1, NULL},
    {"viol_max_raw", 1, "largest constraint violation before repair"},
    {"viol_max", 1, "after repair"},
    {"feasible_frac", 1, NULL},
    {"gap_mean_unpolished", 1, NULL},
    {"gap_mean_unpolished_ci95", 1, NULL},
    {"gap_median_unpolished", 1, NULL},
    {"gap_p95_unpolished", 1, NULL},
    {"gap_max_unpolished", 1, NULL},
    {"speedup_vs_solver", 1, NULL},
    {"polish_us", 1, NULL},
    {"cert_gap_median", 1, "certified relative gap before fallback"},
    {"cert_gap_p95", 1, NULL},
    {"cert_gap_max", 1, NULL},
    {"certified_frac", 1, NULL},
    {"fallback_frac", 1, NULL},
    {"gap_max_after_fallback", 1, NULL},
    {"latency_mean_us", 1, NULL},
    {"cost_per_hour_us", 1, NULL},
    {"break_even_hours", 1, NULL},
    {"gap_mean_after_fallback", 1, NULL},
    {"invalid_bounds", 1, "hours whose lower bound exceeds the optimum (must be 0)"},
    {"propose_us", 1, "median per-hour time before the certificate"},
    {"setup_ms", 1, "per task: support solves + adaptation"},
    {"speedup_vs_solver_warm", 1, NULL},
    {NULL, 0, NULL},
};

const ResultField results_eval_labels[] = {
    {"no_adapt", 0, NULL},
    {"scratch", 0, NULL},
    {"scratch_long", 0, "only when eval.scratch_steps > 0"},
    {"support_mean", 1, NULL},
    {"greedy", 1, NULL},
    {"solver", 1, NULL},
    {"solver_warm", 1, NULL},
    {"nearest", 1, NULL},
    {"support_duals", 1, NULL},
    {"simplex_warm", 1, NULL},
    {"simplex_nearest", 1, NULL},
    {NULL, 0, NULL},
};

const ResultField results_eval_top[] = {
    {"wall_s", 0, NULL},
    {"ranks", 0, NULL},
    {NULL, 0, NULL},
};

static const ResultField *find(const ResultField *t, const char *name, size_t len)
{
    for (; t->name; t++)
        if (strlen(t->name) == len && !memcmp(t->name, name, len)) return t;
    return NULL;
}

/* Every valid metric name for c, into names[] (strings in buf). */
static int all_names(const Config *c, char (*buf)[96], const char **names, int max)
{
    int n = 0, lp = c->task.family != FAMILY_SINUSOID;
    for (const ResultField *f = results_metrics_fields; f->name && n < max; f++)
        snprintf(buf[n], 96, "%s", f->name), names[n] = buf[n], n++;
    for (const ResultField *f = results_eval_top; f->name && n < max; f++)
        snprintf(buf[n], 96, "%s", f->name), names[n] = buf[n], n++;
    for (int l = -1; l < 0 || results_eval_labels[l].name; l++) {
        const char *label = l < 0 ? config_algo_name(c->algo.name) : results_eval_labels[l].name;
        if (l >= 0 && results_eval_labels[l].lp_only && !lp) continue;
        for (const ResultField *f = results_eval_fields; f->name && n < max; f++) {
            if (f->lp_only && !lp) continue;
            snprintf(buf[n], 96, "methods.%s.%s", label, f->name);
            names[n] = buf[n];
            n++;
        }
    }
    return n;
}

static int fail(const char *metric, const Config *c, const char *why, char *prob, size_t nprob)
{
    enum { MAX = 512 };
    static char buf[MAX][96];
    static const char *names[MAX];
    int n = all_names(c, buf, names, MAX);
    const char *near = schema_nearest(metric, names, n);
    if (near)
        snprintf(prob, nprob, "'%.100s' %s (did you mean '%s'?)", metric, why, near);
    else
        snprintf(prob, nprob, "'%.100s' %s (e.g. meta_loss, val_loss, methods.{algo}.%s)", metric,
                 why, c->task.family == FAMILY_SINUSOID ? "mse" : "gap_mean");
    return -1;
}

int results_check_metric(const char *metric, const Config *c, char *prob, size_t nprob)
{
    int lp = c->task.family != FAMILY_SINUSOID;
    const char *fam = config_family_name(c->task.family);
    if (!strchr(metric, '.')) {
        const ResultField *f = find(results_metrics_fields, metric, strlen(metric));
        if (!f) f = find(results_eval_top, metric, strlen(metric));
        if (!f) return fail(metric, c, "is not a metrics.jsonl key", prob, nprob);
        if (!strcmp(metric, "val_loss") && c->train.val_every <= 0) {
            snprintf(prob, nprob, "val_loss is only written when train.val_every > 0 "
                                  "(set it in the base config or as a parameter)");
            return -1;
        }
        return 0;
    }
    if (strncmp(metric, "methods.", 8) != 0)
        return fail(metric, c, "is not an eval.json path (methods.LABEL.FIELD)", prob, nprob);
    const char *label = metric + 8, *dot = strchr(label, '.');
    if (!dot) return fail(metric, c, "names no field (methods.LABEL.FIELD)", prob, nprob);
    const char *field = dot + 1;
    size_t ll = (size_t)(dot - label);
    const ResultField *F = find(results_eval_fields, field, strlen(field));
    if (!F) return fail(metric, c, "is not an eval.json field", prob, nprob);
    const char *algo = config_algo_name(c->algo.name);
    const ResultField *L = find(results_eval_labels, label, ll);
    if (!L && !(strlen(algo) == ll && !memcmp(algo, label, ll))) {
        for (int a = 0; a < 8; a++) {
            const char *an = config_algo_name(a);
            if (strcmp(an, "?") && strlen(an) == ll && !memcmp(an, label, ll)) {
                snprintf(prob, nprob, "'%.100s': this trial trains %s, so eval.json has methods.%s, "
                         "not methods.%.*s (write methods.{algo}.%s)", metric, algo, algo,
                         (int)ll, label, field);
                return -1;
            }
        }
        return fail(metric, c, "names no method of eval.json", prob, nprob);
    }
    if ((F->lp_only || (L && L->lp_only)) && !lp) {
        snprintf(prob, nprob, "'%.100s' is written for the LP families only, not for %s "
                 "(e.g. methods.{algo}.mse)", metric, fam);
        return -1;
    }
    if (L && !strcmp(L->name, "scratch_long") && c->eval.scratch_steps <= 0) {
        snprintf(prob, nprob, "'%.100s': scratch_long is only evaluated when eval.scratch_steps > 0",
                 metric);
        return -1;
    }
    return 0;
}
