/*
 * task.c — task families, features and exact targets (see task.h).
 *
 * Randomness. A task's parameters come from the stream (seed, P_TASK, iter,
 * task_idx, 0) and its instance k from (seed, P_INST, iter, task_idx, k),
 * with P = RNG_TRAIN_* / RNG_VAL_* / RNG_EVAL_* by TaskStream. Which
 * instances (hours) the support and query rows are is task_hours' rule
 * (task.h): both uniform over the hours of a day, support from the region's
 * history, query from later days, so support and query come from the same
 * distribution; the query set does not depend on k_support. Nothing depends
 * on call order or on the rank that draws the task.
 *
 * Families.
 *   sinusoid  A ~ U[0.1, 5], phi ~ U[0, pi] per task; x ~ U[-5, 5] per
 *             point (query_grid: k_query points evenly spaced on [-5, 5]);
 *             y = A sin(x - phi). in_dim = out_dim = 1.
 *   uniform   the task fixes c_ij ~ U[1, 10]; instance draws d_i ~ U[10, 100]
 *             and s_j ~ U[10, 100], then scales s so sum(s) = rho * sum(d)
 *             (always feasible for rho >= 1).
 *   region    see task_region.c: towns, thermal and solar generators, costs
 *             generation + transmission * distance, instances = hours.
 *   grid      see grid.c and case.c: operating scenarios of a MATPOWER case
 *             (task.case), instances = hours; n, m from the case.
 *
 * Features of an LP instance (in_dim = n + m + n*m), all O(1), with
 * dbar = mean_i d_i and cbar = mean_ij c_ij (each replaced by 1 if <= 0):
 *   d_i / dbar                 (n)    demand relative to the mean demand
 *   s_j * m / sum_i d_i        (m)    supply relative to its fair share
 *   c_ij / cbar - 1            (n*m)  relative cost, centred
 * The optimal split x*_ij / d_i is invariant to scaling (d, s) together and
 * to scaling c, so these normalisations lose nothing the target depends on.
 * With task.observe_costs = false the cost block is left out (in_dim =
 * n + m, task_features_ds): the costs, fixed per task, are hidden and must
 * be inferred from the task's solved support rows. Targets are unchanged.
 *
 * Targets (out_dim = n*m, row-major i then j): y_ij = x*_ij / sum_j x*_ij
 * (= x*_ij / d_i, each row summing to exactly 1). A row with d_i = 0 puts 1
 * on its cheapest arc among suppliers with s_j > 0 (lowest j on ties; the
 * cheapest overall if no supplier has capacity). tasks_head_group() = m.
 *
 * Price head (model.head: prices; out_dim = m, tasks_head_group() = n):
 * the target row of an instance is task_price_targets' (layout MLP_PY_* in
 * mlp.h, y_dim = 2m + 1 + n + n*m): the scaled capacity prices lam*_j / cbar
 * with lam*_j = max(0, -v_j) from GLPK's capacity-row duals v, and the
 * instance data the lagrangian loss needs (d, s scaled by cbar / opt, c /
 * cbar, opt / opt = 1), cbar = mean_ij c_ij. Degenerate instances have
 * non-unique duals: lam* is the dual of the optimal basis GLPK ends at (the
 * previous hour's basis warm-started, so a pure function of the task and
 * hour). Any optimal lam* gives the same Lagrangian bound (the optimum);
 * the mse loss is trained towards this one vertex, the lagrangian loss
 * needs none.
 *
 * Targets are solved in order support 0..k_support-1 then query; with
 * task.warm_start each solve after the first starts from the previous
 * optimal basis (LP_WARM), the first from the standard basis.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metagrid/case.h"
#include "metagrid/grid.h"
#include "metagrid/lp.h"
#include "metagrid/mlp.h"
#include "metagrid/region.h"
#include "metagrid/rng.h"
#include "metagrid/task.h"
#include "metagrid/anchor.h"

struct TaskSampler {
    TaskSetup setup;
    int family, n, m, in_dim, out_dim, y_dim, prices;
    int anchor; /* model.anchor: nearest (price head) */
    double *v_tmp;  /* (m) capacity duals of the last solve (price head) */
    LpSolver *lp;
    double *c_task; /* (n*m) uniform: the task's costs */
    GridCase gcase; /* grid: the case and its nominal instance */
    GridModel gmodel;
    uint64_t *hours, *qhours; /* the instances of the current task (task_hours) */
    int hours_cap, qhours_cap;
};

