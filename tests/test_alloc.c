/*
 * test_alloc.c — metrics by hand, repair properties under adversarial
 * inputs (all load on one supplier, zero demands, exactly tight supply, NaN,
 * Inf, huge and negative entries), repair of a feasible allocation is the
 * identity, greedy by hand and against the LP optimum; polish by hand
 * (slack move, 2-row exchange) and its properties on random and adversarial
 * starts (feasible, cost never up, never below the LP optimum, deterministic,
 * a fixed point of itself, the LP optimum left alone).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "metagrid/alloc.h"
#include "metagrid/lp.h"
#include "metagrid/rng.h"

static void test_metrics(void)
{
    double d[2] = {10, 20}, s[2] = {15, 30}, c[4] = {1, 4, 2, 3};
    double x[4] = {10, 0, 5, 15};
    AllocMetrics am;
    alloc_metrics(2, 2, d, s, c, x, 65.0, &am);
    CHECK_NEAR(am.cost, 65.0, 1e-15);
    CHECK(am.gap == 0.0 && am.feasible && am.viol_max_rel == 0.0);
    /* demand 0 short by 1, supplier 0 over by 5, one entry -2 */
    double y[4] = {9, 0, 22, -2};
    alloc_metrics(2, 2, d, s, c, y, 65.0, &am);
    CHECK_NEAR(am.cost, 9 + 44 - 6, 1e-15);
    CHECK_NEAR(am.gap, (47.0 - 65.0) / 65.0, 1e-15);
    CHECK_NEAR(am.viol_demand_abs, 1.0, 1e-15);
    CHECK_NEAR(am.viol_demand_rel, 0.1, 1e-15);
    CHECK_NEAR(am.viol_cap_abs, 16.0, 1e-15);
    CHECK_NEAR(am.viol_cap_rel, 16.0 / 20.0, 1e-15); /* max(s_0, max d) = 20 */
    CHECK_NEAR(am.viol_neg_abs, 2.0, 1e-15);
    CHECK_NEAR(am.viol_neg_rel, 0.1, 1e-15);
    CHECK_NEAR(am.viol_max_rel, 16.0 / 20.0, 1e-15);
    CHECK(!am.feasible);
    /* NaN anywhere: infeasible, cost NaN; unknown optimum: gap NaN */
    double z[4] = {10, NAN, 5, 15};
    alloc_metrics(2, 2, d, s, c, z, NAN, &am);
    CHECK(!am.feasible && isinf(am.viol_max_rel) && isnan(am.cost) && isnan(am.gap));
    alloc_metrics(2, 2, d, s, c, x, NAN, &am);
    CHECK(am.feasible && isnan(am.gap));
    /* just inside / outside the 1e-9 tolerance */
    double w[4] = {10 * (1 + 0.5e-9), 0, 5, 15};
    alloc_metrics(2, 2, d, s, c, w, 65.0, &am);
    CHECK(am.feasible);
    w[0] = 10 * (1 + 2e-9);
    alloc_metrics(2, 2, d, s, c, w, 65.0, &am);
    CHECK(!am.feasible);
}

typedef struct {
    int n, m;
    double *d, *s, *c, *x, *y, *y2, *work;
} Inst;

static void inst_alloc(Inst *I, int n, int m)
{
    I->n = n;
    I->m = m;
    I->d = calloc(n, sizeof(double));
    I->s = calloc(m, sizeof(double));
    I->c = calloc(n * m, sizeof(double));
    I->x = calloc(n * m, sizeof(double));
    I->y = calloc(n * m, sizeof(double));
    I->y2 = calloc(n * m, sizeof(double));
    I->work = calloc(n * m + n + m, sizeof(double));
}

static void inst_free(Inst *I)
{
    free(I->d); free(I->s); free(I->c); free(I->x); free(I->y); free(I->y2); free(I->work);
}

/* Random instance; tight: sum(s) = sum(d) exactly up to rounding. */
static void inst_draw(Inst *I, RngStream *r, int zero_demands, int tight)
{
    double sd = 0, ss = 0;
    for (int i = 0; i < I->n; i++)
        sd += I->d[i] = (zero_demands && rng_below(r, 2)) ? 0.0 : rng_uniform_range(r, 10, 100);
    for (int j = 0; j < I->m; j++) ss += I->s[j] = rng_uniform_range(r, 10, 100);
    for (int k = 0; k < I->n * I->m; k++) I->c[k] = rng_uniform_range(r, 1, 10);
    double f = (tight ? 1.0 : 1.2) * sd / ss;
    for (int j = 0; j < I->m; j++) I->s[j] *= f;
}

