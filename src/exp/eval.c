/*
 * eval.c — K-shot evaluation on held-out tasks: methods, the per-hour
 * pipeline (propose, repair, polish, certificate, fallback), the per-task
 * work and the rank-independent reduction (see eval.h). Aggregates and the
 * paired comparisons are in eval_stats.c.
 *
 * Data layout: for each method a block of per-hour columns, each
 * (tasks*query) doubles in task order, and per-task columns; then shared
 * columns (the optimum of every hour, the support solve time of every task).
 * The rank that owns task t writes rows t of every column; all other ranks
 * leave zeros, so one par_allreduce_sum_d gives every rank the same exact
 * array (x + 0 = x).
 */
#define _POSIX_C_SOURCE 200809L
#include "metagrid/eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metagrid/alloc.h"
#include "metagrid/anchor.h"
#include "metagrid/cert.h"
#include "metagrid/ckpt.h"
#include "metagrid/learner.h"
#include "metagrid/lp.h"
#include "metagrid/parallel.h"
#include "metagrid/policy.h"
#include "metagrid/task.h"
#include "metagrid/transport.h"

/* Columns of one method (pointers into the shared buffer). */
typedef struct {
    double *mse;   /* (T*Q) per-hour squared error (mean over outputs) */
    double *gap;   /* (T*Q) relative gap of the final allocation, before fallback */
    double *gap0;  /* (T*Q) relative gap after repair, before polish */
    double *vraw;  /* (T*Q) largest relative violation before repair */
    double *viol;  /* (T*Q) after repair */
    double *feas;  /* (T*Q) 1 if feasible after repair */
    double *lat;   /* (T*Q) seconds for the hour, certificate and fallback included */
    double *latp;  /* (T*Q) seconds of it spent in alloc_polish */
    double *prop;  /* (T*Q) seconds before the certificate (propose + repair + polish) */
    double *cost;  /* (T*Q) cost returned, after any fallback */
    double *lb;    /* (T*Q) the certificate's lower bound */
    double *cg;    /* (T*Q) certified gap before fallback */
    double *fb;    /* (T*Q) 1 if re-solved by the warm solver */
    double *adapt; /* (T) seconds of adaptation */
    double *steps; /* (T*n_by_step) query loss by adaptation step */
} Cols;
#define EVAL_HOUR_COLS 13

/* Everything one rank needs while it walks its tasks. */
typedef struct {
    const Config *cfg;
    int T, Q, K, lp, n, m, in_dim, out_dim;
    Learner *L[EVAL_MAX_CKPT];
    Config ckcfg[EVAL_MAX_CKPT];
    Checkpoint ck[EVAL_MAX_CKPT];
    int prices[EVAL_MAX_CKPT];    /* the checkpoint's network has the price head */
    double *theta[EVAL_MAX_CKPT]; /* (n_theta) adapted parameters */
    Policy *pol[EVAL_MAX_CKPT];   /* LP: inference form of each checkpoint's network */
    double *theta0;               /* (n_theta of L[0]) scratch init */
    double *p, *xr, *y, *work, *xg, *yt; /* per-hour scratch (nm each; p: out_dim + nm) */
    double *lam, *v;              /* (m) prices, GLPK duals */
    double *feat;                 /* (n+m) an hour's (d, s) features */
    double *mean;                 /* (nm) support_mean's split */
    void *pwork, *cwork;          /* alloc_polish and cert_decode workspaces */
    LpSolver *solver, *warm, *fb; /* cold, solver_warm, fallback */
    TransportSolver *tr;          /* simplex_warm, simplex_nearest */
    Cols col[EVAL_MAX_METHODS];
    double *suplam;               /* (K*m) simplex_nearest: the support hours' own prices */
    double *opt, *supsolve, *prime, *sprime, *nprime; /* shared: (T*Q), (T) x 4 */
} Ctx;

/* ---- methods ----------------------------------------------------------- */

static void add_method(EvalResult *r, const char *label, int kind, int ckpt, int algo, int steps)
{
    MG_ASSERT(r->n_methods < EVAL_MAX_METHODS);
    EvalMethod *m = &r->m[r->n_methods++];
    memset(m, 0, sizeof *m);
    snprintf(m->label, sizeof m->label, "%s", label);
    m->kind = kind;
    m->ckpt = ckpt;
    m->algo = algo;
    m->steps = steps;
    m->learned = kind == EVAL_CKPT || kind == EVAL_NO_ADAPT || kind == EVAL_SCRATCH ||
                 kind == EVAL_SCRATCH_LONG;
}

