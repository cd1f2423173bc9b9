/*
 * test_policy.c — the inference form of an allocation network against
 * learner_predict (both activations, one and two hidden layers, with and
 * without the first-layer cost cache, and a cost matrix that misses the
 * cache), a network without cost inputs (task.observe_costs = false), and
 * its decoding: argmax, thresholds, the full softmax split,
 * feasibility after repair, and the polish never raising the cost; the
 * price head's path (prices, decode, certificate).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "metagrid/alloc.h"
#include "metagrid/anchor.h"
#include "metagrid/cert.h"
#include "metagrid/config.h"
#include "metagrid/learner.h"
#include "metagrid/policy.h"
#include "metagrid/task.h"

static void run_case(const char *family, const char *hidden, const char *act, int observe)
{
    char fam[64], hid[64], ac[64], obs[64];
    snprintf(fam, sizeof fam, "task.family=%s", family);
    snprintf(hid, sizeof hid, "model.hidden=%s", hidden);
    snprintf(ac, sizeof ac, "model.activation=%s", act);
    snprintf(obs, sizeof obs, "task.observe_costs=%s", observe ? "true" : "false");
    const char *sets[] = {fam, "task.n_demand=6", "task.n_supply=4", hid, ac, obs};
    MgErr e = {0};
    Config cfg;
    CHECK_MSG(config_load(&cfg, NULL, sets, 6, &e) == MG_OK, "%s", e.msg);
    TaskSampler *ts = NULL;
    TaskSetup task_setup = tasks_setup_from(&cfg);
    CHECK(tasks_new(&ts, &task_setup, &e) == MG_OK);
    int n = 6, m = 4, nm = n * m, in = tasks_in_dim(ts);
    CHECK(in == (observe ? n + m + nm : n + m));
    Learner *L = NULL;
    LearnerSetup learner_setup = learner_setup_from(&cfg);
    CHECK(learner_new(&L, &learner_setup, in, nm, m, &e) == MG_OK);
    double *theta = calloc(learner_n_meta(L), sizeof(double));
    learner_init_meta(L, theta, 11);
    /* larger logits than the initialisation gives, so decoding matters */
    for (size_t k = 0; k < learner_n_theta(L); k++) theta[k] *= 3;
    Policy *P = policy_create(learner_layout(L), n, m);
    TaskData sd = {0}, qd = {0};
    CHECK(tasks_draw(ts, &(TaskRequest){STREAM_EVAL, 0, 3, 2, 5, 0}, &sd, &qd, &e) == MG_OK);
    double p[24], pr[24], xr[24], x[24], x2[24], c2[24], feat[24 + 10];
    double worst = 0, worst_nocache = 0, worst_miss = 0;
    int feasible = 1, argmax_ok = 1, keep_ok = 1, polish_ok = 1, blind_ok = 1;
    for (int q = 0; q < qd.k; q++) {
        const double *d = qd.d + q * n, *s = qd.s + q * m, *c = qd.c + q * nm;
        learner_predict(L, theta, qd.x + q * in, 1, pr);
        /* with the cache (support costs = query costs within a task) */
        policy_set_theta(P, theta, sd.c);
        policy_set_decode(P, 0.0, 0);
        policy_alloc(P, d, s, c, p, xr, x);
        for (int k = 0; k < nm; k++) worst = fmax(worst, fabs(p[k] - pr[k]));
        /* softmax split: xraw = d p */
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++)
                keep_ok &= fabs(xr[i * m + j] - d[i] * pr[i * m + j]) <= 1e-12 * d[i];
        AllocMetrics am;
        alloc_metrics(n, m, d, s, c, x, NAN, &am);
        feasible &= am.feasible;
        /* without the cache */
        policy_set_theta(P, theta, NULL);
        policy_alloc(P, d, s, c, p, xr, x);
        for (int k = 0; k < nm; k++) worst_nocache = fmax(worst_nocache, fabs(p[k] - pr[k]));
        /* a cost matrix that misses the cache: computed in full */
        policy_set_theta(P, theta, sd.c);
        memcpy(c2, c, sizeof c2);
        c2[5] *= 1.5;
        if (observe) task_features(n, m, d, s, c2, feat);
        else task_features_ds(n, m, d, s, feat);
        learner_predict(L, theta, feat, 1, pr);
        policy_alloc(P, d, s, c2, p, xr, x);
        for (int k = 0; k < nm; k++) worst_miss = fmax(worst_miss, fabs(p[k] - pr[k]));
        if (!observe) { /* blind to the costs: the same fractions bit for bit */
            double pc[24];
            policy_alloc(P, d, s, c, pc, xr, x);
            blind_ok &= !memcmp(p, pc, sizeof pc);
        }
        /* argmax decode: each row all on its largest fraction */
        learner_predict(L, theta, qd.x + q * in, 1, pr);
        policy_set_decode(P, 1.0, 0);
        policy_alloc(P, d, s, c, NULL, xr, x);
        for (int i = 0; i < n; i++) {
            int am_j = 0;
            for (int j = 1; j < m; j++)
                if (pr[i * m + j] > pr[i * m + am_j]) am_j = j;
            for (int j = 0; j < m; j++) argmax_ok &= xr[i * m + j] == (j == am_j ? d[i] : 0.0);
        }
        alloc_metrics(n, m, d, s, c, x, NAN, &am);
        feasible &= am.feasible;
        /* threshold 0.3: kept entries are those >= 0.3 max, renormalised */
        policy_set_decode(P, 0.3, 0);
        policy_alloc(P, d, s, c, NULL, xr, x);
        for (int i = 0; i < n; i++) {
            double mx = 0, sum = 0;
            for (int j = 0; j < m; j++) mx = fmax(mx, pr[i * m + j]);
            for (int j = 0; j < m; j++) sum += pr[i * m + j] >= 0.3 * mx ? pr[i * m + j] : 0;
            for (int j = 0; j < m; j++) {
                double want = pr[i * m + j] >= 0.3 * mx ? d[i] * pr[i * m + j] / sum : 0;
                keep_ok &= fabs(xr[i * m + j] - want) <= 1e-12 * d[i];
            }
        }
        /* polish after repair: feasible, never more expensive */
        policy_set_decode(P, 0.3, 4);
        policy_alloc(P, d, s, c, NULL, xr, x2);
        double c_before = 0, c_after = 0;
        for (int k = 0; k < nm; k++) {
            c_before += c[k] * x[k];
            c_after += c[k] * x2[k];
        }
        polish_ok &= c_after <= c_before * (1 + 1e-12);
        alloc_metrics(n, m, d, s, c, x2, NAN, &am);
        feasible &= am.feasible;
    }
    CHECK_MSG(worst <= 1e-12, "%s %s %s: cached %g", family, hidden, act, worst);
    CHECK_MSG(worst_nocache <= 1e-14, "%s %s %s: %g", family, hidden, act, worst_nocache);
    CHECK_MSG(worst_miss <= 1e-14, "%s %s %s: miss %g", family, hidden, act, worst_miss);
    CHECK(feasible);
    CHECK(argmax_ok);
    CHECK(keep_ok);
    CHECK(polish_ok);
    CHECK(blind_ok);
    taskdata_free(&sd);
    taskdata_free(&qd);
    policy_destroy(P);
    free(theta);
    learner_destroy(L);
    tasks_destroy(ts);
}

