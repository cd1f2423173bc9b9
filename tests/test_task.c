/*
 * test_task.c — task families: shapes, ranges, purity (no dependence on call
 * order), stream separation, features and targets recomputed from the raw
 * data, warm == cold targets, region-family invariants.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "metagrid/alloc.h"
#include "metagrid/cert.h"
#include "metagrid/mlp.h"
#include "metagrid/region.h"
#include "metagrid/rng.h"
#include "metagrid/task.h"

static const double PI = 3.14159265358979323846;

static Config make_cfg(int family, int n, int m)
{
    Config c;
    memset(&c, 0, sizeof c);
    c.seed = 42;
    c.task.family = family;
    c.task.n_demand = n;
    c.task.n_supply = m;
    c.task.k_support = 5;
    c.task.k_query = 7;
    c.task.rho = 1.2;
    c.task.renewable_frac = 0.3;
    c.task.transmission_cost = 0.5;
    c.task.noise = 0.05;
    c.task.warm_start = 1;
    c.task.observe_costs = 1;
    return c;
}

static int same_td(const TaskData *a, const TaskData *b)
{
    if (a->k != b->k || a->in_dim != b->in_dim || a->out_dim != b->out_dim) return 0;
    if (memcmp(a->x, b->x, sizeof(double) * a->k * a->in_dim)) return 0;
    if (memcmp(a->y, b->y, sizeof(double) * a->k * a->out_dim)) return 0;
    if (a->n && memcmp(a->d, b->d, sizeof(double) * a->k * a->n)) return 0;
    if (a->n && memcmp(a->s, b->s, sizeof(double) * a->k * a->m)) return 0;
    return 1;
}

static void test_sinusoid(void)
{
    Config cfg = make_cfg(FAMILY_SINUSOID, 0, 0);
    TaskSampler *ts = NULL;
    MgErr e = {0};
    TaskSetup task_setup = tasks_setup_from(&cfg);
    CHECK(tasks_new(&ts, &task_setup, &e) == MG_OK);
    CHECK(tasks_in_dim(ts) == 1 && tasks_out_dim(ts) == 1 && tasks_head_group(ts) == 0);
    TaskData s1 = {0}, q1 = {0}, s2 = {0}, q2 = {0}, junk = {0};
    CHECK(tasks_draw(ts, &(TaskRequest){STREAM_TRAIN, 3, 5, 10, 10, 0}, &s1, &q1, &e) == MG_OK);
    CHECK(s1.k == 10 && q1.k == 10 && s1.d == NULL);
    CHECK(tasks_draw(ts, &(TaskRequest){STREAM_TRAIN, 3, 6, 10, 10, 0}, &junk, NULL, &e) == MG_OK);
    CHECK(tasks_draw(ts, &(TaskRequest){STREAM_TRAIN, 3, 5, 10, 10, 0}, &s2, &q2, &e) == MG_OK);
    CHECK(same_td(&s1, &s2) && same_td(&q1, &q2));
    CHECK(!same_td(&s1, &junk));
    /* Query rows do not depend on k_support; support rows are a prefix. */
    CHECK(tasks_draw(ts, &(TaskRequest){STREAM_TRAIN, 3, 5, 4, 10, 0}, &s2, &q2, &e) == MG_OK);
    CHECK(same_td(&q1, &q2) && !memcmp(s1.x, s2.x, 4 * sizeof(double)));
    /* Eval stream differs from train. */
    CHECK(tasks_draw(ts, &(TaskRequest){STREAM_EVAL, 3, 5, 10, 10, 0}, &s2, &q2, &e) == MG_OK);
    CHECK(s2.x[0] != s1.x[0]);
    /* All points of a task lie on one sinusoid y = A sin(x - phi): recover A,
     * phi from two points and predict the rest. Ranges over many tasks. */
    double amax = 0, amin = 10, xmin = 0, xmax = 0;
    int fit_ok = 1;
    for (int t = 0; t < 300; t++) {
        CHECK(tasks_draw(ts, &(TaskRequest){STREAM_TRAIN, 0, t, 6, 0, 0}, &s1, &q1, &e) == MG_OK);
        /* y = a sin x + b cos x with a = A cos phi, b = -A sin phi */
        double x0 = s1.x[0], x1 = s1.x[1], y0 = s1.y[0], y1 = s1.y[1];
        double det = sin(x0) * cos(x1) - cos(x0) * sin(x1);
        if (fabs(det) < 1e-3) continue;
        double a = (y0 * cos(x1) - cos(x0) * y1) / det, b = (sin(x0) * y1 - y0 * sin(x1)) / det;
        double A = hypot(a, b), phi = atan2(-b, a);
        if (phi < 0) phi += 2 * PI;
        amax = fmax(amax, A);
        amin = fmin(amin, A);
        if (phi > PI + 1e-9) fit_ok = 0;
        for (int q = 2; q < 6; q++)
            if (fabs(a * sin(s1.x[q]) + b * cos(s1.x[q]) - s1.y[q]) > 1e-9) fit_ok = 0;
        for (int q = 0; q < 6; q++) {
            xmin = fmin(xmin, s1.x[q]);
            xmax = fmax(xmax, s1.x[q]);
        }
    }
    CHECK(fit_ok);
    CHECK(amin >= 0.1 - 1e-9 && amax <= 5.0 + 1e-9 && amin < 0.5 && amax > 4.5);
    CHECK(xmin >= -5 && xmax <= 5 && xmin < -4.5 && xmax > 4.5);
    /* Query grid: evenly spaced on [-5, 5]. */
    CHECK(tasks_draw(ts, &(TaskRequest){STREAM_EVAL, 0, 1, 5, 11, 1}, &s1, &q1, &e) == MG_OK);
    int grid_ok = q1.k == 11;
    for (int q = 0; q < 11 && grid_ok; q++) grid_ok = fabs(q1.x[q] - (-5.0 + q)) < 1e-12;
    CHECK(grid_ok);
    taskdata_free(&s1); taskdata_free(&q1); taskdata_free(&s2); taskdata_free(&q2);
    taskdata_free(&junk);
    tasks_destroy(ts);
}