/* Length of a method's loss-by-step curve. */
static int method_n_by_step(const EvalMethod *m)
{
    return m->steps >= 0 ? m->steps + 1 : 0;
}

/* Read, check and build one learner per checkpoint; fill the methods. */
static int load_checkpoints(Ctx *x, EvalResult *r, const char *const *paths, int n,
                            int group, MgErr *e)
{
    const Config *cfg = x->cfg;
    for (int i = 0; i < n; i++) {
        Checkpoint *ck = &x->ck[i];
        if (ckpt_read(paths[i], ck, e) != MG_OK) return e->code;
        Config *cc = &x->ckcfg[i];
        size_t len = strlen(ck->config_text);
        if (config_load_buffer(cc, ck->config_text, len, paths[i], e) != MG_OK) return e->code;
        if (cfg->eval.inner_lr > 0 && cc->algo.name == ALGO_METASGD)
            return mg_fail(e, MG_EUSAGE, "eval.inner_lr=%g: %s was trained with algo.name=metasgd, "
                           "which adapts with its learned per-parameter step sizes; evaluate it "
                           "with eval.inner_lr=0 (its own), in a separate eval for other step sizes",
                           cfg->eval.inner_lr, paths[i]);
        if (cfg->eval.inner_lr > 0) cc->algo.inner_lr = cfg->eval.inner_lr;
        int same = cc->task.family == cfg->task.family;
        if (same && x->lp)
            same = cc->task.n_demand == cfg->task.n_demand && cc->task.n_supply == cfg->task.n_supply;
        if (!same)
            return mg_fail(e, MG_EUSAGE,
                           "%s: trained on task.family=%s (%dx%d), but the evaluation config "
                           "has task.family=%s (%dx%d)",
                           paths[i], config_family_name(cc->task.family), cc->task.n_demand,
                           cc->task.n_supply, config_family_name(cfg->task.family),
                           cfg->task.n_demand, cfg->task.n_supply);
        if (config_head(cc) != config_head(cfg))
            return mg_fail(e, MG_EUSAGE, "%s: model.head: trained with model.head=%s, but the "
                           "evaluation config has model.head=%s", paths[i],
                           config_head_name(config_head(cc)), config_head_name(config_head(cfg)));
        LearnerSetup setup = learner_setup_from(cc);
        if (learner_new(&x->L[i], &setup, x->in_dim, x->out_dim, group, e) != MG_OK) return e->code;
        if (learner_n_meta(x->L[i]) != ck->n_meta)
            return mg_fail(e, MG_EUSAGE, "%s: %llu meta-parameters, but its config gives %zu",
                           paths[i], (unsigned long long)ck->n_meta, learner_n_meta(x->L[i]));
        x->theta[i] = mg_calloc(learner_n_theta(x->L[i]), sizeof(double));
        x->prices[i] = config_head(cc) == HEAD_PRICES;
        if (x->lp) {
            x->pol[i] = policy_create(learner_layout(x->L[i]), x->n, x->m);
            if (!x->prices[i]) policy_set_decode(x->pol[i], EVAL_SPARSIFY, 0);
        }

        EvalCkptInfo *ci = &r->ckpt[i];
        snprintf(ci->path, sizeof ci->path, "%s", paths[i]);
        snprintf(ci->algo, sizeof ci->algo, "%s", config_algo_name(cc->algo.name));
        ci->iter = ck->iter;
        ci->n_meta = ck->n_meta;
        /* Label: algo.name, suffixed -2, -3 ... when repeated. */
        char label[EVAL_LABEL_MAX];
        snprintf(label, sizeof label, "%s", ci->algo);
        for (int rep = 2;; rep++) {
            int clash = 0;
            for (int k = 0; k < r->n_methods; k++) clash |= !strcmp(r->m[k].label, label);
            if (!clash) break;
            snprintf(label, sizeof label, "%s-%d", ci->algo, rep);
        }
        add_method(r, label, EVAL_CKPT, i, cc->algo.name, cfg->eval.steps);
        r->m[r->n_methods - 1].prices = x->prices[i];
    }
    r->n_ckpt = n;
    return MG_OK;
}

/* ---- per-hour pieces ---------------------------------------------------- */

