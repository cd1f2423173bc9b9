/*
 * transport.c — the transportation simplex from a price crash (see
 * transport.h).
 *
 * Balanced form. Rows 0..n-1 are the demands (row total d_i), row n is the
 * slack row (total sum(s) - sum(d), cost 0: unused capacity), columns are the
 * suppliers (total s_j). A basis is a spanning tree of the n + 1 + m nodes
 * with n + m cells; its flows are fixed by the totals and its potentials by
 * u_i + v_j = cost_ij on basic cells with u_n = 0. Then for every cell the
 * reduced cost is cost_ij - u_i - v_j, and the capacity prices are
 * lambda_j = -v_j (the slack cells' reduced costs), u_i = min_j (c_ij +
 * lambda_j) at an optimum.
 *
 * Crash. Rows in decreasing regret (second-smallest minus smallest reduced
 * cost c_ij + lambda_j), the slack row last with reduced costs lambda_j; each
 * row fills its cheapest live columns in turn; every allocation retires
 * exactly one line (the one it exhausts; a row when both are, unless it is
 * the last live row), the last allocation both. Each retired line receives
 * no later cell and the other line of its cell is retired later, so read
 * backwards every cell attaches a new leaf: the n + m cells form a spanning
 * tree, possibly with zero flows (degenerate), and the flows are feasible.
 * With exact prices every demand's cheapest column is an optimal one, and
 * the crash differs from an optimum only around the split demands.
 *
 * Pivots. The entering cell is the most negative reduced cost of a block
 * of rows: all rows up to 4096 cells, above that about an eighth of them
 * (at least 4), taken round-robin from where the last search stopped (a
 * full Dantzig scan costs O(n m) per pivot; on 191 x 57 the blocks are
 * several times faster per solve). The tree path between its row and
 * column closes a cycle whose cells alternate -theta, +theta starting next
 * to either end; theta is the smallest flow on a minus cell, which leaves
 * (the first found on ties). The tree (parents, depths, potentials) is
 * kept from pivot to pivot: the subtree cut off by the leaving arc is re-hung
 * from the entering arc by a BFS over linked adjacency lists (its potentials
 * shift), so a pivot costs its pricing block plus that subtree. A pivot count cap guards against degenerate
 * cycling (not seen in the tests); the result is then feasible, not optimal.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metagrid/transport.h"

struct TransportSolver {
    int n, m, max_pivots;
    double eps;          /* crash: reduced costs this close are ties */
    int block, next_row; /* partial pricing: rows per block, where the next starts */
    int rows, nodes, nb; /* n + 1, n + 1 + m, n + m */
    double *x;           /* ((n+1)*m) flows of the balanced problem */
    double *pot;         /* (nodes) u_0..u_n, then v_0..v_{m-1} */
    double *rrem, *crem; /* (n+1), (m) crash remainders */
    double *lam;         /* (m) the crash's prices, cleaned */
    int *bcell;          /* (nb) basic cells i*m + j, by basis position */
    int *brow, *bcol;    /* (nb) their row and column (no divisions in the loops) */
    int *cellpos;        /* ((n+1)*m) basis position, or -1 */
    int *par, *pbas, *depth, *queue; /* (nodes) the tree from the slack row: parent,
                                      * basis position of the arc to it, depth */
    int *head;           /* (nodes) adjacency: first slot, -1 = none */
    int *nxt, *prv;      /* (2 nb) doubly linked slots; slot 2b is position b's */
                         /* arc seen from its row, 2b + 1 from its column */
    unsigned *stamp, epoch; /* (nodes) BFS visits (epoch_next: no wrap-around) */
    int *path_a, *path_b; /* (nodes) cycle cells from either end */
    int *row_order;      /* (n) by decreasing regret */
    double *regret;      /* (n) */
    unsigned char *col_live; /* (m) */
    void *mem;           /* the one allocation all of the above point into */
};

/* Hand out the next count elements of size bytes from the one block. */
static void *carve(char **at, size_t count, size_t size)
{
    void *p = *at;
    *at += count * size;
    return p;
}

