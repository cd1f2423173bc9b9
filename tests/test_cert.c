/*
 * test_cert.c — the Lagrangian certificate and the price decode against GLPK
 * on hundreds of instances of every LP family (uniform, region) and of
 * the grid family (PGLib cases 14, 30, 57, 118) and of degenerate hand-made ones (integer costs with ties, sum(s) = sum(d)
 * exactly, zero demands, zero capacities, one supplier, one demand):
 *   - the bound never exceeds GLPK's optimum, for GLPK's prices, random
 *     prices and ascended prices;
 *   - at GLPK's capacity prices (lambda_j = -dual of the capacity row) the
 *     bound equals the optimum to 1e-9 relative;
 *   - the decode from GLPK's prices is feasible and optimal to 1e-9; from
 *     perturbed, zero, negative or NaN prices it is still feasible;
 *   - ascent never lowers the bound and approaches the optimum from zero;
 *   - the bound by hand on a 2x2 instance, and against a naive reference;
 *   - the transportation simplex (transport.h) from zero, GLPK's and
 *     perturbed prices: feasible, at GLPK's optimum to 1e-9, certified by its
 *     own final prices; exact prices need far fewer pivots than zero; bad
 *     input (and data whose sums overflow) refused, negative costs solved; a
 *     pivot cap leaves a feasible allocation and a bound (adversarial shapes:
 *     test_transport.c; random instances: tests/fuzz/fuzz_transport.c).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "metagrid/alloc.h"
#include "metagrid/cert.h"
#include "metagrid/lp.h"
#include "metagrid/region.h"
#include "metagrid/rng.h"
#include "metagrid/task.h"
#include "metagrid/transport.h"

typedef struct {
    int n, m;
    double *d, *s, *c;
} Inst;

typedef struct {
    int instances;
    int bound_above;   /* bound > opt (beyond 1e-9 relative) */
    int bound_off;     /* bound at GLPK prices not equal to opt */
    int dec_infeas;    /* decode infeasible */
    int dec_gap;       /* decode from GLPK prices not optimal to 1e-9 */
    int asc_down;      /* ascent lowered the bound */
    int pert_infeas;   /* decode from perturbed prices infeasible */
    double max_dec_gap, max_bound_rel;
    double asc_gap_sum; /* (opt - ascended bound from 0) / |opt| */
    int tr_runs;        /* transport_solve calls */
    int tr_bad;         /* failed, not optimal, infeasible or not at GLPK's optimum */
    int tr_cert;        /* bound of its prices not equal to its cost */
    double tr_max_gap;  /* max |obj - opt| / opt */
    long tr_piv[3];     /* pivots from zero, GLPK's and perturbed prices */
    long tr_deg[3];     /* of which degenerate */
} Stats;

static double rel(double a, double b) { return (a - b) / fmax(fabs(b), 1e-9); }

/* The transportation simplex from prices lam (NULL: zero): feasible, optimal
 * to 1e-9, at GLPK's optimum, its own prices certify its cost. */
static void check_transport(const Inst *I, const double *lam, double opt, int start,
                            Stats *st)
{
    int n = I->n, m = I->m;
    double *x = malloc(sizeof(double) * (size_t)n * m), *lo = malloc(sizeof(double) * m);
    TransportSolver *T = transport_create(n, m, 0);
    TransportResult tr = {0};
    double tol = 1e-9 * fmax(fabs(opt), 1.0);
    int rc = transport_solve(T, I->d, I->s, I->c, lam, x, lo, &tr);
    AllocMetrics am;
    alloc_metrics(n, m, I->d, I->s, I->c, x, opt, &am);
    st->tr_runs++;
    if (rc || !tr.optimal || !am.feasible || fabs(tr.obj - opt) > tol ||
        fabs(am.cost - tr.obj) > tol)
        st->tr_bad++;
    st->tr_max_gap = fmax(st->tr_max_gap, fabs(rel(tr.obj, opt)));
    double g = cert_lower_bound(n, m, I->c, I->d, I->s, lo);
    if (!(g <= opt + tol) || tr.obj - g > tol) st->tr_cert++;
    st->tr_piv[start] += tr.pivots;
    st->tr_deg[start] += tr.degenerate;
    transport_destroy(T);
    free(x);
    free(lo);
}

