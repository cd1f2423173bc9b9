/*
 * gate.c — the gating network of the `gated` algorithm (formulas in gate.h).
 *
 * Design. The gate outputs one step size per tensor (W_l, b_l), not per
 * parameter: per-parameter step sizes that do not depend on the task are
 * what metasgd already learns, and a per-parameter gate fed with (g, theta)
 * features would be a learned element-wise optimizer whose context carries
 * no more task information than the gradient itself. Per tensor, the gate
 * sees what distinguishes tasks and steps — how large the support loss is
 * and how large each tensor's gradient is — and can scale the steps of each
 * layer accordingly (a learned, task- and step-adaptive layer-wise schedule,
 * a la MAML++'s per-layer per-step rates but conditioned on the task).
 * Every feature is a smooth function of theta_t (log of loss, log of
 * squared norms with floors), so the meta-gradient through the context is
 * exact: it costs a term along g_t and a Hessian-vector product that the
 * learner folds into the one HVP it already does per step.
 *
 * gamma = inner_lr * 2 sigmoid(o) keeps every step size in (0, 2 inner_lr):
 * a gate can slow a layer down or double its step but never make the inner
 * loop diverge beyond what inner_lr allows, and starts near inner_lr.
 */
#include <math.h>
#include <string.h>

#include "metagrid/gate.h"
#include "metagrid/rng.h"

int gate_layout_init(GateLayout *g, const MlpLayout *net, int hidden, double lr, MgErr *e)
{
    memset(g, 0, sizeof *g);
    if (hidden < 1) return mg_fail(e, MG_EUSAGE, "gate: algo.gate.hidden must be >= 1");
    g->n_out = mlp_n_tensors(net);
    g->n_ctx = 1 + g->n_out;
    g->hidden = hidden;
    g->lr = lr;
    size_t H = hidden, C = g->n_ctx, O = g->n_out;
    g->w1 = 0;
    g->b1 = H * C;
    g->w2 = g->b1 + H;
    g->b2 = g->w2 + O * H;
    g->n_params = g->b2 + O;
    return MG_OK;
}

void gate_init_params(const GateLayout *g, double *phi, uint64_t seed)
{
    RngStream s;
    rng_stream_init(&s, seed, RNG_INIT, 0, 0, 1); /* inst 1: the gate's own stream */
    int H = g->hidden, C = g->n_ctx, O = g->n_out;
    double lim1 = sqrt(6.0 / (C + H)), lim2 = 0.1 / sqrt((double)H);
    memset(phi, 0, g->n_params * sizeof(double));
    for (int i = 0; i < H * C; i++) phi[g->w1 + i] = rng_uniform_range(&s, -lim1, lim1);
    for (int i = 0; i < O * H; i++) phi[g->w2 + i] = rng_uniform_range(&s, -lim2, lim2);
}

void gate_context(const MlpLayout *net, double loss, const double *grad, double *ctx)
{
    ctx[0] = log(loss + GATE_EPS_L);
    for (int j = 0; j < mlp_n_tensors(net); j++) {
        size_t off, n;
        mlp_tensor(net, j, &off, &n);
        double ss = 0;
        for (size_t i = 0; i < n; i++) ss += grad[off + i] * grad[off + i];
        ctx[1 + j] = 0.5 * log(ss + GATE_EPS_G * GATE_EPS_G);
    }
}

void gate_forward(const GateLayout *g, const double *phi, const double *ctx, double *hid,
                  double *gamma)
{
    int H = g->hidden, C = g->n_ctx, O = g->n_out;
    for (int a = 0; a < H; a++) {
        const double *w = phi + g->w1 + (size_t)a * C;
        double z = phi[g->b1 + a];
        for (int i = 0; i < C; i++) z += w[i] * ctx[i];
        hid[a] = tanh(z);
    }
    for (int o = 0; o < O; o++) {
        const double *w = phi + g->w2 + (size_t)o * H;
        double z = phi[g->b2 + o];
        for (int a = 0; a < H; a++) z += w[a] * hid[a];
        gamma[o] = g->lr * 2.0 / (1.0 + exp(-z));
    }
}

void gate_backward(const GateLayout *g, const double *phi, const double *ctx, const double *hid,
                   const double *gamma, const double *gbar, double *dphi, double *cbar)
{
    int H = g->hidden, C = g->n_ctx, O = g->n_out;
    double abar[H];
    memset(abar, 0, sizeof abar);
    for (int o = 0; o < O; o++) {
        double sg = gamma[o] / (2.0 * g->lr);            /* sigmoid(o) */
        double ob = gbar[o] * 2.0 * g->lr * sg * (1 - sg); /* dLoss/do */
        dphi[g->b2 + o] += ob;
        const double *w = phi + g->w2 + (size_t)o * H;
        double *dw = dphi + g->w2 + (size_t)o * H;
        for (int a = 0; a < H; a++) {
            dw[a] += ob * hid[a];
            abar[a] += ob * w[a];
        }
    }
    memset(cbar, 0, (size_t)C * sizeof(double));
    for (int a = 0; a < H; a++) {
        double zb = abar[a] * (1 - hid[a] * hid[a]);
        dphi[g->b1 + a] += zb;
        const double *w = phi + g->w1 + (size_t)a * C;
        double *dw = dphi + g->w1 + (size_t)a * C;
        for (int i = 0; i < C; i++) {
            dw[i] += zb * ctx[i];
            cbar[i] += zb * w[i];
        }
    }
}

void gate_context_backward(const MlpLayout *net, double loss, const double *grad,
                           const double *cbar, double *lam, double *r)
{
    double a = cbar[0] / (loss + GATE_EPS_L);
    for (size_t i = 0; i < net->n_params; i++) lam[i] += a * grad[i];
    for (int j = 0; j < mlp_n_tensors(net); j++) {
        size_t off, n;
        mlp_tensor(net, j, &off, &n);
        double ss = 0;
        for (size_t i = 0; i < n; i++) ss += grad[off + i] * grad[off + i];
        double b = cbar[1 + j] / (ss + GATE_EPS_G * GATE_EPS_G);
        for (size_t i = 0; i < n; i++) r[off + i] += b * grad[off + i];
    }
}