TransportSolver *transport_create(int n, int m, int max_pivots)
{
    TransportSolver *T = mg_calloc(1, sizeof *T);
    T->n = n;
    T->m = m;
    T->rows = n + 1;
    T->nodes = n + 1 + m;
    T->nb = n + m;
    T->max_pivots = max_pivots > 0 ? max_pivots : 50 * (n + m) + 1000;
    /* small problems price fully (fewer pivots pay), large ones in blocks */
    T->block = (size_t)T->rows * m <= 4096 ? T->rows : T->rows / 8 > 4 ? T->rows / 8 : 4;
    size_t cells = (size_t)(n + 1) * m, nodes = (size_t)T->nodes, nb = (size_t)T->nb;
    size_t nd = cells + nodes + (size_t)(n + 1) + 2 * (size_t)m + (size_t)n; /* doubles */
    size_t ni = 3 * nb + cells + 8 * nodes + 4 * nb + (size_t)n;         /* ints */
    char *at = T->mem = mg_calloc(1, nd * sizeof(double) + ni * sizeof(int) + (size_t)m);
    T->x = carve(&at, cells, sizeof(double));
    T->pot = carve(&at, nodes, sizeof(double));
    T->rrem = carve(&at, (size_t)n + 1, sizeof(double));
    T->crem = carve(&at, (size_t)m, sizeof(double));
    T->lam = carve(&at, (size_t)m, sizeof(double));
    T->regret = carve(&at, (size_t)n, sizeof(double));
    T->bcell = carve(&at, nb, sizeof(int));
    T->brow = carve(&at, nb, sizeof(int));
    T->bcol = carve(&at, nb, sizeof(int));
    T->cellpos = carve(&at, cells, sizeof(int));
    T->par = carve(&at, nodes, sizeof(int));
    T->pbas = carve(&at, nodes, sizeof(int));
    T->depth = carve(&at, nodes, sizeof(int));
    T->queue = carve(&at, nodes, sizeof(int));
    T->head = carve(&at, nodes, sizeof(int));
    T->stamp = carve(&at, nodes, sizeof(unsigned));
    T->path_a = carve(&at, nodes, sizeof(int));
    T->path_b = carve(&at, nodes, sizeof(int));
    T->nxt = carve(&at, 2 * nb, sizeof(int));
    T->prv = carve(&at, 2 * nb, sizeof(int));
    T->row_order = carve(&at, (size_t)n, sizeof(int));
    T->col_live = carve(&at, (size_t)m, 1);
    return T;
}

void transport_destroy(TransportSolver *T)
{
    if (!T) return;
    free(T->mem);
    free(T);
}

static double cost_of(const TransportSolver *T, const double *c, int i, int j)
{
    return i < T->n ? c[(size_t)i * T->m + j] : 0.0;
}

/* --- crash --------------------------------------------------------------- */

/* Demand rows by decreasing regret (second-smallest minus smallest reduced
 * cost), ties by index. */
static const double *regret_key; /* qsort has no context argument */
static int regret_desc(const void *pa, const void *pb)
{
    int a = *(const int *)pa, b = *(const int *)pb;
    double ra = regret_key[a], rb = regret_key[b];
    ra = ra == ra ? ra : -INFINITY; /* NaN (absurd start prices) last: a consistent order */
    rb = rb == rb ? rb : -INFINITY;
    return ra > rb ? -1 : ra < rb ? 1 : (a > b) - (a < b);
}

static void crash_order(TransportSolver *T, const double *c)
{
    int n = T->n, m = T->m;
    for (int i = 0; i < n; i++) {
        double a = INFINITY, b = INFINITY;
        for (int j = 0; j < m; j++) {
            double r = c[(size_t)i * m + j] + T->lam[j];
            if (r < a) { b = a; a = r; }
            else if (r < b) b = r;
        }
        T->regret[i] = m > 1 ? b - a : 0.0;
        T->row_order[i] = i;
    }
    regret_key = T->regret;
    qsort(T->row_order, (size_t)n, sizeof(int), regret_desc);
}

