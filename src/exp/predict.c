/*
 * predict.c — the operator workflow: adapt a checkpoint to an operator's
 * solved history hours and dispatch new hours with a certificate and a
 * solver fallback (see predict.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "metagrid/predict.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metagrid/anchor.h"
#include "metagrid/case.h"
#include "metagrid/cert.h"
#include "metagrid/ckpt.h"
#include "metagrid/config.h"
#include "metagrid/eval.h"
#include "metagrid/hours.h"
#include "metagrid/json.h"
#include "metagrid/learner.h"
#include "metagrid/lp.h"
#include "metagrid/policy.h"
#include "metagrid/task.h"
#include "metagrid/transport.h"

/* Everything the run holds; predict_free releases it. */
typedef struct {
    const PredictOpts *o;
    Config cfg;
    Checkpoint ck;
    GridCase gc;
    GridModel gm;
    HourTable hist, hours;
    TaskSampler *ts;
    Learner *L;
    LpSolver *lp;
    TransportSolver *tr; /* eval.fallback: simplex */
    Policy *pol;
    TaskData sup;
    int n, m, prices;
    double *theta;   /* (n_theta) adapted */
    double *lam_last; /* (m) capacity prices of the last solve (history or fallback) */
    double *x;       /* (k, n*m) returned allocations */
    double *cost, *lb, *gap, *gap0, *lat_us; /* (k) */
    double *cost0, *lb0;                     /* (k) the learned allocation's cost and bound */
    double *learn_us;                        /* (k) the learned path alone (no fallback) */
    int *fallback;   /* (k) */
    double *opt, *warm_us, *cold_us; /* (k) with compare */
    double *work;    /* scratch */
} Predict;

static void predict_free(Predict *p)
{
    ckpt_free(&p->ck);
    case_model_free(&p->gm);
    case_free(&p->gc);
    hours_free(&p->hist);
    hours_free(&p->hours);
    taskdata_free(&p->sup);
    policy_destroy(p->pol);
    lp_destroy(p->lp);
    transport_destroy(p->tr);
    learner_destroy(p->L);
    tasks_destroy(p->ts);
    free(p->theta);
    free(p->lam_last);
    free(p->x);
    free(p->cost);
    free(p->lb);
    free(p->gap);
    free(p->gap0);
    free(p->cost0);
    free(p->lb0);
    free(p->learn_us);
    free(p->lat_us);
    free(p->fallback);
    free(p->opt);
    free(p->warm_us);
    free(p->cold_us);
    free(p->work);
}

/* Step 1: the checkpoint, its config with the overrides, the case and the
 * CSV files. Nothing is written. */
