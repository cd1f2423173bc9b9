/*
 * policy.c — fast one-instance inference of an adapted allocation network
 * (see policy.h).
 *
 * Layer l of the forward pass is z = b + h W^T, computed as kern_nn on the
 * stored W^T (the same kernel and summation order mlp_forward uses, so the
 * fractions agree with learner_predict up to rounding of the first-layer
 * split below). The first-layer cache holds b_0 + f_c W_0c^T where f_c are
 * the cost features of c_task: z_0 = cache + f_ds W_0ds^T. A network
 * trained with task.observe_costs = false has in = n + m (no cost features):
 * its features are task_features_ds, c is used only by repair and polish,
 * and there is nothing to cache.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metagrid/alloc.h"
#include "metagrid/anchor.h"
#include "metagrid/cert.h"
#include "metagrid/common.h"
#include "metagrid/kernels.h"
#include "metagrid/policy.h"
#include "metagrid/task.h"

struct Policy {
    MlpLayout lay;
    int n, m, in;
    double *wt[MLP_MAX_LAYERS]; /* (sizes[l], sizes[l+1]) W_l^T */
    const double *b[MLP_MAX_LAYERS];
    double *h[2];               /* (max_width) ping-pong activations */
    double *feat;               /* (in) */
    double *z0c;                /* (sizes[1]) b_0 + cost-feature part */
    double *c_task;             /* (n*m) costs z0c belongs to */
    int cached;
    int costs_in;               /* the costs are network inputs (in = n + m + n*m) */
    const double *z;            /* logits of the last instance */
    double sparsify;
    int polish;
    double *rwork;              /* alloc_repair scratch */
    void *pwork;                /* alloc_polish scratch */
    void *dwork;                /* cert_decode scratch (price head) */
    int ascent;                 /* price head: cert_ascent steps before the decode */
    const TaskData *sup;        /* anchored price head: the support hours (borrowed) */
};

Policy *policy_create(const MlpLayout *lay, int n, int m)
{
    int out = lay->sizes[lay->n_layers];
    int na = lay->anchor ? m : 0; /* anchor.h: the last m inputs */
    MG_ASSERT((lay->sizes[0] == n + m + n * m + na || lay->sizes[0] == n + m + na) &&
              (lay->prices ? lay->group == 0 && out == m : lay->group == m && out == n * m));
    Policy *P = mg_calloc(1, sizeof *P);
    P->lay = *lay;
    P->n = n;
    P->m = m;
    P->in = lay->sizes[0];
    P->costs_in = P->in - na > n + m;
    for (int l = 0; l < lay->n_layers; l++)
        P->wt[l] = mg_calloc((size_t)lay->sizes[l] * lay->sizes[l + 1], sizeof(double));
    P->h[0] = mg_calloc((size_t)lay->max_width, sizeof(double));
    P->h[1] = mg_calloc((size_t)lay->max_width, sizeof(double));
    P->feat = mg_calloc((size_t)P->in, sizeof(double));
    P->z0c = mg_calloc((size_t)lay->sizes[1], sizeof(double));
    P->c_task = mg_calloc((size_t)n * m, sizeof(double));
    P->rwork = mg_calloc((size_t)n * m + n + m, sizeof(double));
    P->pwork = mg_malloc(alloc_polish_work_bytes(n, m));
    if (lay->prices) P->dwork = mg_malloc(cert_decode_work_bytes(n, m));
    P->polish = 8;
    return P;
}

void policy_destroy(Policy *P)
{
    if (!P) return;
    for (int l = 0; l < P->lay.n_layers; l++) free(P->wt[l]);
    free(P->h[0]);
    free(P->h[1]);
    free(P->feat);
    free(P->z0c);
    free(P->c_task);
    free(P->rwork);
    free(P->pwork);
    free(P->dwork);
    free(P);
}

void policy_set_support(Policy *P, const TaskData *sup) { P->sup = sup; }

void policy_set_ascent(Policy *P, int steps) { P->ascent = steps > 0 ? steps : 0; }

void policy_set_decode(Policy *P, double sparsify, int polish)
{
    P->sparsify = sparsify;
    P->polish = polish;
}

void policy_set_theta(Policy *P, const double *theta, const double *c_task)
{
    const MlpLayout *lay = &P->lay;
    for (int l = 0; l < lay->n_layers; l++) {
        kern_transpose(P->wt[l], theta + lay->w_off[l], lay->sizes[l + 1], lay->sizes[l]);
        P->b[l] = theta + lay->b_off[l];
    }
    P->cached = c_task != NULL && P->costs_in && !lay->anchor; /* the anchor is an input too */
    if (!P->cached) return;
    int n = P->n, m = P->m, nm = n * m, h1 = lay->sizes[1], nds = n + m;
    memcpy(P->c_task, c_task, sizeof(double) * nm);
    /* The cost features do not depend on d and s: compute them with zero d, s. */
    for (int i = 0; i < nds; i++) P->h[0][i] = 0.0;
    task_features(n, m, P->h[0], P->h[0] + n, c_task, P->feat);
    kern_nn(P->z0c, P->b[0], P->feat + nds, P->wt[0] + (size_t)nds * h1, NULL, NULL, 1, h1, nm,
            KERN_EPI_NONE, NULL);
}

