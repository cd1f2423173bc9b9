/*
 * region.h — the `region` task family: a structured power-system generator
 * (src/tasks/task_region.c). Used by task.c; exposed for tests and benchmarks.
 *
 * A task is one region: demand sites clustered in towns and generators
 * (thermal and solar) placed in the unit square, with fixed unit costs
 *   c_ij = g_j + transmission_cost * L * |pos_i - pos_j|   (L: task cost level)
 * Instance k is hour h0 + k: site demands follow daily load profiles with
 * noise; solar availability follows the sun and a per-day cloud factor.
 * Every hour satisfies sum(s) >= rho * sum(d).
 */
#ifndef METAGRID_REGION_H
#define METAGRID_REGION_H

#include <stdint.h>

#include "metagrid/rng.h"

typedef struct {
    int n, m;
    int n_renew;           /* generators 0..n_renew-1 are solar, the rest thermal */
    double rho, noise;
    int h0;                /* hour of day of instance 0 */
    double *c;             /* (n*m) unit costs, fixed for the task */
    double *base;          /* (n) base load of each demand site */
    double *mix;           /* (n) residential share of each site, in [0, 1] */
    double *cap;           /* (m) nominal capacity of each generator */
    double *dsite;         /* (n*2) site positions */
    double *gpos;          /* (m*2) generator positions */
    double *gcost;         /* (m) marginal generation cost */
    double cost_level;     /* L: the task's typical generation cost */
    /* daily profile parameters */
    double night, morn_h, morn_a, eve_h, eve_a;   /* residential */
    double open_h, close_h, com_a;                /* commercial */
    double sunrise, sunset;                       /* solar */
} RegionTask;

/* Draw a task from rng (the task stream). Sizes from n, m; knobs: rho >= 1,
 * renewable_frac in [0, 1] (at least one generator stays thermal),
 * transmission_cost >= 0, noise >= 0. Allocates; free with region_task_free. */
void region_task_draw(RegionTask *rt, int n, int m, double rho, double renewable_frac,
                      double transmission_cost, double noise, RngStream *rng);
void region_task_free(RegionTask *rt);

/* Relative load of a site with residential share mix at hour of day h (real). */
double region_profile(const RegionTask *rt, double mix, double h);

/*
 * Instance k (hour h0 + k) of the task: d (n), s (m); the costs are rt->c.
 * Randomness from (seed, purpose, iter, task, k) and, for the per-day cloud
 * and load factors, (seed, purpose, iter, task, REGION_DAY_BASE + day).
 */
#define REGION_DAY_BASE (1ULL << 62)
void region_instance(const RegionTask *rt, uint64_t seed, RngPurpose purpose, uint64_t iter,
                     uint64_t task, uint64_t k, double *d /*(n)*/, double *s /*(m)*/);

#endif