/* The adversarial allocation of kind `kind` into I->x. */
static void adversarial(Inst *I, RngStream *r, int kind)
{
    int n = I->n, m = I->m;
    for (int k = 0; k < n * m; k++) {
        double v = rng_uniform(r) * 50;
        switch (kind) {
        case 0: v = (k % m == 0) ? I->d[k / m] : 0.0; break;            /* all on supplier 0 */
        case 1: v = NAN; break;                                          /* all NaN */
        case 2: v = rng_below(r, 3) == 0 ? NAN : v; break;               /* some NaN */
        case 3: v = rng_below(r, 4) == 0 ? INFINITY : v; break;          /* some +Inf */
        case 4: v = rng_below(r, 2) ? -INFINITY : -v; break;             /* all negative */
        case 5: v = v * 1e300; break;                                    /* huge (overflowing sums) */
        case 6: v = rng_normal(r) * 30; break;                           /* mixed signs */
        case 7: v = 0.0; break;                                          /* nothing */
        case 8: v = (k % m == m - 1) ? 1e-300 : 0.0; break;              /* subnormal-ish */
        default: break;                                                  /* random positive */
        }
        I->x[k] = v;
    }
}

static void test_repair_adversarial(void)
{
    const int sizes[][2] = {{1, 1}, {3, 2}, {10, 5}, {5, 10}, {30, 10}, {1, 7}, {7, 1}};
    int feasible = 0, total = 0, determ = 1, alias = 1, only_over_lose = 1, rc_ok = 1;
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        Inst I;
        inst_alloc(&I, sizes[z][0], sizes[z][1]);
        int nm = I.n * I.m;
        for (int t = 0; t < 60; t++) {
            RngStream r;
            rng_stream_init(&r, 1, RNG_TEST, z, t, 0);
            inst_draw(&I, &r, t % 3 == 1, t % 4 == 2);
            adversarial(&I, &r, t % 10);
            int rc = alloc_repair(I.n, I.m, I.d, I.s, I.c, I.x, I.y, I.work);
            rc_ok &= rc == 0;
            AllocMetrics am;
            alloc_metrics(I.n, I.m, I.d, I.s, I.c, I.y, NAN, &am);
            if (!am.feasible)
                fprintf(stderr, "size %dx%d t %d kind %d: viol %g (dem %g cap %g neg %g)\n", I.n,
                        I.m, t, t % 10, am.viol_max_rel, am.viol_demand_rel, am.viol_cap_rel,
                        am.viol_neg_rel);
            feasible += am.feasible;
            total++;
            /* deterministic, and aliasing y == x gives the same */
            alloc_repair(I.n, I.m, I.d, I.s, I.c, I.x, I.y2, NULL);
            determ &= !memcmp(I.y, I.y2, sizeof(double) * nm);
            memcpy(I.y2, I.x, sizeof(double) * nm);
            alloc_repair(I.n, I.m, I.d, I.s, I.c, I.y2, I.y2, I.work);
            alias &= !memcmp(I.y, I.y2, sizeof(double) * nm);
            /* a supplier ends above its clipped-and-scaled load only if it had slack */
            if (t % 10 == 9) {
                for (int j = 0; j < I.m; j++) {
                    double before = 0, after = 0;
                    for (int i = 0; i < I.n; i++) {
                        double rs = 0;
                        for (int k = 0; k < I.m; k++) rs += I.x[i * I.m + k];
                        before += I.x[i * I.m + j] * I.d[i] / rs;
                        after += I.y[i * I.m + j];
                    }
                    if (before > I.s[j] * (1 + 1e-12)) only_over_lose &= fabs(after - I.s[j]) <= 1e-9 * I.s[j];
                    else only_over_lose &= after >= before * (1 - 1e-12);
                }
            }
        }
        inst_free(&I);
    }
    CHECK_MSG(feasible == total, "%d of %d feasible", feasible, total);
    CHECK(determ);
    CHECK(alias);
    CHECK(only_over_lose);
    CHECK(rc_ok);
}

