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
 * b_i). Coordinate moves alone stall where several suppliers must rise
 * together, so each ascent step is one sweep of exact coordinate moves over
 * j = 0..m-1 followed by one exact block move along 1_S, S the suppliers
 * reachable from the demand a max-flow over tight arcs leaves unrouted
 * (Hall's deficient set: the primal-dual step of the transportation
 * problem; the same line search with s(S) and the row minima inside and
 * outside S). Deterministic, O(n m^2 + m n log n) plus one max-flow per
 * step; a move is accepted only if the recomputed bound did not drop, so
 * the bound never decreases.
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

/* --- decode ------------------------------------------------------------- */

typedef struct {
    double *mu;    /* (n) row minimum of the reduced cost */
    double *rem;   /* (n) demand not yet routed */
    double *slack; /* (m) capacity not yet used */
    double *rep;   /* (n*m + n + m) alloc_repair scratch */
    int *order;    /* (m) suppliers by decreasing price */
    int *prev;     /* (n + m) BFS parent: demand -> supplier, supplier -> demand */
    int *queue;    /* (n + m) */
    int *dead;     /* (m) not reachable from unrouted demand at this level */
} DecodeWork;

static size_t align8(size_t b) { return (b + 7) & ~(size_t)7; }

size_t cert_decode_work_bytes(int n, int m)
{
    size_t nm = (size_t)n * m;
    return align8(sizeof(double) * ((size_t)n * 2 + m + nm + n + m)) +
           align8(sizeof(int) * ((size_t)2 * m + 2 * ((size_t)n + m)));
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
    w->dead = q + m + 2 * (n + m);
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

/*
 * Route as much of the remaining demand as the allowed arcs permit, filling
 * suppliers in decreasing price order: for each, first direct pushes from
 * demands with an allowed arc, then augmenting paths until none is left.
 * The suppliers a failed search does not reach stay unreachable for the
 * rest of the level (augmenting only shrinks the reachable set), so each is
 * skipped without a search. Returns the demand left unrouted.
 */
static double flow_level(Flow *f)
{
    int n = f->n, m = f->m;
    DecodeWork *w = f->w;
    for (int j = 0; j < m; j++) w->dead[j] = 0;
    for (int t = 0; t < m; t++) {
        int j = w->order[t];
        if (w->dead[j]) continue;
        for (int i = 0; i < n && w->slack[j] > f->ztol; i++) {
            if (!(w->rem[i] > f->ztol) || !arc_allowed(f, i, j)) continue;
            double amt = fmin(w->rem[i], w->slack[j]);
            f->x[(size_t)i * m + j] += amt;
            w->rem[i] -= amt;
            w->slack[j] -= amt;
        }
        while (w->slack[j] > f->ztol) {
            if (flow_augment(f, j) > 0.0) continue;
            for (int k = 0; k < m; k++) w->dead[k] |= w->prev[n + k] == -2;
            break;
        }
    }
    double left = 0.0;
    for (int i = 0; i < n; i++) left += w->rem[i];
    return left;
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
    long narcs_prev = -1;
    for (int lv = 0; lv <= nlev; lv++) {
        f.eps = lv < nlev ? levels[lv] * (lv == 0 ? scale : fmax(span, 1e-9 * scale))
                          : INFINITY;
        long narcs = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++) narcs += arc_allowed(&f, i, j);
        if (narcs == narcs_prev) continue; /* no new arcs: nothing new to route */
        narcs_prev = narcs;
        if (flow_level(&f) <= f.ztol * n) break;
    }
    int rc = alloc_repair(n, m, d, s, c, x, x, w.rep);
    free(zero);
    free(own);
    return rc;
}

/*
 * The block direction of cert_ascent: a max-flow over the arcs tight to
 * 1e-12 of the cost scale; when some demand is left over, in_s = the
 * suppliers reachable from it in the residual graph (Hall's deficient set:
 * their capacity is less than the demand that can only reach them, so
 * raising their prices together increases g). Returns 0 when the flow is
 * complete (no such set).
 */
