/*
 * rng.h — counter-based random numbers.
 *
 * Every random draw in metagrid is a pure function of
 *   (seed, purpose, iteration, global task index, instance index, counter),
 * so no result depends on how tasks are spread over ranks, on the order in
 * which they are processed, or on whether a run was resumed.
 *
 * A stream is a 64-bit key (a hash of the tuple) plus a counter; draw k is
 * mix64(key + k * golden), i.e. SplitMix64 keyed by the tuple.
 */
#ifndef METAGRID_RNG_H
#define METAGRID_RNG_H

#include <stdint.h>

/* Purposes: one per independent use, so streams never collide. */
typedef enum {
    RNG_INIT = 1,        /* meta-parameter initialisation (iter = task = inst = 0) */
    RNG_TRAIN_TASK = 2,  /* a training task's parameters (iter, task) */
    RNG_TRAIN_INST = 3,  /* a training task's instances (iter, task, inst) */
    RNG_EVAL_TASK = 4,   /* held-out tasks: a stream disjoint from training */
    RNG_EVAL_INST = 5,
    RNG_VAL_TASK = 6,    /* periodic validation tasks */
    RNG_VAL_INST = 7,
    RNG_SCRATCH = 8,     /* the eval "scratch" baseline's random init */
    RNG_SWEEP = 9,       /* sweep random draws (iter = trial) */
    RNG_BENCH = 10,
    RNG_TEST = 11,
    RNG_POOL = 12        /* training draws from the solved-task pool (iter, task) */
} RngPurpose;

typedef struct {
    uint64_t key;
    uint64_t ctr;
} RngStream;

/* The SplitMix64 finaliser: a bijective 64-bit mixer. */
uint64_t rng_mix64(uint64_t z);

/* Start the stream of (seed, purpose, iter, task, inst) at counter 0. */
void rng_stream_init(RngStream *s, uint64_t seed, RngPurpose purpose,
                     uint64_t iter, uint64_t task, uint64_t inst);

uint64_t rng_next_u64(RngStream *s);
/* Uniform in [0, 1), 53 random bits. */
double rng_uniform(RngStream *s);
/* Uniform in [a, b). */
double rng_uniform_range(RngStream *s, double a, double b);
/* Standard normal (Box-Muller, two uniforms per draw; no cached state). */
double rng_normal(RngStream *s);
/* Uniform integer in [0, n), n > 0 (rejection, unbiased). */
uint64_t rng_below(RngStream *s, uint64_t n);

#endif