/* Checks common to the LP families on one TaskData. */
static void check_lp_rows(const Config *cfg, const TaskData *td, int family)
{
    int n = td->n, m = td->m, nm = n * m;
    double *xf = malloc(sizeof(double) * td->in_dim), *yt = malloc(sizeof(double) * nm);
    int ok_feat = 1, ok_targ = 1, ok_obj = 1, ok_rho = 1, ok_cost = 1, ok_range = 1, ok_feas = 1;
    for (int q = 0; q < td->k; q++) {
        const double *d = td->d + q * n, *s = td->s + q * m, *c = td->c + q * nm;
        const double *xo = td->xopt + q * nm, *y = td->y + q * nm;
        if (cfg->task.observe_costs) {
            task_features(n, m, d, s, c, xf);
        } else {
            task_features_ds(n, m, d, s, xf);
            ok_feat &= td->in_dim == n + m;
        }
        ok_feat &= !memcmp(xf, td->x + q * td->in_dim, sizeof(double) * td->in_dim);
        double sd = 0, ss = 0, cx = 0;
        for (int i = 0; i < n; i++) sd += d[i];
        for (int j = 0; j < m; j++) ss += s[j];
        for (int k = 0; k < nm; k++) cx += c[k] * xo[k];
        ok_obj &= fabs(cx - td->obj[q]) <= 1e-9 * fmax(1, fabs(cx));
        ok_rho &= ss >= cfg->task.rho * sd * (1 - 1e-12);
        if (family == FAMILY_UNIFORM) ok_rho &= fabs(ss - cfg->task.rho * sd) < 1e-9 * ss;
        ok_cost &= !memcmp(c, td->c, sizeof(double) * nm); /* costs fixed in a task */
        for (int i = 0; i < n; i++) {
            double rs = 0;
            for (int j = 0; j < m; j++) {
                rs += y[i * m + j];
                ok_targ &= y[i * m + j] >= 0 && fabs(y[i * m + j] * d[i] - xo[i * m + j]) <= 1e-7 * d[i];
            }
            ok_targ &= fabs(rs - 1) < 1e-12;
            if (family == FAMILY_UNIFORM) ok_range &= d[i] >= 10 && d[i] <= 100;
            else ok_range &= d[i] >= 0 && d[i] < 500;
        }
        if (family == FAMILY_UNIFORM)
            for (int k = 0; k < nm; k++) ok_range &= c[k] >= 1 && c[k] <= 10;
        for (int k = 0; k < td->in_dim; k++) ok_range &= fabs(td->x[q * td->in_dim + k]) < 20;
        AllocMetrics am;
        alloc_metrics(n, m, d, s, c, xo, td->obj[q], &am);
        ok_feas &= am.feasible;
    }
    CHECK(ok_feat); CHECK(ok_targ); CHECK(ok_obj); CHECK(ok_rho); CHECK(ok_cost);
    CHECK(ok_range); CHECK(ok_feas);
    free(xf);
    free(yt);
}

