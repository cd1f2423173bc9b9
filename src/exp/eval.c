/*
 * eval.c — K-shot evaluation on held-out tasks: methods, per-task work, the
 * rank-independent reduction and the aggregates (see eval.h).
 *
 * Data layout: for each method a block of per-instance columns, each
 * (tasks*query) doubles in task order, and per-task columns. The rank that
 * owns task t writes rows t of every column; all other ranks leave zeros, so
 * one par_allreduce_sum_d gives every rank the same exact array (x + 0 = x).
 */
#define _POSIX_C_SOURCE 200809L
#include "metagrid/eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metagrid/alloc.h"
#include "metagrid/ckpt.h"
#include "metagrid/learner.h"
#include "metagrid/lp.h"
#include "metagrid/parallel.h"
#include "metagrid/policy.h"
#include "metagrid/task.h"

/* Columns of one method (pointers into the shared buffer). */
typedef struct {
    double *mse;   /* (T*Q) per-instance squared error (mean over outputs) */
    double *gap;   /* (T*Q) relative gap of the final allocation */
    double *gap0;  /* (T*Q) relative gap after repair, before polish */
    double *vraw;  /* (T*Q) largest relative violation before repair */
    double *viol;  /* (T*Q) after repair */
    double *feas;  /* (T*Q) 1 if feasible after repair */
    double *lat;   /* (T*Q) seconds to produce the allocation */
    double *latp;  /* (T*Q) seconds of it spent in alloc_polish */
    double *adapt; /* (T) seconds of adaptation */
    double *steps; /* (T*n_by_step) query loss by adaptation step */
} Cols;

/* Everything one rank needs while it walks its tasks. */
typedef struct {
    const Config *cfg;
    int T, Q, lp, n, m, in_dim, out_dim;
    Learner *L[EVAL_MAX_CKPT];
    Config ckcfg[EVAL_MAX_CKPT];
    Checkpoint ck[EVAL_MAX_CKPT];
    double *theta[EVAL_MAX_CKPT]; /* (n_theta) adapted parameters */
    Policy *pol[EVAL_MAX_CKPT];   /* LP: inference form of each checkpoint's network */
    double *theta0;               /* (n_theta of L[0]) scratch init */
    double *p, *xr, *y, *work, *xg; /* per-instance scratch */
    void *pwork;                           /* alloc_polish workspace */
    LpSolver *solver;
    Cols col[EVAL_MAX_METHODS];
} Ctx;

/* ---- statistics helpers ------------------------------------------------ */

double eval_quantile(const double *v, size_t n, double q)
{
    if (n == 0) return NAN;
    double pos = q * (double)(n - 1);
    size_t i = (size_t)floor(pos);
    if (i + 1 >= n) return v[n - 1];
    double f = pos - (double)i;
    return v[i] + f * (v[i + 1] - v[i]);
}

double eval_t975(int df)
{
    static const double t[] = {
        NAN,    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262,
        2.228,  2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093,
        2.086,  2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045,
        2.042};
    if (df < 1) return NAN;
    if (df <= 30) return t[df];
    /* Cornish-Fisher expansion around the normal quantile; < 1e-3 off. */
    double z = 1.959964, d = (double)df;
    return z + (z * z * z + z) / (4 * d) + (5 * pow(z, 5) + 16 * z * z * z + 3 * z) / (96 * d * d);
}

double eval_ci95(const double *v, size_t n)
{
    if (n < 2) return NAN;
    double mean = 0, ss = 0;
    for (size_t i = 0; i < n; i++) mean += v[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++) ss += (v[i] - mean) * (v[i] - mean);
    double sd = sqrt(ss / (double)(n - 1));
    return eval_t975((int)n - 1) * sd / sqrt((double)n);
}

