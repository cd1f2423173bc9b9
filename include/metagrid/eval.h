/*
 * eval.h — K-shot evaluation on held-out tasks against honest baselines,
 * with per-hour certificates, solver fallback and amortised cost.
 *
 * eval_run draws eval.tasks held-out tasks (task.h, STREAM_EVAL, iter 0),
 * spreads them over the ranks in balanced contiguous blocks and, per task,
 * adapts every method on eval.k_support GLPK-solved hours (the region's
 * history) and measures it on eval.query query hours (later days; task.h).
 * Methods, in table order:
 *
 *   one per checkpoint  its own algorithm (learner_adapt) for eval.steps steps;
 *                       label = its algo.name (-2, -3 ... if repeated)
 *   no_adapt            the first checkpoint's θ0, no adaptation
 *   scratch             random θ (learner_init_theta), eval.steps SGD steps
 *   scratch_long        the same for eval.scratch_steps steps (if > 0)
 *   LP families only:
 *   support_mean        the mean optimal split of the K support hours, each
 *                       demand on its largest share (as the learned methods)
 *   greedy              alloc_greedy (cheapest arcs first)
 *   nearest             the optimal split of the support hour nearest in
 *                       (d, s) features, scaled to the hour's demands
 *   support_duals       cert_decode of the nearest support hour's GLPK prices
 *   solver              GLPK dual simplex from the standard basis
 *   solver_warm         GLPK dual simplex from the previous solve's basis (the
 *                       last support hour for the first query hour): exact
 *
 * Per query hour and heuristic method (the same for all): propose, then
 * alloc_repair (feasible), then eval.polish passes of alloc_polish (default
 * 0), then the certificate: the Lagrangian bound (cert.h) of the method's own
 * prices (price-head checkpoints, support_duals, the solvers' duals) or else
 * of the nearest support hour's prices; when the certified gap
 * (cost - bound) / |bound| exceeds eval.tolerance, up to EVAL_ASCENT_STEPS
 * cert_ascent steps; if still above, the hour is re-solved by a warm GLPK
 * solver (fallback; its basis starts from the task's last support hour).
 * latency = the whole path, one hour at a time, certificate and fallback
 * included. gap_* are measured before the fallback (the method's own
 * quality); *_after_fallback after it.
 *
 * Every per-task and per-hour number is written by exactly one rank into a
 * buffer that is zero elsewhere and summed with one allreduce, so results
 * (timings aside) are bit-identical whatever the number of ranks.
 * Aggregates are computed afterwards in task order on every rank.
 */
#ifndef METAGRID_EVAL_H
#define METAGRID_EVAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "metagrid/common.h"
#include "metagrid/config.h"

#define EVAL_MAX_CKPT 16
#define EVAL_MAX_METHODS (EVAL_MAX_CKPT + 11)
#define EVAL_LABEL_MAX 64
/* Learned methods and support_mean: fractions below this times their row's
 * largest are dropped before repair (policy.h; 1 = each demand on its
 * argmax supplier, no exp needed; 0 = the plain softmax split). */
#define EVAL_SPARSIFY 1.0
/* Polish passes of `metagrid predict` (predict.c); eval uses eval.polish. */
#define EVAL_POLISH_PASSES 2
/* cert_ascent steps for an hour whose first certificate is above tolerance. */
#define EVAL_ASCENT_STEPS 5
/* A bound above the GLPK optimum by more than this (relative) is invalid. */
#define EVAL_BOUND_TOL 1e-9

typedef enum {
    EVAL_CKPT = 0,
    EVAL_NO_ADAPT,
    EVAL_SCRATCH,
    EVAL_SCRATCH_LONG,
    EVAL_GREEDY,
    EVAL_SOLVER,
    EVAL_SUPPORT_MEAN,
    EVAL_NEAREST,
    EVAL_SUPPORT_DUALS,
    EVAL_SOLVER_WARM,
    EVAL_SIMPLEX_WARM,   /* transport.h from the previous hour's optimal prices: exact */
    EVAL_SIMPLEX_NEAREST /* transport.h from the nearest support hour's prices: exact */
} EvalKind;

/* The exact methods (GLPK and the transportation simplex): no proposal to
 * certify, never a fallback. */
#define EVAL_KIND_EXACT(k) ((k) == EVAL_SOLVER || (k) == EVAL_SOLVER_WARM || \
                            (k) == EVAL_SIMPLEX_WARM || (k) == EVAL_SIMPLEX_NEAREST)

/* Per-hour values of one method, (tasks*query) each, task order (LP only). */
typedef struct {
    double *gap;      /* final allocation (after repair and eval.polish), before fallback */
    double *gap0;     /* the same before the polish */
    double *cost;     /* cost returned after any fallback */
    double *lb;       /* the certificate's lower bound */
    double *cert_gap; /* (cost before fallback - lb) / |lb| */
    double *fallback; /* 1 if re-solved by the warm solver */
    double *lat;      /* seconds for the hour, certificate and fallback included */
} EvalHours;

/* One row of the table: a method's aggregates over all held-out tasks.
 * Metrics that do not apply are NAN (written as null). */