static int predict_inputs(Predict *p, MgErr *e)
{
    const PredictOpts *o = p->o;
    if (ckpt_read(o->checkpoint, &p->ck, e) != MG_OK) return e->code;
    const char *text = p->ck.config_text ? p->ck.config_text : "";
    if (config_load_buffer(&p->cfg, text, strlen(text), o->checkpoint, e) != MG_OK) return e->code;
    for (int i = 0; i < o->nsets; i++) {
        const char *eq = strchr(o->sets[i], '=');
        if (!eq)
            return mg_fail(e, MG_EUSAGE, "--set: %.80s: expected KEY=VALUE", o->sets[i]);
        char key[128];
        snprintf(key, sizeof key, "%.*s", (int)MG_MIN((size_t)(eq - o->sets[i]), 127), o->sets[i]);
        if (config_set(&p->cfg, key, eq + 1, "--set", e) != MG_OK) return e->code;
    }
    if (config_check(&p->cfg, "--set", e) != MG_OK) return e->code;
    Config *cfg = &p->cfg;
    if (cfg->task.family == FAMILY_SINUSOID)
        return mg_fail(e, MG_EUSAGE, "%s: trained on task.family=sinusoid; predict needs a "
                       "checkpoint of an LP family (grid)", o->checkpoint);
    if (case_load(&p->gc, o->case_path, e) != MG_OK) return e->code;
    if (case_build(&p->gm, &p->gc, cfg->task.transmission_cost, o->case_path, e) != MG_OK)
        return e->code;
    if (p->gm.n != cfg->task.n_demand || p->gm.m != cfg->task.n_supply)
        return mg_fail(e, MG_EUSAGE, "%s: has %d loads x %d generators, but %s was trained on "
                       "%d x %d", o->case_path, p->gm.n, p->gm.m, o->checkpoint,
                       cfg->task.n_demand, cfg->task.n_supply);
    if (hours_load(&p->hist, &p->gm, o->history, e) != MG_OK) return e->code;
    if (hours_load(&p->hours, &p->gm, o->hours, e) != MG_OK) return e->code;
    /* the sampler gives the network's dimensions for this case */
    cfg->task.family = FAMILY_GRID;
    if (strlen(o->case_path) >= sizeof cfg->task.case_path)
        return mg_fail(e, MG_EUSAGE, "--case: path too long");
    memset(cfg->task.case_path, 0, sizeof cfg->task.case_path);
    memcpy(cfg->task.case_path, o->case_path, strlen(o->case_path));
    TaskSetup task_setup = tasks_setup_from(cfg);
    LearnerSetup learner_setup = learner_setup_from(cfg);
    if (tasks_new(&p->ts, &task_setup, e) != MG_OK) return e->code;
    if (learner_new(&p->L, &learner_setup, tasks_in_dim(p->ts), tasks_out_dim(p->ts),
                    tasks_head_group(p->ts), e) != MG_OK)
        return e->code;
    if (learner_n_meta(p->L) != p->ck.n_meta)
        return mg_fail(e, MG_EUSAGE, "%s: %llu meta-parameters, but its config gives %zu",
                       o->checkpoint, (unsigned long long)p->ck.n_meta, learner_n_meta(p->L));
    p->n = p->gm.n;
    p->m = p->gm.m;
    p->prices = config_head(cfg) == HEAD_PRICES;
    return MG_OK;
}

/* Steps 2-3: solve the history hours, build the support set, adapt. */
static int predict_adapt(Predict *p, PredictSummary *sum, MgErr *e)
{
    int n = p->n, m = p->m, K = p->hist.k, nm = n * m;
    TaskData *td = &p->sup;
    taskdata_reserve(td, K, tasks_in_dim(p->ts), tasks_out_dim(p->ts), tasks_y_dim(p->ts), n, m);
    if (lp_create(&p->lp, n, m, e) != MG_OK) return e->code;
    p->tr = transport_create(n, m, 0);
    p->lam_last = mg_calloc((size_t)m, sizeof(double));
    double *v = mg_calloc((size_t)m, sizeof(double));
    double t0 = mg_now();
    int rc = MG_OK;
    for (int q = 0; q < K && rc == MG_OK; q++) {
        double *d = td->d + (size_t)q * n, *s = td->s + (size_t)q * m, *c = td->c + (size_t)q * nm;
        memcpy(d, p->hist.d + (size_t)q * n, (size_t)n * sizeof(double));
        memcpy(s, p->hist.s + (size_t)q * m, (size_t)m * sizeof(double));
        memcpy(c, p->gm.c, (size_t)nm * sizeof(double));
        char what[128];
        snprintf(what, sizeof what, "%s:%d: hour '%s'", p->o->history, p->hist.line[q],
                 p->hist.label[q]);
        LpResult res = {.x = td->xopt + (size_t)q * nm, .v = v};
        rc = lp_solve(p->lp, d, s, c, q ? LP_WARM : LP_DUAL_COLD, &res, what, e);
        if (rc != MG_OK) break;
        td->obj[q] = res.obj;
        for (int j = 0; j < m; j++)
            p->lam_last[j] = td->lambda[(size_t)q * m + j] = fmax(0.0, -v[j]);
        if (p->cfg.task.observe_costs) task_features(n, m, d, s, c, td->x + (size_t)q * td->in_dim);
        else task_features_ds(n, m, d, s, td->x + (size_t)q * td->in_dim);
        if (p->prices) task_price_targets(n, m, d, s, c, v, res.obj, td->y + (size_t)q * td->y_dim);
        else task_targets(n, m, s, c, res.x, td->y + (size_t)q * td->y_dim);
    }
    free(v);
    if (rc == MG_OK && p->prices && p->cfg.model.anchor != ANCHOR_NONE) anchor_fill(td, NULL);
    sum->label_s = mg_now() - t0;
    if (rc != MG_OK) return rc;
    t0 = mg_now();
    p->theta = mg_calloc(learner_n_theta(p->L), sizeof(double));
    learner_adapt(p->L, p->ck.meta, NULL, td, p->cfg.eval.steps, p->theta, NULL, NULL);
    if (!p->prices) {
        p->pol = policy_create(learner_layout(p->L), n, m);
        policy_set_decode(p->pol, EVAL_SPARSIFY, EVAL_POLISH_PASSES);
        policy_set_theta(p->pol, p->theta, p->gm.c);
    }
    sum->adapt_s = mg_now() - t0;
    return MG_OK;
}