/* Features and forward pass of one instance; returns the logits (sizes[L]). */
static const double *forward(Policy *P, const double *d, const double *s, const double *c)
{
    const MlpLayout *lay = &P->lay;
    int L = lay->n_layers, nm = P->n * P->m, nds = P->n + P->m;
    int hit = P->cached && !memcmp(c, P->c_task, sizeof(double) * nm);
    if (hit || !P->costs_in) task_features_ds(P->n, P->m, d, s, P->feat);
    else task_features(P->n, P->m, d, s, c, P->feat);
    if (lay->anchor) {
        MG_ASSERT(P->sup != NULL); /* policy_set_support */
        anchor_of(P->sup, P->feat, c, -1, P->feat + P->in - P->m);
    }
    const double *in = P->feat;
    double *z = NULL;
    for (int l = 0; l < L; l++) {
        int nin = lay->sizes[l], nout = lay->sizes[l + 1], hidden = l < L - 1;
        int epi = hidden && lay->act == MLP_ACT_RELU ? KERN_EPI_RELU : KERN_EPI_NONE;
        z = P->h[l & 1];
        if (l == 0 && hit)
            kern_nn(z, P->z0c, in, P->wt[0], NULL, NULL, 1, nout, nds, epi, NULL);
        else
            kern_nn(z, P->b[l], in, P->wt[l], NULL, NULL, 1, nout, nin, epi, NULL);
        if (hidden && lay->act == MLP_ACT_TANH)
            for (int o = 0; o < nout; o++) z[o] = tanh(z[o]);
        in = z;
    }
    if (lay->anchor)
        for (int j = 0; j < P->m; j++) z[j] += mlp_anchor_logit(P->feat[P->in - P->m + j]);
    P->z = z;
    return z;
}

void policy_fractions(const Policy *P, double *p)
{
    int n = P->n, m = P->m;
    for (int i = 0; i < n; i++) {
        const double *zi = P->z + (size_t)i * m;
        double *pi = p + (size_t)i * m, mx = zi[0], sum = 0;
        for (int j = 1; j < m; j++) mx = zi[j] > mx ? zi[j] : mx;
        for (int j = 0; j < m; j++) sum += pi[j] = exp(zi[j] - mx);
        for (int j = 0; j < m; j++) pi[j] /= sum;
    }
}

/*
 * Decoding: p_ij / max_j p_ij = exp(z_ij - max_j z_ij); entries with this
 * ratio below `sparsify` are dropped and the rest renormalised to d_i, so
 * only kept entries need an exp (sparsify = 1: argmax only, no exp at all;
 * 0: every p_ij, the plain softmax split).
 */
int policy_alloc_unpolished(Policy *P, const double *d, const double *s, const double *c,
                            double *p, double *xraw, double *x)
{
    int n = P->n, m = P->m;
    const double *z = forward(P, d, s, c);
    double lkeep = P->sparsify > 0 ? log(P->sparsify) : -INFINITY;
    for (int i = 0; i < n; i++) {
        const double *zi = z + (size_t)i * m;
        double *xi = xraw + (size_t)i * m, mx = zi[0], sum = 0;
        int am = 0;
        for (int j = 1; j < m; j++)
            if (zi[j] > mx) mx = zi[am = j];
        if (lkeep >= 0.0) { /* argmax */
            for (int j = 0; j < m; j++) xi[j] = 0.0;
            xi[am] = d[i];
            continue;
        }
        for (int j = 0; j < m; j++) sum += xi[j] = zi[j] - mx >= lkeep ? exp(zi[j] - mx) : 0.0;
        double f = d[i] / sum;
        for (int j = 0; j < m; j++) xi[j] *= f;
    }
    if (p) policy_fractions(P, p);
    return alloc_repair(n, m, d, s, c, xraw, x, P->rwork);
}

void policy_polish(Policy *P, const double *s, const double *c, double *x)
{
    if (P->polish > 0) alloc_polish(P->n, P->m, s, c, x, P->polish, P->pwork);
}

int policy_alloc(Policy *P, const double *d, const double *s, const double *c, double *p,
                 double *xraw, double *x)
{
    int rc = policy_alloc_unpolished(P, d, s, c, p, xraw, x);
    policy_polish(P, s, c, x);
    return rc;
}

/*
 * The price head: lambda_j = cbar softplus(z_j) (cbar = the instance's mean
 * cost, the scale the network was trained in), then cert_decode from lambda
 * and the Lagrangian bound g(lambda) of the same prices (with ascent steps:
 * cert_ascent first improves the network's prices; the decode and the bound
 * then both use the improved prices). No polish: the decode is the price
 * head's own primal recovery.
 */
void policy_predict_prices(Policy *P, const double *d, const double *s, const double *c,
                           double *lambda)
{
    MG_ASSERT(P->lay.prices);
    int nm = P->n * P->m;
    const double *z = forward(P, d, s, c);
    double sc = 0.0;
    for (int k = 0; k < nm; k++) sc += c[k];
    double cbar = sc / nm;
    if (!(cbar > 0.0)) cbar = 1.0;
    for (int j = 0; j < P->m; j++)
        lambda[j] = cbar * (z[j] > 0 ? z[j] + log1p(exp(-z[j])) : log1p(exp(z[j])));
}

int policy_prices(Policy *P, const double *d, const double *s, const double *c,
                  double *lambda, double *x, double *lower_bound)
{
    int n = P->n, m = P->m;
    policy_predict_prices(P, d, s, c, lambda);
    double lb = P->ascent > 0 ? cert_ascent(n, m, c, d, s, lambda, P->ascent) : NAN;
    int rc = cert_decode(n, m, c, d, s, lambda, x, P->dwork);
    if (lower_bound) *lower_bound = P->ascent > 0 ? lb : cert_lower_bound(n, m, c, d, s, lambda);
    return rc;
}