static const double task_pi = 3.14159265358979323846;

TaskSetup tasks_setup_from(const Config *c)
{
    TaskSetup s = {.task = c->task, .seed = c->seed, .head = config_head(c),
                   .anchor = c->model.anchor};
    return s;
}

int tasks_new(TaskSampler **out, const TaskSetup *setup, MgErr *e)
{
    *out = NULL;
    const TaskConfig *task = &setup->task;
    TaskSampler *ts = mg_calloc(1, sizeof *ts);
    ts->setup = *setup;
    ts->family = task->family;
    if (ts->family == FAMILY_SINUSOID) {
        ts->in_dim = ts->out_dim = ts->y_dim = 1;
        *out = ts;
        return MG_OK;
    }
    if (ts->family != FAMILY_UNIFORM && ts->family != FAMILY_REGION &&
        ts->family != FAMILY_GRID) {
        free(ts);
        return mg_fail(e, MG_EUSAGE, "task.family: unknown family %d", task->family);
    }
    int n = task->n_demand, m = task->n_supply;
    if (ts->family == FAMILY_GRID) {
        int rc = case_load(&ts->gcase, task->case_path, e);
        if (rc == MG_OK)
            rc = case_build(&ts->gmodel, &ts->gcase, task->transmission_cost, task->case_path, e);
        if (rc != MG_OK) {
            tasks_destroy(ts);
            return rc;
        }
        n = ts->gmodel.n;
        m = ts->gmodel.m;
    } else if (n < 1 || m < 1 || n > 1000 || m > 1000) {
        free(ts);
        return mg_fail(e, MG_EUSAGE, "task.n_demand, task.n_supply: %dx%d out of range "
                       "(1..1000 each)", n, m);
    }
    if (!(task->rho >= 1.0) || !isfinite(task->rho)) {
        free(ts);
        return mg_fail(e, MG_EUSAGE, "task.rho: %g must be >= 1 (capacity margin)", task->rho);
    }
    ts->n = n;
    ts->m = m;
    ts->in_dim = task->observe_costs ? n + m + n * m : n + m;
    ts->prices = setup->head == HEAD_PRICES;
    ts->anchor = ts->prices && setup->anchor != ANCHOR_NONE;
    if (ts->anchor) ts->in_dim += m; /* anchor.h: the last m inputs */
    ts->out_dim = ts->prices ? m : n * m;
    ts->y_dim = ts->prices ? MLP_PY_DIM(n, m) : n * m;
    ts->v_tmp = mg_calloc((size_t)m, sizeof(double));
    ts->c_task = mg_calloc((size_t)n * m, sizeof(double));
    int rc = lp_create(&ts->lp, n, m, e);
    if (rc) {
        tasks_destroy(ts);
        return rc;
    }
    *out = ts;
    return MG_OK;
}

const TaskSetup *tasks_sampler_setup(const TaskSampler *ts) { return &ts->setup; }

int tasks_config_resolve(TaskConfig *task, MgErr *e)
{
    if (task->family != FAMILY_GRID) return MG_OK;
    GridCase gc;
    GridModel gm;
    int rc = case_load(&gc, task->case_path, e);
    if (rc == MG_OK) rc = case_build(&gm, &gc, task->transmission_cost, task->case_path, e);
    case_free(&gc);
    if (rc != MG_OK) return rc;
    if (gm.n > 10000 || gm.m > 10000)
        rc = mg_fail(e, MG_EUSAGE, "%s: %d loads x %d generators: at most 10000 each",
                     task->case_path, gm.n, gm.m);
    task->n_demand = gm.n;
    task->n_supply = gm.m;
    case_model_free(&gm);
    return rc;
}

void tasks_destroy(TaskSampler *ts)
{
    if (!ts) return;
    lp_destroy(ts->lp);
    case_model_free(&ts->gmodel);
    case_free(&ts->gcase);
    free(ts->c_task);
    free(ts->v_tmp);
    free(ts->hours);
    free(ts->qhours);
    free(ts);
}

