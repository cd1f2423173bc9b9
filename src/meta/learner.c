/*
 * learner.c — the meta-learning algorithms over the MLP: inner loops and
 * exact meta-gradients (interface in learner.h).
 *
 * Every algorithm runs the same forward inner loop on the support set,
 *   theta_{t+1} = theta_t - rate_t (.) u_t,   t = 0..T-1,
 * one step function per rule (step_sgd, step_metasgd, step_gated_sgd,
 * step_gated_adam over an InnerStep): (rate, u) = (inner_lr, g_t) for maml /
 * fomaml, (alpha, g_t) for metasgd, and (gamma_t per tensor from the gate,
 * g_t or the Adam direction) for gated; g_t = grad L_s(theta_t). The loop
 * keeps the trajectory (theta_t, g_t, the support activations of every step,
 * the gate's and Adam's state), then takes the adjoint a = grad L_q(theta_T)
 * and runs the reverse pass (reverse_sgd, reverse_metasgd, reverse_gated)
 *   a_t = a_{t+1} + (d rate/d theta and d u/d theta terms)
 * in which every second-order term is one Hessian-vector product H_s(theta_t) r
 * (mlp_hvp, forward-over-reverse on the cached activations), so the exact
 * meta-gradient costs T forward+backward passes, one on the query set and
 * T HVPs (about 2 forward+backward each).
 *
 *   maml      r = -inner_lr a;                          a += H r
 *   metasgd   dalpha -= a (.) g_t;  r = -alpha (.) a;   a += H r
 *   gated     dgamma_j = -<a_j, u_j>;  r = -gamma (.) a (the direction's adjoint);
 *             Adam base: through m, v (adjoints carried backwards) to g_t's adjoint;
 *             gate backward -> dphi, the context's adjoint;  context -> a, r;
 *             a += H r
 *   fomaml    grad = a at theta_T (no reverse pass)
 *   pretrain  grad of the mean loss over support U query at theta_0
 *
 * The gated Adam base is Adam with bias correction and epsilon inside the
 * square root, u = m_hat / sqrt(v_hat + eps^2), eps = LEARNER_ADAM_EPS: the
 * step is then a smooth function of the gradients and its meta-gradient is
 * exact (gradcheck checks it like the others). State is reset at the start
 * of every adaptation.
 *
 * Losses: the query (meta) loss is model.loss (lay); the inner loop's
 * support gradients and HVPs use model.inner_loss (lay_in: the same network,
 * its loss model.loss or mse), e.g. a decision-aligned meta-loss over an
 * inner loop that regresses the support targets.
 *
 * All workspaces live in the Learner; learner_task_grad allocates nothing
 * once the caches have grown to the largest batch seen.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metagrid/gate.h"
#include "metagrid/kernels.h"
#include "metagrid/learner.h"
#include "metagrid/mlp.h"
#include "metagrid/rng.h"

/* The inner-loop rules: theta_{t+1} = theta_t - rate (.) direction. */
enum {
    RULE_SGD,        /* maml, fomaml (and scratch adaptation): rate inner_lr, direction g_t */
    RULE_METASGD,    /* rate alpha (meta-learned, per parameter), direction g_t */
    RULE_GATED_SGD,  /* rate gamma_t per tensor (the gate), direction g_t */
    RULE_GATED_ADAM  /* rate gamma_t per tensor, direction the Adam step of g_t */
};

struct Learner {
    int algo, rule;
    int T;               /* inner steps */
    double lr;           /* inner_lr */
    MlpLayout lay;       /* the network; its loss is the query (meta) loss */
    MlpLayout lay_in;    /* the same network with the inner-loop loss (model.inner_loss) */
    GateLayout gate;     /* gated only */
    size_t n_theta, n_meta;
    MlpCache *sup_cache; /* (T) support activations of every inner step */
    int n_sup_cache;
    MlpCache qry_cache;  /* query / evaluation batch */
    /* the inner-loop trajectory, row t for step t */
    double *theta;       /* (T+1, n) theta_t (row 0 unused: theta_0 is meta) */
    double *grad;        /* (T, n) support gradients g_t */
    double *sup_loss;    /* (T) support losses L_s(theta_t) */
    double *direction;   /* (T, n) gated adam: the Adam direction u_t */
    double *adam_m, *adam_v;  /* (T, n) gated adam: moments after step t */
    double *gate_ctx;    /* (T, C) gate input (gate_context) */
    double *gate_hidden; /* (T, H) gate hidden activations */
    double *gate_rate;   /* (T, 2L) gamma_t: the gate's per-tensor step sizes */
    /* the reverse pass */
    double *hvp_vec;     /* (n) the vector r of the Hessian-vector product H r */
    double *adam_m_adj, *adam_v_adj; /* (n) gated adam: adjoints of m_t, v_t */
    double *gate_ctx_adj, *gate_rate_adj; /* (C), (2L) gated: adjoints of ctx, gamma */
};

