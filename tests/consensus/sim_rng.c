/* sim_rng.c: the simulator's seeded generator (splitmix64) and payload hashing. */
#include <assert.h>

#include "sim.h"

uint64_t sim_rng_next(struct sim_rng *rng)
{
    uint64_t z = (rng->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t sim_rng_below(struct sim_rng *rng, uint64_t n)
{
    assert(n > 0);
    return sim_rng_next(rng) % n;
}

bool sim_rng_chance(struct sim_rng *rng, uint32_t per_million)
{
    return sim_rng_below(rng, 1000000) < per_million;
}

uint64_t sim_rng_u64(void *rng)
{
    return sim_rng_next(rng);
}

uint64_t sim_payload_hash(const uint8_t *data, uint32_t len)
{
    uint64_t h = 0xCBF29CE484222325ull; /* FNV-1a */
    for (uint32_t i = 0; i < len; i++) {
        h ^= data[i];
        h *= 0x100000001B3ull;
    }
    return h;
}
