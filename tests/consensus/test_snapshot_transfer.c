/* test_snapshot_transfer.c: snapshots streamed in chunks: long transfers, loss, resume, leader
   change, the log's tail, and snapshots the follower has no use for. */
#include <criterion/criterion.h>

#include "sim_fixture.h"

/* Leader 0 and follower 1 compact past follower 2, which was down; 2 comes back. */
static void leave_behind(struct sim_world *w, uint64_t seed, uint32_t chunks)
{
    fixture_world(w, 3, seed);
    w->snap = (struct sim_snap_config){.chunks_min = chunks, .chunks_max = chunks,
                                       .chunk_units = 4, .window = 4, .resend_units = 20};
    fixture_elect(w, 0);
    fixture_propose(w, 0, 5);
    fixture_converge(w, 50);
    sim_world_crash(w, 2);
    fixture_propose(w, 0, 40);
    sim_world_run_ticks(w, 10);
    fixture_ok(w);
    sim_world_compact(w, 0);
    sim_world_compact(w, 1);
    sim_world_restart(w, 2);
}

static enum consensus_progress_state state_of(const struct sim_world *w, uint32_t leader,
                                              uint32_t peer)
{
    struct consensus_peer_progress p;
    cr_assert(consensus_peer_progress(w->nodes[leader].core, peer, &p));
    return p.state;
}

/* 300 chunks, one per 4 time units: 12 election timeouts. Each acknowledged chunk keeps the
   follower in the snapshot state, so the transfer runs once, start to end. */
Test(consensus_snapshot_transfer, a_transfer_of_many_election_timeouts_runs_once)
{
    struct sim_world w;
    leave_behind(&w, 41, 300);
    uint64_t term = consensus_term(w.nodes[0].core);
    uint32_t ticks = 0;
    while (!sim_world_converged(&w) && ticks++ < 400) {
        sim_world_run_ticks(&w, 1);
        fixture_ok(&w);
        if (w.snap_stats.started == 1 && w.snap_stats.done == 0)
            cr_assert_eq(state_of(&w, 0, 2), CONSENSUS_PROGRESS_SNAPSHOT,
                         "tick %u: the leader gave up on the transfer", ticks);
    }
    cr_assert(sim_world_converged(&w), "no convergence in %u ticks", ticks);
    cr_assert_geq(ticks, 12 * 10, "the transfer took %u ticks: not long", ticks);
    cr_assert_eq(consensus_term(w.nodes[0].core), term, "one leader throughout");
    cr_assert_eq(w.snap_stats.started, 1);
    cr_assert_eq(w.snap_stats.resumed, 0, "the transfer stalled (ordered again)");
    cr_assert_eq(w.snap_stats.chunks, 300, "every chunk sent once");
    cr_assert_eq(w.snap_stats.rewinds, 0);
    cr_assert_eq(w.nodes[2].sm.digest, w.nodes[0].sm.digest);
    sim_world_free(&w);
}

/* Lost, duplicated and late chunks and acks: the transfer resends from the last
   acknowledged chunk, never from the start. */
Test(consensus_snapshot_transfer, lost_chunks_resend_from_the_last_acknowledged_one)
{
    struct sim_world w;
    leave_behind(&w, 42, 100);
    uint64_t term = consensus_term(w.nodes[0].core);
    w.bus.faults = (struct bus_faults){.drop_ppm = 100000, .dup_ppm = 100000, .delay_min = 1,
                                       .delay_max = 6};
    fixture_converge(&w, 600);
    cr_assert_eq(consensus_term(w.nodes[0].core), term, "one leader throughout");
    cr_assert_eq(w.snap_stats.started, 1, "the transfer started over");
    cr_assert_gt(w.snap_stats.rewinds, 0, "nothing was lost: the test tests nothing");
    cr_assert_lt(w.snap_stats.chunks, 300, "%llu chunks sent for 100",
                 (unsigned long long)w.snap_stats.chunks);
    cr_assert_eq(w.nodes[2].sm.digest, w.nodes[0].sm.digest);
    sim_world_free(&w);
}

/* A transfer that stops moving (the link cut) sends the follower back to probing after an
   election timeout; once healed, the leader orders the same snapshot and the transfer goes on
   from where it stopped. */
Test(consensus_snapshot_transfer, a_stalled_transfer_resumes_where_it_stopped)
{
    struct sim_world w;
    leave_behind(&w, 43, 100);
    while (w.snap_stats.chunks < 40 && !w.failed)
        sim_world_step(&w);
    w.bus.cut[0][2] = w.bus.cut[2][0] = true;
    sim_world_run_ticks(&w, 30);
    fixture_ok(&w);
    cr_assert_eq(sim_world_leader(&w), 0, "node 1 keeps leader 0 in office");
    /* No progress for an election timeout: back to probing, which orders it again. */
    cr_assert_geq(w.snap_stats.resumed, 1, "the stalled transfer was never ordered again");
    uint64_t sent = w.snap_stats.chunks;
    bus_heal(&w.bus);
    fixture_converge(&w, 300);
    cr_assert_eq(w.snap_stats.started, 1, "the transfer started over");
    cr_assert_lt(w.snap_stats.chunks - sent, 100, "the rest, not the whole, went after heal");
    cr_assert_eq(w.nodes[2].sm.digest, w.nodes[0].sm.digest);
    sim_world_free(&w);
}

