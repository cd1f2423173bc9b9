/*
 * bench_policy.c — `metagrid bench policy CHECKPOINT`: the price head's
 * inference fast path against the warm-started solver, in one process.
 *
 * The checkpoint's own config (plus --set) defines the task family and the
 * network; it must have model.head: prices. For each of T held-out tasks
 * (the evaluation stream, as `eval` draws them) the eval.k_support support
 * hours are solved and the network is adapted (eval.steps steps, as the
 * algorithm adapts); then each of H query hours is dispatched two ways, one
 * hour at a time:
 *   prices       policy_prices: features -> forward -> prices (-> --ascent
 *                cert_ascent steps) -> cert_decode -> the Lagrangian bound of
 *                the same prices (the certificate)
 *   solver_warm  GLPK's dual simplex from the previous hour's optimal basis
 *                (the last support hour for the first query hour), exact
 * and `prices_fallback` charges the warm solve on top of the policy for every
 * hour whose certified gap (cost - bound) / |bound| is above --tolerance;
 * `support_duals` (quality only) decodes and certifies every query hour from
 * the mean of the support hours' GLPK prices, the non-learned reference.
 * Per method one JSON line: us_median and us_mean over all hours; for prices
 * the true gap (against GLPK) and the certified gap, median and p95, and
 * certified_frac; speedups are solver_warm's time over the method's (median
 * over median, mean over mean), measured in the same run. adapt_us: the
 * adaptation per task (not in the per-hour times). Root rank only.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metagrid/alloc.h"
#include "metagrid/bench.h"
#include "metagrid/cert.h"
#include "metagrid/ckpt.h"
#include "metagrid/common.h"
#include "metagrid/learner.h"
#include "metagrid/lp.h"
#include "metagrid/parallel.h"
#include "metagrid/policy.h"
#include "metagrid/task.h"

static const char bench_policy_usage[] =
    "usage: metagrid bench policy CHECKPOINT [--tasks T] [--hours H] [--tolerance X]\n"
    "                             [--ascent N] [--set KEY=VALUE]...\n"
    "\n"
    "The price head's fast path (features -> forward -> prices -> decode ->\n"
    "certificate) against GLPK warm-started from the previous hour, on T held-out\n"
    "tasks (default 16) of H query hours each (default 24), after adapting on\n"
    "eval.k_support solved hours with eval.steps steps. The checkpoint must have\n"
    "model.head: prices. Prints one JSON line per method (prices,\n"
    "prices_fallback, support_duals, solver_warm): us_median, us_mean, speedups against\n"
    "solver_warm, and for prices gap / cert_gap median and p95 and\n"
    "certified_frac (cert_gap <= X, default 1e-3). --ascent N: N cert_ascent\n"
    "steps on the network's prices before the decode and the bound (default 0).\n";

#define BENCH_MAX_SETS 64

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile (nearest rank) of v (n), sorted in place. */
static double quantile(double *v, size_t n, double q)
{
    if (n == 0) return NAN;
    qsort(v, n, sizeof *v, cmp_double);
    size_t k = (size_t)ceil(q * (double)n);
    return v[k > 0 ? k - 1 : 0];
}

static double mean(const double *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += v[i];
    return n ? s / n : NAN;
}

typedef struct {
    double *t_pol, *t_fb, *t_warm, *gap, *cgap; /* (T*H) per hour */
    double *sgap, *scgap;                       /* (T*H) support_duals baseline */
    double adapt_s;
    size_t n;
} Times;

