/*
 * lp.h — the transportation LP on GLPK.
 *
 *   minimise  sum_ij c_ij x_ij
 *   s.t.      sum_j x_ij  = d_i   (every demand met)       i < n
 *             sum_i x_ij <= s_j   (capacity)               j < m
 *             x >= 0
 *
 * An LpSolver holds one glp_prob of a fixed (n, m), built once; each solve
 * changes bounds and costs and re-solves with the dual simplex, optionally
 * from the previous basis (warm start). GLPK's terminal output is off, and a
 * GLPK internal error is caught by its error hook and returned as an error.
 */
#ifndef METAGRID_LP_H
#define METAGRID_LP_H

#include "metagrid/common.h"

typedef struct LpSolver LpSolver;

typedef enum {
    LP_DUAL_COLD = 0,   /* dual simplex from the standard basis */
    LP_PRIMAL_COLD = 1, /* primal simplex from the standard basis */
    LP_WARM = 2         /* dual simplex from the previous solve's basis */
} LpMethod;

typedef struct {
    double obj;   /* optimal cost */
    double *x;    /* (n*m) allocation, row-major i then j; caller-owned */
    double *u;    /* (n) duals of the demand rows (may be NULL) */
    double *v;    /* (m) duals of the capacity rows, <= 0 (may be NULL) */
    int iters;    /* simplex iterations */
} LpResult;

int lp_create(LpSolver **lp, int n, int m, MgErr *e);
void lp_destroy(LpSolver *lp);

/* Solve one instance d (n), s (m), c (n*m). `what` names the instance in
 * error messages (e.g. "task 12 instance 3"). Infeasible: MG_EFAIL with a
 * clear message; GLPK failure: MG_EFAIL. Non-finite or negative data:
 * MG_EFAIL naming the entry. LP_WARM falls back to a cold start when there is
 * no previous optimal basis (first solve, or after a failure). r->x entries
 * are clipped at 0 (simplex values can be -1e-16). */
int lp_solve(LpSolver *lp, const double *d, const double *s, const double *c,
             LpMethod method, LpResult *r, const char *what, MgErr *e);


/* For tests: raise a GLPK internal error inside the protected region; returns
 * the MG_EFAIL it becomes. The solver remains usable afterwards. */
int lp_debug_glpk_error(LpSolver *lp, const char *what, MgErr *e);

#endif