/* One inner step t of a rule: its inputs and where its outputs go. */
typedef struct {
    int t;                   /* step index (Adam bias correction) */
    const double *theta;     /* (n) theta_t */
    const double *grad;      /* (n) g_t = grad L_s(theta_t) */
    double loss;             /* L_s(theta_t), an input of the gate */
    const double *adam_m_prev, *adam_v_prev; /* (n) gated adam: moments before, NULL = zeros */
    double *adam_m, *adam_v; /* (n) gated adam: moments after (may alias the ones before) */
    double *direction;       /* (n) gated adam: u_t */
    double *gate_ctx, *gate_hidden, *gate_rate; /* gated: (C), (H), (2L) the gate's state */
    double *theta_next;      /* (n) theta_{t+1}; may alias theta */
} InnerStep;

size_t learner_n_meta(const Learner *L) { return L->n_meta; }
size_t learner_n_theta(const Learner *L) { return L->n_theta; }
int learner_algo(const Learner *L) { return L->algo; }
int learner_inner_steps(const Learner *L) { return L->T; }
const MlpLayout *learner_layout(const Learner *L) { return &L->lay; }

double learner_task_flops(const Learner *L, int k_s, int k_q)
{
    /* per layer, F = 2 k I O: forward F; backward F (dW) + F (input grad,
     * not for the first layer); HVP 2F (first layer) or 6F (others) */
    double fb_s = 0, fb_q = 0, hvp = 0;
    for (int l = 0; l < L->lay.n_layers; l++) {
        double io = 2.0 * L->lay.sizes[l] * L->lay.sizes[l + 1];
        fb_s += io * k_s * (l > 0 ? 3 : 2);
        fb_q += io * k_q * (l > 0 ? 3 : 2);
        hvp += io * k_s * (l > 0 ? 6 : 2);
    }
    if (L->algo == ALGO_PRETRAIN) return fb_s + fb_q;
    return L->T * fb_s + fb_q + (L->algo == ALGO_FOMAML ? 0 : L->T * hvp);
}

/* The workspaces of the inner loop and of its reverse pass (a step count of
 * zero keeps one row: learner_adapt uses row 0 for its steps). */
static void learner_alloc(Learner *L)
{
    size_t n = L->n_theta, T = (size_t)L->T, T1 = T > 0 ? T : 1;
    L->n_sup_cache = (int)T1;
    L->sup_cache = mg_calloc(T1, sizeof(MlpCache));
    L->theta = mg_calloc((T + 1) * n, sizeof(double));
    L->grad = mg_calloc(T1 * n, sizeof(double));
    L->sup_loss = mg_calloc(T1, sizeof(double));
    L->hvp_vec = mg_calloc(n, sizeof(double));
    if (L->rule == RULE_GATED_SGD || L->rule == RULE_GATED_ADAM) {
        const GateLayout *G = &L->gate;
        L->gate_ctx = mg_calloc(T1 * G->n_ctx, sizeof(double));
        L->gate_hidden = mg_calloc(T1 * G->hidden, sizeof(double));
        L->gate_rate = mg_calloc(T1 * G->n_out, sizeof(double));
        L->gate_ctx_adj = mg_calloc(G->n_ctx, sizeof(double));
        L->gate_rate_adj = mg_calloc(G->n_out, sizeof(double));
    }
    if (L->rule == RULE_GATED_ADAM) {
        L->direction = mg_calloc(T1 * n, sizeof(double));
        L->adam_m = mg_calloc(T1 * n, sizeof(double));
        L->adam_v = mg_calloc(T1 * n, sizeof(double));
        L->adam_m_adj = mg_calloc(n, sizeof(double));
        L->adam_v_adj = mg_calloc(n, sizeof(double));
    }
}