/* The returned allocation x (n*m) of hour (d, s) is feasible: x >= 0, each
 * demand met, each capacity respected (1e-9 relative). 0 or -1. */
static int predict_check(int n, int m, const double *d, const double *s, const double *x)
{
    for (int i = 0; i < n; i++) {
        double row = 0.0;
        for (int j = 0; j < m; j++) {
            double v = x[(size_t)i * m + j];
            if (!(v >= 0.0) || !isfinite(v)) return -1;
            row += v;
        }
        if (fabs(row - d[i]) > 1e-9 * fmax(1.0, d[i])) return -1;
    }
    for (int j = 0; j < m; j++) {
        double col = 0.0;
        for (int i = 0; i < n; i++) col += x[(size_t)i * m + j];
        if (col > s[j] + 1e-9 * fmax(1.0, s[j])) return -1;
    }
    return 0;
}

static double predict_cost(int nm, const double *c, const double *x)
{
    double z = 0.0;
    for (int k = 0; k < nm; k++) z += c[k] * x[k];
    return z;
}

/* The learned allocation of one hour into x and its certificate's bound. */
static double predict_learned(Predict *p, const double *d, const double *s, double *x,
                              double *lam)
{
    int n = p->n, m = p->m, nm = n * m;
    const double *c = p->gm.c;
    if (p->prices) {
        double *feat = p->work;
        if (p->cfg.task.observe_costs) task_features(n, m, d, s, c, feat);
        else task_features_ds(n, m, d, s, feat);
        if (p->cfg.model.anchor != ANCHOR_NONE) /* anchor.h: the last m inputs */
            anchor_of(&p->sup, feat, c, -1, feat + tasks_in_dim(p->ts) - m);
        learner_predict(p->L, p->theta, feat, 1, lam);
        double cbar = 0.0;
        for (int k = 0; k < nm; k++) cbar += c[k];
        cbar /= nm;
        if (!(cbar > 0.0)) cbar = 1.0;
        for (int j = 0; j < m; j++) lam[j] *= cbar;
        cert_decode(n, m, c, d, s, lam, x, NULL);
    } else {
        policy_alloc(p->pol, d, s, c, NULL, p->work, x);
        /* start from the best of the known price vectors: the history
         * hours' and the last solve's (prices move little between hours) */
        double best = cert_lower_bound(n, m, c, d, s, p->lam_last);
        memcpy(lam, p->lam_last, (size_t)m * sizeof(double));
        for (int q = 0; q < p->sup.k; q++) {
            const double *lq = p->sup.lambda + (size_t)q * m;
            double g = cert_lower_bound(n, m, c, d, s, lq);
            if (g > best) {
                best = g;
                memcpy(lam, lq, (size_t)m * sizeof(double));
            }
        }
    }
    return PREDICT_CERT_STEPS ? cert_ascent(n, m, c, d, s, lam, PREDICT_CERT_STEPS)
                              : cert_lower_bound(n, m, c, d, s, lam);
}

/* Re-solve dispatched hour h exactly into x (eval.fallback): the
 * transportation simplex from the prices lam the certificate ended with (its
 * cost and the bound of its final prices), or GLPK warm-started along the
 * hours (its cost, proved optimal, as the bound); lam_last follows. */