static void test_lp_family(int family)
{
    Config cfg = make_cfg(family, 6, 4);
    TaskSampler *ts = NULL, *ts2 = NULL;
    MgErr e = {0};
    TaskSetup task_setup1 = tasks_setup_from(&cfg);
    CHECK(tasks_new(&ts, &task_setup1, &e) == MG_OK);
    CHECK(tasks_in_dim(ts) == 6 + 4 + 24 && tasks_out_dim(ts) == 24 && tasks_head_group(ts) == 4);
    TaskData s1 = {0}, q1 = {0}, s2 = {0}, q2 = {0};
    CHECK_MSG(tasks_draw(ts, &(TaskRequest){STREAM_TRAIN, 2, 9, 5, 7, 0}, &s1, &q1, &e) == MG_OK,
              "%s", e.msg);
    check_lp_rows(&cfg, &s1, family);
    check_lp_rows(&cfg, &q1, family);
    CHECK(s1.lp_iters > 0 && s1.solve_s > 0);
    CHECK(!memcmp(s1.c, q1.c, sizeof(double) * 24));
    /* Purity: a fresh sampler, another task drawn first, same result. */
    TaskSetup task_setup2 = tasks_setup_from(&cfg);
    CHECK(tasks_new(&ts2, &task_setup2, &e) == MG_OK);
    CHECK(tasks_draw(ts2, &(TaskRequest){STREAM_TRAIN, 2, 8, 3, 3, 0}, &s2, &q2, &e) == MG_OK);
    CHECK(memcmp(s2.c, s1.c, sizeof(double) * 24) != 0); /* other task, other costs */
    CHECK(tasks_draw(ts2, &(TaskRequest){STREAM_TRAIN, 2, 9, 5, 7, 0}, &s2, &q2, &e) == MG_OK);
    CHECK(same_td(&s1, &s2) && same_td(&q1, &q2));
    /* Without warm starts: same data and the same optimal costs. */
    Config cold = cfg;
    cold.task.warm_start = 0;
    TaskSampler *tc = NULL;
    TaskSetup task_setup3 = tasks_setup_from(&cold);
    CHECK(tasks_new(&tc, &task_setup3, &e) == MG_OK);
    CHECK(tasks_draw(tc, &(TaskRequest){STREAM_TRAIN, 2, 9, 5, 7, 0}, &s2, &q2, &e) == MG_OK);
    int same_obj = 1;
    for (int q = 0; q < 7; q++) same_obj &= fabs(q2.obj[q] - q1.obj[q]) <= 1e-9 * q1.obj[q];
    CHECK(same_obj && !memcmp(q1.d, q2.d, sizeof(double) * 7 * 6));
    /* Streams and iterations give different tasks. */
    CHECK(tasks_draw(ts, &(TaskRequest){STREAM_EVAL, 2, 9, 5, 7, 0}, &s2, &q2, &e) == MG_OK);
    CHECK(memcmp(s2.c, s1.c, sizeof(double) * 24) != 0);
    CHECK(tasks_draw(ts, &(TaskRequest){STREAM_TRAIN, 3, 9, 5, 7, 0}, &s2, &q2, &e) == MG_OK);
    CHECK(memcmp(s2.c, s1.c, sizeof(double) * 24) != 0);
    /* Query independent of k_support. */
    CHECK(tasks_draw(ts, &(TaskRequest){STREAM_TRAIN, 2, 9, 2, 7, 0}, &s2, &q2, &e) == MG_OK);
    CHECK(!memcmp(q1.x, q2.x, sizeof(double) * 7 * q1.in_dim));
    double ydiff = 0; /* another warm-start path: same optimum up to rounding */
    for (int k = 0; k < 7 * 24; k++) ydiff = fmax(ydiff, fabs(q1.y[k] - q2.y[k]));
    CHECK_MSG(ydiff < 1e-9, "%g", ydiff);
    /* A bigger shape and k = 0 rows. */
    CHECK(tasks_draw(ts, &(TaskRequest){STREAM_VAL, 0, 0, 0, 3, 0}, &s2, &q2, &e) == MG_OK);
    CHECK(s2.k == 0 && q2.k == 3);
    taskdata_free(&s1); taskdata_free(&q1); taskdata_free(&s2); taskdata_free(&q2);
    tasks_destroy(ts); tasks_destroy(ts2); tasks_destroy(tc);
}

