/*
 * learner.c — the meta-learning algorithms over the MLP: inner loops and
 * exact meta-gradients (interface in learner.h).
 *
 * Every algorithm runs the same forward inner loop on the support set,
 *   theta_{t+1} = theta_t - rate_t (.) u_t,   t = 0..T-1,
 * with (rate, u) = (inner_lr, g_t) for maml / fomaml, (alpha, g_t) for
 * metasgd, and (gamma_t per tensor from the gate, g_t or the Adam direction)
 * for gated; g_t = grad L_s(theta_t). It keeps theta_t, g_t, the support
 * activations of every step (one MlpCache per step) and the gate's state,
 * then takes lam = grad L_q(theta_T) and runs the reverse (adjoint) pass
 *   lam_t = lam_{t+1} + (d rate/d theta and d u/d theta terms)
 * in which every second-order term is one Hessian-vector product H_s(theta_t) r
 * (mlp_hvp, forward-over-reverse on the cached activations), so the exact
 * meta-gradient costs T forward+backward passes, one on the query set and
 * T HVPs (about 2 forward+backward each).
 *
 *   maml      r = -inner_lr lam;                        lam += H r
 *   metasgd   dalpha -= lam (.) g_t;  r = -alpha (.) lam; lam += H r
 *   gated     dgamma_j = -<lam_j, u_j>;  ubar = -gamma (.) lam;
 *             Adam base: through m, v (adjoints carried backwards) to gbar;
 *             gate backward -> dphi, dctx;  context -> lam += a g_t, r += ...;
 *             lam += H (gbar + r)
 *   fomaml    grad = lam at theta_T (no reverse pass)
 *   pretrain  grad of the mean loss over support U query at theta_0
 *
 * The gated Adam base is Adam with bias correction and epsilon inside the
 * square root, u = m_hat / sqrt(v_hat + eps^2), eps = LEARNER_ADAM_EPS: the
 * step is then a smooth function of the gradients and its meta-gradient is
 * exact (gradcheck checks it like the others). State is reset at the start
 * of every adaptation.
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

enum { RULE_SGD, RULE_METASGD, RULE_GATED };

struct Learner {
    int algo, T, base, rule;
    double lr;
    MlpLayout lay;
    GateLayout gate;     /* gated only */
    size_t n_theta, n_meta;
    MlpCache *sc;        /* (T) support activations per inner step */
    int n_sc;
    MlpCache qc;         /* query / evaluation batch */
    double *th;          /* (T+1, n) theta_t */
    double *g;           /* (T, n) support gradients g_t */
    double *u, *m, *v;   /* (T, n) gated Adam: direction, moments */
    double *ls;          /* (T) support losses */
    double *ctx, *hid, *gam; /* (T, C), (T, H), (T, 2L) gate state */
    double *lam, *r, *am, *av; /* (n) adjoints */
    double *cbar, *gbar;     /* (C), (2L) */
};

size_t learner_n_meta(const Learner *L) { return L->n_meta; }
size_t learner_n_theta(const Learner *L) { return L->n_theta; }
int learner_algo(const Learner *L) { return L->algo; }
int learner_inner_steps(const Learner *L) { return L->T; }
const MlpLayout *learner_layout(const Learner *L) { return &L->lay; }
int learner_gate_params(const Learner *L) { return L->algo == ALGO_GATED ? (int)L->gate.n_params : 0; }

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

