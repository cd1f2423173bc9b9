/*
 * test_lp.c — the GLPK layer: optimality certified independently of the
 * solve path (primal feasibility, dual feasibility, zero duality gap), hand
 * solved tiny instances, degenerate and infeasible ones, warm == cold, and
 * GLPK internal errors turned into errors.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "metagrid/lp.h"
#include "metagrid/region.h"
#include "metagrid/rng.h"

/*
 * Certificate of optimality of (x, u, v) for the instance: x primal
 * feasible, (u, v) dual feasible (v <= 0, c_ij - u_i - v_j >= 0), and
 * c.x == d.u + s.v == obj, all within a relative tolerance. Returns 1 if it
 * holds; prints the first failing condition.
 */
static int certify(int n, int m, const double *d, const double *s, const double *c,
                   const double *x, const double *u, const double *v, double obj,
                   const char *label)
{
    double dmax = 1.0, cmax = 1.0;
    for (int i = 0; i < n; i++) dmax = fmax(dmax, d[i]);
    for (int k = 0; k < n * m; k++) cmax = fmax(cmax, fabs(c[k]));
    double tol = 1e-7;
    double primal = 0.0, dual = 0.0;
    for (int i = 0; i < n; i++) {
        double rs = 0.0;
        for (int j = 0; j < m; j++) {
            double xij = x[i * m + j];
            if (xij < -tol * dmax) return fprintf(stderr, "%s: x[%d,%d] = %g < 0\n", label, i, j, xij), 0;
            rs += xij;
            primal += c[i * m + j] * xij;
            double rc = c[i * m + j] - u[i] - v[j];
            if (rc < -tol * cmax)
                return fprintf(stderr, "%s: reduced cost [%d,%d] = %g < 0\n", label, i, j, rc), 0;
        }
        if (fabs(rs - d[i]) > tol * dmax)
            return fprintf(stderr, "%s: row %d sums to %.17g, demand %.17g\n", label, i, rs, d[i]), 0;
        dual += d[i] * u[i];
    }
    for (int j = 0; j < m; j++) {
        double cs = 0.0;
        for (int i = 0; i < n; i++) cs += x[i * m + j];
        if (cs > s[j] + tol * dmax)
            return fprintf(stderr, "%s: column %d sums to %.17g > capacity %.17g\n", label, j, cs, s[j]), 0;
        if (v[j] > tol * cmax) return fprintf(stderr, "%s: v[%d] = %g > 0\n", label, j, v[j]), 0;
        dual += s[j] * v[j];
    }
    double scale = fmax(1.0, fabs(obj));
    if (fabs(primal - obj) > 1e-9 * scale * (n + m) ||
        fabs(dual - obj) > 1e-7 * scale)
        return fprintf(stderr, "%s: obj %.17g, c.x %.17g, dual %.17g\n", label, obj, primal, dual), 0;
    return 1;
}

typedef struct {
    double *d, *s, *c, *x, *u, *v;
} Buf;

static void buf_init(Buf *b, int n, int m)
{
    b->d = calloc(n, sizeof(double));
    b->s = calloc(m, sizeof(double));
    b->c = calloc(n * m, sizeof(double));
    b->x = calloc(n * m, sizeof(double));
    b->u = calloc(n, sizeof(double));
    b->v = calloc(m, sizeof(double));
}

static void buf_free(Buf *b)
{
    free(b->d); free(b->s); free(b->c); free(b->x); free(b->u); free(b->v);
}

/* Solve with `method`, certify, and return the objective (NAN on error). */
static double solve_certify(LpSolver *lp, int n, int m, Buf *b, LpMethod method, const char *label)
{
    MgErr e = {0};
    LpResult r = {.x = b->x, .u = b->u, .v = b->v};
    int rc = lp_solve(lp, b->d, b->s, b->c, method, &r, label, &e);
    CHECK_MSG(rc == MG_OK, "%s: %s", label, e.msg);
    if (rc) return NAN;
    CHECK_MSG(certify(n, m, b->d, b->s, b->c, b->x, b->u, b->v, r.obj, label), "%s", label);
    CHECK(r.iters >= 0);
    return r.obj;
}

