/*
 * cert.h — capacity prices: the Lagrangian certificate and the decode of an
 * allocation from prices (src/lp/cert.c; LP layer).
 *
 * One transportation instance: d (n) demands, s (m) capacities, c (n*m) unit
 * costs row-major, prices lambda (m) >= 0 on the capacity rows. For any
 * lambda >= 0 the Lagrangian dual function
 *     g(lambda) = sum_i d_i * min_j (c_ij + lambda_j) - sum_j lambda_j s_j
 * is a lower bound on the optimum (weak duality), so (cost - g)/|g| is a
 * certified relative gap for any feasible allocation of that cost.
 */
#ifndef METAGRID_CERT_H
#define METAGRID_CERT_H

#include "metagrid/common.h"

/* g(lambda) as above; negative entries of lambda are treated as 0 (so the
 * result is always a valid bound). Non-finite input gives -INFINITY. */
double cert_lower_bound(int n, int m, const double *c /*(n*m)*/, const double *d /*(n)*/,
                        const double *s /*(m)*/, const double *lambda /*(m)*/);

/* Improve lambda in place by at most `steps` ascent steps on g (each: one
 * sweep of exact coordinate maximisations, then one exact block move raising
 * the prices of a deficient supplier set found by a max-flow over tight arcs;
 * bounded, deterministic, never lowers g; stops early at a fixed point).
 * Returns the best bound seen, and leaves in lambda the prices that attain it
 * (negative or non-finite entries are first set to 0). */
double cert_ascent(int n, int m, const double *c, const double *d, const double *s,
                   double *lambda /*(m), in/out*/, int steps);

/* Decode a feasible allocation x (n*m) from prices: every demand to its
 * cheapest arcs by reduced cost c_ij + lambda_j, a primal recovery over the
 * arcs within tolerance of their row's minimum, then alloc_repair. Feasible
 * whenever sum(s) >= sum(d); returns 0, or -1 when sum(s) < sum(d).
 * work: cert_decode_work_bytes(n, m) bytes (NULL: allocated internally). */
int cert_decode(int n, int m, const double *c, const double *d, const double *s,
                const double *lambda, double *x /*(n*m)*/, void *work);
size_t cert_decode_work_bytes(int n, int m);

#endif
