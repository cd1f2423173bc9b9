/*
 * mlp_ref.c — the slow, obviously-correct MLP: one row at a time, plain
 * loops, no BLAS, no cache. The fast path (mlp.c) is tested against it
 * (tests/test_mlp.c); nothing else should call it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metagrid/common.h"
#include "metagrid/mlp.h"
#include "mlp_ref.h"

/* Backpropagate one row's dL/dz_L (in dh at hoff[L]) into grad. */
static void ref_backprop(const MlpLayout *lay, const double *theta, const double *h, double *dh,
                         const size_t *hoff, double *grad)
{
    for (int l = lay->n_layers - 1; l >= 0; l--) {
        int I = lay->sizes[l], O = lay->sizes[l + 1];
        const double *W = theta + lay->w_off[l];
        double *gW = grad + lay->w_off[l], *gb = grad + lay->b_off[l];
        for (int a = 0; a < O; a++) {
            gb[a] += dh[hoff[l + 1] + a];
            for (int i = 0; i < I; i++) gW[(size_t)a * I + i] += dh[hoff[l + 1] + a] * h[hoff[l] + i];
        }
        if (l == 0) break;
        for (int i = 0; i < I; i++) {
            double s = 0, hi = h[hoff[l] + i];
            for (int a = 0; a < O; a++) s += W[(size_t)a * I + i] * dh[hoff[l + 1] + a];
            dh[hoff[l] + i] = lay->act == MLP_ACT_RELU ? (hi > 0 ? s : 0) : s * (1 - hi * hi);
        }
    }
}

/* The price head on one row: lam = log(1 + exp(z)) into lam, the row's loss
 * (already divided by its share of the mean) returned, dL/dz into dz.
 * Written from the definitions (mlp.h) with plain loops. */
static double ref_prices(const MlpLayout *lay, const double *z, const double *yr, int k,
                         double *lam, double *dz)
{
    int m = lay->sizes[lay->n_layers], n = lay->n_demand;
    double tau = lay->temp, loss = 0;
    double *dlam = mg_calloc(m, sizeof(double));
    for (int j = 0; j < m; j++) lam[j] = log(1 + exp(z[j]));
    if (lay->loss == MLP_LOSS_MSE) {
        for (int j = 0; j < m; j++) {
            loss += (lam[j] - yr[j]) * (lam[j] - yr[j]) / ((double)k * m);
            dlam[j] = 2 * (lam[j] - yr[j]) / ((double)k * m);
        }
    } else {
        const double *a = yr + m + 1, *b = yr + m + 1 + n, *ct = yr + 2 * m + 1 + n;
        double g = 0;
        for (int j = 0; j < m; j++) g -= b[j] * lam[j], dlam[j] = b[j];
        for (int i = 0; i < n; i++) {
            double mn = INFINITY, s = 0;
            int jm = 0;
            for (int j = 0; j < m; j++)
                if (ct[i * m + j] + lam[j] < mn) mn = ct[i * m + j] + lam[j], jm = j;
            if (tau > 0) {
                for (int j = 0; j < m; j++) s += exp(-(ct[i * m + j] + lam[j] - mn) / tau);
                g += a[i] * (mn - tau * log(s));
                for (int j = 0; j < m; j++)
                    dlam[j] -= a[i] * exp(-(ct[i * m + j] + lam[j] - mn) / tau) / s;
            } else {
                g += a[i] * mn;
                dlam[jm] -= a[i];
            }
        }
        loss = (yr[m] - g) / k;
        for (int j = 0; j < m; j++) dlam[j] /= k;
    }
    for (int j = 0; j < m; j++) dz[j] = dlam[j] / (1 + exp(-z[j]));
    free(dlam);
    return loss;
}

