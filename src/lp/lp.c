/*
 * lp.c — the transportation LP on GLPK (see lp.h).
 *
 * Layout of the GLPK problem (built once per (n, m)):
 *   rows 1..n        demand rows    sum_j x_ij = d_i   (GLP_FX)
 *   rows n+1..n+m    capacity rows  sum_i x_ij <= s_j  (GLP_UP)
 *   column i*m+j+1   x_ij >= 0, objective coefficient c_ij
 * Each solve only changes row bounds and objective coefficients, so the
 * constraint matrix (and, for warm starts, the basis and its factorisation)
 * survive from one instance to the next. Inside a task the costs are fixed,
 * so the previous optimal basis stays dual feasible and the dual simplex
 * (GLP_DUALP) typically needs only a few pivots to repair primal feasibility.
 *
 * Error handling: GLPK aborts the process on an internal error unless an
 * error hook performs a longjmp. Every GLPK call made here runs under a
 * setjmp; the hook jumps back, we call glp_free_env() (required by GLPK:
 * the environment is unusable afterwards) and report an MgErr naming the
 * instance. glp_free_env() frees every problem object of the process, so a
 * module-wide generation counter tells each LpSolver that its glp_prob is
 * gone and must be rebuilt on next use. GLPK's terminal output is captured
 * by a terminal hook (the last line goes into the error message) and never
 * printed.
 */
#include <glpk.h>
#include <math.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "metagrid/lp.h"

struct LpSolver {
    int n, m;
    glp_prob *P;
    unsigned gen;       /* lp_env_gen when P was built */
    int have_basis;     /* the last solve ended optimal: warm start allowed */
    int fast_hit, fast_miss; /* fast-path outcomes since the last cold solve */
    jmp_buf jb;
    char glpk_msg[400]; /* last text GLPK tried to print */
};

/* Bumped whenever glp_free_env() destroys every GLPK object. */
static unsigned lp_env_gen = 1;

static void lp_on_error(void *info)
{
    LpSolver *lp = info;
    longjmp(lp->jb, 1);
}

/* Swallow all terminal output; keep what GLPK printed since the last
 * reset (its error report: the message, then file and line) for messages. */
static int lp_on_term(void *info, const char *s)
{
    LpSolver *lp = info;
    size_t len = strlen(s), used = strlen(lp->glpk_msg);
    while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == ' ')) len--;
    if (len == 0) return 1;
    if (used > 0 && used + 2 < sizeof lp->glpk_msg) {
        memcpy(lp->glpk_msg + used, "; ", 2);
        used += 2;
    }
    if (used + len >= sizeof lp->glpk_msg) len = sizeof lp->glpk_msg - 1 - used;
    memcpy(lp->glpk_msg + used, s, len);
    lp->glpk_msg[used + len] = '\0';
    return 1;
}

static void lp_hooks_install(LpSolver *lp)
{
    glp_term_hook(lp_on_term, lp);
    glp_term_out(GLP_OFF);
    glp_error_hook(lp_on_error, lp);
}

/* Called after a longjmp out of GLPK: the environment must be freed. */
static void lp_after_glpk_error(LpSolver *lp)
{
    glp_free_env();
    lp_env_gen++;
    lp->P = NULL;
    lp->have_basis = 0;
}

/* Build the problem object; call under setjmp with hooks installed. */
static void lp_build(LpSolver *lp)
{
    int n = lp->n, m = lp->m, nc = n * m;
    glp_prob *P = glp_create_prob();
    lp->P = P;
    lp->gen = lp_env_gen;
    lp->have_basis = 0;
    glp_set_obj_dir(P, GLP_MIN);
    glp_add_rows(P, n + m);
    glp_add_cols(P, nc);
    for (int i = 0; i < n; i++) glp_set_row_bnds(P, i + 1, GLP_FX, 0.0, 0.0);
    for (int j = 0; j < m; j++) glp_set_row_bnds(P, n + j + 1, GLP_UP, 0.0, 0.0);
    int ind[3];
    double val[3] = {0.0, 1.0, 1.0};
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++) {
            int col = i * m + j + 1;
            glp_set_col_bnds(P, col, GLP_LO, 0.0, 0.0);
            ind[1] = i + 1;
            ind[2] = n + j + 1;
            glp_set_mat_col(P, col, 2, ind, val);
        }
}

