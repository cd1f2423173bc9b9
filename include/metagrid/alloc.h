/*
 * alloc.h — allocation metrics, feasibility repair and the greedy baseline.
 *
 * All functions work on one instance: d (n) demands, s (m) capacities,
 * c (n*m) unit costs, x (n*m) an allocation, row-major i (demand) then j.
 */
#ifndef METAGRID_ALLOC_H
#define METAGRID_ALLOC_H

#include <stddef.h>

/* An allocation is feasible when every relative violation is <= this. */
#define ALLOC_FEAS_TOL 1e-9

typedef struct {
    double cost;            /* sum c_ij x_ij */
    double gap;             /* (cost - opt) / max(|opt|, tiny): relative optimality gap */
    double viol_demand_abs; /* max_i |sum_j x_ij - d_i| */
    double viol_demand_rel; /* same relative to max(d_i, 1e-6 max_i d_i, 1e-12) */
    double viol_cap_abs;    /* max_j max(0, sum_i x_ij - s_j) */
    double viol_cap_rel;    /* relative to max(s_j, max_i d_i, 1e-12) */
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

/*
 * Polish: cost-improving local moves on a feasible allocation x (in place),
 * never increasing its cost and keeping it feasible (row sums, column loads
 * <= s, x >= 0; up to rounding). Each pass (at most `passes`, stopping early
 * when a pass finds nothing) runs
 *   1. slack moves, largest unit saving first: a row moves flow from its most
 *      expensive used supplier j to its cheapest supplier k with slack while
 *      c_ik < c_ij (amount min(x_ij, slack_k));
 *   2. one sweep of 2-row exchanges over ordered supplier pairs (j, k): row i
 *      moves j -> k and row i' moves k -> j (column loads unchanged) when
 *      (c_ij - c_ik) - (c_i'j - c_i'k) > 0.
 * Both are moves along cycles of length <= 4 of the transportation problem;
 * a pass costs O(n m) plus O(n + m) per slack move and O(m^2 + m * users)
 * for the exchange sweep. Deterministic (ties to the lowest index). Unit
 * savings below 1e-12 max|c| and slack below 1e-12 max s are ignored.
 * Returns the number of moves. work: alloc_polish_work_bytes(n, m) bytes
 * (NULL: allocated internally), aligned for double.
 */
int alloc_polish(int n, int m, const double *s /*(m)*/, const double *c /*(n*m)*/,
                 double *x /*(n*m)*/, int passes, void *work);
size_t alloc_polish_work_bytes(int n, int m);

#endif