static int cheapest_live(const TransportSolver *T, const double *c, int i)
{
    int best = -1;
    double br = INFINITY;
    for (int j = 0; j < T->m; j++) {
        if (!T->col_live[j]) continue;
        double r = cost_of(T, c, i, j) + T->lam[j];
        if (best < 0 || r < br - T->eps) { best = j; br = r; continue; }
        if (r > br + T->eps) continue;
        if (T->lam[j] > T->lam[best] || (T->lam[j] == T->lam[best] && T->crem[j] > T->crem[best])) {
            best = j;
            br = fmin(br, r);
        }
    }
    return best;
}

/* Fill row i from its cheapest live columns until the row is retired. */
static void crash_row(TransportSolver *T, const double *c, int i, int *live_rows,
                      int *live_cols)
{
    int m = T->m;
    while (1) {
        int j = cheapest_live(T, c, i);
        double amt = fmin(T->rrem[i], T->crem[j]);
        int k = i * m + j;
        T->x[k] = amt;
        T->cellpos[k] = T->nb;
        T->brow[T->nb] = i;
        T->bcol[T->nb] = j;
        T->bcell[T->nb++] = k;
        int row_done = T->rrem[i] <= T->crem[j];
        T->rrem[i] = row_done ? 0.0 : T->rrem[i] - amt;
        T->crem[j] = row_done ? T->crem[j] - amt : 0.0;
        if (*live_rows == 1 && *live_cols == 1) { /* the last cell retires both */
            T->col_live[j] = 0;
            (*live_cols)--;
            (*live_rows)--;
            return;
        }
        if ((row_done && *live_rows > 1) || *live_cols == 1) {
            (*live_rows)--;
            return;
        }
        T->col_live[j] = 0;
        (*live_cols)--;
    }
}

static void crash(TransportSolver *T, const double *d, const double *s, const double *c,
                  double slack_total)
{
    int n = T->n, m = T->m;
    memset(T->x, 0, sizeof(double) * (size_t)T->rows * m);
    for (int k = 0; k < T->rows * m; k++) T->cellpos[k] = -1;
    for (int i = 0; i < n; i++) T->rrem[i] = d[i];
    T->rrem[n] = slack_total;
    for (int j = 0; j < m; j++) {
        T->crem[j] = s[j];
        T->col_live[j] = 1;
    }
    crash_order(T, c);
    int live_rows = T->rows, live_cols = m;
    T->nb = 0;
    for (int t = 0; t < n; t++) crash_row(T, c, T->row_order[t], &live_rows, &live_cols);
    crash_row(T, c, n, &live_rows, &live_cols);
    MG_ASSERT(T->nb == n + m && live_rows == 0 && live_cols == 0);
}

/* --- the tree ------------------------------------------------------------ */

/* The node at the other end of slot sl (rows 0..n, columns rows + j). */
static int slot_to(const TransportSolver *T, int sl)
{
    int b = sl >> 1;
    return sl & 1 ? T->brow[b] : T->rows + T->bcol[b];
}

static void slot_link(TransportSolver *T, int v, int sl)
{
    T->prv[sl] = -1;
    T->nxt[sl] = T->head[v];
    if (T->head[v] >= 0) T->prv[T->head[v]] = sl;
    T->head[v] = sl;
}

static void slot_unlink(TransportSolver *T, int v, int sl)
{
    if (T->prv[sl] >= 0) T->nxt[T->prv[sl]] = T->nxt[sl];
    else T->head[v] = T->nxt[sl];
    if (T->nxt[sl] >= 0) T->prv[T->nxt[sl]] = T->prv[sl];
}

static double basic_cost(const TransportSolver *T, const double *c, int b)
{
    return T->brow[b] < T->n ? c[(size_t)T->brow[b] * T->m + T->bcol[b]] : 0.0;
}

/* A fresh BFS mark; on wrap-around every stamp is cleared first. */
static void epoch_next(TransportSolver *T)
{
    if (++T->epoch == 0) {
        memset(T->stamp, 0, sizeof(unsigned) * (size_t)T->nodes);
        T->epoch = 1;
    }
}

/* Hang the nodes reachable from `start` (not yet visited in this epoch)
 * below it by a BFS: parents, depths, potentials. */