static int predict_fallback(Predict *p, int h, double *x, double *lam, double *cost,
                            double *lb, MgErr *e)
{
    int n = p->n, m = p->m;
    const double *d = p->hours.d + (size_t)h * n, *s = p->hours.s + (size_t)h * m;
    if (p->cfg.eval.fallback == FALLBACK_SIMPLEX) {
        TransportResult tr;
        if (transport_solve(p->tr, d, s, p->gm.c, lam, x, p->lam_last, &tr) == 0 &&
            tr.optimal) {
            *cost = tr.obj;
            *lb = fmin(tr.obj, cert_lower_bound(n, m, p->gm.c, d, s, p->lam_last));
            return MG_OK;
        }
    }
    char what[128];
    snprintf(what, sizeof what, "%s:%d: hour '%s'", p->o->hours, p->hours.line[h],
             p->hours.label[h]);
    LpResult res = {.x = x, .v = lam};
    int rc = lp_solve(p->lp, d, s, p->gm.c, LP_WARM, &res, what, e);
    for (int j = 0; j < m; j++) p->lam_last[j] = fmax(0.0, -lam[j]);
    *cost = *lb = res.obj;
    return rc;
}

/* With compare: GLPK on every dispatched hour, warm along the hours (from
 * the last history hour) and cold, timed; the optima for the true gaps. */
static int predict_compare(Predict *p, MgErr *e)
{
    int n = p->n, m = p->m, k = p->hours.k, K = p->hist.k;
    LpSolver *warm = NULL, *cold = NULL;
    double *x = mg_calloc((size_t)n * m, sizeof(double));
    p->opt = mg_calloc((size_t)k, sizeof(double));
    p->warm_us = mg_calloc((size_t)k, sizeof(double));
    p->cold_us = mg_calloc((size_t)k, sizeof(double));
    int rc = lp_create(&warm, n, m, e);
    if (rc == MG_OK) rc = lp_create(&cold, n, m, e);
    LpResult res = {.x = x};
    if (rc == MG_OK)
        rc = lp_solve(warm, p->hist.d + (size_t)(K - 1) * n, p->hist.s + (size_t)(K - 1) * m,
                      p->gm.c, LP_DUAL_COLD, &res, "compare: last history hour", e);
    for (int h = 0; h < k && rc == MG_OK; h++) {
        const double *d = p->hours.d + (size_t)h * n, *s = p->hours.s + (size_t)h * m;
        double t0 = mg_now();
        rc = lp_solve(warm, d, s, p->gm.c, LP_WARM, &res, "compare: solver_warm", e);
        p->warm_us[h] = 1e6 * (mg_now() - t0);
        if (rc != MG_OK) break;
        p->opt[h] = res.obj;
        t0 = mg_now();
        rc = lp_solve(cold, d, s, p->gm.c, LP_DUAL_COLD, &res, "compare: solver", e);
        p->cold_us[h] = 1e6 * (mg_now() - t0);
    }
    lp_destroy(warm);
    lp_destroy(cold);
    free(x);
    return rc;
}

/* Round x to the digits allocations.csv holds (PREDICT_DIGITS significant). */
static void predict_round(int nm, double *x)
{
    char buf[64];
    for (int k = 0; k < nm; k++)
        if (x[k] != 0.0) {
            snprintf(buf, sizeof buf, "%.*g", PREDICT_DIGITS, x[k]);
            x[k] = strtod(buf, NULL);
        }
}

