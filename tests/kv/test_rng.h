/* test_rng.h: the tests' seeded PRNG (splitmix64) and test_seed.h's seed. */
#ifndef TEST_RNG_H
#define TEST_RNG_H

#include <stdint.h>
#include <stdlib.h>

#include "test_seed.h"

struct test_rng {
    uint64_t state;
};

static inline uint64_t test_rng_next(struct test_rng *r)
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n); n > 0. The slight modulo bias does not matter for tests. */
static inline uint64_t test_rng_below(struct test_rng *r, uint64_t n) { return test_rng_next(r) % n; }

/* The seed (test_seed.h) under the name "kv", for the tests that do not name themselves. */
static inline uint64_t test_seed(void) { return test_seed_for("kv"); }

#endif