/* task.observe_costs = false: in_dim = n + m, the features are the (d, s)
 * block of the full features, and every other field (targets, raw data,
 * optimal costs) is the same as with the costs observed. */
static void test_hidden_costs(int family)
{
    int n = 6, m = 4, nm = n * m, kq = 7;
    Config full = make_cfg(family, n, m), hid = full;
    hid.task.observe_costs = 0;
    TaskSampler *tf = NULL, *th = NULL;
    MgErr e = {0};
    TaskSetup task_setup1 = tasks_setup_from(&full);
    TaskSetup task_setup2 = tasks_setup_from(&hid);
    CHECK(tasks_new(&tf, &task_setup1, &e) == MG_OK && tasks_new(&th, &task_setup2, &e) == MG_OK);
    CHECK(tasks_in_dim(th) == n + m && tasks_out_dim(th) == nm && tasks_head_group(th) == m);
    TaskData sf = {0}, qf = {0}, sh = {0}, qh = {0};
    CHECK_MSG(tasks_draw(th, &(TaskRequest){STREAM_EVAL, 1, 4, 5, kq, 0}, &sh, &qh, &e) == MG_OK,
              "%s", e.msg);
    CHECK(tasks_draw(tf, &(TaskRequest){STREAM_EVAL, 1, 4, 5, kq, 0}, &sf, &qf, &e) == MG_OK);
    check_lp_rows(&hid, &sh, family);
    check_lp_rows(&hid, &qh, family);
    CHECK(sh.in_dim == n + m && qh.in_dim == n + m && qh.out_dim == nm);
    int ok_prefix = 1;
    for (int q = 0; q < kq; q++)
        ok_prefix &= !memcmp(qh.x + q * (n + m), qf.x + q * qf.in_dim, sizeof(double) * (n + m));
    CHECK(ok_prefix);
    CHECK(!memcmp(qh.y, qf.y, sizeof(double) * kq * nm) &&
          !memcmp(qh.c, qf.c, sizeof(double) * kq * nm) &&
          !memcmp(qh.d, qf.d, sizeof(double) * kq * n) &&
          !memcmp(qh.xopt, qf.xopt, sizeof(double) * kq * nm) &&
          !memcmp(qh.obj, qf.obj, sizeof(double) * kq));
    /* The features no longer see the costs: another task's costs differ,
     * but an instance's features are still a function of (d, s) alone. */
    double xf[64];
    task_features_ds(n, m, qh.d + n, qh.s + m, xf);
    CHECK(!memcmp(xf, qh.x + (n + m), sizeof(double) * (n + m)));
    taskdata_free(&sf); taskdata_free(&qf); taskdata_free(&sh); taskdata_free(&qh);
    tasks_destroy(tf); tasks_destroy(th);
}