/* The config's model settings as the NN layer's values (mlp.h). */
_Static_assert(CONFIG_MAX_HIDDEN <= MLP_MAX_HIDDEN, "config allows more hidden layers than mlp");
static int mlp_activation_of(int act)
{
    return act == ACT_TANH ? MLP_ACT_TANH : act == ACT_RELU ? MLP_ACT_RELU : -1;
}
static int mlp_loss_of(int loss)
{
    switch (loss) {
    case LOSS_MSE: return MLP_LOSS_MSE;
    case LOSS_XENT: return MLP_LOSS_XENT;
    case LOSS_LAGRANGIAN: return MLP_LOSS_LAGRANGIAN;
    default: return -1; /* refused by mlp_layout_set_loss */
    }
}

LearnerSetup learner_setup_from(const Config *c)
{
    LearnerSetup s = {.model = c->model, .algo = c->algo, .head = config_head(c)};
    return s;
}

int learner_new(Learner **out, const LearnerSetup *setup, int in_dim, int out_dim, int group,
                MgErr *e)
{
    *out = NULL;
    const ModelConfig *model = &setup->model;
    const AlgoConfig *algo = &setup->algo;
    Learner *L = mg_calloc(1, sizeof *L);
    int prices = setup->head == HEAD_PRICES; /* then group = n (learner.h) */
    int rc = mlp_layout_init(&L->lay, in_dim, model->hidden, model->n_hidden, out_dim,
                             mlp_activation_of(model->activation), prices ? 0 : group, e);
    if (rc == MG_OK && prices) rc = mlp_layout_set_prices(&L->lay, group, model->temperature, e);
    if (rc == MG_OK && prices && model->anchor != ANCHOR_NONE)
        rc = mlp_layout_set_anchor(&L->lay, e);
    if (rc) goto error;
    rc = mlp_layout_set_loss(&L->lay, mlp_loss_of(model->loss), e);
    L->lay_in = L->lay;
    if (rc == MG_OK && model->inner_loss == INNER_LOSS_MSE)
        rc = mlp_layout_set_loss(&L->lay_in, MLP_LOSS_MSE, e);
    if (rc) goto error;
    L->algo = algo->name;
    L->lr = algo->inner_lr;
    L->T = algo->inner_steps;
    if (L->T < 0 || (L->T == 0 && L->algo != ALGO_PRETRAIN && L->algo != ALGO_FOMAML &&
                     L->algo != ALGO_MAML)) {
        rc = mg_fail(e, MG_EUSAGE, "learner: algo.inner_steps must be >= 1 for %s",
                     config_algo_name(L->algo));
        goto error;
    }
    if (L->algo == ALGO_PRETRAIN) L->T = 0;
    L->n_theta = L->lay.n_params;
    L->n_meta = L->n_theta;
    L->rule = RULE_SGD;
    if (L->algo == ALGO_METASGD) {
        L->rule = RULE_METASGD;
        L->n_meta = 2 * L->n_theta;
    } else if (L->algo == ALGO_GATED) {
        L->rule = algo->gate.base == GATE_ADAM ? RULE_GATED_ADAM : RULE_GATED_SGD;
        rc = gate_layout_init(&L->gate, &L->lay, algo->gate.hidden, L->lr, e);
        if (rc) goto error;
        L->n_meta = L->n_theta + L->gate.n_params;
    } else if (L->algo < 0 || L->algo > ALGO_PRETRAIN) {
        rc = mg_fail(e, MG_EUSAGE, "learner: unknown algorithm %d", L->algo);
        goto error;
    }
    /* the inner loop's workspaces (learner_alloc), before allocating them */
    double T1 = L->T > 0 ? L->T : 1;
    char what[160];
    snprintf(what, sizeof what, "the inner loop (%zu network parameters x %d inner steps)",
             L->n_theta, L->T);
    rc = mg_mem_check(8.0 * (double)L->n_theta * (L->T + 2 + T1), what,
                      "reduce model.hidden or algo.inner_steps", e);
    if (rc) goto error;
    learner_alloc(L);
    *out = L;
    return MG_OK;
error:
    learner_destroy(L);
    return rc;
}

