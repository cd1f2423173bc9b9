/*
 * mlp.c — the MLP's fast path: batched forward, backward and Hessian-vector
 * products on the small-matrix kernels of kernels.c (see mlp.h for the
 * layout, heads and losses; the head's loss, mse, xent or lagrangian, only
 * enters head_backward, head_hvp and mlp_loss; the price head's pieces are
 * the prices_* functions).
 *
 * Row-major throughout. For layer l (nin = sizes[l] inputs, nout = sizes[l+1]
 * outputs) and a batch of k rows:
 *   forward   z (k,nout) = h (k,nin) W^T + b,  h' = act(z)   (kern_nt, bias
 *             and relu fused)
 *   backward  dW (nout,nin) += d^T h (kern_tn), db += colsum d,
 *             d_prev = (d W) * act'(z_prev) (kern_nn, relu mask fused)
 * Activation derivatives are taken from the post-activations: relu'
 * = [h > 0], tanh' = 1 - h^2, tanh'' dz = -2 h dh.
 *
 * HVP, forward-over-reverse (Pearlmutter's R-operator): for a direction
 * v = (V_l, c_l) the R-pass propagates
 *   R z = h_prev V^T + R h_prev W^T + c,   R h = act'(z) R z
 *   R d_L = (d^2 loss / dz_L^2) R z_L      (closed form per head)
 *   H v |_W = R d^T h_prev + d^T R h_prev, H v |_b = colsum R d
 *   R gh = R d W + d V,  R d_prev = R gh act'(z) + gh act''(z) R z
 * reusing the activations and backward signals the gradient pass cached.
 * The R-pass is linear in v, so it runs on v unscaled and scale is applied
 * once, where the products are added into hv. Each pair of products with a
 * common output is one fused kernel call (three per hidden layer), about
 * two forward+backward costs.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metagrid/common.h"
#include "metagrid/kernels.h"
#include "metagrid/mlp.h"
#include "metagrid/rng.h"

int mlp_layout_init(MlpLayout *lay, int in, const int *hidden, int n_hidden, int out,
                    int act, int group, MgErr *e)
{
    memset(lay, 0, sizeof *lay);
    if (in < 1 || out < 1) return mg_fail(e, MG_EUSAGE, "mlp: bad sizes in=%d out=%d", in, out);
    if (n_hidden < 0 || n_hidden > MLP_MAX_HIDDEN)
        return mg_fail(e, MG_EUSAGE, "mlp: %d hidden layers (at most %d)", n_hidden,
                       MLP_MAX_HIDDEN);
    if (act != MLP_ACT_RELU && act != MLP_ACT_TANH)
        return mg_fail(e, MG_EUSAGE, "mlp: unknown activation %d", act);
    if (group < 0 || (group > 0 && out % group != 0))
        return mg_fail(e, MG_EUSAGE, "mlp: output size %d is not a multiple of group %d", out,
                       group);
    lay->n_layers = n_hidden + 1;
    lay->sizes[0] = in;
    for (int i = 0; i < n_hidden; i++) {
        if (hidden[i] < 1) return mg_fail(e, MG_EUSAGE, "mlp: hidden width %d", hidden[i]);
        lay->sizes[i + 1] = hidden[i];
    }
    lay->sizes[lay->n_layers] = out;
    lay->act = act;
    lay->group = group;
    lay->y_dim = out;
    size_t off = 0;
    for (int l = 0; l < lay->n_layers; l++) {
        lay->w_off[l] = off;
        off += (size_t)lay->sizes[l + 1] * lay->sizes[l];
        lay->b_off[l] = off;
        off += lay->sizes[l + 1];
    }
    lay->n_params = off;
    for (int l = 0; l <= lay->n_layers; l++) lay->max_width = MG_MAX(lay->max_width, lay->sizes[l]);
    return MG_OK;
}

int mlp_layout_set_loss(MlpLayout *lay, int loss, MgErr *e)
{
    if (loss != MLP_LOSS_MSE && loss != MLP_LOSS_XENT && loss != MLP_LOSS_LAGRANGIAN)
        return mg_fail(e, MG_EUSAGE, "mlp: unknown loss %d", loss);
    if (loss == MLP_LOSS_XENT && lay->group == 0)
        return mg_fail(e, MG_EUSAGE, "mlp: the xent loss needs the allocation head (softmax "
                                     "groups); this network has a %s head",
                       lay->prices ? "price" : "linear");
    if (loss == MLP_LOSS_LAGRANGIAN && !lay->prices)
        return mg_fail(e, MG_EUSAGE, "mlp: the lagrangian loss needs the price head");
    lay->loss = loss;
    return MG_OK;
}

double mlp_anchor_logit(double a)
{
    a = a > 1e-4 ? a : 1e-4; /* also NaN -> 1e-4 */
    return a > 30.0 ? a : log(expm1(a));
}

