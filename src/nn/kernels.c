/*
 * kernels.c — small dense matrix kernels for the MLP (interface and
 * epilogues in kernels.h).
 *
 * Why not BLAS: at the network's sizes (k = 10 rows by 40 x 40 weights, 32
 * kflop a product) OpenBLAS spends as much time packing operands, clearing
 * buffers and dispatching as multiplying. Here the operands stay where they
 * are (row-major, in L1) and each output tile lives in registers:
 *
 *   kern_nt  C = A B^T   dot products along the rows of A and B: a tile of
 *                        3 rows x 4 columns keeps 12 accumulators of 4 lanes,
 *                        reduced by hadd/permute at the end (bias, relu or
 *                        mask applied on the way out)
 *   kern_tn  C = A^T B   rank-1 updates: a tile of 5 rows x 8 columns keeps
 *   kern_nn  C = A B     10 accumulators; per step two loads of B, five
 *                        broadcasts of A, ten FMAs (TN and NN differ only in
 *                        the strides of A)
 *
 *   depth 1  C = bias + a b^T, one FMA per output vector (first layer of a
 *            one-input net); kern_tn with n = 1 runs transposed (C^T = B^T A)
 *   kern_transpose  4x4 register blocks: mlp.c runs h W^T as h (W^T) through
 *            the broadcast kernel, which beats the dot products at k = 10
 *
 * Column and depth remainders use masked loads and stores; row remainders
 * smaller tiles. Each output element is a sum in a fixed order that depends
 * only on the shapes, never on what else is in the call (tested).
 *
 * The AVX2+FMA code is compiled for that target only (target attribute) and
 * chosen at run time (__builtin_cpu_supports), so the build stays portable;
 * without AVX2+FMA the products go to cblas_dgemm (as before these kernels)
 * and tests/test_kernels.c checks both against direct loops.
 */
#include <cblas.h>
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "metagrid/kernels.h"

/* ---- portable path: cblas_dgemm plus element-wise passes --------------
 * For CPUs without AVX2+FMA: OpenBLAS picks its own kernels for them. One
 * call per product on one task's buffers, so a row's result still depends
 * only on the shapes. */

static void epi_pass(double *C, int m, int n, int epi, const double *H)
{
    size_t mn = (size_t)m * n;
    if (epi == KERN_EPI_RELU)
        for (size_t i = 0; i < mn; i++) C[i] = C[i] > 0 ? C[i] : 0;
    else if (epi == KERN_EPI_MASK)
        for (size_t i = 0; i < mn; i++) C[i] = H[i] > 0 ? C[i] : 0;
}

/* C (m,n) = bias rows, or 0 */
static void init_rows(double *C, const double *bias, int m, int n)
{
    for (int r = 0; r < m; r++)
        for (int j = 0; j < n; j++) C[(size_t)r * n + j] = bias ? bias[j] : 0;
}

static void nt_portable(double *C, const double *bias, const double *A1, const double *B1,
                        const double *A2, const double *B2, int m, int n, int p, int epi,
                        const double *H)
{
    init_rows(C, bias, m, n);
    if (p > 0) {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, p, 1.0, A1, p, B1, p, 1.0, C, n);
        if (A2)
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, p, 1.0, A2, p, B2, p, 1.0,
                        C, n);
    }
    epi_pass(C, m, n, epi, H);
}

static void tn_portable(double *C, const double *A1, const double *B1, const double *A2,
                        const double *B2, int m, int n, int k, double alpha, int accumulate)
{
    if (k < 1) {
        if (!accumulate) init_rows(C, NULL, m, n);
        return;
    }
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, n, k, alpha, A1, m, B1, n,
                accumulate ? 1.0 : 0.0, C, n);
    if (A2)
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, n, k, alpha, A2, m, B2, n, 1.0, C,
                    n);
}

static void nn_portable(double *C, const double *bias, const double *A1, const double *B1,
                        const double *A2, const double *B2, int m, int n, int p, int epi,
                        const double *H)
{
    init_rows(C, bias, m, n);
    if (p > 0) {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, p, 1.0, A1, p, B1, n, 1.0, C,
                    n);
        if (A2)
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, p, 1.0, A2, p, B2, n, 1.0,
                        C, n);
    }
    epi_pass(C, m, n, epi, H);
}