/* Step 4-5: dispatch every hour; check every returned allocation. */
static int predict_dispatch(Predict *p, MgErr *e)
{
    int n = p->n, m = p->m, k = p->hours.k, nm = n * m;
    p->x = mg_calloc((size_t)k * nm, sizeof(double));
    p->cost = mg_calloc((size_t)k, sizeof(double));
    p->lb = mg_calloc((size_t)k, sizeof(double));
    p->gap = mg_calloc((size_t)k, sizeof(double));
    p->gap0 = mg_calloc((size_t)k, sizeof(double));
    p->cost0 = mg_calloc((size_t)k, sizeof(double));
    p->lb0 = mg_calloc((size_t)k, sizeof(double));
    p->learn_us = mg_calloc((size_t)k, sizeof(double));
    p->lat_us = mg_calloc((size_t)k, sizeof(double));
    p->fallback = mg_calloc((size_t)k, sizeof(int));
    p->work = mg_calloc((size_t)nm + tasks_in_dim(p->ts) + 1, sizeof(double));
    double *lam = mg_calloc((size_t)m, sizeof(double));
    double tol = p->cfg.eval.tolerance;
    int rc = MG_OK;
    for (int h = 0; h < k && rc == MG_OK; h++) {
        const double *d = p->hours.d + (size_t)h * n, *s = p->hours.s + (size_t)h * m;
        double *x = p->x + (size_t)h * nm;
        double t0 = mg_now();
        double lb = predict_learned(p, d, s, x, lam);
        double cost = predict_cost(nm, p->gm.c, x);
        double gap = isfinite(lb) ? (cost - lb) / fmax(fabs(lb), 1e-300) : INFINITY;
        p->learn_us[h] = 1e6 * (mg_now() - t0);
        p->gap0[h] = gap;
        p->cost0[h] = cost;
        p->lb0[h] = lb;
        if (!(gap <= tol) || predict_check(n, m, d, s, x) != 0) {
            rc = predict_fallback(p, h, x, lam, &cost, &lb, e);
            gap = cost == lb ? 0.0 : (cost - lb) / fmax(fabs(lb), 1e-300);
            p->fallback[h] = 1;
        }
        p->lat_us[h] = 1e6 * (mg_now() - t0);
        predict_round(nm, x); /* what allocations.csv will hold is what is checked */
        p->cost[h] = cost;
        p->lb[h] = lb;
        p->gap[h] = gap;
        if (rc == MG_OK && predict_check(n, m, d, s, x) != 0)
            rc = mg_fail(e, MG_EFAIL, "%s:%d: hour '%s': the allocation fails the feasibility "
                         "check (nothing written)", p->o->hours, p->hours.line[h],
                         p->hours.label[h]);
    }
    free(lam);
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median_of(const double *v, int k)
{
    double *t = mg_calloc((size_t)k, sizeof(double));
    memcpy(t, v, (size_t)k * sizeof(double));
    qsort(t, (size_t)k, sizeof(double), cmp_double);
    double r = k % 2 ? t[k / 2] : 0.5 * (t[k / 2 - 1] + t[k / 2]);
    free(t);
    return r;
}

/* Write one file of DIR through a temporary and a rename. */
static int write_file(const Predict *p, const PredictSummary *sum, const char *name, int which,
                      MgErr *e)
{
    char path[CONFIG_PATH_MAX + 64], tmp[CONFIG_PATH_MAX + 96];
    mg_path_join(path, sizeof path, p->o->out_dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return mg_fail(e, MG_EFAIL, "%s: cannot write: %s", tmp, strerror(errno));
    int n = p->n, m = p->m, k = p->hours.k;
    if (which == 0) {
        fprintf(f, "hour,demand_id,supply_id,mw\n");
        for (int h = 0; h < k; h++)
            for (int i = 0; i < n; i++)
                for (int j = 0; j < m; j++) {
                    double v = p->x[((size_t)h * n + i) * m + j];
                    if (v > 0.0)
                        fprintf(f, "%s,%s,%s,%.*g\n", p->hours.label[h], p->gm.demand_id[i],
                                p->gm.supply_id[j], PREDICT_DIGITS, v);
                }
    } else if (which == 1) {
        fprintf(f, "hour,cost,lower_bound,cert_gap,fallback\n");
        for (int h = 0; h < k; h++)
            fprintf(f, "%s,%.12g,%.12g,%.6g,%d\n", p->hours.label[h], p->cost[h], p->lb[h],
                    p->gap[h], p->fallback[h]);
    } else {
        const char *const key_s[] = {"checkpoint", "case", "history", "hours"};
        const char *const val_s[] = {p->o->checkpoint, p->o->case_path, p->o->history,
                                     p->o->hours};
        fprintf(f, "{");
        for (int q = 0; q < 4; q++) {
            fprintf(f, "\"%s\": ", key_s[q]);
            json_str(f, val_s[q]);
            fprintf(f, ", ");
        }
        fprintf(f, "\"n_demand\": %d, \"n_supply\": %d, \"n_history\": %d, \"n_hours\": %d, "
                "\"eval_steps\": %d, \"n_fallback\": %d", n, m, sum->n_history, k,
                p->cfg.eval.steps, sum->n_fallback);
        const char *const key_n[] = {"learned_us_median", "tolerance", "fallback_frac", "certified_frac",
                                     "cert_gap_median", "cert_gap_max", "total_cost", "label_s",
                                     "adapt_s", "latency_us_median", "latency_us_mean"};
        const double val_n[] = {sum->learned_us_median, sum->tolerance, (double)sum->n_fallback / k,
                                1.0 - (double)sum->n_fallback / k, sum->cert_gap_median,
                                sum->cert_gap_max, sum->total_cost, sum->label_s, sum->adapt_s,
                                sum->latency_us_median, sum->latency_us_mean};
        for (int q = 0; q < 11; q++) {
            fprintf(f, ", \"%s\": ", key_n[q]);
            json_num(f, val_n[q]);
        }
        if (p->opt) {
            const char *const key_c[] = {"learned_gap_mean", "bound_gap_mean",
                                         "gap_mean", "gap_max", "solver_warm_us_median",
                                         "solver_warm_us_mean", "solver_us_median",
                                         "solver_us_mean", "speedup_vs_warm_median",
                                         "speedup_vs_warm_mean"};
            const double val_c[] = {sum->learned_gap_mean, sum->bound_gap_mean,
                                    sum->gap_mean, sum->gap_max, sum->warm_us_median,
                                    sum->warm_us_mean, sum->cold_us_median, sum->cold_us_mean,
                                    sum->warm_us_median / sum->latency_us_median,
                                    sum->warm_us_mean / sum->latency_us_mean};
            fprintf(f, ", \"compare\": {");
            for (int q = 0; q < 10; q++) {
                fprintf(f, "%s\"%s\": ", q ? ", " : "", key_c[q]);
                json_num(f, val_c[q]);
            }
            fprintf(f, "}");
        }
        fprintf(f, "}\n");
    }
    if (ferror(f) | (fclose(f) != 0) || rename(tmp, path) != 0) {
        unlink(tmp);
        return mg_fail(e, MG_EFAIL, "%s: cannot write: %s", path, strerror(errno));
    }
    return MG_OK;
}

static void predict_summarise(const Predict *p, PredictSummary *sum)
{
    int k = p->hours.k;
    sum->n_history = p->hist.k;
    sum->n_hours = k;
    sum->tolerance = p->cfg.eval.tolerance;
    sum->n_fallback = 0;
    sum->total_cost = sum->latency_us_mean = sum->cert_gap_max = 0.0;
    for (int h = 0; h < k; h++) {
        sum->n_fallback += p->fallback[h];
        sum->total_cost += p->cost[h];
        sum->latency_us_mean += p->lat_us[h] / k;
        sum->cert_gap_max = fmax(sum->cert_gap_max, p->gap0[h]);
    }
    sum->latency_us_median = median_of(p->lat_us, k);
    sum->learned_us_median = median_of(p->learn_us, k);
    sum->cert_gap_median = median_of(p->gap0, k);
    if (!p->opt) return;
    for (int h = 0; h < k; h++) {
        double g = (p->cost[h] - p->opt[h]) / fmax(fabs(p->opt[h]), 1e-300);
        sum->gap_mean += g / k;
        sum->learned_gap_mean += (p->cost0[h] - p->opt[h]) / fmax(fabs(p->opt[h]), 1e-300) / k;
        sum->bound_gap_mean += (p->opt[h] - p->lb0[h]) / fmax(fabs(p->opt[h]), 1e-300) / k;
        sum->gap_max = fmax(sum->gap_max, g);
        sum->warm_us_mean += p->warm_us[h] / k;
        sum->cold_us_mean += p->cold_us[h] / k;
    }
    sum->warm_us_median = median_of(p->warm_us, k);
    sum->cold_us_median = median_of(p->cold_us, k);
}

int predict_run(const PredictOpts *o, PredictSummary *sum, MgErr *e)
{
    Predict p;
    memset(&p, 0, sizeof p);
    memset(sum, 0, sizeof *sum);
    p.o = o;
    int rc = predict_inputs(&p, e);
    if (rc == MG_OK) rc = predict_adapt(&p, sum, e);
    if (rc == MG_OK) rc = predict_dispatch(&p, e);
    if (rc == MG_OK && o->compare) rc = predict_compare(&p, e);
    if (rc == MG_OK) {
        predict_summarise(&p, sum);
        if (mg_mkdir_p(o->out_dir) != 0)
            rc = mg_fail(e, MG_EFAIL, "%s: cannot create: %s", o->out_dir, strerror(errno));
    }
    for (int w = 0; w < 3 && rc == MG_OK; w++)
        rc = write_file(&p, sum, w == 0 ? "allocations.csv" : w == 1 ? "hours.csv" : "summary.json",
                        w, e);
    predict_free(&p);
    return rc;
}