static void test_region_invariants(void)
{
    /* Many tasks, 48 hours each: margin, night-time solar, daily pattern. */
    int ok_margin = 1, ok_night = 1, ok_nonneg = 1, ok_costs = 1;
    double corr_num = 0, corr_n = 0, diff_num = 0;
    for (int t = 0; t < 40; t++) {
        RngStream r;
        rng_stream_init(&r, 3, RNG_TEST, 0, t, 0);
        int n = 5 + t % 7, m = 2 + t % 6;
        double rho = 1.0 + 0.1 * (t % 4);
        RegionTask rt;
        region_task_draw(&rt, n, m, rho, t % 5 == 0 ? 1.0 : 0.4, 0.5, 0.1, &r);
        CHECK(rt.n_renew <= m - 1);
        double d[16], s[16], prev = -1;
        for (int k = 0; k < 48; k++) {
            region_instance(&rt, 3, RNG_TEST, 0, t, k, d, s);
            double sd = 0, ss = 0;
            for (int i = 0; i < n; i++) { sd += d[i]; ok_nonneg &= d[i] >= 0; }
            for (int j = 0; j < m; j++) { ss += s[j]; ok_nonneg &= s[j] >= 0; }
            ok_margin &= ss >= rho * sd * (1 - 1e-12);
            int hod = (rt.h0 + k) % 24;
            if (hod <= 4 || hod >= 20)
                for (int j = 0; j < rt.n_renew; j++) ok_night &= s[j] == 0.0;
            if (prev >= 0) { corr_num += fabs(sd - prev); corr_n++; }
            prev = sd;
            diff_num += sd;
        }
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++) ok_costs &= rt.c[i * m + j] >= rt.gcost[j] - 1e-12 &&
                                                   rt.c[i * m + j] <= rt.gcost[j] + 0.5 * rt.cost_level * 1.5;
        region_task_free(&rt);
    }
    CHECK(ok_margin); CHECK(ok_night); CHECK(ok_nonneg); CHECK(ok_costs);
    /* consecutive hours move by far less than the load itself (correlated) */
    CHECK_MSG(corr_num / corr_n < 0.2 * diff_num / (40 * 48), "%g vs %g", corr_num / corr_n,
              diff_num / (40 * 48));
}

static void test_targets_zero_rows(void)
{
    /* Row 0 has demand 0: cheapest arc with capacity (j = 2, since s_1 = 0). */
    double s[3] = {5, 0, 5}, c[6] = {3, 1, 2, 1, 1, 1}, xo[6] = {0, 0, 0, 2, 0, 3}, y[6];
    task_targets(2, 3, s, c, xo, y);
    CHECK(y[0] == 0 && y[1] == 0 && y[2] == 1);
    CHECK_NEAR(y[3], 0.4, 1e-15); CHECK(y[4] == 0); CHECK_NEAR(y[5], 0.6, 1e-15);
    double s0[3] = {0, 0, 0};
    task_targets(1, 3, s0, c, xo, y);
    CHECK(y[0] == 0 && y[1] == 1 && y[2] == 0);
}

/* The price head's targets: out_dim m, the row layout of mlp.h, GLPK's
 * capacity prices are optimal duals (their Lagrangian bound is the optimum,
 * in real and in scaled units), non-negative, 0 on suppliers with slack. */
