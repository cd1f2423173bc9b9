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
 *    improved by PREDICT_CERT_STEPS ascent steps (start: the mean price of
 *    the history hours, or the predicted prices). cert_gap = (cost - bound)
 *    / |bound|. Above eval.tolerance, or if the allocation fails the check,
 *    the hour falls back to GLPK warm-started from the previous solve, whose
 *    optimum is returned (lower_bound = cost, cert_gap = 0).
 * 5. Every returned allocation, rounded to the PREDICT_DIGITS significant
 *    digits allocations.csv holds, is checked (x >= 0, each demand met, each
 *    capacity respected, within 1e-9 relative) before anything is written;
 *    then DIR/allocations.csv, DIR/hours.csv and DIR/summary.json are
 *    written (each to a temporary file renamed into place).
 */
#ifndef METAGRID_PREDICT_H
#define METAGRID_PREDICT_H

#include "metagrid/common.h"

#define PREDICT_CERT_STEPS 3
#define PREDICT_DIGITS 12 /* significant digits of the MW in allocations.csv */

typedef struct {
    const char *checkpoint, *case_path, *history, *hours, *out_dir;
    const char *const *sets; /* KEY=VALUE overrides of the checkpoint's config */
    int nsets;
} PredictOpts;

typedef struct {
    int n_history, n_hours, n_fallback;
    double label_s, adapt_s;             /* GLPK on the history; adaptation */
    double latency_us_median, latency_us_mean; /* per dispatched hour, fallback included */
    double cert_gap_median, cert_gap_max;      /* before fallback */
    double total_cost;                   /* of the returned allocations */
    double tolerance;
} PredictSummary;

/* Run the workflow. MG_EUSAGE (nothing written, DIR not created) on any bad
 * input; MG_EFAIL on a solver or I/O failure. */
int predict_run(const PredictOpts *o, PredictSummary *sum, MgErr *e);

#endif
