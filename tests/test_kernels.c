/*
 * test_kernels.c — the small-matrix kernels (kernels.c): the AVX2+FMA path
 * and the portable (cblas) path against direct triple loops, on every
 * remainder shape (rows, columns, depth), with and without the second
 * operand pair, bias, accumulation and each epilogue; and the determinism
 * the learner relies on: a row's result is bit-identical whatever other rows
 * share the call.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "metagrid/kernels.h"
#include "metagrid/rng.h"

static double *rnd(RngStream *s, size_t n)
{
    double *a = malloc((n ? n : 1) * sizeof(double));
    for (size_t i = 0; i < n; i++) a[i] = rng_uniform_range(s, -1, 1);
    return a;
}

static double maxdiff(const double *a, const double *b, size_t n)
{
    double e = 0;
    for (size_t i = 0; i < n; i++) e = fmax(e, fabs(a[i] - b[i]));
    return e;
}

/* Direct definitions, independent of kernels.c's loop orders. */
static double ref_epi(double c, int epi, double h)
{
    return epi == KERN_EPI_RELU ? (c > 0 ? c : 0) : epi == KERN_EPI_MASK ? (h > 0 ? c : 0) : c;
}

static void check_shape(int m, int n, int p, RngStream *s)
{
    double *A1 = rnd(s, (size_t)m * p), *A2 = rnd(s, (size_t)m * p);
    double *B1 = rnd(s, (size_t)n * p), *B2 = rnd(s, (size_t)n * p);
    double *bias = rnd(s, n), *H = rnd(s, (size_t)m * n);
    double *C0 = rnd(s, (size_t)m * n), *C1 = malloc((size_t)m * n * sizeof(double));
    double *C2 = malloc((size_t)m * n * sizeof(double)), *R = malloc((size_t)m * n * sizeof(double));
    size_t mn = (size_t)m * n;
    for (int two = 0; two < 2; two++)
        for (int epi = 0; epi < 3; epi++) {
            const double *a2 = two ? A2 : NULL, *b2 = two ? B2 : NULL;
            /* nt: C = bias + A1 B1^T + A2 B2^T */
            for (int r = 0; r < m; r++)
                for (int o = 0; o < n; o++) {
                    double x = two ? bias[o] : 0;
                    for (int i = 0; i < p; i++) x += A1[r * p + i] * B1[o * p + i];
                    for (int i = 0; two && i < p; i++) x += A2[r * p + i] * B2[o * p + i];
                    R[r * n + o] = ref_epi(x, epi, H[r * n + o]);
                }
            kern_force_portable(0);
            kern_nt(C1, two ? bias : NULL, A1, B1, a2, b2, m, n, p, epi, H);
            kern_force_portable(1);
            kern_nt(C2, two ? bias : NULL, A1, B1, a2, b2, m, n, p, epi, H);
            kern_force_portable(0);
            CHECK_MSG(maxdiff(C1, R, mn) < 1e-13 && maxdiff(C2, R, mn) < 1e-13,
                      "nt %dx%dx%d two %d epi %d: %g %g", m, n, p, two, epi, maxdiff(C1, R, mn),
                      maxdiff(C2, R, mn));

            /* nn: C = bias + A1 (m,p) B1 (p,n) + A2 B2 (B read as (p,n)) */
            {
                for (int r = 0; r < m; r++)
                    for (int j = 0; j < n; j++) {
                        double x = two ? bias[j] : 0;
                        for (int i = 0; i < p; i++) x += A1[r * p + i] * B1[i * n + j];
                        for (int i = 0; two && i < p; i++) x += A2[r * p + i] * B2[i * n + j];
                        R[r * n + j] = ref_epi(x, epi, H[r * n + j]);
                    }
                kern_nn(C1, two ? bias : NULL, A1, B1, a2, b2, m, n, p, epi, H);
                kern_force_portable(1);
                kern_nn(C2, two ? bias : NULL, A1, B1, a2, b2, m, n, p, epi, H);
                kern_force_portable(0);
                CHECK_MSG(maxdiff(C1, R, mn) < 1e-13 && maxdiff(C2, R, mn) < 1e-13,
                          "nn %dx%dx%d two %d epi %d", m, n, p, two, epi);
            }
        }
    /* tn: C (m,n) (+)= alpha (A1^T B1 + A2^T B2), A (k=p, m), B (p, n) */
    for (int two = 0; two < 2; two++)
        for (int acc = 0; acc < 2; acc++) {
            double alpha = acc ? -0.75 : 1.25;
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) {
                    double x = 0;
                    for (int r = 0; r < p; r++) x += A1[r * m + i] * B1[r * n + j];
                    for (int r = 0; two && r < p; r++) x += A2[r * m + i] * B2[r * n + j];
                    R[i * n + j] = (acc ? C0[i * n + j] : 0) + alpha * x;
                }
            memcpy(C1, C0, mn * sizeof(double));
            memcpy(C2, C0, mn * sizeof(double));
            kern_tn(C1, A1, B1, two ? A2 : NULL, two ? B2 : NULL, m, n, p, alpha, acc);
            kern_force_portable(1);
            kern_tn(C2, A1, B1, two ? A2 : NULL, two ? B2 : NULL, m, n, p, alpha, acc);
            kern_force_portable(0);
            CHECK_MSG(maxdiff(C1, R, mn) < 1e-13 && maxdiff(C2, R, mn) < 1e-13,
                      "tn %dx%dx%d two %d acc %d", m, n, p, two, acc);
        }
    /* colsum of B1 read as (p, n) */
    for (int acc = 0; acc < 2; acc++) {
        for (int j = 0; j < n; j++) {
            double x = 0;
            for (int r = 0; r < p; r++) x += B1[r * n + j];
            R[j] = (acc ? C0[j] : 0) + 0.5 * x;
        }
        memcpy(C1, C0, n * sizeof(double));
        memcpy(C2, C0, n * sizeof(double));
        kern_colsum(C1, B1, p, n, 0.5, acc);
        kern_force_portable(1);
        kern_colsum(C2, B1, p, n, 0.5, acc);
        kern_force_portable(0);
        CHECK(maxdiff(C1, R, n) < 1e-13 && maxdiff(C2, R, n) < 1e-13);
    }
    free(A1), free(A2), free(B1), free(B2), free(bias), free(H), free(C0), free(C1), free(C2);
    free(R);
}