static void colsum_portable(double *c, const double *A, int k, int n, double alpha, int accumulate)
{
    for (int j = 0; j < n; j++) {
        double s = 0;
        for (int r = 0; r < k; r++) s += A[(size_t)r * n + j];
        c[j] = accumulate ? c[j] + alpha * s : alpha * s;
    }
}

static void axpy_portable(double *y, const double *x, double a, const double *z, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = x[i] + a * z[i];
}

/* ---- AVX2 + FMA ------------------------------------------------------ */

#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_SIMD 1
#define SIMD __attribute__((target("avx2,fma")))
#define SIMD_INLINE static inline __attribute__((always_inline, target("avx2,fma")))

/* the first n (0..4) lanes set */
SIMD_INLINE __m256i lanes(int n)
{
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3));
}

SIMD_INLINE __m256d ld(const double *p, int masked, __m256i mk)
{
    return masked ? _mm256_maskload_pd(p, mk) : _mm256_loadu_pd(p);
}

SIMD_INLINE void st(double *p, __m256d v, int masked, __m256i mk)
{
    if (masked) _mm256_maskstore_pd(p, mk, v);
    else _mm256_storeu_pd(p, v);
}

SIMD_INLINE __m256d epi_simd(__m256d v, int epi, const double *h, int masked, __m256i mk)
{
    __m256d zero = _mm256_setzero_pd();
    if (epi == KERN_EPI_RELU) return _mm256_max_pd(v, zero); /* NaN, -0 -> +0 */
    if (epi == KERN_EPI_MASK) return _mm256_and_pd(v, _mm256_cmp_pd(ld(h, masked, mk), zero, _CMP_GT_OQ));
    return v;
}

/* (sum a, sum b, sum c, sum d) */
SIMD_INLINE __m256d hsum4(__m256d a, __m256d b, __m256d c, __m256d d)
{
    __m256d t0 = _mm256_hadd_pd(a, b), t1 = _mm256_hadd_pd(c, d);
    return _mm256_add_pd(_mm256_permute2f128_pd(t0, t1, 0x20), _mm256_permute2f128_pd(t0, t1, 0x31));
}

/* one depth step of 4 (masked: the last p % 4) of nt_tile */
SIMD_INLINE void nt_step(const int RB, const int nc, const int masked, __m256i mp,
                         const double *A, const double *B, int p, __m256d acc[3][4])
{
    __m256d a[3];
#pragma GCC unroll 3
    for (int r = 0; r < RB; r++) a[r] = ld(A + (size_t)r * p, masked, mp);
#pragma GCC unroll 4
    for (int j = 0; j < nc; j++) {
        __m256d b = ld(B + (size_t)j * p, masked, mp);
#pragma GCC unroll 3
        for (int r = 0; r < RB; r++) acc[r][j] = _mm256_fmadd_pd(a[r], b, acc[r][j]);
    }
}

/* kern_nt on RB (1..3) rows x nc (1..4) columns; all pointers at the tile:
 * A (RB,p) rows, B (nc,p) rows, C/H (RB, ldc), bias (nc). */
SIMD_INLINE void nt_tile(const int RB, const int nc, double *C, int ldc, const double *bias,
                         const double *A1, const double *B1, const double *A2, const double *B2,
                         int p, int epi, const double *H)
{
    __m256d acc[3][4];
#pragma GCC unroll 3
    for (int r = 0; r < RB; r++)
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) acc[r][j] = _mm256_setzero_pd();
    int p4 = p & ~3;
    __m256i mp = lanes(p - p4);
#pragma GCC unroll 1
    for (int q = 0; q < 2; q++) {
        const double *A = q ? A2 : A1, *B = q ? B2 : B1;
        if (!A) break;
        for (int i = 0; i < p4; i += 4) nt_step(RB, nc, 0, mp, A + i, B + i, p, acc);
        if (p4 < p) nt_step(RB, nc, 1, mp, A + p4, B + p4, p, acc);
    }
    int masked = nc < 4;
    __m256i mc = lanes(nc);
    __m256d bv = bias ? ld(bias, masked, mc) : _mm256_setzero_pd();
#pragma GCC unroll 3
    for (int r = 0; r < RB; r++) {
        __m256d v = _mm256_add_pd(hsum4(acc[r][0], acc[r][1], acc[r][2], acc[r][3]), bv);
        v = epi_simd(v, epi, H ? H + (size_t)r * ldc : NULL, masked, mc);
        st(C + (size_t)r * ldc, v, masked, mc);
    }
}

