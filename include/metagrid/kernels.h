/*
 * kernels.h — small dense matrix kernels for the MLP (src/nn/kernels.c).
 *
 * The network's products are tiny (k = 10 rows, 40 x 40 weights): BLAS
 * spends more time packing and dispatching than multiplying. These kernels
 * work on the row-major buffers in place (no packing, everything in L1),
 * fuse the second operand pair, the bias, the scale and the activation
 * mask into the product, and have a fixed summation order: the result for
 * a row never depends on how many rows, tasks or ranks share a call.
 *
 * Two implementations behind one interface: AVX2+FMA register-blocked
 * micro-kernels, chosen at run time when the CPU has them, and otherwise
 * cblas_dgemm with separate element-wise passes (portable). Within one machine type the choice, and
 * hence every bit of every result, is fixed; a cluster mixing CPUs with and
 * without AVX2/FMA would round differently on different ranks.
 *
 * Epilogues (applied to each output element c after the sum):
 *   KERN_EPI_NONE   c
 *   KERN_EPI_RELU   c > 0 ? c : 0
 *   KERN_EPI_MASK   H > 0 ? c : 0      (H: a matrix shaped like C, e.g. the
 *                                       post-activation of a relu layer)
 */
#ifndef METAGRID_KERNELS_H
#define METAGRID_KERNELS_H

#include <stddef.h>

enum { KERN_EPI_NONE, KERN_EPI_RELU, KERN_EPI_MASK };

/* C (m,n) = bias (n) + A1 (m,p) B1^T (n,p) + A2 (m,p) B2^T (n,p), then epi.
 * bias may be NULL (0); A2/B2 may be NULL (no second pair). Dot products
 * along p; used for z = h W^T + b. C must not alias the inputs. */
void kern_nt(double *C, const double *bias, const double *A1, const double *B1,
             const double *A2, const double *B2, int m, int n, int p, int epi,
             const double *H /*(m,n) for KERN_EPI_MASK*/);

/* C (m,n) = alpha (A1^T B1 + A2^T B2) [+ C if accumulate], A (k,m), B (k,n):
 * the weight-gradient shape dW += d^T h. A2/B2 may be NULL. */
void kern_tn(double *C, const double *A1, const double *B1, const double *A2,
             const double *B2, int m, int n, int k, double alpha, int accumulate);

/* C (m,n) = bias (n) + A1 (m,p) B1 (p,n) + A2 (m,p) B2 (p,n), then epi: the
 * input-gradient shape gh = d W, and the forward h W^T on a transposed W.
 * bias and A2/B2 may be NULL. */
void kern_nn(double *C, const double *bias, const double *A1, const double *B1,
             const double *A2, const double *B2, int m, int n, int p, int epi,
             const double *H /*(m,n)*/);

/* dst (p,n) = src (n,p)^T; must not overlap. */
void kern_transpose(double *dst, const double *src, int n, int p);

/* c (n) = alpha colsum A (k,n) [+ c if accumulate]: bias gradients. */
void kern_colsum(double *c, const double *A, int k, int n, double alpha, int accumulate);

/* y (n) = x (n) + a z (n); y may alias x or z. */
void kern_axpy(double *y, const double *x, double a, const double *z, size_t n);

/* Implementation in use: 1 = AVX2+FMA, 0 = portable. kern_force_portable(1)
 * switches to the portable path (tests compare both); returns the previous
 * setting. */
int kern_simd(void);
/* The BLAS library behind the cblas_dgemm fallback, e.g. "OpenBLAS 0.3.21
 * DYNAMIC_ARCH ... Haswell MAX_THREADS=64" (provenance). */
const char *kern_blas_library(void);
int kern_force_portable(int on);

#endif