/* Repair of a feasible allocation (LP optimum, greedy) is (near) identity;
 * repair of a perturbed optimum stays close to optimal. */
static void test_repair_identity(void)
{
    Inst I;
    inst_alloc(&I, 10, 5);
    LpSolver *lp = NULL;
    MgErr e = {0};
    CHECK(lp_create(&lp, 10, 5, &e) == MG_OK);
    double worst_id = 0, worst_gap = 0;
    for (int t = 0; t < 50; t++) {
        RngStream r;
        rng_stream_init(&r, 2, RNG_TEST, 0, t, 0);
        inst_draw(&I, &r, t % 5 == 0, t % 3 == 0);
        LpResult res = {.x = I.x};
        CHECK(lp_solve(lp, I.d, I.s, I.c, LP_DUAL_COLD, &res, "identity", &e) == MG_OK);
        alloc_repair(10, 5, I.d, I.s, I.c, I.x, I.y, I.work);
        for (int k = 0; k < 50; k++) worst_id = fmax(worst_id, fabs(I.y[k] - I.x[k]));
        alloc_greedy(10, 5, I.d, I.s, I.c, I.x);
        alloc_repair(10, 5, I.d, I.s, I.c, I.x, I.y, I.work);
        for (int k = 0; k < 50; k++) worst_id = fmax(worst_id, fabs(I.y[k] - I.x[k]));
        /* perturb the optimum by 5 % multiplicative noise */
        lp_solve(lp, I.d, I.s, I.c, LP_DUAL_COLD, &res, "identity", &e);
        for (int k = 0; k < 50; k++) I.x[k] *= 1 + 0.05 * rng_normal(&r);
        alloc_repair(10, 5, I.d, I.s, I.c, I.x, I.y, I.work);
        AllocMetrics am;
        alloc_metrics(10, 5, I.d, I.s, I.c, I.y, res.obj, &am);
        CHECK(am.feasible && am.gap >= -1e-9);
        worst_gap = fmax(worst_gap, am.gap);
    }
    CHECK_MSG(worst_id <= 1e-11 * 100, "%g", worst_id);
    CHECK_MSG(worst_gap < 0.1, "%g", worst_gap);
    lp_destroy(lp);
    inst_free(&I);
}

/* Hand-checked repairs. */
static void test_repair_hand(void)
{
    /* 1 row, d = 10, s = (4, 3, 10), c = (1, 2, 3); all on supplier 0:
     * excess 6 goes to the cheapest with slack: 3 to supplier 1, 3 to 2. */
    double d[1] = {10}, s[3] = {4, 3, 10}, c[3] = {1, 2, 3}, x[3] = {7, 0, 0}, y[3];
    CHECK(alloc_repair(1, 3, d, s, c, x, y, NULL) == 0);
    CHECK_NEAR(y[0], 4, 1e-15); CHECK_NEAR(y[1], 3, 1e-15); CHECK_NEAR(y[2], 3, 1e-15);
    /* 2 rows both on supplier 0 (cap 10): the row with the cheaper detour moves.
     * row 0: c = (1, 5), row 1: c = (1, 2); d = (10, 10); s = (10, 10). */
    double d2[2] = {10, 10}, s2[2] = {10, 10}, c2[4] = {1, 5, 1, 2}, x2[4] = {1, 0, 1, 0}, y2[4];
    CHECK(alloc_repair(2, 2, d2, s2, c2, x2, y2, NULL) == 0);
    CHECK_NEAR(y2[0], 10, 1e-15); CHECK_NEAR(y2[1], 0, 1e-15);
    CHECK_NEAR(y2[2], 0, 1e-15); CHECK_NEAR(y2[3], 10, 1e-15);
    /* zero row: spread proportionally to capacity */
    double x3[4] = {NAN, -1, 0, 0}, s3[2] = {30, 10}, y3[4];
    CHECK(alloc_repair(2, 2, d2, s3, c2, x3, y3, NULL) == 0);
    CHECK_NEAR(y3[0], 7.5, 1e-15); CHECK_NEAR(y3[1], 2.5, 1e-15);
    /* infeasible instance: -1 */
    double s4[2] = {5, 5};
    CHECK(alloc_repair(2, 2, d2, s4, c2, x2, y2, NULL) == -1);
}