SIMD_INLINE void nt_rows(const int RB, double *C, const double *bias, const double *A1,
                         const double *B1, const double *A2, const double *B2, int n, int p,
                         int epi, const double *H)
{
    int o = 0;
    for (; o + 4 <= n; o += 4)
        nt_tile(RB, 4, C + o, n, bias ? bias + o : NULL, A1, B1 + (size_t)o * p, A2,
                B2 ? B2 + (size_t)o * p : NULL, p, epi, H ? H + o : NULL);
    const double *b = bias ? bias + o : NULL, *b2 = B2 ? B2 + (size_t)o * p : NULL;
    const double *h = H ? H + o : NULL;
    switch (n - o) {
    case 1: nt_tile(RB, 1, C + o, n, b, A1, B1 + (size_t)o * p, A2, b2, p, epi, h); break;
    case 2: nt_tile(RB, 2, C + o, n, b, A1, B1 + (size_t)o * p, A2, b2, p, epi, h); break;
    case 3: nt_tile(RB, 3, C + o, n, b, A1, B1 + (size_t)o * p, A2, b2, p, epi, h); break;
    default: break;
    }
}

SIMD static void nt_simd(double *C, const double *bias, const double *A1, const double *B1,
                         const double *A2, const double *B2, int m, int n, int p, int epi,
                         const double *H)
{
    /* tiles of 3 rows (12 accumulators); 4 left -> 2 + 2, then 2 or 1 */
    for (int r = 0; r < m;) {
        int left = m - r, rb = left >= 3 && left != 4 ? 3 : left >= 2 ? 2 : 1;
        size_t a = (size_t)r * p, c = (size_t)r * n;
        const double *a2 = A2 ? A2 + a : NULL, *h = H ? H + c : NULL;
        if (rb == 3) nt_rows(3, C + c, bias, A1 + a, B1, a2, B2, n, p, epi, h);
        else if (rb == 2) nt_rows(2, C + c, bias, A1 + a, B1, a2, B2, n, p, epi, h);
        else nt_rows(1, C + c, bias, A1 + a, B1, a2, B2, n, p, epi, h);
        r += rb;
    }
}

/* kern_nt for depth p = 1 (a network's first layer on one input): an outer
 * product, C[r][:] = bias + A1[r] B1^T + A2[r] B2^T, vectorised along n.
 * One row's vector j (masked: the last n % 4 columns). */
SIMD_INLINE void p1_vec(const int epi, const int two, const int masked, __m256i mk, double *c,
                        const double *bias, __m256d a1, const double *B1, __m256d a2,
                        const double *B2, const double *h)
{
    __m256d x = _mm256_fmadd_pd(a1, ld(B1, masked, mk), ld(bias, masked, mk));
    if (two) x = _mm256_fmadd_pd(a2, ld(B2, masked, mk), x);
    st(c, epi_simd(x, epi, h, masked, mk), masked, mk);
}

SIMD_INLINE void p1_rows(const int epi, const int two, double *C, const double *bias,
                         const double *A1, const double *B1, const double *A2, const double *B2,
                         int m, int n, const double *H)
{
    int n4 = n & ~3;
    __m256i full = lanes(4), mk = lanes(n - n4);
    for (int r = 0; r < m; r++) {
        __m256d a1 = _mm256_broadcast_sd(A1 + r);
        __m256d a2 = two ? _mm256_broadcast_sd(A2 + r) : a1;
        double *c = C + (size_t)r * n;
        const double *h = epi == KERN_EPI_MASK ? H + (size_t)r * n : NULL;
        for (int j = 0; j < n4; j += 4)
            p1_vec(epi, two, 0, full, c + j, bias + j, a1, B1 + j, a2, two ? B2 + j : NULL,
                   h ? h + j : NULL);
        if (n4 < n)
            p1_vec(epi, two, 1, mk, c + n4, bias + n4, a1, B1 + n4, a2, two ? B2 + n4 : NULL,
                   h ? h + n4 : NULL);
    }
}

/* bias required (the network always has one); one body per (epi, pair) */
SIMD static void nt_p1_simd(double *C, const double *bias, const double *A1, const double *B1,
                            const double *A2, const double *B2, int m, int n, int epi,
                            const double *H)
{
#define P1(e, t) p1_rows(e, t, C, bias, A1, B1, A2, B2, m, n, H)
    if (A2) {
        if (epi == KERN_EPI_NONE) P1(KERN_EPI_NONE, 1);
        else if (epi == KERN_EPI_RELU) P1(KERN_EPI_RELU, 1);
        else P1(KERN_EPI_MASK, 1);
    } else {
        if (epi == KERN_EPI_NONE) P1(KERN_EPI_NONE, 0);
        else if (epi == KERN_EPI_RELU) P1(KERN_EPI_RELU, 0);
        else P1(KERN_EPI_MASK, 0);
    }
#undef P1
}

