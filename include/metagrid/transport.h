/*
 * transport.h — an exact transportation simplex started from capacity prices
 * (src/lp/transport.c; LP layer).
 *
 *   minimise  sum_ij c_ij x_ij   s.t.  sum_j x_ij = d_i,  sum_i x_ij <= s_j,  x >= 0
 *
 * the instance of lp.h, solved by the primal transportation simplex (MODI:
 * potentials on a spanning-tree basis, most negative reduced cost of a block
 * of rows — all rows up to 4096 routes —, cycle pivots) on the balanced
 * problem with one slack row. The start is a crash on the reduced
 * costs c_ij + lambda_j of given prices: with the exact capacity prices the
 * crash is already optimal or a few pivots away, with zero prices it is the
 * cold row-minimum start. So the same solver runs warm from learned prices,
 * from the previous hour's prices or cold, and the pivot count measures how
 * good a start the prices were. At the end lambda_out are the optimal
 * capacity prices (>= 0), and cert_lower_bound of them is the optimum up to
 * rounding: every answer carries its certificate.
 */
#ifndef METAGRID_TRANSPORT_H
#define METAGRID_TRANSPORT_H

#include "metagrid/common.h"

typedef struct TransportSolver TransportSolver;

typedef struct {
    double obj;  /* cost of the returned x */
    int pivots;  /* simplex pivots after the crash */
    int degenerate; /* of which moved no flow (theta = 0) */
    int optimal; /* 1: no reduced cost below -tolerance; 0: stopped at max_pivots */
} TransportResult;

/* A solver for one shape (n demands, m suppliers); all memory is allocated
 * here, none per solve. max_pivots <= 0: 50 (n + m) + 1000. */
TransportSolver *transport_create(int n, int m, int max_pivots);
void transport_destroy(TransportSolver *T);

/* Solve d (n), s (m), c (n*m) from the crash on prices lambda (m; NULL or
 * non-finite/negative entries count as 0). x (n*m) is a feasible allocation
 * (every demand met, every capacity kept, up to rounding) whenever the call
 * returns 0, optimal when r->optimal; lambda_out (m, may be NULL) the prices
 * of the final basis (optimal when r->optimal, a valid input to
 * cert_lower_bound in every case). Returns -1, x untouched, when
 * sum(s) < sum(d), n or m < 1, an entry of d or s is negative, an entry of
 * d, s, c is not finite, or the data are so large that a sum would overflow
 * (sum(s) or (2 (n + m) + 3) max|c_ij| max(sum(s), 1) not finite).
 * Negative costs are allowed. Flows are exact up to the rounding of sum(s):
 * a capacity below about 1e-16 sum(s) can be lost (cost up to max|c| times
 * that). Not thread-safe (the crash sorts through a file-scope key). */
int transport_solve(TransportSolver *T, const double *d, const double *s, const double *c,
                    const double *lambda, double *x, double *lambda_out, TransportResult *r);

#endif