int tasks_in_dim(const TaskSampler *ts) { return ts->in_dim; }
const GridModel *tasks_grid_model(const TaskSampler *ts)
{
    return ts->family == FAMILY_GRID ? &ts->gmodel : NULL;
}
int tasks_out_dim(const TaskSampler *ts) { return ts->out_dim; }
int tasks_y_dim(const TaskSampler *ts) { return ts->y_dim; }
int tasks_head_group(const TaskSampler *ts)
{
    return ts->family == FAMILY_SINUSOID ? 0 : ts->prices ? ts->n : ts->m;
}

void task_features_ds(int n, int m, const double *d, const double *s, double *x)
{
    double sd = 0.0;
    for (int i = 0; i < n; i++) sd += d[i];
    double dbar = sd / n;
    if (!(dbar > 0.0)) dbar = 1.0;
    double sfair = dbar * n / m;
    for (int i = 0; i < n; i++) x[i] = d[i] / dbar;
    for (int j = 0; j < m; j++) x[n + j] = s[j] / sfair;
}

void task_features(int n, int m, const double *d, const double *s, const double *c,
                   double *x)
{
    double sc = 0.0;
    task_features_ds(n, m, d, s, x);
    for (int k = 0; k < n * m; k++) sc += c[k];
    double cbar = sc / ((double)n * m);
    if (!(cbar > 0.0)) cbar = 1.0;
    for (int k = 0; k < n * m; k++) x[n + m + k] = c[k] / cbar - 1.0;
}

void task_targets(int n, int m, const double *s, const double *c, const double *xopt,
                  double *y)
{
    for (int i = 0; i < n; i++) {
        const double *xr = xopt + (size_t)i * m;
        double *yr = y + (size_t)i * m;
        double sum = 0.0;
        for (int j = 0; j < m; j++) sum += xr[j];
        if (sum > 0.0) {
            for (int j = 0; j < m; j++) yr[j] = xr[j] / sum;
            continue;
        }
        int best = -1, best_any = 0;
        for (int j = 0; j < m; j++) {
            double cj = c[(size_t)i * m + j];
            if (cj < c[(size_t)i * m + best_any]) best_any = j;
            if (s[j] > 0.0 && (best < 0 || cj < c[(size_t)i * m + best])) best = j;
        }
        if (best < 0) best = best_any;
        for (int j = 0; j < m; j++) yr[j] = j == best ? 1.0 : 0.0;
    }
}

void task_price_targets(int n, int m, const double *d, const double *s, const double *c,
                        const double *v, double obj, double *y)
{
    double sc = 0.0, sd = 0.0;
    for (int k = 0; k < n * m; k++) sc += c[k];
    for (int i = 0; i < n; i++) sd += d[i];
    double cbar = sc / ((double)n * m);
    if (!(cbar > 0.0)) cbar = 1.0;
    double z = obj > 0.0 ? obj : cbar * sd > 0.0 ? cbar * sd : 1.0;
    for (int j = 0; j < m; j++) y[MLP_PY_LAMBDA(n, m) + j] = fmax(0.0, -v[j]) / cbar;
    y[MLP_PY_OPT(n, m)] = obj / z;
    for (int i = 0; i < n; i++) y[MLP_PY_A(n, m) + i] = cbar * d[i] / z;
    for (int j = 0; j < m; j++) y[MLP_PY_B(n, m) + j] = cbar * s[j] / z;
    for (int k = 0; k < n * m; k++) y[MLP_PY_C(n, m) + k] = c[k] / cbar;
}

void taskdata_reserve(TaskData *td, int k, int in_dim, int out_dim, int y_dim, int n, int m)
{
    int lp = n > 0;
    if (td->x && td->k == k && td->in_dim == in_dim && td->out_dim == out_dim &&
        td->y_dim == y_dim && td->n == n && td->m == m && (!lp || td->d)) {
        td->lp_iters = 0;
        td->solve_s = 0.0;
        return;
    }
    taskdata_free(td);
    td->k = k;
    td->in_dim = in_dim;
    td->out_dim = out_dim;
    td->y_dim = y_dim;
    td->n = n;
    td->m = m;
    size_t kk = k > 0 ? (size_t)k : 1;
    td->x = mg_calloc(kk * in_dim, sizeof(double));
    td->y = mg_calloc(kk * y_dim, sizeof(double));
    if (lp) {
        td->d = mg_calloc(kk * n, sizeof(double));
        td->s = mg_calloc(kk * m, sizeof(double));
        td->c = mg_calloc(kk * n * m, sizeof(double));
        td->xopt = mg_calloc(kk * n * m, sizeof(double));
        td->obj = mg_calloc(kk, sizeof(double));
        td->lambda = mg_calloc(kk * m, sizeof(double));
    }
}

