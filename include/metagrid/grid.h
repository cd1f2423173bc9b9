/*
 * grid.h — the `grid` task family: operating scenarios of a real grid case
 * (src/tasks/grid.c). Used by task.c; exposed for tests, `metagrid case`
 * and benchmarks.
 *
 * The case's transportation instance (case.h: loads, in-service generators,
 * c_ij = mc_j + transmission_cost * dist_ij) is the nominal grid. A task is
 * an operating scenario of it (fuel prices, outages, renewables, load
 * shapes); its instances are consecutive hours. See grid.c for the formulas.
 */
#ifndef METAGRID_GRID_H
#define METAGRID_GRID_H

#include <stdint.h>

#include "metagrid/case.h"
#include "metagrid/region.h"
#include "metagrid/rng.h"

/* The scenario knobs (config task.*). */
typedef struct {
    double rho;             /* capacity margin every hour keeps, >= 1 */
    double renewable_frac;  /* share of generators that are renewable */
    double outage_rate;     /* probability a generator is out for the task */
    double noise;           /* relative hourly noise */
    double transmission_cost;
} GridKnobs;

typedef struct {
    const GridModel *gm;   /* the nominal grid (not owned) */
    int n, m;
    GridKnobs k;
    int h0;                /* hour of day of instance 0 */
    double level;          /* load level: the peak hour's expected total / total Pd */
    double peak;           /* max over the day of the Pd-weighted mean profile */
    double *c;             /* (n*m) the task's unit costs */
    double *mix;           /* (n) residential share of each load bus */
    double *cap;           /* (m) nominal available capacity (0 when out) */
    int *kind;             /* (m) GRID_THERMAL, GRID_SOLAR or GRID_WIND */
    double *fuel_mult;     /* (gm->n_fuel) fuel-price multipliers */
    RegionTask prof;       /* the daily profile parameters (region_profile) */
} GridTask;

enum { GRID_THERMAL = 0, GRID_SOLAR = 1, GRID_WIND = 2 };

/* Draw a scenario of gm from rng (the task stream). Free with grid_task_free. */
void grid_task_draw(GridTask *gt, const GridModel *gm, const GridKnobs *knobs, RngStream *rng);
void grid_task_free(GridTask *gt);

/* Instance k (hour h0 + k) of the task: d (n), s (m); costs are gt->c.
 * Randomness from (seed, purpose, iter, task, k) and, per day, (seed,
 * purpose, iter, task, REGION_DAY_BASE + day). sum(s) >= rho * sum(d). */
void grid_instance(const GridTask *gt, uint64_t seed, RngPurpose purpose, uint64_t iter,
                   uint64_t task, uint64_t k, double *d /*(n)*/, double *s /*(m)*/);

#endif