/* The broadcast kernel behind kern_tn and kern_nn:
 *   C[i][j] = init + alpha sum_q sum_{r<kk} A_q[i*si + r*sr] B_q[r*ldb + j], epi
 * with init = bias[j] (then alpha must be 1), C[i][j] (accumulate) or 0;
 * the bias is where the accumulators start. */
typedef struct {
    const double *A1, *B1, *A2, *B2, *bias, *H;
    int kk, si, sr, ldb, accumulate, epi;
    double alpha;
} BcArgs;

/* RB (1..5) rows x NV (1..2) vectors of columns, the last one masked by mk
 * if masked; C, A at the tile's first row, C, B, bias, H at its column. */
SIMD_INLINE void bc_tile(const int RB, const int NV, const int masked, __m256i mk, double *C,
                         int ldc, const double *A1, const double *B1, const double *A2,
                         const double *B2, const double *bias, const double *H, const BcArgs *g)
{
    const int kk = g->kk, si = g->si, sr = g->sr, ldb = g->ldb;
    int one = g->alpha == 1.0;
    __m256d acc[5][2];
#pragma GCC unroll 5
    for (int ii = 0; ii < RB; ii++)
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++) {
            int mv = masked && v == NV - 1;
            acc[ii][v] = bias ? ld(bias + 4 * v, mv, mk) : _mm256_setzero_pd();
        }
#pragma GCC unroll 1
    for (int q = 0; q < 2; q++) {
        const double *A = q ? A2 : A1, *B = q ? B2 : B1;
        if (!A) break;
        const double *ar = A, *br = B;
#pragma GCC unroll 1
        for (int r = 0; r < kk; r++, ar += sr, br += ldb) {
            __m256d b[2];
#pragma GCC unroll 2
            for (int v = 0; v < NV; v++) b[v] = ld(br + 4 * v, masked && v == NV - 1, mk);
#pragma GCC unroll 5
            for (int ii = 0; ii < RB; ii++) {
                __m256d a = _mm256_broadcast_sd(ar + (size_t)ii * si);
#pragma GCC unroll 2
                for (int v = 0; v < NV; v++) acc[ii][v] = _mm256_fmadd_pd(a, b[v], acc[ii][v]);
            }
        }
    }
    __m256d al = _mm256_set1_pd(g->alpha);
#pragma GCC unroll 5
    for (int ii = 0; ii < RB; ii++)
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++) {
            int mv = masked && v == NV - 1;
            double *c = C + (size_t)ii * ldc + 4 * v;
            __m256d x = acc[ii][v];
            if (g->accumulate)
                x = one ? _mm256_add_pd(x, ld(c, mv, mk)) : _mm256_fmadd_pd(al, x, ld(c, mv, mk));
            else if (!one)
                x = _mm256_mul_pd(al, x);
            x = epi_simd(x, g->epi, H ? H + (size_t)ii * ldc + 4 * v : NULL, mv, mk);
            st(c, x, mv, mk);
        }
}

/* RB rows of C (m, n): column blocks of 8, then 4, then a masked rest. */
SIMD_INLINE void bc_rows(const int RB, double *C, int n, const double *A1, const double *A2,
                         const double *H, const BcArgs *g)
{
    int j = 0;
    __m256i full = lanes(4);
#define BC_AT(j) C + (j), n, A1, g->B1 + (j), A2, g->B2 ? g->B2 + (j) : NULL, \
                 g->bias ? g->bias + (j) : NULL, H ? H + (j) : NULL, g
    for (; j + 8 <= n; j += 8) bc_tile(RB, 2, 0, full, BC_AT(j));
    int w = n - j;
    if (w > 4) bc_tile(RB, 2, 1, lanes(w - 4), BC_AT(j));
    else if (w == 4) bc_tile(RB, 1, 0, full, BC_AT(j));
    else if (w > 0) bc_tile(RB, 1, 1, lanes(w), BC_AT(j));
#undef BC_AT
}