void taskdata_free(TaskData *td)
{
    if (!td) return;
    free(td->x);
    free(td->y);
    free(td->d);
    free(td->s);
    free(td->c);
    free(td->xopt);
    free(td->obj);
    free(td->lambda);
    memset(td, 0, sizeof *td);
}

static void stream_purposes(TaskStream stream, RngPurpose *pt, RngPurpose *pi)
{
    switch (stream) {
    case STREAM_VAL: *pt = RNG_VAL_TASK; *pi = RNG_VAL_INST; return;
    case STREAM_EVAL: *pt = RNG_EVAL_TASK; *pi = RNG_EVAL_INST; return;
    default: *pt = RNG_TRAIN_TASK; *pi = RNG_TRAIN_INST; return;
    }
}

static const char *stream_name(TaskStream stream)
{
    return stream == STREAM_VAL ? "val" : stream == STREAM_EVAL ? "eval" : "train";
}

void task_hours(uint64_t seed, int pi, uint64_t iter, uint64_t task, int k_support,
                int k_query, uint64_t *hours, uint64_t *qhours)
{
    const uint64_t hist = 24ULL * TASK_HISTORY_DAYS;
    RngStream r;
    for (int q = 0; hours && q < k_support; q++) {
        if ((uint64_t)k_support > hist / 2) { /* a long history: its first K hours */
            hours[q] = (uint64_t)q;
            continue;
        }
        rng_stream_init(&r, seed, (RngPurpose)pi, iter, task, TASK_DRAW_BASE + (uint64_t)q);
        for (;;) { /* distinct hours: redraw on a repeat (at most half are taken) */
            uint64_t h = (uint64_t)(rng_uniform(&r) * (double)hist);
            if (h >= hist) h = hist - 1;
            int dup = 0;
            for (int p = 0; p < q && !dup; p++) dup = hours[p] == h;
            if (!dup) { hours[q] = h; break; }
        }
    }
    for (int q = 0; qhours && q < k_query; q++) {
        rng_stream_init(&r, seed, (RngPurpose)pi, iter, task,
                        TASK_DRAW_BASE + TASK_QUERY_DRAW + (uint64_t)q);
        uint64_t h = (uint64_t)(rng_uniform(&r) * (24.0 * TASK_QUERY_DAYS));
        if (h >= 24ULL * TASK_QUERY_DAYS) h = 24ULL * TASK_QUERY_DAYS - 1;
        qhours[q] = 24ULL * TASK_QUERY_DAY0 + h;
    }
}

/* The instance (hour) of row q of the support (part 0) or query (part 1). */
static uint64_t row_instance(const TaskSampler *ts, int part, int q)
{
    return part ? ts->qhours[q] : ts->hours[q];
}

static void make_sinusoid(const TaskSampler *ts, const TaskRequest *rq, TaskData *sup,
                          TaskData *qry)
{
    RngPurpose pt, pi;
    stream_purposes(rq->stream, &pt, &pi);
    uint64_t seed = (uint64_t)ts->setup.seed;
    RngStream r;
    rng_stream_init(&r, seed, pt, rq->iter, rq->task, 0);
    double amp = rng_uniform_range(&r, 0.1, 5.0);
    double phase = rng_uniform_range(&r, 0.0, task_pi);
    for (int part = 0; part < 2; part++) {
        TaskData *td = part ? qry : sup;
        int k = part ? rq->k_query : rq->k_support;
        if (!td) continue;
        taskdata_reserve(td, k, 1, 1, 1, 0, 0);
        for (int q = 0; q < k; q++) {
            double x;
            if (part && rq->query_grid) {
                x = k > 1 ? -5.0 + 10.0 * q / (k - 1) : 0.0;
            } else {
                rng_stream_init(&r, seed, pi, rq->iter, rq->task, row_instance(ts, part, q));
                x = rng_uniform_range(&r, -5.0, 5.0);
            }
            td->x[q] = x;
            td->y[q] = amp * sin(x - phase);
        }
    }
}

