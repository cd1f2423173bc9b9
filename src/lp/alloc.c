/*
 * alloc.c — allocation metrics, feasibility repair and the greedy baseline
 * (see alloc.h).
 *
 * Repair is a closed-form deterministic map in three steps:
 *   1. clip: NaN, -Inf and negative entries become 0. A row holding +Inf
 *      entries becomes 1 on those entries and 0 elsewhere; other rows are
 *      divided by their largest entry (so huge values cannot overflow).
 *   2. scale each row to its demand: y_ij = d_i * y_ij / sum_j y_ij. A row
 *      with nothing left is spread proportionally to the capacities (or put
 *      on its cheapest arc when no supplier has capacity).
 *   3. overflow: for each over-capacity supplier j (ascending j), move its
 *      excess, one transfer at a time, along the cheapest detour: the row i
 *      (with y_ij > 0) and supplier k (with slack) minimising c_ik - c_ij;
 *      each transfer moves min(excess, y_ij, slack_k). Ties go to the lowest
 *      index. Each row's cheapest supplier with slack is cached and only
 *      recomputed when that supplier fills up (suppliers never regain slack).
 * Steps 1-2 leave every demand met exactly (up to rounding) and step 3 keeps
 * row sums; when sum(s) >= sum(d) there is always slack for the excess, so
 * the result is feasible. An already feasible allocation is left unchanged
 * up to rounding. Cost O(n m) plus O(n) per transfer and O(n m) per supplier
 * filled up.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metagrid/alloc.h"
#include "metagrid/common.h"

/*
 * Metrics of x: cost, gap against opt, and the largest absolute and relative
 * violation of each constraint class. Relative violations divide by
 * max(d_i, 1e-6 max_i d_i, 1e-12) (demand rows), max(s_j, max_i d_i, 1e-12)
 * (capacities: an overload is never judged against less than the largest
 * demand, so a supplier with almost no capacity, such as solar at night,
 * does not turn one unit of load into a violation of 1e6) and
 * max(max_i d_i, 1e-12) (negativity). A non-finite
 * entry of x makes every violation +Inf.
 */
void alloc_metrics(int n, int m, const double *d, const double *s, const double *c,
                   const double *x, double opt, AllocMetrics *out)
{
    memset(out, 0, sizeof *out);
    double dmax = 0.0, smax = 0.0, cost = 0.0;
    int bad = 0;
    for (int i = 0; i < n; i++) dmax = fmax(dmax, d[i]);
    for (int j = 0; j < m; j++) smax = fmax(smax, s[j]);
    for (int i = 0; i < n; i++) {
        double rs = 0.0;
        for (int j = 0; j < m; j++) {
            double v = x[(size_t)i * m + j];
            if (!isfinite(v)) bad = 1;
            rs += v;
            cost += c[(size_t)i * m + j] * v;
            if (-v > out->viol_neg_abs) out->viol_neg_abs = -v;
        }
        double a = fabs(rs - d[i]);
        double rel = a / fmax(fmax(d[i], 1e-6 * dmax), 1e-12);
        if (a > out->viol_demand_abs) out->viol_demand_abs = a;
        if (rel > out->viol_demand_rel) out->viol_demand_rel = rel;
    }
    for (int j = 0; j < m; j++) {
        double cs = 0.0;
        for (int i = 0; i < n; i++) cs += x[(size_t)i * m + j];
        double a = cs - s[j];
        if (a <= 0.0) continue;
        double rel = a / fmax(fmax(s[j], dmax), 1e-12);
        if (a > out->viol_cap_abs) out->viol_cap_abs = a;
        if (rel > out->viol_cap_rel) out->viol_cap_rel = rel;
    }
    out->viol_neg_rel = out->viol_neg_abs / fmax(dmax, 1e-12);
    if (bad) {
        out->viol_demand_abs = out->viol_demand_rel = INFINITY;
        out->viol_cap_abs = out->viol_cap_rel = INFINITY;
        out->viol_neg_abs = out->viol_neg_rel = INFINITY;
        cost = NAN;
    }
    out->cost = cost;
    out->gap = (cost - opt) / fmax(fabs(opt), 1e-12);
    out->viol_max_rel = fmax(out->viol_demand_rel, fmax(out->viol_cap_rel, out->viol_neg_rel));
    out->feasible = out->viol_max_rel <= ALLOC_FEAS_TOL;
}

static double clean_nonneg(double v) { return isfinite(v) && v > 0.0 ? v : 0.0; }

