/*
 * eval.c — K-shot evaluation on held-out tasks: the run — checkpoints,
 * methods, the walk over this rank's tasks and the rank-independent
 * reduction (see eval.h). The methods themselves and the per-hour pipeline
 * (propose, repair, polish, certificate, fallback) are in eval_methods.c,
 * aggregates and the paired comparisons in eval_stats.c, the files in
 * eval_report.c.
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
#include "eval_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metagrid/alloc.h"
#include "metagrid/cert.h"
#include "metagrid/ckpt.h"
#include "metagrid/learner.h"
#include "metagrid/lp.h"
#include "metagrid/parallel.h"
#include "metagrid/policy.h"
#include "metagrid/task.h"
#include "metagrid/transport.h"

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
            eval_adapt(x, &mt, i, NULL, m->steps);
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
            eval_adapt(x, &mt, 0, x->theta0, m->steps);
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
