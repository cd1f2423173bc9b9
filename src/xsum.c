/*
 * xsum.c — exact fixed-point accumulation of doubles (see xsum.h).
 */
#include "metagrid/xsum.h"

#include <math.h>

#define XSUM_BITS 40
#define XSUM_TOP 24 /* weight exponent of digit 0 */

void xsum_add(int64_t *acc, const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int64_t *a = acc + i * XSUM_STRIDE;
        double r = v[i];
        if (!isfinite(r) || fabs(r) >= 0x1.0p63) {
            a[XSUM_DIGITS] += 1;
            continue;
        }
        for (int k = 0; k < XSUM_DIGITS; k++) {
            /* Both operations are exact: scaling by a power of two, and
             * removing the leading part of r (which shares r's bits). */
            double w = ldexp(1.0, XSUM_TOP - XSUM_BITS * k);
            double d = trunc(r / w);
            r -= d * w;
            a[k] += (int64_t)d;
        }
    }
}

void xsum_to_double(const int64_t *acc, double *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const int64_t *a = acc + i * XSUM_STRIDE;
        if (a[XSUM_DIGITS] != 0) {
            out[i] = NAN;
            continue;
        }
        /* Propagate carries from the least significant digit so every digit
         * but the top one lies in (-2^40, 2^40), then add smallest first. */
        int64_t d[XSUM_DIGITS];
        for (int k = 0; k < XSUM_DIGITS; k++) d[k] = a[k];
        for (int k = XSUM_DIGITS - 1; k > 0; k--) {
            int64_t carry = d[k] / ((int64_t)1 << XSUM_BITS);
            d[k] -= carry * ((int64_t)1 << XSUM_BITS);
            d[k - 1] += carry;
        }
        double s = 0.0;
        for (int k = XSUM_DIGITS - 1; k >= 0; k--)
            s += ldexp((double)d[k], XSUM_TOP - XSUM_BITS * k);
        out[i] = s;
    }
}
