/*
 * eval_stats.c — the statistics of an evaluation (see eval.h): quantiles,
 * Student-t intervals, the per-method aggregates of the per-hour columns
 * (gaps, certificates, fallback, amortised cost, break-even) and the paired
 * per-task comparisons of every checkpoint with every non-learned LP
 * baseline. Everything runs on the reduced columns, in task order, so every
 * rank computes the same numbers.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metagrid/eval.h"

double eval_quantile(const double *v, size_t n, double q)
{
    if (n == 0) return NAN;
    double pos = q * (double)(n - 1);
    size_t i = (size_t)floor(pos);
    if (i + 1 >= n) return v[n - 1];
    double f = pos - (double)i;
    return v[i] + f * (v[i + 1] - v[i]);
}

double eval_t975(int df)
{
    static const double t[] = {
        NAN,    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262,
        2.228,  2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093,
        2.086,  2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045,
        2.042};
    if (df < 1) return NAN;
    if (df <= 30) return t[df];
    /* Cornish-Fisher expansion around the normal quantile; < 1e-3 off. */
    double z = 1.959964, d = (double)df;
    return z + (z * z * z + z) / (4 * d) + (5 * pow(z, 5) + 16 * z * z * z + 3 * z) / (96 * d * d);
}

double eval_ci95(const double *v, size_t n)
{
    if (n < 2) return NAN;
    double mean = 0, ss = 0;
    for (size_t i = 0; i < n; i++) mean += v[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++) ss += (v[i] - mean) * (v[i] - mean);
    double sd = sqrt(ss / (double)(n - 1));
    return eval_t975((int)n - 1) * sd / sqrt((double)n);
}

void eval_mean_ci(const double *d, size_t n, double *mean, double *lo, double *hi)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += d[i];
    *mean = n ? s / (double)n : NAN;
    double h = eval_ci95(d, n);
    *lo = *mean - h;
    *hi = *mean + h;
}

/* NaN sorts last. */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    if (isnan(x)) return isnan(y) ? 0 : 1;
    if (isnan(y)) return -1;
    return (x > y) - (x < y);
}

double eval_median(double *v, size_t n)
{
    qsort(v, n, sizeof(double), cmp_double);
    return eval_quantile(v, n, 0.5);
}

double eval_break_even(double setup_a, double lat_a, double setup_b, double lat_b)
{
    if (!isfinite(setup_a) || !isfinite(lat_a) || !isfinite(setup_b) || !isfinite(lat_b))
        return NAN;
    if (setup_a + lat_a < setup_b + lat_b) return 1.0;
    if (!(lat_a < lat_b)) return NAN; /* never catches up */
    double h = floor((setup_a - setup_b) / (lat_b - lat_a)) + 1.0;
    while (h > 1.0 && setup_a + (h - 1.0) * lat_a < setup_b + (h - 1.0) * lat_b) h -= 1.0;
    while (!(setup_a + h * lat_a < setup_b + h * lat_b)) h += 1.0;
    return h;
}

static double max_of(const double *v, size_t n)
{
    double mx = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (isnan(v[i]) || v[i] > mx) mx = isnan(v[i]) ? NAN : v[i];
    return mx;
}

/* median, p95, max of v (n) (tmp: n scratch). */
static void spread(const double *v, size_t n, double *tmp, double *med, double *p95, double *mx)
{
    memcpy(tmp, v, n * sizeof(double));
    qsort(tmp, n, sizeof(double), cmp_double);
    *med = eval_quantile(tmp, n, 0.5);
    *p95 = eval_quantile(tmp, n, 0.95);
    *mx = max_of(v, n);
}

/* Per-task means of v ((T*Q), task order) into out (T). */
static void task_means(const double *v, size_t T, size_t Q, double *out)
{
    for (size_t t = 0; t < T; t++) {
        double s = 0;
        for (size_t q = 0; q < Q; q++) s += v[t * Q + q];
        out[t] = s / (double)Q;
    }
}

static double mean_of(const double *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += v[i];
    return n ? s / (double)n : NAN;
}

