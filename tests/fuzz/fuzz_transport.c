/*
 * fuzz_transport.c — the exact transportation simplex (transport_solve).
 *
 * The bytes decode into a small instance (n, m in 1..12) built from a few
 * quantised values times powers of two (2^-30 .. 2^30, so sums are exact and
 * sum(s) = sum(d) holds exactly when asked): zero demands and capacities,
 * equal values (ties), mixed magnitudes, capacities that are a partition of
 * the demands, a surplus, a rounding-level shortfall or a real one, and now
 * and then a NaN, Inf or negative entry; and a start price vector (NULL,
 * zero, GLPK's exact prices, or entries from 0, negative, NaN, Inf, tiny,
 * huge, cost-scale).
 * Properties:
 *   - invalid input (non-finite or negative d, s; non-finite c; sum(s) below
 *     sum(d)): -1, x untouched; data of 1e250 and more: -1 (x untouched) or
 *     a finite answer with every property below;
 *   - otherwise 0 and optimal under the default pivot cap; x >= 0, every row
 *     sum d_i and every column sum <= s_j to 1e-9 of the totals; obj = c.x;
 *     lambda_out >= 0 and finite; cert_lower_bound(lambda_out) is at most obj
 *     (rounding) and at least obj - 1e-9 of cmax * sum(d) (the certificate),
 *     both up to the rounding of flows at sum(s) (eps (n + m) sum(s) cmax:
 *     a capacity of 2^-30 next to one of 2^29 is below it);
 *   - GLPK's optimum (n*m <= 36, data in GLPK's range) is never below obj
 *     (to the same scale) nor above it by more than GLPK's tolerance;
 *   - a second solve on the same solver is bitwise identical, and a re-solve
 *     from lambda_out is optimal at the same cost.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "metagrid/cert.h"
#include "metagrid/lp.h"
#include "metagrid/transport.h"

#define NMAX 12

typedef struct {
    const uint8_t *p;
    size_t n, at;
} Bytes;

static unsigned take(Bytes *b)
{
    return b->at < b->n ? b->p[b->at++] : 0u;
}

/* a quantised value times 2^(scale exponent); mixed: its own exponent */
static double value_of(Bytes *b, const double *table, int ntab, int e, int mixed)
{
    static const int exps[] = {-30, -10, 0, 0, 0, 10, 30, 1000};
    unsigned k = take(b);
    double v = table[k % ntab];
    if (mixed) e = exps[(k >> 5) % 8];
    return ldexp(v, e);
}

typedef struct {
    int n, m;
    double d[NMAX], s[NMAX], c[NMAX * NMAX], lam[NMAX];
    int lam_mode; /* 0 NULL, 1 bytes, 2 GLPK's prices */
} Inst;

static void decode_demands(Bytes *b, Inst *I, unsigned flags)
{
    static const double dv[] = {0, 1, 1, 2, 3, 0.5, 7, 1024, 0.25, 5, 1, 12};
    static const int de[] = {0, -30, 30, 3};
    int e = de[(flags >> 2) % 4], mixed = (flags >> 4) & 1;
    for (int i = 0; i < I->n; i++) I->d[i] = value_of(b, dv, 12, e, mixed);
    int mode = (flags >> 5) % 4;
    double sd = 0.0;
    for (int i = 0; i < I->n; i++) sd += I->d[i];
    if (mode == 0) { /* a partition of the demands: sum(s) = sum(d) exactly */
        memset(I->s, 0, sizeof I->s);
        for (int i = 0; i < I->n; i++) {
            unsigned k = take(b);
            if (k & 1) { /* split in halves (exact) */
                I->s[(k >> 1) % I->m] += I->d[i] / 2;
                I->s[(k >> 4) % I->m] += I->d[i] / 2;
            } else {
                I->s[(k >> 1) % I->m] += I->d[i];
            }
        }
        return;
    }
    double ss = 0.0;
    for (int j = 0; j < I->m; j++) {
        I->s[j] = value_of(b, dv, 12, e, mixed);
        ss += I->s[j];
    }
    if (mode == 1 && ss < sd) I->s[take(b) % I->m] += sd - ss; /* balanced, up to rounding */
    if (mode == 2 && ss < sd) { /* short by a little or by a lot */
        static const double shortby[] = {1e-15, 1e-13, 1e-12, 1e-11, 1e-6, 0.5};
        double f = shortby[take(b) % 6];
        for (int j = 0; j < I->m; j++) I->s[j] = I->s[j] * sd * (1.0 - f) / ss;
    }
    /* mode 3: as drawn (possibly infeasible) */
}

