/*
 * policy.h — a deployable allocation policy: one adapted network frozen for
 * fast one-instance-at-a-time inference, from raw (d, s, c) to a feasible,
 * polished allocation.
 *
 * policy_set_theta (once per task, after adaptation) stores every W_l
 * transposed, so each instance runs the matrix-vector products of the
 * forward pass on the kernels (kernels.h) without re-transposing (the
 * training forward, mlp_forward, transposes W on every call because θ
 * changes between calls). With cache_costs, it also keeps the first layer's
 * pre-activation from the cost features of the task's cost matrix c_task:
 * an instance whose c equals c_task bit for bit (checked every time) only
 * multiplies its n + m demand and supply features; any other c is computed
 * in full. Results are the same either way up to rounding.
 *
 * For the price head, policy_prices: features -> forward -> prices ->
 * cert_decode -> the Lagrangian certificate of the same prices (cert.h).
 *
 * policy_alloc: features (task.h) -> forward -> per-demand softmax p ->
 * x_ij = d_i p_ij with fractions below `sparsify` times the row's largest set
 * to 0 -> alloc_repair -> alloc_polish (`polish` passes). The fractions are
 * also returned (for the MSE against the targets).
 */
#ifndef METAGRID_POLICY_H
#define METAGRID_POLICY_H

#include "metagrid/mlp.h"
#include "metagrid/task.h"

typedef struct Policy Policy;

/* For the allocation head of lay (lay->group = m, in = n + m + n*m; or
 * in = n + m for a network without cost inputs, task.observe_costs =
 * false, where c_task is ignored). */
Policy *policy_create(const MlpLayout *lay, int n, int m);
void policy_destroy(Policy *P);

/* Freeze theta (n_params of lay); c_task (n*m) the task's costs for the
 * first-layer cache, or NULL (no cache). */
void policy_set_theta(Policy *P, const double *theta, const double *c_task);

/* Decoding knobs: sparsify threshold (0: keep every fraction) and polish
 * passes (0: repair only). */
void policy_set_decode(Policy *P, double sparsify, int polish);

/* One instance: p (n*m) the softmax fractions (NULL: not computed; they
 * are not needed for the allocation), xraw (n*m) the network's allocation
 * before repair, x (n*m) the final allocation. Returns alloc_repair's
 * status. */
int policy_alloc(Policy *P, const double *d /*(n)*/, const double *s /*(m)*/,
                 const double *c /*(n*m)*/, double *p, double *xraw, double *x);

/* The same as policy_alloc up to x = repair(xraw), without the polish (for
 * measuring the allocation before it); then policy_polish(P, s, c, x). */
int policy_alloc_unpolished(Policy *P, const double *d, const double *s, const double *c,
                            double *p, double *xraw, double *x);
void policy_polish(Policy *P, const double *s, const double *c, double *x);
/* The softmax fractions (n*m) of the last instance's logits. */
void policy_fractions(const Policy *P, double *p);

/* The price head (lay->prices; policy_create accepts it with out = m): one
 * instance's features -> forward -> prices lambda (m, in cost units: the
 * instance's mean cost times softplus of the outputs) -> cert_decode (a
 * feasible x, n*m, whenever sum(s) >= sum(d)) -> the Lagrangian lower bound
 * of the same prices into *lower_bound (NULL: not computed). Returns
 * cert_decode's status (0, or -1 when sum(s) < sum(d)). */
int policy_prices(Policy *P, const double *d /*(n)*/, const double *s /*(m)*/,
                  const double *c /*(n*m)*/, double *lambda /*(m)*/, double *x /*(n*m)*/,
                  double *lower_bound);
/* The price head's prices only: features -> forward -> lambda (m, cost
 * units, as above); e.g. the start of an exact transportation simplex
 * (transport.h). */
void policy_predict_prices(Policy *P, const double *d, const double *s, const double *c,
                           double *lambda /*(m)*/);
/* Anchored price head (lay->anchor, model.anchor: nearest): the support
 * hours the anchors come from (anchor.h; borrowed until the next call).
 * Required before the first instance of a task. */
void policy_set_support(Policy *P, const TaskData *sup);
/* Price head: improve the network's prices by `steps` cert_ascent steps
 * before the decode and the bound (default 0: the network's own prices;
 * lambda then returns the improved prices). */
void policy_set_ascent(Policy *P, int steps);

#endif