void learner_destroy(Learner *L)
{
    if (!L) return;
    for (int t = 0; t < L->n_sup_cache; t++) mlp_cache_free(&L->sup_cache[t]);
    mlp_cache_free(&L->qry_cache);
    free(L->sup_cache), free(L->theta), free(L->grad), free(L->sup_loss), free(L->direction);
    free(L->adam_m), free(L->adam_v), free(L->gate_ctx), free(L->gate_hidden);
    free(L->gate_rate), free(L->hvp_vec), free(L->adam_m_adj), free(L->adam_v_adj);
    free(L->gate_ctx_adj), free(L->gate_rate_adj);
    free(L);
}

void learner_init_meta(const Learner *L, double *meta, uint64_t seed)
{
    mlp_init_params(&L->lay, meta, seed, RNG_INIT, 0);
    if (L->algo == ALGO_METASGD)
        for (size_t i = 0; i < L->n_theta; i++) meta[L->n_theta + i] = L->lr;
    if (L->algo == ALGO_GATED) gate_init_params(&L->gate, meta + L->n_theta, seed);
}

void learner_init_theta(const Learner *L, double *theta, uint64_t seed, uint64_t salt)
{
    mlp_init_params(&L->lay, theta, seed, RNG_SCRATCH, salt);
}

/* theta_t of the inner loop: meta for t = 0, else row t of L->theta. */
static const double *theta_at(const Learner *L, const double *meta, int t)
{
    return t ? L->theta + (size_t)t * L->n_theta : meta;
}

/* Forward + backward of td at theta into cache c: grad (overwritten) =
 * the gradient; returns the loss. */
static double loss_grad(const MlpLayout *lay, const double *theta, const TaskData *td,
                        MlpCache *c, double *grad)
{
    mlp_cache_reserve(c, lay, td->k);
    mlp_forward(lay, theta, td->x, td->k, c);
    mlp_grad(lay, theta, c, td->y, 1.0, grad);
    return mlp_loss(lay, c, td->y);
}

/* ---- the forward step of each rule ------------------------------------ */

static void step_sgd(const Learner *L, InnerStep *s)
{
    kern_axpy(s->theta_next, s->theta, -L->lr, s->grad, L->n_theta);
}

static void step_metasgd(const Learner *L, const double *meta, InnerStep *s)
{
    const double *alpha = meta + L->n_theta;
    for (size_t i = 0; i < L->n_theta; i++) s->theta_next[i] = s->theta[i] - alpha[i] * s->grad[i];
}

/* The gate's step sizes gamma_t (per tensor) from the support loss and
 * gradient, then theta_next = theta - gamma_t (.) dir. */
static void step_gated(const Learner *L, const double *meta, InnerStep *s, const double *dir)
{
    gate_context(&L->lay, s->loss, s->grad, s->gate_ctx);
    gate_forward(&L->gate, meta + L->n_theta, s->gate_ctx, s->gate_hidden, s->gate_rate);
    for (int j = 0; j < L->gate.n_out; j++) {
        size_t off, sz;
        mlp_tensor(&L->lay, j, &off, &sz);
        for (size_t i = off; i < off + sz; i++)
            s->theta_next[i] = s->theta[i] - s->gate_rate[j] * dir[i];
    }
}

static void step_gated_sgd(const Learner *L, const double *meta, InnerStep *s)
{
    step_gated(L, meta, s, s->grad);
}

/* Adam with bias correction, epsilon inside the square root:
 * u = m_hat / sqrt(v_hat + eps^2), a smooth function of the gradients. */