/* C (m,n) from the arguments in g; row tiles of 5, then the rest. */
SIMD static void bc_simd(double *C, int m, int n, const BcArgs *args)
{
    const BcArgs gv = *args, *g = &gv;
    int i = 0;
    for (; i + 5 <= m; i += 5) {
        size_t a = (size_t)i * g->si, c = (size_t)i * n;
        bc_rows(5, C + c, n, g->A1 + a, g->A2 ? g->A2 + a : NULL, g->H ? g->H + c : NULL, g);
    }
    size_t a = (size_t)i * g->si, c = (size_t)i * n;
    const double *a1 = g->A1 + a, *a2 = g->A2 ? g->A2 + a : NULL, *h = g->H ? g->H + c : NULL;
    switch (m - i) {
    case 1: bc_rows(1, C + c, n, a1, a2, h, g); break;
    case 2: bc_rows(2, C + c, n, a1, a2, h, g); break;
    case 3: bc_rows(3, C + c, n, a1, a2, h, g); break;
    case 4: bc_rows(4, C + c, n, a1, a2, h, g); break;
    default: break;
    }
}

/* dst (p,n) = src (n,p)^T, 4x4 blocks in registers */
SIMD static void transpose_simd(double *dst, const double *src, int n, int p)
{
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        const double *s0 = src + (size_t)i * p, *s1 = s0 + p, *s2 = s1 + p, *s3 = s2 + p;
        int j = 0;
        for (; j + 4 <= p; j += 4) {
            __m256d r0 = _mm256_loadu_pd(s0 + j), r1 = _mm256_loadu_pd(s1 + j);
            __m256d r2 = _mm256_loadu_pd(s2 + j), r3 = _mm256_loadu_pd(s3 + j);
            __m256d t0 = _mm256_unpacklo_pd(r0, r1), t1 = _mm256_unpackhi_pd(r0, r1);
            __m256d t2 = _mm256_unpacklo_pd(r2, r3), t3 = _mm256_unpackhi_pd(r2, r3);
            double *d = dst + (size_t)j * n + i;
            _mm256_storeu_pd(d, _mm256_permute2f128_pd(t0, t2, 0x20));
            _mm256_storeu_pd(d + n, _mm256_permute2f128_pd(t1, t3, 0x20));
            _mm256_storeu_pd(d + 2 * (size_t)n, _mm256_permute2f128_pd(t0, t2, 0x31));
            _mm256_storeu_pd(d + 3 * (size_t)n, _mm256_permute2f128_pd(t1, t3, 0x31));
        }
        for (; j < p; j++) {
            double *d = dst + (size_t)j * n + i;
            d[0] = s0[j], d[1] = s1[j], d[2] = s2[j], d[3] = s3[j];
        }
    }
    for (; i < n; i++)
        for (int j = 0; j < p; j++) dst[(size_t)j * n + i] = src[(size_t)i * p + j];
}

SIMD_INLINE void colsum_vec(const int masked, __m256i mk, double *c, const double *A, int k,
                            int n, __m256d al, int accumulate)
{
    __m256d s = ld(A, masked, mk);
    for (int r = 1; r < k; r++) s = _mm256_add_pd(s, ld(A + (size_t)r * n, masked, mk));
    s = accumulate ? _mm256_fmadd_pd(al, s, ld(c, masked, mk)) : _mm256_mul_pd(al, s);
    st(c, s, masked, mk);
}

SIMD static void colsum_simd(double *c, const double *A, int k, int n, double alpha, int accumulate)
{
    __m256d al = _mm256_set1_pd(alpha);
    if (k < 1) { /* empty sum */
        for (int j = 0; j < n; j++) c[j] = accumulate ? c[j] : 0;
        return;
    }
    int n4 = n & ~3;
    for (int j = 0; j < n4; j += 4) colsum_vec(0, lanes(4), c + j, A + j, k, n, al, accumulate);
    if (n4 < n) colsum_vec(1, lanes(n - n4), c + n4, A + n4, k, n, al, accumulate);
}

SIMD static void axpy_simd(double *y, const double *x, double a, const double *z, size_t n)
{
    __m256d av = _mm256_set1_pd(a);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256d r0 = _mm256_fmadd_pd(av, _mm256_loadu_pd(z + i), _mm256_loadu_pd(x + i));
        __m256d r1 = _mm256_fmadd_pd(av, _mm256_loadu_pd(z + i + 4), _mm256_loadu_pd(x + i + 4));
        _mm256_storeu_pd(y + i, r0);
        _mm256_storeu_pd(y + i + 4, r1);
    }
    for (; i < n; i += 4) {
        int masked = n - i < 4;
        __m256i mk = lanes((int)(n - i));
        st(y + i, _mm256_fmadd_pd(av, ld(z + i, masked, mk), ld(x + i, masked, mk)), masked, mk);
    }
}
#else
#define HAVE_SIMD 0
#endif

