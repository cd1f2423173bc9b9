/*
 * bench_lp.c — `metagrid bench lp`: time the LP layer.
 *
 * For each size NxM, T tasks of the chosen family (training stream, iter 0)
 * with K instances each are produced by tasks_draw — the exact path training
 * uses for targets (warm-started dual simplex inside a task) — and the same
 * instances are then re-solved and re-allocated by the other methods:
 *   primal_cold  GLPK primal simplex from the standard basis
 *   dual_cold    GLPK dual simplex from the standard basis
 *   targets      tasks_draw's loop (first instance cold, then warm starts)
 *   greedy       alloc_greedy (cheapest arcs first)
 *   repair       alloc_repair of the optimum perturbed by 10 % noise
 *   solver       eval's `solver`: GLPK dual simplex from the standard basis
 *                (the same loop as dual_cold, timed again, interleaved)
 *   solver_warm  eval's `solver_warm`: the basis primed with the task's last
 *                instance (untimed), then every instance in order from the
 *                previous solve's basis (LP_WARM, lp.c's fast path included);
 *                solver and solver_warm are timed with the bound of their
 *                duals, their certificate, as eval times them
 * (the K instances of a task are distinct random hours of its history, not
 * consecutive ones)
 *   cert_decode  cert_decode from the previous instance's GLPK prices, then
 *                its Lagrangian bound (gap_mean: of the decoded allocation)
 *   simplex_cold the transportation simplex (transport.c) from zero prices,
 *                then the bound of its prices (its certificate)
 *   simplex_warm the same from the previous instance's optimal prices (primed
 *                with the task's last instance, untimed, as solver_warm is)
 *                (iters_mean: pivots; gap_mean: |cost - GLPK| / GLPK, ~0;
 *                speedup: dual_cold / simplex_cold, solver_warm / simplex_warm)
 * Each method's time per instance is averaged within a task and the median
 * over tasks is reported (us_median), with the mean simplex iterations per
 * instance (iters_mean; 0 for greedy and repair). Extra fields: gap_mean
 * (greedy, repair), speedup (targets: dual_cold time / targets time) and
 * frac_of_solve (repair: repair time / dual_cold time). Greedy and repair
 * are timed over enough repetitions to be above the clock's resolution.
 * Runs on the root rank only; other ranks wait.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metagrid/alloc.h"
#include "metagrid/bench.h"
#include "metagrid/cert.h"
#include "metagrid/common.h"
#include "metagrid/config.h"
#include "metagrid/lp.h"
#include "metagrid/parallel.h"
#include "metagrid/rng.h"
#include "metagrid/task.h"
#include "metagrid/transport.h"

static const char bench_lp_usage[] =
    "usage: metagrid bench lp [--sizes NxM,...] [--family uniform|region]\n"
    "                         [--instances K] [--tasks T] [--seed S]\n"
    "\n"
    "Times the LP layer on T random tasks of K instances each, per size, and\n"
    "prints one JSON line per (size, method):\n"
    "  {\"size\": \"30x10\", \"family\": \"uniform\", \"method\": \"dual_cold\",\n"
    "   \"us_median\": ..., \"iters_mean\": ...}\n"
    "Methods: primal_cold, dual_cold (GLPK from the standard basis), targets\n"
    "(tasks_draw: warm-started dual simplex inside a task, as in training),\n"
    "greedy (cheapest arcs first), repair (of a perturbed optimum), solver and\n"
    "solver_warm (eval's cold and warm-started GLPK, interleaved; speedup =\n"
    "solver / solver_warm) and cert_decode (decode + bound from the previous\n"
    "instance's GLPK prices; gap_mean of the decoded allocation), simplex_cold and\n"
    "simplex_warm (metagrid's exact transportation simplex from zero prices / from\n"
    "the previous instance's optimal prices, with its certificate; iters_mean =\n"
    "pivots; speedup against dual_cold / solver_warm).\n"
    "us_median is the median over tasks of the mean microseconds per instance.\n"
    "\n"
    "  --sizes LIST     default 3x2,10x5,30x10,50x50\n"
    "  --family NAME    uniform (default) or region (instances = distinct random hours)\n"
    "  --instances K    instances per task (default 24)\n"
    "  --tasks T        tasks per size (default 10)\n"
    "  --seed S         default 1\n";

#define BENCH_MAX_SIZES 32

enum { M_PRIMAL, M_DUAL, M_TARGETS, M_GREEDY, M_REPAIR, M_SOLVER, M_WARM, M_CERT,
       M_SX_COLD, M_SX_WARM, M_COUNT };
static const char *const method_names[M_COUNT] = {
    "primal_cold", "dual_cold",   "targets",      "greedy",      "repair",
    "solver",      "solver_warm", "cert_decode", "simplex_cold", "simplex_warm"};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static int parse_sizes(const char *arg, int sizes[][2], int *count)
{
    *count = 0;
    const char *p = arg;
    while (*p) {
        int n, m, used = 0;
        if (sscanf(p, "%dx%d%n", &n, &m, &used) != 2 || n < 1 || m < 1 || n > 1000 || m > 1000 ||
            *count >= BENCH_MAX_SIZES)
            return -1;
        sizes[*count][0] = n;
        sizes[*count][1] = m;
        (*count)++;
        p += used;
        if (*p == ',') p++;
        else if (*p) return -1;
    }
    return *count > 0 ? 0 : -1;
}

typedef struct {
    double us[M_COUNT];    /* per-instance mean of this task */
    double iters[M_COUNT];
    double gap[M_COUNT];
} TaskTimes;

