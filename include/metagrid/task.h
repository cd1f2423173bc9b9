/*
 * task.h — task families and the data one task contributes to learning.
 *
 * A task is one network (one region) whose instances vary; the family is
 * chosen by task.family (uniform, region, sinusoid, grid). A task and its instances
 * are pure functions of (seed, stream, iter, task index, instance index)
 * through rng.h, so they do not depend on the rank that draws them.
 *
 * For the LP families every instance is solved with GLPK (lp.h) for its
 * target; the model's input features x and targets y are defined here:
 *   x: O(1)-scaled features of (d, s, c)                 (in_dim = n+m+n*m;
 *      of (d, s) only, in_dim = n+m, when task.observe_costs is false)
 *   y: the optimal split of each demand, x*_ij / d_i      (out_dim = n*m,
 *      row-major i then j; rows with d_i = 0 get the cheapest arc's split);
 *      for the price head (model.head: prices) the scaled capacity duals and
 *      the instance data (task_price_targets; out_dim = m, y_dim wider)
 * and the raw instance data are kept for metrics, repair and baselines.
 * For sinusoid x = (x) and y = (A sin(x - phi)), in_dim = out_dim = 1.
 */
#ifndef METAGRID_TASK_H
#define METAGRID_TASK_H

#include <stdint.h>

#include "metagrid/case.h"
#include "metagrid/common.h"
#include "metagrid/config.h"

/* Which random stream tasks come from: training, periodic validation, or the
 * held-out evaluation stream (disjoint from training by construction). */
typedef enum { STREAM_TRAIN = 0, STREAM_VAL = 1, STREAM_EVAL = 2 } TaskStream;

/* The rows one task contributes (support or query). All arrays row-major. */
typedef struct {
    int k;          /* rows (instances or points) */
    int in_dim;
    int out_dim;    /* network outputs per row */
    int y_dim;      /* target width per row: out_dim, or the price head's
                       2m + 1 + n + n*m (mlp.h, MLP_PY_*) */
    double *x;      /* (k, in_dim)  features */
    double *y;      /* (k, y_dim)   targets */
    /* LP families only; NULL for sinusoid. */
    int n, m;
    double *d;      /* (k, n)   demands */
    double *s;      /* (k, m)   supplies (capacities) */
    double *c;      /* (k, n*m) unit costs */
    double *xopt;   /* (k, n*m) GLPK optimal allocation */
    double *obj;    /* (k)      optimal cost */
    double *lambda; /* (k, m)   GLPK's capacity prices, -dual of each capacity row
                       (>= 0; of the basis GLPK ended in when they are not unique) */
    long lp_iters;  /* simplex iterations spent producing the targets */
    double solve_s; /* seconds spent in the LP layer for these rows */
} TaskData;

typedef struct TaskSampler TaskSampler; /* owns its setup and LP workspace */

/* What a sampler is made from: the config's task section, the run's seed and
 * the resolved head (config_head: HEAD_ALLOC or HEAD_PRICES for the LP
 * families, HEAD_LINEAR for sinusoid). */
typedef struct {
    TaskConfig task;
    int64_t seed;
    int head;       /* HeadName, resolved */
    int anchor;     /* AnchorName (model.anchor; price head): the last m inputs */
} TaskSetup;

/* The TaskSetup of a whole config. */
TaskSetup tasks_setup_from(const Config *c);

/* Create a sampler for setup (copied). MG_OK or an error. */
int tasks_new(TaskSampler **ts, const TaskSetup *setup, MgErr *e);
void tasks_destroy(TaskSampler *ts);
/* The setup ts was created with. */
const TaskSetup *tasks_sampler_setup(const TaskSampler *ts);

/* task.family grid: read task.case and set task.n_demand / task.n_supply to
 * its loads x generators, so the resolved config records the sizes. Other
 * families: nothing. Commands call it right after config_load. */
int tasks_config_resolve(TaskConfig *task, MgErr *e);