int learner_create(Learner **out, const Config *cfg, int in_dim, int out_dim, int group, MgErr *e)
{
    *out = NULL;
    Learner *L = mg_calloc(1, sizeof *L);
    int prices = config_head(cfg) == HEAD_PRICES; /* then group = n (learner.h) */
    int rc = mlp_layout_init(&L->lay, in_dim, cfg->model.hidden, cfg->model.n_hidden, out_dim,
                             cfg->model.activation, prices ? 0 : group, e);
    if (rc == MG_OK && prices) rc = mlp_layout_set_prices(&L->lay, group, cfg->model.temperature, e);
    if (rc) goto error;
    rc = mlp_layout_set_loss(&L->lay, cfg->model.loss, e);
    if (rc) goto error;
    L->algo = cfg->algo.name;
    L->lr = cfg->algo.inner_lr;
    L->base = cfg->algo.gate.base;
    L->T = cfg->algo.inner_steps;
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
        L->rule = RULE_GATED;
        rc = gate_layout_init(&L->gate, &L->lay, cfg->algo.gate.hidden, L->lr, e);
        if (rc) goto error;
        L->n_meta = L->n_theta + L->gate.n_params;
    } else if (L->algo < 0 || L->algo > ALGO_PRETRAIN) {
        rc = mg_fail(e, MG_EUSAGE, "learner: unknown algorithm %d", L->algo);
        goto error;
    }
    size_t n = L->n_theta, T = L->T, T1 = T > 0 ? T : 1;
    L->n_sc = (int)T1;
    L->sc = mg_calloc(T1, sizeof(MlpCache));
    L->th = mg_calloc((T + 1) * n, sizeof(double));
    L->g = mg_calloc(T1 * n, sizeof(double));
    L->ls = mg_calloc(T1, sizeof(double));
    L->lam = mg_calloc(n, sizeof(double));
    L->r = mg_calloc(n, sizeof(double));
    L->am = mg_calloc(n, sizeof(double));
    L->av = mg_calloc(n, sizeof(double));
    if (L->rule == RULE_GATED) {
        L->u = mg_calloc(T1 * n, sizeof(double));
        L->m = mg_calloc(T1 * n, sizeof(double));
        L->v = mg_calloc(T1 * n, sizeof(double));
        L->ctx = mg_calloc(T1 * L->gate.n_ctx, sizeof(double));
        L->hid = mg_calloc(T1 * L->gate.hidden, sizeof(double));
        L->gam = mg_calloc(T1 * L->gate.n_out, sizeof(double));
        L->cbar = mg_calloc(L->gate.n_ctx, sizeof(double));
        L->gbar = mg_calloc(L->gate.n_out, sizeof(double));
    }
    *out = L;
    return MG_OK;
error:
    learner_destroy(L);
    return rc;
}

