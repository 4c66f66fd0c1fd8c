/* test_replication.c: named replication cases: Figure 7, one-trip backup, window, bounds. */
#include <criterion/criterion.h>

#include "sim_fixture.h"

/*
 * Figure 7: the leader of term 8 and six followers (a)-(f) with missing, extra and
 * conflicting entries. Every follower ends with exactly the leader's log, and each rejects
 * at most once: the hint backs the leader up past whole terms in one round trip.
 */
Test(consensus_replication, figure7_followers_converge_each_in_one_round_trip)
{
    static const uint64_t leader[] = {1, 1, 1, 4, 4, 5, 5, 6, 6, 6};
    static const uint64_t a[] = {1, 1, 1, 4, 4, 5, 5, 6, 6};
    static const uint64_t b[] = {1, 1, 1, 4};
    static const uint64_t c[] = {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6};
    static const uint64_t d[] = {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7};
    static const uint64_t e[] = {1, 1, 1, 4, 4, 4, 4};
    static const uint64_t f[] = {1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3};
    const uint64_t *logs[] = {leader, a, b, c, d, e, f};
    const size_t lens[] = {10, 9, 4, 11, 12, 7, 11};
    struct sim_world w;
    fixture_world(&w, 7, 77);
    for (uint32_t i = 0; i < 7; i++) {
        sim_world_crash(&w, i);
        sim_disk_load(&w.nodes[i].disk, 7, logs[i], lens[i]);
        sim_world_restart(&w, i);
    }
    fixture_elect(&w, 0);
    cr_assert_eq(consensus_term(w.nodes[0].core), 8);
    fixture_converge(&w, 50);
    for (uint32_t i = 1; i < 7; i++) {
        const struct consensus_node *n = w.nodes[i].core;
        cr_assert_eq(consensus_last_index(n), 11, "follower %u", i);
        for (uint64_t k = 1; k <= 10; k++)
            cr_assert_eq(consensus_term_at(n, k), leader[k - 1], "follower %u index %llu", i,
                         (unsigned long long)k);
        cr_assert_eq(consensus_term_at(n, 11), 8);
        cr_assert_leq(w.rejects[i], 1, "follower %u rejected %llu times", i,
                      (unsigned long long)w.rejects[i]);
    }
    cr_assert_eq(w.rejects[3] + w.rejects[4], 0, "(c) and (d) match at 10");
    sim_world_free(&w);
}

static uint32_t appends_in_flight(const struct sim_world *w, uint32_t to)
{
    uint32_t n = 0;
    for (size_t i = 0; i < w->bus.count; i++) {
        const struct consensus_msg *m = &w->bus.heap[i].m;
        n += m->type == CONSENSUS_MSG_APPEND && m->to == to && m->entry_count > 0;
    }
    return n;
}

Test(consensus_replication, pipelining_fills_the_window_and_no_more)
{
    struct sim_world w;
    fixture_world(&w, 3, 5);
    fixture_elect(&w, 0);
    fixture_converge(&w, 50);
    for (uint32_t i = 0; i < 80; i++)
        cr_assert_eq(sim_world_propose(&w, 0, NULL), 0);
    sim_world_step(&w); /* one batch: the leader flushes its appends */
    cr_assert_eq(appends_in_flight(&w, 1), w.cfg.inflight_max);
    cr_assert_eq(appends_in_flight(&w, 2), w.cfg.inflight_max);
    fixture_converge(&w, 50);
    cr_assert_eq(consensus_commit_index(w.nodes[0].core), 81);
    sim_world_free(&w);
}

Test(consensus_replication, uncommitted_bound_refuses_with_a_retryable_error)
{
    struct sim_world w;
    fixture_world(&w, 3, 9);
    fixture_elect(&w, 0);
    fixture_converge(&w, 50);
    bus_isolate(&w.bus, 0, 3);
    uint32_t accepted = 0;
    int err = 0;
    while ((err = sim_world_propose(&w, 0, NULL)) == 0)
        accepted++;
    cr_assert_eq(err, CONSENSUS_ERR_BUSY);
    cr_assert_eq(accepted, w.cfg.uncommitted_bytes_max / 24, "24-byte payloads");
    bus_heal(&w.bus);
    fixture_converge(&w, 50);
    cr_assert_eq(sim_world_propose(&w, 0, NULL), 0, "committing frees the budget");
    fixture_converge(&w, 50);
    sim_world_free(&w);
}

/* A follower's acknowledgement waits for its disk: same batch, after the entries. */
Test(consensus_replication, follower_persists_entries_before_acknowledging)
{
    struct sim_rng rng = {3};
    struct consensus_config cfg;
    consensus_config_default(&cfg);
    cfg.id = 1;
    cfg.node_count = 3;
    cfg.rand_u64 = sim_rng_u64;
    cfg.rand_ctx = &rng;
    struct consensus_restore r = {.hard_state = {1, CONSENSUS_NONE}};
    struct consensus_node *node = NULL;
    cr_assert_eq(consensus_new(&cfg, &r, &node), 0);
    uint8_t data[3] = {1, 2, 3};
    struct consensus_entry ents[2] = {{.index = 1, .term = 2, .len = 3, .data = data},
                                      {.index = 2, .term = 2, .len = 3, .data = data}};
    struct consensus_msg m = {.type = CONSENSUS_MSG_APPEND, .from = 0, .to = 1, .term = 2,
                              .entries = ents, .entry_count = 2, .commit = 1};
    cr_assert_eq(consensus_step(node, &m), 0);
    struct consensus_ready rd;
    consensus_ready(node, &rd);
    cr_assert_eq(rd.entry_count, 2);
    cr_assert(rd.hard_state_changed);
    cr_assert_eq(rd.msg_count, 1);
    cr_assert_eq(rd.msgs[0].type, CONSENSUS_MSG_APPEND_RESP);
    cr_assert(rd.msgs[0].success);
    cr_assert_eq(rd.msgs[0].index, 2);
    cr_assert(!rd.msgs[0].send_before_persist);
    cr_assert_eq(rd.committed_count, 1);
    consensus_advance(node, &rd);
    /* A malformed append (index gap) is refused and changes nothing. */
    ents[1].index = 5;
    m.prev_index = 2;
    m.prev_term = 2;
    cr_assert_eq(consensus_step(node, &m), CONSENSUS_ERR_INVALID);
    cr_assert_eq(consensus_last_index(node), 2);
    consensus_free(node);
}