/* One task: adapt, then dispatch its H query hours both ways. */
static int bench_task(const Config *cfg, TaskSampler *ts, Learner *L, Policy *P, LpSolver *lp,
                      const double *meta, double *theta, int t, int H, double tol, Times *tm,
                      MgErr *e)
{
    TaskData sd = {0}, qd = {0};
    int rc = tasks_make(ts, STREAM_EVAL, 0, (uint64_t)t, cfg->eval.k_support, H, 0, &sd, &qd, e);
    int n = qd.n, m = qd.m, nm = n * m;
    double *x = mg_calloc((size_t)nm, sizeof(double)), *lam = mg_calloc((size_t)m, sizeof(double));
    double *xw = mg_calloc((size_t)nm, sizeof(double));
    if (rc == MG_OK) {
        double t0 = mg_now();
        learner_adapt(L, meta, NULL, &sd, cfg->eval.steps, theta, NULL, NULL);
        policy_set_theta(P, theta, sd.c);
        tm->adapt_s += mg_now() - t0;
        LpResult res = {.x = xw};
        int last = sd.k - 1; /* the warm solver's basis: the last support hour */
        rc = lp_solve(lp, sd.d + (size_t)last * n, sd.s + (size_t)last * m,
                      sd.c + (size_t)last * nm, LP_DUAL_COLD, &res, "bench policy", e);
    }
    /* support_duals: the mean of the support hours' GLPK prices (cost units) */
    double *lam_sup = mg_calloc((size_t)m, sizeof(double));
    for (int r = 0; r < sd.k && rc == MG_OK; r++) {
        double cbar = 0;
        for (int k = 0; k < nm; k++) cbar += sd.c[(size_t)r * nm + k] / nm;
        for (int j = 0; j < m; j++) lam_sup[j] += sd.y[(size_t)r * sd.y_dim + j] * cbar / sd.k;
    }
    for (int q = 0; q < H && rc == MG_OK; q++) {
        const double *d = qd.d + (size_t)q * n, *s = qd.s + (size_t)q * m;
        const double *c = qd.c + (size_t)q * nm;
        {
            AllocMetrics am;
            cert_decode(n, m, c, d, s, lam_sup, x, NULL);
            double lb = cert_lower_bound(n, m, c, d, s, lam_sup);
            alloc_metrics(n, m, d, s, c, x, qd.obj[q], &am);
            tm->sgap[tm->n] = am.feasible ? am.gap : INFINITY;
            tm->scgap[tm->n] = am.feasible ? (am.cost - lb) / fmax(fabs(lb), 1e-300) : INFINITY;
        }
        double lb, t0 = mg_now();
        policy_prices(P, d, s, c, lam, x, &lb);
        double t1 = mg_now();
        LpResult res = {.x = xw};
        rc = lp_solve(lp, d, s, c, LP_WARM, &res, "bench policy", e);
        double t2 = mg_now();
        AllocMetrics am;
        alloc_metrics(n, m, d, s, c, x, qd.obj[q], &am);
        double cg = (am.cost - lb) / fmax(fabs(lb), 1e-300);
        size_t k = tm->n++;
        tm->t_pol[k] = t1 - t0;
        tm->t_warm[k] = t2 - t1;
        tm->t_fb[k] = (t1 - t0) + (cg > tol || !am.feasible ? t2 - t1 : 0.0);
        tm->gap[k] = am.feasible ? am.gap : INFINITY;
        tm->cgap[k] = am.feasible ? cg : INFINITY;
    }
    free(x), free(lam), free(xw), free(lam_sup);
    taskdata_free(&sd);
    taskdata_free(&qd);
    return rc;
}

