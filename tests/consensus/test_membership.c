/* test_membership.c: single-server membership changes, learners, and their named pitfalls. */
#include <criterion/criterion.h>
#include <string.h>

#include "sim_fixture.h"

static uint64_t change(struct sim_world *w, uint32_t node, enum consensus_change_type type,
                       uint32_t id)
{
    uint64_t index = 0;
    int err = sim_world_change(w, node, type, id, &index);
    cr_assert_eq(err, 0, "seed %llu: change %d of %u at node %u: %s",
                 (unsigned long long)w->seed, type, id, node, consensus_strerror(err));
    return index;
}

static bool is_voter(const struct sim_world *w, uint32_t at, uint32_t id)
{
    const struct consensus_member *m = consensus_membership_find(
        consensus_membership(w->nodes[at].core), id);
    return m != NULL && m->role == CONSENSUS_MEMBER_VOTER;
}

/* Runs until node's commit index reaches index (or fails after max_ticks). */
static void run_until_committed(struct sim_world *w, uint32_t node, uint64_t index,
                                uint32_t max_ticks)
{
    for (uint32_t t = 0; t < max_ticks && consensus_commit_index(w->nodes[node].core) < index; t++)
        sim_world_run_ticks(w, 1);
    fixture_ok(w);
    cr_assert_geq(consensus_commit_index(w->nodes[node].core), index, "seed %llu",
                  (unsigned long long)w->seed);
}

Test(consensus_membership, the_encoding_round_trips_and_refuses_what_is_malformed)
{
    struct consensus_membership m, out;
    consensus_membership_bootstrap(&m, 3);
    m.members[3] = (struct consensus_member){.id = 7, .role = CONSENSUS_MEMBER_LEARNER};
    strcpy(m.members[3].addr, "10.0.0.7:9090");
    m.count = 4;
    m.next_id = 8;
    uint8_t buf[CONSENSUS_MEMBERSHIP_BYTES_MAX];
    uint32_t len = consensus_membership_encode(&m, buf);
    cr_assert(consensus_membership_is_config(buf, len));
    cr_assert_eq(consensus_membership_decode(buf, len, &out), 0);
    cr_assert_eq(memcmp(&m, &out, sizeof m), 0);
    /* Every cut is refused, and so is a byte past the end. */
    for (uint32_t cut = 0; cut < len; cut++)
        cr_assert_eq(consensus_membership_decode(buf, cut, &out), CONSENSUS_ERR_INVALID, "%u", cut);
    buf[len] = 0;
    cr_assert_eq(consensus_membership_decode(buf, len + 1, &out), CONSENSUS_ERR_INVALID);
    /* A duplicate id, an id at next_id, no voter: refused. */
    struct consensus_membership bad = m;
    bad.members[3].id = 1;
    cr_assert_eq(consensus_membership_check(&bad), CONSENSUS_ERR_INVALID);
    bad = m;
    bad.next_id = 7;
    cr_assert_eq(consensus_membership_check(&bad), CONSENSUS_ERR_INVALID);
    bad = m;
    for (uint32_t i = 0; i < bad.count; i++)
        bad.members[i].role = CONSENSUS_MEMBER_LEARNER;
    cr_assert_eq(consensus_membership_check(&bad), CONSENSUS_ERR_INVALID);
}

/* A client's write can never be taken for a config entry. */
Test(consensus_membership, a_proposal_that_looks_like_a_config_entry_is_refused)
{
    struct sim_world w;
    fixture_world(&w, 3, 11);
    fixture_elect(&w, 0);
    uint8_t data[16] = {0};
    memcpy(data, CONSENSUS_MEMBERSHIP_MAGIC, CONSENSUS_MEMBERSHIP_MAGIC_LEN);
    uint64_t index = 0;
    cr_assert_eq(consensus_propose(w.nodes[0].core, data, sizeof data, &index),
                 CONSENSUS_ERR_INVALID);
    sim_world_free(&w);
}

/* "Learners ... do not count toward majorities" (dissertation §4.2.1): a learner holding every
   entry does not let a leader without a majority of voters commit. */
