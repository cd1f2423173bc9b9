/* mlp_ref.h — the test reference for the MLP (tests/mlp_ref.c); not in the binary. */
#ifndef MG_TESTS_MLP_REF_H
#define MG_TESTS_MLP_REF_H
#include "metagrid/mlp.h"

/* Naive references (tests/mlp_ref.c): per-row triple loops, no BLAS, no cache.
 * out receives the head's prediction (outputs or fractions); grad is
 * overwritten with dL/dtheta; returns the loss. */
double mlp_ref_loss_grad(const MlpLayout *lay, const double *theta, const double *x,
                         const double *y, int k, double *out /*(k,out) or NULL*/,
                         double *grad /*(n_params) or NULL*/);

#endif