static void print_results(const Config *cfg, Times *tm, int T, int H, double tol, int ascent)
{
    size_t n = tm->n;
    double warm_mean = mean(tm->t_warm, n), pol_mean = mean(tm->t_pol, n);
    double fb_mean = mean(tm->t_fb, n);
    double warm_med = quantile(tm->t_warm, n, 0.5), pol_med = quantile(tm->t_pol, n, 0.5);
    double fb_med = quantile(tm->t_fb, n, 0.5);
    size_t cert = 0;
    for (size_t i = 0; i < n; i++) cert += tm->cgap[i] <= tol;
    char size[64];
    snprintf(size, sizeof size, "%dx%d", cfg->task.n_demand, cfg->task.n_supply);
    const char *fam = config_family_name(cfg->task.family);
    printf("{\"method\":\"prices\",\"family\":\"%s\",\"size\":\"%s\",\"tasks\":%d,\"hours\":%d,"
           "\"us_median\":%.3f,\"us_mean\":%.3f,\"speedup_median\":%.3f,\"speedup_mean\":%.3f,"
           "\"gap_median\":%.6g,\"gap_p95\":%.6g,\"cert_gap_median\":%.6g,\"cert_gap_p95\":%.6g,"
           "\"certified_frac\":%.4f,\"tolerance\":%g,\"ascent\":%d,\"adapt_us\":%.1f}\n",
           fam, size, T, H, 1e6 * pol_med, 1e6 * pol_mean, warm_med / pol_med,
           warm_mean / pol_mean, quantile(tm->gap, n, 0.5), quantile(tm->gap, n, 0.95),
           quantile(tm->cgap, n, 0.5), quantile(tm->cgap, n, 0.95), n ? (double)cert / n : NAN,
           tol, ascent, 1e6 * tm->adapt_s / T);
    printf("{\"method\":\"prices_fallback\",\"family\":\"%s\",\"size\":\"%s\",\"us_median\":%.3f,"
           "\"us_mean\":%.3f,\"speedup_median\":%.3f,\"speedup_mean\":%.3f,"
           "\"fallback_frac\":%.4f}\n",
           fam, size, 1e6 * fb_med, 1e6 * fb_mean, warm_med / fb_med, warm_mean / fb_mean,
           n ? 1.0 - (double)cert / n : NAN);
    size_t scert = 0;
    for (size_t i = 0; i < n; i++) scert += tm->scgap[i] <= tol;
    printf("{\"method\":\"support_duals\",\"family\":\"%s\",\"size\":\"%s\",\"gap_median\":%.6g,"
           "\"gap_p95\":%.6g,\"cert_gap_median\":%.6g,\"cert_gap_p95\":%.6g,"
           "\"certified_frac\":%.4f}\n", fam, size, quantile(tm->sgap, n, 0.5),
           quantile(tm->sgap, n, 0.95), quantile(tm->scgap, n, 0.5), quantile(tm->scgap, n, 0.95),
           n ? (double)scert / n : NAN);
    printf("{\"method\":\"solver_warm\",\"family\":\"%s\",\"size\":\"%s\",\"us_median\":%.3f,"
           "\"us_mean\":%.3f}\n", fam, size, 1e6 * warm_med, 1e6 * warm_mean);
}

/* Load the checkpoint's config (+ sets) and meta-parameters; the learner. */
static int load(const char *path, const char *const *sets, int nsets, Config *cfg,
                Checkpoint *ck, MgErr *e)
{
    if (ckpt_read(path, ck, e) != MG_OK) return e->code;
    int rc = config_load_buffer(cfg, ck->config_text, strlen(ck->config_text), path, e);
    for (int i = 0; i < nsets && rc == MG_OK; i++) {
        char key[256];
        const char *eq = strchr(sets[i], '=');
        if (!eq || eq - sets[i] >= (long)sizeof key)
            return mg_fail(e, MG_EUSAGE, "--set: %s: expected KEY=VALUE", sets[i]);
        snprintf(key, sizeof key, "%.*s", (int)(eq - sets[i]), sets[i]);
        rc = config_set(cfg, key, eq + 1, "--set", e);
    }
    if (rc == MG_OK) rc = config_check(cfg, "--set", e);
    if (rc == MG_OK && config_head(cfg) != HEAD_PRICES)
        rc = mg_fail(e, MG_EUSAGE, "%s: model.head: bench policy needs a prices checkpoint "
                     "(this one has model.head=%s)", path, config_head_name(config_head(cfg)));
    return rc;
}