/* Steps 1-2 for row i: clip and scale the row of y to demand di. */
static void repair_row(int m, double di, const double *s, double ssum, const double *ci,
                       double *yi)
{
    int has_inf = 0;
    for (int j = 0; j < m; j++) has_inf |= yi[j] == INFINITY;
    double mx = 0.0;
    for (int j = 0; j < m; j++) {
        yi[j] = has_inf ? (yi[j] == INFINITY ? 1.0 : 0.0) : clean_nonneg(yi[j]);
        mx = fmax(mx, yi[j]);
    }
    double sum = 0.0;
    if (mx > 0.0)
        for (int j = 0; j < m; j++) sum += yi[j] /= mx;
    if (sum > 0.0) {
        for (int j = 0; j < m; j++) yi[j] *= di / sum;
    } else if (ssum > 0.0) {
        for (int j = 0; j < m; j++) yi[j] = di * (clean_nonneg(s[j]) / ssum);
    } else {
        int best = 0;
        for (int j = 1; j < m; j++)
            if (ci[j] < ci[best]) best = j;
        for (int j = 0; j < m; j++) yi[j] = j == best ? di : 0.0;
    }
}

/* Cheapest supplier with slack for row i (lowest index on ties), or -1. */
static int cheapest_slack(int m, const double *ci, const double *slack)
{
    int best = -1;
    for (int k = 0; k < m; k++)
        if (slack[k] > 0.0 && (best < 0 || ci[k] < ci[best])) best = k;
    return best;
}

int alloc_repair(int n, int m, const double *d, const double *s, const double *c,
                 const double *x, double *y, double *work)
{
    double *own = NULL;
    if (!work) work = own = mg_malloc(sizeof(double) * ((size_t)n * m + n + m));
    double *slack = work;         /* (m) s_j - load_j; < 0 when over capacity */
    double *bestk = work + m;     /* (n) cached cheapest supplier with slack */
    double sd = 0.0, ss = 0.0, smax = 0.0;
    for (int i = 0; i < n; i++) sd += clean_nonneg(d[i]);
    for (int j = 0; j < m; j++) {
        ss += clean_nonneg(s[j]);
        smax = fmax(smax, clean_nonneg(s[j]));
    }
    if (y != x) memcpy(y, x, sizeof(double) * (size_t)n * m);
    for (int i = 0; i < n; i++)
        repair_row(m, clean_nonneg(d[i]), s, ss, c + (size_t)i * m, y + (size_t)i * m);

    for (int j = 0; j < m; j++) slack[j] = clean_nonneg(s[j]);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++) slack[j] -= y[(size_t)i * m + j];
    /* Suppliers over capacity have slack < 0 and are never chosen as targets. */
    for (int i = 0; i < n; i++) bestk[i] = cheapest_slack(m, c + (size_t)i * m, slack);

    for (int j = 0; j < m; j++) {
        double thresh = 1e-13 * fmax(fmax(clean_nonneg(s[j]), 1e-6 * smax), 1e-300);
        while (-slack[j] > thresh) {
            int bi = -1;
            double bdelta = 0.0;
            for (int i = 0; i < n; i++) {
                int k = (int)bestk[i];
                if (k < 0 || y[(size_t)i * m + j] <= 0.0) continue;
                double delta = c[(size_t)i * m + k] - c[(size_t)i * m + j];
                if (bi < 0 || delta < bdelta) {
                    bi = i;
                    bdelta = delta;
                }
            }
            if (bi < 0) break; /* no slack anywhere: sum(s) < sum(d) */
            int k = (int)bestk[bi];
            double *yij = y + (size_t)bi * m + j;
            double t = fmin(-slack[j], fmin(*yij, slack[k]));
            if (t >= *yij) t = *yij;
            *yij -= t;
            y[(size_t)bi * m + k] += t;
            slack[j] += t;
            slack[k] -= t;
            if (!(slack[k] > 0.0)) {
                slack[k] = 0.0;
                for (int i = 0; i < n; i++)
                    if ((int)bestk[i] == k) bestk[i] = cheapest_slack(m, c + (size_t)i * m, slack);
            }
        }
    }
    free(own);
    return ss >= sd * (1.0 - 1e-12) ? 0 : -1;
}

typedef struct {
    double c;
    int k;
} Arc;

static int arc_cmp(const void *a, const void *b)
{
    const Arc *x = a, *y = b;
    if (x->c < y->c) return -1;
    if (x->c > y->c) return 1;
    return (x->k > y->k) - (x->k < y->k);
}

/*
 * Greedy baseline: arcs sorted by unit cost (ties by index, row-major), each
 * given as much as its demand row still needs and its supplier still has.
 * Every arc is visited, so when sum(s) >= sum(d) every demand is met.
 */