int lp_create(LpSolver **out, int n, int m, MgErr *e)
{
    *out = NULL;
    if (n < 1 || m < 1 || (long)n * m > 10000000L)
        return mg_fail(e, MG_EUSAGE, "LP size %dx%d out of range", n, m);
    LpSolver *lp = mg_calloc(1, sizeof *lp);
    lp->n = n;
    lp->m = m;
    if (setjmp(lp->jb)) {
        lp_after_glpk_error(lp);
        int rc = mg_fail(e, MG_EFAIL, "GLPK failed building the %dx%d LP: %s", n, m,
                         lp->glpk_msg[0] ? lp->glpk_msg : "internal error");
        free(lp);
        return rc;
    }
    lp_hooks_install(lp);
    lp_build(lp);
    *out = lp;
    return MG_OK;
}

void lp_destroy(LpSolver *lp)
{
    if (!lp) return;
    if (lp->P && lp->gen == lp_env_gen) {
        if (!setjmp(lp->jb)) {
            lp_hooks_install(lp);
            glp_delete_prob(lp->P);
        } else {
            lp_after_glpk_error(lp);
        }
    }
    free(lp);
}


/* Data checks that GLPK would not make: finite, non-negative, feasible. */
static int lp_check_data(int n, int m, const double *d, const double *s, const double *c,
                         const char *what, MgErr *e)
{
    double sd = 0.0, ss = 0.0;
    for (int i = 0; i < n; i++) {
        if (!isfinite(d[i]) || d[i] < 0.0)
            return mg_fail(e, MG_EFAIL, "%s: demand d[%d] = %g is not a finite number >= 0",
                           what, i, d[i]);
        sd += d[i];
    }
    for (int j = 0; j < m; j++) {
        if (!isfinite(s[j]) || s[j] < 0.0)
            return mg_fail(e, MG_EFAIL, "%s: supply s[%d] = %g is not a finite number >= 0",
                           what, j, s[j]);
        ss += s[j];
    }
    for (long k = 0; k < (long)n * m; k++)
        if (!isfinite(c[k]))
            return mg_fail(e, MG_EFAIL, "%s: cost c[%ld] = %g is not finite", what, k, c[k]);
    /* A relative slack of 1e-12 absorbs rounding in sum(s) = rho * sum(d), rho = 1. */
    if (ss < sd * (1.0 - 1e-12))
        return mg_fail(e, MG_EFAIL,
                       "%s: infeasible instance (sum of supplies %.17g < sum of demands %.17g)",
                       what, ss, sd);
    return MG_OK;
}

static const char *lp_method_name(LpMethod method)
{
    switch (method) {
    case LP_DUAL_COLD: return "dual simplex (cold)";
    case LP_PRIMAL_COLD: return "primal simplex (cold)";
    case LP_WARM: return "dual simplex (warm)";
    }
    return "?";
}

/*
 * One simplex run on the current bounds/costs; call under setjmp. Returns
 * glp_simplex's code, or -1 when it ended without an optimal status.
 */
static int lp_run(LpSolver *lp, LpMethod method, int *status)
{
    glp_prob *P = lp->P;
    glp_smcp parm;
    glp_init_smcp(&parm);
    parm.msg_lev = GLP_MSG_OFF;
    parm.presolve = GLP_OFF;
    parm.meth = method == LP_PRIMAL_COLD ? GLP_PRIMAL : GLP_DUALP;
    /* Generous, but turns a pathological cycle into an error instead of a hang. */
    long lim = 100L * (lp->n + lp->m) + 20L * lp->n * lp->m + 1000;
    parm.it_lim = lim > 1000000000L ? 1000000000 : (int)lim;
    if (method != LP_WARM || !lp->have_basis || !glp_bf_exists(P)) glp_std_basis(P);
    int rc = glp_simplex(P, &parm);
    *status = glp_get_status(P);
    return rc;
}

