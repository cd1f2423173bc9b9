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
 *   solver_warm  GLPK's dual simplex from the previous query hour's optimal
 *                basis (the last support hour for the first query hour; query
 *                hours are random later hours, not consecutive ones), exact,
 *                timed with the bound of its duals (its certificate)
 * and `prices_fallback` charges the warm solve on top of the policy for every
 * hour whose certified gap (cost - bound) / |bound| is above --tolerance;
 * `support_duals` (quality only) decodes and certifies every query hour from
 * the mean of the support hours' GLPK prices, the non-learned reference.
 * Per method one JSON line: us_median and us_mean over all hours; for prices
 * the true gap (against GLPK) and the certified gap, median and p95, and
 * certified_frac; speedups are solver_warm's time over the method's (median
 * over median, mean over mean), measured in the same run. adapt_us: the
 * adaptation per task (not in the per-hour times). Then every hour is solved
 * exactly by the transportation simplex (transport.h) from five starts —
 * the network's prices (forward pass timed in), the previous hour's optimal
 * prices (the simplex's own; primed with the last support hour, untimed),
 * the support hours' mean prices, the nearest support hour's GLPK prices
 * (search timed in), zero — each timed with the bound of its final prices
 * and checked against GLPK's optimum (not_optimal counts failures). Root
 * rank only.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metagrid/alloc.h"
#include "metagrid/anchor.h"
#include "metagrid/bench.h"
#include "metagrid/cert.h"
#include "metagrid/ckpt.h"
#include "metagrid/common.h"
#include "metagrid/learner.h"
#include "metagrid/lp.h"
#include "metagrid/parallel.h"
#include "metagrid/policy.h"
#include "metagrid/task.h"
#include "metagrid/transport.h"

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
    "steps on the network's prices before the decode and the bound (default 0).\n"
    "Then the exact transportation simplex from five starts (prices_simplex: the\n"
    "network's prices; simplex_warm: the previous hour's optimum; simplex_support_duals;\n"
    "simplex_nearest: the nearest support hour's GLPK prices; simplex_cold: zero):\n"
    "us_median, us_mean, speedups, pivots_mean, not_optimal (must be 0).\n"
    "\n"
    "Example: metagrid bench policy runs/default-20261130-120000/maml/checkpoint.bin --tasks 32\n";

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

/* The exact methods: the transportation simplex from four starts. */
enum { SX_PRICES, SX_WARM, SX_SUPPORT, SX_NEAREST, SX_COLD, SX_N };
static const char *const sx_name[SX_N] = {"prices_simplex", "simplex_warm",
                                          "simplex_support_duals", "simplex_nearest",
                                          "simplex_cold"};

typedef struct {
    double *t_pol, *t_fb, *t_warm, *gap, *cgap; /* (T*H) per hour */
    double *sgap, *scgap;                       /* (T*H) support_duals baseline */
    double *t_sx[SX_N];                         /* (T*H) per exact method */
    long pivots[SX_N];
    int wrong[SX_N];    /* not optimal, or cost not GLPK's to 1e-9 */
    double adapt_s;
    size_t n;
} Times;

/* One query hour: its instance and GLPK's optimum. */
typedef struct {
    int n, m;
    const double *d, *s, *c;
    double opt;
} BenchHour;

/* One hour by the transportation simplex from lam (NULL: cold), timed with
 * its certificate (the bound of its final prices, left in lam_out) plus
 * t_before (the forward pass for the learned start); checked against GLPK. */
static void bench_simplex(TransportSolver *T, const BenchHour *h, const double *lam,
                          double t_before, int method, double *lam_out, double *x, Times *tm)
{
    TransportResult r = {0};
    double t0 = mg_now();
    int rc = transport_solve(T, h->d, h->s, h->c, lam, x, lam_out, &r);
    double lb = rc ? -INFINITY : cert_lower_bound(h->n, h->m, h->c, h->d, h->s, lam_out);
    tm->t_sx[method][tm->n] = t_before + mg_now() - t0;
    tm->pivots[method] += r.pivots;
    double tol = 1e-9 * fmax(fabs(h->opt), 1.0);
    if (rc || !r.optimal || fabs(r.obj - h->opt) > tol || r.obj - lb > tol) tm->wrong[method]++;
}

/* Everything one run of the benchmark holds. */
typedef struct {
    const Config *cfg;
    TaskSampler *ts;
    Learner *L;
    Policy *P;
    LpSolver *lp;
    TransportSolver *tr;
    const double *meta;
    double *theta;
    int H;
    double tol;
    Times *tm;
} Bench;

/* Adapt on task t's support hours; prime the warm solvers from its last
 * support hour (GLPK's basis, the simplex's prices in lam_prev); the mean
 * of the support hours' GLPK prices into lam_sup. */
static int bench_adapt(Bench *b, int t, TaskData *sd, TaskData *qd, double *lam_prev,
                       double *lam_sup, MgErr *e)
{
    TaskRequest rq = {STREAM_EVAL, 0, (uint64_t)t, b->cfg->eval.k_support, b->H, 0};
    int rc = tasks_draw(b->ts, &rq, sd, qd, e);
    if (rc != MG_OK) return rc;
    int n = qd->n, m = qd->m, nm = n * m, last = sd->k - 1;
    double t0 = mg_now();
    learner_adapt(b->L, b->meta, NULL, sd, b->cfg->eval.steps, b->theta, NULL, NULL);
    policy_set_theta(b->P, b->theta, sd->c);
    policy_set_support(b->P, sd);
    b->tm->adapt_s += mg_now() - t0;
    double *xw = mg_calloc((size_t)nm, sizeof(double));
    LpResult res = {.x = xw};
    rc = lp_solve(b->lp, sd->d + (size_t)last * n, sd->s + (size_t)last * m,
                  sd->c + (size_t)last * nm, LP_DUAL_COLD, &res, "bench policy", e);
    TransportResult tr;
    transport_solve(b->tr, sd->d + (size_t)last * n, sd->s + (size_t)last * m,
                    sd->c + (size_t)last * nm, NULL, xw, lam_prev, &tr);
    free(xw);
    for (int r = 0; r < sd->k; r++) {
        double cbar = 0;
        for (int k = 0; k < nm; k++) cbar += sd->c[(size_t)r * nm + k] / nm;
        for (int j = 0; j < m; j++) lam_sup[j] += sd->y[(size_t)r * sd->y_dim + j] * cbar / sd->k;
    }
    return rc;
}

/* The GLPK prices (in sd->lambda) of the support hour nearest to (d, s) in
 * feature space (task_features_ds into f, n + m; the support rows' features
 * are tasks_draw's), as eval's certificate and simplex_nearest pick them. */
static const double *nearest_prices(const TaskData *sd, const double *d, const double *s,
                                    double *f)
{
    task_features_ds(sd->n, sd->m, d, s, f);
    int r = anchor_nearest(sd, f, -1);
    return sd->lambda + (size_t)(r < 0 ? 0 : r) * sd->m;
}

/* support_duals' quality on one hour (untimed). */
static void bench_support_duals(const BenchHour *h, const double *lam_sup, double *x,
                                Times *tm)
{
    AllocMetrics am;
    cert_decode(h->n, h->m, h->c, h->d, h->s, lam_sup, x, NULL);
    double lb = cert_lower_bound(h->n, h->m, h->c, h->d, h->s, lam_sup);
    alloc_metrics(h->n, h->m, h->d, h->s, h->c, x, h->opt, &am);
    tm->sgap[tm->n] = am.feasible ? am.gap : INFINITY;
    tm->scgap[tm->n] = am.feasible ? (am.cost - lb) / fmax(fabs(lb), 1e-300) : INFINITY;
}

/* One task: adapt, then dispatch its H query hours every way. */
static int bench_task(Bench *b, int t, MgErr *e)
{
    TaskData sd = {0}, qd = {0};
    Times *tm = b->tm;
    int m = b->cfg->task.n_supply, nm = b->cfg->task.n_demand * m;
    double *x = mg_calloc((size_t)nm, sizeof(double)), *lam = mg_calloc((size_t)m, sizeof(double));
    double *xw = mg_calloc((size_t)nm, sizeof(double)), *lam_sup = mg_calloc((size_t)m, sizeof(double));
    double *lam_prev = mg_calloc((size_t)m, sizeof(double)), *lam_out = mg_calloc((size_t)m, sizeof(double));
    double *feat = mg_calloc((size_t)nm + m, sizeof(double)); /* (n + m) */
    int rc = bench_adapt(b, t, &sd, &qd, lam_prev, lam_sup, e);
    for (int q = 0; q < b->H && rc == MG_OK; q++) {
        BenchHour h = {qd.n, qd.m, qd.d + (size_t)q * qd.n, qd.s + (size_t)q * m,
                       qd.c + (size_t)q * nm, qd.obj[q]};
        bench_support_duals(&h, lam_sup, x, tm);
        double lb, t0 = mg_now();
        policy_prices(b->P, h.d, h.s, h.c, lam, x, &lb);
        double t1 = mg_now();
        LpResult res = {.x = xw, .v = lam_out};
        rc = lp_solve(b->lp, h.d, h.s, h.c, LP_WARM, &res, "bench policy", e);
        for (int j = 0; j < m; j++) lam_out[j] = fmax(0.0, -lam_out[j]); /* its certificate */
        (void)cert_lower_bound(h.n, h.m, h.c, h.d, h.s, lam_out);
        double t2 = mg_now();
        AllocMetrics am;
        alloc_metrics(h.n, h.m, h.d, h.s, h.c, x, h.opt, &am);
        double cg = (am.cost - lb) / fmax(fabs(lb), 1e-300);
        /* the exact methods: learned prices (forward timed in), the previous
         * hour's simplex prices, the support mean, zero */
        double tp = mg_now();
        policy_predict_prices(b->P, h.d, h.s, h.c, lam);
        bench_simplex(b->tr, &h, lam, mg_now() - tp, SX_PRICES, lam_out, xw, tm);
        bench_simplex(b->tr, &h, lam_prev, 0.0, SX_WARM, lam_prev, xw, tm);
        bench_simplex(b->tr, &h, lam_sup, 0.0, SX_SUPPORT, lam_out, xw, tm);
        tp = mg_now();
        const double *lam_near = nearest_prices(&sd, h.d, h.s, feat);
        bench_simplex(b->tr, &h, lam_near, mg_now() - tp, SX_NEAREST, lam_out, xw, tm);
        bench_simplex(b->tr, &h, NULL, 0.0, SX_COLD, lam_out, xw, tm);
        size_t k = tm->n++;
        tm->t_pol[k] = t1 - t0;
        tm->t_warm[k] = t2 - t1;
        tm->t_fb[k] = (t1 - t0) + (cg > b->tol || !am.feasible ? t2 - t1 : 0.0);
        tm->gap[k] = am.feasible ? am.gap : INFINITY;
        tm->cgap[k] = am.feasible ? cg : INFINITY;
    }
    free(x), free(lam), free(xw), free(lam_sup), free(lam_prev), free(lam_out), free(feat);
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
    for (int k = 0; k < SX_N; k++) {
        double med, mn = mean(tm->t_sx[k], n);
        med = quantile(tm->t_sx[k], n, 0.5);
        printf("{\"method\":\"%s\",\"family\":\"%s\",\"size\":\"%s\",\"us_median\":%.3f,"
               "\"us_mean\":%.3f,\"speedup_median\":%.3f,\"speedup_mean\":%.3f,"
               "\"pivots_mean\":%.2f,\"not_optimal\":%d}\n", sx_name[k], fam, size, 1e6 * med,
               1e6 * mn, warm_med / med, warm_mean / mn, n ? (double)tm->pivots[k] / n : NAN,
               tm->wrong[k]);
    }
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
    TaskSetup task_setup = tasks_setup_from(&cfg);
    LearnerSetup learner_setup = learner_setup_from(&cfg);
    if (rc == MG_OK) rc = tasks_new(&ts, &task_setup, e);
    if (rc == MG_OK)
        rc = learner_new(&L, &learner_setup, tasks_in_dim(ts), tasks_out_dim(ts),
                         tasks_head_group(ts), e);
    if (rc == MG_OK && learner_n_meta(L) != ck.n_meta)
        rc = mg_fail(e, MG_EUSAGE, "%s: %llu meta-parameters, but its config gives %zu", path,
                     (unsigned long long)ck.n_meta, learner_n_meta(L));
    if (rc == MG_OK) rc = lp_create(&lp, cfg.task.n_demand, cfg.task.n_supply, e);
    TransportSolver *tr = NULL;
    if (rc == MG_OK) tr = transport_create(cfg.task.n_demand, cfg.task.n_supply, 0);
    if (rc == MG_OK) {
        P = policy_create(learner_layout(L), cfg.task.n_demand, cfg.task.n_supply);
        policy_set_ascent(P, ascent);
        theta = mg_calloc(learner_n_theta(L), sizeof(double));
        size_t nh = (size_t)T * H;
        tm.t_pol = mg_calloc(nh, sizeof(double)), tm.t_fb = mg_calloc(nh, sizeof(double));
        tm.t_warm = mg_calloc(nh, sizeof(double)), tm.gap = mg_calloc(nh, sizeof(double));
        tm.cgap = mg_calloc(nh, sizeof(double));
        tm.sgap = mg_calloc(nh, sizeof(double)), tm.scgap = mg_calloc(nh, sizeof(double));
        for (int k = 0; k < SX_N; k++) tm.t_sx[k] = mg_calloc(nh, sizeof(double));
    }
    Bench b = {&cfg, ts, L, P, lp, tr, ck.meta, theta, H, tol, &tm};
    for (int t = 0; t < T && rc == MG_OK; t++) rc = bench_task(&b, t, e);
    if (rc == MG_OK) print_results(&cfg, &tm, T, H, tol, ascent);
    free(tm.t_pol), free(tm.t_fb), free(tm.t_warm), free(tm.gap), free(tm.cgap), free(theta);
    free(tm.sgap), free(tm.scgap);
    for (int k = 0; k < SX_N; k++) free(tm.t_sx[k]);
    transport_destroy(tr);
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
