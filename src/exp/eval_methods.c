/*
 * eval_methods.c — the evaluation's methods on one task and the per-hour
 * pipeline every heuristic shares: propose, repair, polish, certificate,
 * fallback (see eval.c for the run around them, eval.h for the metrics).
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval_internal.h"
#include "metagrid/alloc.h"
#include "metagrid/anchor.h"
#include "metagrid/cert.h"

/* ---- per-hour pieces ---------------------------------------------------- */

typedef struct {
    const double *d, *s, *c; /* the hour's data */
    size_t row;              /* t * Q + q */
    int t, q;
} Hour;

static Hour hour_of(const Ctx *x, const MethodTask *mt, int q)
{
    const TaskData *qd = mt->qd;
    int t = mt->t;
    Hour h = {.d = qd->d + (size_t)q * x->n, .s = qd->s + (size_t)q * x->m,
              .c = qd->c + (size_t)q * x->n * x->m, .row = (size_t)t * x->Q + q, .t = t, .q = q};
    return h;
}

/* What a heuristic method proposes for one hour: the feasible allocation a,
 * the allocation before repair raw (may equal a), the seconds spent so far,
 * and its own capacity prices with their bound (own_lam NULL: none; own_lb
 * NAN: not yet computed). */
typedef struct {
    double *a;
    const double *raw;
    double secs;
    const double *own_lam;
    double own_lb;
} Proposal;

/* Squared error of fractions p against targets y (k values), mean. */
static double mse_of(const double *p, const double *y, int k)
{
    double s = 0;
    for (int j = 0; j < k; j++) s += (p[j] - y[j]) * (p[j] - y[j]);
    return s / k;
}

/* The optimal split of query hour q (task_targets of its GLPK optimum) into x->yt. */
static const double *split_target(Ctx *x, const TaskData *qd, int q)
{
    size_t nm = (size_t)x->n * x->m;
    task_targets(x->n, x->m, qd->s + (size_t)q * x->m, qd->c + q * nm, qd->xopt + q * nm, x->yt);
    return x->yt;
}

/* The MSE of allocation a as per-demand fractions against the optimal split. */
static double alloc_mse(Ctx *x, const TaskData *qd, const Hour *h, const double *a)
{
    int n = x->n, m = x->m;
    const double *y = split_target(x, qd, h->q);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++)
            x->p[i * m + j] = h->d[i] > 0 ? a[i * m + j] / h->d[i] : y[i * m + j];
    return mse_of(x->p, y, n * m);
}

/* The support hour of sd nearest to (d, s) in (d, s) features (anchor.h:
 * squared distance, lowest index on ties); the hour's features are timed. */
static int nearest_support(Ctx *x, const TaskData *sd, const double *d, const double *s)
{
    task_features_ds(x->n, x->m, d, s, x->feat);
    int r = anchor_nearest(sd, x->feat, -1);
    return r < 0 ? 0 : r;
}

static double dot(const double *a, const double *b, size_t k)
{
    double s = 0;
    for (size_t i = 0; i < k; i++) s += a[i] * b[i];
    return s;
}

/* Certified relative gap of a cost against a bound. */
static double cert_gap_of(double cost, double lb)
{
    if (!isfinite(lb) || !isfinite(cost)) return INFINITY;
    if (cost == lb) return 0.0;
    return lb > 0.0 ? (cost - lb) / lb : INFINITY;
}

/* Re-solve hour h exactly (eval.fallback): the transportation simplex from
 * the prices the certificate ended with (x->lam), or GLPK warm-started (x->fb:
 * its basis starts at the task's last support hour), also when the simplex
 * stops at its pivot cap. The optimal cost into *cost. */
static int fallback_solve(Ctx *x, const Hour *h, double *cost, MgErr *e)
{
    if (x->cfg->eval.fallback == FALLBACK_SIMPLEX) {
        TransportResult tr;
        if (transport_solve(x->tr, h->d, h->s, h->c, x->lam, x->xg, NULL, &tr) == 0 &&
            tr.optimal) {
            *cost = tr.obj;
            return MG_OK;
        }
    }
    char what[80];
    snprintf(what, sizeof what, "eval task %d query hour %d (fallback)", h->t, h->q);
    LpResult res = {.x = x->xg};
    if (lp_solve(x->fb, h->d, h->s, h->c, LP_WARM, &res, what, e) != MG_OK) return e->code;
    *cost = res.obj;
    return MG_OK;
}