/* What the learner's determinism needs (one task per call): with the shapes
 * fixed, a row's result does not depend on the other rows' values, bit for
 * bit. The SIMD kernels promise more: not even on how many rows share the
 * call (BLAS, the portable path, may block differently for other m). */
static void check_row_independence(RngStream *s)
{
    int m = 10, n = 40, p = 40;
    double *A = rnd(s, (size_t)m * p), *A2 = rnd(s, (size_t)m * p), *B = rnd(s, (size_t)n * p);
    double *Bn = rnd(s, (size_t)p * n), *b = rnd(s, n);
    double *C = malloc((size_t)n * n * sizeof(double)), *C2 = malloc((size_t)n * n * sizeof(double));
    double *c1 = malloc((size_t)n * sizeof(double));
    /* A2: row 4 of A, every other row different */
    memcpy(A2 + 4 * p, A + 4 * p, p * sizeof(double));
    kern_nt(C, b, A, B, A, B, m, n, p, KERN_EPI_RELU, NULL);
    kern_nt(C2, b, A2, B, A2, B, m, n, p, KERN_EPI_RELU, NULL);
    int same = memcmp(C + 4 * n, C2 + 4 * n, n * sizeof(double)) == 0;
    kern_nn(C, b, A, Bn, A, Bn, m, n, p, KERN_EPI_NONE, NULL);
    kern_nn(C2, b, A2, Bn, A2, Bn, m, n, p, KERN_EPI_NONE, NULL);
    same &= memcmp(C + 4 * n, C2 + 4 * n, n * sizeof(double)) == 0;
    /* tn: C (n,n) = 0.5 At^T Bn, At (m,n); output row 4 reads column 4 of At */
    double *At = rnd(s, (size_t)m * n), *At2 = rnd(s, (size_t)m * n);
    for (int r = 0; r < m; r++) At2[r * n + 4] = At[r * n + 4];
    kern_tn(C, At, Bn, NULL, NULL, n, n, m, 0.5, 0);
    kern_tn(C2, At2, Bn, NULL, NULL, n, n, m, 0.5, 0);
    same &= memcmp(C + 4 * n, C2 + 4 * n, n * sizeof(double)) == 0;
    CHECK_MSG(same, "a row depends on the other rows' values (simd %d)", kern_simd());
    if (kern_simd()) {
        same = 1;
        kern_nt(C, b, A, B, A, B, m, n, p, KERN_EPI_RELU, NULL);
        for (int r = 0; r < m; r++) {
            kern_nt(c1, b, A + r * p, B, A + r * p, B, 1, n, p, KERN_EPI_RELU, NULL);
            same &= memcmp(c1, C + r * n, n * sizeof(double)) == 0;
        }
        kern_nn(C, NULL, A, Bn, NULL, NULL, m, n, p, KERN_EPI_NONE, NULL);
        for (int r = 3; r < m; r++) { /* tiles start at other rows */
            kern_nn(c1, NULL, A + r * p, Bn, NULL, NULL, 1, n, p, KERN_EPI_NONE, NULL);
            same &= memcmp(c1, C + r * n, n * sizeof(double)) == 0;
            kern_nn(C + r * n, NULL, A + r * p, Bn, NULL, NULL, m - r, n, p, KERN_EPI_NONE, NULL);
            same &= memcmp(c1, C + r * n, n * sizeof(double)) == 0;
        }
        CHECK_MSG(same, "SIMD row results depend on the number of rows");
    }
    free(A), free(A2), free(B), free(Bn), free(b), free(C), free(C2), free(c1), free(At);
    free(At2);
}