/* One LP task while its rows are built: the request, the drawn task of its
 * family (region / grid: the task's towns or scenario, uniform: its costs)
 * and whether an instance has been solved yet (warm starts after it). */
typedef struct {
    const TaskRequest *rq;
    RngPurpose pi;     /* the instances' stream purpose */
    RegionTask region;
    GridTask grid;
    const double *c;   /* (n*m) the task's costs */
    int solved;        /* instances solved so far */
} LpTask;

/* Draw the task of its family from the stream (seed, pt, iter, task, 0). */
static void lp_task_draw(TaskSampler *ts, LpTask *lt, RngPurpose pt)
{
    const TaskConfig *task = &ts->setup.task;
    RngStream r;
    rng_stream_init(&r, (uint64_t)ts->setup.seed, pt, lt->rq->iter, lt->rq->task, 0);
    if (ts->family == FAMILY_GRID) {
        GridKnobs kn = {task->rho, task->renewable_frac, task->outage_rate, task->noise,
                        task->transmission_cost};
        grid_task_draw(&lt->grid, &ts->gmodel, &kn, &r);
        lt->c = lt->grid.c;
    } else if (ts->family == FAMILY_REGION) {
        region_task_draw(&lt->region, ts->n, ts->m, task->rho, task->renewable_frac,
                         task->transmission_cost, task->noise, &r);
        lt->c = lt->region.c;
    } else {
        for (int k = 0; k < ts->n * ts->m; k++) ts->c_task[k] = rng_uniform_range(&r, 1.0, 10.0);
        lt->c = ts->c_task;
    }
}

/* The uniform family's instance inst: d, s (c is the task's). */
static void uniform_instance(const TaskSampler *ts, const LpTask *lt, uint64_t inst, double *d,
                             double *s)
{
    RngStream r;
    rng_stream_init(&r, (uint64_t)ts->setup.seed, lt->pi, lt->rq->iter, lt->rq->task, inst);
    double sd = 0.0, ss = 0.0;
    for (int i = 0; i < ts->n; i++) sd += d[i] = rng_uniform_range(&r, 10.0, 100.0);
    for (int j = 0; j < ts->m; j++) ss += s[j] = rng_uniform_range(&r, 10.0, 100.0);
    double f = ts->setup.task.rho * sd / ss;
    for (int j = 0; j < ts->m; j++) s[j] *= f;
}

/* Row q of td is instance inst: its data (d, s, c) and features. */
static void lp_row_data(const TaskSampler *ts, const LpTask *lt, TaskData *td, int q,
                        uint64_t inst)
{
    int n = ts->n, m = ts->m, nm = n * m;
    uint64_t seed = (uint64_t)ts->setup.seed, iter = lt->rq->iter, task = lt->rq->task;
    double *d = td->d + (size_t)q * n, *s = td->s + (size_t)q * m;
    double *c = td->c + (size_t)q * nm;
    if (ts->family == FAMILY_GRID)
        grid_instance(&lt->grid, seed, lt->pi, iter, task, inst, d, s);
    else if (ts->family == FAMILY_REGION)
        region_instance(&lt->region, seed, lt->pi, iter, task, inst, d, s);
    else
        uniform_instance(ts, lt, inst, d, s);
    memcpy(c, lt->c, (size_t)nm * sizeof(double));
    if (ts->setup.task.observe_costs)
        task_features(n, m, d, s, c, td->x + (size_t)q * ts->in_dim);
    else
        task_features_ds(n, m, d, s, td->x + (size_t)q * ts->in_dim);
}

/* Solve row q of td (instance inst) with GLPK, warm-started from the
 * previous solve of the task when task.warm_start, and fill its optimum,
 * capacity prices and target. */