int tasks_in_dim(const TaskSampler *ts);
/* The grid family's nominal instance (case.h), NULL for other families. */
const GridModel *tasks_grid_model(const TaskSampler *ts);
int tasks_out_dim(const TaskSampler *ts);
/* The learner's group argument (learner_new): the softmax group size of
 * the allocation head (m), the number of demand points n for the price head
 * (model.head: prices, out_dim = m), or 0 for a linear head. */
int tasks_head_group(const TaskSampler *ts);
/* Target width per row (TaskData.y_dim). */
int tasks_y_dim(const TaskSampler *ts);

/* Which task to draw and how many rows: task (stream, iter, task) with
 * k_support support and k_query query rows. */
typedef struct {
    TaskStream stream;
    uint64_t iter;
    uint64_t task;     /* task index within (stream, iter) */
    int k_support;
    int k_query;
    int query_grid;    /* sinusoid: query points evenly spaced on [-5, 5] (the
                          MAML evaluation protocol); other families ignore it */
} TaskRequest;

/*
 * Draw task req and fill support (k_support rows) and query (k_query rows),
 * either may be NULL, solving LP instances for targets. The TaskData must be
 * zeroed before first use; they are (re)allocated as needed and keep their
 * buffers while the shape does not change; free with taskdata_free. Errors
 * (GLPK failure, infeasible instance) name the task and instance.
 */
int tasks_draw(TaskSampler *ts, const TaskRequest *req, TaskData *support, TaskData *query,
               MgErr *e);

void taskdata_free(TaskData *td);
/* (Re)allocate td for k rows of the given shape (n = 0: no LP arrays); keeps
 * the buffers when the shape is unchanged; lp_iters and solve_s reset. */
void taskdata_reserve(TaskData *td, int k, int in_dim, int out_dim, int y_dim, int n, int m);

/*
 * Which instance (hour) each row of a task is. Support and query rows are
 * hours drawn from the same distribution over times of day:
 *   support row r: K distinct hours drawn uniformly from the region's
 *     history, days 0..TASK_HISTORY_DAYS-1 (K = k_support <= half of it;
 *     a larger K takes the first K hours, which cover every hour of day);
 *   query row q: an hour drawn uniformly from the later days
 *     TASK_QUERY_DAY0 .. TASK_QUERY_DAY0 + TASK_QUERY_DAYS - 1.
 * The draws come from the task's instance stream at indices TASK_DRAW_BASE +
 * r (support) and TASK_DRAW_BASE + TASK_QUERY_DRAW + q (query), apart from the
 * instances' own streams. Support hours 0..r depend only on r (so the K = 5
 * support set is the first five hours of the K = 10 one), and query hours do
 * not depend on k_support.
 */
#define TASK_HISTORY_DAYS 28
#define TASK_QUERY_DAY0 100000ULL
#define TASK_QUERY_DAYS 365
#define TASK_DRAW_BASE (1ULL << 61)
#define TASK_QUERY_DRAW (1ULL << 40)
/* Fill hours (k_support) and qhours (k_query) for task (stream purpose pi,
 * iter, task); either may be NULL. */
void task_hours(uint64_t seed, int pi, uint64_t iter, uint64_t task, int k_support,
                int k_query, uint64_t *hours, uint64_t *qhours);

/* The features of one LP instance (see task.c): x (n + m + n*m). With
 * task.observe_costs = false an instance's features are task_features_ds. */
void task_features(int n, int m, const double *d /*(n)*/, const double *s /*(m)*/,
                   const double *c /*(n*m)*/, double *x);
/* Its first n + m entries only (demand and supply features; they do not
 * depend on c). */
void task_features_ds(int n, int m, const double *d /*(n)*/, const double *s /*(m)*/,
                      double *x);
/* The price head's target row of one solved instance (mlp.h, MLP_PY_*):
 * v (m) GLPK's capacity duals (<= 0), obj the optimal cost. */
void task_price_targets(int n, int m, const double *d, const double *s, const double *c,
                        const double *v, double obj, double *y /*(2m+1+n+n*m)*/);
/* The targets of one solved instance: y (n*m), each row a split summing to 1. */
void task_targets(int n, int m, const double *s /*(m)*/, const double *c /*(n*m)*/,
                  const double *xopt /*(n*m)*/, double *y);

#endif
