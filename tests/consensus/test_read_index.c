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

/* Runs until some node other than `not` leads and `follower` follows it; fails after 100
   ticks. Returns the new leader. */
static uint32_t run_until_follows_new_leader(struct sim_world *w, uint32_t not, uint32_t follower)
{
    for (uint32_t t = 0; t < 100 && !w->failed; t++) {
        uint32_t l = sim_world_leader(w);
        if (l != CONSENSUS_NONE && l != not &&
            consensus_leader(w->nodes[follower].core) == l)
            return l;
        sim_world_run_ticks(w, 1);
    }
    fixture_ok(w);
    cr_assert_fail("seed %llu: node %u never followed a new leader", (unsigned long long)w->seed,
                   follower);
    return CONSENSUS_NONE;
}

/* A follower's read waits on the leader it went to: when the follower learns of a newer
   term, it fails at once (the caller retries with the new leader), not after a timeout.
   Node 1's clock is stopped, so nothing but the new leader's message can answer it. */
Test(consensus_read_index, a_follower_read_fails_as_soon_as_its_leader_changes)
{
    struct sim_world w;
    fixture_world(&w, 5, 25);
    w.answer_bound_ticks = 2;
    fixture_elect(&w, 0);
    fixture_converge(&w, 50);
    bus_isolate(&w.bus, 0, 5);
    w.no_tick[1] = true;
    cr_assert_eq(sim_world_read(&w, 1), 0); /* lost on the way to node 0 */
    uint32_t l = run_until_follows_new_leader(&w, 0, 1);
    sim_world_run_ticks(&w, 1);
    fixture_ok(&w);
    cr_assert_eq(w.answered_count, 1, "leader %u", l);
    cr_assert_eq(w.answered[0].err, CONSENSUS_ERR_NOT_LEADER);
    cr_assert_eq(w.read_count, 0);
    sim_world_free(&w);
}

/* A read the leader never answers (lost: node 1 cannot reach it, though it hears it) fails
   after two election timeouts, and the follower keeps following. */
Test(consensus_read_index, a_follower_read_the_leader_never_answers_fails_after_two_elections)
{
    struct sim_world w;
    fixture_world(&w, 3, 26);
    fixture_elect(&w, 0);
    fixture_converge(&w, 50);
    w.bus.cut[1][0] = true;
    cr_assert_eq(sim_world_read(&w, 1), 0);
    sim_world_run_ticks(&w, 2 * 10 - 2);
    fixture_ok(&w);
    cr_assert_eq(w.answered_count, 0, "failed before its time");
    sim_world_run_ticks(&w, 3);
    fixture_ok(&w);
    cr_assert_eq(w.answered_count, 1);
    cr_assert_eq(w.answered[0].err, CONSENSUS_ERR_NO_LEADER);
    cr_assert_eq(consensus_leader(w.nodes[1].core), 0, "node 1 still follows node 0");
    sim_world_free(&w);
}

/* Answers for reads no longer waiting, or from a node that is not the leader, are dropped
   (the checker fails a read answered twice or never asked); the pending ones are bounded. */
Test(consensus_read_index, stray_answers_are_dropped_and_pending_reads_are_bounded)
{
    struct sim_world w;
    fixture_world(&w, 3, 27);
    fixture_elect(&w, 0);
    fixture_converge(&w, 50);
    struct consensus_node *f = w.nodes[1].core;
    struct consensus_msg m = {.type = CONSENSUS_MSG_READ_INDEX_RESP, .from = 0, .to = 1,
                              .success = true, .index = 1, .seq = 999};
    cr_assert_eq(consensus_step(f, &m), 0); /* never asked */
    for (uint32_t i = 0; i < 16; i++)
        cr_assert_eq(consensus_read_index(f, 1000 + i), 0);
    cr_assert_eq(consensus_read_index(f, 2000), CONSENSUS_ERR_BUSY, "read_pending_max is 16");
    m.from = 2;
    m.seq = 1000;
    cr_assert_eq(consensus_step(f, &m), 0); /* not from its leader */
    struct consensus_ready rd;
    consensus_ready(f, &rd);
    cr_assert_eq(rd.read_count, 0);
    consensus_advance(f, &rd);
    m.from = 0;
    for (uint32_t i = 0; i < 2; i++) {
        cr_assert_eq(consensus_step(f, &m), 0); /* the second is a duplicate */
        consensus_ready(f, &rd);
        cr_assert_eq(rd.read_count, 1 - i);
        consensus_advance(f, &rd);
    }
    cr_assert_eq(consensus_read_index(f, 2000), 0, "room again");
    sim_world_free(&w);
}

/* A single voter is its own majority: once it has committed in its term, it answers a read
   index in its next batch, with no heartbeat round and no tick (etcd-io/raft does the same
   for a 1-node cluster), so a 1-node cluster's reads cost no extra turn (issue 15, item 2). */
Test(consensus_read_index, a_single_voter_leader_answers_in_its_next_batch)
{
    struct sim_world w;
    fixture_world(&w, 1, 25);
    fixture_elect(&w, 0);
    fixture_propose(&w, 0, 2);
    fixture_converge(&w, 50);
    struct consensus_node *core = w.nodes[0].core;
    uint64_t commit = consensus_commit_index(core);
    cr_assert_eq(commit, 3, "the no-op and two writes");
    cr_assert_eq(consensus_read_index(core, 77), 0);
    cr_assert(consensus_has_ready(core));
    struct consensus_ready rd;
    consensus_ready(core, &rd);
    cr_assert_eq(rd.read_count, 1);
    cr_assert_eq(rd.reads[0].ctx, 77);
    cr_assert_eq(rd.reads[0].err, 0);
    cr_assert_eq(rd.reads[0].index, commit);
    cr_assert_eq(rd.msg_count, 0, "no heartbeat round to nobody");
    consensus_advance(core, &rd);
    sim_world_free(&w);
}