static void test_price_targets(int family)
{
    int n = 7, m = 4, nm = n * m;
    Config cfg = make_cfg(family, n, m);
    cfg.model.head = HEAD_PRICES;
    TaskSampler *ts = NULL;
    MgErr e = {0};
    TaskSetup task_setup = tasks_setup_from(&cfg);
    CHECK(tasks_new(&ts, &task_setup, &e) == MG_OK);
    CHECK(tasks_out_dim(ts) == m && tasks_head_group(ts) == n);
    CHECK(tasks_y_dim(ts) == MLP_PY_DIM(n, m) && MLP_PY_DIM(n, m) == 2 * m + 1 + n + nm);
    TaskData sup = {0}, qry = {0};
    double lam[4], worst = 0, worst_scaled = 0;
    int slack_priced = 0, negative = 0;
    for (int t = 0; t < 6; t++) {
        CHECK(tasks_draw(ts, &(TaskRequest){STREAM_TRAIN, 3, t, 5, 7, 0}, &sup, &qry, &e) == MG_OK);
        CHECK(qry.y_dim == MLP_PY_DIM(n, m) && qry.out_dim == m);
        for (int q = 0; q < qry.k; q++) {
            const double *y = qry.y + (size_t)q * qry.y_dim, *c = qry.c + (size_t)q * nm;
            const double *d = qry.d + (size_t)q * n, *s = qry.s + (size_t)q * m;
            double cbar = 0, opt = qry.obj[q];
            for (int k = 0; k < nm; k++) cbar += c[k] / nm;
            for (int j = 0; j < m; j++) {
                lam[j] = y[j] * cbar;
                negative += y[j] < 0;
                double load = 0;
                for (int i = 0; i < n; i++) load += qry.xopt[(size_t)q * nm + i * m + j];
                slack_priced += load < s[j] * (1 - 1e-9) && y[j] > 0;
            }
            worst = fmax(worst, fabs(cert_lower_bound(n, m, c, d, s, lam) - opt) / opt);
            CHECK_NEAR(y[MLP_PY_OPT(n, m)], 1.0, 1e-15);
            CHECK_NEAR(y[MLP_PY_A(n, m) + 2], cbar * d[2] / opt, 1e-15);
            CHECK_NEAR(y[MLP_PY_B(n, m) + 1], cbar * s[1] / opt, 1e-15);
            CHECK_NEAR(y[MLP_PY_C(n, m) + 5], c[5] / cbar, 1e-15);
            /* the scaled bound: sum_i a_i min_j (ct_ij + lam_j) - sum_j b_j lam_j = 1 */
            double g = 0;
            for (int i = 0; i < n; i++) {
                double mn = INFINITY;
                for (int j = 0; j < m; j++)
                    mn = fmin(mn, y[MLP_PY_C(n, m) + i * m + j] + y[j]);
                g += y[MLP_PY_A(n, m) + i] * mn;
            }
            for (int j = 0; j < m; j++) g -= y[MLP_PY_B(n, m) + j] * y[j];
            worst_scaled = fmax(worst_scaled, fabs(g - 1));
        }
    }
    CHECK_MSG(worst < 1e-9, "Lagrangian bound of GLPK's prices vs opt: %g", worst);
    CHECK_MSG(worst_scaled < 1e-9, "scaled bound vs 1: %g", worst_scaled);
    CHECK(negative == 0 && slack_priced == 0);
    taskdata_free(&sup);
    taskdata_free(&qry);
    tasks_destroy(ts);
}

static void test_bad_config(void)
{
    Config cfg = make_cfg(FAMILY_UNIFORM, 4, 3);
    cfg.task.rho = 0.9;
    TaskSampler *ts = NULL;
    MgErr e = {0};
    TaskSetup task_setup = tasks_setup_from(&cfg);
    CHECK(tasks_new(&ts, &task_setup, &e) == MG_EUSAGE && ts == NULL);
    CHECK_MSG(strstr(e.msg, "task.rho") != NULL, "%s", e.msg);
}

/* Support and query hours: support distinct and inside the history, query
 * in later days; both uniform over the hour of day (histograms over many
 * tasks agree within sampling error); nested support sets; the capacity
 * prices of every solved row certify its optimum. */