static void test_greedy(void)
{
    /* greedy takes (0,0) first and leaves row 1 the expensive arc: 110 vs 30 */
    double d[2] = {10, 10}, s[2] = {10, 10}, c[4] = {1, 2, 1, 10}, x[4];
    CHECK(alloc_greedy(2, 2, d, s, c, x) == 0);
    CHECK(x[0] == 10 && x[1] == 0 && x[2] == 0 && x[3] == 10);
    double d2[2] = {10, 20}, s2[2] = {15, 30}, c2[4] = {1, 4, 2, 3};
    CHECK(alloc_greedy(2, 2, d2, s2, c2, x) == 0);
    CHECK(x[0] == 10 && x[1] == 0 && x[2] == 5 && x[3] == 15);
    double s3[2] = {5, 5};
    CHECK(alloc_greedy(2, 2, d2, s3, c2, x) == -1);
    /* random: feasible, never better than the LP optimum */
    Inst I;
    inst_alloc(&I, 30, 10);
    LpSolver *lp = NULL;
    MgErr e = {0};
    lp_create(&lp, 30, 10, &e);
    int ok = 1;
    double gsum = 0;
    for (int t = 0; t < 30; t++) {
        RngStream r;
        rng_stream_init(&r, 3, RNG_TEST, 0, t, 0);
        inst_draw(&I, &r, t % 4 == 0, t % 2);
        LpResult res = {.x = I.y};
        lp_solve(lp, I.d, I.s, I.c, LP_DUAL_COLD, &res, "greedy", &e);
        CHECK(alloc_greedy(30, 10, I.d, I.s, I.c, I.x) == 0);
        AllocMetrics am;
        alloc_metrics(30, 10, I.d, I.s, I.c, I.x, res.obj, &am);
        ok &= am.feasible && am.gap >= -1e-9;
        gsum += am.gap;
    }
    CHECK(ok);
    CHECK_MSG(gsum / 30 > 1e-4, "greedy mean gap %g (should be suboptimal)", gsum / 30);
    lp_destroy(lp);
    inst_free(&I);
}

static double cost_of(const Inst *I, const double *x)
{
    double s = 0;
    for (int k = 0; k < I->n * I->m; k++) s += I->c[k] * x[k];
    return s;
}

/* Hand-checked polish moves. */
static void test_polish_hand(void)
{
    /* slack move: 1 row, d = 10, s = (10, 10), c = (3, 1), all on supplier 0 */
    double s[2] = {10, 10}, c[2] = {3, 1}, x[2] = {10, 0};
    CHECK(alloc_polish(1, 2, s, c, x, 4, NULL) == 1);
    CHECK(x[0] == 0 && x[1] == 10);
    /* partial slack: s = (10, 4): 4 moves */
    double s1[2] = {10, 4}, x1[2] = {10, 0};
    alloc_polish(1, 2, s1, c, x1, 4, NULL);
    CHECK(x1[0] == 6 && x1[1] == 4);
    /* largest saving first: one unit of cheap capacity (supplier 2, s = 5),
     * rows save 1 (row 0) and 4 (row 1) per unit; row 1 gets it. */
    double s2[3] = {10, 10, 5}, c2[6] = {2, 9, 1, 9, 5, 1}, x2[6] = {5, 0, 0, 0, 5, 0};
    alloc_polish(2, 3, s2, c2, x2, 4, NULL);
    CHECK(x2[0] == 5 && x2[2] == 0 && x2[4] == 0 && x2[5] == 5);
    /* exchange: both suppliers full (s = (10, 10), d = (10, 10)); greedy's
     * {row 0 -> 0, row 1 -> 1} costs 1 + 10 per unit, the swap 2 + 1. */
    double s3[2] = {10, 10}, c3[4] = {1, 2, 1, 10}, x3[4] = {10, 0, 0, 10};
    CHECK(alloc_polish(2, 2, s3, c3, x3, 4, NULL) == 1);
    CHECK(x3[0] == 0 && x3[1] == 10 && x3[2] == 10 && x3[3] == 0);
    /* nothing to improve: 0 moves, unchanged */
    CHECK(alloc_polish(2, 2, s3, c3, x3, 4, NULL) == 0);
    CHECK(x3[0] == 0 && x3[1] == 10 && x3[2] == 10 && x3[3] == 0);
    /* passes = 0: untouched */
    double x4[4] = {10, 0, 0, 10};
    CHECK(alloc_polish(2, 2, s3, c3, x4, 0, NULL) == 0 && x4[0] == 10);
}

