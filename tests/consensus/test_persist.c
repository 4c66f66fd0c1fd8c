/* test_persist.c: background persistence: a leader counts itself only once its write is durable. */
#include <criterion/criterion.h>

#include "internal.h"
#include "sim_fixture.h"

static struct consensus_node *new_core(uint32_t id, uint32_t node_count, struct sim_rng *rng)
{
    struct consensus_config cfg;
    consensus_config_default(&cfg);
    cfg.id = id;
    cfg.node_count = node_count;
    cfg.rand_u64 = sim_rng_u64;
    cfg.rand_ctx = rng;
    struct consensus_restore r = {.hard_state = {1, CONSENSUS_NONE}};
    struct consensus_node *node = NULL;
    cr_assert_eq(consensus_new(&cfg, &r, &node), 0);
    return node;
}

/* Handles every batch synchronously, as a driver without background syncs does. */
static void drain(struct consensus_node *node)
{
    while (consensus_has_ready(node)) {
        struct consensus_ready rd;
        consensus_ready(node, &rd);
        consensus_advance(node, &rd);
    }
}

/*
 * §10.2.1: the leader may write its log in parallel with replicating it, but it counts
 * itself toward a majority only for entries it has durably written. A single node is its
 * own majority, so nothing else can commit the entry for it.
 */
Test(consensus_persist, leader_commits_only_after_its_persisted_report)
{
    struct sim_rng rng = {11};
    struct consensus_node *node = new_core(0, 1, &rng);
    for (uint32_t t = 0; t < 40 && consensus_role(node) != CONSENSUS_LEADER; t++)
        consensus_tick(node);
    cr_assert_eq(consensus_role(node), CONSENSUS_LEADER);
    drain(node); /* the term and vote, then the no-op, synced */
    uint64_t index = 0;
    cr_assert_eq(consensus_propose(node, "abc", 3, &index), 0);
    struct consensus_ready rd;
    consensus_ready(node, &rd);
    cr_assert(rd.sync_may_defer, "no message, no hard state: the sync may wait");
    cr_assert_eq(rd.entry_count, 1);
    cr_assert_eq(rd.committed_count, 0);
    consensus_advance_unsynced(node, &rd);
    cr_assert_lt(consensus_commit_index(node), index, "counted itself before durable");
    cr_assert_eq(consensus_match_index(node, 0), index - 1);
    cr_assert(!consensus_has_ready(node));
    consensus_persisted(node, index - 1); /* stale: no-op */
    cr_assert_lt(consensus_commit_index(node), index);
    consensus_persisted(node, index + 5); /* past what it handed out: clipped */
    cr_assert_eq(consensus_match_index(node, 0), index);
    cr_assert_eq(consensus_commit_index(node), index);
    consensus_ready(node, &rd);
    cr_assert_eq(rd.committed_count, 1);
    cr_assert_eq(rd.committed[0].index, index);
    consensus_advance(node, &rd);
    consensus_persisted(node, index); /* repeated: no-op */
    cr_assert(!consensus_has_ready(node));
    consensus_free(node);
}

/* Three nodes, node 2 cut off: node 1's durable ack alone is no majority until the leader's
   own background sync reports; committed entries are applied only once durable here. */
Test(consensus_persist, follower_ack_and_unsynced_leader_are_no_majority)
{
    struct sim_world w;
    fixture_world(&w, 3, 21);
    fixture_elect(&w, 0);
    fixture_converge(&w, 50);
    w.defer_ppm = 1000000;
    w.bg_hold[0] = true;
    bus_isolate(&w.bus, 2, 3);
    uint64_t index = 0;
    cr_assert_eq(sim_world_propose(&w, 0, &index), 0);
    sim_world_run_ticks(&w, 20);
    fixture_ok(&w);
    const struct consensus_node *leader = w.nodes[0].core;
    cr_assert_eq(consensus_role(leader), CONSENSUS_LEADER);
    cr_assert_eq(consensus_match_index(leader, 1), index, "node 1 acknowledged it");
    cr_assert_lt(consensus_match_index(leader, 0), index);
    cr_assert_lt(consensus_commit_index(leader), index, "committed on one durable copy");
    cr_assert_gt(sim_disk_pending_records(&w.nodes[0].disk), 0);
    w.bg_hold[0] = false;
    sim_world_run_ticks(&w, 2);
    fixture_ok(&w);
    cr_assert_eq(consensus_commit_index(leader), index);
    cr_assert_eq(w.nodes[0].sm.applied, index);
    bus_heal(&w.bus);
    fixture_converge(&w, 50);
    sim_world_free(&w);
}

/* A follower cuts a suffix its storage still holds (the cut reaches the WAL with the next
   batch): a durable index reported meanwhile covers only the prefix they share. */
Test(consensus_persist, report_past_a_truncation_covers_only_the_kept_prefix)
{
    struct sim_rng rng = {5};
    struct consensus_node *node = new_core(1, 3, &rng);
    uint8_t data[3] = {1, 2, 3};
    struct consensus_entry ents[3] = {{.index = 1, .term = 2, .len = 3, .data = data},
                                      {.index = 2, .term = 2, .len = 3, .data = data},
                                      {.index = 3, .term = 2, .len = 3, .data = data}};
    struct consensus_msg m = {.type = CONSENSUS_MSG_APPEND, .from = 0, .to = 1, .term = 2,
                              .entries = ents, .entry_count = 3, .commit = 1};
    cr_assert_eq(consensus_step(node, &m), 0);
    struct consensus_ready rd;
    consensus_ready(node, &rd);
    cr_assert(!rd.sync_may_defer, "an acknowledgement needs the entries durable first");
    consensus_advance(node, &rd);
    cr_assert_eq(node->log.persisted, 3);
    /* Leader 2 of term 3 replaces 2..3. */
    struct consensus_entry repl = {.index = 2, .term = 3, .len = 3, .data = data};
    m = (struct consensus_msg){.type = CONSENSUS_MSG_APPEND, .from = 2, .to = 1, .term = 3,
                               .prev_index = 1, .prev_term = 2, .entries = &repl,
                               .entry_count = 1, .commit = 1};
    cr_assert_eq(consensus_step(node, &m), 0);
    cr_assert_eq(node->log.persisted, 1);
    consensus_persisted(node, 3); /* storage still ends at the old 3 */
    cr_assert_eq(node->log.persisted, 1);
    consensus_ready(node, &rd);
    cr_assert(!rd.sync_may_defer);
    cr_assert_eq(rd.entries[0].index, 2);
    consensus_advance(node, &rd);
    cr_assert_eq(node->log.persisted, 2);
    consensus_free(node);
}
