/*
 * case.h — power-grid cases in the MATPOWER / PGLib-OPF `.m` format
 * (src/tasks/case.c), and the transportation instance derived from one.
 *
 * The reader takes the subset the PGLib cases use (README: "Grids"):
 * `mpc.baseMVA = X;`, the matrices `mpc.bus`, `mpc.gen`, `mpc.gencost`,
 * `mpc.branch` (rows of numbers ending in `;`, `%` comments, a trailing
 * `% FUEL` comment on a gen or gencost row is the generator's fuel type),
 * `function mpc = NAME`, `mpc.version = '2';`, and skips other `mpc.X`
 * scalars, strings, matrices and cell arrays. gencost model 2 (polynomial,
 * any order) and model 1 (piecewise linear) are both read. It is strict:
 * any other text, a ragged or short row, NaN / Inf, a negative Pmax, a
 * branch or generator at an unknown bus, missing matrices, more than the
 * size limits below: MG_EUSAGE with "NAME:LINE: problem".
 *
 * The derived instance (case_build): demand points are the buses with
 * Pd > 0 (ids "busN", N the bus number), supply points the in-service
 * generators with Pmax > 0 (ids "genK", K the 1-based row of mpc.gen), and
 *   c_ij = mc_j + transmission_cost * dist(bus of load i, bus of gen j)
 * with mc_j the generator's marginal cost at half its Pmax (c1 + c2 Pmax for
 * c2 P^2 + c1 P + c0; the slope of the segment holding Pmax/2 for piecewise
 * linear) and dist the shortest path over in-service branches weighted by
 * |x| (p.u.; Dijkstra).
 */
#ifndef METAGRID_CASE_H
#define METAGRID_CASE_H

#include <stddef.h>

#include "metagrid/common.h"

/* Size limits: a case beyond them is refused at the offending line. */
#define CASE_MAX_BYTES (64u << 20)
#define CASE_MAX_BUSES 100000
#define CASE_MAX_GENS 50000
#define CASE_MAX_BRANCHES 400000
#define CASE_MAX_COLS 64
/* Derived instance limit: demand points x supply points. */
#define CASE_MAX_ROUTES 200000
#define CASE_FUEL_MAX 16

/* The parsed case, columns kept that the instance needs. Buses and branches
 * refer to buses by index (0..n_bus-1), not by number. */
typedef struct {
    double base_mva;
    int n_bus, n_gen, n_branch;
    int *bus_num;          /* (n_bus) bus_i */
    double *bus_pd;        /* (n_bus) MW */
    int *gen_bus;          /* (n_gen) bus index */
    double *gen_pmax;      /* (n_gen) MW */
    int *gen_on;           /* (n_gen) status > 0 */
    int *gen_line;         /* (n_gen) line of the gen row (for messages) */
    char (*gen_fuel)[CASE_FUEL_MAX]; /* (n_gen) "COW", "NG", ... or "" */
    double *gen_mc;        /* (n_gen) marginal cost at Pmax/2, $/MWh */
    int *br_from, *br_to;  /* (n_branch) bus indices */
    double *br_x;          /* (n_branch) |x| p.u. */
    int *br_on;            /* (n_branch) status > 0 */
} GridCase;

/* Parse text (len bytes) of a case file; name is used in messages. On error
 * gc is left zeroed. Free with case_free. */
int case_parse(GridCase *gc, const char *text, size_t len, const char *name, MgErr *e);
/* Read and parse the file at path. */
int case_load(GridCase *gc, const char *path, MgErr *e);
void case_free(GridCase *gc);

/* The transportation instance of a case. */
typedef struct {
    int n, m;
    char (*demand_id)[24]; /* (n) "busN" */
    char (*supply_id)[24]; /* (m) "genK" */
    int *demand_bus;       /* (n) bus index */
    int *supply_gen;       /* (m) generator index */
    double *pd;            /* (n) nominal demand, MW */
    double *pmax;          /* (m) capacity, MW */
    double *mc;            /* (m) marginal cost at Pmax/2 */
    int *fuel;             /* (m) index into fuel_names */
    int n_fuel;
    char (*fuel_names)[CASE_FUEL_MAX]; /* (n_fuel) distinct fuels, first seen first */
    double *dist;          /* (n*m) electrical distance, p.u. */
    double *c;             /* (n*m) unit cost: mc_j + transmission_cost * dist_ij */
    double total_demand, total_capacity;
    double cost_min, cost_max;
} GridModel;

/* Build the instance of gc with the given transmission cost. MG_EUSAGE
 * (message "NAME: problem") when there is no load or no generator, total
 * capacity is below total demand, a load cannot reach a generator over
 * in-service branches, or n*m exceeds CASE_MAX_ROUTES. Free with
 * case_model_free. */
int case_build(GridModel *gm, const GridCase *gc, double transmission_cost, const char *name,
               MgErr *e);
void case_model_free(GridModel *gm);
/* Index of a demand or supply id: 0..n-1 demand, n..n+m-1 supply, -1 none. */
int case_model_find(const GridModel *gm, const char *id);

#endif
