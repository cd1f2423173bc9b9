/*
 * cert.c — the Lagrangian certificate of a transportation instance and the
 * decode of a feasible allocation from capacity prices (see cert.h).
 *
 * Bound. g(lambda) = sum_i d_i mu_i - sum_j lambda_j s_j with
 * mu_i = min_j (c_ij + lambda_j) is a lower bound for every lambda >= 0
 * (relax the capacity rows with multipliers lambda; what is left separates
 * by demand row). To stay valid in floating point, the returned value is
 * lowered by a bound on the rounding error of the sums ((n + m + 4) ulps of
 * the sum of magnitudes), far below any gap of interest.
 *
 * Ascent. g is concave and piecewise linear; along one coordinate j, with
 * a_i = min_{k != j} (c_ik + lambda_k) and b_i = a_i - c_ij,
 *     g(lambda_j) = const + sum_i d_i min(b_i, lambda_j) - lambda_j s_j,
 * whose right derivative sum_{b_i > lambda_j} d_i - s_j is non-increasing:
 * the exact maximiser is the smallest lambda_j >= 0 where the demand whose
 * breakpoint lies above lambda_j fits into s_j (a weighted quantile of the
 * b_i). One ascent step is one sweep of these exact coordinate moves over
 * j = 0..m-1: deterministic, O(n m^2 + m n log n), and it never lowers g
 * (each move is accepted only if the recomputed bound did not drop).
 *
 * Decode. With exact prices every optimal x uses only arcs of zero reduced
 * cost c_ij + lambda_j - mu_i and fills every supplier with lambda_j > 0
 * (complementary slackness); conversely for any x on such arcs
 *     cost(x) = sum_i d_i mu_i - sum_j lambda_j load_j,
 * so among flows on tight arcs the cheapest is the one maximising
 * sum_j lambda_j load_j. The loads reachable by flows that respect d and s
 * form a polymatroid, so the greedy rule is exact: take suppliers by
 * decreasing price and push as much flow into each as augmenting paths
 * allow (a path from a demand with demand left, over allowed arcs forward
 * and used arcs backward, to supplier j: the loads of the other suppliers
 * do not change). Arcs are allowed when their reduced cost is within
 * eps of their row minimum; demand still unmet (the prices were not exact)
 * is routed at growing eps (1e-9 up to the whole cost span, when every arc is
 * allowed and the flow is complete whenever sum(s) >= sum(d)). Finally
 * alloc_repair makes the result exactly feasible (a no-op up to rounding
 * when the flow is complete).
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metagrid/alloc.h"
#include "metagrid/cert.h"

static double price_of(const double *lambda, int j)
{
    double v = lambda[j];
    return v > 0.0 ? v : 0.0; /* NaN and negatives count as 0 */
}

double cert_lower_bound(int n, int m, const double *c, const double *d, const double *s,
                        const double *lambda)
{
    double g = 0.0, mag = 0.0;
    for (int j = 0; j < m; j++) {
        double l = lambda[j];
        if (!isfinite(l) || !isfinite(s[j])) return -INFINITY;
        l = l > 0.0 ? l : 0.0;
        g -= l * s[j];
        mag += fabs(l * s[j]);
    }
    for (int i = 0; i < n; i++) {
        const double *ci = c + (size_t)i * m;
        double mu = INFINITY;
        for (int j = 0; j < m; j++) {
            double r = ci[j] + price_of(lambda, j);
            if (!isfinite(r)) return -INFINITY;
            if (r < mu) mu = r;
        }
        if (!isfinite(d[i])) return -INFINITY;
        g += d[i] * mu;
        mag += fabs(d[i] * mu) + fabs(d[i]) * DBL_EPSILON * fabs(mu);
    }
    return g - (double)(n + m + 4) * DBL_EPSILON * mag;
}

/* --- ascent ------------------------------------------------------------- */

typedef struct {
    double b, d;
} Brk;

static int brk_desc(const void *pa, const void *pb)
{
    const Brk *a = pa, *b = pb;
    return (a->b < b->b) - (a->b > b->b);
}