static void check_one(LpSolver *lp, const Inst *I, RngStream *r, Stats *st)
{
    int n = I->n, m = I->m;
    size_t nm = (size_t)n * m;
    double *x = malloc(sizeof(double) * nm), *xd = malloc(sizeof(double) * nm);
    double *v = malloc(sizeof(double) * m), *lam = malloc(sizeof(double) * m);
    double *u = malloc(sizeof(double) * n);
    void *work = malloc(cert_decode_work_bytes(n, m));
    LpResult res = {.x = x, .u = u, .v = v};
    MgErr e = {0};
    if (lp_solve(lp, I->d, I->s, I->c, LP_DUAL_COLD, &res, "test", &e) != MG_OK) {
        CHECK_MSG(0, "GLPK failed: %s", e.msg);
        goto out;
    }
    double opt = res.obj, tol = 1e-9 * fmax(fabs(opt), 1.0);
    st->instances++;
    for (int j = 0; j < m; j++) lam[j] = -v[j] > 0.0 ? -v[j] : 0.0;
    double g = cert_lower_bound(n, m, I->c, I->d, I->s, lam);
    if (g > opt + tol) st->bound_above++;
    if (fabs(g - opt) > tol) st->bound_off++;
    st->max_bound_rel = fmax(st->max_bound_rel, fabs(rel(g, opt)));
    /* decode from the exact prices */
    cert_decode(n, m, I->c, I->d, I->s, lam, xd, work);
    AllocMetrics am;
    alloc_metrics(n, m, I->d, I->s, I->c, xd, opt, &am);
    if (!am.feasible) st->dec_infeas++;
    if (am.cost - opt > tol) st->dec_gap++;
    st->max_dec_gap = fmax(st->max_dec_gap, rel(am.cost, opt));
    check_transport(I, NULL, opt, 0, st);
    check_transport(I, lam, opt, 1, st);
    /* random prices: still a bound */
    double cmax = 0.0;
    for (size_t k = 0; k < nm; k++) cmax = fmax(cmax, fabs(I->c[k]));
    for (int j = 0; j < m; j++) lam[j] = rng_uniform(r) < 0.3 ? 0.0 : rng_uniform(r) * cmax;
    g = cert_lower_bound(n, m, I->c, I->d, I->s, lam);
    if (g > opt + tol) st->bound_above++;
    /* ascent one step at a time from the random prices and from zero */
    for (int start = 0; start < 2; start++) {
        if (start == 1) memset(lam, 0, sizeof(double) * m);
        double prev = cert_lower_bound(n, m, I->c, I->d, I->s, lam);
        for (int it = 0; it < 8; it++) {
            double gb = cert_ascent(n, m, I->c, I->d, I->s, lam, 1);
            double gl = cert_lower_bound(n, m, I->c, I->d, I->s, lam);
            if (gb < prev || gl != gb) st->asc_down++;
            if (gb > opt + tol) st->bound_above++;
            prev = gb;
        }
        if (start == 1) st->asc_gap_sum += -rel(prev, opt);
    }
    /* perturbed GLPK prices, negative and NaN entries: the decode stays feasible */
    for (int j = 0; j < m; j++) {
        double p = -v[j] > 0.0 ? -v[j] : 0.0;
        lam[j] = p * (1.0 + 0.2 * rng_normal(r)) + 0.02 * cmax * rng_normal(r);
    }
    check_transport(I, lam, opt, 2, st);
    if (m > 1) lam[0] = NAN;
    cert_decode(n, m, I->c, I->d, I->s, lam, xd, NULL);
    alloc_metrics(n, m, I->d, I->s, I->c, xd, opt, &am);
    if (!am.feasible || am.cost < opt - tol) st->pert_infeas++;
out:
    free(x); free(xd); free(v); free(lam); free(u); free(work);
}

static void inst_alloc(Inst *I, int n, int m)
{
    I->n = n;
    I->m = m;
    I->d = calloc((size_t)n, sizeof(double));
    I->s = calloc((size_t)m, sizeof(double));
    I->c = calloc((size_t)n * m, sizeof(double));
}

static void inst_free(Inst *I) { free(I->d); free(I->s); free(I->c); }