void learner_destroy(Learner *L)
{
    if (!L) return;
    for (int t = 0; t < L->n_sc; t++) mlp_cache_free(&L->sc[t]);
    mlp_cache_free(&L->qc);
    free(L->sc), free(L->th), free(L->g), free(L->u), free(L->m), free(L->v), free(L->ls);
    free(L->ctx), free(L->hid), free(L->gam), free(L->lam), free(L->r), free(L->am);
    free(L->av), free(L->cbar), free(L->gbar);
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

/* theta_t of the inner loop: meta for t = 0, else row t of th. */
static const double *theta_at(const Learner *L, const double *meta, int t)
{
    return t ? L->th + (size_t)t * L->n_theta : meta;
}

/* Forward + backward of td at theta into cache c: g (overwritten) = grad,
 * returns the loss. */
static double loss_grad(Learner *L, const double *theta, const TaskData *td, MlpCache *c,
                        double *g)
{
    mlp_cache_reserve(c, &L->lay, td->k);
    mlp_forward(&L->lay, theta, td->x, td->k, c);
    mlp_grad(&L->lay, theta, c, td->y, 1.0, g);
    return mlp_loss(&L->lay, c, td->y);
}

/*
 * One inner step: th_out = th - rate (.) u from the support loss ls and
 * gradient g at th (th_out may alias th). Gated: t is the step index (Adam
 * bias correction), m_prev/v_prev the Adam state before (NULL = zeros),
 * m/v/u receive the state after and the direction, ctx/hid/gam the gate's.
 */
static void inner_step(Learner *L, int rule, const double *meta, int t, const double *th,
                       const double *g, double ls, const double *m_prev, const double *v_prev,
                       double *m, double *v, double *u, double *ctx, double *hid, double *gam,
                       double *th_out)
{
    size_t n = L->n_theta;
    if (rule == RULE_SGD) {
        kern_axpy(th_out, th, -L->lr, g, n);
        return;
    }
    if (rule == RULE_METASGD) {
        const double *alpha = meta + n;
        for (size_t i = 0; i < n; i++) th_out[i] = th[i] - alpha[i] * g[i];
        return;
    }
    gate_context(&L->lay, ls, g, ctx);
    gate_forward(&L->gate, meta + n, ctx, hid, gam);
    const double *dir = g;
    if (L->base == GATE_ADAM) {
        double c1 = 1.0 / (1.0 - pow(LEARNER_ADAM_BETA1, t + 1));
        double c2 = 1.0 / (1.0 - pow(LEARNER_ADAM_BETA2, t + 1));
        double e2 = LEARNER_ADAM_EPS * LEARNER_ADAM_EPS;
        for (size_t i = 0; i < n; i++) {
            double mp = m_prev ? m_prev[i] : 0, vp = v_prev ? v_prev[i] : 0;
            m[i] = LEARNER_ADAM_BETA1 * mp + (1 - LEARNER_ADAM_BETA1) * g[i];
            v[i] = LEARNER_ADAM_BETA2 * vp + (1 - LEARNER_ADAM_BETA2) * g[i] * g[i];
            u[i] = c1 * m[i] / sqrt(c2 * v[i] + e2);
        }
        dir = u;
    }
    for (int j = 0; j < L->gate.n_out; j++) {
        size_t off, sz;
        mlp_tensor(&L->lay, j, &off, &sz);
        for (size_t i = off; i < off + sz; i++) th_out[i] = th[i] - gam[j] * dir[i];
    }
}

/* The gated reverse step at t: from lam = dLoss/dtheta_{t+1} (and the Adam
 * adjoints am, av of m_t, v_t) to dLoss/dtheta_t in lam, dphi accumulated. */
static void gated_reverse_step(Learner *L, const double *meta, int t, const double *tht,
                               const TaskData *sup, double *lam, double *dphi)
{
    size_t n = L->n_theta;
    const GateLayout *G = &L->gate;
    const double *g = L->g + t * n, *gam = L->gam + (size_t)t * G->n_out;
    const double *dir = L->base == GATE_ADAM ? L->u + t * n : g;
    double *r = L->r;
    for (int j = 0; j < G->n_out; j++) {
        size_t off, sz;
        mlp_tensor(&L->lay, j, &off, &sz);
        double s = 0;
        for (size_t i = off; i < off + sz; i++) {
            s += lam[i] * dir[i];
            r[i] = -gam[j] * lam[i]; /* ubar */
        }
        L->gbar[j] = -s;
    }
    if (L->base == GATE_ADAM) {
        const double *m = L->m + t * n, *v = L->v + t * n;
        double c1 = 1.0 / (1.0 - pow(LEARNER_ADAM_BETA1, t + 1));
        double c2 = 1.0 / (1.0 - pow(LEARNER_ADAM_BETA2, t + 1));
        double e2 = LEARNER_ADAM_EPS * LEARNER_ADAM_EPS;
        for (size_t i = 0; i < n; i++) {
            double q = 1.0 / sqrt(c2 * v[i] + e2);
            double mb = L->am[i] + r[i] * c1 * q;
            double vb = L->av[i] - r[i] * 0.5 * c1 * m[i] * c2 * q * q * q;
            r[i] = (1 - LEARNER_ADAM_BETA1) * mb + 2 * (1 - LEARNER_ADAM_BETA2) * g[i] * vb;
            L->am[i] = LEARNER_ADAM_BETA1 * mb;
            L->av[i] = LEARNER_ADAM_BETA2 * vb;
        }
    }
    gate_backward(G, meta + n, L->ctx + (size_t)t * G->n_ctx, L->hid + (size_t)t * G->hidden,
                  gam, L->gbar, dphi, L->cbar);
    gate_context_backward(&L->lay, L->ls[t], g, L->cbar, lam, r);
    mlp_hvp(&L->lay, tht, &L->sc[t], sup->y, r, 1.0, lam);
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
    int T = L->T;
    if (L->algo == ALGO_PRETRAIN) {
        double ks = sup->k, kq = qry->k, w = 1.0 / (ks + kq);
        if (grad) memset(grad, 0, L->n_meta * sizeof(double));
        mlp_cache_reserve(&L->sc[0], &L->lay, sup->k);
        mlp_cache_reserve(&L->qc, &L->lay, qry->k);
        mlp_forward(&L->lay, meta, sup->x, sup->k, &L->sc[0]);
        mlp_forward(&L->lay, meta, qry->x, qry->k, &L->qc);
        double loss = w * (ks * mlp_loss(&L->lay, &L->sc[0], sup->y) +
                           kq * mlp_loss(&L->lay, &L->qc, qry->y));
        if (grad) {
            mlp_backward(&L->lay, meta, &L->sc[0], sup->y, w * ks, grad);
            mlp_backward(&L->lay, meta, &L->qc, qry->y, w * kq, grad);
        }
        return loss;
    }
    /* forward inner loop, keeping every step's state (theta_0 is meta itself) */
    for (int t = 0; t < T; t++) {
        const double *tht = theta_at(L, meta, t);
        double *gt = L->g + t * n, *next = L->th + (size_t)(t + 1) * n;
        L->ls[t] = loss_grad(L, tht, sup, &L->sc[t], gt);
        if (L->rule == RULE_GATED) {
            const GateLayout *G = &L->gate;
            inner_step(L, L->rule, meta, t, tht, gt, L->ls[t], t ? L->m + (t - 1) * n : NULL,
                       t ? L->v + (t - 1) * n : NULL, L->m + t * n, L->v + t * n, L->u + t * n,
                       L->ctx + (size_t)t * G->n_ctx, L->hid + (size_t)t * G->hidden,
                       L->gam + (size_t)t * G->n_out, next);
        } else {
            inner_step(L, L->rule, meta, t, tht, gt, L->ls[t], NULL, NULL, NULL, NULL, NULL, NULL,
                       NULL, NULL, next);
        }
    }
    const double *thT = theta_at(L, meta, T);
    if (!grad) {
        mlp_cache_reserve(&L->qc, &L->lay, qry->k);
        mlp_forward(&L->lay, thT, qry->x, qry->k, &L->qc);
        return mlp_loss(&L->lay, &L->qc, qry->y);
    }
    /* the adjoint lam = dLoss/dtheta_t lives in grad[0, n) */
    double *lam = grad, *r = L->r;
    double loss = loss_grad(L, thT, qry, &L->qc, lam);
    memset(grad + n, 0, (L->n_meta - n) * sizeof(double));
    if (L->algo == ALGO_FOMAML) return loss;
    if (L->rule == RULE_GATED) { /* Adam adjoints */
        memset(L->am, 0, n * sizeof(double));
        memset(L->av, 0, n * sizeof(double));
    }
    for (int t = T - 1; t >= 0; t--) {
        const double *gt = L->g + t * n, *tht = theta_at(L, meta, t);
        if (L->rule == RULE_SGD) { /* lam += H (-lr lam), in place */
            mlp_hvp(&L->lay, tht, &L->sc[t], sup->y, lam, -L->lr, lam);
            continue;
        }
        if (L->rule == RULE_METASGD) {
            const double *alpha = meta + n;
            double *dalpha = grad + n;
            for (size_t i = 0; i < n; i++) {
                dalpha[i] -= lam[i] * gt[i];
                r[i] = -alpha[i] * lam[i];
            }
            mlp_hvp(&L->lay, tht, &L->sc[t], sup->y, r, 1.0, lam);
            continue;
        }
        gated_reverse_step(L, meta, t, tht, sup, lam, grad + n);
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
    mlp_cache_reserve(&L->qc, &L->lay, td->k);
    mlp_forward(&L->lay, theta, td->x, td->k, &L->qc);
    return mlp_loss(&L->lay, &L->qc, td->y);
}

void learner_predict(Learner *L, const double *theta, const double *x, int k, double *out)
{
    mlp_cache_reserve(&L->qc, &L->lay, k);
    mlp_forward(&L->lay, theta, x, k, &L->qc);
    memcpy(out, mlp_output(&L->lay, &L->qc), (size_t)k * L->lay.sizes[L->lay.n_layers] *
                                                 sizeof(double));
}

void learner_adapt(Learner *L, const double *meta, const double *theta_init,
                   const TaskData *support, int steps, double *theta, const TaskData *eval_on,
                   double *loss_by_step)
{
    size_t n = L->n_theta;
    int rule = theta_init ? RULE_SGD : L->rule;
    memcpy(theta, theta_init ? theta_init : meta, n * sizeof(double));
    /* scratch: g in r, Adam state in am/av, direction in lam, gate state in slot 0 */
    memset(L->am, 0, n * sizeof(double));
    memset(L->av, 0, n * sizeof(double));
    for (int t = 0; t < steps; t++) {
        if (loss_by_step) loss_by_step[t] = eval_on ? learner_loss(L, theta, eval_on) : 0.0;
        double ls = loss_grad(L, theta, support, &L->sc[0], L->r);
        inner_step(L, rule, meta, t, theta, L->r, ls, L->am, L->av, L->am, L->av, L->lam, L->ctx,
                   L->hid, L->gam, theta);
    }
    if (loss_by_step) loss_by_step[steps] = eval_on ? learner_loss(L, theta, eval_on) : 0.0;
}