/*
 * The common last stage of every heuristic method for one hour h of
 * proposal p (Proposal). Measured before the polish (gap0, untimed),
 * polished (eval.polish passes, timed), measured, then certified (timed):
 * own prices p->own_lam (with their bound p->own_lb, or NAN) or else the
 * nearest support hour's prices, up to EVAL_ASCENT_STEPS ascent steps when
 * above tolerance, then the warm-solver fallback when still above.
 */
static int finish_hour(Ctx *x, const MethodTask *mt, const Hour *h, const Proposal *p, MgErr *e)
{
    int n = x->n, m = x->m;
    const TaskData *sd = mt->sd;
    const Cols *c = mt->c;
    double *a = p->a;
    const double *raw = p->raw, *own_lam = p->own_lam;
    double secs = p->secs, own_lb = p->own_lb;
    size_t nm = (size_t)n * m, row = h->row;
    double opt = x->opt[row], tol = x->cfg->eval.tolerance;
    AllocMetrics am;
    alloc_metrics(n, m, h->d, h->s, h->c, raw, opt, &am);
    c->vraw[row] = am.viol_max_rel;
    alloc_metrics(n, m, h->d, h->s, h->c, a, opt, &am);
    c->gap0[row] = am.gap;
    double t0 = mg_now();
    if (x->cfg->eval.polish > 0) alloc_polish(n, m, h->s, h->c, a, x->cfg->eval.polish, x->pwork);
    double tp = mg_now() - t0;
    alloc_metrics(n, m, h->d, h->s, h->c, a, opt, &am);
    c->gap[row] = am.gap;
    c->viol[row] = am.viol_max_rel;
    c->feas[row] = am.feasible ? 1.0 : 0.0;

    t0 = mg_now();
    double cost = dot(h->c, a, nm), lb = own_lb;
    if (own_lam) memcpy(x->lam, own_lam, sizeof(double) * m);
    else memcpy(x->lam, sd->lambda + (size_t)nearest_support(x, sd, h->d, h->s) * m,
                sizeof(double) * m);
    if (!own_lam || isnan(lb)) lb = cert_lower_bound(n, m, h->c, h->d, h->s, x->lam);
    double cg = cert_gap_of(cost, lb);
    if (cg > tol && x->cfg->eval.fallback == FALLBACK_SOLVER) {
        /* (the simplex fallback starts from these prices instead: it is exact and
         * costs less than the ascent steps) */
        lb = fmax(lb, cert_ascent(n, m, h->c, h->d, h->s, x->lam, EVAL_ASCENT_STEPS));
        cg = cert_gap_of(cost, lb);
    }
    int fb = cg > tol;
    if (fb && fallback_solve(x, h, &cost, e) != MG_OK) return e->code;
    double tc = mg_now() - t0;
    c->latp[row] = tp;
    c->prop[row] = secs + tp;
    c->lat[row] = secs + tp + tc;
    c->cost[row] = cost;
    c->lb[row] = lb;
    c->cg[row] = cg;
    c->fb[row] = fb;
    return MG_OK;
}

/* The fallback solver starts every (method, task) from the task's last
 * support hour's basis (untimed: the same state as solver_warm's). */
static int prime_solver(Ctx *x, LpSolver *lp, const TaskData *sd, int t, double *secs, MgErr *e)
{
    int r = sd->k - 1, n = x->n, m = x->m;
    char what[64];
    snprintf(what, sizeof what, "eval task %d support hour %d", t, r);
    LpResult res = {.x = x->xg};
    double t0 = mg_now();
    int rc = lp_solve(lp, sd->d + (size_t)r * n, sd->s + (size_t)r * m,
                      sd->c + (size_t)r * n * m, LP_DUAL_COLD, &res, what, e);
    if (secs) *secs = mg_now() - t0;
    return rc;
}

/* ---- methods on one task ---------------------------------------------- */