/* NaN sorts last. */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    if (isnan(x)) return isnan(y) ? 0 : 1;
    if (isnan(y)) return -1;
    return (x > y) - (x < y);
}

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
        if (learner_create(&x->L[i], cc, x->in_dim, x->out_dim, group, e) != MG_OK) return e->code;
        if (learner_n_meta(x->L[i]) != ck->n_meta)
            return mg_fail(e, MG_EUSAGE, "%s: %llu meta-parameters, but its config gives %zu",
                           paths[i], (unsigned long long)ck->n_meta, learner_n_meta(x->L[i]));
        x->theta[i] = mg_calloc(learner_n_theta(x->L[i]), sizeof(double));
        if (x->lp) {
            x->pol[i] = policy_create(learner_layout(x->L[i]), x->n, x->m);
            policy_set_decode(x->pol[i], EVAL_SPARSIFY, EVAL_POLISH_PASSES);
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
    }
    r->n_ckpt = n;
    return MG_OK;
}

/* ---- per-instance evaluation ------------------------------------------ */

/* Squared error of fractions p against the targets of row q, mean over outputs. */
static double row_mse(const TaskData *qd, int q, const double *p)
{
    const double *y = qd->y + (size_t)q * qd->out_dim;
    double s = 0;
    for (int j = 0; j < qd->out_dim; j++) s += (p[j] - y[j]) * (p[j] - y[j]);
    return s / qd->out_dim;
}

/* Metrics of a final allocation a (and raw allocation raw, may equal a). */
static void lp_metrics(const Ctx *x, const TaskData *qd, int q, const double *raw,
                       const double *a, const Cols *c, size_t row)
{
    const double *d = qd->d + (size_t)q * x->n, *s = qd->s + (size_t)q * x->m;
    const double *cost = qd->c + (size_t)q * x->n * x->m;
    AllocMetrics am;
    alloc_metrics(x->n, x->m, d, s, cost, raw, qd->obj[q], &am);
    c->vraw[row] = am.viol_max_rel;
    alloc_metrics(x->n, x->m, d, s, cost, a, qd->obj[q], &am);
    c->gap[row] = am.gap;
    c->viol[row] = am.viol_max_rel;
    c->feas[row] = am.feasible ? 1.0 : 0.0;
}

/* The common last stage of every heuristic method: a (feasible, produced in
 * `secs` seconds) is measured as is (gap0, untimed), then polished in place
 * (timed, added to the latency). */
static void finish_alloc(Ctx *x, const TaskData *qd, int q, double *a, double secs,
                         const Cols *c, size_t row)
{
    int n = x->n, m = x->m;
    const double *d = qd->d + (size_t)q * n, *s = qd->s + (size_t)q * m;
    const double *cost = qd->c + (size_t)q * n * m;
    AllocMetrics am;
    alloc_metrics(n, m, d, s, cost, a, qd->obj[q], &am);
    c->gap0[row] = am.gap;
    double t0 = mg_now();
    alloc_polish(n, m, s, cost, a, EVAL_POLISH_PASSES, x->pwork);
    double tp = mg_now() - t0;
    c->latp[row] = tp;
    c->lat[row] = secs + tp;
}

/* A learned method with parameters theta on every query instance of task t,
 * one instance at a time. Sinusoid: learner_predict. LP: the policy (frozen
 * once per task from theta and the support costs, timed into adapt), then
 * per instance from its raw (d, s, c), timed: features + forward + decode +
 * repair, then finish_alloc (polish). */
static void eval_learned(Ctx *x, Learner *L, Policy *P, const double *theta, const TaskData *sd,
                         const TaskData *qd, int t, const Cols *c)
{
    int n = x->n, m = x->m, nm = n * m;
    if (!x->lp) {
        for (int q = 0; q < x->Q; q++) {
            size_t row = (size_t)t * x->Q + q;
            double t0 = mg_now();
            learner_predict(L, theta, qd->x + (size_t)q * x->in_dim, 1, x->p);
            c->lat[row] = mg_now() - t0;
            c->mse[row] = row_mse(qd, q, x->p);
        }
        return;
    }
    double t0 = mg_now();
    policy_set_theta(P, theta, sd->c);
    c->adapt[t] += mg_now() - t0;
    policy_alloc(P, qd->d, qd->s, qd->c, NULL, x->xr, x->y); /* warm-up */
    for (int q = 0; q < x->Q; q++) {
        size_t row = (size_t)t * x->Q + q;
        const double *d = qd->d + (size_t)q * n, *s = qd->s + (size_t)q * m;
        const double *cost = qd->c + (size_t)q * nm;
        t0 = mg_now();
        policy_alloc_unpolished(P, d, s, cost, NULL, x->xr, x->y);
        double secs = mg_now() - t0;
        policy_fractions(P, x->p);
        c->mse[row] = row_mse(qd, q, x->p);
        finish_alloc(x, qd, q, x->y, secs, c, row);
        lp_metrics(x, qd, q, x->xr, x->y, c, row);
    }
}

