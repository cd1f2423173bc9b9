/*
 * test_eval.c — the evaluation module: statistics helpers against naive
 * references, and eval_run on tiny uniform and sinusoid problems against a
 * direct recomputation of no_adapt / greedy / solver from the public APIs
 * (tasks_draw, learner_predict, alloc_*), plus the JSON writer (no NaN).
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "metagrid/alloc.h"
#include "metagrid/ckpt.h"
#include "metagrid/config.h"
#include "metagrid/eval.h"
#include "metagrid/learner.h"
#include "metagrid/task.h"

/* w as a whole word of txt (a non-finite number printed as "nan" or
 * "-inf"), not inside a longer one ("provenance"). */
static int has_word(const char *txt, const char *w)
{
    size_t n = strlen(w);
    for (const char *p = strstr(txt, w); p; p = strstr(p + 1, w))
        if ((p == txt || !isalpha((unsigned char)p[-1])) && !isalpha((unsigned char)p[n]))
            return 1;
    return 0;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void test_stats(void)
{
    CHECK(eval_break_even(10, 1, 0, 2) == 11); /* 10 + H < 2 H from H = 11 */
    CHECK(eval_break_even(0, 1, 5, 1) == 1);
    CHECK(isnan(eval_break_even(0, 1, 0, 1)) && isnan(eval_break_even(5, 3, 0, 2)));
    CHECK(eval_break_even(100, 1.5, 1, 2) == 199); /* 100 + 1.5 H < 1 + 2 H: H > 198 */
    double dd[4] = {1, 2, 3, 4}, dmean, lo, hi;
    eval_mean_ci(dd, 4, &dmean, &lo, &hi);
    CHECK_NEAR(dmean, 2.5, 1e-15);
    CHECK_NEAR(hi - dmean, eval_ci95(dd, 4), 1e-15); CHECK(lo < dmean);
    double v[] = {3, 1, 4, 1, 5, 9, 2, 6};
    qsort(v, 8, sizeof(double), cmp);
    CHECK_NEAR(eval_quantile(v, 8, 0.5), 3.5, 1e-15);  /* (3 + 4) / 2 */
    CHECK_NEAR(eval_quantile(v, 8, 0.0), 1, 1e-15);
    CHECK_NEAR(eval_quantile(v, 8, 1.0), 9, 1e-15);
    CHECK_NEAR(eval_quantile(v, 8, 0.95), 6 + 0.65 * 3, 1e-12); /* pos 6.65 */
    double one = 7;
    CHECK_NEAR(eval_quantile(&one, 1, 0.3), 7, 0);
    /* CI: t(0.975, 7) = 2.365, sd of v by hand. */
    double mean = 31.0 / 8, ss = 0;
    for (int i = 0; i < 8; i++) ss += (v[i] - mean) * (v[i] - mean);
    CHECK_NEAR(eval_ci95(v, 8), 2.365 * sqrt(ss / 7) / sqrt(8), 1e-12);
    CHECK(isnan(eval_ci95(v, 1)));
    CHECK_NEAR(eval_t975(1), 12.706, 1e-9);
    CHECK_NEAR(eval_t975(30), 2.042, 1e-9);
    CHECK_NEAR(eval_t975(60), 2.000, 2e-3);   /* tables: 2.0003 */
    CHECK_NEAR(eval_t975(120), 1.980, 2e-3);  /* 1.9799 */
    CHECK(eval_t975(31) < eval_t975(30) && eval_t975(1000) > 1.959);
}

/* Write a checkpoint of cfg with meta-parameters from learner_init_meta. */
static void write_ckpt(const char *dir, const Config *cfg, int in, int out, int group)
{
    MgErr e = {0};
    Learner *L = NULL;
    LearnerSetup learner_setup = learner_setup_from(cfg);
    CHECK(learner_new(&L, &learner_setup, in, out, group, &e) == MG_OK);
    size_t n = learner_n_meta(L);
    Checkpoint ck = {.version = CKPT_VERSION, .config_hash = config_hash(cfg), .iter = 3,
                     .algo = cfg->algo.name, .n_meta = n};
    ck.config_text = config_to_string(cfg);
    ck.meta = calloc(n, sizeof(double));
    ck.adam_m = calloc(n, sizeof(double));
    ck.adam_v = calloc(n, sizeof(double));
    learner_init_meta(L, ck.meta, 5);
    CHECK_MSG(ckpt_write(dir, &ck, &e) == MG_OK, "%s", e.msg);
    free(ck.config_text);
    free(ck.meta);
    free(ck.adam_m);
    free(ck.adam_v);
    learner_destroy(L);
}

static const EvalMethod *method(const EvalResult *r, const char *label)
{
    for (int k = 0; k < r->n_methods; k++)
        if (!strcmp(r->m[k].label, label)) return &r->m[k];
    return NULL;
}

/* Every hour of every LP method: a valid bound, a consistent certified gap and
 * fallback flag, the returned cost within tolerance. */
static void check_certificates(const EvalResult *r, double tol)
{
    size_t N = (size_t)r->cfg.eval.tasks * r->cfg.eval.query;
    int bad_lb = 0, bad_cg = 0, bad_fb = 0, bad_cost = 0;
    for (int k = 0; k < r->n_methods; k++) {
        const EvalMethod *m = &r->m[k];
        const EvalHours *h = &m->hours;
        CHECK_MSG(m->invalid_bounds == 0, "%s", m->label);
        for (size_t i = 0; i < N; i++) {
            double opt = r->opt[i], before = opt + m->gaps[i] * fabs(opt);
            bad_lb += h->lb[i] > opt * (1 + 1e-9);
            double cg = (before - h->lb[i]) / h->lb[i];
            bad_cg += fabs(cg - h->cert_gap[i]) > 1e-9 * fmax(1.0, cg);
            int fb = EVAL_KIND_EXACT(m->kind) ? 0 : h->cert_gap[i] > tol;
            bad_fb += fb != (h->fallback[i] != 0);
            bad_cost += fb ? fabs(h->cost[i] - opt) > 1e-9 * opt
                           : fabs(h->cost[i] - before) > 1e-9 * opt;
        }
        CHECK_MSG(m->gap_max_after_fallback <= tol + 1e-9, "%s %g", m->label,
                  m->gap_max_after_fallback);
        CHECK_MSG(m->feasible_frac == 1.0, "%s", m->label);
    }
    CHECK_MSG(!bad_lb && !bad_cg && !bad_fb && !bad_cost, "lb %d cg %d fb %d cost %d", bad_lb,
              bad_cg, bad_fb, bad_cost);
}

/* Recompute no_adapt (mse, gap mean), greedy (gap mean) and check solver. */
static void test_uniform(const char *dir)
{
    MgErr e = {0};
    Config cfg;
    const char *sets[] = {"task.family=uniform", "task.n_demand=4", "task.n_supply=3",
                          "model.hidden=[6]", "algo.name=maml", "eval.tasks=3",
                          "eval.k_support=3", "eval.steps=2", "eval.query=4", "eval.polish=2"};
    CHECK_MSG(config_load(&cfg, NULL, sets, 10, &e) == MG_OK, "%s", e.msg);
    TaskSampler *ts = NULL;
    TaskSetup task_setup = tasks_setup_from(&cfg);
    CHECK(tasks_new(&ts, &task_setup, &e) == MG_OK);
    int in = tasks_in_dim(ts), out = tasks_out_dim(ts), n = 4, m = 3;
    write_ckpt(dir, &cfg, in, out, tasks_head_group(ts));
    char path[512];
    snprintf(path, sizeof path, "%s/checkpoint.bin", dir);
    const char *paths[] = {path};
    EvalResult r;
    CHECK_MSG(eval_run(&cfg, paths, 1, &r, &e) == MG_OK, "%s", e.msg);
    CHECK(r.n_methods == 11 && r.lp == 1);

    /* Direct recomputation, one task after another. */
    Checkpoint ck;
    CHECK(ckpt_read(path, &ck, &e) == MG_OK);
    Learner *L = NULL;
    LearnerSetup learner_setup = learner_setup_from(&cfg);
    CHECK(learner_new(&L, &learner_setup, in, out, m, &e) == MG_OK);
    double mse = 0, gap = 0, gap0 = 0, ggap = 0, ggap0 = 0, gmax = 0, p[12], x[12], y[12];
    TaskData sd = {0}, qd = {0};
    for (int t = 0; t < 3; t++) {
        CHECK(tasks_draw(ts, &(TaskRequest){STREAM_EVAL, 0, t, 3, 4, 0}, &sd, &qd, &e) == MG_OK);
        for (int q = 0; q < 4; q++) {
            const double *d = qd.d + q * n, *s = qd.s + q * m, *c = qd.c + q * n * m;
            learner_predict(L, ck.meta, qd.x + q * in, 1, p);
            double se = 0;
            for (int j = 0; j < n * m; j++) se += (p[j] - qd.y[q * n * m + j]) * (p[j] - qd.y[q * n * m + j]);
            mse += se / (n * m) / 12;
            /* decode: fractions below EVAL_SPARSIFY x the row's largest dropped */
            for (int i = 0; i < n; i++) {
                double mx = 0, sum = 0;
                for (int j = 0; j < m; j++) mx = fmax(mx, p[i * m + j]);
                for (int j = 0; j < m; j++)
                    sum += x[i * m + j] = p[i * m + j] >= EVAL_SPARSIFY * mx ? p[i * m + j] : 0;
                for (int j = 0; j < m; j++) x[i * m + j] *= d[i] / sum;
            }
            alloc_repair(n, m, d, s, c, x, y, NULL);
            AllocMetrics am;
            alloc_metrics(n, m, d, s, c, y, qd.obj[q], &am);
            gap0 += am.gap / 12;
            alloc_polish(n, m, s, c, y, 2, NULL);
            alloc_metrics(n, m, d, s, c, y, qd.obj[q], &am);
            gap += am.gap / 12;
            alloc_greedy(n, m, d, s, c, x);
            alloc_metrics(n, m, d, s, c, x, qd.obj[q], &am);
            ggap0 += am.gap / 12;
            alloc_polish(n, m, s, c, x, 2, NULL);
            alloc_metrics(n, m, d, s, c, x, qd.obj[q], &am);
            ggap += am.gap / 12;
            gmax = fmax(gmax, am.gap);
        }
    }
    const EvalMethod *na = method(&r, "no_adapt"), *gr = method(&r, "greedy"),
                     *so = method(&r, "solver"), *ma = method(&r, "maml");
    CHECK(na && gr && so && ma && method(&r, "scratch"));
    if (na && gr && so && ma) {
        CHECK_NEAR(na->mse, mse, 1e-12);
        CHECK_NEAR(na->gap_mean, gap, 1e-12);
        CHECK_NEAR(na->gap0_mean, gap0, 1e-12);
        CHECK_NEAR(gr->gap_mean, ggap, 1e-12);
        CHECK_NEAR(gr->gap0_mean, ggap0, 1e-12);
        CHECK(na->gap_mean <= na->gap0_mean + 1e-12 && gr->gap_mean <= gr->gap0_mean + 1e-12);
        CHECK(so->gap0_mean == so->gap_mean && isnan(so->polish_us) && na->polish_us >= 0);
        CHECK_NEAR(gr->gap_max, gmax, 0);
        CHECK(fabs(so->gap_max) < 1e-7 && so->feasible_frac == 1.0);
        CHECK(na->feasible_frac == 1.0 && ma->feasible_frac == 1.0);
        CHECK(ma->n_by_step == 3 && fabs(ma->mse_by_step[0] - na->mse) < 1e-12);
        CHECK_NEAR(ma->mse_by_step[2], ma->mse, 1e-12);
        CHECK(ma->gap_median <= ma->gap_p95 && ma->gap_p95 <= ma->gap_max);
        CHECK(ma->latency_us > 0 && so->latency_us > 0);
    }

    check_certificates(&r, 0.001);
    /* paired: maml - greedy on gap_mean is the mean of the per-task differences */
    int found = 0;
    for (int i = 0; i < r.n_paired; i++) {
        const EvalPaired *pp = &r.paired[i];
        if (strcmp(r.m[pp->a].label, "maml") || strcmp(r.m[pp->b].label, "greedy") ||
            strcmp(pp->metric, "gap_mean"))
            continue;
        found = 1;
        double dm = 0;
        for (int k = 0; k < 3; k++) dm += (ma->task_gap[k] - gr->task_gap[k]) / 3;
        CHECK_NEAR(pp->mean_diff, dm, 1e-12);
        CHECK(pp->lo <= pp->mean_diff && pp->mean_diff <= pp->hi && pp->n_tasks == 3);
    }
    CHECK(found && r.n_paired == 16); /* 1 checkpoint x 8 baselines x (polished, not) */
    /* tolerance 0: every hour with a positive certified gap falls back, and what is
     * returned is optimal */
    EvalResult r0;
    Config c0 = cfg;
    c0.eval.tolerance = 0.0;
    CHECK_MSG(eval_run(&c0, paths, 1, &r0, &e) == MG_OK, "%s", e.msg);
    check_certificates(&r0, 0.0);
    const EvalMethod *g0 = method(&r0, "greedy");
    CHECK(g0 && g0->fallback_frac > 0 && g0->gap_max_after_fallback <= 1e-9);
    /* eval.fallback: simplex re-solves the same hours to the same optima */
    EvalResult r1;
    Config c1 = c0;
    c1.eval.fallback = FALLBACK_SIMPLEX;
    CHECK_MSG(eval_run(&c1, paths, 1, &r1, &e) == MG_OK, "%s", e.msg);
    check_certificates(&r1, 0.0);
    size_t NH = (size_t)c1.eval.tasks * c1.eval.query;
    int differ = r1.n_methods != r0.n_methods;
    long nfb = 0;
    for (int k = 0; k < r1.n_methods && !differ; k++)
        for (size_t i = 0; i < NH; i++) {
            const EvalHours *a = &r0.m[k].hours, *b = &r1.m[k].hours;
            differ |= a->fallback[i] != b->fallback[i] ||
                      fabs(a->cost[i] - b->cost[i]) > 1e-9 * fabs(r0.opt[i]);
            nfb += b->fallback[i] != 0;
        }
    CHECK_MSG(!differ && nfb > 0, "simplex fallback: costs or flags differ (%ld fallbacks)", nfb);
    eval_result_free(&r1);
    eval_result_free(&r0);

    /* JSON: no NaN, null for the sinusoid-free missing CI is not needed here;
     * force one non-finite value and look for null. */
    r.m[0].mse_ci95 = NAN;
    char jpath[512];
    snprintf(jpath, sizeof jpath, "%s/eval.json", dir);
    CHECK(eval_write_json(&r, jpath, &e) == MG_OK);
    size_t len = 0;
    char *txt = mg_read_file(jpath, 1 << 20, &len, &e);
    CHECK(txt && !has_word(txt, "nan") && !has_word(txt, "inf") &&
          strstr(txt, "\"mse_ci95\": null"));
    CHECK(txt && strstr(txt, "\"greedy\": {") && strstr(txt, "\"gap_p95\": "));
    free(txt);
    unlink(jpath);

    /* A checkpoint of another size is refused with MG_EUSAGE. */
    EvalResult r2;
    MgErr e2 = {0};
    Config other = cfg;
    other.task.n_supply = 2;
    CHECK(eval_run(&other, paths, 1, &r2, &e2) == MG_EUSAGE && strstr(e2.msg, "checkpoint.bin"));
    eval_result_free(&r2);

    taskdata_free(&sd);
    taskdata_free(&qd);
    learner_destroy(L);
    ckpt_free(&ck);
    tasks_destroy(ts);
    eval_result_free(&r);
    snprintf(path, sizeof path, "%s/checkpoint.bin", dir);
    unlink(path);
}

/* Sinusoid: no_adapt mse against learner_loss on the query grid. */
static void test_sinusoid(const char *dir)
{
    MgErr e = {0};
    Config cfg;
    const char *sets[] = {"task.family=sinusoid", "model.hidden=[8]", "algo.name=metasgd",
                          "eval.tasks=4", "eval.k_support=5", "eval.steps=3", "eval.query=11",
                          "eval.scratch_steps=5"};
    CHECK_MSG(config_load(&cfg, NULL, sets, 8, &e) == MG_OK, "%s", e.msg);
    write_ckpt(dir, &cfg, 1, 1, 0);
    char path[512];
    snprintf(path, sizeof path, "%s/checkpoint.bin", dir);
    const char *paths[] = {path, path};
    EvalResult r;
    CHECK_MSG(eval_run(&cfg, paths, 2, &r, &e) == MG_OK, "%s", e.msg);
    CHECK(r.n_methods == 5 && r.lp == 0);
    CHECK(method(&r, "metasgd") && method(&r, "metasgd-2") && method(&r, "scratch_long"));
    TaskSampler *ts = NULL;
    TaskSetup task_setup = tasks_setup_from(&cfg);
    CHECK(tasks_new(&ts, &task_setup, &e) == MG_OK);
    Learner *L = NULL;
    LearnerSetup learner_setup = learner_setup_from(&cfg);
    CHECK(learner_new(&L, &learner_setup, 1, 1, 0, &e) == MG_OK);
    Checkpoint ck;
    CHECK(ckpt_read(path, &ck, &e) == MG_OK);
    TaskData sd = {0}, qd = {0};
    double mse = 0, adapted = 0, th[1024];
    CHECK(learner_n_theta(L) <= 1024);
    for (int t = 0; t < 4; t++) {
        CHECK(tasks_draw(ts, &(TaskRequest){STREAM_EVAL, 0, t, 5, 11, 1}, &sd, &qd, &e) == MG_OK);
        mse += learner_loss(L, ck.meta, &qd) / 4;
        learner_adapt(L, ck.meta, NULL, &sd, 3, th, NULL, NULL);
        adapted += learner_loss(L, th, &qd) / 4;
    }
    const EvalMethod *na = method(&r, "no_adapt"), *ms = method(&r, "metasgd"),
                     *sc = method(&r, "scratch"), *sl = method(&r, "scratch_long");
    if (na && ms && sc && sl) {
        CHECK_NEAR(na->mse, mse, 1e-12);
        CHECK_NEAR(ms->mse, adapted, 1e-12);
        CHECK(isnan(ms->gap_mean) && isnan(ms->feasible_frac));
        CHECK(sl->n_by_step == 6 && sc->n_by_step == 4);
        for (int s = 0; s < 4; s++) CHECK(sl->mse_by_step[s] == sc->mse_by_step[s]);
    }
    taskdata_free(&sd);
    taskdata_free(&qd);
    ckpt_free(&ck);
    learner_destroy(L);
    tasks_destroy(ts);
    eval_result_free(&r);
    unlink(path);
}

int main(void)
{
    test_stats();
    char dir[] = "/tmp/metagrid-test-eval.XXXXXX";
    if (!mkdtemp(dir)) return 1;
    test_uniform(dir);
    test_sinusoid(dir);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return TEST_REPORT();
}