/* Polish properties from repaired adversarial and random starts. */
static void test_polish_props(void)
{
    const int sizes[][2] = {{1, 1}, {3, 2}, {10, 5}, {5, 10}, {30, 10}, {1, 7}, {7, 1}};
    int feasible = 0, total = 0, never_up = 1, above_opt = 1, determ = 1, fixed = 1, opt_kept = 1;
    double gap_before = 0, gap_after = 0;
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        Inst I;
        inst_alloc(&I, sizes[z][0], sizes[z][1]);
        int n = I.n, m = I.m, nm = n * m;
        LpSolver *lp = NULL;
        MgErr e = {0};
        CHECK(lp_create(&lp, n, m, &e) == MG_OK);
        double *opt = calloc(nm, sizeof(double)), *y3 = calloc(nm, sizeof(double));
        void *pw = malloc(alloc_polish_work_bytes(n, m));
        for (int t = 0; t < 40; t++) {
            RngStream r;
            rng_stream_init(&r, 4, RNG_TEST, z, t, 0);
            inst_draw(&I, &r, t % 3 == 1, t % 4 == 2);
            LpResult res = {.x = opt};
            CHECK(lp_solve(lp, I.d, I.s, I.c, LP_DUAL_COLD, &res, "polish", &e) == MG_OK);
            if (t % 5 == 4) alloc_greedy(n, m, I.d, I.s, I.c, I.y);
            else {
                adversarial(&I, &r, t % 10);
                alloc_repair(n, m, I.d, I.s, I.c, I.x, I.y, I.work);
            }
            double before = cost_of(&I, I.y);
            memcpy(I.y2, I.y, sizeof(double) * nm);
            alloc_polish(n, m, I.s, I.c, I.y, 50, pw);
            alloc_polish(n, m, I.s, I.c, I.y2, 50, NULL);
            determ &= !memcmp(I.y, I.y2, sizeof(double) * nm);
            AllocMetrics am;
            alloc_metrics(n, m, I.d, I.s, I.c, I.y, res.obj, &am);
            if (!am.feasible)
                fprintf(stderr, "polish %dx%d t %d: viol %g\n", n, m, t, am.viol_max_rel);
            feasible += am.feasible;
            total++;
            never_up &= am.cost <= before * (1 + 1e-12);
            above_opt &= am.gap >= -1e-9;
            gap_before += (before - res.obj) / fmax(fabs(res.obj), 1e-12);
            gap_after += am.gap;
            /* a polished allocation is a fixed point */
            memcpy(y3, I.y, sizeof(double) * nm);
            fixed &= alloc_polish(n, m, I.s, I.c, y3, 50, pw) == 0 && !memcmp(y3, I.y, sizeof(double) * nm);
            /* the LP optimum cannot be improved (no move saves more than rounding) */
            memcpy(y3, opt, sizeof(double) * nm);
            alloc_polish(n, m, I.s, I.c, y3, 50, pw);
            opt_kept &= cost_of(&I, y3) >= res.obj * (1 - 1e-12) &&
                        cost_of(&I, y3) <= res.obj * (1 + 1e-12);
        }
        free(opt);
        free(y3);
        free(pw);
        lp_destroy(lp);
        inst_free(&I);
    }
    CHECK_MSG(feasible == total, "%d of %d feasible", feasible, total);
    CHECK(never_up);
    CHECK(above_opt);
    CHECK(determ);
    CHECK(fixed);
    CHECK(opt_kept);
    /* it must actually improve: mean gap at least halved */
    CHECK_MSG(gap_after < 0.5 * gap_before, "mean gap %g -> %g", gap_before / total,
              gap_after / total);
}

int main(void)
{
    test_metrics();
    test_repair_hand();
    test_repair_adversarial();
    test_repair_identity();
    test_greedy();
    test_polish_hand();
    test_polish_props();
    return TEST_REPORT();
}
