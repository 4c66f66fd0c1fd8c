/* test_seed.c: TEST_SEED or a fresh seed, printed (test_seed.h). */
#include "test_seed.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

uint64_t test_seed_for(const char *who)
{
    const char *env = getenv("TEST_SEED");
    uint64_t seed;
    if (env && *env) {
        char *end;
        seed = strtoull(env, &end, 0);
        if (*end) {
            fprintf(stderr, "%s: TEST_SEED=%s is not a number\n", who, env);
            exit(2);
        }
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t z = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
        z ^= (uint64_t)getpid() << 32;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;   /* splitmix64's finalizer */
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        seed = (z ^ (z >> 31)) >> 16;
    }
    fprintf(stderr, "%s: seed %" PRIu64 " (TEST_SEED=%" PRIu64 " replays it)\n", who, seed, seed);
    return seed;
}