/* The exact maximiser of g along coordinate j (see the file comment). */
static double ascent_coord(int n, int m, const double *c, const double *d, const double *s,
                           const double *lambda, int j, Brk *brk)
{
    int nb = 0;
    for (int i = 0; i < n; i++) {
        if (!(d[i] > 0.0)) continue;
        const double *ci = c + (size_t)i * m;
        double a = INFINITY;
        for (int k = 0; k < m; k++)
            if (k != j) a = fmin(a, ci[k] + price_of(lambda, k));
        brk[nb].b = a - ci[j]; /* +Inf when m == 1 */
        brk[nb].d = d[i];
        nb++;
    }
    qsort(brk, (size_t)nb, sizeof *brk, brk_desc);
    double cum = 0.0;
    for (int t = 0; t < nb; t++) {
        cum += brk[t].d;
        if (cum > s[j]) return isfinite(brk[t].b) && brk[t].b > 0.0 ? brk[t].b : 0.0;
    }
    return 0.0;
}

double cert_ascent(int n, int m, const double *c, const double *d, const double *s,
                   double *lambda, int steps)
{
    for (int j = 0; j < m; j++) lambda[j] = price_of(lambda, j);
    for (int j = 0; j < m; j++)
        if (!isfinite(lambda[j])) lambda[j] = 0.0;
    double best = cert_lower_bound(n, m, c, d, s, lambda);
    if (!isfinite(best) || n < 1 || m < 1) return best;
    Brk *brk = mg_malloc(sizeof(Brk) * (size_t)n);
    for (int it = 0; it < steps; it++) {
        double start = best;
        for (int j = 0; j < m; j++) {
            double old = lambda[j];
            lambda[j] = ascent_coord(n, m, c, d, s, lambda, j, brk);
            if (lambda[j] == old) continue;
            double g = cert_lower_bound(n, m, c, d, s, lambda);
            if (g >= best) best = g;
            else lambda[j] = old; /* rounding: never accept a drop */
        }
        if (!(best > start)) break; /* a fixed point of the sweep */
    }
    free(brk);
    return best;
}

/* --- decode ------------------------------------------------------------- */

typedef struct {
    double *mu;    /* (n) row minimum of the reduced cost */
    double *rem;   /* (n) demand not yet routed */
    double *slack; /* (m) capacity not yet used */
    double *rep;   /* (n*m + n + m) alloc_repair scratch */
    int *order;    /* (m) suppliers by decreasing price */
    int *prev;     /* (n + m) BFS parent: demand -> supplier, supplier -> demand */
    int *queue;    /* (n + m) */
} DecodeWork;

static size_t align8(size_t b) { return (b + 7) & ~(size_t)7; }

size_t cert_decode_work_bytes(int n, int m)
{
    size_t nm = (size_t)n * m;
    return align8(sizeof(double) * ((size_t)n * 2 + m + nm + n + m)) +
           align8(sizeof(int) * ((size_t)m + 2 * ((size_t)n + m)));
}

static void decode_work_split(int n, int m, void *mem, DecodeWork *w)
{
    double *p = mem;
    w->mu = p;
    w->rem = p + n;
    w->slack = p + 2 * n;
    w->rep = p + 2 * n + m;
    int *q = (int *)((char *)mem + align8(sizeof(double) * ((size_t)n * 2 + m +
                                                              (size_t)n * m + n + m)));
    w->order = q;
    w->prev = q + m;
    w->queue = q + m + n + m;
}

typedef struct {
    int n, m;
    const double *c, *lambda;
    double *x;
    DecodeWork *w;
    double eps;  /* allowed: c_ij + lambda_j <= mu_i + eps */
    double ztol; /* amounts at or below this are zero */
} Flow;

static int arc_allowed(const Flow *f, int i, int j)
{
    return f->c[(size_t)i * f->m + j] + price_of(f->lambda, j) <= f->w->mu[i] + f->eps;
}

/*
 * One augmenting path into supplier t: BFS from every demand with demand
 * left; demand i -> supplier k over an allowed arc, supplier k -> demand i'
 * backward over a used arc (x_i'k > 0). Returns the amount pushed (0: none).
 */