/* The arguments of one protected GLPK session (kept out of registers
 * across setjmp by living behind a pointer). */
typedef struct {
    const double *d, *s, *c;
    LpMethod method;
    LpResult *r;
    int debug_error; /* lp_debug_glpk_error: provoke a GLPK error */
    int sx, status;  /* glp_simplex's return code and the final status */
} LpCall;

/*
 * Warm-start fast path: recompute the primal and dual values of the
 * previous optimal basis for the new bounds/costs (glp_warm_up, one
 * factorisation at most, no simplex set-up) and accept it when it is still
 * primal feasible (demands met, x >= 0 and capacities, within 1e-11 of the instance's
 * scale) and dual feasible (reduced costs >= -1e-11 of the cost scale).
 * Consecutive hours of a region often keep the same optimal basis.
 */
static int lp_basis_still_optimal(LpSolver *lp, const LpCall *call)
{
    glp_prob *P = lp->P;
    int n = lp->n, m = lp->m, nc = n * m;
    if (glp_warm_up(P) != 0) return 0;
    double dmax = 1e-300, cmax = 1e-300;
    for (int i = 0; i < n; i++) dmax = fmax(dmax, call->d[i]);
    for (int k = 0; k < nc; k++) cmax = fmax(cmax, fabs(call->c[k]));
    double tx = 1e-11 * dmax, tc = 1e-11 * cmax;
    for (int i = 0; i < n; i++)
        if (fabs(glp_get_row_prim(P, i + 1) - call->d[i]) > tx) return 0;
    for (int j = 0; j < m; j++)
        if (glp_get_row_prim(P, n + j + 1) > call->s[j] + tx) return 0;
    for (int k = 0; k < nc; k++) {
        if (glp_get_col_prim(P, k + 1) < -tx) return 0;
        if (glp_get_col_stat(P, k + 1) != GLP_BS && glp_get_col_dual(P, k + 1) < -tc) return 0;
    }
    for (int j = 0; j < m; j++)
        if (glp_get_row_stat(P, n + j + 1) != GLP_BS && glp_get_row_dual(P, n + j + 1) > tc)
            return 0;
    return 1;
}

/*
 * Everything that touches GLPK during a solve, under setjmp. Returns 0
 * (see call->sx/status for the outcome) or -1 after a GLPK internal error,
 * in which case the caller must run lp_after_glpk_error().
 */