/* The network of checkpoint ckpt (its learner, policy and head) with
 * parameters theta on every query hour of the task; loss is its query loss
 * (the price head's mse column). Sinusoid: learner_predict. LP: the policy
 * (frozen once per task from theta and the support costs, timed into adapt),
 * then per hour from its raw (d, s, c), timed: features + forward + decode
 * (+ repair for the allocation head; cert_decode for the price head), then
 * finish_hour. */
int eval_learned(Ctx *x, const MethodTask *mt, int ckpt, const double *theta, double loss,
                 MgErr *e)
{
    Learner *L = x->L[ckpt];
    Policy *P = x->pol[ckpt];
    int prices = x->prices[ckpt], t = mt->t;
    const TaskData *sd = mt->sd, *qd = mt->qd;
    const Cols *c = mt->c;
    if (!x->lp) {
        for (int q = 0; q < x->Q; q++) {
            size_t row = (size_t)t * x->Q + q;
            double t0 = mg_now();
            learner_predict(L, theta, qd->x + (size_t)q * x->in_dim, 1, x->p);
            c->lat[row] = mg_now() - t0;
            c->mse[row] = mse_of(x->p, qd->y + (size_t)q * qd->y_dim, qd->out_dim);
        }
        return MG_OK;
    }
    double t0 = mg_now();
    policy_set_theta(P, theta, sd->c);
    policy_set_support(P, sd);
    c->adapt[t] += mg_now() - t0;
    if (prime_solver(x, x->fb, sd, t, NULL, e) != MG_OK) return e->code;
    double lb = NAN;
    for (int q = 0; q < x->Q; q++) {
        Hour h = hour_of(x, mt, q);
        if (q == 0) { /* warm-up */
            if (prices) policy_prices(P, h.d, h.s, h.c, x->lam, x->y, &lb);
            else policy_alloc_unpolished(P, h.d, h.s, h.c, NULL, x->xr, x->y);
        }
        t0 = mg_now();
        if (prices) policy_prices(P, h.d, h.s, h.c, x->lam, x->y, &lb);
        else policy_alloc_unpolished(P, h.d, h.s, h.c, NULL, x->xr, x->y);
        double secs = mg_now() - t0;
        if (prices) {
            c->mse[h.row] = loss; /* the head's own loss on the query set */
            memcpy(x->v, x->lam, sizeof(double) * x->m);
            Proposal p = {.a = x->y, .raw = x->y, .secs = secs, .own_lam = x->v, .own_lb = lb};
            if (finish_hour(x, mt, &h, &p, e)) return e->code;
        } else {
            policy_fractions(P, x->p);
            c->mse[h.row] = mse_of(x->p, split_target(x, qd, q), x->n * x->m);
            Proposal p = {.a = x->y, .raw = x->xr, .secs = secs, .own_lam = NULL, .own_lb = NAN};
            if (finish_hour(x, mt, &h, &p, e)) return e->code;
        }
    }
    return MG_OK;
}

/* Row i of split (m) as an allocation of di: each demand on its largest
 * share(s) (EVAL_SPARSIFY), scaled to di. */
static void decode_split_row(int m, const double *split, double di, double *xi)
{
    double mx = 0, sum = 0;
    for (int j = 0; j < m; j++) mx = split[j] > mx ? split[j] : mx;
    for (int j = 0; j < m; j++) sum += xi[j] = split[j] >= EVAL_SPARSIFY * mx ? split[j] : 0.0;
    for (int j = 0; j < m; j++) xi[j] = sum > 0 ? xi[j] * (di / sum) : 0.0;
}

/* The split x_ij / sum_j x_ij of support hour r's optimum, row i, into out (m). */
static void support_split_row(const Ctx *x, const TaskData *sd, int r, int i, double *out)
{
    int m = x->m;
    const double *xo = sd->xopt + ((size_t)r * x->n + i) * m;
    double sum = 0;
    for (int j = 0; j < m; j++) sum += xo[j];
    for (int j = 0; j < m; j++) out[j] = sum > 0 ? xo[j] / sum : 0.0;
}