static void tree_hang(TransportSolver *T, const double *c, int start)
{
    int head = 0, tail = 0;
    T->queue[tail++] = start;
    while (head < tail) {
        int v = T->queue[head++];
        for (int sl = T->head[v]; sl >= 0; sl = T->nxt[sl]) {
            int w = slot_to(T, sl);
            if (T->stamp[w] == T->epoch) continue;
            T->stamp[w] = T->epoch;
            T->par[w] = v;
            T->pbas[w] = sl >> 1;
            T->depth[w] = T->depth[v] + 1;
            T->pot[w] = basic_cost(T, c, sl >> 1) - T->pot[v];
            T->queue[tail++] = w;
        }
    }
}

/* The crash's tree from scratch, rooted at the slack row (u_n = 0). */
static void tree_build(TransportSolver *T, const double *c)
{
    int N = T->nodes, root = T->n;
    for (int v = 0; v < N; v++) T->head[v] = -1;
    for (int b = 0; b < T->nb; b++) {
        slot_link(T, T->brow[b], 2 * b);
        slot_link(T, T->rows + T->bcol[b], 2 * b + 1);
    }
    epoch_next(T);
    T->stamp[root] = T->epoch;
    T->par[root] = T->pbas[root] = -1;
    T->depth[root] = 0;
    T->pot[root] = 0.0;
    tree_hang(T, c, root);
    for (int v = 0; v < N; v++) MG_ASSERT(T->stamp[v] == T->epoch); /* spanning */
}

/* Basis position pos leaves, cell (p, q) enters at it: the subtree that hung
 * below the leaving arc is re-hung from the entering arc's end inside it
 * (its potentials shift; nothing else changes). */
static void tree_replace(TransportSolver *T, const double *c, int pos, int p, int q)
{
    int u = T->brow[pos], v = T->rows + T->bcol[pos];
    int child = T->par[u] == v && T->pbas[u] == pos ? u : v;
    int a = p, b = T->rows + q; /* which end of the entering arc is below child? */
    int w = a;
    while (T->depth[w] > T->depth[child]) w = T->par[w];
    int in = w == child ? a : b, out = in == a ? b : a;
    slot_unlink(T, u, 2 * pos);
    slot_unlink(T, v, 2 * pos + 1);
    T->brow[pos] = p;
    T->bcol[pos] = q;
    slot_link(T, p, 2 * pos);
    slot_link(T, T->rows + q, 2 * pos + 1);
    epoch_next(T);
    T->stamp[out] = T->stamp[in] = T->epoch;
    T->par[in] = out;
    T->pbas[in] = pos;
    T->depth[in] = T->depth[out] + 1;
    T->pot[in] = basic_cost(T, c, pos) - T->pot[out];
    tree_hang(T, c, in);
}

/* Partial pricing: rows are scanned in blocks of T->block, round-robin from
 * where the last search stopped; the most negative reduced cost below -tol
 * in the first block that has one enters. -1 when a full round finds none
 * (optimal). */
static int price_entering(TransportSolver *T, const double *c, double tol)
{
    int m = T->m, R = T->rows;
    for (int done = 0; done < R; done += T->block) {
        int best = -1;
        double br = -tol;
        for (int b = 0; b < T->block && done + b < R; b++) {
            int i = (T->next_row + b) % R;
            double u = T->pot[i];
            const double *ci = i < T->n ? c + (size_t)i * m : NULL;
            for (int j = 0; j < m; j++) {
                double r = (ci ? ci[j] : 0.0) - u - T->pot[R + j];
                if (r < br && T->cellpos[i * m + j] < 0) {
                    br = r;
                    best = i * m + j;
                }
            }
        }
        T->next_row = (T->next_row + T->block) % R;
        if (best >= 0) return best;
    }
    return -1;
}

