/*
 * gate.h — the gating network of the `gated` algorithm (see src/meta/gate.c for
 * the design argument).
 *
 * At inner step t the gate reads a context c_t computed from the task's
 * support loss and gradient at theta_t and outputs one step size per
 * network tensor (W_l and b_l of every layer):
 *   c_t   = [ log(L_s + EPS_L),  0.5 log(|g_{t,j}|^2 + EPS_G^2)  for j = 0..2L-1 ]
 *   a     = tanh(W1 c_t + b1)          (hidden, algo.gate.hidden units)
 *   o     = W2 a + b2                  (2L outputs)
 *   gamma = inner_lr * 2 sigmoid(o)    (in (0, 2 inner_lr); inner_lr at o = 0)
 * and theta_{t+1} = theta_t - gamma_j * step_t on tensor j. The gate's
 * parameters phi = [W1 (H, C) | b1 (H) | W2 (2L, H) | b2 (2L)].
 */
#ifndef METAGRID_GATE_H
#define METAGRID_GATE_H

#include <stddef.h>
#include <stdint.h>

#include "metagrid/common.h"
#include "metagrid/mlp.h"

#define GATE_EPS_L 1e-12 /* loss floor inside the log */
#define GATE_EPS_G 1e-8  /* gradient-norm floor inside the log */

typedef struct {
    int n_ctx;       /* C = 1 + n_out */
    int hidden;      /* H */
    int n_out;       /* 2L, one per network tensor */
    double lr;       /* inner_lr: gamma = lr * 2 sigmoid(o) */
    size_t w1, b1, w2, b2, n_params;
} GateLayout;

int gate_layout_init(GateLayout *g, const MlpLayout *net, int hidden, double lr, MgErr *e);

/* phi: W1 Xavier-uniform, W2 small uniform (+-0.1/sqrt(H)), zero biases. */
void gate_init_params(const GateLayout *g, double *phi /*(n_params)*/, uint64_t seed);

/* Context of one inner step (see above) from the support loss and gradient. */
void gate_context(const MlpLayout *net, double loss, const double *grad /*(n_theta)*/,
                  double *ctx /*(C)*/);

/* gamma (n_out) and the hidden activations hid (H) kept for the backward. */
void gate_forward(const GateLayout *g, const double *phi, const double *ctx /*(C)*/,
                  double *hid /*(H)*/, double *gamma /*(n_out)*/);

/* Given gbar = dLoss/dgamma (n_out): dphi += dLoss/dphi, cbar = dLoss/dctx. */
void gate_backward(const GateLayout *g, const double *phi, const double *ctx, const double *hid,
                   const double *gamma, const double *gbar /*(n_out)*/, double *dphi,
                   double *cbar /*(C)*/);

/* The adjoint of gate_context: with cbar = dLoss/dctx, the context's
 * contribution to dLoss/dtheta is  cbar_0 / (L_s + EPS_L) * grad  (added to
 * lam)  +  H(theta) r, where r (added to) holds per tensor j
 * cbar_{1+j} * g_j / (|g_j|^2 + EPS_G^2). The caller applies H with mlp_hvp. */
void gate_context_backward(const MlpLayout *net, double loss, const double *grad,
                           const double *cbar, double *lam /*(n_theta)*/,
                           double *r /*(n_theta)*/);

#endif