static void test_tiny(void)
{
    LpSolver *lp = NULL;
    MgErr e = {0};
    CHECK(lp_create(&lp, 1, 1, &e) == MG_OK);
    double d1 = 5, s1 = 7, c1 = 3, x1, u1, v1;
    LpResult r = {.x = &x1, .u = &u1, .v = &v1};
    CHECK(lp_solve(lp, &d1, &s1, &c1, LP_DUAL_COLD, &r, "1x1", &e) == MG_OK);
    CHECK_NEAR(r.obj, 15.0, 1e-12);
    CHECK_NEAR(x1, 5.0, 1e-12);
    CHECK_NEAR(u1, 3.0, 1e-12);
    CHECK_NEAR(v1, 0.0, 1e-12);
    lp_destroy(lp);

    /* 2x2 solved by hand: x = [[10,0],[5,15]], obj 65, u = (2,3), v = (-1,0). */
    CHECK(lp_create(&lp, 2, 2, &e) == MG_OK);
    double d[2] = {10, 20}, s[2] = {15, 30}, c[4] = {1, 4, 2, 3}, x[4], u[2], v[2];
    for (int meth = 0; meth < 3; meth++) {
        LpResult rr = {.x = x, .u = u, .v = v};
        CHECK(lp_solve(lp, d, s, c, (LpMethod)meth, &rr, "2x2", &e) == MG_OK);
        CHECK_NEAR(rr.obj, 65.0, 1e-12);
        CHECK_NEAR(x[0], 10.0, 1e-12); CHECK_NEAR(x[1], 0.0, 1e-12);
        CHECK_NEAR(x[2], 5.0, 1e-12);  CHECK_NEAR(x[3], 15.0, 1e-12);
        CHECK_NEAR(u[0], 2.0, 1e-12);  CHECK_NEAR(u[1], 3.0, 1e-12);
        CHECK_NEAR(v[0], -1.0, 1e-12); CHECK_NEAR(v[1], 0.0, 1e-12);
    }
    /* Warm start whose basis stays optimal (demands 1 % up): no pivots, and
     * the solution is the scaled one. */
    {
        double d2[2] = {10.1, 20.2}, s2[2] = {15, 30};
        LpResult rw = {.x = x, .u = u, .v = v};
        CHECK(lp_solve(lp, d, s, c, LP_DUAL_COLD, &rw, "2x2", &e) == MG_OK);
        CHECK(lp_solve(lp, d2, s2, c, LP_WARM, &rw, "2x2 warm", &e) == MG_OK);
        CHECK(rw.iters == 0);
        CHECK_NEAR(rw.obj, 10.1 + 2 * 4.9 + 3 * 15.3, 1e-12); /* supplier 0 stays full */
        CHECK_NEAR(x[2], 4.9, 1e-12);
        CHECK(certify(2, 2, d2, s2, c, x, u, v, rw.obj, "2x2 warm"));
        /* ... and one where it does not (supplier 0 shrinks): pivots needed */
        double s3[2] = {5, 30};
        CHECK(lp_solve(lp, d2, s3, c, LP_WARM, &rw, "2x2 warm", &e) == MG_OK);
        CHECK(rw.iters > 0);
        CHECK(certify(2, 2, d2, s3, c, x, u, v, rw.obj, "2x2 warm 2"));
    }
    /* Exactly tight supply: sum(s) = sum(d); same optimum 65. */
    double st[2] = {15, 15};
    LpResult rt = {.x = x, .u = u, .v = v};
    CHECK(lp_solve(lp, d, st, c, LP_DUAL_COLD, &rt, "tight", &e) == MG_OK);
    CHECK_NEAR(rt.obj, 65.0, 1e-12);
    CHECK(certify(2, 2, d, st, c, x, u, v, rt.obj, "tight"));
    /* Ties: all costs 2 -> obj = 2 * sum(d). */
    double ct[4] = {2, 2, 2, 2};
    CHECK(lp_solve(lp, d, s, ct, LP_PRIMAL_COLD, &rt, "ties", &e) == MG_OK);
    CHECK_NEAR(rt.obj, 60.0, 1e-12);
    CHECK(certify(2, 2, d, s, ct, x, u, v, rt.obj, "ties"));
    /* Zero demands: x = 0, obj = 0. */
    double dz[2] = {0, 0};
    CHECK(lp_solve(lp, dz, s, c, LP_WARM, &rt, "zero demand", &e) == MG_OK);
    CHECK_NEAR(rt.obj, 0.0, 1e-12);
    CHECK(x[0] == 0 && x[1] == 0 && x[2] == 0 && x[3] == 0);
    CHECK(certify(2, 2, dz, s, c, x, u, v, rt.obj, "zero demand"));
    /* A supplier with no capacity gets nothing: everything on j = 1. */
    double s0[2] = {0, 50};
    CHECK(lp_solve(lp, d, s0, c, LP_WARM, &rt, "zero supply", &e) == MG_OK);
    CHECK_NEAR(rt.obj, 10 * 4 + 20 * 3, 1e-12);
    CHECK_NEAR(x[0] + x[2], 0.0, 1e-12);

    /* Infeasible: sum(s) = 20 < sum(d) = 30; the message names both and `what`. */
    double si[2] = {10, 10};
    MgErr ei = {0};
    CHECK(lp_solve(lp, d, si, c, LP_DUAL_COLD, &rt, "task 12 instance 3", &ei) == MG_EFAIL);
    CHECK_MSG(strstr(ei.msg, "task 12 instance 3") && strstr(ei.msg, "infeasible") &&
              strstr(ei.msg, "20 < sum of demands 30"), "%s", ei.msg);
    /* Bad data: NaN, Inf, negative. */
    double dn[2] = {NAN, 1}, sinf[2] = {INFINITY, 1}, sneg[2] = {-1, 100}, cn[4] = {1, NAN, 1, 1};
    MgErr e1 = {0}, e2 = {0}, e3 = {0}, e4 = {0};
    CHECK(lp_solve(lp, dn, s, c, LP_DUAL_COLD, &rt, "nan", &e1) == MG_EFAIL);
    CHECK_MSG(strstr(e1.msg, "nan: demand d[0]") != NULL, "%s", e1.msg);
    CHECK(lp_solve(lp, d, sinf, c, LP_DUAL_COLD, &rt, "inf", &e2) == MG_EFAIL);
    CHECK(lp_solve(lp, d, sneg, c, LP_DUAL_COLD, &rt, "neg", &e3) == MG_EFAIL);
    CHECK(lp_solve(lp, d, s, cn, LP_DUAL_COLD, &rt, "nanc", &e4) == MG_EFAIL);
    CHECK_MSG(strstr(e4.msg, "c[1]") != NULL, "%s", e4.msg);
    /* After errors the solver still works (warm falls back to cold). */
    CHECK(lp_solve(lp, d, s, c, LP_WARM, &rt, "after", &e) == MG_OK);
    CHECK_NEAR(rt.obj, 65.0, 1e-12);
    lp_destroy(lp);
}

