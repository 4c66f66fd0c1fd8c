/* test_seed.h: the one seed of every seeded test. TEST_SEED=N in the environment replays a run;
   without it each call draws a fresh seed. Either way the seed is printed on stderr with the
   line that replays it, so a failing test's log (meson test --print-errorlogs) carries it. */
#ifndef TEST_SEED_H
#define TEST_SEED_H

#include <stdint.h>

/* The seed for `who` (the test's name, printed with it). A fresh seed is below 2^48, so a
   test may count up from it without wrapping. */
uint64_t test_seed_for(const char *who);

#endif
