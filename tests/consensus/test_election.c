/* test_election.c: named election cases: vote rules, pre-vote, check-quorum, Figure 8. */
#include <criterion/criterion.h>

#include "sim_fixture.h"

/* "...at most one candidate can win the election for a particular term" (§5.2). */
Test(consensus_election, a_leader_emerges_in_3_and_5_and_7_nodes)
{
    for (uint32_t n = 3; n <= 7; n += 2) {
        struct sim_world w;
        fixture_world(&w, n, 100 + n);
        fixture_converge(&w, 60);
        cr_assert_eq(consensus_term(w.nodes[sim_world_leader(&w)].core), 1);
        sim_world_free(&w);
    }
}

static struct consensus_node *lone_core(uint32_t id, uint64_t term, const uint64_t *terms,
                                        size_t n, struct sim_rng *rng)
{
    struct consensus_config cfg;
    consensus_config_default(&cfg);
    cfg.id = id;
    cfg.node_count = 3;
    cfg.rand_u64 = sim_rng_u64;
    cfg.rand_ctx = rng;
    struct consensus_entry ents[8];
    for (size_t i = 0; i < n; i++)
        ents[i] = (struct consensus_entry){.index = i + 1, .term = terms[i]};
    struct consensus_restore r = {.hard_state = {term, CONSENSUS_NONE}, .entries = ents,
                                  .entry_count = n};
    struct consensus_node *node = NULL;
    cr_assert_eq(consensus_new(&cfg, &r, &node), 0);
    return node;
}

static bool vote(struct consensus_node *node, uint32_t from, uint64_t term, uint64_t last,
                 uint64_t last_term)
{
    struct consensus_msg m = {.type = CONSENSUS_MSG_VOTE, .from = from, .to = consensus_id(node),
                              .term = term, .index = last, .log_term = last_term};
    cr_assert_eq(consensus_step(node, &m), 0);
    struct consensus_ready rd;
    consensus_ready(node, &rd);
    cr_assert_eq(rd.msg_count, 1);
    cr_assert_eq(rd.msgs[0].type, CONSENSUS_MSG_VOTE_RESP);
    bool granted = rd.msgs[0].success;
    if (granted) {
        /* The vote is in the batch's hard state and the response waits for its sync. */
        cr_assert_eq(rd.hard_state.vote, from);
        cr_assert(!rd.msgs[0].send_before_persist);
    }
    consensus_advance(node, &rd);
    return granted;
}

/* "Each server will vote for at most one candidate in a given term" and only for a log
 * "at least as up-to-date" as its own (§5.2, §5.4.1). */
Test(consensus_election, vote_rules_one_vote_per_term_and_up_to_date_logs_only)
{
    struct sim_rng rng = {1};
    const uint64_t terms[] = {1, 1, 2};
    struct consensus_node *node = lone_core(0, 2, terms, 3, &rng);
    cr_assert(!vote(node, 1, 3, 5, 1), "an older last term loses, whatever its length");
    cr_assert(!vote(node, 1, 3, 2, 2), "same last term, shorter log loses");
    cr_assert(vote(node, 1, 3, 3, 2), "same last term and length wins");
    cr_assert(vote(node, 1, 3, 3, 2), "asking again in the same term is granted again");
    cr_assert(!vote(node, 2, 3, 9, 3), "a second candidate in the term is refused");
    cr_assert(!vote(node, 2, 2, 9, 3), "a stale term is refused");
    cr_assert(vote(node, 2, 4, 4, 3), "a new term frees the vote");
    cr_assert_eq(consensus_term(node), 4);
    consensus_free(node);
}

/* Pre-vote (thesis §9.6): a node cut off for a long time comes back without raising terms,
 * and the healthy leader stays. */
Test(consensus_election, prevote_rejoining_node_does_not_depose_the_leader)
{
    struct sim_world w;
    fixture_world(&w, 5, 7);
    fixture_elect(&w, 0);
    fixture_propose(&w, 0, 5);
    fixture_converge(&w, 50);
    uint64_t term = consensus_term(w.nodes[0].core);
    bus_isolate(&w.bus, 4, 5);
    sim_world_run_ticks(&w, 200); /* node 4 times out ~10 times in there */
    fixture_ok(&w);
    cr_assert_eq(consensus_term(w.nodes[4].core), term, "an isolated node raised its term");
    cr_assert_neq(consensus_role(w.nodes[4].core), CONSENSUS_LEADER);
    bus_heal(&w.bus);
    sim_world_run_ticks(&w, 50);
    fixture_ok(&w);
    cr_assert_eq(sim_world_leader(&w), 0, "the rejoining node deposed the leader");
    cr_assert_eq(consensus_term(w.nodes[0].core), term);
    cr_assert(sim_world_converged(&w));
    sim_world_free(&w);
}

/* Check-quorum: a leader that has not heard from a majority for an election timeout steps
 * down, so a minority-side leader stops taking writes. */
