/*
 * xsum.c — exact fixed-point accumulation of doubles (see xsum.h).
 */
#include "metagrid/xsum.h"

#include <math.h>

#define XSUM_BITS 40
#define XSUM_TOP 24 /* weight exponent of digit 0 */

/* Digit weights 2^(24 - 40k) and their exact inverses. */
static const double xsum_w[XSUM_DIGITS] = {0x1p24, 0x1p-16, 0x1p-56, 0x1p-96, 0x1p-136, 0x1p-176};
static const double xsum_inv[XSUM_DIGITS] = {0x1p-24, 0x1p16, 0x1p56, 0x1p96, 0x1p136, 0x1p176};

void xsum_add(int64_t *acc, const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int64_t *a = acc + i * XSUM_STRIDE;
        double r = v[i];
        if (!isfinite(r) || fabs(r) >= 0x1.0p63) {
            a[XSUM_DIGITS] += 1;
            continue;
        }
        /* Leading digits of |r| < weight are zero; a double's 53 bits span
         * at most three digits, so stop as soon as nothing is left. */
        int k = 0;
        double ar = fabs(r);
        while (k < XSUM_DIGITS && ar < xsum_w[k]) k++;
        for (; k < XSUM_DIGITS && r != 0.0; k++) {
            /* All exact: scaling by a power of two (a multiplication by the
             * exact inverse, not a division), truncation, and removing the
             * leading part of r (which shares r's bits). */
            double d = trunc(r * xsum_inv[k]);
            r -= d * xsum_w[k];
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