static void decode_costs(Bytes *b, Inst *I, unsigned flags)
{
    static const double cv[] = {0, 1, 1, 2, 3, 10, 0.5, 100, 1e-3, 7, 1, -1};
    static const int ce[] = {0, -30, 30, 0};
    int e = ce[flags % 4], mixed = (flags >> 2) & 1, same = (flags >> 3) & 1;
    double c0 = value_of(b, cv, 11, e, 0);
    for (int k = 0; k < I->n * I->m; k++)
        I->c[k] = same ? c0 : value_of(b, cv, (flags >> 4) & 1 ? 12 : 11, e, mixed);
}

static void decode_bad(Bytes *b, Inst *I, unsigned flags)
{
    if ((flags & 15) != 0) return; /* 1 in 16 */
    static const double bad[] = {NAN, INFINITY, -INFINITY, -1.0, -1e-300, -0.0, DBL_MAX, 1e300};
    unsigned k = take(b), w = take(b);
    double v = bad[k % 8];
    if (w % 3 == 0) I->d[w / 3 % I->n] = v;
    else if (w % 3 == 1) I->s[w / 3 % I->m] = v;
    else I->c[w / 3 % (I->n * I->m)] = v;
}

static void decode_prices(Bytes *b, Inst *I, double cmax)
{
    unsigned mode = take(b) % 4;
    I->lam_mode = mode == 0 ? 0 : mode == 3 ? 2 : 1;
    const double pv[] = {0, DBL_MAX, -1, NAN, INFINITY, 1e-300, 1e300, cmax, cmax * 0.5,
                         cmax * 1e3, 1.0, -INFINITY, cmax * 3, 1e-9 * cmax, 2, 0.25};
    for (int j = 0; j < I->m; j++) I->lam[j] = pv[take(b) % 16];
}

/* 1 valid, 0 invalid, 2 either (a value of 1e250 or more: the solver may
 * refuse data whose sums or objective could overflow) */
static int valid(const Inst *I)
{
    double sd = 0.0, ss = 0.0, big = 0.0;
    for (int i = 0; i < I->n; i++) big = fmax(big, fabs(I->d[i]));
    for (int j = 0; j < I->m; j++) big = fmax(big, fabs(I->s[j]));
    for (int k = 0; k < I->n * I->m; k++) big = fmax(big, fabs(I->c[k]));
    for (int i = 0; i < I->n; i++) {
        if (!isfinite(I->d[i]) || I->d[i] < 0) return 0;
        sd += I->d[i];
    }
    for (int j = 0; j < I->m; j++) {
        if (!isfinite(I->s[j]) || I->s[j] < 0) return 0;
        ss += I->s[j];
    }
    for (int k = 0; k < I->n * I->m; k++)
        if (!isfinite(I->c[k])) return 0;
    return !(ss >= sd * (1.0 - 1e-12)) ? 0 : big >= 1e250 ? 2 : 1;
}

/* Data in GLPK's range: its tolerances are absolute (1e-7), so on demands
 * of 1e-9 its optimum can be off by percents (the certificate is not). */
static int tame(const Inst *I)
{
    double cmax = 0.0;
    for (int i = 0; i < I->n; i++)
        if (I->d[i] != 0.0 && (I->d[i] < 1e-3 || I->d[i] > 1e6)) return 0;
    for (int j = 0; j < I->m; j++)
        if (I->s[j] != 0.0 && (I->s[j] < 1e-3 || I->s[j] > 1e6)) return 0;
    for (int k = 0; k < I->n * I->m; k++) cmax = fmax(cmax, fabs(I->c[k]));
    return cmax >= 1e-3 && cmax <= 1e6;
}

/* GLPK's optimum and exact prices; 0 on success */
static int glpk_solve(const Inst *I, double *opt, double *lam)
{
    LpSolver *lp;
    MgErr e = {0};
    double x[NMAX * NMAX], v[NMAX];
    if (lp_create(&lp, I->n, I->m, &e) != MG_OK) return -1;
    LpResult res = {.x = x, .v = v};
    int rc = lp_solve(lp, I->d, I->s, I->c, LP_DUAL_COLD, &res, "fuzz", &e);
    lp_destroy(lp);
    if (rc != MG_OK) return -1;
    *opt = res.obj;
    for (int j = 0; j < I->m; j++) lam[j] = -v[j] > 0 ? -v[j] : 0.0;
    return 0;
}