/* eval's solvers on one task: cold and warm, alternating per instance, each
 * timed with the bound of its own duals (its certificate). */
static int bench_solvers(const TaskData *td, LpSolver *lp, double *x, TaskTimes *tt, MgErr *e)
{
    int K = td->k, n = td->n, m = td->m, nm = n * m;
    LpSolver *lw = NULL;
    int rc = lp_create(&lw, n, m, e);
    if (rc == MG_OK) {
        LpResult r = {.x = x};
        int l = K - 1;
        rc = lp_solve(lw, td->d + (size_t)l * n, td->s + (size_t)l * m, td->c + (size_t)l * nm,
                      LP_DUAL_COLD, &r, "bench", e);
    }
    double *v = mg_malloc(sizeof(double) * m);
    for (int q = 0; q < K && rc == MG_OK; q++)
        for (int meth = M_SOLVER; meth <= M_WARM && rc == MG_OK; meth++) {
            LpResult r = {.x = x, .v = v};
            const double *d = td->d + (size_t)q * n, *s = td->s + (size_t)q * m;
            const double *c = td->c + (size_t)q * nm;
            double t0 = mg_now();
            rc = lp_solve(meth == M_WARM ? lw : lp, d, s, c,
                          meth == M_WARM ? LP_WARM : LP_DUAL_COLD, &r, "bench", e);
            for (int j = 0; j < m; j++) v[j] = fmax(0.0, -v[j]);
            (void)cert_lower_bound(n, m, c, d, s, v);
            tt->us[meth] += 1e6 * (mg_now() - t0) / K;
            tt->iters[meth] += (double)r.iters / K;
        }
    lp_destroy(lw);
    free(v);
    return rc;
}