static void report(const char *name, const Stats *st, int min_instances)
{
    CHECK_MSG(st->instances >= min_instances, "%s: %d instances", name, st->instances);
    CHECK_MSG(st->bound_above == 0, "%s: %d bounds above the optimum", name, st->bound_above);
    CHECK_MSG(st->bound_off == 0, "%s: %d bounds at GLPK prices != opt (max rel %g)", name,
              st->bound_off, st->max_bound_rel);
    CHECK_MSG(st->dec_infeas == 0, "%s: %d infeasible decodes", name, st->dec_infeas);
    CHECK_MSG(st->dec_gap == 0, "%s: %d decodes above opt (max gap %g)", name, st->dec_gap,
              st->max_dec_gap);
    CHECK_MSG(st->asc_down == 0, "%s: %d ascent steps lowered the bound", name, st->asc_down);
    CHECK_MSG(st->pert_infeas == 0, "%s: %d infeasible decodes from perturbed prices", name,
              st->pert_infeas);
    /* 8 ascent steps from zero prices get close (coordinate moves alone: 4-18 %) */
    CHECK_MSG(st->asc_gap_sum / st->instances < 0.01, "%s: mean ascent gap %g", name,
              st->asc_gap_sum / st->instances);
    CHECK_MSG(st->tr_runs == 3 * st->instances && st->tr_bad == 0 && st->tr_cert == 0,
              "%s: transport %d runs, %d not optimal at GLPK's cost (max gap %g), %d "
              "uncertified", name, st->tr_runs, st->tr_bad, st->tr_max_gap, st->tr_cert);
    fprintf(stderr, "  %s: transport pivots (degenerate) per solve from zero / GLPK / perturbed "
            "prices: %.1f (%.1f) / %.1f (%.1f) / %.1f (%.1f), max gap %.2g\n", name,
            (double)st->tr_piv[0] / st->instances, (double)st->tr_deg[0] / st->instances,
            (double)st->tr_piv[1] / st->instances, (double)st->tr_deg[1] / st->instances,
            (double)st->tr_piv[2] / st->instances, (double)st->tr_deg[2] / st->instances,
            st->tr_max_gap);
    fprintf(stderr, "  %s: %d instances, max |bound-opt|/opt at GLPK prices %.2g, max decode "
            "gap %.2g, mean gap of 8 ascent sweeps from 0: %.3g\n", name, st->instances,
            st->max_bound_rel, st->max_dec_gap, st->asc_gap_sum / (st->instances + 1e-300));
}

static void test_uniform(void)
{
    /* 70 x 64: above 4096 cells, the transportation simplex prices in blocks */
    static const int sizes[][2] = {{3, 2}, {10, 5}, {30, 10}, {5, 20}, {70, 64}};
    Stats st = {0};
    RngStream r;
    rng_stream_init(&r, 1, RNG_TRAIN_INST, 0, 0, 0);
    for (int z = 0; z < 5; z++) {
        int n = sizes[z][0], m = sizes[z][1];
        LpSolver *lp;
        MgErr e = {0};
        lp_create(&lp, n, m, &e);
        Inst I;
        inst_alloc(&I, n, m);
        for (int t = 0; t < (z == 4 ? 12 : 60); t++) {
            double sd = 0, ss = 0, rho = t % 3 == 0 ? 1.0 : 1.0 + rng_uniform(&r);
            for (int i = 0; i < n; i++) sd += I.d[i] = rng_uniform_range(&r, 10, 100);
            for (int j = 0; j < m; j++) ss += I.s[j] = rng_uniform_range(&r, 10, 100);
            for (int j = 0; j < m; j++) I.s[j] *= rho * sd / ss;
            for (int k = 0; k < n * m; k++) I.c[k] = rng_uniform_range(&r, 1, 10);
            check_one(lp, &I, &r, &st);
        }
        inst_free(&I);
        lp_destroy(lp);
    }
    report("uniform", &st, 240);
}