static void step_gated_adam(const Learner *L, const double *meta, InnerStep *s)
{
    const double b1 = LEARNER_ADAM_BETA1, b2 = LEARNER_ADAM_BETA2;
    double c1 = 1.0 / (1.0 - pow(b1, s->t + 1)), c2 = 1.0 / (1.0 - pow(b2, s->t + 1));
    double e2 = LEARNER_ADAM_EPS * LEARNER_ADAM_EPS;
    for (size_t i = 0; i < L->n_theta; i++) {
        double g = s->grad[i];
        double mp = s->adam_m_prev ? s->adam_m_prev[i] : 0, vp = s->adam_v_prev ? s->adam_v_prev[i] : 0;
        s->adam_m[i] = b1 * mp + (1 - b1) * g;
        s->adam_v[i] = b2 * vp + (1 - b2) * g * g;
        s->direction[i] = c1 * s->adam_m[i] / sqrt(c2 * s->adam_v[i] + e2);
    }
    step_gated(L, meta, s, s->direction);
}

static void inner_step(const Learner *L, int rule, const double *meta, InnerStep *s)
{
    switch (rule) {
    case RULE_SGD: step_sgd(L, s); break;
    case RULE_METASGD: step_metasgd(L, meta, s); break;
    case RULE_GATED_SGD: step_gated_sgd(L, meta, s); break;
    case RULE_GATED_ADAM: step_gated_adam(L, meta, s); break;
    }
}

/* The step state of row `row` of the trajectory (row = t in the inner loop
 * of task_eval; row 0 for every step of learner_adapt). */
static InnerStep step_state(Learner *L, int row)
{
    size_t n = L->n_theta, r = (size_t)row;
    const GateLayout *G = &L->gate;
    InnerStep s = {.grad = L->grad + r * n};
    if (L->gate_ctx) {
        s.gate_ctx = L->gate_ctx + r * G->n_ctx;
        s.gate_hidden = L->gate_hidden + r * G->hidden;
        s.gate_rate = L->gate_rate + r * G->n_out;
    }
    if (L->direction) {
        s.direction = L->direction + r * n;
        s.adam_m = L->adam_m + r * n;
        s.adam_v = L->adam_v + r * n;
    }
    return s;
}

/* The forward inner loop of task_eval: theta_1..theta_T, keeping every
 * step's state for the reverse pass (theta_0 is meta itself). */
static void inner_loop(Learner *L, const double *meta, const TaskData *sup)
{
    size_t n = L->n_theta;
    for (int t = 0; t < L->T; t++) {
        InnerStep s = step_state(L, t);
        s.t = t;
        s.theta = theta_at(L, meta, t);
        s.theta_next = L->theta + (size_t)(t + 1) * n;
        if (t > 0 && L->adam_m) {
            s.adam_m_prev = L->adam_m + (size_t)(t - 1) * n;
            s.adam_v_prev = L->adam_v + (size_t)(t - 1) * n;
        }
        s.loss = L->sup_loss[t] = loss_grad(&L->lay_in, s.theta, sup, &L->sup_cache[t], L->grad + t * n);
        inner_step(L, L->rule, meta, &s);
    }
}

/* ---- the reverse step of each rule: adjoint = dLoss/dtheta_{t+1} on entry,
 * dLoss/dtheta_t on return; d(meta-loss)/d(step-size parameters) in dmeta */

static void reverse_sgd(Learner *L, int t, const double *theta_t, const TaskData *sup,
                        double *adjoint)
{
    /* adjoint += H (-lr adjoint), in place */
    mlp_hvp(&L->lay_in, theta_t, &L->sup_cache[t], sup->y, adjoint, -L->lr, adjoint);
}

static void reverse_metasgd(Learner *L, const double *meta, int t, const double *theta_t,
                            const TaskData *sup, double *adjoint, double *dalpha)
{
    size_t n = L->n_theta;
    const double *alpha = meta + n, *g = L->grad + (size_t)t * n;
    double *r = L->hvp_vec;
    for (size_t i = 0; i < n; i++) {
        dalpha[i] -= adjoint[i] * g[i];
        r[i] = -alpha[i] * adjoint[i];
    }
    mlp_hvp(&L->lay_in, theta_t, &L->sup_cache[t], sup->y, r, 1.0, adjoint);
}

/* Through the Adam direction of step t: hvp_vec holds the adjoint of u_t on
 * entry and that of g_t on return; the moment adjoints are carried back. */