static int lp_guarded(LpSolver *lp, LpCall *call)
{
    if (setjmp(lp->jb)) return -1;
    lp_hooks_install(lp);
    if (!lp->P || lp->gen != lp_env_gen) lp_build(lp);
    glp_prob *P = lp->P;
    int n = lp->n, m = lp->m, nc = n * m;
    if (call->debug_error) glp_set_row_bnds(P, n + m + 1, GLP_FX, 0.0, 0.0);
    for (int i = 0; i < n; i++) glp_set_row_bnds(P, i + 1, GLP_FX, call->d[i], call->d[i]);
    for (int j = 0; j < m; j++) glp_set_row_bnds(P, n + j + 1, GLP_UP, 0.0, call->s[j]);
    for (int k = 0; k < nc; k++) glp_set_obj_coef(P, k + 1, call->c[k]);

    int it0 = glp_get_it_cnt(P);
    /* The fast path is tried while it pays: always at first, then only if it
     * succeeded at least a quarter of the time since the last cold solve
     * (independent instances, as in `uniform`, rarely keep their basis).
     * The policy depends only on the current chain of warm solves. */
    int try_fast = call->method == LP_WARM && lp->have_basis &&
                   (lp->fast_miss < 2 || 3 * lp->fast_hit >= lp->fast_miss);
    if (call->method != LP_WARM || !lp->have_basis) lp->fast_hit = lp->fast_miss = 0;
    if (try_fast && lp_basis_still_optimal(lp, call)) {
        lp->fast_hit++;
        call->sx = 0;
        call->status = GLP_OPT;
    } else {
        lp->fast_miss += try_fast;
        call->sx = lp_run(lp, call->method, &call->status);
    }
    if ((call->sx != 0 || call->status != GLP_OPT) && call->method == LP_WARM) {
        lp->have_basis = 0; /* fall back to a cold start once */
        call->sx = lp_run(lp, LP_DUAL_COLD, &call->status);
    }
    if (call->sx != 0 || call->status != GLP_OPT) {
        lp->have_basis = 0;
        return 0;
    }
    lp->have_basis = 1;
    LpResult *r = call->r;
    r->iters = glp_get_it_cnt(P) - it0;
    r->obj = glp_get_obj_val(P);
    if (r->x)
        for (int k = 0; k < nc; k++) {
            double v = glp_get_col_prim(P, k + 1);
            r->x[k] = v > 0.0 ? v : 0.0; /* basic values can be -1e-16 */
        }
    if (r->u)
        for (int i = 0; i < n; i++) r->u[i] = glp_get_row_dual(P, i + 1);
    if (r->v)
        for (int j = 0; j < m; j++) r->v[j] = glp_get_row_dual(P, n + j + 1);
    return 0;
}

/*
 * Solve one instance. The data are checked first (finite, non-negative,
 * sum(s) >= sum(d)), so an infeasible instance is reported with the two
 * sums. A warm solve that fails retries once from the standard basis.
 */
int lp_solve(LpSolver *lp, const double *d, const double *s, const double *c,
             LpMethod method, LpResult *r, const char *what, MgErr *e)
{
    if (!what) what = "LP instance";
    int rc = lp_check_data(lp->n, lp->m, d, s, c, what, e);
    if (rc) return rc;
    lp->glpk_msg[0] = '\0';
    LpCall call = {.d = d, .s = s, .c = c, .method = method, .r = r};
    if (lp_guarded(lp, &call)) {
        lp_after_glpk_error(lp);
        return mg_fail(e, MG_EFAIL, "%s: GLPK internal error (%s): %s", what,
                       lp_method_name(method), lp->glpk_msg[0] ? lp->glpk_msg : "unknown");
    }
    if (call.sx != 0 || call.status != GLP_OPT) {
        if (call.status == GLP_NOFEAS || call.sx == GLP_ENOPFS)
            return mg_fail(e, MG_EFAIL, "%s: infeasible instance (GLPK: no primal feasible "
                           "solution)", what);
        return mg_fail(e, MG_EFAIL, "%s: GLPK %s did not reach an optimum (glp_simplex "
                       "returned %d, status %d)", what, lp_method_name(method), call.sx,
                       call.status);
    }
    return MG_OK;
}

/*
 * For tests: make GLPK raise an internal error (an out-of-range row index)
 * inside the protected region, exactly as a GLPK bug would. Returns the
 * resulting MG_EFAIL; the solver stays usable (its problem is rebuilt).
 */
int lp_debug_glpk_error(LpSolver *lp, const char *what, MgErr *e)
{
    int n = lp->n, m = lp->m;
    double *z = mg_calloc((size_t)n * m + n + m, sizeof(double));
    LpResult r = {0};
    LpCall call = {.d = z, .s = z + n, .c = z + n + m, .method = LP_DUAL_COLD, .r = &r,
                   .debug_error = 1};
    lp->glpk_msg[0] = '\0';
    int rc = MG_OK;
    if (lp_guarded(lp, &call)) {
        lp_after_glpk_error(lp);
        rc = mg_fail(e, MG_EFAIL, "%s: GLPK internal error: %s", what,
                     lp->glpk_msg[0] ? lp->glpk_msg : "unknown");
    }
    free(z);
    return rc;
}