static void test_region(void)
{
    static const int sizes[][2] = {{10, 5}, {30, 10}, {20, 8}};
    Stats st = {0};
    RngStream r;
    rng_stream_init(&r, 2, RNG_TRAIN_INST, 0, 0, 0);
    for (int z = 0; z < 3; z++) {
        int n = sizes[z][0], m = sizes[z][1];
        LpSolver *lp;
        MgErr e = {0};
        lp_create(&lp, n, m, &e);
        Inst I;
        inst_alloc(&I, n, m);
        for (int task = 0; task < 20; task++) {
            RegionTask rt = {0};
            RngStream tr;
            rng_stream_init(&tr, 7, RNG_TRAIN_TASK, 0, (uint64_t)(z * 100 + task), 0);
            region_task_draw(&rt, n, m, task % 2 ? 1.0 : 1.2, 0.3, 0.5, 0.1, &tr);
            memcpy(I.c, rt.c, sizeof(double) * n * m);
            for (int h = 0; h < 6; h++) {
                region_instance(&rt, 7, RNG_TRAIN_INST, 0, (uint64_t)(z * 100 + task),
                                (uint64_t)(h * 4), I.d, I.s);
                check_one(lp, &I, &r, &st);
            }
            region_task_free(&rt);
        }
        inst_free(&I);
        lp_destroy(lp);
    }
    report("region", &st, 300);
    /* the point of a price start: exact prices need far fewer pivots than zero */
    CHECK_MSG(2 * st.tr_piv[1] <= st.tr_piv[0], "region: pivots from exact prices %ld, cold %ld",
              st.tr_piv[1], st.tr_piv[0]);
}

/* Integer data with many ties, exactly tight supply, zeros, thin shapes. */
static void test_degenerate(void)
{
    static const int sizes[][2] = {{1, 1}, {1, 4}, {4, 1}, {3, 3}, {6, 4}, {12, 6}};
    Stats st = {0};
    RngStream r;
    rng_stream_init(&r, 3, RNG_TRAIN_INST, 0, 0, 0);
    for (int z = 0; z < 6; z++) {
        int n = sizes[z][0], m = sizes[z][1];
        LpSolver *lp;
        MgErr e = {0};
        lp_create(&lp, n, m, &e);
        Inst I;
        inst_alloc(&I, n, m);
        for (int t = 0; t < 50; t++) {
            double sd = 0;
            for (int i = 0; i < n; i++) {
                I.d[i] = (t % 4 == 1 && i % 2) ? 0.0 : (double)(1 + (int)(rng_uniform(&r) * 5));
                sd += I.d[i];
            }
            /* split sum(d) (+ 0 or a little) over the suppliers in integers */
            double left = sd + (t % 3 == 2 ? 2.0 : 0.0);
            for (int j = 0; j < m; j++) {
                double share = j == m - 1 ? left : floor(left * rng_uniform(&r));
                if (t % 5 == 3 && j == 0 && m > 1) share = 0.0; /* a supplier with none */
                I.s[j] = share;
                left -= share;
            }
            for (int k = 0; k < n * m; k++) I.c[k] = (double)(1 + (int)(rng_uniform(&r) * 3));
            if (t % 7 == 0)
                for (int k = 0; k < n * m; k++) I.c[k] = 2.0; /* all costs equal */
            check_one(lp, &I, &r, &st);
        }
        inst_free(&I);
        lp_destroy(lp);
    }
    report("degenerate", &st, 300);
}