int mlp_layout_set_anchor(MlpLayout *lay, MgErr *e)
{
    int m = lay->sizes[lay->n_layers];
    if (!lay->prices || lay->sizes[0] < m)
        return mg_fail(e, MG_EUSAGE, "mlp: an anchor needs the price head and %d inputs", m);
    lay->anchor = 1;
    return MG_OK;
}

int mlp_layout_set_prices(MlpLayout *lay, int n, double temp, MgErr *e)
{
    int m = lay->sizes[lay->n_layers];
    if (lay->group != 0)
        return mg_fail(e, MG_EUSAGE, "mlp: the price head has no softmax groups (group %d)",
                       lay->group);
    if (n < 1 || !(temp >= 0) || !isfinite(temp))
        return mg_fail(e, MG_EUSAGE, "mlp: price head with n = %d, temperature %g", n, temp);
    lay->prices = 1;
    lay->n_demand = n;
    lay->temp = temp;
    lay->y_dim = MLP_PY_DIM(n, m);
    return MG_OK;
}

int mlp_n_tensors(const MlpLayout *lay) { return 2 * lay->n_layers; }

void mlp_tensor(const MlpLayout *lay, int t, size_t *off, size_t *size)
{
    int l = t / 2;
    if (t % 2 == 0) {
        *off = lay->w_off[l];
        *size = (size_t)lay->sizes[l + 1] * lay->sizes[l];
    } else {
        *off = lay->b_off[l];
        *size = lay->sizes[l + 1];
    }
}

void mlp_cache_init(MlpCache *c) { memset(c, 0, sizeof *c); }

void mlp_cache_free(MlpCache *c)
{
    free(c->block);
    mlp_cache_init(c);
}

void mlp_cache_reserve(MlpCache *c, const MlpLayout *lay, int k)
{
    if (k <= c->cap && c->block) return;
    int L = lay->n_layers, cap = MG_MAX(k, 1);
    size_t per_row = 0;
    for (int l = 1; l <= L; l++) per_row += 4 * (size_t)lay->sizes[l]; /* h, d, gh, rh */
    per_row += (size_t)lay->sizes[L] + 2 * (size_t)lay->max_width;     /* p, rd, rgh */
    size_t wsize = 0, wmax = 0; /* W_l^T per layer, one V_l^T scratch */
    for (int l = 0; l < L; l++) {
        size_t w = (size_t)lay->sizes[l] * lay->sizes[l + 1];
        wsize += w;
        wmax = MG_MAX(wmax, w);
    }
    free(c->block);
    c->block = mg_calloc(per_row * cap + wsize + wmax, sizeof(double));
    double *q = c->block;
    for (int l = 0; l < L; l++) {
        c->wt[l] = q;
        q += (size_t)lay->sizes[l] * lay->sizes[l + 1];
    }
    c->vt = q, q += wmax;
    for (int l = 1; l <= L; l++) {
        size_t n = (size_t)cap * lay->sizes[l];
        c->h[l] = q, q += n;
        c->d[l] = q, q += n;
        c->gh[l] = q, q += n;
        c->rh[l] = q, q += n;
    }
    c->p = q, q += (size_t)cap * lay->sizes[L];
    c->rd = q, q += (size_t)cap * lay->max_width;
    c->rgh = q;
    c->cap = cap;
}

void mlp_init_params(const MlpLayout *lay, double *theta, uint64_t seed, int purpose,
                     uint64_t salt)
{
    RngStream s;
    rng_stream_init(&s, seed, (RngPurpose)purpose, 0, salt, 0);
    for (int l = 0; l < lay->n_layers; l++) {
        int nin = lay->sizes[l], nout = lay->sizes[l + 1];
        double lim = 1.0 / sqrt((double)nin);
        double *W = theta + lay->w_off[l], *b = theta + lay->b_off[l];
        for (size_t i = 0; i < (size_t)nin * nout; i++) W[i] = rng_uniform_range(&s, -lim, lim);
        for (int i = 0; i < nout; i++) b[i] = rng_uniform_range(&s, -lim, lim);
    }
}

