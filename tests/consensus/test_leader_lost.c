/* test_leader_lost.c: a follower told its leader's connection was reset (consensus_leader_lost). */
#include <criterion/criterion.h>

#include "sim_fixture.h"

static void leader_lost(struct sim_world *w, uint32_t node, uint32_t peer)
{
    cr_assert(!w->nodes[node].syncing);
    consensus_leader_lost(w->nodes[node].core, peer);
    sim_world_step(w);
}

/* The leader's process died and both followers saw its connection reset: the first after it
 * campaigns at once, the other grants (it forgot the leader too), well inside the election
 * timeout that silence would have cost. */
Test(consensus_leader_lost, a_reset_leader_is_replaced_within_a_few_ticks)
{
    struct sim_world w;
    fixture_world(&w, 3, 41);
    fixture_elect(&w, 0);
    fixture_propose(&w, 0, 4);
    fixture_converge(&w, 50);
    uint64_t term = consensus_term(w.nodes[1].core);
    sim_world_crash(&w, 0);
    leader_lost(&w, 2, 0);
    leader_lost(&w, 1, 0);
    uint32_t ticks = 0;
    while (ticks < 30 && sim_world_leader(&w) == CONSENSUS_NONE) {
        sim_world_run_ticks(&w, 1);
        ticks++;
    }
    fixture_ok(&w);
    cr_assert_eq(sim_world_leader(&w), 1, "seed %llu: node 1 (rank 0) did not lead",
                 (unsigned long long)w.seed);
    cr_assert_lt(ticks, 3, "took %u ticks; the election timeout is 10", ticks);
    cr_assert_eq(consensus_term(w.nodes[1].core), term + 1);
    sim_world_free(&w);
}

/* A reset that was not a death (the leader only dropped that connection): the follower's
 * pre-vote is refused by the one that still hears the leader, and nothing changes. */
Test(consensus_leader_lost, a_false_reset_does_not_depose_a_live_leader)
{
    struct sim_world w;
    fixture_world(&w, 3, 42);
    fixture_elect(&w, 0);
    fixture_converge(&w, 50);
    uint64_t term = consensus_term(w.nodes[0].core);
    leader_lost(&w, 1, 0);
    leader_lost(&w, 2, 1); /* not its leader: ignored */
    sim_world_run_ticks(&w, 40);
    fixture_ok(&w);
    cr_assert_eq(sim_world_leader(&w), 0, "a live leader was deposed");
    cr_assert_eq(consensus_term(w.nodes[0].core), term);
    cr_assert_eq(consensus_leader(w.nodes[1].core), 0, "the follower did not find it again");
    sim_world_free(&w);
}
