/*
 * learner.h — the meta-learning algorithms over the MLP (mlp.h).
 *
 * The meta-parameters are one flat block: the network's θ0 (mlp layout
 * order: per layer W as (out,in) row-major, then b), followed for metasgd by
 * the per-parameter step sizes α (same layout as θ), and for gated by the
 * gating network's parameters φ. Gradients, Adam moments, the allreduce and
 * checkpoints all use this layout.
 *
 * Algorithms (algo.name):
 *   maml      exact gradient of the query loss at θ_T w.r.t. θ0 through
 *             T = inner_steps SGD steps (Hessian-vector products)
 *   fomaml    first-order approximation
 *   metasgd   θ_{t+1} = θ_t − α ⊙ ∇L_s(θ_t), α meta-learned (exact)
 *   gated     θ_{t+1} = θ_t − γ_t ⊙ step_t, γ_t = g_φ(context_t) (see gate.h)
 *   pretrain  no inner loop: loss on support ∪ query at θ0
 *
 * The gated Adam base: per-task state reset at adaptation start, bias
 * corrected, epsilon inside the square root (u = m̂ / sqrt(v̂ + eps²)) so
 * that the step is smooth and its meta-gradient exact.
 */
#ifndef METAGRID_LEARNER_H
#define METAGRID_LEARNER_H

#include <stddef.h>
#include <stdint.h>

#include "metagrid/common.h"
#include "metagrid/config.h"
#include "metagrid/task.h"

#include "metagrid/mlp.h"

#define LEARNER_ADAM_BETA1 0.9
#define LEARNER_ADAM_BETA2 0.999
#define LEARNER_ADAM_EPS 1e-6

typedef struct Learner Learner; /* owns the layout and all workspaces */

/* What a learner is made from: the config's model and algorithm sections and
 * the resolved head (config_head). */
typedef struct {
    ModelConfig model;
    AlgoConfig algo;
    int head;       /* HeadName, resolved */
} LearnerSetup;

/* The LearnerSetup of a whole config. */
LearnerSetup learner_setup_from(const Config *c);

/* group = softmax group size of the allocation head (m), 0 = linear head;
 * with the price head (setup->head == HEAD_PRICES, out_dim = m prices) the
 * number of demand points n (tasks_head_group gives the right one). The
 * loss is setup->model.loss (mlp.h; xent needs the allocation head,
 * lagrangian the price head, else MG_EUSAGE). */
int learner_new(Learner **L, const LearnerSetup *setup, int in_dim, int out_dim, int group,
                MgErr *e);
void learner_destroy(Learner *L);

size_t learner_n_meta(const Learner *L);  /* size of the meta-parameter block */
size_t learner_n_theta(const Learner *L); /* network parameters: meta[0..n_theta) */
int learner_algo(const Learner *L);
int learner_inner_steps(const Learner *L); /* T (0 for pretrain) */

/* Deterministic initialisation of the meta-parameters from seed (RNG_INIT). */
void learner_init_meta(const Learner *L, double *meta /*(n_meta)*/, uint64_t seed);
/* Random network parameters for the "scratch" baseline from a stream key. */
void learner_init_theta(const Learner *L, double *theta /*(n_theta)*/, uint64_t seed, uint64_t salt);

/*
 * One task's contribution: returns the meta-loss (query loss after the inner
 * loop; for pretrain the loss on support ∪ query) and writes its gradient
 * w.r.t. the meta-parameters into grad (n_meta, overwritten).
 */
double learner_task_grad(Learner *L, const double *meta, const TaskData *support,
                         const TaskData *query, double *grad);

/*
 * Adaptation as the algorithm itself does it (metasgd with its α, gated with
 * its gate), for `steps` steps on support, starting from meta's θ0 (or from
 * theta_init if non-NULL: the scratch baseline, plain SGD with inner_lr).
 * theta (n_theta) receives the adapted parameters. If loss_by_step is
 * non-NULL it receives the loss on `eval_on` (may be NULL) at steps 0..steps.
 */
void learner_adapt(Learner *L, const double *meta, const double *theta_init,
                   const TaskData *support, int steps, double *theta,
                   const TaskData *eval_on, double *loss_by_step);

/* Predictions for k rows of x: (k, out_dim); for the allocation head the
 * per-demand fractions softmax_j(z_ij) (so x_ij = d_i * out_ij), for the
 * price head the scaled prices softplus(z) (lambda_j = cbar * out_j). */
void learner_predict(Learner *L, const double *theta, const double *x, int k, double *out);

/* The query (meta) loss, model.loss, of theta on td. (The inner loop
 * minimises model.inner_loss on the support rows: model.loss, or mse.) */
double learner_loss(Learner *L, const double *theta, const TaskData *td);

/* The meta-loss learner_task_grad differentiates, without the gradient
 * (same code path; for finite differences). */
double learner_meta_loss(Learner *L, const double *meta, const TaskData *support,
                         const TaskData *query);

/* The network layout (tensor offsets, sizes) and the gate's parameter count
 * (0 unless gated); the gate's φ sits at meta[n_theta ..). */
const MlpLayout *learner_layout(const Learner *L);

/* Floating-point operations in the matrix products (2 m n k per product)
 * of one learner_task_grad with k_s support and k_q query rows. */
double learner_task_flops(const Learner *L, int k_s, int k_q);

#endif
