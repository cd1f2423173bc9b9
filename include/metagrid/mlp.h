/*
 * mlp.h — the multilayer perceptron: layout, batched forward / backward on
 * small-matrix kernels (kernels.h), Hessian-vector products, and the two
 * output heads.
 *
 * Network: sizes[0] = in -> sizes[1..L-1] hidden -> sizes[L] = out, with
 * act (relu | tanh) on the hidden layers and a linear last layer.
 *
 * Parameters: one flat block theta (n_params) described by one layout table:
 * for each layer l = 0..L-1, W_l (sizes[l+1], sizes[l]) row-major at w_off[l]
 * then b_l (sizes[l+1]) at b_off[l]. Gradients, HVPs, optimizer state,
 * checkpoints and the allreduce all use the same layout.
 *
 * Heads and losses (lay->loss, LossName; N = k * out):
 *   group == 0  linear head, L = (1/N) sum_{r,o} (out_ro - y_ro)^2   (mse only)
 *   group == m  allocation head: out is (k, n*m) logits z, per demand row i
 *               p_ij = softmax_j(z_ij) over its m supplies (y: target fractions)
 *     mse       L = (1/N) sum_{r,i,j} (p_rij - y_rij)^2
 *     xent      L = -(1/(k n)) sum_{r,i,j} y_rij log p_rij, the mean over the
 *               k n demand rows of each row's cross-entropy. With s_ri =
 *               sum_j y_rij (= 1 for target fractions) the exact derivatives
 *               w.r.t. the row's logits are
 *                 dL/dz   = (s p - y) / (k n)
 *                 d2L/dz2 = s (diag(p) - p p^T) / (k n)
 *               (so the formulas hold for any y >= 0; the tests use both).
 *               log p is taken as z - max z - log sum exp(z - max z), so
 *               the loss stays finite when some p underflow to 0.
 *   prices      price head (mlp_layout_set_prices; group == 0): out is (k, m)
 *               raw z, the prices are lam = softplus(z) = log(1 + e^z) >= 0
 *               (smooth; lam' = sigma(z), lam'' = sigma (1 - sigma)), in units
 *               of the instance's mean cost. Target rows y (k, y_dim), y_dim =
 *               2m + 1 + n + n*m, laid out as (MLP_PY_* offsets)
 *                 [0, m)          lam*_j / cbar  (GLPK capacity duals, scaled)
 *                 [m]             opt / Z
 *                 [m+1, +n)       a_i = cbar d_i / Z
 *                 [m+1+n, +m)     b_j = cbar s_j / Z
 *                 [2m+1+n, +n*m)  ct_ij = c_ij / cbar
 *               with cbar the mean cost and Z the optimal cost (task.c), so
 *               that a row's (soft) Lagrangian bound in these units is
 *                 gt(lam) = sum_i a_i smin_j(ct_ij + lam_j) - sum_j b_j lam_j
 *               = g(cbar lam) / Z, and opt/Z - gt is the bound's relative gap.
 *     mse       L = (1/(k m)) sum (lam - lam* / cbar)^2
 *     lagrangian  L = (1/k) sum_rows (opt/Z - gt(lam)), smin the soft-min
 *               smin(v) = -tau log sum_j exp(-v_j / tau) <= min_j v_j
 *               (tau = lay->temp; tau = 0: the exact min), so every soft
 *               bound is a valid lower bound and L >= the exact bound's gap.
 *               With pi_i = softmax_j(-(ct_i + lam)/tau) (tau = 0: one-hot
 *               on the first argmin): dL/dlam = (b - sum_i a_i pi_i) / k
 *               (supply minus soft use), d2L/dlam2 = sum_i a_i (diag pi_i -
 *               pi_i pi_i^T) / (tau k) (0 for tau = 0), both chained through
 *               the softplus.
 *
 * Calling pattern (llm.c style, all buffers caller-owned):
 *   mlp_forward   fills a cache with the activations of k rows
 *   mlp_backward  reads the cache, stores the backward signals in it and
 *                 ACCUMULATES scale * grad L into grad (mlp_grad: the same,
 *                 but OVERWRITES grad)
 *   (y is always (k, lay->y_dim): = out except for the price head)
 *   mlp_hvp       reads a cache on which forward and backward ran and
 *                 ACCUMULATES scale * H v into hv (forward-over-reverse,
 *                 Pearlmutter's R-operator: about two forward+backward costs)
 */