/* A GLPK internal error becomes MG_EFAIL naming `what`; GLPK is rebuilt and
 * every solver (also one that did not fail) keeps working. */
static void test_glpk_error(void)
{
    LpSolver *a = NULL, *b = NULL;
    MgErr e = {0};
    CHECK(lp_create(&a, 2, 2, &e) == MG_OK);
    CHECK(lp_create(&b, 3, 2, &e) == MG_OK);
    MgErr eg = {0};
    CHECK(lp_debug_glpk_error(a, "seed 7 task 3 instance 9", &eg) == MG_EFAIL);
    CHECK_MSG(strstr(eg.msg, "seed 7 task 3 instance 9") && strstr(eg.msg, "GLPK"), "%s", eg.msg);
    CHECK_MSG(strstr(eg.msg, "glp_set_row_bnds") != NULL, "GLPK's own message kept: %s", eg.msg);
    double d[3] = {10, 20, 5}, s[2] = {15, 30}, c[6] = {1, 4, 2, 3, 5, 5}, x[6];
    LpResult r = {.x = x};
    CHECK(lp_solve(a, d, s, c, LP_WARM, &r, "a after", &e) == MG_OK);
    CHECK_NEAR(r.obj, 65.0, 1e-12);
    CHECK(lp_solve(b, d, s, c, LP_WARM, &r, "b after", &e) == MG_OK);
    CHECK_NEAR(r.obj, 65.0 + 25.0 + 0.0 * 5, 1e-12); /* third row: 5 units at cost 5 */
    lp_destroy(a);
    lp_destroy(b);
}