/* support_mean, greedy, nearest, support_duals on every query hour of task t. */
int eval_baseline(Ctx *x, int kind, const MethodTask *mt, MgErr *e)
{
    int n = x->n, m = x->m, t = mt->t;
    const TaskData *sd = mt->sd, *qd = mt->qd;
    const Cols *c = mt->c;
    double t0 = mg_now();
    if (kind == EVAL_SUPPORT_MEAN) { /* the mean support split, once per task */
        memset(x->mean, 0, sizeof(double) * n * m);
        for (int r = 0; r < sd->k; r++)
            for (int i = 0; i < n; i++) {
                support_split_row(x, sd, r, i, x->xg);
                for (int j = 0; j < m; j++) x->mean[i * m + j] += x->xg[j] / sd->k;
            }
    }
    c->adapt[t] = mg_now() - t0;
    if (prime_solver(x, x->fb, sd, t, NULL, e) != MG_OK) return e->code;
    for (int q = 0; q < x->Q; q++) {
        Hour h = hour_of(x, mt, q);
        const double *own = NULL;
        double own_lb = NAN;
        t0 = mg_now();
        if (kind == EVAL_SUPPORT_MEAN) {
            for (int i = 0; i < n; i++)
                decode_split_row(m, x->mean + i * m, h.d[i], x->xr + i * m);
        } else if (kind == EVAL_NEAREST) {
            int r = nearest_support(x, sd, h.d, h.s);
            for (int i = 0; i < n; i++) {
                support_split_row(x, sd, r, i, x->xr + i * m);
                for (int j = 0; j < m; j++) x->xr[i * m + j] *= h.d[i];
            }
        } else if (kind == EVAL_SUPPORT_DUALS) {
            own = sd->lambda + (size_t)nearest_support(x, sd, h.d, h.s) * m;
            cert_decode(n, m, h.c, h.d, h.s, own, x->xr, x->cwork);
            own_lb = cert_lower_bound(n, m, h.c, h.d, h.s, own);
        } else {
            alloc_greedy(n, m, h.d, h.s, h.c, x->xr);
        }
        alloc_repair(n, m, h.d, h.s, h.c, x->xr, x->y, x->work);
        double secs = mg_now() - t0;
        c->mse[h.row] = alloc_mse(x, qd, &h, x->y);
        if (own) memcpy(x->v, own, sizeof(double) * m);
        Proposal p = {.a = x->y, .raw = x->xr, .secs = secs, .own_lam = own ? x->v : NULL,
                      .own_lb = own_lb};
        if (finish_hour(x, mt, &h, &p, e)) return e->code;
    }
    return MG_OK;
}

/* The last stage of an exact method's hour (the solve started at t0 and
 * left its allocation in x->xg, its prices in x->lam): the certificate of
 * those prices (timed), the metrics, the columns; fb: a fallback solve ran. */
static void exact_hour(Ctx *x, const MethodTask *mt, const Hour *h, double t0, double mse,
                       int fb)
{
    int n = x->n, m = x->m;
    const Cols *c = mt->c;
    double t1 = mg_now();
    double lb = cert_lower_bound(n, m, h->c, h->d, h->s, x->lam);
    double t2 = mg_now();
    AllocMetrics am;
    alloc_metrics(n, m, h->d, h->s, h->c, x->xg, x->opt[h->row], &am);
    c->mse[h->row] = mse;
    c->gap[h->row] = c->gap0[h->row] = am.gap;
    c->vraw[h->row] = c->viol[h->row] = am.viol_max_rel;
    c->feas[h->row] = am.feasible;
    c->prop[h->row] = t1 - t0;
    c->lat[h->row] = t2 - t0;
    c->cost[h->row] = am.cost;
    c->lb[h->row] = lb;
    c->cg[h->row] = cert_gap_of(am.cost, lb);
    c->fb[h->row] = fb;
}

/* solver (cold) or solver_warm on every query hour: exact; the certificate
 * is the bound of the solve's own duals (timed); never a fallback. */
