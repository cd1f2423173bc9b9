/*
 * test_rng.c — counter-based RNG: purity, independence, distribution.
 */
#include <string.h>

#include "harness.h"
#include "metagrid/rng.h"

int main(void)
{
    RngStream a, b;
    /* Purity: the same tuple gives the same stream, whenever it is drawn. */
    rng_stream_init(&a, 7, RNG_TRAIN_TASK, 3, 11, 0);
    double first[8];
    for (int i = 0; i < 8; i++) first[i] = rng_uniform(&a);
    rng_stream_init(&b, 99, RNG_TRAIN_TASK, 3, 12, 0); /* interleave another stream */
    (void)rng_uniform(&b);
    rng_stream_init(&a, 7, RNG_TRAIN_TASK, 3, 11, 0);
    int same = 1;
    for (int i = 0; i < 8; i++) same &= rng_uniform(&a) == first[i];
    CHECK(same);

    /* Every field of the tuple changes the stream. */
    uint64_t base[5] = {7, RNG_TRAIN_TASK, 3, 11, 0};
    for (int f = 0; f < 5; f++) {
        uint64_t t[5];
        memcpy(t, base, sizeof t);
        t[f] += 1;
        rng_stream_init(&b, t[0], (RngPurpose)t[1], t[2], t[3], t[4]);
        CHECK_MSG(rng_uniform(&b) != first[0], "field %d", f);
    }

    /* Moments of uniform and normal draws. */
    rng_stream_init(&a, 1, RNG_TEST, 0, 0, 0);
    const int n = 200000;
    double su = 0, su2 = 0, sn = 0, sn2 = 0, mn = 1, mx = 0;
    for (int i = 0; i < n; i++) {
        double u = rng_uniform(&a);
        su += u; su2 += u * u;
        mn = u < mn ? u : mn; mx = u > mx ? u : mx;
        double z = rng_normal(&a);
        sn += z; sn2 += z * z;
    }
    CHECK_NEAR(su / n, 0.5, 0.01);
    CHECK_NEAR(su2 / n - 0.25, 1.0 / 12, 0.01);
    CHECK(mn >= 0.0 && mx < 1.0);
    CHECK_NEAR(sn / n, 0.0, 0.01);
    CHECK_NEAR(sn2 / n, 1.0, 0.02);

    /* rng_below: in range, all values hit. */
    int hit[7] = {0};
    int ok = 1;
    for (int i = 0; i < 7000; i++) {
        uint64_t r = rng_below(&a, 7);
        ok &= r < 7;
        if (r < 7) hit[r]++;
    }
    CHECK(ok);
    for (int i = 0; i < 7; i++) CHECK_MSG(hit[i] > 800 && hit[i] < 1200, "bucket %d: %d", i, hit[i]);

    /* Range helper. */
    double r = rng_uniform_range(&a, 10, 100);
    CHECK(r >= 10 && r < 100);
    return TEST_REPORT();
}