/* The price head's fast path: the prices are cbar times learner_predict's
 * scaled prices, the allocation is cert_decode's (feasible), the bound is
 * cert_lower_bound of the same prices and never above the optimum; with
 * GLPK's own prices (set through the output bias of a zero network) the
 * bound is the optimum. */
static void run_prices(const char *family, int observe, int anchor)
{
    char fam[64], obs[64];
    snprintf(fam, sizeof fam, "task.family=%s", family);
    snprintf(obs, sizeof obs, "task.observe_costs=%s", observe ? "true" : "false");
    const char *sets[] = {fam, "task.n_demand=6", "task.n_supply=4", "model.hidden=[8]",
                          "model.head=prices", obs, "model.anchor=nearest"};
    MgErr e = {0};
    Config cfg;
    CHECK_MSG(config_load(&cfg, NULL, sets, anchor ? 7 : 6, &e) == MG_OK, "%s", e.msg);
    TaskSampler *ts = NULL;
    TaskSetup task_setup = tasks_setup_from(&cfg);
    CHECK(tasks_new(&ts, &task_setup, &e) == MG_OK);
    int n = 6, m = 4, nm = n * m, in = tasks_in_dim(ts);
    Learner *L = NULL;
    LearnerSetup learner_setup = learner_setup_from(&cfg);
    CHECK(learner_new(&L, &learner_setup, in, tasks_out_dim(ts), tasks_head_group(ts), &e) ==
          MG_OK);
    double *theta = calloc(learner_n_meta(L), sizeof(double));
    learner_init_meta(L, theta, 5);
    Policy *P = policy_create(learner_layout(L), n, m);
    policy_set_theta(P, theta, NULL);
    TaskData sd = {0}, qd = {0};
    CHECK(tasks_draw(ts, &(TaskRequest){STREAM_EVAL, 0, 2, 3, 6, 0}, &sd, &qd, &e) == MG_OK);
    policy_set_support(P, &sd); /* the anchors' support hours */
    double lam[4], pr[4], x[24], lb, worst = 0;
    int ok = 1;
    for (int q = 0; q < qd.k; q++) {
        const double *d = qd.d + q * n, *s = qd.s + q * m, *c = qd.c + q * nm;
        double cbar = 0;
        for (int k = 0; k < nm; k++) cbar += c[k] / nm;
        learner_predict(L, theta, qd.x + q * in, 1, pr);
        CHECK(policy_prices(P, d, s, c, lam, x, &lb) == 0);
        for (int j = 0; j < m; j++) worst = fmax(worst, fabs(lam[j] - cbar * pr[j]) / cbar);
        AllocMetrics am;
        alloc_metrics(n, m, d, s, c, x, qd.obj[q], &am);
        ok &= am.feasible && lb <= qd.obj[q] * (1 + 1e-12) && am.cost >= lb;
        CHECK_NEAR(lb, cert_lower_bound(n, m, c, d, s, lam), 1e-9 * fabs(lb));
    }
    CHECK_MSG(worst < 1e-12, "policy prices vs learner_predict %g", worst);
    CHECK(ok);
    if (anchor) { /* a zero network returns the nearest support hour's GLPK prices */
        memset(theta, 0, learner_n_theta(L) * sizeof(double));
        policy_set_theta(P, theta, NULL);
        double dev = 0.0;
        for (int q = 0; q < qd.k; q++) {
            const double *d = qd.d + q * n, *s = qd.s + q * m, *c = qd.c + q * nm;
            double cbar = 0, f[10];
            for (int k = 0; k < nm; k++) cbar += c[k] / nm;
            task_features_ds(n, m, d, s, f);
            const double *ln = sd.lambda + (size_t)anchor_nearest(&sd, f, -1) * m;
            policy_prices(P, d, s, c, lam, x, &lb);
            for (int j = 0; j < m; j++) dev = fmax(dev, fabs(lam[j] - fmax(ln[j], 1e-4 * cbar)));
        }
        CHECK_MSG(dev < 1e-9, "zero network vs the nearest hour's prices: %g", dev);
        goto out;
    }
    /* exact prices: zero weights, last-layer bias = softplus^-1(lam* / cbar) of one hour */
    const MlpLayout *lay = learner_layout(L);
    memset(theta, 0, learner_n_theta(L) * sizeof(double));
    const double *y = qd.y + qd.y_dim;
    for (int j = 0; j < m; j++) theta[lay->b_off[lay->n_layers - 1] + j] = y[j] > 1e-12 ?
        log(expm1(y[j])) : -40.0;
    policy_set_theta(P, theta, NULL);
    CHECK(policy_prices(P, qd.d + n, qd.s + m, qd.c + nm, lam, x, &lb) == 0);
    CHECK_MSG(fabs(lb - qd.obj[1]) <= 1e-9 * qd.obj[1], "bound %g opt %g", lb, qd.obj[1]);
    AllocMetrics am;
    alloc_metrics(n, m, qd.d + n, qd.s + m, qd.c + nm, x, qd.obj[1], &am);
    CHECK_MSG(am.feasible && am.gap <= 1e-9, "exact prices decode gap %g", am.gap);
out:
    policy_destroy(P);
    free(theta);
    learner_destroy(L);
    taskdata_free(&sd);
    taskdata_free(&qd);
    tasks_destroy(ts);
}

int main(void)
{
    run_prices("region", 0, 0);
    run_prices("uniform", 1, 0);
    run_prices("region", 0, 1);
    run_prices("uniform", 1, 1);
    run_case("region", "[16]", "relu", 1);
    run_case("region", "[12,8]", "tanh", 1);
    run_case("uniform", "[8,8]", "relu", 1);
    run_case("region", "[16]", "relu", 0);
    run_case("uniform", "[12,8]", "tanh", 0);
    run_case("region", "[]", "relu", 0);
    return TEST_REPORT();
}