Test(consensus_membership, a_learner_is_replicated_to_but_never_counted_in_quorum)
{
    struct sim_world w;
    fixture_world_members(&w, 4, 3, 21);
    fixture_converge(&w, 60);
    uint32_t l = sim_world_leader(&w);
    uint64_t at = change(&w, l, CONSENSUS_CHANGE_ADD_LEARNER, 0);
    fixture_converge(&w, 100);
    cr_assert_geq(w.nodes[3].sm.applied, at, "the learner applies the log");
    cr_assert(!is_voter(&w, l, 3));
    for (uint32_t i = 0; i < 3; i++)
        if (i != l)
            sim_world_crash(&w, i);
    uint64_t commit = consensus_commit_index(w.nodes[l].core);
    uint64_t index = 0;
    cr_assert_eq(sim_world_propose(&w, l, &index), 0);
    sim_world_run_ticks(&w, 5); /* within the leader's check-quorum period */
    fixture_ok(&w);
    cr_assert_eq(consensus_role(w.nodes[l].core), CONSENSUS_LEADER);
    cr_assert_eq(consensus_match_index(w.nodes[l].core, 3), index, "the learner has it");
    cr_assert_eq(consensus_commit_index(w.nodes[l].core), commit, "yet it is not committed");
    /* Nor does a learner campaign: with every voter gone, nobody leads. */
    sim_world_crash(&w, l);
    uint64_t asked = w.delivered[CONSENSUS_MSG_VOTE];
    sim_world_run_ticks(&w, 100);
    fixture_ok(&w);
    cr_assert_eq(sim_world_leader(&w), CONSENSUS_NONE);
    cr_assert_eq(w.delivered[CONSENSUS_MSG_VOTE], asked, "the learner asked for a vote");
    cr_assert_eq(consensus_role(w.nodes[3].core), CONSENSUS_FOLLOWER);
    sim_world_free(&w);
}

/* The 2015 raft-dev fix: a new leader takes a change only after it committed an entry of its
   own term, and one change at a time. */
Test(consensus_membership, a_change_waits_for_the_leaders_commit_in_its_term_and_the_last_change)
{
    struct sim_world w;
    fixture_world_members(&w, 5, 3, 31);
    for (uint32_t i = 1; i < 5; i++)
        w.no_tick[i] = true;
    while (sim_world_leader(&w) != 0 && !w.failed && w.now < 1000)
        sim_world_step(&w);
    cr_assert_eq(sim_world_leader(&w), 0);
    cr_assert_eq(consensus_commit_index(w.nodes[0].core), 0, "the no-op is not committed yet");
    uint64_t index = 0;
    cr_assert_eq(sim_world_change(&w, 0, CONSENSUS_CHANGE_ADD_LEARNER, 0, &index),
                 CONSENSUS_ERR_CHANGE_PENDING);
    for (uint32_t i = 1; i < 5; i++)
        w.no_tick[i] = false;
    fixture_converge(&w, 60);
    uint64_t first = change(&w, 0, CONSENSUS_CHANGE_ADD_LEARNER, 0);
    cr_assert_eq(sim_world_change(&w, 0, CONSENSUS_CHANGE_ADD_LEARNER, 0, &index),
                 CONSENSUS_ERR_CHANGE_PENDING, "one change at a time");
    run_until_committed(&w, 0, first, 50);
    change(&w, 0, CONSENSUS_CHANGE_ADD_LEARNER, 0);
    fixture_converge(&w, 100);
    cr_assert_eq(consensus_membership(w.nodes[0].core)->count, 5);
    sim_world_free(&w);
}

/* "...the leader steps down once the Cnew entry is committed" (dissertation §4.2.2); until
   then it leads without counting itself. */