static void check_solution(const Inst *I, const double *x, const double *lo,
                           const TransportResult *r, double *scale)
{
    int n = I->n, m = I->m;
    double sd = 0.0, ss = 0.0, cmax = 0.0, obj = 0.0;
    for (int i = 0; i < n; i++) sd += I->d[i];
    for (int j = 0; j < m; j++) ss += I->s[j];
    for (int k = 0; k < n * m; k++) cmax = fmax(cmax, fabs(I->c[k]));
    /* flows are kept to the rounding of the largest total, sum(s) with the
     * slack row: a capacity below eps sum(s) can be lost (2^-30 next to 2^29) */
    double fl = 64 * DBL_EPSILON * (n + m + 1) * fmax(ss, sd);
    double tq = 1e-9 * sd + fl + 1e-300;
    for (int i = 0; i < n; i++) {
        double row = 0.0;
        for (int j = 0; j < m; j++) {
            FUZZ_CHECK(x[i * m + j] >= 0.0);
            row += x[i * m + j];
            obj += I->c[i * m + j] * x[i * m + j];
        }
        FUZZ_CHECK(fabs(row - I->d[i]) <= tq);
    }
    for (int j = 0; j < m; j++) {
        double col = 0.0;
        for (int i = 0; i < n; i++) col += x[i * m + j];
        FUZZ_CHECK(col <= I->s[j] + 1e-9 * fmax(ss, 1e-300));
    }
    /* cost scale: every term of the objective is at most cmax * sum(d) */
    *scale = cmax * (sd + fl / 1e-9);
    double tol = 1e-9 * *scale + 1e-300;
    FUZZ_CHECK(r->optimal && isfinite(r->obj));
    FUZZ_CHECK(fabs(obj - r->obj) <= tol);
    for (int j = 0; j < m; j++) FUZZ_CHECK(isfinite(lo[j]) && lo[j] >= 0.0);
    double g = cert_lower_bound(n, m, I->c, I->d, I->s, lo);
    FUZZ_CHECK(g <= r->obj + tol);
    FUZZ_CHECK(r->obj - g <= tol);
}

static Inst I; /* static: a failure can be inspected in a debugger */

int LLVMFuzzerInitialize(int *argc, char ***argv) { (void)argc; (void)argv; return 0; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Bytes b = {data, size, 0};
    memset(&I, 0, sizeof I);
    I.n = 1 + (int)(take(&b) % NMAX);
    I.m = 1 + (int)(take(&b) % NMAX);
    unsigned fd = take(&b), fc = take(&b), fb = take(&b);
    decode_demands(&b, &I, fd);
    decode_costs(&b, &I, fc);
    decode_bad(&b, &I, fb);
    double cmax = 0.0;
    for (int k = 0; k < I.n * I.m; k++) cmax = isfinite(I.c[k]) ? fmax(cmax, fabs(I.c[k])) : cmax;
    decode_prices(&b, &I, cmax);
    int ok = valid(&I), small = I.n * I.m <= 36;
    double opt = 0.0, glam[NMAX];
    int have_glpk = ok == 1 && small && glpk_solve(&I, &opt, glam) == 0;
    if (I.lam_mode == 2 && have_glpk) memcpy(I.lam, glam, sizeof glam);
    const double *lam = I.lam_mode == 0 ? NULL : I.lam;

    size_t nm = (size_t)I.n * I.m;
    double x[NMAX * NMAX], x2[NMAX * NMAX], lo[NMAX], lo2[NMAX];
    for (size_t k = 0; k < nm; k++) x[k] = -12345.0;
    TransportSolver *T = transport_create(I.n, I.m, 0);
    TransportResult r = {0}, r2 = {0};
    int rc = transport_solve(T, I.d, I.s, I.c, lam, x, lo, &r);
    if (!ok || (ok == 2 && rc == -1)) {
        FUZZ_CHECK(rc == -1);
        for (size_t k = 0; k < nm; k++) FUZZ_CHECK(x[k] == -12345.0);
        transport_destroy(T);
        return 0;
    }
    FUZZ_CHECK(rc == 0);
    double scale;
    check_solution(&I, x, lo, &r, &scale);
    double tol = 1e-9 * scale + 1e-300;
    /* never worse than GLPK; GLPK's own dual tolerance (1e-7 on reduced
     * costs) can leave it up to 1e-7 per unit of demand above the optimum */
    if (have_glpk && tame(&I)) {
        double sd = 0.0;
        for (int i = 0; i < I.n; i++) sd += I.d[i];
        FUZZ_CHECK(r.obj <= opt + tol);
        FUZZ_CHECK(opt - r.obj <= tol + 1e-7 * sd);
    }
    /* the same call again on the same solver: the same answer, bit for bit */
    FUZZ_CHECK(transport_solve(T, I.d, I.s, I.c, lam, x2, lo2, &r2) == 0);
    FUZZ_CHECK(memcmp(x, x2, sizeof(double) * nm) == 0 && r.pivots == r2.pivots);
    /* from its own final prices: optimal at the same cost */
    FUZZ_CHECK(transport_solve(T, I.d, I.s, I.c, lo, x2, lo2, &r2) == 0);
    check_solution(&I, x2, lo2, &r2, &scale);
    FUZZ_CHECK(fabs(r2.obj - r.obj) <= tol);
    transport_destroy(T);
    return 0;
}