/* Pivot cell (p, q) into the basis along its cycle; returns theta. */
static double pivot(TransportSolver *T, const double *c, int p, int q)
{
    int m = T->m, k = p * m + q;
    int a = p, b = T->rows + q, na = 0, nb = 0;
    while (T->depth[a] > T->depth[b]) { T->path_a[na++] = T->pbas[a]; a = T->par[a]; }
    while (T->depth[b] > T->depth[a]) { T->path_b[nb++] = T->pbas[b]; b = T->par[b]; }
    while (a != b) {
        T->path_a[na++] = T->pbas[a];
        a = T->par[a];
        T->path_b[nb++] = T->pbas[b];
        b = T->par[b];
    }
    /* minus cells: even positions counted from either end */
    double theta = INFINITY;
    int leave = -1;
    for (int side = 0; side < 2; side++) {
        const int *path = side ? T->path_b : T->path_a;
        for (int t = 0; t < (side ? nb : na); t += 2)
            if (T->x[T->bcell[path[t]]] < theta) {
                theta = T->x[T->bcell[path[t]]];
                leave = path[t];
            }
    }
    for (int side = 0; side < 2; side++) {
        const int *path = side ? T->path_b : T->path_a;
        for (int t = 0; t < (side ? nb : na); t++) {
            double *xc = &T->x[T->bcell[path[t]]];
            *xc = t % 2 ? *xc + theta : *xc - theta;
        }
    }
    int kl = T->bcell[leave];
    T->x[kl] = 0.0;
    T->x[k] = theta;
    T->bcell[leave] = k;
    T->cellpos[k] = leave;
    T->cellpos[kl] = -1;
    tree_replace(T, c, leave, p, q);
    return theta;
}

/* --- solve --------------------------------------------------------------- */

static int inputs_ok(const TransportSolver *T, const double *d, const double *s,
                     const double *c, double *slack_total)
{
    double sd = 0.0, ss = 0.0;
    if (T->n < 1 || T->m < 1) return 0;
    for (int i = 0; i < T->n; i++) {
        if (!isfinite(d[i]) || d[i] < 0.0) return 0;
        sd += d[i];
    }
    for (int j = 0; j < T->m; j++) {
        if (!isfinite(s[j]) || s[j] < 0.0) return 0;
        ss += s[j];
    }
    double cmax = 0.0;
    for (size_t k = 0; k < (size_t)T->n * T->m; k++) {
        if (!isfinite(c[k])) return 0;
        cmax = fmax(cmax, fabs(c[k]));
    }
    /* potentials (and the final prices) are sums of up to n + m costs,
     * reduced costs of three of them; the objective and the certificate's
     * terms at most that times sum(s): all must stay finite */
    if (!isfinite(ss) || !isfinite(cmax * (2.0 * T->nb + 3.0) * fmax(ss, 1.0))) return 0;
    *slack_total = fmax(ss - sd, 0.0);
    return ss >= sd * (1.0 - 1e-12); /* sum(s) = sum(d) up to the rounding of the sums */
}

int transport_solve(TransportSolver *T, const double *d, const double *s, const double *c,
                    const double *lambda, double *x, double *lambda_out, TransportResult *r)
{
    int n = T->n, m = T->m;
    double slack_total, cmax = 0.0;
    if (!inputs_ok(T, d, s, c, &slack_total)) return -1;
    for (size_t k = 0; k < (size_t)n * m; k++) cmax = fmax(cmax, fabs(c[k]));
    for (int j = 0; j < m; j++) {
        double l = lambda ? lambda[j] : 0.0;
        T->lam[j] = isfinite(l) && l > 0.0 ? l : 0.0;
    }
    double tol = 1e-11 * fmax(cmax, 1e-300);
    T->eps = 1e-9 * fmax(cmax, 1e-300);
    crash(T, d, s, c, slack_total);
    T->next_row = 0;
    int pivots = 0, optimal = 0, degenerate = 0;
    tree_build(T, c);
    while (1) {
        int k = price_entering(T, c, tol);
        if (k < 0) { optimal = 1; break; }
        if (pivots == T->max_pivots) break;
        degenerate += pivot(T, c, k / m, k % m) == 0.0;
        pivots++;
    }
    double obj = 0.0;
    for (size_t k = 0; k < (size_t)n * m; k++) {
        x[k] = T->x[k];
        obj += c[k] * x[k];
    }
    if (lambda_out)
        for (int j = 0; j < m; j++) lambda_out[j] = fmax(0.0, -T->pot[T->rows + j]);
    if (r) {
        r->obj = obj;
        r->pivots = pivots;
        r->degenerate = degenerate;
        r->optimal = optimal;
    }
    return 0;
}