/* ---- dispatch -------------------------------------------------------- */

static int simd_state = -1; /* -1 unknown, 0 portable, 1 AVX2+FMA */

const char *kern_blas_library(void)
{
    static char buf[256];
    if (!buf[0]) {
        const char *c = openblas_get_config();
        while (c && *c == ' ') c++;
        if (!c) c = "(unknown)";
        snprintf(buf, sizeof buf, "%s%s", strncmp(c, "OpenBLAS", 8) ? "OpenBLAS " : "", c);
        for (size_t n = strlen(buf); n > 0 && buf[n - 1] == ' '; n--) buf[n - 1] = '\0';
    }
    return buf;
}

int kern_simd(void)
{
    if (simd_state < 0) {
#if HAVE_SIMD
        __builtin_cpu_init();
        simd_state = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
        simd_state = 0;
#endif
    }
    return simd_state;
}

int kern_force_portable(int on)
{
    int was = !kern_simd();
    simd_state = -1;
    if (on) simd_state = 0;
    else kern_simd();
    return was;
}

void kern_nt(double *C, const double *bias, const double *A1, const double *B1, const double *A2,
             const double *B2, int m, int n, int p, int epi, const double *H)
{
    if (!A2 || !B2) A2 = B2 = NULL;
#if HAVE_SIMD
    if (kern_simd()) {
        if (p == 1 && bias) nt_p1_simd(C, bias, A1, B1, A2, B2, m, n, epi, H);
        else nt_simd(C, bias, A1, B1, A2, B2, m, n, p, epi, H);
        return;
    }
#endif
    nt_portable(C, bias, A1, B1, A2, B2, m, n, p, epi, H);
}

void kern_tn(double *C, const double *A1, const double *B1, const double *A2, const double *B2,
             int m, int n, int k, double alpha, int accumulate)
{
    if (!A2 || !B2) A2 = B2 = NULL;
#if HAVE_SIMD
    if (kern_simd()) {
        BcArgs g = {A1, B1, A2, B2, NULL, NULL, k, 1, m, n, accumulate, KERN_EPI_NONE, alpha};
        if (n == 1 && m > 1) { /* C (m,1) is C^T (1,m) = B^T A: vectorise along m */
            BcArgs t = {B1, A1, B2, A2, NULL, NULL, k, 1, 1, m, accumulate, KERN_EPI_NONE, alpha};
            g = t;
            m = 1, n = g.ldb;
        }
        bc_simd(C, m, n, &g);
        return;
    }
#endif
    tn_portable(C, A1, B1, A2, B2, m, n, k, alpha, accumulate);
}

void kern_nn(double *C, const double *bias, const double *A1, const double *B1,
             const double *A2, const double *B2, int m, int n, int p, int epi, const double *H)
{
    if (!A2 || !B2) A2 = B2 = NULL;
#if HAVE_SIMD
    if (kern_simd()) {
        BcArgs g = {A1, B1, A2, B2, bias, H, p, p, 1, n, 0, epi, 1.0};
        bc_simd(C, m, n, &g);
        return;
    }
#endif
    nn_portable(C, bias, A1, B1, A2, B2, m, n, p, epi, H);
}

void kern_transpose(double *dst, const double *src, int n, int p)
{
#if HAVE_SIMD
    if (kern_simd()) {
        transpose_simd(dst, src, n, p);
        return;
    }
#endif
    for (int i = 0; i < n; i++)
        for (int j = 0; j < p; j++) dst[(size_t)j * n + i] = src[(size_t)i * p + j];
}

void kern_colsum(double *c, const double *A, int k, int n, double alpha, int accumulate)
{
#if HAVE_SIMD
    if (kern_simd()) {
        colsum_simd(c, A, k, n, alpha, accumulate);
        return;
    }
#endif
    colsum_portable(c, A, k, n, alpha, accumulate);
}

void kern_axpy(double *y, const double *x, double a, const double *z, size_t n)
{
#if HAVE_SIMD
    if (kern_simd()) {
        axpy_simd(y, x, a, z, n);
        return;
    }
#endif
    axpy_portable(y, x, a, z, n);
}
