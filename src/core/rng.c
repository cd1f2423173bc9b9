/*
 * rng.c — counter-based random numbers (see rng.h).
 */
#include "metagrid/rng.h"

#include <math.h>

#define RNG_GOLDEN 0x9e3779b97f4a7c15ULL

uint64_t rng_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Absorb one word into a key: distinct tuples give distinct inputs to the
 * bijective mixer at every stage. */
static uint64_t rng_absorb(uint64_t key, uint64_t word)
{
    return rng_mix64(key ^ rng_mix64(word + RNG_GOLDEN));
}

void rng_stream_init(RngStream *s, uint64_t seed, RngPurpose purpose,
                     uint64_t iter, uint64_t task, uint64_t inst)
{
    uint64_t k = rng_mix64(seed ^ 0x6d6574616772696eULL); /* "metagrin" */
    k = rng_absorb(k, (uint64_t)purpose);
    k = rng_absorb(k, iter);
    k = rng_absorb(k, task);
    k = rng_absorb(k, inst);
    s->key = k;
    s->ctr = 0;
}

uint64_t rng_next_u64(RngStream *s)
{
    s->ctr++;
    return rng_mix64(s->key + s->ctr * RNG_GOLDEN);
}

double rng_uniform(RngStream *s)
{
    return (double)(rng_next_u64(s) >> 11) * 0x1.0p-53;
}

double rng_uniform_range(RngStream *s, double a, double b)
{
    return a + (b - a) * rng_uniform(s);
}

double rng_normal(RngStream *s)
{
    double u1 = rng_uniform(s), u2 = rng_uniform(s);
    if (u1 < 0x1.0p-60) u1 = 0x1.0p-60;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

uint64_t rng_below(RngStream *s, uint64_t n)
{
    uint64_t lim = UINT64_MAX - UINT64_MAX % n;
    uint64_t r;
    do r = rng_next_u64(s); while (r >= lim);
    return r % n;
}
