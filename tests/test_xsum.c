/*
 * test_xsum.c — exact sums are order-independent and accurate.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "metagrid/rng.h"
#include "metagrid/xsum.h"

int main(void)
{
    enum { N = 1000 };
    static double v[N];
    RngStream s;
    rng_stream_init(&s, 3, RNG_TEST, 0, 0, 0);
    for (int i = 0; i < N; i++) v[i] = rng_normal(&s) * ldexp(1.0, (int)rng_below(&s, 60) - 30);

    /* Forward order vs reverse order vs a random split into "ranks". */
    int64_t a[XSUM_STRIDE] = {0}, b[XSUM_STRIDE] = {0}, c1[XSUM_STRIDE] = {0}, c2[XSUM_STRIDE] = {0};
    for (int i = 0; i < N; i++) xsum_add(a, &v[i], 1);
    for (int i = N - 1; i >= 0; i--) xsum_add(b, &v[i], 1);
    for (int i = 0; i < N; i++) xsum_add(i % 3 ? c1 : c2, &v[i], 1);
    for (int k = 0; k < XSUM_STRIDE; k++) c1[k] += c2[k];
    double ra, rb, rc;
    xsum_to_double(a, &ra, 1);
    xsum_to_double(b, &rb, 1);
    xsum_to_double(c1, &rc, 1);
    CHECK(memcmp(&ra, &rb, sizeof ra) == 0);
    CHECK(memcmp(&ra, &rc, sizeof ra) == 0);

    /* Accuracy against a long-double Kahan reference. */
    long double ref = 0, comp = 0;
    for (int i = 0; i < N; i++) {
        long double y = v[i] - comp, t = ref + y;
        comp = (t - ref) - y;
        ref = t;
    }
    CHECK_MSG(fabs(ra - (double)ref) <= 1e-15 * fabs((double)ref) + 1e-300, "%.17g vs %.17g", ra, (double)ref);

    /* Cancellation: 1e20-scale terms are refused (flag), ordinary exact cases. */
    double big[3] = {1.0, 1e-30, -1.0};
    int64_t d[XSUM_STRIDE] = {0};
    xsum_add(d, big, 1); xsum_add(d, big + 1, 1); xsum_add(d, big + 2, 1);
    double rd;
    xsum_to_double(d, &rd, 1);
    CHECK_NEAR(rd, 1e-30, 1e-15 * 1e-30);
    CHECK(rd > 0);

    double bad[2] = {NAN, 1.0};
    int64_t e[2 * XSUM_STRIDE] = {0};
    xsum_add(e, bad, 2);
    double re[2];
    xsum_to_double(e, re, 2);
    CHECK(isnan(re[0]));
    CHECK(re[1] == 1.0);
    /* Edges: the largest accepted magnitudes, tiny values (dropped toward
     * zero), subnormals, and the first refused magnitude. */
    double edge[6] = {0x1.fffffffffffffp62, -0x1.fffffffffffffp62, 1e-300, 5e-324, 0x1p-176, 3.0};
    int64_t f[6 * XSUM_STRIDE] = {0};
    xsum_add(f, edge, 6);
    double rf[6];
    xsum_to_double(f, rf, 6);
    CHECK(rf[0] == edge[0] && rf[1] == edge[1]);
    CHECK(rf[2] == 0.0 && rf[3] == 0.0);
    CHECK(rf[4] == 0x1p-176 && rf[5] == 3.0);
    int64_t g[XSUM_STRIDE] = {0};
    double two63 = 0x1p63, r63;
    xsum_add(g, &two63, 1);
    xsum_to_double(g, &r63, 1);
    CHECK(isnan(r63));
    /* x + (-x) is exactly zero for every magnitude in range. */
    int ok = 1;
    for (int ex = -170; ex < 62; ex += 7) {
        int64_t h[XSUM_STRIDE] = {0};
        double x = ldexp(1.2345678901234567, ex), mx = -x, z;
        xsum_add(h, &x, 1);
        xsum_add(h, &mx, 1);
        xsum_to_double(h, &z, 1);
        ok &= z == 0.0;
        int64_t one[XSUM_STRIDE] = {0};
        xsum_add(one, &x, 1);
        xsum_to_double(one, &z, 1);
        if (ex - 52 >= -176) ok &= z == x; /* every bit at or above 2^-176: exact */
    }
    CHECK(ok);
    /* Cancellation across digits decodes within an ulp (review case). */
    {
        int64_t c[XSUM_STRIDE] = {0};
        double t[3] = {0x1p24, -(0x1p24 - 0x1p-10), -0x1p-60}, r;
        for (int i = 0; i < 3; i++) xsum_add(c, &t[i], 1);
        xsum_to_double(c, &r, 1);
        CHECK_MSG(r == 0x1.ffffffffffff8p-11, "%a", r);
        for (int i = 0; i < 3; i++) t[i] = -t[i];
        int64_t cn[XSUM_STRIDE] = {0};
        for (int i = 0; i < 3; i++) xsum_add(cn, &t[i], 1);
        xsum_to_double(cn, &r, 1);
        CHECK_MSG(r == -0x1.ffffffffffff8p-11, "%a", r);
    }
    /* normalize keeps the value and lets far more than 2^23 terms add up. */
    {
        /* just below 2^24: digit 1 gets ~2^40 per term, so 2^24 terms would
         * overflow int64 without the periodic normalisation */
        int64_t c[XSUM_STRIDE] = {0};
        double near24 = 0x1.fffffep23, r;
        for (long i = 0; i < (1L << 24); i++) {
            xsum_add(c, &near24, 1);
            if ((i & 0xfffff) == 0xfffff) xsum_normalize(c, 1);
        }
        xsum_to_double(c, &r, 1);
        CHECK_MSG(r == 0x1.fffffep47, "%a", r);
    }
    return TEST_REPORT();
}