static int ascent_deficit_set(int n, int m, const double *c, const double *d,
                              const double *s, const double *lambda, unsigned char *in_s,
                              void *mem)
{
    DecodeWork w;
    decode_work_split(n, m, mem, &w);
    double *x = w.rep; /* n*m, unused by the flow otherwise */
    double dsum = 0.0, scale = 0.0;
    for (int j = 0; j < m; j++) w.slack[j] = s[j] > 0.0 ? s[j] : 0.0;
    for (int i = 0; i < n; i++) {
        double mu = INFINITY;
        for (int j = 0; j < m; j++) {
            double r = c[(size_t)i * m + j] + price_of(lambda, j);
            mu = fmin(mu, r);
            scale = fmax(scale, fabs(r));
        }
        w.mu[i] = mu;
        dsum += w.rem[i] = d[i] > 0.0 ? d[i] : 0.0;
    }
    memset(x, 0, sizeof(double) * (size_t)n * m);
    Flow f = {.n = n, .m = m, .c = c, .lambda = lambda, .x = x, .w = &w,
              .eps = 1e-12 * scale, .ztol = 1e-12 * dsum};
    for (int j = 0; j < m; j++) w.order[j] = j;
    if (!(flow_level(&f) > f.ztol)) return 0;
    flow_augment(&f, -1); /* a full search from the demand left over */
    int any = 0;
    for (int j = 0; j < m; j++) {
        in_s[j] = w.prev[n + j] != -2;
        any |= in_s[j];
    }
    return any;
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

/*
 * The exact maximiser t of g(lambda + t 1_S) over t >= -min_{j in S} lambda_j
 * (see the file comment; S = {j} is the coordinate move). With
 * B_i = min_{j in S} r_ij and A_i = min_{k not in S} r_ik, the breakpoints
 * are b_i = A_i - B_i and the slope right of t is sum_{b_i > t} d_i - s(S).
 * Returns 0 when the maximiser is not finite (sum(s) < sum(d)).
 */
static double ascent_line(int n, int m, const double *c, const double *d, const double *s,
                          const double *lambda, const unsigned char *in_s, Brk *brk)
{
    double tmin = INFINITY, cap = 0.0;
    for (int j = 0; j < m; j++)
        if (in_s[j]) {
            tmin = fmin(tmin, price_of(lambda, j));
            cap += s[j] > 0.0 ? s[j] : 0.0;
        }
    tmin = -tmin;
    int nb = 0;
    double dtot = 0.0;
    for (int i = 0; i < n; i++) {
        if (!(d[i] > 0.0)) continue;
        const double *ci = c + (size_t)i * m;
        double a = INFINITY, bmin = INFINITY;
        for (int k = 0; k < m; k++) {
            double r = ci[k] + price_of(lambda, k);
            if (in_s[k]) bmin = fmin(bmin, r);
            else a = fmin(a, r);
        }
        double b = a - bmin; /* +Inf when S holds every supplier */
        if (!(b > tmin)) continue; /* never on S in the feasible range */
        brk[nb].b = b;
        brk[nb].d = d[i];
        dtot += d[i];
        nb++;
    }
    if (dtot <= cap) return tmin; /* the slope is <= 0 from tmin on */
    qsort(brk, (size_t)nb, sizeof *brk, brk_desc);
    double cum = 0.0;
    for (int t = 0; t < nb; t++) {
        cum += brk[t].d;
        if (cum > cap) return isfinite(brk[t].b) ? fmax(brk[t].b, tmin) : 0.0;
    }
    return tmin;
}

/* One instance, as cert_ascent's helpers pass it around. */
typedef struct {
    int n, m;
    const double *c, *d, *s;
} CertInst;

/* Move lambda_S by t if the recomputed bound does not drop; returns the bound. */
static double ascent_try(const CertInst *I, double *lambda, const unsigned char *in_s, double t,
                         double best, double *old)
{
    if (t == 0.0) return best;
    for (int j = 0; j < I->m; j++) {
        old[j] = lambda[j];
        if (in_s[j]) lambda[j] = fmax(0.0, lambda[j] + t);
    }
    double g = cert_lower_bound(I->n, I->m, I->c, I->d, I->s, lambda);
    if (g >= best) return g;
    memcpy(lambda, old, sizeof(double) * (size_t)I->m); /* rounding: never accept a drop */
    return best;
}

double cert_ascent(int n, int m, const double *c, const double *d, const double *s,
                   double *lambda, int steps)
{
    for (int j = 0; j < m; j++)
        if (!isfinite(lambda[j]) || !(lambda[j] > 0.0)) lambda[j] = 0.0;
    double best = cert_lower_bound(n, m, c, d, s, lambda);
    if (!isfinite(best) || n < 1 || m < 1) return best;
    Brk *brk = mg_malloc(sizeof(Brk) * (size_t)n);
    double *old = mg_malloc(sizeof(double) * ((size_t)m + (size_t)n * m));
    unsigned char *in_s = mg_calloc((size_t)m, 1);
    void *mem = mg_malloc(cert_decode_work_bytes(n, m));
    for (int it = 0; it < steps; it++) {
        double start = best;
        /* one sweep of exact coordinate moves, checked once at its end */
        memcpy(old + m, lambda, sizeof(double) * (size_t)m);
        for (int j = 0; j < m; j++) {
            memset(in_s, 0, (size_t)m);
            in_s[j] = 1;
            lambda[j] = fmax(0.0, lambda[j] + ascent_line(n, m, c, d, s, lambda, in_s, brk));
        }
        double g = cert_lower_bound(n, m, c, d, s, lambda);
        if (g >= best) best = g;
        else memcpy(lambda, old + m, sizeof(double) * (size_t)m); /* rounding */
        /* then one block move: raise together the suppliers that the demand
         * left over by a max-flow on tight arcs can reach */
        if (ascent_deficit_set(n, m, c, d, s, lambda, in_s, mem)) {
            double t = ascent_line(n, m, c, d, s, lambda, in_s, brk);
            CertInst I = {n, m, c, d, s};
            best = ascent_try(&I, lambda, in_s, t, best, old);
        }
        if (!(best > start)) break; /* a fixed point of both moves */
    }
    free(brk);
    free(old);
    free(in_s);
    free(mem);
    return best;
}
