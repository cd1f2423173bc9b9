/*
 * test_transport.c — the transportation simplex (transport.h) on adversarial
 * shapes, against GLPK:
 *   - thin (1 x 200, 200 x 1), large (200 x 80: block pricing above 4096
 *     cells), small square ones;
 *   - costs: continuous, all equal, integers 1..3 (many ties), integers with
 *     capacities exactly equal to demands (s a permutation of d), zero demands
 *     and zero capacities mixed in; sum(s) = sum(d) exactly in most;
 *   - starts: zero prices, GLPK's exact prices, perturbed ones, absurd ones
 *     (1e300, NaN, Inf, negative, a million times the cost scale);
 * every solve must return 0, be optimal without reaching the default pivot
 * cap, feasible, at GLPK's optimum to 1e-9 relative, and certified by its own
 * final prices to 1e-9. Prints the worst pivot count relative to n + m.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "metagrid/alloc.h"
#include "metagrid/cert.h"
#include "metagrid/lp.h"
#include "metagrid/rng.h"
#include "metagrid/transport.h"

enum { COST_CONT, COST_EQUAL, COST_TIES, COST_PERM, NKIND };
enum { START_ZERO, START_EXACT, START_PERTURBED, START_ABSURD, NSTART };

typedef struct {
    int solves, bad, capped, uncertified;
    double worst_ratio;  /* max pivots / (n + m) */
    int worst_n, worst_m, worst_start;
    long piv[NSTART];
} Tally;

/* Integer totals split over k slots at random, some slots zero. */
static void split_integer(double total, double *out, int k, RngStream *r)
{
    for (int j = 0; j < k; j++) out[j] = 0.0;
    for (double left = total; left > 0.0;) {
        double q = fmin(left, 1.0 + floor(rng_uniform(r) * 4.0));
        out[(int)(rng_uniform(r) * k) % k] += q;
        left -= q;
    }
}

/* One instance of the kind: integer data (sums exact) except COST_CONT. */
static void draw(int n, int m, int kind, double *d, double *s, double *c, RngStream *r)
{
    double sd = 0.0;
    for (int i = 0; i < n; i++) {
        d[i] = rng_uniform(r) < 0.15 ? 0.0 : (double)(1 + (int)(rng_uniform(r) * 9));
        if (kind == COST_CONT) d[i] = rng_uniform(r) * 100.0;
        sd += d[i];
    }
    if (kind == COST_PERM && n == m) { /* s a permutation of d: every capacity tight */
        for (int j = 0; j < m; j++) s[j] = d[j];
        for (int j = m - 1; j > 0; j--) {
            int t = (int)(rng_uniform(r) * (j + 1)) % (j + 1);
            double tmp = s[j]; s[j] = s[t]; s[t] = tmp;
        }
    } else if (kind == COST_CONT) {
        double ss = 0.0;
        for (int j = 0; j < m; j++) ss += s[j] = rng_uniform(r) < 0.1 ? 0.0 : rng_uniform(r) + 0.1;
        for (int j = 0; j < m; j++) s[j] *= 1.2 * sd / ss;
    } else {
        /* exact balance, or a small surplus every third instance */
        split_integer(sd + (rng_uniform(r) < 0.33 ? 3.0 : 0.0), s, m, r);
    }
    for (int k = 0; k < n * m; k++) {
        if (kind == COST_CONT) c[k] = 1.0 + 9.0 * rng_uniform(r);
        else if (kind == COST_EQUAL) c[k] = 2.0;
        else c[k] = (double)(1 + (int)(rng_uniform(r) * 3));
    }
}

static void start_prices(int start, int m, const double *exact, double cmax, double *lam,
                         RngStream *r)
{
    static const double absurd[] = {1e300, NAN, INFINITY, -5.0, -INFINITY, 0.0};
    for (int j = 0; j < m; j++) {
        if (start == START_ZERO) lam[j] = 0.0;
        else if (start == START_EXACT) lam[j] = exact[j];
        else if (start == START_PERTURBED)
            lam[j] = exact[j] * (1.0 + 0.3 * rng_normal(r)) + 0.05 * cmax * rng_normal(r);
        else
            lam[j] = j % 7 == 3 ? 1e6 * cmax : absurd[(int)(rng_uniform(r) * 6) % 6];
    }
}