/* The leader dies mid-transfer: the new leader (its own term, its own snapshot) starts its
   own transfer, and the follower drops the old partial one for it. */
Test(consensus_snapshot_transfer, a_new_leader_mid_transfer_sends_its_own)
{
    struct sim_world w;
    leave_behind(&w, 44, 100);
    while (w.snap_stats.chunks < 40 && !w.failed)
        sim_world_step(&w);
    sim_world_crash(&w, 0);
    for (uint32_t t = 0; t < 100 && sim_world_leader(&w) != 1; t++)
        sim_world_run_ticks(&w, 1);
    cr_assert_eq(sim_world_leader(&w), 1);
    sim_world_restart(&w, 0);
    fixture_converge(&w, 300);
    cr_assert_eq(w.snap_stats.started, 2);
    cr_assert_eq(w.nodes[2].sm.digest, w.nodes[1].sm.digest);
    sim_world_free(&w);
}

/* With a tail of the log kept below the snapshot, a follower a little behind gets entries. */
Test(consensus_snapshot_transfer, a_follower_a_little_behind_catches_up_from_the_tail)
{
    struct sim_world w;
    fixture_world(&w, 3, 45);
    w.cfg.snapshot_catchup_entries = 50;
    for (uint32_t i = 0; i < 3; i++) { /* the cores take the config when they start */
        sim_world_crash(&w, i);
        sim_world_restart(&w, i);
    }
    fixture_elect(&w, 0);
    fixture_propose(&w, 0, 5);
    fixture_converge(&w, 50);
    sim_world_crash(&w, 2);
    fixture_propose(&w, 0, 30);
    sim_world_run_ticks(&w, 10);
    sim_world_compact(&w, 0);
    sim_world_compact(&w, 1);
    uint64_t snap = consensus_snapshot_index(w.nodes[0].core);
    cr_assert_geq(snap, 35);
    cr_assert_eq(consensus_first_index(w.nodes[0].core), 1, "the log keeps its tail");
    /* The tail outlives a restart of the leader. */
    sim_world_crash(&w, 0);
    sim_world_restart(&w, 0);
    cr_assert_eq(consensus_first_index(w.nodes[0].core), 1);
    cr_assert_eq(consensus_applied_index(w.nodes[0].core), snap);
    sim_world_restart(&w, 2);
    fixture_converge(&w, 200);
    cr_assert_eq(w.snap_stats.started, 0, "a snapshot was sent");
    cr_assert_eq(w.nodes[2].sm.digest, w.nodes[0].sm.digest);
    /* Past the tail, the snapshot. */
    sim_world_crash(&w, 2);
    fixture_propose(&w, sim_world_leader(&w), 70);
    sim_world_run_ticks(&w, 10);
    for (uint32_t i = 0; i < 2; i++)
        sim_world_compact(&w, i);
    cr_assert_gt(consensus_first_index(w.nodes[0].core), 40);
    sim_world_restart(&w, 2);
    fixture_converge(&w, 200);
    cr_assert_geq(w.snap_stats.done, 1);
    cr_assert_eq(w.nodes[2].sm.digest, w.nodes[0].sm.digest);
    sim_world_free(&w);
}

/* A whole snapshot at or below the follower's commit changes nothing: the core answers
   success (how far it is) and does not ask for it to be applied, so the server drops it. */
Test(consensus_snapshot_transfer, a_snapshot_the_follower_holds_is_not_applied)
{
    struct sim_world w;
    fixture_world(&w, 3, 46);
    fixture_elect(&w, 0);
    fixture_propose(&w, 0, 10);
    fixture_converge(&w, 50);
    struct consensus_node *f = w.nodes[2].core;
    uint64_t commit = consensus_commit_index(f);
    struct consensus_msg m = {.type = CONSENSUS_MSG_SNAPSHOT, .from = 0, .to = 2,
                              .term = consensus_term(f), .index = commit - 3,
                              .log_term = consensus_term_at(f, commit - 3)};
    cr_assert_eq(consensus_step(f, &m), 0);
    cr_assert_not(consensus_snapshot_accepted(f));
    struct consensus_ready rd;
    consensus_ready(f, &rd);
    cr_assert_not(rd.snapshot_apply);
    cr_assert_eq(rd.msg_count, 1);
    cr_assert_eq(rd.msgs[0].type, CONSENSUS_MSG_SNAPSHOT_RESP);
    cr_assert(rd.msgs[0].success);
    cr_assert_eq(rd.msgs[0].index, commit);
    consensus_advance(f, &rd);
    sim_world_free(&w);
}