int alloc_greedy(int n, int m, const double *d, const double *s, const double *c, double *x)
{
    size_t nm = (size_t)n * m;
    Arc *arcs = mg_malloc(sizeof(Arc) * nm);
    double *rem = mg_malloc(sizeof(double) * ((size_t)n + m));
    double *need = rem, *have = rem + n, sd = 0.0, ss = 0.0;
    for (size_t k = 0; k < nm; k++) {
        arcs[k].c = isnan(c[k]) ? INFINITY : c[k];
        arcs[k].k = (int)k;
        x[k] = 0.0;
    }
    qsort(arcs, nm, sizeof(Arc), arc_cmp);
    for (int i = 0; i < n; i++) sd += need[i] = clean_nonneg(d[i]);
    for (int j = 0; j < m; j++) ss += have[j] = clean_nonneg(s[j]);
    for (size_t a = 0; a < nm; a++) {
        int i = arcs[a].k / m, j = arcs[a].k % m;
        double t = fmin(need[i], have[j]);
        if (t <= 0.0) continue;
        x[arcs[a].k] = t;
        need[i] -= t;
        have[j] -= t;
        if (need[i] < 1e-15 * d[i]) need[i] = 0.0;
    }
    free(arcs);
    free(rem);
    return ss >= sd * (1.0 - 1e-12) ? 0 : -1;
}

/* ---- polish -------------------------------------------------------------- */

/* Cheapest supplier of row i with slack above tol, or -1. */
static int polish_bestk(int m, const double *ci, const double *slack, double tol)
{
    int best = -1;
    for (int k = 0; k < m; k++)
        if (slack[k] > tol && (best < 0 || ci[k] < ci[best])) best = k;
    return best;
}

/* Most expensive supplier row i uses, or -1. */
static int polish_worstj(int m, const double *ci, const double *xi)
{
    int worst = -1;
    for (int j = 0; j < m; j++)
        if (xi[j] > 0.0 && (worst < 0 || ci[j] > ci[worst])) worst = j;
    return worst;
}

/*
 * Slack moves, largest saving first: each row's candidate is its most
 * expensive used supplier j and its cheapest supplier k with slack; the row
 * with the largest c_ij - c_ik moves min(x_ij, slack_k) from j to k. Caches
 * are updated per move (k full: rows aiming at k look again; j gained slack:
 * every row may now aim at j). Returns the number of moves.
 */
/* The state of alloc_polish: the problem, the allocation it improves, the
 * row caches and the tolerances. */
typedef struct {
    int n, m;
    const double *c;  /* (n, m) costs */
    double *x;        /* (n, m) the allocation */
    double *slack;    /* (m) unused supply */
    int *bestk;       /* (n) per row: cheapest supplier with slack, or -1 */
    int *worstj;      /* (n) per row: most expensive used supplier, or -1 */
    double stol, ctol; /* slack and cost tolerances */
} Polish;

static int polish_slack(Polish *P, int max_moves)
{
    const int n = P->n, m = P->m;
    const double *c = P->c, stol = P->stol, ctol = P->ctol;
    double *x = P->x, *slack = P->slack;
    int *bestk = P->bestk, *worstj = P->worstj;
    for (int i = 0; i < n; i++) {
        bestk[i] = polish_bestk(m, c + (size_t)i * m, slack, stol);
        worstj[i] = polish_worstj(m, c + (size_t)i * m, x + (size_t)i * m);
    }
    int moves = 0;
    while (moves < max_moves) {
        int bi = -1;
        double bsave = ctol;
        for (int i = 0; i < n; i++) {
            if (bestk[i] < 0 || worstj[i] < 0) continue;
            double sv = c[(size_t)i * m + worstj[i]] - c[(size_t)i * m + bestk[i]];
            if (sv > bsave) {
                bsave = sv;
                bi = i;
            }
        }
        if (bi < 0) break;
        int j = worstj[bi], k = bestk[bi];
        double *xi = x + (size_t)bi * m;
        double t = fmin(xi[j], slack[k]);
        if (t >= xi[j]) {
            t = xi[j];
            xi[j] = 0.0;
        } else {
            xi[j] -= t;
        }
        xi[k] += t;
        slack[j] += t;
        slack[k] -= t;
        moves++;
        if (!(slack[k] > stol))
            for (int i = 0; i < n; i++)
                if (bestk[i] == k) bestk[i] = polish_bestk(m, c + (size_t)i * m, slack, stol);
        if (slack[j] > stol)
            for (int i = 0; i < n; i++)
                if (bestk[i] < 0 || c[(size_t)i * m + j] < c[(size_t)i * m + bestk[i]])
                    bestk[i] = j;
        worstj[bi] = polish_worstj(m, c + (size_t)bi * m, xi);
    }
    return moves;
}