/* The support_mean baseline: the task's mean support split for every query
 * instance (computed once per task, like an adaptation), then repair. */
static void eval_support_mean(Ctx *x, const TaskData *sd, const TaskData *qd, int t, const Cols *c)
{
    int n = x->n, m = x->m, nm = n * m;
    double t0 = mg_now();
    double *mean = x->p + x->out_dim; /* (nm) after the prediction slot */
    memset(mean, 0, (size_t)nm * sizeof(double));
    for (int r = 0; r < sd->k; r++)
        for (int j = 0; j < nm; j++) mean[j] += sd->y[(size_t)r * nm + j] / sd->k;
    c->adapt[t] = mg_now() - t0;
    for (int q = 0; q < x->Q; q++) {
        size_t row = (size_t)t * x->Q + q;
        const double *d = qd->d + (size_t)q * n;
        t0 = mg_now();
        /* the learned methods' decoding (EVAL_SPARSIFY) applied to the mean split */
        for (int i = 0; i < n; i++) {
            const double *mi = mean + (size_t)i * m;
            double *xi = x->xr + (size_t)i * m, mx = 0, sum = 0;
            for (int j = 0; j < m; j++) mx = mi[j] > mx ? mi[j] : mx;
            for (int j = 0; j < m; j++) sum += xi[j] = mi[j] >= EVAL_SPARSIFY * mx ? mi[j] : 0.0;
            for (int j = 0; j < m; j++) xi[j] = sum > 0 ? xi[j] * (d[i] / sum) : 0.0;
        }
        alloc_repair(n, m, d, qd->s + (size_t)q * m, qd->c + (size_t)q * nm, x->xr, x->y, x->work);
        finish_alloc(x, qd, q, x->y, mg_now() - t0, c, row);
        c->mse[row] = row_mse(qd, q, mean);
        lp_metrics(x, qd, q, x->xr, x->y, c, row);
    }
}

/* Greedy baseline on every query instance of task t. */
static void eval_greedy(Ctx *x, const TaskData *qd, int t, const Cols *c)
{
    int n = x->n, m = x->m;
    for (int q = 0; q < x->Q; q++) {
        size_t row = (size_t)t * x->Q + q;
        const double *d = qd->d + (size_t)q * n;
        double t0 = mg_now();
        alloc_greedy(n, m, d, qd->s + (size_t)q * m, qd->c + (size_t)q * n * m, x->xg);
        finish_alloc(x, qd, q, x->xg, mg_now() - t0, c, row);
        /* Its fractions x_ij / d_i; a zero demand takes the target's split. */
        const double *y = qd->y + (size_t)q * x->out_dim;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++)
                x->p[i * m + j] = d[i] > 0 ? x->xg[i * m + j] / d[i] : y[i * m + j];
        c->mse[row] = row_mse(qd, q, x->p);
        lp_metrics(x, qd, q, x->xg, x->xg, c, row);
    }
}

