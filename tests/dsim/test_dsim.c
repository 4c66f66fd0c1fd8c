/* test_dsim.c: the real driver in the simulator: 2,000 fixed seeds, 250 fresh ones, and the
   seeds that found bugs. */
#include <criterion/criterion.h>

#include "dsim.h"
#include "test_seed.h"

#define SEEDS_PER_TEST 250u

static void sweep(uint64_t first, uint64_t count)
{
    uint64_t failed = 0, first_failed = 0;
    for (uint64_t s = first; s < first + count; s++) {
        struct dsim_config cfg;
        dsim_config_default(&cfg, s);
        if (!dsim_run(s, &cfg, NULL) && failed++ == 0)
            first_failed = s;
    }
    cr_assert_eq(failed, 0, "%llu seeds failed, first %llu (replay: build/tests/dsim/dsim --seed "
                            "%llu)", (unsigned long long)failed,
                 (unsigned long long)first_failed, (unsigned long long)first_failed);
}

Test(dsim, seeds_0001_0250) { sweep(1, SEEDS_PER_TEST); }
Test(dsim, seeds_0251_0500) { sweep(251, SEEDS_PER_TEST); }
Test(dsim, seeds_0501_0750) { sweep(501, SEEDS_PER_TEST); }
Test(dsim, seeds_0751_1000) { sweep(751, SEEDS_PER_TEST); }
Test(dsim, seeds_1001_1250) { sweep(1001, SEEDS_PER_TEST); }
Test(dsim, seeds_1251_1500) { sweep(1251, SEEDS_PER_TEST); }
Test(dsim, seeds_1501_1750) { sweep(1501, SEEDS_PER_TEST); }
Test(dsim, seeds_1751_2000) { sweep(1751, SEEDS_PER_TEST); }

/* Beside the fixed seeds, 250 from a fresh base each run (printed; TEST_SEED=base replays). */
Test(dsim, seeds_from_a_fresh_base)
{
    sweep(test_seed_for("dsim: the fresh base"), SEEDS_PER_TEST);
}

/* Seeds that found driver bugs, replayed by name. */
static void replay(uint64_t seed)
{
    struct dsim_config cfg;
    dsim_config_default(&cfg, seed);
    cr_assert(dsim_run(seed, &cfg, NULL), "seed %llu (replay: build/tests/dsim/dsim --seed %llu "
                                          "--verbose)", (unsigned long long)seed,
              (unsigned long long)seed);
}

/* A background snapshot finished on a node whose storage had failed inside a batch: the
   driver compacted the core between its ready and advance (the core's assertion). */
Test(dsim, seed_48_a_snapshot_done_on_a_failed_node_leaves_its_core_alone)
{
    replay(48);
}

/* A snapshot the node took finished while a newer one it received waited for its install:
   the driver compacted the log past its end (the WAL refused it with a warning). */
Test(dsim, seed_100356_no_compaction_past_the_logs_end_while_an_install_waits)
{
    replay(100356);
}