/*
 * One sweep of 2-row exchanges (4-cycles of the transportation tableau): for
 * each ordered supplier pair (j, k), the row i using j that saves most by
 * moving to k (max delta_i = c_ij - c_ik) and the row i' using k that loses
 * least by moving to j (min delta_i'); if delta_i - delta_i' > ctol, move
 * t = min(x_ij, x_i'k) around the cycle. Column loads are unchanged. Rows
 * using a supplier are found from per-column lists built once per sweep
 * (rows only gain suppliers j and k of a pair already visited or being
 * visited, and a stale list entry is re-checked against x > 0).
 */
static int polish_exchange(int n, int m, const double *c, double *x, int *cnt, int *rows,
                           double ctol)
{
    for (int j = 0; j < m; j++) cnt[j] = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++)
            if (x[(size_t)i * m + j] > 0.0) rows[(size_t)j * n + cnt[j]++] = i;
    int moves = 0;
    for (int j = 0; j < m; j++) {
        for (int k = 0; k < m; k++) {
            if (k == j) continue;
            for (int guard = 0; guard < n * m; guard++) {
                int bi = -1, bi2 = -1;
                double dmax = 0.0, dmin = 0.0;
                for (int a = 0; a < cnt[j]; a++) {
                    int i = rows[(size_t)j * n + a];
                    if (!(x[(size_t)i * m + j] > 0.0)) continue;
                    double dl = c[(size_t)i * m + j] - c[(size_t)i * m + k];
                    if (bi < 0 || dl > dmax) {
                        dmax = dl;
                        bi = i;
                    }
                }
                if (bi < 0) break;
                for (int a = 0; a < cnt[k]; a++) {
                    int i = rows[(size_t)k * n + a];
                    if (i == bi || !(x[(size_t)i * m + k] > 0.0)) continue;
                    double dl = c[(size_t)i * m + j] - c[(size_t)i * m + k];
                    if (bi2 < 0 || dl < dmin) {
                        dmin = dl;
                        bi2 = i;
                    }
                }
                if (bi2 < 0 || !(dmax - dmin > ctol)) break;
                double *xa = x + (size_t)bi * m, *xb = x + (size_t)bi2 * m;
                double t = fmin(xa[j], xb[k]);
                int a_empties = t >= xa[j], b_empties = t >= xb[k];
                xa[j] = a_empties ? 0.0 : xa[j] - t;
                xb[k] = b_empties ? 0.0 : xb[k] - t;
                if (xa[k] == 0.0) rows[(size_t)k * n + cnt[k]++] = bi;
                if (xb[j] == 0.0) rows[(size_t)j * n + cnt[j]++] = bi2;
                xa[k] += t;
                xb[j] += t;
                moves++;
                if (cnt[j] >= n || cnt[k] >= n) { /* lists full of stale rows: rebuild */
                    for (int q = 0; q < m; q++) cnt[q] = 0;
                    for (int i = 0; i < n; i++)
                        for (int q = 0; q < m; q++)
                            if (x[(size_t)i * m + q] > 0.0) rows[(size_t)q * n + cnt[q]++] = i;
                }
            }
        }
    }
    return moves;
}

int alloc_polish(int n, int m, const double *s, const double *c, double *x, int passes,
                 void *work)
{
    void *own = NULL;
    if (!work) work = own = mg_malloc(alloc_polish_work_bytes(n, m));
    double *slack = work;                  /* (m) */
    int *bestk = (int *)(slack + m);       /* (n) */
    int *worstj = bestk + n;               /* (n) */
    int *cnt = worstj + n;                 /* (m) */
    int *rows = cnt + m;                   /* (m*n) */
    double smax = 0.0, cmax = 0.0;
    for (int j = 0; j < m; j++) {
        slack[j] = clean_nonneg(s[j]);
        if (slack[j] > smax) smax = slack[j];
    }
    for (int i = 0; i < n; i++) {
        double *xi = x + (size_t)i * m;
        const double *ci = c + (size_t)i * m;
        for (int j = 0; j < m; j++) {
            if (!(xi[j] > 0.0)) xi[j] = 0.0;
            slack[j] -= xi[j];
            double a = ci[j] < 0 ? -ci[j] : ci[j];
            if (a > cmax && a < INFINITY) cmax = a;
        }
    }
    double stol = 1e-12 * smax, ctol = 1e-12 * cmax;
    int max_moves = 4 * (n + m), total = 0;
    for (int p = 0; p < passes; p++) {
        Polish P = {n, m, c, x, slack, bestk, worstj, stol, ctol};
        int mv = polish_slack(&P, max_moves);
        mv += polish_exchange(n, m, c, x, cnt, rows, ctol);
        total += mv;
        if (mv == 0) break;
    }
    free(own);
    return total;
}

size_t alloc_polish_work_bytes(int n, int m)
{
    return sizeof(double) * (size_t)m + sizeof(int) * ((size_t)2 * n + m + (size_t)n * m);
}
