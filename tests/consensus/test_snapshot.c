/* test_snapshot.c: compaction, and a far-behind follower brought back by a snapshot. */
#include <criterion/criterion.h>

#include "sim_fixture.h"

Test(consensus_snapshot, far_behind_follower_installs_the_snapshot_and_resumes)
{
    struct sim_world w;
    fixture_world(&w, 3, 31);
    fixture_elect(&w, 0);
    fixture_propose(&w, 0, 5);
    fixture_converge(&w, 50);
    sim_world_crash(&w, 2);
    fixture_propose(&w, 0, 60);
    sim_world_run_ticks(&w, 10);
    fixture_ok(&w);
    sim_world_compact(&w, 0);
    sim_world_compact(&w, 1);
    uint64_t snap = consensus_first_index(w.nodes[0].core) - 1;
    cr_assert_geq(snap, 60, "the leader compacted its log");
    sim_world_restart(&w, 2);
    fixture_converge(&w, 50);
    cr_assert_geq(w.delivered[CONSENSUS_MSG_SNAPSHOT], 1);
    cr_assert_eq(consensus_first_index(w.nodes[2].core), snap + 1, "the log restarts after it");
    cr_assert_eq(w.nodes[2].sm.digest, w.nodes[0].sm.digest);
    /* It keeps replicating normally afterwards, and survives a restart from its snapshot. */
    fixture_propose(&w, 0, 10);
    fixture_converge(&w, 50);
    sim_world_crash(&w, 2);
    sim_world_restart(&w, 2);
    fixture_converge(&w, 50);
    cr_assert_eq(w.nodes[2].sm.digest, w.nodes[0].sm.digest);
    sim_world_free(&w);
}

Test(consensus_snapshot, compact_refuses_what_is_not_applied)
{
    struct sim_world w;
    fixture_world(&w, 3, 32);
    fixture_elect(&w, 0);
    fixture_propose(&w, 0, 5);
    fixture_converge(&w, 50);
    struct consensus_node *c = w.nodes[0].core;
    uint64_t applied = consensus_applied_index(c);
    cr_assert_eq(consensus_compact(c, applied + 1, consensus_term(c)), CONSENSUS_ERR_INVALID);
    cr_assert_eq(consensus_compact(c, applied, consensus_term(c) + 1), CONSENSUS_ERR_INVALID);
    sim_world_compact(&w, 0);
    cr_assert_eq(consensus_compact(c, applied, consensus_term(c)), CONSENSUS_ERR_STALE);
    sim_world_free(&w);
}

/* A follower restarted with an empty disk: what the leader's progress says it matched is gone. */
static void wipe(struct sim_world *w, uint32_t node)
{
    sim_world_crash(w, node);
    sim_disk_free(&w->nodes[node].disk);
    sim_disk_init(&w->nodes[node].disk);
    sim_world_restart(w, node);
}

/* Its rejections come from below its old match. Taken for stale, they left it behind for
   good under the same leader and term; now the leader probes it from scratch. */
Test(consensus_snapshot, wiped_follower_is_probed_again_from_its_empty_log)
{
    struct sim_world w;
    fixture_world(&w, 3, 33);
    fixture_elect(&w, 0);
    fixture_propose(&w, 0, 20);
    fixture_converge(&w, 50);
    uint64_t term = consensus_term(w.nodes[0].core);
    wipe(&w, 2);
    fixture_propose(&w, 0, 5);
    fixture_converge(&w, 200);
    cr_assert_eq(sim_world_leader(&w), 0);
    cr_assert_eq(consensus_term(w.nodes[0].core), term, "the same leader and term throughout");
    cr_assert_eq(w.nodes[2].sm.digest, w.nodes[0].sm.digest);
    sim_world_free(&w);
}

/* The same, with the leader's log compacted up to the old match: it needs the snapshot. */
Test(consensus_snapshot, wiped_follower_gets_the_snapshot_when_the_log_is_compacted)
{
    struct sim_world w;
    fixture_world(&w, 3, 34);
    fixture_elect(&w, 0);
    fixture_propose(&w, 0, 20);
    fixture_converge(&w, 50);
    sim_world_compact(&w, 0);
    sim_world_compact(&w, 1);
    uint64_t snap = consensus_first_index(w.nodes[0].core) - 1;
    cr_assert_eq(snap, consensus_match_index(w.nodes[0].core, 2), "compacted up to its match");
    uint64_t term = consensus_term(w.nodes[0].core);
    wipe(&w, 2);
    fixture_propose(&w, 0, 5);
    fixture_converge(&w, 200);
    cr_assert_eq(consensus_term(w.nodes[0].core), term, "the same leader and term throughout");
    cr_assert_geq(w.delivered[CONSENSUS_MSG_SNAPSHOT], 1);
    cr_assert_eq(consensus_first_index(w.nodes[2].core), snap + 1, "the log restarts after it");
    cr_assert_eq(w.nodes[2].sm.digest, w.nodes[0].sm.digest);
    sim_world_free(&w);
}
