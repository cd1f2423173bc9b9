/*
 * adam.h — the meta-optimizer: Adam with bias correction and optional
 * global-norm gradient clipping, over the flat meta-parameter block.
 */
#ifndef METAGRID_ADAM_H
#define METAGRID_ADAM_H

#include <stddef.h>
#include <stdint.h>

#define ADAM_BETA1 0.9
#define ADAM_BETA2 0.999
#define ADAM_EPS 1e-8

/* Scale g (n) so its L2 norm is at most max_norm (0: no clipping).
 * Returns the norm before clipping. */
double adam_clip(double *g, size_t n, double max_norm);

/* One Adam step: t is the step count before this step (0 at the start) and
 * is incremented. p, g, m, v: (n). Deterministic, element-wise. */
void adam_step(double *p, const double *g, double *m, double *v, size_t n,
               double lr, uint64_t *t);

#endif