/* Forward products h W^T of layers with nin > 1 inputs and nout >= 4
 * outputs run as h (W^T) on a transposed copy of W (kept in the cache for
 * mlp_hvp): the broadcast kernel is faster than dot products at these
 * sizes. Depth 1 (the first layer of a one-input net) and narrow outputs
 * (the regression head) stay on kern_nt. */
static int via_transpose(int nin, int nout) { return nin > 1 && nout >= 4; }

/* ---- element-wise pieces -------------------------------------------- */

static void act_forward_tanh(double *h, size_t n)
{
    for (size_t i = 0; i < n; i++) h[i] = tanh(h[i]);
}

/* d = g * tanh'(z) = g (1 - h^2), from the post-activation h; d may be g */
static void dtanh(double *d, const double *g, const double *h, size_t n)
{
    for (size_t i = 0; i < n; i++) d[i] = g[i] * (1 - h[i] * h[i]);
}

/* ---- the price head ---------------------------------------------------- */

/* softplus(z) = log(1 + e^z) and its derivative sigma(z), overflow-free */
static double softplus(double z) { return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z)); }
static double sigmoid(double z)
{
    if (z >= 0) return 1.0 / (1.0 + exp(-z));
    double t = exp(z);
    return t / (1.0 + t);
}

/* Demand row i of one target row: the reduced costs v_j = ct_ij + lam_j, their
 * minimum, and the soft-min weights' normaliser: returns smin(v) and leaves
 * *mn = min v, *zs = sum_j exp(-(v_j - mn)/tau) (tau = 0: 1, one-hot on the
 * first argmin, index in *jmin). */
static double prices_row_smin(const double *ct, const double *lam, int m, double tau,
                              double *mn, double *zs, int *jmin)
{
    double mv = ct[0] + lam[0];
    int jm = 0;
    for (int j = 1; j < m; j++)
        if (ct[j] + lam[j] < mv) mv = ct[j] + lam[j], jm = j;
    *mn = mv, *jmin = jm, *zs = 1.0;
    if (tau == 0) return mv;
    double s = 0;
    for (int j = 0; j < m; j++) s += exp(-(ct[j] + lam[j] - mv) / tau);
    *zs = s;
    return mv - tau * log(s);
}

/* pi_ij of demand row i (see prices_row_smin) */
static double prices_pi(const double *ct, const double *lam, int j, double tau, double mn,
                        double zs, int jmin)
{
    if (tau == 0) return j == jmin;
    return exp(-(ct[j] + lam[j] - mn) / tau) / zs;
}

/* The price head's loss of the cached batch (mlp.h). */
static double prices_loss(const MlpLayout *lay, const MlpCache *c, const double *y)
{
    int m = lay->sizes[lay->n_layers], n = lay->n_demand, k = c->k;
    double s = 0;
    for (int r = 0; r < k; r++) {
        const double *lam = c->p + (size_t)r * m, *yr = y + (size_t)r * lay->y_dim;
        if (lay->loss == MLP_LOSS_MSE) {
            for (int j = 0; j < m; j++) s += (lam[j] - yr[j]) * (lam[j] - yr[j]) / m;
            continue;
        }
        const double *a = yr + MLP_PY_A(n, m), *b = yr + MLP_PY_B(n, m);
        const double *ct = yr + MLP_PY_C(n, m);
        double g = 0, mn, zs;
        int jm;
        for (int i = 0; i < n; i++)
            g += a[i] * prices_row_smin(ct + (size_t)i * m, lam, m, lay->temp, &mn, &zs, &jm);
        for (int j = 0; j < m; j++) g -= b[j] * lam[j];
        s += yr[MLP_PY_OPT(n, m)] - g;
    }
    return k ? s / k : 0.0;
}

