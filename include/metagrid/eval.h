/*
 * eval.h — K-shot evaluation on held-out tasks against honest baselines.
 *
 * eval_run draws eval.tasks held-out tasks (task.h, STREAM_EVAL, iter 0),
 * spreads them over the ranks in balanced contiguous blocks and, per task,
 * adapts every method on eval.k_support GLPK-solved instances and measures it
 * on eval.query query instances. Methods, in table order:
 *
 *   one per checkpoint  its own algorithm (learner_adapt) for eval.steps steps;
 *                       label = its algo.name (-2, -3 ... if repeated)
 *   no_adapt            the first checkpoint's θ0, no adaptation
 *   scratch             random θ (learner_init_theta), eval.steps SGD steps
 *   scratch_long        the same for eval.scratch_steps steps (if > 0)
 *   support_mean        the mean of the K support targets as the split of
 *                       every query instance, decoded like the learned
 *                       methods, then repair + polish (LP families): what
 *                       memorising the task's typical allocation achieves
 *   greedy              alloc_greedy, then polish (LP families)
 *   solver              GLPK dual simplex from the standard basis (LP families)
 *
 * Every per-task and per-instance number is written by exactly one rank into
 * a buffer that is zero elsewhere and summed with one allreduce, so results
 * (timings aside) are bit-identical whatever the number of ranks.
 * Aggregates are computed afterwards in task order on every rank.
 *
 * Learned methods on LP families run through policy.h: the adapted θ is
 * frozen once per task (timed into adapt_ms), then per instance from its raw
 * (d, s, c): features, forward pass, decoding (EVAL_SPARSIFY: each demand on
 * its argmax supplier by default), alloc_repair, then alloc_polish
 * (EVAL_POLISH_PASSES) like every heuristic method (support_mean, greedy).
 * Gaps are those of the final allocation against the GLPK optimum; gap0_*
 * (JSON *_unpolished) the same allocation before the polish; viol_max_raw is
 * measured before repair. latency = the whole per-instance path, one
 * instance at a time, median (adaptation excluded); polish_us its polish.
 */
#ifndef METAGRID_EVAL_H
#define METAGRID_EVAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "metagrid/common.h"
#include "metagrid/config.h"

#define EVAL_MAX_CKPT 16
#define EVAL_MAX_METHODS (EVAL_MAX_CKPT + 5)
#define EVAL_LABEL_MAX 64
/* Passes of alloc_polish after every heuristic allocation (learned methods,
 * support_mean, greedy). */
#define EVAL_POLISH_PASSES 2
/* Learned methods and support_mean: fractions below this times their row's
 * largest are dropped before repair (policy.h; 1 = each demand on its
 * argmax supplier, no exp needed; 0 = the plain softmax split). */
#define EVAL_SPARSIFY 1.0

typedef enum {
    EVAL_CKPT = 0,
    EVAL_NO_ADAPT,
    EVAL_SCRATCH,
    EVAL_SCRATCH_LONG,
    EVAL_GREEDY,
    EVAL_SOLVER,
    EVAL_SUPPORT_MEAN
} EvalKind;

/* One row of the table: a method's aggregates over all held-out tasks.
 * Metrics that do not apply are NAN (written as null). */
typedef struct {
    char label[EVAL_LABEL_MAX];
    int kind;          /* EvalKind */
    int ckpt;          /* checkpoint index (EVAL_CKPT), else -1 */
    int algo;          /* AlgoName of the checkpoint (EVAL_CKPT), else -1 */
    int steps;         /* adaptation steps (0 for no_adapt, -1 not adapted) */
    double mse, mse_ci95;              /* mean over tasks of the query MSE */
    double gap_mean, gap_mean_ci95;    /* over all query instances / tasks */
    double gap_median, gap_p95, gap_max;
    double gap0_mean, gap0_median, gap0_p95, gap0_max; /* after repair, before polish */
    double gap0_mean_ci95;
    double polish_us;                  /* median per-instance time in alloc_polish */
    double viol_max_raw, viol_max;     /* largest relative violation */
    double feasible_frac;              /* after repair */
    double latency_us;                 /* median per-instance time */
    double adapt_ms;                   /* mean per-task adaptation time */
    int n_by_step;                     /* 0 or steps + 1 */
    double *mse_by_step;               /* (n_by_step) mean over tasks */
    double *gaps;                      /* (tasks*query) task order; LP only */
} EvalMethod;

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
/* gaps.tsv (one column per LP method, tasks*query rows) and mse_by_step.tsv
 * (step, then one column per method with a curve; blank where shorter). */
int eval_write_tsv(const EvalResult *r, const char *dir, MgErr *e);
void eval_print_table(const EvalResult *r, FILE *f);
/* The goals of the default experiment, one markdown bullet per line. */
void eval_write_goals(const EvalResult *r, FILE *f);

/* Statistics helpers (exposed for the tests). */
/* Linear-interpolated quantile q in [0,1] of sorted v (n >= 1). */
double eval_quantile(const double *sorted, size_t n, double q);
/* Half-width of the 95 % confidence interval of the mean of v (Student t);
 * NAN when n < 2. */
double eval_ci95(const double *v, size_t n);
/* Two-sided 97.5 % quantile of Student's t with df degrees of freedom. */
double eval_t975(int df);

#endif
