/* test_dsim.c: the real driver in the simulator: 2,000 fixed seeds, 250 fresh ones, and the
   seeds that found bugs. */
#include <criterion/criterion.h>

#include "dsim.h"
#include "log.h"
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

/* Random membership changes through the driver (5 or 7 nodes, 2 or 3 of them spares to add)
   under the same faults: every check holds, and the changes do happen. */
static void sweep_members(uint64_t first, uint64_t count)
{
    uint64_t failed = 0, first_failed = 0, applied = 0;
    for (uint64_t s = first; s < first + count; s++) {
        struct dsim_config cfg;
        dsim_config_members(&cfg, s);
        struct dsim_stats st;
        if (!dsim_run(s, &cfg, &st) && failed++ == 0)
            first_failed = s;
        applied += st.changes_applied;
    }
    cr_assert_eq(failed, 0, "%llu seeds failed, first %llu (replay: build/tests/dsim/dsim "
                            "--members --seed %llu)", (unsigned long long)failed,
                 (unsigned long long)first_failed, (unsigned long long)first_failed);
    cr_assert_gt(applied, count, "only %llu membership changes applied", (unsigned long long)applied);
}

Test(dsim, members_0001_0250) { sweep_members(1, SEEDS_PER_TEST); }
Test(dsim, members_0251_0500) { sweep_members(251, SEEDS_PER_TEST); }

/* Beside the fixed seeds, 250 from a fresh base each run (printed; TEST_SEED=base replays). */
Test(dsim, seeds_from_a_fresh_base)
{
    sweep(test_seed_for("dsim: the fresh base"), SEEDS_PER_TEST);
}

/* Seeds that found driver bugs, replayed by name. A seed stands for its scenario only while
   the simulator draws its randomness the same way: after a change there, check that each
   still fails with its fix reverted (else find another with the fix reverted and a sweep). */
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

/* cluster_invariants() finds a driver whose books are wrong (else the sweep proves nothing). */
Test(dsim, the_invariants_catch_a_broken_driver)
{
    log_set_level((enum log_level)(LOG_ERROR + 1));
    struct dsim_config cfg;
    dsim_config_default(&cfg, 1);
    static struct dsim_world w;
    dsim_world_init(&w, 1, &cfg);
    dsim_world_run(&w, 1000);
    uint32_t l = dsim_leader(&w);
    cr_assert_neq(l, CONSENSUS_NONE, "no leader in 1 s");
    struct cluster_node *n = w.nodes[l].node;
    dsim_propose(&w, l, 0);
    dsim_propose(&w, l, 1);
    cr_assert_null(cluster_invariants(n, true));
    cr_assert(n->proposals && n->proposals->next, "two proposals wait");

    n->waiter_count++;
    cr_assert_str_eq(cluster_invariants(n, true), "waiter_count is not the number of waiters");
    n->waiter_count--;
    uint64_t first = n->proposals->index;
    n->proposals->index = n->proposals->next->index + 1;
    cr_assert_str_eq(cluster_invariants(n, true), "proposal waiters out of index order");
    n->proposals->index = consensus_applied_index(n->core);
    cr_assert_str_eq(cluster_invariants(n, true),
                     "a proposal waiter at or below the applied index");
    n->proposals->index = first;
    struct cluster_waiter *last = n->proposals_last;
    n->proposals_last = n->proposals;
    cr_assert_str_eq(cluster_invariants(n, true), "proposals_last is not the last proposal waiter");
    n->proposals_last = last;
    n->in_ready = true;
    cr_assert_str_eq(cluster_invariants(n, true), "a turn ended inside a ready batch");
    n->in_ready = false;
    cr_assert_null(cluster_invariants(n, true));
    dsim_world_run(&w, 2000);
    cr_assert(!w.failed, "%s", w.failure);
    dsim_world_free(&w);
}