Test(consensus_membership, removing_the_leader_it_steps_down_once_the_change_commits)
{
    struct sim_world w;
    fixture_world(&w, 3, 41);
    fixture_elect(&w, 0);
    fixture_converge(&w, 60);
    sim_world_crash(&w, 1);
    sim_world_crash(&w, 2);
    uint64_t at = change(&w, 0, CONSENSUS_CHANGE_REMOVE, 0);
    sim_world_run_ticks(&w, 5);
    fixture_ok(&w);
    cr_assert_eq(consensus_role(w.nodes[0].core), CONSENSUS_LEADER);
    cr_assert_lt(consensus_commit_index(w.nodes[0].core), at,
                 "its own durable copy is not a majority of the new voters");
    sim_world_restart(&w, 1);
    sim_world_restart(&w, 2);
    for (uint32_t t = 0; t < 100 && consensus_role(w.nodes[0].core) == CONSENSUS_LEADER; t++)
        sim_world_run_ticks(&w, 1);
    fixture_ok(&w);
    cr_assert_eq(consensus_role(w.nodes[0].core), CONSENSUS_FOLLOWER);
    cr_assert_geq(consensus_commit_index(w.nodes[0].core), at);
    fixture_converge(&w, 100);
    uint32_t l = sim_world_leader(&w);
    cr_assert(l == 1 || l == 2);
    fixture_propose(&w, l, 3);
    fixture_converge(&w, 60);
    /* The old leader never campaigns again. */
    uint64_t term = consensus_term(w.nodes[l].core);
    for (uint32_t t = 0; t < 100; t++) {
        sim_world_run_ticks(&w, 1);
        cr_assert_eq(consensus_role(w.nodes[0].core), CONSENSUS_FOLLOWER);
    }
    cr_assert_eq(consensus_term(w.nodes[l].core), term);
    fixture_ok(&w);
    sim_world_free(&w);
}

/* A removed node that never learned of its removal keeps timing out and asking for votes:
   the members, hearing from their leader, refuse it (pre-vote and the leader lease, §9.6),
   and no term moves. */
Test(consensus_membership, a_removed_node_that_keeps_asking_for_votes_disrupts_nothing)
{
    struct sim_world w;
    fixture_world(&w, 3, 51);
    fixture_elect(&w, 0);
    fixture_converge(&w, 60);
    bus_isolate(&w.bus, 2, w.node_count);
    uint64_t at = change(&w, 0, CONSENSUS_CHANGE_REMOVE, 2);
    run_until_committed(&w, 0, at, 50);
    cr_assert(is_voter(&w, 2, 2), "node 2 never heard of its removal");
    bus_heal(&w.bus);
    uint64_t term = consensus_term(w.nodes[0].core);
    uint64_t asked = w.delivered[CONSENSUS_MSG_VOTE];
    for (uint32_t t = 0; t < 200; t++) {
        sim_world_run_ticks(&w, 1);
        if (t % 10 == 0)
            fixture_propose(&w, 0, 1);
    }
    fixture_ok(&w);
    cr_assert_gt(w.delivered[CONSENSUS_MSG_VOTE], asked, "node 2 did ask");
    cr_assert_eq(sim_world_leader(&w), 0);
    cr_assert_eq(consensus_term(w.nodes[0].core), term);
    cr_assert_eq(consensus_term(w.nodes[1].core), term);
    /* A real vote (not a pre-vote) in a later term is refused too, and changes no term. */
    struct consensus_msg m = {.type = CONSENSUS_MSG_VOTE, .from = 2, .to = 1, .term = term + 5,
                              .index = 1000, .log_term = term + 4};
    cr_assert_eq(consensus_step(w.nodes[1].core, &m), 0);
    cr_assert_eq(consensus_term(w.nodes[1].core), term);
    fixture_converge(&w, 60);
    sim_world_free(&w);
}