static void test_by_hand(void)
{
    /* d = (10, 20), s = (15, 30), c = [[1, 4], [2, 3]]: opt 65 (x = [[10,0],[5,15]]).
     * lambda = (1, 0): mu = (min(2, 4), min(3, 3)) = (2, 3); g = 20 + 60 - 15 = 65. */
    double d[2] = {10, 20}, s[2] = {15, 30}, c[4] = {1, 4, 2, 3};
    double lam[2] = {1, 0}, x[4];
    CHECK_NEAR(cert_lower_bound(2, 2, c, d, s, lam), 65.0, 1e-12);
    double z[2] = {0, 0};
    CHECK_NEAR(cert_lower_bound(2, 2, c, d, s, z), 10 + 40, 1e-12);
    double neg[2] = {-5, 0}; /* negative entries count as 0 */
    CHECK_NEAR(cert_lower_bound(2, 2, c, d, s, neg), 50.0, 1e-12);
    double bad[2] = {NAN, 0};
    CHECK(cert_lower_bound(2, 2, c, d, s, bad) == -INFINITY);
    double inf[2] = {INFINITY, 0};
    CHECK(cert_lower_bound(2, 2, c, d, s, inf) == -INFINITY);
    CHECK(cert_decode(2, 2, c, d, s, lam, x, NULL) == 0);
    CHECK_NEAR(x[0], 10, 1e-12);
    CHECK_NEAR(x[1], 0, 1e-12);
    CHECK_NEAR(x[2], 5, 1e-12);
    CHECK_NEAR(x[3], 15, 1e-12);
    /* ascent from zero reaches the optimum here (one coordinate move) */
    double a[2] = {0, 0};
    CHECK_NEAR(cert_ascent(2, 2, c, d, s, a, 5), 65.0, 1e-12);
    CHECK_NEAR(a[0], 1.0, 1e-12);
    /* sum(s) < sum(d): -1, best effort */
    double s_short[2] = {5, 5};
    CHECK(cert_decode(2, 2, c, d, s_short, lam, x, NULL) == -1);
    /* the transportation simplex: cold, from the exact prices, refusing bad input */
    TransportSolver *T = transport_create(2, 2, 0);
    TransportResult tr;
    double lo[2];
    for (int start = 0; start < 2; start++) {
        CHECK(transport_solve(T, d, s, c, start ? lam : NULL, x, lo, &tr) == 0);
        CHECK(tr.optimal);
        CHECK_NEAR(tr.obj, 65.0, 1e-12);
        CHECK_NEAR(x[2], 5, 1e-12);
        CHECK_NEAR(lo[0], 1.0, 1e-12);
        CHECK_NEAR(lo[1], 0.0, 1e-12);
    }
    CHECK(tr.pivots == 0); /* exact prices: the crash is the optimum */
    x[0] = 123;
    CHECK(transport_solve(T, d, s_short, c, NULL, x, lo, &tr) == -1 && x[0] == 123);
    double dnan[2] = {NAN, 1}, cinf[4] = {1, INFINITY, 1, 1}, dneg[2] = {-1, 1};
    CHECK(transport_solve(T, dnan, s, c, NULL, x, lo, &tr) == -1);
    CHECK(transport_solve(T, dneg, s, c, NULL, x, lo, &tr) == -1);
    CHECK(transport_solve(T, d, s, cinf, NULL, x, lo, &tr) == -1);
    /* data whose sums or objective overflow are refused, x untouched (found
     * while writing fuzz_transport: these returned 0, "optimal", with an
     * infinite cost) */
    double dbig[2] = {1e308, 1e308}, cbig[4] = {1e308, -1e308, -1e308, 1e308};
    double one[2] = {1, 1}, c200[4] = {1e200, 1, 1, 1e200}, d200[2] = {1e200, 1e200};
    x[0] = 123;
    CHECK(transport_solve(T, dbig, dbig, c, NULL, x, lo, &tr) == -1 && x[0] == 123);
    CHECK(transport_solve(T, one, one, cbig, NULL, x, lo, &tr) == -1 && x[0] == 123);
    CHECK(transport_solve(T, d200, d200, c200, NULL, x, lo, &tr) == -1 && x[0] == 123);
    /* cost and sum(s) finite, but the final prices times sum(s) are not: the
     * certificate was -Inf (fuzz_transport, corpus crash-54fe10a8...) */
    TransportSolver *T24 = transport_create(2, 4, 0);
    double d24[2] = {0.0068359375, 1.2858103286235208e+302};
    double s24[4] = {0, 1.2858103286235195e+302, 0, 0};
    double c24[8] = {-1, 4.6566128730773926e-10, 100, 1073741.824,
                     -0.0009765625, 1, 1073741.824, 10};
    double x24[8] = {123}, l24[4];
    CHECK(transport_solve(T24, d24, s24, c24, NULL, x24, l24, &tr) == -1 && x24[0] == 123);
    transport_destroy(T24);
    /* negative costs are allowed: the same optimum as the costs shifted by 5 */
    double cneg[4] = {1 - 5, 4 - 5, 2 - 5, 3 - 5};
    CHECK(transport_solve(T, d, s, cneg, NULL, x, lo, &tr) == 0 && tr.optimal);
    CHECK_NEAR(tr.obj, 65.0 - 5 * 30, 1e-12);
    CHECK_NEAR(cert_lower_bound(2, 2, cneg, d, s, lo), tr.obj, 1e-12);
    transport_destroy(T);
    /* a pivot cap: feasible, not optimal, its prices still a valid bound */
    int n = 30, m = 10, capped = 0;
    RngStream r;
    rng_stream_init(&r, 9, RNG_TRAIN_INST, 0, 0, 0);
    double *D = malloc(sizeof(double) * n), *S = malloc(sizeof(double) * m);
    double *C = malloc(sizeof(double) * n * m), *X = malloc(sizeof(double) * n * m);
    double L[10];
    T = transport_create(n, m, 1);
    TransportSolver *full = transport_create(n, m, 0);
    for (int t = 0; t < 20; t++) {
        double sd = 0, ss = 0;
        for (int i = 0; i < n; i++) sd += D[i] = rng_uniform_range(&r, 10, 100);
        for (int j = 0; j < m; j++) ss += S[j] = rng_uniform_range(&r, 10, 100);
        for (int j = 0; j < m; j++) S[j] *= 1.1 * sd / ss;
        for (int k = 0; k < n * m; k++) C[k] = rng_uniform_range(&r, 1, 10);
        TransportResult tf;
        CHECK(transport_solve(full, D, S, C, NULL, X, L, &tf) == 0 && tf.optimal);
        CHECK(transport_solve(T, D, S, C, NULL, X, L, &tr) == 0 && tr.pivots <= 1);
        capped += !tr.optimal;
        AllocMetrics am;
        alloc_metrics(n, m, D, S, C, X, tf.obj, &am);
        CHECK(am.feasible && tr.obj >= tf.obj - 1e-9 * tf.obj);
        CHECK(cert_lower_bound(n, m, C, D, S, L) <= tf.obj * (1 + 1e-12));
    }
    CHECK_MSG(capped >= 10, "only %d of 20 solves needed more than one pivot", capped);
    transport_destroy(T);
    transport_destroy(full);
    free(D); free(S); free(C); free(X);
}