static int run(const char *path, const char *const *sets, int nsets, int T, int H, double tol,
               int ascent, MgErr *e)
{
    Config cfg;
    Checkpoint ck;
    memset(&ck, 0, sizeof ck);
    TaskSampler *ts = NULL;
    Learner *L = NULL;
    Policy *P = NULL;
    LpSolver *lp = NULL;
    double *theta = NULL;
    Times tm = {0};
    int rc = load(path, sets, nsets, &cfg, &ck, e);
    if (rc == MG_OK) rc = tasks_create(&ts, &cfg, e);
    if (rc == MG_OK)
        rc = learner_create(&L, &cfg, tasks_in_dim(ts), tasks_out_dim(ts), tasks_head_group(ts), e);
    if (rc == MG_OK && learner_n_meta(L) != ck.n_meta)
        rc = mg_fail(e, MG_EUSAGE, "%s: %llu meta-parameters, but its config gives %zu", path,
                     (unsigned long long)ck.n_meta, learner_n_meta(L));
    if (rc == MG_OK) rc = lp_create(&lp, cfg.task.n_demand, cfg.task.n_supply, e);
    if (rc == MG_OK) {
        P = policy_create(learner_layout(L), cfg.task.n_demand, cfg.task.n_supply);
        policy_set_ascent(P, ascent);
        theta = mg_calloc(learner_n_theta(L), sizeof(double));
        size_t nh = (size_t)T * H;
        tm.t_pol = mg_calloc(nh, sizeof(double)), tm.t_fb = mg_calloc(nh, sizeof(double));
        tm.t_warm = mg_calloc(nh, sizeof(double)), tm.gap = mg_calloc(nh, sizeof(double));
        tm.cgap = mg_calloc(nh, sizeof(double));
        tm.sgap = mg_calloc(nh, sizeof(double)), tm.scgap = mg_calloc(nh, sizeof(double));
    }
    for (int t = 0; t < T && rc == MG_OK; t++)
        rc = bench_task(&cfg, ts, L, P, lp, ck.meta, theta, t, H, tol, &tm, e);
    if (rc == MG_OK) print_results(&cfg, &tm, T, H, tol, ascent);
    free(tm.t_pol), free(tm.t_fb), free(tm.t_warm), free(tm.gap), free(tm.cgap), free(theta);
    free(tm.sgap), free(tm.scgap);
    policy_destroy(P);
    lp_destroy(lp);
    learner_destroy(L);
    tasks_destroy(ts);
    ckpt_free(&ck);
    return rc;
}

int bench_policy(int argc, char **argv)
{
    static const struct option opts[] = {
        {"tasks", required_argument, 0, 't'}, {"hours", required_argument, 0, 'H'},
        {"tolerance", required_argument, 0, 'x'}, {"set", required_argument, 0, 's'},
        {"ascent", required_argument, 0, 'a'},
        {"help", no_argument, 0, 'h'},        {0, 0, 0, 0},
    };
    const char *sets[BENCH_MAX_SETS];
    int nsets = 0, c, T = 16, H = 24, ascent = 0;
    double tol = 1e-3;
    MgErr e = {0};
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "t:H:x:s:a:h", opts, NULL)) != -1) {
        char *end = NULL;
        if (c == 'h') {
            if (par_is_root()) fputs(bench_policy_usage, stdout);
            return MG_OK; /* every rank sees --help */
        } else if (c == 't' || c == 'H' || c == 'a') {
            long v = strtol(optarg, &end, 10);
            if (*end || v < (c == 'a' ? 0 : 1) || v > 100000) {
                mg_fail(&e, MG_EUSAGE, "bench policy: --%s must be an integer in %d..100000",
                        c == 't' ? "tasks" : c == 'H' ? "hours" : "ascent", c == 'a' ? 0 : 1);
                break;
            }
            *(c == 't' ? &T : c == 'H' ? &H : &ascent) = (int)v;
        } else if (c == 'x') {
            tol = strtod(optarg, &end);
            if (*end || !(tol >= 0) || !isfinite(tol)) {
                mg_fail(&e, MG_EUSAGE, "bench policy: --tolerance must be a number >= 0");
                break;
            }
        } else if (c == 's' && nsets < BENCH_MAX_SETS) {
            sets[nsets++] = optarg;
        } else {
            mg_fail(&e, MG_EUSAGE, "bench policy: bad option (see --help)");
            break;
        }
    }
    if (!e.code && optind != argc - 1)
        mg_fail(&e, MG_EUSAGE, "bench policy: expected one CHECKPOINT (see --help)");
    if (!e.code && par_is_root()) run(argv[optind], sets, nsets, T, H, tol, ascent, &e);
    int rc = par_agree_error(&e);
    if (rc) par_report_err(&e);
    return rc;
}