static void reverse_adam(Learner *L, int t)
{
    size_t n = L->n_theta;
    const double b1 = LEARNER_ADAM_BETA1, b2 = LEARNER_ADAM_BETA2;
    const double *g = L->grad + (size_t)t * n, *m = L->adam_m + (size_t)t * n;
    const double *v = L->adam_v + (size_t)t * n;
    double c1 = 1.0 / (1.0 - pow(b1, t + 1)), c2 = 1.0 / (1.0 - pow(b2, t + 1));
    double e2 = LEARNER_ADAM_EPS * LEARNER_ADAM_EPS;
    double *r = L->hvp_vec, *m_adj = L->adam_m_adj, *v_adj = L->adam_v_adj;
    for (size_t i = 0; i < n; i++) {
        double q = 1.0 / sqrt(c2 * v[i] + e2);
        double mb = m_adj[i] + r[i] * c1 * q;
        double vb = v_adj[i] - r[i] * 0.5 * c1 * m[i] * c2 * q * q * q;
        r[i] = (1 - b1) * mb + 2 * (1 - b2) * g[i] * vb;
        m_adj[i] = b1 * mb;
        v_adj[i] = b2 * vb;
    }
}

/* gated: dgamma_j = -<adjoint_j, dir_j>, the direction's adjoint
 * -gamma (.) adjoint (through Adam for the adam base), the gate backward
 * (dphi, the context's adjoint) and the context's dependence on theta_t. */
static void reverse_gated(Learner *L, const double *meta, int t, const double *theta_t,
                          const TaskData *sup, double *adjoint, double *dphi)
{
    size_t n = L->n_theta;
    const GateLayout *G = &L->gate;
    const double *g = L->grad + (size_t)t * n, *rate = L->gate_rate + (size_t)t * G->n_out;
    const double *dir = L->rule == RULE_GATED_ADAM ? L->direction + (size_t)t * n : g;
    double *r = L->hvp_vec;
    for (int j = 0; j < G->n_out; j++) {
        size_t off, sz;
        mlp_tensor(&L->lay, j, &off, &sz);
        double s = 0;
        for (size_t i = off; i < off + sz; i++) {
            s += adjoint[i] * dir[i];
            r[i] = -rate[j] * adjoint[i]; /* the direction's adjoint */
        }
        L->gate_rate_adj[j] = -s;
    }
    if (L->rule == RULE_GATED_ADAM) reverse_adam(L, t);
    gate_backward(G, meta + n, L->gate_ctx + (size_t)t * G->n_ctx,
                  L->gate_hidden + (size_t)t * G->hidden, rate, L->gate_rate_adj, dphi,
                  L->gate_ctx_adj);
    gate_context_backward(&L->lay, L->sup_loss[t], g, L->gate_ctx_adj, adjoint, r);
    mlp_hvp(&L->lay_in, theta_t, &L->sup_cache[t], sup->y, r, 1.0, adjoint);
}

/* pretrain: the mean loss over support U query at theta_0 = meta. */
static double pretrain_eval(Learner *L, const double *meta, const TaskData *sup,
                            const TaskData *qry, double *grad)
{
    double ks = sup->k, kq = qry->k, w = 1.0 / (ks + kq);
    if (grad) memset(grad, 0, L->n_meta * sizeof(double));
    mlp_cache_reserve(&L->sup_cache[0], &L->lay, sup->k);
    mlp_cache_reserve(&L->qry_cache, &L->lay, qry->k);
    mlp_forward(&L->lay, meta, sup->x, sup->k, &L->sup_cache[0]);
    mlp_forward(&L->lay, meta, qry->x, qry->k, &L->qry_cache);
    double loss = w * (ks * mlp_loss(&L->lay, &L->sup_cache[0], sup->y) +
                       kq * mlp_loss(&L->lay, &L->qry_cache, qry->y));
    if (grad) {
        mlp_backward(&L->lay, meta, &L->sup_cache[0], sup->y, w * ks, grad);
        mlp_backward(&L->lay, meta, &L->qry_cache, qry->y, w * kq, grad);
    }
    return loss;
}

/*
 * The meta-loss and (if grad) its gradient; the one code path behind
 * learner_task_grad and learner_meta_loss, so finite differences of the
 * latter check exactly the function the former differentiates.
 */