static void test_hours(void)
{
    const uint64_t hist = 24ULL * TASK_HISTORY_DAYS;
    double hs[24] = {0}, hq[24] = {0};
    int ok_range = 1, ok_distinct = 1, ok_prefix = 1, ok_query = 1;
    uint64_t h10[10], h5[5], q1[20], q2[20];
    int ntask = 3000;
    for (int task = 0; task < ntask; task++) {
        task_hours(7, RNG_TRAIN_INST, 1, (uint64_t)task, 10, 20, h10, q1);
        task_hours(7, RNG_TRAIN_INST, 1, (uint64_t)task, 5, 20, h5, q2);
        ok_prefix &= !memcmp(h5, h10, sizeof h5);
        ok_query &= !memcmp(q1, q2, sizeof q1);
        for (int r = 0; r < 10; r++) {
            ok_range &= h10[r] < hist;
            for (int p = 0; p < r; p++) ok_distinct &= h10[p] != h10[r];
            hs[h10[r] % 24] += 1.0;
        }
        for (int q = 0; q < 20; q++) {
            ok_range &= q1[q] >= 24ULL * TASK_QUERY_DAY0 &&
                        q1[q] < 24ULL * (TASK_QUERY_DAY0 + TASK_QUERY_DAYS);
            hq[q1[q] % 24] += 1.0;
        }
    }
    CHECK(ok_range && ok_distinct && ok_prefix && ok_query);
    /* chi-square of both histograms against uniform (23 dof: 99.9 % at 49.7) */
    double xs = 0, xq = 0, es = ntask * 10 / 24.0, eq = ntask * 20 / 24.0;
    for (int h = 0; h < 24; h++) {
        xs += (hs[h] - es) * (hs[h] - es) / es;
        xq += (hq[h] - eq) * (hq[h] - eq) / eq;
    }
    CHECK_MSG(xs < 49.7 && xq < 49.7, "chi2 support %g query %g", xs, xq);
    /* a long history takes its first K hours */
    uint64_t *big = malloc(sizeof(uint64_t) * 400);
    task_hours(7, RNG_TRAIN_INST, 1, 0, 400, 0, big, NULL);
    int seq = 1;
    for (int r = 0; r < 400; r++) seq &= big[r] == (uint64_t)r;
    CHECK(seq);
    free(big);
    /* prices: lambda >= 0 and g(lambda) = opt on every row */
    Config cfg = make_cfg(FAMILY_REGION, 6, 4);
    TaskSampler *ts = NULL;
    MgErr e = {0};
    TaskSetup task_setup = tasks_setup_from(&cfg);
    CHECK(tasks_new(&ts, &task_setup, &e) == MG_OK);
    TaskData s = {0}, q = {0};
    CHECK(tasks_draw(ts, &(TaskRequest){STREAM_EVAL, 0, 3, 5, 7, 0}, &s, &q, &e) == MG_OK);
    int ok_lam = 1;
    for (int r = 0; r < 7; r++) {
        const double *lam = q.lambda + r * 4;
        double g = 0.0;
        for (int j = 0; j < 4; j++) {
            ok_lam &= lam[j] >= 0.0;
            g -= lam[j] * q.s[r * 4 + j];
        }
        for (int i = 0; i < 6; i++) {
            double mu = INFINITY;
            for (int j = 0; j < 4; j++) mu = fmin(mu, q.c[r * 24 + i * 4 + j] + lam[j]);
            g += q.d[r * 6 + i] * mu;
        }
        ok_lam &= fabs(g - q.obj[r]) <= 1e-9 * fabs(q.obj[r]);
    }
    CHECK(ok_lam);
    taskdata_free(&s);
    taskdata_free(&q);
    tasks_destroy(ts);
}

int main(void)
{
    test_sinusoid();
    test_lp_family(FAMILY_UNIFORM);
    test_lp_family(FAMILY_REGION);
    test_hidden_costs(FAMILY_UNIFORM);
    test_hidden_costs(FAMILY_REGION);
    test_region_invariants();
    test_targets_zero_rows();
    test_price_targets(FAMILY_UNIFORM);
    test_price_targets(FAMILY_REGION);
    test_bad_config();
    test_hours();
    return TEST_REPORT();
}