typedef struct {
    char label[EVAL_LABEL_MAX];
    int kind;          /* EvalKind */
    int ckpt;          /* checkpoint index (EVAL_CKPT), else -1 */
    int algo;          /* AlgoName of the checkpoint (EVAL_CKPT), else -1 */
    int steps;         /* adaptation steps (0 for no_adapt, -1 not adapted) */
    int learned;       /* a network (checkpoint, no_adapt, scratch*) */
    int prices;        /* has its own capacity prices */
    double mse, mse_ci95;              /* mean over tasks of the query loss */
    double gap_mean, gap_mean_ci95;    /* over all query hours / tasks */
    double gap_median, gap_p95, gap_max;
    double gap0_mean, gap0_median, gap0_p95, gap0_max; /* after repair, before polish */
    double gap0_mean_ci95;
    double polish_us;                  /* median per-hour time in alloc_polish */
    double viol_max_raw, viol_max;     /* largest relative violation */
    double feasible_frac;              /* after repair */
    double cert_gap_median, cert_gap_p95, cert_gap_max;
    double certified_frac, fallback_frac, gap_max_after_fallback, gap_mean_after_fallback;
    int invalid_bounds;                /* hours with lower_bound > opt (must be 0) */
    double latency_us, latency_mean_us; /* per hour, certificate and fallback included */
    double propose_us;                 /* median per hour before certificate / fallback */
    double adapt_ms;                   /* mean per-task adaptation time */
    double setup_ms;                   /* mean per task: support solves + adaptation */
    double cost_per_hour_us, break_even_hours;
    int n_by_step;                     /* 0 or steps + 1 */
    double *mse_by_step;               /* (n_by_step) mean over tasks */
    double *gaps;                      /* (tasks*query) = hours.gap; LP only */
    double *task_gap, *task_gap0;      /* (tasks) per-task mean gaps; LP only */
    EvalHours hours;                   /* LP only (owned) */
} EvalMethod;

/* One paired comparison: a - b of per-task mean gaps. */
typedef struct {
    int a, b;          /* method indices */
    const char *metric; /* "gap_mean" or "gap_mean_unpolished" */
    double mean_diff, lo, hi;
    int n_tasks;
} EvalPaired;
#define EVAL_MAX_PAIRED (EVAL_MAX_CKPT * 10 * 2)

typedef struct {
    char path[1024];
    char algo[32];
    int64_t iter;
    size_t n_meta;
} EvalCkptInfo;

typedef struct {
    Config cfg;        /* the evaluation config */
    int ranks;
    int lp;            /* LP family (gap metrics apply) */
    int n_ckpt;
    EvalCkptInfo ckpt[EVAL_MAX_CKPT];
    int n_methods;
    EvalMethod m[EVAL_MAX_METHODS];
    double *opt;       /* (tasks*query) GLPK optimum of every query hour; LP only */
    int n_paired;
    EvalPaired paired[EVAL_MAX_PAIRED];
    double wall_s;
} EvalResult;

/*
 * Run the evaluation (collective: every rank calls it with the same
 * arguments). cfg is the evaluation config (CONFIG + --set); paths are the
 * checkpoint files. A checkpoint that cannot be read, or whose task family or
 * sizes differ from cfg, is MG_EUSAGE naming the file. The error is agreed
 * over ranks before returning. r is filled on every rank; free with
 * eval_result_free.
 */
int eval_run(const Config *cfg, const char *const *paths, int n_paths, EvalResult *r,
             MgErr *e);
void eval_result_free(EvalResult *r);

/* eval_report.c: the files eval writes (root only) and the stdout table. */
int eval_write_json(const EvalResult *r, const char *path, MgErr *e);
int eval_write_report(const EvalResult *r, const char *path, const char *plots, MgErr *e);
/* gaps.tsv (one column per LP method, tasks*query rows), hours.tsv (LP: one
 * row per method, task and query hour: method task hour cost opt lower_bound
 * cert_gap fallback latency_us gap gap_unpolished) and mse_by_step.tsv (step,
 * then one column per method with a curve; blank where shorter). */
int eval_write_tsv(const EvalResult *r, const char *dir, MgErr *e);
void eval_print_table(const EvalResult *r, FILE *f);
/* The goals of the default experiment, one markdown bullet per line. */
void eval_write_goals(const EvalResult *r, FILE *f);

/* Statistics helpers (exposed for the tests). */
/* Linear-interpolated quantile q in [0,1] of sorted v (n >= 1). */
double eval_quantile(const double *sorted, size_t n, double q);
/* Median of v (n), sorting v in place (NaN last). */
double eval_median(double *v, size_t n);
/* Half-width of the 95 % confidence interval of the mean of v (Student t);
 * NAN when n < 2. */
double eval_ci95(const double *v, size_t n);
/* Two-sided 97.5 % quantile of Student's t with df degrees of freedom. */
double eval_t975(int df);
/* Per-method aggregates and the paired comparisons (eval_stats.c; called by
 * eval_run once the per-hour columns are complete). */
void eval_aggregate_paired(EvalResult *r);
/* Mean of d (n) and its Student-t 95 % interval [lo, hi] (NAN when n < 2). */
void eval_mean_ci(const double *d, size_t n, double *mean, double *lo, double *hi);
/* The first horizon H >= 1 at which setup_a + H lat_a < setup_b + H lat_b,
 * or NAN if none (all in the same unit). */
double eval_break_even(double setup_a, double lat_a, double setup_b, double lat_b);

#endif