Test(consensus_election, check_quorum_isolated_leader_steps_down)
{
    struct sim_world w;
    fixture_world(&w, 3, 11);
    fixture_elect(&w, 1);
    fixture_converge(&w, 50);
    bus_isolate(&w.bus, 1, 3);
    uint64_t start = w.now;
    while (consensus_role(w.nodes[1].core) == CONSENSUS_LEADER && w.now < start + 300)
        sim_world_step(&w);
    fixture_ok(&w);
    cr_assert_neq(consensus_role(w.nodes[1].core), CONSENSUS_LEADER);
    /* Within two election timeouts (the check runs once per timeout). */
    cr_assert_leq(w.now - start, 2 * 10 * w.tick_units + w.tick_units);
    uint64_t index = 0;
    cr_assert_eq(sim_world_propose(&w, 1, &index), CONSENSUS_ERR_NOT_LEADER);
    /* The majority side elects a new leader in a higher term. */
    sim_world_run_ticks(&w, 60);
    uint32_t l = sim_world_leader(&w);
    cr_assert(l == 0 || l == 2, "leader %u", l);
    sim_world_free(&w);
}

static void drain(struct consensus_node *node)
{
    while (consensus_has_ready(node)) {
        struct consensus_ready rd;
        consensus_ready(node, &rd);
        consensus_advance(node, &rd);
    }
}

static void step_resp(struct consensus_node *node, enum consensus_msg_type type, uint32_t from,
                      uint64_t term, bool pre_vote, uint64_t index)
{
    struct consensus_msg m = {.type = type, .from = from, .to = consensus_id(node), .term = term,
                              .success = true, .pre_vote = pre_vote, .index = index};
    cr_assert_eq(consensus_step(node, &m), 0);
}

/* Ticks a lone core into leadership of term+1 with votes from nodes 1 and 2. */
static void make_leader(struct consensus_node *node)
{
    for (int t = 0; t < 40 && consensus_role(node) == CONSENSUS_FOLLOWER; t++)
        consensus_tick(node);
    cr_assert_eq(consensus_role(node), CONSENSUS_PRE_CANDIDATE);
    uint64_t next = consensus_term(node) + 1;
    drain(node);
    step_resp(node, CONSENSUS_MSG_VOTE_RESP, 1, next, true, 0);
    step_resp(node, CONSENSUS_MSG_VOTE_RESP, 2, next, true, 0);
    cr_assert_eq(consensus_role(node), CONSENSUS_CANDIDATE);
    drain(node);
    step_resp(node, CONSENSUS_MSG_VOTE_RESP, 1, next, false, 0);
    step_resp(node, CONSENSUS_MSG_VOTE_RESP, 2, next, false, 0);
    cr_assert_eq(consensus_role(node), CONSENSUS_LEADER);
    drain(node);
}

/*
 * Figure 8 (c): S1 leads term 4 with log [1, 2] + its no-op at 3. Index 2 (term 2) reaches
 * S2 and S3, a majority, yet S5 (last term 3) could still be elected and overwrite it. So
 * counting replicas must not commit index 2; only the term-4 no-op on a majority does,
 * and commits index 2 with it (§5.4.2).
 */
Test(consensus_election, figure8_older_term_entry_is_not_committed_by_counting)
{
    struct sim_rng rng = {8};
    const uint64_t terms[] = {1, 2};
    struct consensus_config cfg;
    consensus_config_default(&cfg);
    cfg.node_count = 5;
    cfg.rand_u64 = sim_rng_u64;
    cfg.rand_ctx = &rng;
    struct consensus_entry ents[2] = {{.index = 1, .term = terms[0]}, {.index = 2, .term = terms[1]}};
    struct consensus_restore r = {.hard_state = {3, CONSENSUS_NONE}, .entries = ents,
                                  .entry_count = 2};
    struct consensus_node *s1 = NULL;
    cr_assert_eq(consensus_new(&cfg, &r, &s1), 0);
    make_leader(s1);
    cr_assert_eq(consensus_term(s1), 4);
    cr_assert_eq(consensus_last_index(s1), 3);
    step_resp(s1, CONSENSUS_MSG_APPEND_RESP, 1, 4, false, 2);
    step_resp(s1, CONSENSUS_MSG_APPEND_RESP, 2, 4, false, 2);
    drain(s1);
    cr_assert_eq(consensus_match_index(s1, 2), 2);
    cr_assert_eq(consensus_commit_index(s1), 0, "index 2 of term 2 committed by counting");
    step_resp(s1, CONSENSUS_MSG_APPEND_RESP, 1, 4, false, 3);
    cr_assert_eq(consensus_commit_index(s1), 0, "S1 and S2 are not a majority of 5");
    step_resp(s1, CONSENSUS_MSG_APPEND_RESP, 2, 4, false, 3);
    cr_assert_eq(consensus_commit_index(s1), 3, "the no-op of term 4 commits everything");
    drain(s1);
    consensus_free(s1);
}