static void solve_all(LpSolver *lp, TransportSolver *T, int n, int m, int kind, RngStream *r,
                      Tally *t)
{
    size_t nm = (size_t)n * m;
    double *d = malloc(sizeof(double) * n), *s = malloc(sizeof(double) * m);
    double *c = malloc(sizeof(double) * nm), *x = malloc(sizeof(double) * nm);
    double *v = malloc(sizeof(double) * m), *exact = malloc(sizeof(double) * m);
    double *lam = malloc(sizeof(double) * m), *lo = malloc(sizeof(double) * m);
    draw(n, m, kind, d, s, c, r);
    LpResult res = {.x = x, .v = v};
    MgErr e = {0};
    CHECK_MSG(lp_solve(lp, d, s, c, LP_DUAL_COLD, &res, "test", &e) == MG_OK, "%s", e.msg);
    double opt = res.obj, cmax = 0.0, tol = 1e-9 * fmax(fabs(opt), 1.0);
    for (size_t k = 0; k < nm; k++) cmax = fmax(cmax, fabs(c[k]));
    for (int j = 0; j < m; j++) exact[j] = -v[j] > 0.0 ? -v[j] : 0.0;
    for (int start = 0; start < NSTART; start++) {
        start_prices(start, m, exact, cmax, lam, r);
        TransportResult tr = {0};
        int rc = transport_solve(T, d, s, c, lam, x, lo, &tr);
        AllocMetrics am;
        alloc_metrics(n, m, d, s, c, x, opt, &am);
        double g = cert_lower_bound(n, m, c, d, s, lo);
        t->solves++;
        t->capped += rc == 0 && !tr.optimal;
        if (rc || !tr.optimal || !am.feasible || fabs(tr.obj - opt) > tol ||
            fabs(am.cost - tr.obj) > tol) {
            t->bad++;
            fprintf(stderr, "  %dx%d kind %d start %d: rc %d optimal %d obj %.17g opt %.17g\n",
                    n, m, kind, start, rc, tr.optimal, tr.obj, opt);
        }
        if (!(g <= opt + tol) || tr.obj - g > tol) t->uncertified++;
        double ratio = (double)tr.pivots / (n + m);
        if (ratio > t->worst_ratio) {
            t->worst_ratio = ratio;
            t->worst_n = n; t->worst_m = m; t->worst_start = start;
        }
        t->piv[start] += tr.pivots;
    }
    free(d); free(s); free(c); free(x); free(v); free(exact); free(lam); free(lo);
}

static void test_shapes(void)
{
    static const int shapes[][3] = {/* n, m, instances per kind */
                                    {1, 200, 3}, {200, 1, 3}, {200, 80, 1}, {30, 30, 4},
                                    {12, 5, 10}, {3, 3, 20}};
    Tally t = {0};
    RngStream r;
    rng_stream_init(&r, 11, RNG_TRAIN_INST, 0, 0, 0);
    for (size_t z = 0; z < sizeof shapes / sizeof shapes[0]; z++) {
        int n = shapes[z][0], m = shapes[z][1];
        LpSolver *lp;
        MgErr e = {0};
        CHECK_MSG(lp_create(&lp, n, m, &e) == MG_OK, "%s", e.msg);
        TransportSolver *T = transport_create(n, m, 0); /* reused across solves */
        for (int kind = 0; kind < NKIND; kind++)
            for (int q = 0; q < shapes[z][2]; q++) solve_all(lp, T, n, m, kind, &r, &t);
        transport_destroy(T);
        lp_destroy(lp);
    }
    CHECK_MSG(t.solves >= 500, "%d solves", t.solves);
    CHECK_MSG(t.bad == 0, "%d of %d solves not optimal at GLPK's cost", t.bad, t.solves);
    CHECK_MSG(t.capped == 0, "%d solves hit the pivot cap", t.capped);
    CHECK_MSG(t.uncertified == 0, "%d solves not certified by their own prices", t.uncertified);
    /* the cap is 50 (n + m) + 1000: the worst solve stays far below it */
    CHECK_MSG(t.worst_ratio < 10.0, "worst pivots / (n + m) = %g", t.worst_ratio);
    CHECK_MSG(t.piv[START_EXACT] < t.piv[START_ZERO], "exact %ld, zero %ld", t.piv[START_EXACT],
              t.piv[START_ZERO]);
    fprintf(stderr, "  %d solves; worst pivots / (n + m) = %.2f (%d x %d, start %d); total "
            "pivots from zero / exact / perturbed / absurd prices: %ld / %ld / %ld / %ld\n",
            t.solves, t.worst_ratio, t.worst_n, t.worst_m, t.worst_start, t.piv[0], t.piv[1],
            t.piv[2], t.piv[3]);
}

int main(void)
{
    test_shapes();
    return TEST_REPORT();
}