/* The grid family: operating hours of real PGLib cases (outages, solar, wind). */
static void test_grid(void)
{
    static const char *cases[] = {"data/grids/pglib_opf_case14_ieee.m",
                                  "data/grids/pglib_opf_case30_ieee.m",
                                  "data/grids/pglib_opf_case57_ieee.m",
                                  "data/grids/pglib_opf_case118_ieee.m"};
    Stats st = {0};
    RngStream r;
    rng_stream_init(&r, 4, RNG_TRAIN_INST, 0, 0, 0);
    for (int z = 0; z < 4; z++) {
        char set[160];
        snprintf(set, sizeof set, "task.case=%s", cases[z]);
        const char *sets[] = {"task.family=grid", set};
        Config cfg;
        MgErr e = {0};
        if (config_load(&cfg, NULL, sets, 2, &e) != MG_OK || tasks_config_resolve(&cfg.task, &e)) {
            CHECK_MSG(0, "%s", e.msg);
            continue;
        }
        TaskSampler *ts = NULL;
        TaskSetup task_setup = tasks_setup_from(&cfg);
        CHECK_MSG(tasks_new(&ts, &task_setup, &e) == MG_OK, "%s", e.msg);
        if (!ts) continue;
        int n = cfg.task.n_demand, m = cfg.task.n_supply;
        LpSolver *lp;
        lp_create(&lp, n, m, &e);
        TaskData sd = {0};
        int ntask = z == 3 ? 3 : 8;
        for (int task = 0; task < ntask; task++) {
            CHECK_MSG(tasks_draw(ts, &(TaskRequest){STREAM_TRAIN, 0, (uint64_t)task, 10, 0, 0}, &sd,
                                 NULL, &e) ==
                          MG_OK, "%s", e.msg);
            for (int q = 0; q < sd.k; q++) {
                Inst I = {n, m, sd.d + (size_t)q * n, sd.s + (size_t)q * m,
                          sd.c + (size_t)q * n * m};
                check_one(lp, &I, &r, &st);
            }
        }
        taskdata_free(&sd);
        lp_destroy(lp);
        tasks_destroy(ts);
    }
    report("grid", &st, 270);
    CHECK_MSG(2 * st.tr_piv[1] <= st.tr_piv[0], "grid: pivots from exact prices %ld, cold %ld",
              st.tr_piv[1], st.tr_piv[0]);
}

int main(void)
{
    test_by_hand();
    test_uniform();
    test_region();
    test_degenerate();
    test_grid();
    return TEST_REPORT();
}
