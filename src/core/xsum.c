/*
 * xsum.c — exact fixed-point accumulation of doubles (see xsum.h).
 */
#include "metagrid/xsum.h"

#include <math.h>
#include <string.h>

#define XSUM_BITS 40
#define XSUM_TOP 24 /* weight exponent of digit 0 */

#define XSUM_LOW (XSUM_TOP - XSUM_BITS * (XSUM_DIGITS - 1)) /* -176: weight exponent of the last digit */

void xsum_add(int64_t *acc, const double *v, size_t n)
{
    const uint64_t mask = ((uint64_t)1 << XSUM_BITS) - 1;
    for (size_t i = 0; i < n; i++) {
        int64_t *a = acc + i * XSUM_STRIDE;
        uint64_t bits;
        memcpy(&bits, &v[i], sizeof bits);
        int exp = (int)((bits >> 52) & 0x7ff);
        /* |v| >= 2^63 (exponent field >= 1023 + 63), Inf and NaN: flagged. */
        if (exp >= 1023 + 63) {
            a[XSUM_DIGITS] += 1;
            continue;
        }
        /* v = +-m * 2^e2 with m < 2^53; its fixed-point value in units of the
         * lowest digit weight 2^XSUM_LOW is m * 2^p. */
        uint64_t m = bits & (((uint64_t)1 << 52) - 1);
        int e2 = exp ? exp - 1075 : -1074;
        if (exp) m |= (uint64_t)1 << 52;
        int p = e2 - XSUM_LOW;
        if (p < 0) { /* bits below 2^XSUM_LOW are dropped (toward zero) */
            m = p <= -64 ? 0 : m >> -p;
            p = 0;
        }
        if (m == 0) continue;
        int lo = p / XSUM_BITS, sh = p % XSUM_BITS;
        unsigned __int128 x = (unsigned __int128)m << sh; /* < 2^92: three digits */
        int64_t d[3] = {(int64_t)((uint64_t)x & mask), (int64_t)((uint64_t)(x >> XSUM_BITS) & mask),
                        (int64_t)(uint64_t)(x >> (2 * XSUM_BITS))};
        int64_t sign = (int64_t)(bits >> 63) ? -1 : 1;
        for (int j = 0; j < 3 && lo + j < XSUM_DIGITS; j++)
            a[XSUM_DIGITS - 1 - lo - j] += sign * d[j];
    }
}

/* Floor division by 2^40 without relying on the shift of negative values. */
static int64_t xsum_floor_carry(int64_t d)
{
    const int64_t base = (int64_t)1 << XSUM_BITS;
    return d >= 0 ? d / base : -((-d + base - 1) / base);
}

/* Canonical digits: every digit but the top one in [0, 2^40). Exact. */
static void xsum_canon(int64_t *d)
{
    const int64_t base = (int64_t)1 << XSUM_BITS;
    for (int k = XSUM_DIGITS - 1; k > 0; k--) {
        int64_t carry = xsum_floor_carry(d[k]);
        d[k] -= carry * base;
        d[k - 1] += carry;
    }
}

void xsum_normalize(int64_t *acc, size_t n)
{
    for (size_t i = 0; i < n; i++) xsum_canon(acc + i * XSUM_STRIDE);
}

void xsum_to_double(const int64_t *acc, double *out, size_t n)
{
    /* d[k] * 2^(24 - 40k) is exact (normal range). */
    static const double w[XSUM_DIGITS] = {0x1p24, 0x1p-16, 0x1p-56, 0x1p-96, 0x1p-136, 0x1p-176};
    for (size_t i = 0; i < n; i++) {
        const int64_t *a = acc + i * XSUM_STRIDE;
        if (a[XSUM_DIGITS] != 0) {
            out[i] = NAN;
            continue;
        }
        /* Canonical digits; for a negative total, those of its magnitude, so
         * that every term has the same sign: adding smallest first then
         * rounds like one correctly rounded sum (within an ulp). */
        int64_t d[XSUM_DIGITS];
        for (int k = 0; k < XSUM_DIGITS; k++) d[k] = a[k];
        xsum_canon(d);
        double sign = 1.0;
        if (d[0] < 0) {
            for (int k = 0; k < XSUM_DIGITS; k++) d[k] = -d[k];
            xsum_canon(d);
            sign = -1.0;
        }
        double s = 0.0;
        for (int k = XSUM_DIGITS - 1; k >= 0; k--) s += (double)d[k] * w[k];
        out[i] = sign * s;
    }
}