/* GLPK dual simplex from the standard basis on every query instance. */
static int eval_solver(Ctx *x, const TaskData *qd, int t, const Cols *c, MgErr *e)
{
    int n = x->n, m = x->m;
    LpResult res = {.x = x->xg};
    for (int q = 0; q < x->Q; q++) {
        size_t row = (size_t)t * x->Q + q;
        char what[64];
        snprintf(what, sizeof what, "eval task %d instance %d", t, q);
        double t0 = mg_now();
        if (lp_solve(x->solver, qd->d + (size_t)q * n, qd->s + (size_t)q * m,
                     qd->c + (size_t)q * n * m, LP_DUAL_COLD, &res, what, e) != MG_OK)
            return e->code;
        c->lat[row] = mg_now() - t0;
        c->mse[row] = 0.0; /* the solver is where the targets come from */
        lp_metrics(x, qd, q, x->xg, x->xg, c, row);
        c->gap0[row] = c->gap[row]; /* not polished */
    }
    return MG_OK;
}

/* Adapt with learner L and record the query loss by step (untimed second
 * pass, so adapt_ms is the adaptation alone). */
static void adapt(Ctx *x, Learner *L, const double *meta, const double *init, const TaskData *sd,
                  const TaskData *qd, int steps, double *theta, int t, const Cols *c)
{
    double t0 = mg_now();
    learner_adapt(L, meta, init, sd, steps, theta, NULL, NULL);
    c->adapt[t] = mg_now() - t0;
    learner_adapt(L, meta, init, sd, steps, theta, qd, c->steps + (size_t)t * (steps + 1));
}

/* Every method on held-out task t. */
static int eval_task(Ctx *x, EvalResult *r, TaskSampler *ts, int t, TaskData *sd, TaskData *qd,
                     MgErr *e)
{
    const Config *cfg = x->cfg;
    int grid = cfg->task.family == FAMILY_SINUSOID;
    if (tasks_make(ts, STREAM_EVAL, 0, (uint64_t)t, cfg->eval.k_support, cfg->eval.query, grid,
                   sd, qd, e) != MG_OK)
        return e->code;
    for (int k = 0; k < r->n_methods; k++) {
        const EvalMethod *m = &r->m[k];
        const Cols *c = &x->col[k];
        switch (m->kind) {
        case EVAL_CKPT: {
            int i = m->ckpt;
            adapt(x, x->L[i], x->ck[i].meta, NULL, sd, qd, m->steps, x->theta[i], t, c);
            eval_learned(x, x->L[i], x->pol[i], x->theta[i], sd, qd, t, c);
            break;
        }
        case EVAL_NO_ADAPT:
            c->steps[t] = learner_loss(x->L[0], x->ck[0].meta, qd);
            eval_learned(x, x->L[0], x->pol[0], x->ck[0].meta, sd, qd, t, c);
            break;
        case EVAL_SCRATCH:
        case EVAL_SCRATCH_LONG:
            learner_init_theta(x->L[0], x->theta0, (uint64_t)cfg->seed, (uint64_t)t);
            adapt(x, x->L[0], x->ck[0].meta, x->theta0, sd, qd, m->steps, x->theta[0], t, c);
            eval_learned(x, x->L[0], x->pol[0], x->theta[0], sd, qd, t, c);
            break;
        case EVAL_SUPPORT_MEAN:
            eval_support_mean(x, sd, qd, t, c);
            break;
        case EVAL_GREEDY:
            eval_greedy(x, qd, t, c);
            break;
        case EVAL_SOLVER:
            if (eval_solver(x, qd, t, c, e) != MG_OK) return e->code;
            break;
        }
    }
    return MG_OK;
}

/* ---- aggregates -------------------------------------------------------- */

static double mean_of(const double *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += v[i];
    return n ? s / (double)n : NAN;
}

static double max_of(const double *v, size_t n)
{
    double mx = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (isnan(v[i]) || v[i] > mx) mx = isnan(v[i]) ? NAN : v[i];
    return mx;
}

