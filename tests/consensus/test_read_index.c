/* test_read_index.c: linearizable reads: heartbeat rounds, forwarding, leader changes. */
#include <criterion/criterion.h>

#include "sim_fixture.h"

static uint32_t answered_ok(const struct sim_world *w)
{
    uint32_t n = 0;
    uint32_t count = w->answered_count < 64 ? w->answered_count : 64;
    for (uint32_t i = 0; i < count; i++)
        n += w->answered[i].err == 0;
    return n;
}

Test(consensus_read_index, leader_answers_only_after_a_majority_heartbeat_round)
{
    struct sim_world w;
    fixture_world(&w, 3, 21);
    fixture_elect(&w, 0);
    fixture_propose(&w, 0, 3);
    fixture_converge(&w, 50);
    w.bus.cut[1][0] = w.bus.cut[2][0] = true; /* the leader hears nobody */
    cr_assert_eq(sim_world_read(&w, 0), 0);
    sim_world_run_ticks(&w, 5);
    fixture_ok(&w);
    cr_assert_eq(w.answered_count, 0, "answered without confirming leadership");
    bus_heal(&w.bus);
    sim_world_run_ticks(&w, 3);
    fixture_ok(&w);
    cr_assert_eq(answered_ok(&w), 1);
    cr_assert_eq(w.answered[0].index, 4, "the commit index: no-op + 3 writes");
    sim_world_free(&w);
}

Test(consensus_read_index, follower_read_is_forwarded_to_the_leader)
{
    struct sim_world w;
    fixture_world(&w, 5, 22);
    fixture_elect(&w, 3);
    fixture_propose(&w, 3, 4);
    fixture_converge(&w, 50);
    cr_assert_eq(sim_world_read(&w, 1), 0);
    sim_world_run_ticks(&w, 3);
    fixture_ok(&w);
    cr_assert_eq(answered_ok(&w), 1);
    cr_assert_eq(w.answered[0].index, 5);
    cr_assert_geq(w.delivered[CONSENSUS_MSG_READ_INDEX], 1);
    sim_world_free(&w);
}

/* After a leader change the new leader answers only once its no-op commits, with an index
 * covering everything the old leader committed (the checker enforces that floor). */
Test(consensus_read_index, read_after_leader_change_sees_old_commits)
{
    struct sim_world w;
    fixture_world(&w, 3, 23);
    fixture_elect(&w, 0);
    fixture_propose(&w, 0, 5);
    fixture_converge(&w, 50);
    uint64_t old_commit = consensus_commit_index(w.nodes[0].core);
    sim_world_crash(&w, 0);
    uint64_t deadline = w.now + 1000;
    while (sim_world_leader(&w) == CONSENSUS_NONE && w.now < deadline)
        sim_world_step(&w);
    uint32_t l = sim_world_leader(&w);
    cr_assert(l == 1 || l == 2);
    /* Becoming leader and committing the no-op take a round trip: read in between. */
    cr_assert_eq(consensus_commit_index(w.nodes[l].core), old_commit);
    cr_assert_eq(sim_world_read(&w, l), 0);
    cr_assert_eq(sim_world_read(&w, l), 0);
    sim_world_run_ticks(&w, 5);
    fixture_ok(&w);
    cr_assert_eq(answered_ok(&w), 2);
    for (uint32_t i = 0; i < 2; i++)
        cr_assert_gt(w.answered[i].index, old_commit, "read must include the new no-op");
    sim_world_free(&w);
}

Test(consensus_read_index, deposed_leader_fails_its_pending_reads)
{
    struct sim_world w;
    fixture_world(&w, 3, 24);
    fixture_elect(&w, 0);
    fixture_converge(&w, 50);
    bus_isolate(&w.bus, 0, 3);
    cr_assert_eq(sim_world_read(&w, 0), 0);
    sim_world_run_ticks(&w, 30); /* check-quorum deposes it */
    fixture_ok(&w);
    cr_assert_eq(w.answered_count, 1);
    cr_assert_eq(w.answered[0].err, CONSENSUS_ERR_NOT_LEADER);
    sim_world_free(&w);
}