Test(consensus_membership, what_cannot_be_done_now_is_refused_with_its_reason)
{
    struct sim_world w;
    fixture_world_members(&w, 4, 1, 61);
    fixture_converge(&w, 60);
    uint64_t index = 0;
    cr_assert_eq(sim_world_change(&w, 0, CONSENSUS_CHANGE_REMOVE, 0, &index),
                 CONSENSUS_ERR_LAST_VOTER);
    cr_assert_eq(sim_world_change(&w, 0, CONSENSUS_CHANGE_PROMOTE, 0, &index),
                 CONSENSUS_ERR_NOT_MEMBER, "a voter is not promoted");
    cr_assert_eq(sim_world_change(&w, 0, CONSENSUS_CHANGE_REMOVE, 9, &index),
                 CONSENSUS_ERR_NOT_MEMBER);
    struct consensus_change ch = {.type = CONSENSUS_CHANGE_ADD_LEARNER,
                                  .addr = "a-name-longer-than-the-address-limit-of-64-bytes-"
                                          "is-refused-outright.example:9090"};
    cr_assert_eq(consensus_propose_change(w.nodes[0].core, &ch, &index), CONSENSUS_ERR_INVALID);
    /* A learner that has heard nothing yet is far behind. */
    sim_world_crash(&w, 1);
    uint64_t at = change(&w, 0, CONSENSUS_CHANGE_ADD_LEARNER, 0);
    run_until_committed(&w, 0, at, 20);
    fixture_propose(&w, 0, 8);
    cr_assert_eq(sim_world_change(&w, 0, CONSENSUS_CHANGE_PROMOTE, 1, &index),
                 CONSENSUS_ERR_LEARNER_BEHIND);
    sim_world_restart(&w, 1);
    fixture_converge(&w, 100);
    at = change(&w, 0, CONSENSUS_CHANGE_PROMOTE, 1);
    fixture_converge(&w, 100);
    cr_assert(is_voter(&w, 1, 1));
    /* A follower is not the place for changes. */
    cr_assert_eq(sim_world_change(&w, 1, CONSENSUS_CHANGE_ADD_LEARNER, 0, &index),
                 CONSENSUS_ERR_NOT_LEADER);
    sim_world_free(&w);
}

/* Any size from 1 to 7 voters, even ones included: 4 voters commit with 3 and stop at 2. */
Test(consensus_membership, four_voters_commit_with_three_and_not_with_two)
{
    struct sim_world w;
    fixture_world(&w, 4, 71);
    fixture_elect(&w, 0);
    fixture_converge(&w, 60);
    sim_world_crash(&w, 3);
    uint64_t index = 0;
    cr_assert_eq(sim_world_propose(&w, 0, &index), 0);
    run_until_committed(&w, 0, index, 20);
    sim_world_crash(&w, 2);
    cr_assert_eq(sim_world_propose(&w, 0, &index), 0);
    sim_world_run_ticks(&w, 20);
    fixture_ok(&w);
    cr_assert_lt(consensus_commit_index(w.nodes[0].core), index);
    sim_world_free(&w);
}

/* Grow 1 -> 3 voters by learners, compact, restart everyone: the membership comes back from
   the snapshots and the log; a learner added after the compaction gets it in the snapshot. */
Test(consensus_membership, the_membership_survives_restarts_and_travels_in_snapshots)
{
    struct sim_world w;
    fixture_world_members(&w, 4, 1, 81);
    fixture_converge(&w, 60);
    for (uint32_t id = 1; id <= 2; id++) {
        change(&w, 0, CONSENSUS_CHANGE_ADD_LEARNER, 0);
        fixture_converge(&w, 100);
        change(&w, 0, CONSENSUS_CHANGE_PROMOTE, id);
        fixture_converge(&w, 100);
    }
    fixture_propose(&w, 0, 10);
    fixture_converge(&w, 100);
    for (uint32_t i = 0; i < 3; i++)
        sim_world_compact(&w, i);
    for (uint32_t i = 0; i < 3; i++)
        sim_world_crash(&w, i);
    for (uint32_t i = 0; i < 3; i++) {
        sim_world_restart(&w, i);
        cr_assert_eq(consensus_membership_voters(consensus_membership(w.nodes[i].core)), 3);
    }
    fixture_converge(&w, 100);
    uint32_t l = sim_world_leader(&w);
    change(&w, l, CONSENSUS_CHANGE_ADD_LEARNER, 0);
    fixture_converge(&w, 200);
    cr_assert_geq(w.delivered[CONSENSUS_MSG_SNAPSHOT], 1, "node 3 catches up by snapshot");
    const struct consensus_membership *a = consensus_membership(w.nodes[l].core);
    const struct consensus_membership *b = consensus_membership(w.nodes[3].core);
    cr_assert_eq(memcmp(a, b, sizeof *a), 0);
    cr_assert_eq(b->next_id, 4);
    sim_world_free(&w);
}