#ifndef METAGRID_MLP_H
#define METAGRID_MLP_H

#include <stddef.h>

#include "metagrid/common.h"

/* The NN layer stands alone: the model's settings arrive as these plain
 * values (the meta layer maps the config's model.* keys onto them). */
#define MLP_MAX_HIDDEN 8
#define MLP_MAX_LAYERS (MLP_MAX_HIDDEN + 1)
typedef enum { MLP_ACT_RELU = 0, MLP_ACT_TANH = 1 } MlpActivation;
typedef enum { MLP_LOSS_MSE = 0, MLP_LOSS_XENT = 1, MLP_LOSS_LAGRANGIAN = 2 } MlpLoss;

typedef struct {
    int n_layers;                  /* L = weight layers = hidden + 1 */
    int sizes[MLP_MAX_LAYERS + 1]; /* sizes[0] = in, sizes[L] = out */
    int act;                       /* MlpActivation (hidden layers) */
    int group;                     /* 0 = linear head, m = softmax groups of m */
    int loss;                      /* MlpLoss: MLP_LOSS_MSE (default), _XENT, _LAGRANGIAN */
    int prices;                    /* 1: the price head (group == 0, out = m prices) */
    int n_demand;                  /* price head: n (target row layout) */
    int y_dim;                     /* target width per row: out, or 2m+1+n+n*m (prices) */
    double temp;                   /* price head, lagrangian: soft-min temperature */
    int anchor;                    /* price head: the last m inputs are anchor prices */
    size_t w_off[MLP_MAX_LAYERS];  /* W_l (sizes[l+1], sizes[l]) */
    size_t b_off[MLP_MAX_LAYERS];  /* b_l (sizes[l+1]) */
    size_t n_params;
    int max_width;                 /* max over sizes[] */
} MlpLayout;

/* Activations and backward signals of one batch of rows. Layer index l runs
 * 0..L: h[0] is the input (not owned), h[l] (k, sizes[l]) the post-activation
 * of layer l (h[L] = the raw outputs / logits). d[l] (k, sizes[l]) is dL/dz_l,
 * gh[l] (k, sizes[l]) dL/dh_l for hidden l (filled for tanh only: relu fuses
 * it away). rh, rd, rgh are R-pass buffers. dscale: the scale of the last
 * backward pass on this cache (d[] carries it). */
typedef struct {
    int cap, k;
    const double *h0;                /* (k, sizes[0]) input rows, borrowed */
    double *h[MLP_MAX_LAYERS + 1];   /* h[0] unused (== h0) */
    double *p;                       /* (k, out) softmax fractions (group > 0), prices (price head) */
    double *d[MLP_MAX_LAYERS + 1];
    double *gh[MLP_MAX_LAYERS + 1];
    double *rh[MLP_MAX_LAYERS + 1];  /* R{h_l} */
    double *rd, *rgh;                /* (k, max_width) R{d}, R{dL/dh} scratch */
    double *wt[MLP_MAX_LAYERS];      /* (sizes[l], sizes[l+1]) W_l^T of the last forward */
    double *vt;                      /* W-sized scratch for V_l^T (mlp_hvp) */
    double dscale;
    double *block;                   /* the one allocation behind all of them */
} MlpCache;

/* Fill a layout. hidden[0..n_hidden) widths, act, group (0 or m with
 * out % m == 0). Returns MG_OK or MG_EUSAGE with e filled. */
int mlp_layout_init(MlpLayout *lay, int in, const int *hidden, int n_hidden, int out,
                    int act, int group, MgErr *e);

/* Choose the loss (MLP_LOSS_MSE, the default after mlp_layout_init,
 * MLP_LOSS_XENT or MLP_LOSS_LAGRANGIAN). xent needs the allocation head (group > 0), lagrangian
 * the price head: MG_EUSAGE else. */
int mlp_layout_set_loss(MlpLayout *lay, int loss, MgErr *e);