/* dL/dz (k, m) times scale into d: dL/dlam chained through the softplus. */
static void prices_backward(const MlpLayout *lay, const MlpCache *c, const double *y,
                            double scale, double *d)
{
    int m = lay->sizes[lay->n_layers], n = lay->n_demand, k = c->k;
    const double *z = c->h[lay->n_layers];
    for (int r = 0; r < k; r++) {
        const double *lam = c->p + (size_t)r * m, *yr = y + (size_t)r * lay->y_dim;
        const double *zr = z + (size_t)r * m;
        double *dr = d + (size_t)r * m;
        if (lay->loss == MLP_LOSS_MSE) {
            double a = 2.0 * scale / ((double)k * m);
            for (int j = 0; j < m; j++) dr[j] = a * (lam[j] - yr[j]) * sigmoid(zr[j]);
            continue;
        }
        const double *a = yr + MLP_PY_A(n, m), *b = yr + MLP_PY_B(n, m);
        const double *ct = yr + MLP_PY_C(n, m);
        for (int j = 0; j < m; j++) dr[j] = b[j];
        for (int i = 0; i < n; i++) { /* dr -= a_i pi_i */
            const double *ci = ct + (size_t)i * m;
            double mn, zs;
            int jm;
            prices_row_smin(ci, lam, m, lay->temp, &mn, &zs, &jm);
            for (int j = 0; j < m; j++) dr[j] -= a[i] * prices_pi(ci, lam, j, lay->temp, mn, zs, jm);
        }
        for (int j = 0; j < m; j++) dr[j] *= scale / k * sigmoid(zr[j]);
    }
}

/* R{dL/dz} (k, m) from R{z} = rz, unscaled:
 *   mse         2/(k m) (sigma^2 + (lam - y) sigma') Rz
 *   lagrangian  (1/k) (sigma H_lam (sigma Rz) + g_lam sigma' Rz), with
 *               H_lam Rl = sum_i (a_i/tau) pi_i (Rl - pi_i . Rl) and
 *               g_lam = b - sum_i a_i pi_i, sigma' = sigma (1 - sigma). */
static void prices_hvp(const MlpLayout *lay, const MlpCache *c, const double *y,
                       const double *rz, double *rd)
{
    int m = lay->sizes[lay->n_layers], n = lay->n_demand, k = c->k;
    const double *z = c->h[lay->n_layers];
    double tau = lay->temp;
    for (int r = 0; r < k; r++) {
        const double *lam = c->p + (size_t)r * m, *yr = y + (size_t)r * lay->y_dim;
        const double *zr = z + (size_t)r * m, *rzr = rz + (size_t)r * m;
        double *rdr = rd + (size_t)r * m;
        if (lay->loss == MLP_LOSS_MSE) {
            double a = 2.0 / ((double)k * m);
            for (int j = 0; j < m; j++) {
                double sg = sigmoid(zr[j]);
                rdr[j] = a * (sg * sg + (lam[j] - yr[j]) * sg * (1 - sg)) * rzr[j];
            }
            continue;
        }
        const double *a = yr + MLP_PY_A(n, m), *b = yr + MLP_PY_B(n, m);
        const double *ct = yr + MLP_PY_C(n, m);
        for (int j = 0; j < m; j++) {
            double sg = sigmoid(zr[j]);
            rdr[j] = b[j] * sg * (1 - sg) * rzr[j];
        }
        for (int i = 0; i < n; i++) {
            const double *ci = ct + (size_t)i * m;
            double mn, zs, pr = 0; /* pr = pi_i . R lam */
            int jm;
            prices_row_smin(ci, lam, m, tau, &mn, &zs, &jm);
            if (tau > 0)
                for (int j = 0; j < m; j++)
                    pr += prices_pi(ci, lam, j, tau, mn, zs, jm) * sigmoid(zr[j]) * rzr[j];
            for (int j = 0; j < m; j++) {
                double pij = prices_pi(ci, lam, j, tau, mn, zs, jm), sg = sigmoid(zr[j]);
                double h = tau > 0 ? a[i] / tau * pij * (sg * rzr[j] - pr) * sg : 0.0;
                rdr[j] += h - a[i] * pij * sg * (1 - sg) * rzr[j];
            }
        }
        for (int j = 0; j < m; j++) rdr[j] /= k;
    }
}

/* ---- forward, loss, backward ----------------------------------------- */

