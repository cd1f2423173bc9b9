/*
 * xsum.h — exact, order-independent sums of doubles.
 *
 * Each double is split exactly into XSUM_DIGITS signed base-2^40 digits of
 * fixed weight (2^24 ... 2^-176); digits are summed in int64, which is exact
 * and associative, so a sum over tasks gives bit-identical results whatever
 * the order of the additions and however the tasks are spread over ranks —
 * one MPI_SUM allreduce of int64 replaces the allreduce of doubles.
 * Magnitudes below 2^-176 are dropped (deterministically, per value, before
 * summation); |v| >= 2^63 and non-finite values are counted in a flag word
 * and decode as NaN. Up to 2^23 values can be added without overflow.
 */
#ifndef METAGRID_XSUM_H
#define METAGRID_XSUM_H

#include <stddef.h>
#include <stdint.h>

#define XSUM_DIGITS 6
#define XSUM_STRIDE (XSUM_DIGITS + 1) /* digits + non-finite count */

/* acc (n, XSUM_STRIDE) += exact split of v (n). acc starts zeroed. */
void xsum_add(int64_t *acc, const double *v, size_t n);
/* Fold carries so every digit but the top one lies in [0, 2^40): the value
 * is unchanged and another 2^23 values can be added. */
void xsum_normalize(int64_t *acc, size_t n);
/* out (n) = the double nearest (to within 1 ulp) the exact sum in acc. */
void xsum_to_double(const int64_t *acc, double *out, size_t n);

#endif
