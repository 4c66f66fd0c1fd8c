/* test_sim.c: the seed sweep: random proposals and faults, heal, converge, fail over. */
#include <criterion/criterion.h>

#include "sim.h"
#include "test_seed.h"

/* 2,000 seeds in 8 tests so Criterion spreads them over the cores. */
#define SWEEP_SEEDS_PER_TEST 250u

static void sweep(uint64_t first)
{
    uint64_t failed = 0, first_failed = 0;
    for (uint64_t s = first; s < first + SWEEP_SEEDS_PER_TEST; s++) {
        struct sim_chaos_config cfg;
        sim_chaos_config_default(&cfg, s % 2 ? 3 : 5);
        struct sim_chaos_result r;
        if (!sim_chaos_run(s, &cfg, &r)) {
            if (failed++ == 0)
                first_failed = s;
        }
    }
    cr_assert_eq(failed, 0, "%llu seeds failed, first %llu (replay: consensus_sim --seed %llu "
                            "--nodes %u --verbose)",
                 (unsigned long long)failed, (unsigned long long)first_failed,
                 (unsigned long long)first_failed, first_failed % 2 ? 3u : 5u);
}

Test(consensus_sim, seeds_0001_0250) { sweep(1); }
Test(consensus_sim, seeds_0251_0500) { sweep(251); }
Test(consensus_sim, seeds_0501_0750) { sweep(501); }
Test(consensus_sim, seeds_0751_1000) { sweep(751); }
Test(consensus_sim, seeds_1001_1250) { sweep(1001); }
Test(consensus_sim, seeds_1251_1500) { sweep(1251); }
Test(consensus_sim, seeds_1501_1750) { sweep(1501); }
Test(consensus_sim, seeds_1751_2000) { sweep(1751); }

/* Random membership changes (1..5 bootstrap voters, spares to add) under the same faults. */
static void sweep_members(uint64_t first)
{
    uint64_t failed = 0, first_failed = 0, changes = 0;
    for (uint64_t s = first; s < first + SWEEP_SEEDS_PER_TEST; s++) {
        struct sim_chaos_config cfg;
        sim_chaos_config_members(&cfg, (uint32_t)(1 + s % 5));
        struct sim_chaos_result r;
        if (!sim_chaos_run(s, &cfg, &r) && failed++ == 0)
            first_failed = s;
        changes += r.changes;
    }
    cr_assert_eq(failed, 0, "%llu seeds failed, first %llu (replay: consensus_sim --members "
                            "--seed %llu --verbose)",
                 (unsigned long long)failed, (unsigned long long)first_failed,
                 (unsigned long long)first_failed);
    /* The sweep must change membership, not only try to. */
    cr_assert_gt(changes, SWEEP_SEEDS_PER_TEST, "only %llu changes committed",
                 (unsigned long long)changes);
}

Test(consensus_sim, members_0001_0250) { sweep_members(1); }
Test(consensus_sim, members_0251_0500) { sweep_members(251); }
Test(consensus_sim, members_0501_0750) { sweep_members(501); }
Test(consensus_sim, members_0751_1000) { sweep_members(751); }

/* Beside the fixed seeds, 250 more from a fresh base each run (printed; TEST_SEED=base replays
   them), so every run also tries seeds no earlier run did. */
Test(consensus_sim, seeds_from_a_fresh_base)
{
    sweep(test_seed_for("consensus_sim: the fresh base"));
}