void mlp_forward(const MlpLayout *lay, const double *theta, const double *x, int k, MlpCache *c)
{
    MG_ASSERT(k <= c->cap);
    int L = lay->n_layers;
    c->k = k;
    c->h0 = x;
    const double *in = x;
    for (int l = 0; l < L; l++) {
        int nin = lay->sizes[l], nout = lay->sizes[l + 1], hidden = l < L - 1;
        double *z = c->h[l + 1];
        const double *W = theta + lay->w_off[l], *b = theta + lay->b_off[l];
        int epi = hidden && lay->act == MLP_ACT_RELU ? KERN_EPI_RELU : KERN_EPI_NONE;
        /* z (k,nout) = in (k,nin) W^T (nout,nin) + b, relu fused */
        if (via_transpose(nin, nout)) {
            kern_transpose(c->wt[l], W, nout, nin);
            kern_nn(z, b, in, c->wt[l], NULL, NULL, k, nout, nin, epi, NULL);
        } else {
            kern_nt(z, b, in, W, NULL, NULL, k, nout, nin, epi, NULL);
        }
        if (hidden && lay->act == MLP_ACT_TANH) act_forward_tanh(z, (size_t)k * nout);
        in = z;
    }
    if (lay->prices) {
        double *z = c->h[L];
        int m = lay->sizes[L], nin = lay->sizes[0];
        if (lay->anchor)
            for (int r = 0; r < k; r++)
                for (int j = 0; j < m; j++)
                    z[(size_t)r * m + j] += mlp_anchor_logit(x[(size_t)r * nin + nin - m + j]);
        for (size_t i = 0; i < (size_t)k * m; i++) c->p[i] = softplus(z[i]);
        return;
    }
    int m = lay->group;
    if (m > 0) {
        int out = lay->sizes[L];
        const double *z = c->h[L];
        for (size_t g = 0; g < (size_t)k * out / m; g++) {
            const double *zg = z + g * m;
            double *pg = c->p + g * m, mx = zg[0], s = 0;
            for (int j = 1; j < m; j++) mx = zg[j] > mx ? zg[j] : mx;
            for (int j = 0; j < m; j++) s += pg[j] = exp(zg[j] - mx);
            for (int j = 0; j < m; j++) pg[j] /= s;
        }
    }
}

const double *mlp_output(const MlpLayout *lay, const MlpCache *c)
{
    return lay->group > 0 || lay->prices ? c->p : c->h[lay->n_layers];
}

/* The xent loss of the cached batch: per demand row, log-sum-exp of the
 * logits minus the y-weighted logits, times 1/(rows) (see mlp.h). */
static double xent_loss(const MlpLayout *lay, const MlpCache *c, const double *y)
{
    int m = lay->group;
    size_t rows = (size_t)c->k * lay->sizes[lay->n_layers] / m;
    const double *z = c->h[lay->n_layers];
    double s = 0;
    for (size_t g = 0; g < rows; g++) {
        const double *zg = z + g * m, *yg = y + g * m;
        double mx = zg[0], se = 0;
        for (int j = 1; j < m; j++) mx = zg[j] > mx ? zg[j] : mx;
        for (int j = 0; j < m; j++) se += exp(zg[j] - mx);
        double lse = mx + log(se);
        for (int j = 0; j < m; j++) s += yg[j] * (lse - zg[j]);
    }
    return rows ? s / (double)rows : 0.0;
}

double mlp_loss(const MlpLayout *lay, const MlpCache *c, const double *y)
{
    if (lay->prices) return prices_loss(lay, c, y);
    if (lay->loss == MLP_LOSS_XENT) return xent_loss(lay, c, y);
    size_t n = (size_t)c->k * lay->sizes[lay->n_layers];
    const double *o = mlp_output(lay, c);
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (o[i] - y[i]) * (o[i] - y[i]);
    return n ? s / (double)n : 0.0;
}