/* Make the head a price head for n demand points (out = m prices, group
 * must be 0), soft-min temperature temp >= 0 (lagrangian loss). Sets y_dim.
 * MG_EUSAGE on bad arguments. Call before mlp_layout_set_loss. */
int mlp_layout_set_prices(MlpLayout *lay, int n, double temp, MgErr *e);

/* Anchor the price head (mlp_layout_set_prices first): the last m inputs
 * are prices a_j >= 0 (scaled like the outputs) and the logits become
 * z_j + mlp_anchor_logit(a_j), so lam = softplus(z + softplus^-1(a)): zero
 * network outputs reproduce the anchor, and the network learns the
 * correction. The offset is a constant of the input, so every derivative
 * w.r.t. the parameters keeps its form (evaluated at the offset logits). */
int mlp_layout_set_anchor(MlpLayout *lay, MgErr *e);
/* softplus^-1(max(a, 1e-4)) = log(expm1(a)) (a for a > 30). */
double mlp_anchor_logit(double a);

/* Offsets into a price-head target row (see above). */
#define MLP_PY_LAMBDA(n, m) 0
#define MLP_PY_OPT(n, m) (m)
#define MLP_PY_A(n, m) ((m) + 1)
#define MLP_PY_B(n, m) ((m) + 1 + (n))
#define MLP_PY_C(n, m) (2 * (m) + 1 + (n))
#define MLP_PY_DIM(n, m) (2 * (m) + 1 + (n) + (n) * (m))

/* Number of tensors (2 per layer: W then b) and the t-th one's offset/size. */
int mlp_n_tensors(const MlpLayout *lay);
void mlp_tensor(const MlpLayout *lay, int t, size_t *off, size_t *size);

/* Caches: mlp_cache_reserve (re)allocates for at least k rows (only grows). */
void mlp_cache_init(MlpCache *c);
void mlp_cache_reserve(MlpCache *c, const MlpLayout *lay, int k);
void mlp_cache_free(MlpCache *c);

/* Deterministic init of theta: W and b ~ U(-1/sqrt(in), 1/sqrt(in)) per layer
 * (the PyTorch nn.Linear default; He init with zero biases put every first-layer
 * kink of a one-input net at x = 0 and made SGD at lr 0.01 diverge)
 * drawn from stream (seed, purpose, 0, salt, 0). */
void mlp_init_params(const MlpLayout *lay, double *theta /*(n_params)*/, uint64_t seed,
                     int purpose, uint64_t salt);

/* Forward k rows of x (k, in) through theta; returns nothing, fills c
 * (h[], and p for the allocation head). c must hold >= k rows. */
void mlp_forward(const MlpLayout *lay, const double *theta, const double *x /*(k,in)*/,
                 int k, MlpCache *c);

/* The head's prediction of the cached batch: the outputs (linear), the
 * fractions p (allocation) or the scaled prices softplus(z) (prices), (k, out). */
const double *mlp_output(const MlpLayout *lay, const MlpCache *c);

/* Loss of the cached forward against y (k, y_dim), normalised as above. */
double mlp_loss(const MlpLayout *lay, const MlpCache *c, const double *y /*(k,y_dim)*/);

/* Backward: grad += scale * dL/dtheta; stores d[] and gh[] in c for mlp_hvp. */
void mlp_backward(const MlpLayout *lay, const double *theta, MlpCache *c,
                  const double *y /*(k,out)*/, double scale, double *grad /*(n_params)*/);

/* The same, but grad = scale * dL/dtheta (overwritten: no memset needed). */
void mlp_grad(const MlpLayout *lay, const double *theta, MlpCache *c, const double *y,
              double scale, double *grad /*(n_params)*/);

/* Hessian-vector product at the cached point: hv += scale * H(theta) v, with
 * H the Hessian of the loss of the cached batch. Needs mlp_forward and
 * mlp_backward or mlp_grad on c first (scale 1 is cheapest: with another
 * scale the backward signals are recomputed). v may be the same buffer as
 * hv (then hv = v + scale H v), which saves the caller a copy. */
void mlp_hvp(const MlpLayout *lay, const double *theta, MlpCache *c,
             const double *y /*(k,out)*/, const double *v /*(n_params)*/, double scale,
             double *hv /*(n_params)*/);

#endif