int main(void)
{
    RngStream s;
    rng_stream_init(&s, 7, RNG_TEST, 0, 0, 0);
    printf("kernels: %s\n", kern_simd() ? "AVX2+FMA" : "portable");
    int dims[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 13};
    for (int a = 0; a < 11; a++)
        for (int b = 0; b < 11; b += 2)
            check_shape(dims[a], dims[b], dims[(a + b) % 11], &s);
    check_shape(10, 40, 40, &s);
    check_shape(40, 40, 10, &s);
    check_shape(10, 40, 1, &s);
    check_shape(40, 1, 10, &s);
    check_shape(10, 1, 40, &s);
    check_row_independence(&s);
    kern_force_portable(1);
    check_row_independence(&s);
    kern_force_portable(0);

    /* transpose, both paths */
    for (int n = 1; n < 11; n += 3)
        for (int p = 1; p < 10; p += 2) {
            double *a = rnd(&s, (size_t)n * p), *t1 = malloc((size_t)n * p * sizeof(double));
            double *t2 = malloc((size_t)n * p * sizeof(double));
            kern_transpose(t1, a, n, p);
            kern_force_portable(1);
            kern_transpose(t2, a, n, p);
            kern_force_portable(0);
            int ok = 1;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < p; j++)
                    ok &= t1[j * n + i] == a[i * p + j] && t2[j * n + i] == a[i * p + j];
            CHECK_MSG(ok, "transpose %dx%d", n, p);
            free(a), free(t1), free(t2);
        }

    /* axpy, aliasing y = x */
    for (size_t n = 0; n < 20; n++) {
        double *x = rnd(&s, n), *z = rnd(&s, n), *r = malloc((n + 1) * sizeof(double));
        for (size_t i = 0; i < n; i++) r[i] = x[i] - 0.3 * z[i];
        kern_axpy(x, x, -0.3, z, n);
        CHECK(maxdiff(x, r, n) < 1e-15);
        free(x), free(z), free(r);
    }
    kern_force_portable(1);
    CHECK(kern_simd() == 0);
    CHECK(kern_force_portable(0) == 1);
    return TEST_REPORT();
}