/* The head's signal dL/dz_L (k,out) times scale, into d. */
static void head_backward(const MlpLayout *lay, const MlpCache *c, const double *y,
                          double scale, double *d)
{
    int out = lay->sizes[lay->n_layers], m = lay->group;
    size_t n = (size_t)c->k * out;
    double a = n ? 2.0 * scale / (double)n : 0.0;
    if (lay->prices) {
        prices_backward(lay, c, y, scale, d);
        return;
    }
    if (m == 0) {
        const double *o = c->h[lay->n_layers];
        for (size_t i = 0; i < n; i++) d[i] = a * (o[i] - y[i]);
        return;
    }
    if (lay->loss == MLP_LOSS_XENT) { /* (s p - y) scale / rows, s = sum_j y_j */
        double ax = n ? scale / (double)(n / m) : 0.0;
        for (size_t g = 0; g < n / m; g++) {
            const double *p = c->p + g * m, *yg = y + g * m;
            double *dg = d + g * m, sy = 0;
            for (int j = 0; j < m; j++) sy += yg[j];
            for (int j = 0; j < m; j++) dg[j] = ax * (sy * p[j] - yg[j]);
        }
        return;
    }
    for (size_t g = 0; g < n / m; g++) {
        const double *p = c->p + g * m, *yg = y + g * m;
        double *dg = d + g * m, S = 0;
        for (int j = 0; j < m; j++) S += p[j] * a * (p[j] - yg[j]);
        for (int j = 0; j < m; j++) dg[j] = p[j] * (a * (p[j] - yg[j]) - S);
    }
}

/*
 * The backward pass over the cached batch: the head signal times scale into
 * d[L], then per layer (last first) the parameter gradients (if grad:
 * accumulated into it or overwritten) and the signals d[l] (and gh[l] for
 * tanh) of the hidden layers.
 */
static void backward(const MlpLayout *lay, const double *theta, MlpCache *c, const double *y,
                     double scale, double *grad, int accumulate)
{
    int L = lay->n_layers, k = c->k;
    head_backward(lay, c, y, scale, c->d[L]);
    c->dscale = scale;
    for (int l = L - 1; l >= 0; l--) {
        int nin = lay->sizes[l], nout = lay->sizes[l + 1];
        const double *in = l > 0 ? c->h[l] : c->h0, *d = c->d[l + 1];
        if (grad) {
            /* dW (nout,nin) (+)= d^T (nout,k) in (k,nin); db (+)= colsum d */
            kern_tn(grad + lay->w_off[l], d, in, NULL, NULL, nout, nin, k, 1.0, accumulate);
            kern_colsum(grad + lay->b_off[l], d, k, nout, 1.0, accumulate);
        }
        if (l == 0) break;
        /* gh (k,nin) = d (k,nout) W (nout,nin); d_prev = gh act'(z), relu fused */
        const double *W = theta + lay->w_off[l];
        if (lay->act == MLP_ACT_RELU) {
            kern_nn(c->d[l], NULL, d, W, NULL, NULL, k, nin, nout, KERN_EPI_MASK, c->h[l]);
        } else {
            kern_nn(c->gh[l], NULL, d, W, NULL, NULL, k, nin, nout, KERN_EPI_NONE, NULL);
            dtanh(c->d[l], c->gh[l], c->h[l], (size_t)k * nin);
        }
    }
}

void mlp_backward(const MlpLayout *lay, const double *theta, MlpCache *c, const double *y,
                  double scale, double *grad)
{
    backward(lay, theta, c, y, scale, grad, 1);
}

void mlp_grad(const MlpLayout *lay, const double *theta, MlpCache *c, const double *y,
              double scale, double *grad)
{
    backward(lay, theta, c, y, scale, grad, 0);
}

/* ---- Hessian-vector product ------------------------------------------ */

/* R{dL/dz_L} (k,out) from R{z_L} = rz, for the unscaled loss. */
static void head_hvp(const MlpLayout *lay, const MlpCache *c, const double *y, const double *rz,
                     double *rd)
{
    int out = lay->sizes[lay->n_layers], m = lay->group;
    size_t n = (size_t)c->k * out;
    double a = n ? 2.0 / (double)n : 0.0;
    if (lay->prices) {
        prices_hvp(lay, c, y, rz, rd);
        return;
    }
    if (m == 0) {
        for (size_t i = 0; i < n; i++) rd[i] = a * rz[i];
        return;
    }
    if (lay->loss == MLP_LOSS_XENT) { /* s (diag p - p p^T) Rz / rows */
        double ax = n ? 1.0 / (double)(n / m) : 0.0;
        for (size_t g = 0; g < n / m; g++) {
            const double *p = c->p + g * m, *yg = y + g * m, *rzg = rz + g * m;
            double *rdg = rd + g * m, pr = 0, sy = 0;
            for (int j = 0; j < m; j++) pr += p[j] * rzg[j], sy += yg[j];
            for (int j = 0; j < m; j++) rdg[j] = ax * sy * p[j] * (rzg[j] - pr);
        }
        return;
    }
    for (size_t g = 0; g < n / m; g++) {
        const double *p = c->p + g * m, *yg = y + g * m, *rzg = rz + g * m;
        double *rdg = rd + g * m;
        double pr = 0; /* sum p Rz */
        for (int j = 0; j < m; j++) pr += p[j] * rzg[j];
        double S = 0, RS = 0;
        for (int j = 0; j < m; j++) {
            double rp = p[j] * (rzg[j] - pr), gp = a * (p[j] - yg[j]);
            S += p[j] * gp;
            RS += rp * gp + p[j] * a * rp;
            rdg[j] = rp; /* temporarily R p */
        }
        for (int j = 0; j < m; j++) {
            double rp = rdg[j], gp = a * (p[j] - yg[j]);
            rdg[j] = rp * (gp - S) + p[j] * (a * rp - RS);
        }
    }
}

