/*
 * alloc.h — allocation metrics, feasibility repair and the greedy baseline.
 *
 * All functions work on one instance: d (n) demands, s (m) capacities,
 * c (n*m) unit costs, x (n*m) an allocation, row-major i (demand) then j.
 */
#ifndef METAGRID_ALLOC_H
#define METAGRID_ALLOC_H

/* An allocation is feasible when every relative violation is <= this. */
#define ALLOC_FEAS_TOL 1e-9

typedef struct {
    double cost;            /* sum c_ij x_ij */
    double gap;             /* (cost - opt) / max(|opt|, tiny): relative optimality gap */
    double viol_demand_abs; /* max_i |sum_j x_ij - d_i| */
    double viol_demand_rel; /* same relative to max(d_i, 1e-6 max_i d_i, 1e-12) */
    double viol_cap_abs;    /* max_j max(0, sum_i x_ij - s_j) */
    double viol_cap_rel;    /* relative to max(s_j, 1e-6 max_j s_j, 1e-12) */
    double viol_neg_abs;    /* max_ij max(0, -x_ij) */
    double viol_neg_rel;    /* relative to max_i d_i */
    double viol_max_rel;    /* largest of the relative violations */
    int feasible;           /* every relative violation <= ALLOC_FEAS_TOL */
} AllocMetrics;

/* Metrics of x against the optimum opt (pass NAN when unknown: gap = NAN).
 * A non-finite entry in x makes every violation +Inf (infeasible). */
void alloc_metrics(int n, int m, const double *d, const double *s, const double *c,
                   const double *x, double opt, AllocMetrics *out);

/*
 * Repair: a deterministic map from any x (NaN and negative entries allowed)
 * to a feasible allocation y (every demand met exactly, capacities respected,
 * y >= 0) whenever sum(s) >= sum(d). Returns 0, or -1 if sum(s) < sum(d)
 * (y is then the best effort). y may alias x. work: (n*m + n + m) doubles
 * scratch (NULL: allocated internally).
 */
int alloc_repair(int n, int m, const double *d, const double *s, const double *c,
                 const double *x, double *y, double *work);

/* Greedy rule baseline: cheapest arcs first within remaining capacity.
 * Feasible whenever sum(s) >= sum(d). Returns 0 or -1 as alloc_repair. */
int alloc_greedy(int n, int m, const double *d, const double *s, const double *c, double *x);

#endif