/* Time the methods on one task's instances (support rows of td). */
static int bench_task(const TaskData *td, double make_s, long make_iters, LpSolver *lp,
                      uint64_t seed, int task, TaskTimes *tt, MgErr *e)
{
    int K = td->k, n = td->n, m = td->m, nm = n * m;
    double *x = mg_malloc(sizeof(double) * nm), *y = mg_malloc(sizeof(double) * nm);
    double *work = mg_malloc(sizeof(double) * (nm + n + m));
    double *pert = mg_malloc(sizeof(double) * (size_t)K * nm);
    memset(tt, 0, sizeof *tt);
    tt->us[M_TARGETS] = 1e6 * make_s / K;
    tt->iters[M_TARGETS] = (double)make_iters / K;
    int rc = MG_OK;
    for (int meth = M_PRIMAL; meth <= M_DUAL && rc == MG_OK; meth++) {
        double t0 = mg_now();
        long it = 0;
        for (int q = 0; q < K && rc == MG_OK; q++) {
            LpResult r = {.x = x};
            rc = lp_solve(lp, td->d + (size_t)q * n, td->s + (size_t)q * m, td->c + (size_t)q * nm,
                          meth == M_PRIMAL ? LP_PRIMAL_COLD : LP_DUAL_COLD, &r, "bench", e);
            it += r.iters;
        }
        tt->us[meth] = 1e6 * (mg_now() - t0) / K;
        tt->iters[meth] = (double)it / K;
    }
    if (rc == MG_OK) rc = bench_solvers(td, lp, x, tt, e);
    if (rc == MG_OK) {
        void *cw = mg_malloc(cert_decode_work_bytes(n, m));
        double t0 = mg_now();
        for (int q = 0; q < K; q++) {
            const double *lam = td->lambda + (size_t)((q + K - 1) % K) * m;
            const double *d = td->d + (size_t)q * n, *s = td->s + (size_t)q * m;
            const double *c = td->c + (size_t)q * nm;
            cert_decode(n, m, c, d, s, lam, y, cw);
            (void)cert_lower_bound(n, m, c, d, s, lam);
        }
        tt->us[M_CERT] = 1e6 * (mg_now() - t0) / K;
        for (int q = 0; q < K; q++) {
            const double *lam = td->lambda + (size_t)((q + K - 1) % K) * m;
            const double *d = td->d + (size_t)q * n, *s = td->s + (size_t)q * m;
            const double *c = td->c + (size_t)q * nm;
            cert_decode(n, m, c, d, s, lam, y, cw);
            AllocMetrics am;
            alloc_metrics(n, m, d, s, c, y, td->obj[q], &am);
            tt->gap[M_CERT] += am.gap / K;
        }
        free(cw);
    }
    /* perturbed optima for repair: x*_ij (1 + 0.1 N(0,1)) */
    for (int q = 0; q < K; q++) {
        RngStream r;
        rng_stream_init(&r, seed, RNG_BENCH, (uint64_t)nm, (uint64_t)task, (uint64_t)q);
        for (int k = 0; k < nm; k++)
            pert[(size_t)q * nm + k] = td->xopt[(size_t)q * nm + k] * (1.0 + 0.1 * rng_normal(&r));
    }
    for (int meth = M_GREEDY; meth <= M_REPAIR && rc == MG_OK; meth++) {
        int reps = 0;
        double t0 = mg_now(), el;
        do {
            for (int q = 0; q < K; q++) {
                const double *d = td->d + (size_t)q * n, *s = td->s + (size_t)q * m;
                const double *c = td->c + (size_t)q * nm;
                if (meth == M_GREEDY) alloc_greedy(n, m, d, s, c, y);
                else alloc_repair(n, m, d, s, c, pert + (size_t)q * nm, y, work);
                if (reps == 0) {
                    AllocMetrics am;
                    alloc_metrics(n, m, d, s, c, y, td->obj[q], &am);
                    tt->gap[meth] += am.gap / K;
                }
            }
            reps++;
            el = mg_now() - t0;
        } while (el < 2e-3 && reps < 100000);
        tt->us[meth] = 1e6 * el / ((double)reps * K);
    }
    free(x);
    free(y);
    free(work);
    free(pert);
    return rc;
}

/* simplex_cold and simplex_warm on one task's instances, each with the bound
 * of its final prices; gap: against GLPK's optimum (exact: ~1e-15). */