static double task_eval(Learner *L, const double *meta, const TaskData *sup,
                        const TaskData *qry, double *grad)
{
    size_t n = L->n_theta;
    if (L->algo == ALGO_PRETRAIN) return pretrain_eval(L, meta, sup, qry, grad);
    inner_loop(L, meta, sup);
    const double *theta_T = theta_at(L, meta, L->T);
    if (!grad) {
        mlp_cache_reserve(&L->qry_cache, &L->lay, qry->k);
        mlp_forward(&L->lay, theta_T, qry->x, qry->k, &L->qry_cache);
        return mlp_loss(&L->lay, &L->qry_cache, qry->y);
    }
    /* the adjoint dLoss/dtheta_t lives in grad[0, n); the gradient of the
     * step-size parameters (alpha, the gate's phi) in grad[n, n_meta) */
    double *adjoint = grad, *dmeta = grad + n;
    double loss = loss_grad(&L->lay, theta_T, qry, &L->qry_cache, adjoint);
    memset(dmeta, 0, (L->n_meta - n) * sizeof(double));
    if (L->algo == ALGO_FOMAML) return loss;
    if (L->rule == RULE_GATED_ADAM) {
        memset(L->adam_m_adj, 0, n * sizeof(double));
        memset(L->adam_v_adj, 0, n * sizeof(double));
    }
    for (int t = L->T - 1; t >= 0; t--) {
        const double *theta_t = theta_at(L, meta, t);
        switch (L->rule) {
        case RULE_SGD: reverse_sgd(L, t, theta_t, sup, adjoint); break;
        case RULE_METASGD: reverse_metasgd(L, meta, t, theta_t, sup, adjoint, dmeta); break;
        default: reverse_gated(L, meta, t, theta_t, sup, adjoint, dmeta); break;
        }
    }
    return loss;
}

double learner_task_grad(Learner *L, const double *meta, const TaskData *support,
                         const TaskData *query, double *grad)
{
    return task_eval(L, meta, support, query, grad);
}

double learner_meta_loss(Learner *L, const double *meta, const TaskData *support,
                         const TaskData *query)
{
    return task_eval(L, meta, support, query, NULL);
}

double learner_loss(Learner *L, const double *theta, const TaskData *td)
{
    mlp_cache_reserve(&L->qry_cache, &L->lay, td->k);
    mlp_forward(&L->lay, theta, td->x, td->k, &L->qry_cache);
    return mlp_loss(&L->lay, &L->qry_cache, td->y);
}

void learner_predict(Learner *L, const double *theta, const double *x, int k, double *out)
{
    mlp_cache_reserve(&L->qry_cache, &L->lay, k);
    mlp_forward(&L->lay, theta, x, k, &L->qry_cache);
    memcpy(out, mlp_output(&L->lay, &L->qry_cache),
           (size_t)k * L->lay.sizes[L->lay.n_layers] * sizeof(double));
}

void learner_adapt(Learner *L, const double *meta, const double *theta_init,
                   const TaskData *support, int steps, double *theta, const TaskData *eval_on,
                   double *loss_by_step)
{
    size_t n = L->n_theta;
    int rule = theta_init ? RULE_SGD : L->rule;
    memcpy(theta, theta_init ? theta_init : meta, n * sizeof(double));
    /* every step in row 0 of the trajectory; the Adam moments in place */
    InnerStep s = step_state(L, 0);
    s.theta = s.theta_next = theta;
    if (s.adam_m) {
        memset(s.adam_m, 0, n * sizeof(double));
        memset(s.adam_v, 0, n * sizeof(double));
        s.adam_m_prev = s.adam_m;
        s.adam_v_prev = s.adam_v;
    }
    for (int t = 0; t < steps; t++) {
        if (loss_by_step) loss_by_step[t] = eval_on ? learner_loss(L, theta, eval_on) : 0.0;
        s.t = t;
        s.loss = loss_grad(&L->lay_in, theta, support, &L->sup_cache[0], L->grad);
        inner_step(L, rule, meta, &s);
    }
    if (loss_by_step) loss_by_step[steps] = eval_on ? learner_loss(L, theta, eval_on) : 0.0;
}