typedef struct {
    const double *d, *s, *c; /* the hour's data */
    size_t row;              /* t * Q + q */
    int t, q;
} Hour;

/* One method on one task: the task's rows and the method's columns. */
typedef struct {
    const TaskData *sd; /* support hours (the history) */
    const TaskData *qd; /* query hours */
    int t;              /* task index */
    const Cols *c;      /* the method's columns */
} MethodTask;

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
static int eval_learned(Ctx *x, const MethodTask *mt, int ckpt, const double *theta, double loss,
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
static int eval_baseline(Ctx *x, int kind, const MethodTask *mt, MgErr *e)
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
static int eval_solver(Ctx *x, int warm, const MethodTask *mt, MgErr *e)
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
static int eval_simplex(Ctx *x, int warm, const MethodTask *mt, MgErr *e)
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
static void adapt(Ctx *x, const MethodTask *mt, int ckpt, const double *init, int steps)
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

/* Every method on held-out task t. */
static int eval_task(Ctx *x, EvalResult *r, TaskSampler *ts, int t, TaskData *sd, TaskData *qd,
                     MgErr *e)
{
    const Config *cfg = x->cfg;
    TaskRequest rq = {.stream = STREAM_EVAL, .iter = 0, .task = (uint64_t)t,
                      .k_support = cfg->eval.k_support, .k_query = cfg->eval.query,
                      .query_grid = cfg->task.family == FAMILY_SINUSOID};
    if (tasks_draw(ts, &rq, sd, qd, e) != MG_OK) return e->code;
    if (x->lp) {
        x->supsolve[t] = sd->solve_s;
        for (int q = 0; q < x->Q; q++) x->opt[(size_t)t * x->Q + q] = qd->obj[q];
    }
    for (int k = 0; k < r->n_methods; k++) {
        const EvalMethod *m = &r->m[k];
        const Cols *c = &x->col[k];
        const MethodTask mt = {.sd = sd, .qd = qd, .t = t, .c = c};
        int rc = MG_OK, S = m->steps + 1;
        switch (m->kind) {
        case EVAL_CKPT: {
            int i = m->ckpt;
            adapt(x, &mt, i, NULL, m->steps);
            rc = eval_learned(x, &mt, i, x->theta[i], c->steps[(size_t)t * S + S - 1], e);
            break;
        }
        case EVAL_NO_ADAPT:
            c->steps[t] = learner_loss(x->L[0], x->ck[0].meta, qd);
            rc = eval_learned(x, &mt, 0, x->ck[0].meta, c->steps[t], e);
            break;
        case EVAL_SCRATCH:
        case EVAL_SCRATCH_LONG:
            learner_init_theta(x->L[0], x->theta0, (uint64_t)cfg->seed, (uint64_t)t);
            adapt(x, &mt, 0, x->theta0, m->steps);
            rc = eval_learned(x, &mt, 0, x->theta[0], c->steps[(size_t)t * S + S - 1], e);
            break;
        case EVAL_SUPPORT_MEAN:
        case EVAL_GREEDY:
        case EVAL_NEAREST:
        case EVAL_SUPPORT_DUALS:
            rc = eval_baseline(x, m->kind, &mt, e);
            break;
        case EVAL_SOLVER:
        case EVAL_SOLVER_WARM:
            rc = eval_solver(x, m->kind == EVAL_SOLVER_WARM, &mt, e);
            break;
        case EVAL_SIMPLEX_WARM:
        case EVAL_SIMPLEX_NEAREST:
            rc = eval_simplex(x, m->kind == EVAL_SIMPLEX_WARM, &mt, e);
            break;
        }
        if (rc != MG_OK) return rc;
    }
    return MG_OK;
}

/* ---- the run ----------------------------------------------------------- */

void eval_result_free(EvalResult *r)
{
    for (int k = 0; k < r->n_methods; k++) {
        EvalMethod *m = &r->m[k];
        free(m->mse_by_step);
        free(m->gaps);
        free(m->task_gap);
        free(m->task_gap0);
        free(m->hours.gap0);
        free(m->hours.cost);
        free(m->hours.lb);
        free(m->hours.cert_gap);
        free(m->hours.fallback);
        free(m->hours.lat);
    }
    free(r->opt);
    memset(r, 0, sizeof *r);
}

static void ctx_free(Ctx *x)
{
    for (int i = 0; i < EVAL_MAX_CKPT; i++) {
        if (x->L[i]) learner_destroy(x->L[i]);
        ckpt_free(&x->ck[i]);
        policy_destroy(x->pol[i]);
        free(x->theta[i]);
    }
    void *bufs[] = {x->theta0, x->p,    x->xr,      x->y,     x->work,  x->xg,   x->yt,
                    x->lam,    x->v,    x->feat,    x->mean, x->pwork, x->cwork,
                    x->suplam};
    for (size_t k = 0; k < sizeof bufs / sizeof bufs[0]; k++) free(bufs[k]);
    if (x->solver) lp_destroy(x->solver);
    if (x->warm) lp_destroy(x->warm);
    if (x->fb) lp_destroy(x->fb);
    transport_destroy(x->tr);
}

/* Carve the shared buffer into columns; returns its length in doubles. */
static size_t carve(Ctx *x, EvalResult *r, double *buf)
{
    size_t T = (size_t)x->T, N = T * (size_t)x->Q, at = 0;
    for (int k = 0; k < r->n_methods; k++) {
        Cols *c = &x->col[k];
        double **hour_cols[EVAL_HOUR_COLS] = {&c->mse, &c->gap, &c->gap0, &c->vraw, &c->viol,
                                              &c->feas, &c->lat, &c->latp, &c->prop, &c->cost,
                                              &c->lb, &c->cg, &c->fb};
        for (int j = 0; j < EVAL_HOUR_COLS; j++, at += N)
            if (buf) *hour_cols[j] = buf + at;
        if (buf) c->adapt = buf + at;
        at += T;
        if (buf) c->steps = buf + at;
        at += T * (size_t)r->m[k].n_by_step;
    }
    if (buf) {
        x->opt = buf + at, x->supsolve = buf + at + N, x->prime = buf + at + N + T;
        x->sprime = buf + at + N + 2 * T;
        x->nprime = buf + at + N + 3 * T;
    }
    return at + N + 4 * T;
}

/* Copy what the report needs out of the shared buffer. */
static void keep_hours(const Ctx *x, EvalResult *r)
{
    size_t T = (size_t)x->T, N = T * (size_t)x->Q, bytes = N * sizeof(double);
    r->opt = mg_malloc(bytes);
    memcpy(r->opt, x->opt, bytes);
    for (int k = 0; k < r->n_methods; k++) {
        const Cols *c = &x->col[k];
        EvalHours *h = &r->m[k].hours;
        double **dst[6] = {&h->gap0, &h->cost, &h->lb, &h->cert_gap, &h->fallback, &h->lat};
        const double *src[6] = {c->gap0, c->cost, c->lb, c->cg, c->fb, c->lat};
        for (int j = 0; j < 6; j++) {
            *dst[j] = mg_malloc(bytes);
            memcpy(*dst[j], src[j], bytes);
        }
        r->m[k].gaps = mg_malloc(bytes);
        memcpy(r->m[k].gaps, c->gap, bytes);
        h->gap = r->m[k].gaps;
    }
}

/* Per-task means and the non-hour aggregates that need the raw columns. */
static void summarise_columns(const Ctx *x, EvalResult *r)
{
    size_t T = (size_t)x->T, Q = (size_t)x->Q, N = T * Q;
    for (int k = 0; k < r->n_methods; k++) {
        EvalMethod *m = &r->m[k];
        const Cols *c = &x->col[k];
        double acc = 0, accs = 0, mse = 0;
        double *task = mg_calloc(T, sizeof(double));
        for (size_t t = 0; t < T; t++) {
            double s = 0;
            for (size_t q = 0; q < Q; q++) s += c->mse[t * Q + q];
            task[t] = s / (double)Q;
            mse += task[t];
            acc += c->adapt[t];
            accs += x->lp ? x->supsolve[t] : 0.0;
        }
        m->mse = mse / (double)T;
        m->mse_ci95 = eval_ci95(task, T);
        free(task);
        m->n_by_step = method_n_by_step(m);
        if (m->n_by_step > 0) {
            size_t S = (size_t)m->n_by_step;
            m->mse_by_step = mg_calloc(S, sizeof(double));
            for (size_t s = 0; s < S; s++) {
                double a = 0;
                for (size_t t = 0; t < T; t++) a += c->steps[t * S + s];
                m->mse_by_step[s] = a / (double)T;
            }
        }
        int adapts = m->kind == EVAL_CKPT || m->kind == EVAL_SCRATCH ||
                     m->kind == EVAL_SCRATCH_LONG || m->kind == EVAL_SUPPORT_MEAN;
        m->adapt_ms = adapts ? 1e3 * acc / (double)T : NAN;
        /* setup per task: the K support solves (every method that uses the support
         * hours, i.e. all but the solvers) + adaptation; solver_warm, simplex_warm:
         * their first solve; simplex_nearest: its own K support solves */
        if (m->kind == EVAL_SOLVER) m->setup_ms = 0.0;
        else if (m->kind == EVAL_SOLVER_WARM || m->kind == EVAL_SIMPLEX_WARM ||
                 m->kind == EVAL_SIMPLEX_NEAREST) {
            const double *pr = m->kind == EVAL_SOLVER_WARM  ? x->prime
                               : m->kind == EVAL_SIMPLEX_WARM ? x->sprime
                                                               : x->nprime;
            double p = 0;
            for (size_t t = 0; t < T; t++) p += pr[t];
            m->setup_ms = 1e3 * p / (double)T;
        } else m->setup_ms = 1e3 * (accs + acc) / (double)T;
        double *tmp = mg_malloc(N * sizeof(double));
        memcpy(tmp, c->lat, N * sizeof(double));
        m->latency_us = 1e6 * eval_median(tmp, N);
        m->latency_mean_us = 0;
        for (size_t i = 0; i < N; i++) m->latency_mean_us += 1e6 * c->lat[i] / (double)N;
        memcpy(tmp, c->prop, N * sizeof(double));
        m->propose_us = x->lp ? 1e6 * eval_median(tmp, N) : NAN;
        double vr = 0, vf = 0, fe = 0, lp_ = 0;
        for (size_t i = 0; i < N; i++) {
            vr = fmax(vr, c->vraw[i]);
            vf = fmax(vf, c->viol[i]);
            fe += c->feas[i];
            lp_ += c->latp[i];
        }
        m->viol_max_raw = x->lp ? vr : NAN;
        m->viol_max = x->lp ? vf : NAN;
        m->feasible_frac = x->lp ? fe / (double)N : NAN;
        int exact = EVAL_KIND_EXACT(m->kind);
        m->polish_us = x->lp && !exact && r->cfg.eval.polish > 0 ? 1e6 * lp_ / (double)N : NAN;
        free(tmp);
    }
}

/* Set up sizes, methods, scratch; returns MG_OK or an error (not yet agreed). */
static int eval_setup(Ctx *x, EvalResult *r, TaskSampler **ts, const char *const *paths,
                      int n_paths, MgErr *e)
{
    const Config *cfg = x->cfg;
    if (n_paths < 1 || n_paths > EVAL_MAX_CKPT)
        return mg_fail(e, MG_EUSAGE, "eval: between 1 and %d checkpoints, got %d",
                       EVAL_MAX_CKPT, n_paths);
    TaskSetup setup = tasks_setup_from(cfg);
    if (tasks_new(ts, &setup, e) != MG_OK) return e->code;
    x->in_dim = tasks_in_dim(*ts);
    x->out_dim = tasks_out_dim(*ts);
    if (load_checkpoints(x, r, paths, n_paths, tasks_head_group(*ts), e) != MG_OK) return e->code;
    if (x->lp && (lp_create(&x->solver, x->n, x->m, e) || lp_create(&x->warm, x->n, x->m, e) ||
                  lp_create(&x->fb, x->n, x->m, e)))
        return e->code;
    add_method(r, "no_adapt", EVAL_NO_ADAPT, -1, -1, 0);
    add_method(r, "scratch", EVAL_SCRATCH, -1, -1, cfg->eval.steps);
    if (cfg->eval.scratch_steps > 0)
        add_method(r, "scratch_long", EVAL_SCRATCH_LONG, -1, -1, cfg->eval.scratch_steps);
    for (int k = r->n_ckpt; k < r->n_methods; k++) r->m[k].prices = x->prices[0];
    if (x->lp) {
        add_method(r, "support_mean", EVAL_SUPPORT_MEAN, -1, -1, -1);
        add_method(r, "greedy", EVAL_GREEDY, -1, -1, -1);
        add_method(r, "nearest", EVAL_NEAREST, -1, -1, -1);
        add_method(r, "support_duals", EVAL_SUPPORT_DUALS, -1, -1, -1);
        r->m[r->n_methods - 1].prices = 1;
        add_method(r, "solver", EVAL_SOLVER, -1, -1, -1);
        add_method(r, "solver_warm", EVAL_SOLVER_WARM, -1, -1, -1);
        add_method(r, "simplex_warm", EVAL_SIMPLEX_WARM, -1, -1, -1);
        add_method(r, "simplex_nearest", EVAL_SIMPLEX_NEAREST, -1, -1, -1);
        for (int k = 1; k <= 4; k++) r->m[r->n_methods - k].prices = 1;
        x->tr = transport_create(x->n, x->m, 0);
    }
    for (int k = 0; k < r->n_methods; k++) r->m[k].n_by_step = method_n_by_step(&r->m[k]);
    size_t nm = (size_t)MG_MAX(x->n * x->m, 1), f = (size_t)(x->n + x->m);
    x->p = mg_calloc((size_t)x->out_dim + nm, sizeof(double));
    x->xr = mg_calloc(nm, sizeof(double));
    x->y = mg_calloc(nm, sizeof(double));
    x->yt = mg_calloc(nm, sizeof(double));
    x->work = mg_calloc(nm + (size_t)x->n + (size_t)x->m, sizeof(double));
    x->xg = mg_calloc(nm, sizeof(double));
    x->mean = mg_calloc(nm, sizeof(double));
    x->lam = mg_calloc((size_t)x->m + 1, sizeof(double));
    x->v = mg_calloc((size_t)x->m + 1, sizeof(double));
    x->feat = mg_calloc(f + 1, sizeof(double));
    x->suplam = mg_calloc((size_t)x->K * x->m + 1, sizeof(double));
    if (x->lp) {
        x->pwork = mg_malloc(alloc_polish_work_bytes(x->n, x->m));
        x->cwork = mg_malloc(cert_decode_work_bytes(x->n, x->m));
    }
    x->theta0 = mg_calloc(learner_n_theta(x->L[0]), sizeof(double));
    return MG_OK;
}

/* Every hour returned within tolerance (up to rounding), else an invalid certificate. */
static int check_after_fallback(const EvalResult *r, MgErr *e)
{
    double tol = r->cfg.eval.tolerance;
    for (int k = 0; k < r->n_methods; k++)
        if (r->m[k].gap_max_after_fallback > tol + 1e-9)
            return mg_fail(e, MG_EFAIL, "eval: %s: gap after fallback %.3g > eval.tolerance "
                           "%.3g (a certificate above the optimum)", r->m[k].label,
                           r->m[k].gap_max_after_fallback, tol);
    return MG_OK;
}

int eval_run(const Config *cfg, const char *const *paths, int n_paths, EvalResult *r, MgErr *e)
{
    double wall0 = mg_now();
    memset(r, 0, sizeof *r);
    r->cfg = *cfg;
    r->ranks = par_size();
    r->lp = cfg->task.family != FAMILY_SINUSOID;

    Ctx x;
    memset(&x, 0, sizeof x);
    x.cfg = &r->cfg;
    x.T = cfg->eval.tasks;
    x.Q = cfg->eval.query;
    x.K = cfg->eval.k_support;
    x.lp = r->lp;
    x.n = r->lp ? cfg->task.n_demand : 0;
    x.m = r->lp ? cfg->task.n_supply : 0;
    TaskSampler *ts = NULL;
    TaskData sd = {0}, qd = {0};
    double *buf = NULL;

    eval_setup(&x, r, &ts, paths, n_paths, e);
    if (par_agree_error(e) != 0) goto done;

    size_t total = carve(&x, r, NULL);
    buf = mg_calloc(total, sizeof(double));
    carve(&x, r, buf);

    /* My block of tasks. */
    size_t lo, hi;
    par_block((size_t)x.T, &lo, &hi);
    for (int t = (int)lo; t < (int)hi; t++)
        if (eval_task(&x, r, ts, t, &sd, &qd, e) != MG_OK) break;
    if (par_agree_error(e) != 0) goto done;

    par_allreduce_sum_d(buf, total);
    summarise_columns(&x, r);
    if (x.lp) keep_hours(&x, r);
    eval_aggregate_paired(r);
    r->wall_s = mg_now() - wall0;
    check_after_fallback(r, e); /* every rank holds the same numbers: the same verdict */

done:
    free(buf);
    taskdata_free(&sd);
    taskdata_free(&qd);
    if (ts) tasks_destroy(ts);
    ctx_free(&x);
    return e->code;
}