void mlp_hvp(const MlpLayout *lay, const double *theta, MlpCache *c, const double *y,
             const double *v, double scale, double *hv)
{
    int L = lay->n_layers, k = c->k, relu = lay->act == MLP_ACT_RELU;
    /* the signals d[], gh[] of the unscaled loss */
    if (c->dscale != 1.0) backward(lay, theta, c, y, 1.0, NULL, 0);
    /* R-forward of the unit direction v: rh[l+1] = R{h_{l+1}} (R{z_L} last),
     *   R z = in V^T + R h_prev W^T + c,  R h = act'(z) R z (relu fused) */
    for (int l = 0; l < L; l++) {
        int nin = lay->sizes[l], nout = lay->sizes[l + 1], hidden = l < L - 1;
        const double *in = l > 0 ? c->h[l] : c->h0;
        double *rz = c->rh[l + 1];
        const double *V = v + lay->w_off[l], *cb = v + lay->b_off[l];
        const double *rin = l > 0 ? c->rh[l] : NULL;
        int epi = hidden && relu ? KERN_EPI_MASK : KERN_EPI_NONE;
        if (via_transpose(nin, nout)) { /* W^T cached by mlp_forward */
            kern_transpose(c->vt, V, nout, nin);
            kern_nn(rz, cb, in, c->vt, rin, c->wt[l], k, nout, nin, epi, c->h[l + 1]);
        } else {
            kern_nt(rz, cb, in, V, rin, theta + lay->w_off[l], k, nout, nin, epi, c->h[l + 1]);
        }
        if (hidden && !relu) dtanh(rz, rz, c->h[l + 1], (size_t)k * nout);
    }
    /* R-backward; rd / rgh ping-pong. At layer l, V_l is read (R gh) before
     * hv's layer l is written, so v may be hv. */
    double *rd = c->rd, *nx = c->rgh;
    head_hvp(lay, c, y, c->rh[L], rd);
    for (int l = L - 1; l >= 0; l--) {
        int nin = lay->sizes[l], nout = lay->sizes[l + 1];
        const double *in = l > 0 ? c->h[l] : c->h0, *d = c->d[l + 1];
        if (l > 0) /* R gh (k,nin) = R d W + d V, relu' fused */
            kern_nn(nx, NULL, rd, theta + lay->w_off[l], d, v + lay->w_off[l], k, nin, nout,
                    relu ? KERN_EPI_MASK : KERN_EPI_NONE, c->h[l]);
        /* Hv|_W += scale (R d^T in + d^T R in),  Hv|_b += scale colsum R d */
        kern_tn(hv + lay->w_off[l], rd, in, l > 0 ? d : NULL, l > 0 ? c->rh[l] : NULL, nout,
                nin, k, scale, 1);
        kern_colsum(hv + lay->b_off[l], rd, k, nout, scale, 1);
        if (l == 0) break;
        if (relu) {
            double *t = rd;
            rd = nx, nx = t;
        } else { /* R d_prev = R gh (1 - h^2) - 2 h R h gh */
            const double *h = c->h[l], *gh = c->gh[l], *rh = c->rh[l];
            for (size_t i = 0; i < (size_t)k * nin; i++)
                rd[i] = nx[i] * (1 - h[i] * h[i]) - 2 * h[i] * rh[i] * gh[i];
        }
    }
}