int eval_solver(Ctx *x, int warm, const MethodTask *mt, MgErr *e)
{
    int m = x->m, t = mt->t;
    const TaskData *sd = mt->sd;
    LpSolver *lp = warm ? x->warm : x->solver;
    if (warm && prime_solver(x, lp, sd, t, &x->prime[t], e) != MG_OK) return e->code;
    LpResult res = {.x = x->xg, .v = x->v};
    for (int q = 0; q < x->Q; q++) {
        Hour h = hour_of(x, mt, q);
        char what[64];
        snprintf(what, sizeof what, "eval task %d query hour %d", t, q);
        double t0 = mg_now();
        if (lp_solve(lp, h.d, h.s, h.c, warm ? LP_WARM : LP_DUAL_COLD, &res, what, e) != MG_OK)
            return e->code;
        for (int j = 0; j < m; j++) x->lam[j] = -x->v[j] > 0 ? -x->v[j] : 0.0;
        /* the solver is where the targets come from: mse 0 */
        exact_hour(x, mt, &h, t0, 0.0, 0);
    }
    return MG_OK;
}

/* simplex_warm or simplex_nearest on every query hour: the transportation
 * simplex (transport.h) from the previous query hour's optimal prices (the
 * first query hour: those of the last support hour, solved by the same
 * simplex, untimed here and charged as setup like solver_warm's first solve)
 * or from the prices of the support hour nearest in (d, s) (its search
 * timed), the K support hours solved by the same simplex in a warm chain as
 * its setup (charged instead of the GLPK support solves the other methods
 * pay); exact, certified by the bound of its own final prices (timed). A
 * solve that stops at the pivot cap (not seen) falls back to GLPK
 * warm-started from the last support hour (both timed). */
int eval_simplex(Ctx *x, int warm, const MethodTask *mt, MgErr *e)
{
    int n = x->n, m = x->m, t = mt->t, last = mt->sd->k - 1;
    const TaskData *sd = mt->sd;
    TransportResult tr;
    if (warm) {
        double t0 = mg_now();
        transport_solve(x->tr, sd->d + (size_t)last * n, sd->s + (size_t)last * m,
                        sd->c + (size_t)last * n * m, NULL, x->xg, x->lam, &tr);
        x->sprime[t] = mg_now() - t0;
    } else {
        double t0 = mg_now();
        size_t nm = (size_t)n * m;
        for (int r = 0; r < sd->k; r++)
            transport_solve(x->tr, sd->d + (size_t)r * n, sd->s + (size_t)r * m, sd->c + r * nm,
                            r ? x->suplam + (size_t)(r - 1) * m : NULL, x->xg,
                            x->suplam + (size_t)r * m, &tr);
        x->nprime[t] = mg_now() - t0;
    }
    for (int q = 0; q < x->Q; q++) {
        Hour h = hour_of(x, mt, q);
        double t0 = mg_now();
        const double *start = warm ? x->lam : x->suplam + (size_t)nearest_support(x, sd, h.d, h.s) * m;
        int rc = transport_solve(x->tr, h.d, h.s, h.c, start, x->xg, x->lam, &tr);
        int fb = rc != 0 || !tr.optimal;
        if (fb) {
            LpResult res = {.x = x->xg, .v = x->v};
            if (prime_solver(x, x->fb, sd, t, NULL, e) ||
                lp_solve(x->fb, h.d, h.s, h.c, LP_WARM, &res, "eval simplex fallback", e))
                return e->code;
            for (int j = 0; j < m; j++) x->lam[j] = -x->v[j] > 0 ? -x->v[j] : 0.0;
        }
        exact_hour(x, mt, &h, t0, 0.0, fb);
        mt->c->mse[h.row] = alloc_mse(x, mt->qd, &h, x->xg); /* untimed, after */
    }
    return MG_OK;
}

/* Adapt checkpoint ckpt's network for steps steps on the support rows, from
 * its θ0 (init NULL) or from init (the scratch baseline), into
 * x->theta[ckpt]; record the query loss by step (untimed second pass, so
 * adapt_ms is the adaptation alone). */
void eval_adapt(Ctx *x, const MethodTask *mt, int ckpt, const double *init, int steps)
{
    Learner *L = x->L[ckpt];
    const double *meta = x->ck[ckpt].meta;
    double *theta = x->theta[ckpt];
    double t0 = mg_now();
    learner_adapt(L, meta, init, mt->sd, steps, theta, NULL, NULL);
    mt->c->adapt[mt->t] = mg_now() - t0;
    learner_adapt(L, meta, init, mt->sd, steps, theta, mt->qd,
                  mt->c->steps + (size_t)mt->t * (steps + 1));
}