static double flow_augment(Flow *f, int t)
{
    int n = f->n, m = f->m, head = 0, tail = 0;
    int *prev = f->w->prev, *queue = f->w->queue;
    for (int v = 0; v < n + m; v++) prev[v] = -2;
    for (int i = 0; i < n; i++)
        if (f->w->rem[i] > f->ztol) {
            prev[i] = -1;
            queue[tail++] = i;
        }
    int found = 0;
    while (head < tail && !found) {
        int v = queue[head++];
        if (v < n) {
            for (int k = 0; k < m; k++) {
                if (prev[n + k] != -2 || !arc_allowed(f, v, k)) continue;
                prev[n + k] = v;
                if (k == t) { found = 1; break; }
                queue[tail++] = n + k;
            }
        } else {
            int k = v - n;
            for (int i = 0; i < n; i++)
                if (prev[i] == -2 && f->x[(size_t)i * m + k] > f->ztol) {
                    prev[i] = v;
                    queue[tail++] = i;
                }
        }
    }
    if (!found) return 0.0;
    /* Bottleneck: the slack of t, backward flows, the first demand's rest. */
    double amt = f->w->slack[t];
    int v = n + t;
    while (1) {
        int i = prev[v]; /* demand feeding supplier node v */
        int u = prev[i];
        if (u == -1) { amt = fmin(amt, f->w->rem[i]); break; }
        amt = fmin(amt, f->x[(size_t)i * m + (u - n)]);
        v = u;
    }
    v = n + t;
    while (1) {
        int i = prev[v], u = prev[i];
        f->x[(size_t)i * m + (v - n)] += amt;
        if (u == -1) { f->w->rem[i] -= amt; break; }
        f->x[(size_t)i * m + (u - n)] -= amt;
        v = u;
    }
    f->w->slack[t] -= amt;
    return amt;
}

/* Suppliers by decreasing price, ties by index (insertion sort: m is small). */
static void decode_order(int m, const double *lambda, int *order)
{
    for (int j = 0; j < m; j++) {
        int t = j;
        while (t > 0 && price_of(lambda, order[t - 1]) < price_of(lambda, j)) {
            order[t] = order[t - 1];
            t--;
        }
        order[t] = j;
    }
}

int cert_decode(int n, int m, const double *c, const double *d, const double *s,
                const double *lambda, double *x, void *work)
{
    void *own = NULL;
    if (!work) work = own = mg_malloc(cert_decode_work_bytes(n, m));
    DecodeWork w;
    decode_work_split(n, m, work, &w);
    double dsum = 0.0, cmin = INFINITY, cmax = -INFINITY, lmax = 0.0;
    for (int j = 0; j < m; j++) {
        double l = price_of(lambda, j);
        if (isfinite(l)) lmax = fmax(lmax, l);
        w.slack[j] = isfinite(s[j]) && s[j] > 0.0 ? s[j] : 0.0;
    }
    int finite_prices = 1;
    for (int j = 0; j < m; j++) finite_prices &= isfinite(price_of(lambda, j));
    /* Non-finite prices: decode from zero prices (cheapest arcs first). */
    double *zero = NULL;
    if (!finite_prices) {
        zero = mg_calloc((size_t)m, sizeof(double));
        lambda = zero;
        lmax = 0.0;
    }
    for (int i = 0; i < n; i++) {
        const double *ci = c + (size_t)i * m;
        double mu = INFINITY;
        for (int j = 0; j < m; j++) {
            mu = fmin(mu, ci[j] + price_of(lambda, j));
            cmin = fmin(cmin, ci[j]);
            cmax = fmax(cmax, ci[j]);
        }
        w.mu[i] = mu;
        w.rem[i] = isfinite(d[i]) && d[i] > 0.0 ? d[i] : 0.0;
        dsum += w.rem[i];
    }
    memset(x, 0, sizeof(double) * (size_t)n * m);
    decode_order(m, lambda, w.order);
    double span = (cmax - cmin) + lmax;
    double scale = fmax(fmax(fabs(cmax), fabs(cmin)) + lmax, 1e-300);
    Flow f = {.n = n, .m = m, .c = c, .lambda = lambda, .x = x, .w = &w,
              .ztol = 1e-15 * dsum};
    static const double levels[] = {1e-9, 1e-6, 1e-4, 1e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0};
    int nlev = (int)(sizeof levels / sizeof levels[0]);
    for (int lv = 0; lv <= nlev; lv++) {
        f.eps = lv < nlev ? levels[lv] * (lv == 0 ? scale : fmax(span, 1e-9 * scale))
                          : INFINITY;
        for (int t = 0; t < m; t++) {
            int j = w.order[t];
            while (w.slack[j] > f.ztol && flow_augment(&f, j) > 0.0) {}
        }
        double left = 0.0;
        for (int i = 0; i < n; i++) left += w.rem[i];
        if (left <= f.ztol * n) break;
    }
    int rc = alloc_repair(n, m, d, s, c, x, x, w.rep);
    free(zero);
    free(own);
    return rc;
}