static void bench_simplex_task(const TaskData *td, TaskTimes *tt)
{
    int K = td->k, n = td->n, m = td->m, nm = n * m;
    double *x = mg_malloc(sizeof(double) * nm), *lam = mg_calloc((size_t)m, sizeof(double));
    double *lo = mg_calloc((size_t)m, sizeof(double));
    TransportSolver *T = transport_create(n, m, 0);
    TransportResult r;
    int l = K - 1;
    transport_solve(T, td->d + (size_t)l * n, td->s + (size_t)l * m, td->c + (size_t)l * nm,
                    NULL, x, lam, &r);
    for (int q = 0; q < K; q++)
        for (int meth = M_SX_COLD; meth <= M_SX_WARM; meth++) {
            const double *d = td->d + (size_t)q * n, *s = td->s + (size_t)q * m;
            const double *c = td->c + (size_t)q * nm;
            double t0 = mg_now(), *out = meth == M_SX_WARM ? lam : NULL;
            TransportResult r0 = {.obj = NAN};
            r = r0;
            if (transport_solve(T, d, s, c, out, x, out ? out : lo, &r) != 0) r.obj = INFINITY;
            (void)cert_lower_bound(n, m, c, d, s, out ? out : lo);
            tt->us[meth] += 1e6 * (mg_now() - t0) / K;
            tt->iters[meth] += (double)r.pivots / K;
            tt->gap[meth] += fabs(r.obj - td->obj[q]) / fmax(fabs(td->obj[q]), 1e-300) / K;
        }
    transport_destroy(T);
    free(x);
    free(lam);
    free(lo);
}

static int bench_size(int n, int m, int family, int K, int T, uint64_t seed, MgErr *e)
{
    Config cfg;
    config_defaults(&cfg);
    cfg.seed = (int64_t)seed;
    cfg.task.family = family;
    cfg.task.n_demand = n;
    cfg.task.n_supply = m;
    cfg.task.warm_start = 1;
    TaskSampler *ts = NULL;
    LpSolver *lp = NULL;
    TaskData td = {0};
    TaskTimes *tt = mg_calloc((size_t)T, sizeof *tt);
    double *col = mg_calloc((size_t)T, sizeof(double));
    TaskSetup setup = tasks_setup_from(&cfg);
    int rc = tasks_new(&ts, &setup, e);
    if (!rc) rc = lp_create(&lp, n, m, e);
    /* warm-up: first GLPK use and page faults */
    TaskRequest warmup = {.stream = STREAM_TRAIN, .iter = 1, .task = 0, .k_support = K < 4 ? K : 4};
    if (!rc) rc = tasks_draw(ts, &warmup, &td, NULL, e);
    for (int t = 0; t < T && rc == MG_OK; t++) {
        TaskRequest rq = {.stream = STREAM_TRAIN, .iter = 0, .task = (uint64_t)t, .k_support = K};
        rc = tasks_draw(ts, &rq, &td, NULL, e);
        if (!rc) rc = bench_task(&td, td.solve_s, td.lp_iters, lp, seed, t, &tt[t], e);
        if (!rc) bench_simplex_task(&td, &tt[t]);
    }
    if (!rc) {
        double us[M_COUNT];
        for (int meth = 0; meth < M_COUNT; meth++) {
            for (int t = 0; t < T; t++) col[t] = tt[t].us[meth];
            us[meth] = median(col, T);
        }
        for (int meth = 0; meth < M_COUNT; meth++) {
            double it = 0.0, gap = 0.0;
            for (int t = 0; t < T; t++) {
                it += tt[t].iters[meth] / T;
                gap += tt[t].gap[meth] / T;
            }
            printf("{\"size\": \"%dx%d\", \"family\": \"%s\", \"method\": \"%s\", "
                   "\"us_median\": %.3f, \"iters_mean\": %.2f",
                   n, m, config_family_name(family), method_names[meth], us[meth], it);
            if (meth == M_TARGETS) printf(", \"speedup\": %.2f", us[M_DUAL] / us[M_TARGETS]);
            if (meth == M_WARM) printf(", \"speedup\": %.2f", us[M_SOLVER] / us[M_WARM]);
            if (meth == M_SX_COLD) printf(", \"speedup\": %.2f", us[M_DUAL] / us[M_SX_COLD]);
            if (meth == M_SX_WARM) printf(", \"speedup\": %.2f", us[M_WARM] / us[M_SX_WARM]);
            if (meth == M_GREEDY || meth == M_REPAIR || meth == M_CERT || meth >= M_SX_COLD)
                printf(", \"gap_mean\": %.6g", gap);
            if (meth == M_REPAIR) printf(", \"frac_of_solve\": %.4f", us[M_REPAIR] / us[M_DUAL]);
            printf("}\n");
        }
        fflush(stdout);
    }
    taskdata_free(&td);
    lp_destroy(lp);
    tasks_destroy(ts);
    free(tt);
    free(col);
    return rc;
}