double mlp_ref_loss_grad(const MlpLayout *lay, const double *theta, const double *x,
                         const double *y, int k, double *out, double *grad)
{
    int L = lay->n_layers, outd = lay->sizes[L], m = lay->group;
    size_t width = 0;
    for (int l = 0; l <= L; l++) width += lay->sizes[l];
    double *h = mg_calloc(width, sizeof(double));     /* activations of one row */
    double *dh = mg_calloc(width, sizeof(double));    /* dL/dz per layer */
    double *pr = mg_calloc(outd, sizeof(double));
    size_t hoff[MLP_MAX_LAYERS + 1], o = 0;
    for (int l = 0; l <= L; l++) hoff[l] = o, o += lay->sizes[l];
    if (grad) memset(grad, 0, lay->n_params * sizeof(double));
    int xent = lay->loss == MLP_LOSS_XENT && m > 0;
    double N = (double)k * outd, loss = 0;
    double R = m > 0 ? (double)k * (outd / m) : 1; /* demand rows (xent) */
    double *lp = mg_calloc(outd, sizeof(double));   /* log p (xent) */

    for (int r = 0; r < k; r++) {
        for (int i = 0; i < lay->sizes[0]; i++) h[i] = x[(size_t)r * lay->sizes[0] + i];
        for (int l = 0; l < L; l++) {
            int I = lay->sizes[l], O = lay->sizes[l + 1];
            const double *W = theta + lay->w_off[l], *b = theta + lay->b_off[l];
            for (int a = 0; a < O; a++) {
                double z = b[a];
                for (int i = 0; i < I; i++) z += W[(size_t)a * I + i] * h[hoff[l] + i];
                if (l < L - 1) z = lay->act == MLP_ACT_RELU ? (z > 0 ? z : 0) : tanh(z);
                h[hoff[l + 1] + a] = z;
            }
        }
        const double *z = h + hoff[L], *yr = y + (size_t)r * outd;
        if (lay->prices) { /* price head: its own loss and signal */
            yr = y + (size_t)r * lay->y_dim;
            loss += ref_prices(lay, z, yr, k, pr, dh + hoff[L]);
            if (out) memcpy(out + (size_t)r * outd, pr, outd * sizeof(double));
            if (grad) ref_backprop(lay, theta, h, dh, hoff, grad);
            continue;
        }
        if (m == 0) {
            for (int a = 0; a < outd; a++) pr[a] = z[a];
        } else {
            for (int g = 0; g < outd / m; g++) {
                double mx = z[g * m], s = 0;
                for (int j = 0; j < m; j++) mx = fmax(mx, z[g * m + j]);
                for (int j = 0; j < m; j++) s += exp(z[g * m + j] - mx);
                for (int j = 0; j < m; j++) pr[g * m + j] = exp(z[g * m + j] - mx) / s;
                for (int j = 0; j < m; j++) lp[g * m + j] = z[g * m + j] - mx - log(s);
            }
        }
        for (int a = 0; a < outd; a++) {
            if (xent) loss -= yr[a] * lp[a] / R;
            else loss += (pr[a] - yr[a]) * (pr[a] - yr[a]) / N;
            if (out) out[(size_t)r * outd + a] = pr[a];
        }
        if (!grad) continue;
        /* dL/dz_L: through the softmax Jacobian p_j (delta_jl - p_l) for groups,
         * from dL/dp = 2 (p - y) / N (mse) or -y / (R p) (xent) */
        double *dz = dh + hoff[L];
        for (int a = 0; a < outd; a++) {
            if (m == 0) {
                dz[a] = 2 * (pr[a] - yr[a]) / N;
            } else {
                int g = a / m;
                double s = 0;
                for (int j = 0; j < m; j++) {
                    int b2 = g * m + j;
                    double jac = pr[b2] * ((b2 == a) - pr[a]); /* dp_b2 / dz_a */
                    double dldp = xent ? -yr[b2] / (R * pr[b2]) : 2 * (pr[b2] - yr[b2]) / N;
                    s += dldp * jac;
                }
                dz[a] = s;
            }
        }
        ref_backprop(lay, theta, h, dh, hoff, grad);
    }
    free(h);
    free(dh);
    free(pr);
    free(lp);
    return loss;
}
