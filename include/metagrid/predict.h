/*
 * predict.h — the operator workflow (src/exp/predict.c): `metagrid predict
 * CHECKPOINT --case CASE.m --history HIST.csv --hours HOURS.csv --out DIR`.
 *
 * 1. Inputs, all checked before anything is written: the checkpoint (its
 *    embedded config, then --set overrides), the case (its loads x
 *    generators must be the checkpoint's n_demand x n_supply), the two CSV
 *    files (hours.h).
 * 2. Label: HIST's hours are solved with GLPK (warm-started along the
 *    history), giving the support set (features, targets, capacity prices).
 * 3. Adapt: eval.steps steps of the checkpoint's own adaptation rule.
 * 4. Dispatch each hour of HOURS: the adapted network's allocation (policy.h
 *    for the allocation head: features, forward, argmax decode, repair,
 *    polish; cert_decode of the predicted prices for the price head), then
 *    its certificate: a Lagrangian lower bound (cert.h) from capacity prices
 *    (allocation head: the best, for this hour, of the history hours' GLPK
 *    prices and the last solve's; price head: the predicted prices), after
 *    PREDICT_CERT_STEPS ascent steps. cert_gap = (cost - bound)
 *    / |bound|. Above eval.tolerance, or if the allocation fails the check,
 *    the hour falls back to GLPK warm-started from the previous solve, whose
 *    optimum is returned (lower_bound = cost, cert_gap = 0).
 *    With compare, every hour is also solved by GLPK warm-started from the
 *    previous hour (its own solver, started on the last history hour) and
 *    cold, timed, for the true gaps and the latency ratios (summary.json).
 * 5. Every returned allocation, rounded to the PREDICT_DIGITS significant
 *    digits allocations.csv holds, is checked (x >= 0, each demand met, each
 *    capacity respected, within 1e-9 relative) before anything is written;
 *    then DIR/allocations.csv, DIR/hours.csv and DIR/summary.json are
 *    written (each to a temporary file renamed into place).
 */
#ifndef METAGRID_PREDICT_H
#define METAGRID_PREDICT_H

#include "metagrid/common.h"

/* Ascent steps on the certificate's prices. 0: one ascent step costs about
 * 10 ms on case300 (191 x 57), more than a warm-started GLPK solve, while the
 * best known price vector already bounds within ~0.1 % there. */
#define PREDICT_CERT_STEPS 0
#define PREDICT_DIGITS 12 /* significant digits of the MW in allocations.csv */

typedef struct {
    const char *checkpoint, *case_path, *history, *hours, *out_dir;
    const char *const *sets; /* KEY=VALUE overrides of the checkpoint's config */
    int nsets;
    int compare;             /* also time GLPK per hour (warm and cold) and the true gaps */
} PredictOpts;

typedef struct {
    int n_history, n_hours, n_fallback;
    double label_s, adapt_s;             /* GLPK on the history; adaptation */
    double latency_us_median, latency_us_mean; /* per dispatched hour, fallback included */
    double learned_us_median;            /* the learned path and its certificate alone */
    double cert_gap_median, cert_gap_max;      /* before fallback */
    double total_cost;                   /* of the returned allocations */
    double tolerance;
    /* with compare: GLPK per dispatched hour in the same process, warm-started
     * from the previous hour's basis (solver_warm) and cold (solver), and the
     * returned allocations' true relative gaps to the optimum */
    double warm_us_median, warm_us_mean, cold_us_median, cold_us_mean;
    double gap_mean, gap_max;
    double learned_gap_mean; /* the learned allocations' true gap, before fallback */
    double bound_gap_mean;   /* (opt - lower bound) / opt of the certificates */
} PredictSummary;

/* Run the workflow. MG_EUSAGE (nothing written, DIR not created) on any bad
 * input; MG_EFAIL on a solver or I/O failure. */
int predict_run(const PredictOpts *o, PredictSummary *sum, MgErr *e);

#endif