/* Means over tasks of per-instance columns and the summary statistics. */
static void aggregate(const Ctx *x, EvalMethod *m, const Cols *c)
{
    size_t T = (size_t)x->T, Q = (size_t)x->Q, N = T * Q;
    double *task = mg_calloc(T, sizeof(double));
    double *tmp = mg_calloc(N, sizeof(double));

    for (size_t t = 0; t < T; t++) task[t] = mean_of(c->mse + t * Q, Q);
    m->mse = mean_of(task, T);
    m->mse_ci95 = eval_ci95(task, T);

    memcpy(tmp, c->lat, N * sizeof(double));
    qsort(tmp, N, sizeof(double), cmp_double);
    m->latency_us = 1e6 * eval_quantile(tmp, N, 0.5);

    m->adapt_ms = m->kind == EVAL_CKPT || m->kind == EVAL_SCRATCH ||
                          m->kind == EVAL_SCRATCH_LONG || m->kind == EVAL_SUPPORT_MEAN
                      ? 1e3 * mean_of(c->adapt, T)
                      : NAN;

    m->n_by_step = method_n_by_step(m);
    if (m->n_by_step > 0) {
        size_t S = (size_t)m->n_by_step;
        m->mse_by_step = mg_calloc(S, sizeof(double));
        for (size_t s = 0; s < S; s++) {
            double acc = 0;
            for (size_t t = 0; t < T; t++) acc += c->steps[t * S + s];
            m->mse_by_step[s] = acc / (double)T;
        }
    }

    m->gap_mean = m->gap_mean_ci95 = m->gap_median = m->gap_p95 = m->gap_max = NAN;
    m->gap0_mean = m->gap0_median = m->gap0_p95 = m->gap0_max = m->polish_us = NAN;
    m->gap0_mean_ci95 = NAN;
    m->viol_max_raw = m->viol_max = m->feasible_frac = NAN;
    if (x->lp) {
        for (size_t t = 0; t < T; t++) task[t] = mean_of(c->gap + t * Q, Q);
        m->gap_mean = mean_of(task, T);
        m->gap_mean_ci95 = eval_ci95(task, T);
        m->gaps = mg_calloc(N, sizeof(double));
        memcpy(m->gaps, c->gap, N * sizeof(double));
        memcpy(tmp, c->gap, N * sizeof(double));
        qsort(tmp, N, sizeof(double), cmp_double);
        m->gap_median = eval_quantile(tmp, N, 0.5);
        m->gap_p95 = eval_quantile(tmp, N, 0.95);
        m->gap_max = max_of(c->gap, N);
        m->viol_max_raw = max_of(c->vraw, N);
        m->viol_max = max_of(c->viol, N);
        m->feasible_frac = mean_of(c->feas, N);
        m->gap0_mean = mean_of(c->gap0, N);
        for (size_t t = 0; t < T; t++) task[t] = mean_of(c->gap0 + t * Q, Q);
        m->gap0_mean_ci95 = eval_ci95(task, T);
        memcpy(tmp, c->gap0, N * sizeof(double));
        qsort(tmp, N, sizeof(double), cmp_double);
        m->gap0_median = eval_quantile(tmp, N, 0.5);
        m->gap0_p95 = eval_quantile(tmp, N, 0.95);
        m->gap0_max = max_of(c->gap0, N);
        if (m->kind != EVAL_SOLVER) {
            memcpy(tmp, c->latp, N * sizeof(double));
            qsort(tmp, N, sizeof(double), cmp_double);
            m->polish_us = 1e6 * eval_quantile(tmp, N, 0.5);
        }
    }
    free(task);
    free(tmp);
}

/* ---- the run ----------------------------------------------------------- */