static int lp_row_solve(TaskSampler *ts, LpTask *lt, TaskData *td, int q, uint64_t inst,
                        MgErr *e)
{
    int n = ts->n, m = ts->m, nm = n * m;
    const double *d = td->d + (size_t)q * n, *s = td->s + (size_t)q * m;
    const double *c = td->c + (size_t)q * nm;
    char what[160];
    snprintf(what, sizeof what, "%s task (seed %lld, iter %llu, task %llu) instance %llu",
             stream_name(lt->rq->stream), (long long)ts->setup.seed,
             (unsigned long long)lt->rq->iter, (unsigned long long)lt->rq->task,
             (unsigned long long)inst);
    double *lam = td->lambda + (size_t)q * m;
    LpResult res = {.x = td->xopt + (size_t)q * nm, .v = lam};
    LpMethod meth = (ts->setup.task.warm_start && lt->solved) ? LP_WARM : LP_DUAL_COLD;
    double t0 = mg_now();
    int rc = lp_solve(ts->lp, d, s, c, meth, &res, what, e);
    td->solve_s += mg_now() - t0;
    if (rc) return rc;
    lt->solved++;
    td->obj[q] = res.obj;
    if (ts->prices) memcpy(ts->v_tmp, lam, sizeof(double) * (size_t)m);
    for (int j = 0; j < m; j++) lam[j] = -lam[j] > 0.0 ? -lam[j] : 0.0;
    td->lp_iters += res.iters;
    if (ts->prices)
        task_price_targets(n, m, d, s, c, ts->v_tmp, res.obj, td->y + (size_t)q * ts->y_dim);
    else
        task_targets(n, m, s, c, res.x, td->y + (size_t)q * ts->y_dim);
    return MG_OK;
}

static int make_lp(TaskSampler *ts, const TaskRequest *rq, TaskData *sup, TaskData *qry,
                   MgErr *e)
{
    LpTask lt;
    memset(&lt, 0, sizeof lt);
    lt.rq = rq;
    RngPurpose pt;
    stream_purposes(rq->stream, &pt, &lt.pi);
    lp_task_draw(ts, &lt, pt);
    int rc = MG_OK;
    for (int part = 0; part < 2 && rc == MG_OK; part++) {
        TaskData *td = part ? qry : sup;
        int k = part ? rq->k_query : rq->k_support;
        if (!td) continue;
        taskdata_reserve(td, k, ts->in_dim, ts->out_dim, ts->y_dim, ts->n, ts->m);
        for (int q = 0; q < k && rc == MG_OK; q++) {
            uint64_t inst = row_instance(ts, part, q);
            lp_row_data(ts, &lt, td, q, inst);
            rc = lp_row_solve(ts, &lt, td, q, inst, e);
        }
    }
    if (rc == MG_OK && ts->anchor) {
        if (sup && qry) anchor_fill(sup, qry);
        else anchor_clear(sup ? sup : qry); /* anchor.h */
    }
    region_task_free(&lt.region);
    grid_task_free(&lt.grid);
    return rc;
}

/* The instances (hours) of the task's rows into ts->hours / ts->qhours. */
static void draw_hours(TaskSampler *ts, const TaskRequest *rq, int support, int query)
{
    if (rq->k_support > ts->hours_cap) {
        free(ts->hours);
        ts->hours = mg_malloc(sizeof(uint64_t) * (size_t)rq->k_support);
        ts->hours_cap = rq->k_support;
    }
    if (rq->k_query > ts->qhours_cap) {
        free(ts->qhours);
        ts->qhours = mg_malloc(sizeof(uint64_t) * (size_t)rq->k_query);
        ts->qhours_cap = rq->k_query;
    }
    RngPurpose pt, pi;
    stream_purposes(rq->stream, &pt, &pi);
    task_hours((uint64_t)ts->setup.seed, (int)pi, rq->iter, rq->task,
               support ? rq->k_support : 0, query ? rq->k_query : 0, ts->hours, ts->qhours);
}

int tasks_draw(TaskSampler *ts, const TaskRequest *rq, TaskData *support, TaskData *query,
               MgErr *e)
{
    if (rq->k_support < 0 || rq->k_query < 0)
        return mg_fail(e, MG_EUSAGE, "tasks_draw: negative row count (%d, %d)", rq->k_support,
                       rq->k_query);
    draw_hours(ts, rq, support != NULL, query != NULL);
    if (ts->family == FAMILY_SINUSOID) {
        make_sinusoid(ts, rq, support, query);
        return MG_OK;
    }
    return make_lp(ts, rq, support, query, e);
}