/* Many random uniform-family instances (and integer costs: heavy ties). */
static void test_random_uniform(void)
{
    const int sizes[][2] = {{3, 2}, {10, 5}, {7, 13}, {30, 10}, {1, 6}, {6, 1}};
    int certified = 0, total = 0;
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        int n = sizes[z][0], m = sizes[z][1];
        LpSolver *lp = NULL, *cold = NULL;
        MgErr e = {0};
        lp_create(&lp, n, m, &e);
        lp_create(&cold, n, m, &e);
        Buf b;
        buf_init(&b, n, m);
        for (int t = 0; t < 40; t++) {
            RngStream r;
            rng_stream_init(&r, 5, RNG_TEST, z, t, 0);
            int ties = t % 4 == 3, zero = t % 5 == 4;
            double sd = 0, ss = 0;
            for (int k = 0; k < n * m; k++)
                b.c[k] = ties ? (double)(1 + rng_below(&r, 2)) : rng_uniform_range(&r, 1, 10);
            for (int i = 0; i < n; i++) sd += b.d[i] = (zero && i % 2) ? 0 : rng_uniform_range(&r, 10, 100);
            for (int j = 0; j < m; j++) ss += b.s[j] = rng_uniform_range(&r, 10, 100);
            double rho = t % 3 == 0 ? 1.0 : 1.2;
            for (int j = 0; j < m; j++) b.s[j] *= rho * sd / ss;
            char label[64];
            snprintf(label, sizeof label, "uniform %dx%d #%d", n, m, t);
            LpMethod meth = (LpMethod)(t % 3);
            double o1 = solve_certify(lp, n, m, &b, meth, label);
            double o2 = solve_certify(cold, n, m, &b, LP_DUAL_COLD, label);
            CHECK_NEAR(o1, o2, 1e-9);
            certified += !isnan(o1);
            total++;
        }
        buf_free(&b);
        lp_destroy(lp);
        lp_destroy(cold);
    }
    CHECK(certified == total);
}

/* Region-family hours solved as a warm chain; every optimum certified and
 * equal to a cold solve; warm needs fewer pivots in total. */
static void test_random_region(void)
{
    const int sizes[][2] = {{10, 5}, {30, 10}, {8, 8}};
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        int n = sizes[z][0], m = sizes[z][1];
        LpSolver *warm = NULL, *cold = NULL;
        MgErr e = {0};
        lp_create(&warm, n, m, &e);
        lp_create(&cold, n, m, &e);
        Buf b;
        buf_init(&b, n, m);
        long it_warm = 0, it_cold = 0, zero_pivot = 0;
        for (int t = 0; t < 3; t++) {
            RngStream r;
            rng_stream_init(&r, 9, RNG_TEST, z, t, 1);
            RegionTask rt;
            region_task_draw(&rt, n, m, t == 0 ? 1.0 : 1.2, 0.3, 0.5, 0.05, &r);
            memcpy(b.c, rt.c, sizeof(double) * n * m);
            for (int k = 0; k < 24; k++) {
                region_instance(&rt, 9, RNG_TEST, z, t, k, b.d, b.s);
                char label[64];
                snprintf(label, sizeof label, "region %dx%d task %d hour %d", n, m, t, k);
                MgErr e1 = {0};
                LpResult r1 = {.x = b.x, .u = b.u, .v = b.v}, r2 = {0};
                int rc = lp_solve(warm, b.d, b.s, b.c, k ? LP_WARM : LP_DUAL_COLD, &r1, label, &e1);
                CHECK_MSG(rc == MG_OK, "%s", e1.msg);
                CHECK_MSG(certify(n, m, b.d, b.s, b.c, b.x, b.u, b.v, r1.obj, label), "%s", label);
                double *xc = calloc(n * m, sizeof(double));
                r2.x = xc;
                CHECK(lp_solve(cold, b.d, b.s, b.c, LP_DUAL_COLD, &r2, label, &e1) == MG_OK);
                free(xc);
                CHECK_NEAR(r1.obj, r2.obj, 1e-9);
                if (k) { it_warm += r1.iters; it_cold += r2.iters; zero_pivot += r1.iters == 0; }
            }
            region_task_free(&rt);
        }
        CHECK_MSG(it_warm < it_cold, "%dx%d warm %ld iterations vs cold %ld", n, m, it_warm, it_cold);
        CHECK_MSG(zero_pivot > 0, "%dx%d: no hour kept its basis", n, m);
        buf_free(&b);
        lp_destroy(warm);
        lp_destroy(cold);
    }
}

int main(void)
{
    test_tiny();
    test_glpk_error();
    test_random_uniform();
    test_random_region();
    return TEST_REPORT();
}