void eval_result_free(EvalResult *r)
{
    for (int k = 0; k < r->n_methods; k++) {
        free(r->m[k].mse_by_step);
        free(r->m[k].gaps);
    }
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
    free(x->theta0);
    free(x->p);
    free(x->xr);
    free(x->y);
    free(x->work);
    free(x->xg);
    free(x->pwork);
    if (x->solver) lp_destroy(x->solver);
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
    x.lp = r->lp;
    x.n = r->lp ? cfg->task.n_demand : 0;
    x.m = r->lp ? cfg->task.n_supply : 0;
    TaskSampler *ts = NULL;
    TaskData sd = {0}, qd = {0};
    double *buf = NULL;

    if (n_paths < 1 || n_paths > EVAL_MAX_CKPT)
        mg_fail(e, MG_EUSAGE, "eval: between 1 and %d checkpoints, got %d", EVAL_MAX_CKPT, n_paths);
    else if (config_head(cfg) == HEAD_PRICES) /* until eval decodes prices (issue 11) */
        mg_fail(e, MG_EUSAGE, "model.head: eval of the prices head is not implemented yet");
    else if (tasks_create(&ts, cfg, e) == MG_OK) {
        x.in_dim = tasks_in_dim(ts);
        x.out_dim = tasks_out_dim(ts);
        load_checkpoints(&x, r, paths, n_paths, tasks_head_group(ts), e);
    }
    if (e->code == 0 && x.lp) lp_create(&x.solver, x.n, x.m, e);
    if (par_agree_error(e) != 0) goto done;

    /* Baselines. */
    add_method(r, "no_adapt", EVAL_NO_ADAPT, -1, -1, 0);
    add_method(r, "scratch", EVAL_SCRATCH, -1, -1, cfg->eval.steps);
    if (cfg->eval.scratch_steps > 0)
        add_method(r, "scratch_long", EVAL_SCRATCH_LONG, -1, -1, cfg->eval.scratch_steps);
    if (x.lp) {
        add_method(r, "support_mean", EVAL_SUPPORT_MEAN, -1, -1, -1);
        add_method(r, "greedy", EVAL_GREEDY, -1, -1, -1);
        add_method(r, "solver", EVAL_SOLVER, -1, -1, -1);
    }
    for (int k = 0; k < r->n_methods; k++) r->m[k].n_by_step = method_n_by_step(&r->m[k]);

    /* Carve the shared buffer. */
    size_t T = (size_t)x.T, N = T * (size_t)x.Q, total = 0;
    for (int k = 0; k < r->n_methods; k++) total += 8 * N + T + T * (size_t)r->m[k].n_by_step;
    buf = mg_calloc(total, sizeof(double));
    double *at = buf;
    for (int k = 0; k < r->n_methods; k++) {
        Cols *c = &x.col[k];
        c->mse = at, at += N;
        c->gap = at, at += N;
        c->gap0 = at, at += N;
        c->latp = at, at += N;
        c->vraw = at, at += N;
        c->viol = at, at += N;
        c->feas = at, at += N;
        c->lat = at, at += N;
        c->adapt = at, at += T;
        c->steps = at, at += T * (size_t)r->m[k].n_by_step;
    }
    MG_ASSERT((size_t)(at - buf) == total);
    size_t nm = (size_t)MG_MAX(x.n * x.m, 1);
    x.p = mg_calloc((size_t)x.out_dim + nm, sizeof(double));
    x.xr = mg_calloc(nm, sizeof(double));
    x.y = mg_calloc(nm, sizeof(double));
    x.work = mg_calloc(nm + (size_t)x.n + (size_t)x.m, sizeof(double));
    x.xg = mg_calloc(nm, sizeof(double));
    if (x.lp) x.pwork = mg_malloc(alloc_polish_work_bytes(x.n, x.m));
    x.theta0 = mg_calloc(learner_n_theta(x.L[0]), sizeof(double));

    /* My block of tasks. */
    size_t lo, hi;
    par_block((size_t)x.T, &lo, &hi);
    for (int t = (int)lo; t < (int)hi; t++)
        if (eval_task(&x, r, ts, t, &sd, &qd, e) != MG_OK) break;
    if (par_agree_error(e) != 0) goto done;

    par_allreduce_sum_d(buf, total);
    for (int k = 0; k < r->n_methods; k++) aggregate(&x, &r->m[k], &x.col[k]);
    r->wall_s = mg_now() - wall0;

done:
    free(buf);
    taskdata_free(&sd);
    taskdata_free(&qd);
    if (ts) tasks_destroy(ts);
    ctx_free(&x);
    return e->code;
}