/* The LP aggregates of one method from its per-hour columns. */
static void aggregate_lp(const EvalResult *r, EvalMethod *m, double *tmp)
{
    size_t T = (size_t)r->cfg.eval.tasks, Q = (size_t)r->cfg.eval.query, N = T * Q;
    const EvalHours *h = &m->hours;
    double tol = r->cfg.eval.tolerance;
    m->task_gap = mg_calloc(T, sizeof(double));
    m->task_gap0 = mg_calloc(T, sizeof(double));
    task_means(h->gap, T, Q, m->task_gap);
    task_means(h->gap0, T, Q, m->task_gap0);
    m->gap_mean = mean_of(m->task_gap, T);
    m->gap_mean_ci95 = eval_ci95(m->task_gap, T);
    m->gap0_mean = mean_of(m->task_gap0, T);
    m->gap0_mean_ci95 = eval_ci95(m->task_gap0, T);
    spread(h->gap, N, tmp, &m->gap_median, &m->gap_p95, &m->gap_max);
    spread(h->gap0, N, tmp, &m->gap0_median, &m->gap0_p95, &m->gap0_max);
    spread(h->cert_gap, N, tmp, &m->cert_gap_median, &m->cert_gap_p95, &m->cert_gap_max);
    double cert = 0, fb = 0, after_max = -INFINITY, after_sum = 0;
    int invalid = 0;
    for (size_t i = 0; i < N; i++) {
        double opt = r->opt[i], a = (h->cost[i] - opt) / fmax(fabs(opt), 1e-12);
        cert += h->cert_gap[i] <= tol;
        fb += h->fallback[i];
        after_max = fmax(after_max, a);
        after_sum += a;
        invalid += h->lb[i] > opt + EVAL_BOUND_TOL * fmax(fabs(opt), 1e-12);
    }
    m->certified_frac = cert / (double)N;
    m->fallback_frac = fb / (double)N;
    m->gap_max_after_fallback = after_max;
    m->gap_mean_after_fallback = after_sum / (double)N;
    m->invalid_bounds = invalid;
}

/* Paired per-task differences a - b for every checkpoint a and every
 * non-learned LP baseline b. */
static void paired(EvalResult *r)
{
    size_t T = (size_t)r->cfg.eval.tasks;
    double *d = mg_calloc(T, sizeof(double));
    r->n_paired = 0;
    for (int a = 0; a < r->n_methods; a++) {
        if (r->m[a].kind != EVAL_CKPT) continue;
        for (int b = 0; b < r->n_methods; b++) {
            if (r->m[b].learned) continue;
            for (int which = 0; which < (r->cfg.eval.polish > 0 ? 2 : 1); which++) {
                if (r->n_paired >= EVAL_MAX_PAIRED) break;
                const double *ga = which ? r->m[a].task_gap0 : r->m[a].task_gap;
                const double *gb = which ? r->m[b].task_gap0 : r->m[b].task_gap;
                for (size_t t = 0; t < T; t++) d[t] = ga[t] - gb[t];
                EvalPaired *p = &r->paired[r->n_paired++];
                p->a = a;
                p->b = b;
                p->metric = which ? "gap_mean_unpolished" : "gap_mean";
                p->n_tasks = (int)T;
                eval_mean_ci(d, T, &p->mean_diff, &p->lo, &p->hi);
            }
        }
    }
    free(d);
}

void eval_aggregate_paired(EvalResult *r)
{
    size_t N = (size_t)r->cfg.eval.tasks * (size_t)r->cfg.eval.query;
    double *tmp = mg_malloc(N * sizeof(double));
    const EvalMethod *warm = NULL;
    for (int k = 0; k < r->n_methods; k++) {
        EvalMethod *m = &r->m[k];
        double *nanf[] = {&m->gap_mean, &m->gap_mean_ci95, &m->gap_median, &m->gap_p95,
                          &m->gap_max, &m->gap0_mean, &m->gap0_median, &m->gap0_p95,
                          &m->gap0_max, &m->gap0_mean_ci95, &m->cert_gap_median,
                          &m->cert_gap_p95, &m->cert_gap_max, &m->certified_frac,
                          &m->fallback_frac, &m->gap_max_after_fallback,
                          &m->gap_mean_after_fallback, &m->cost_per_hour_us,
                          &m->break_even_hours};
        for (size_t j = 0; j < sizeof nanf / sizeof nanf[0]; j++) *nanf[j] = NAN;
        if (!r->lp) continue;
        aggregate_lp(r, m, tmp);
        m->cost_per_hour_us = 1e3 * m->setup_ms / r->cfg.eval.horizon + m->latency_mean_us;
        if (m->kind == EVAL_SOLVER_WARM) warm = m;
    }
    for (int k = 0; warm && k < r->n_methods; k++) {
        EvalMethod *m = &r->m[k];
        if (m == warm) continue;
        m->break_even_hours = eval_break_even(1e3 * m->setup_ms, m->latency_mean_us,
                                              1e3 * warm->setup_ms, warm->latency_mean_us);
    }
    if (r->lp) paired(r);
    free(tmp);
}
