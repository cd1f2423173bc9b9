/*
 * results.h — the names of what `train` and `eval` write, in one place:
 * the keys of a metrics.jsonl line and the method labels and per-method
 * fields of eval.json. Sweeps validate their metric against these tables
 * before anything runs (sweep.c); tests/e2e_sweep_names.sh checks that every
 * field a real eval.json holds is listed here. A new field in eval.json or
 * metrics.jsonl is one row here.
 */
#ifndef METAGRID_RESULTS_H
#define METAGRID_RESULTS_H

#include <stddef.h>

#include "metagrid/config.h"

typedef struct {
    const char *name;
    int lp_only;      /* written for the LP families only (not sinusoid) */
    const char *desc;
} ResultField;

/* NULL-ended tables. */
extern const ResultField results_metrics_fields[];  /* a metrics.jsonl line */
extern const ResultField results_eval_fields[];     /* eval.json methods.LABEL.FIELD */
extern const ResultField results_eval_labels[];     /* eval.json baseline labels */
extern const ResultField results_eval_top[];        /* eval.json top-level numbers */

/*
 * Is `metric` (a sweep metric name, "{algo}" already replaced) written for
 * a run of config c, whose checkpoint label is its algo.name? 0 yes; else -1
 * and a phrase in prob naming the problem and the nearest valid name, e.g.
 * "'methods.maml.gap_meen' is not an eval.json field (did you mean
 * 'methods.maml.gap_mean'?)".
 */
int results_check_metric(const char *metric, const Config *c, char *prob, size_t nprob);

#endif