int bench_lp(int argc, char **argv)
{
    static const struct option opts[] = {
        {"sizes", required_argument, NULL, 's'},   {"family", required_argument, NULL, 'f'},
        {"instances", required_argument, NULL, 'k'}, {"tasks", required_argument, NULL, 't'},
        {"seed", required_argument, NULL, 'S'},    {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int sizes[BENCH_MAX_SIZES][2], nsizes = 0;
    parse_sizes("3x2,10x5,30x10,50x50", sizes, &nsizes);
    int family = FAMILY_UNIFORM, K = 24, T = 10;
    long long seed = 1;
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        char *end = NULL;
        switch (ch) {
        case 's':
            if (parse_sizes(optarg, sizes, &nsizes)) {
                fprintf(stderr, "metagrid: bench lp: --sizes '%s': expected NxM[,NxM...] "
                        "(1..1000 each, at most %d sizes)\n", optarg, BENCH_MAX_SIZES);
                return MG_EUSAGE;
            }
            break;
        case 'f':
            if (!strcmp(optarg, "uniform")) family = FAMILY_UNIFORM;
            else if (!strcmp(optarg, "region")) family = FAMILY_REGION;
            else {
                fprintf(stderr, "metagrid: bench lp: --family '%s': expected uniform or region\n",
                        optarg);
                return MG_EUSAGE;
            }
            break;
        case 'k':
        case 't': {
            long v = strtol(optarg, &end, 10);
            if (!*optarg || *end || v < 1 || v > 100000) {
                fprintf(stderr, "metagrid: bench lp: --%s '%s': expected an integer in "
                        "1..100000\n", ch == 'k' ? "instances" : "tasks", optarg);
                return MG_EUSAGE;
            }
            if (ch == 'k') K = (int)v;
            else T = (int)v;
            break;
        }
        case 'S':
            seed = strtoll(optarg, &end, 10);
            if (!*optarg || *end) {
                fprintf(stderr, "metagrid: bench lp: --seed '%s': expected an integer\n", optarg);
                return MG_EUSAGE;
            }
            break;
        case 'h':
            fputs(bench_lp_usage, stdout);
            return MG_OK;
        default:
            fprintf(stderr, "metagrid: bench lp: unknown or incomplete option '%s' "
                    "(see metagrid bench lp --help)\n", argv[optind - 1]);
            return MG_EUSAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "metagrid: bench lp: unexpected argument '%s'\n", argv[optind]);
        return MG_EUSAGE;
    }
    /* The root measures (other ranks would compete for the cores); every
     * rank leaves with the same status. */
    MgErr e = {0};
    if (par_is_root())
        for (int z = 0; z < nsizes; z++)
            if (bench_size(sizes[z][0], sizes[z][1], family, K, T, (uint64_t)seed, &e)) break;
    int rc = par_agree_error(&e);
    if (rc) par_report_err(&e);
    return rc;
}
