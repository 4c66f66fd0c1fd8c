/* test_transfer.c: named leadership transfer cases (Raft thesis §3.10, TimeoutNow). */
#include <criterion/criterion.h>

#include "sim_fixture.h"

/* Runs until `node` leads (or max_ticks pass); returns the ticks it took. */
static uint32_t run_until_leader(struct sim_world *w, uint32_t node, uint32_t max_ticks)
{
    uint32_t t = 0;
    while (t < max_ticks && sim_world_leader(w) != node && !w->failed) {
        sim_world_run_ticks(w, 1);
        t++;
    }
    fixture_ok(w);
    return t;
}

static bool follower_granted_despite_lease(struct sim_world *w, uint32_t old, uint32_t target)
{
    for (uint32_t i = 0; i < w->node_count; i++)
        if (i != old && i != target && consensus_term(w->nodes[i].core) ==
                                            consensus_term(w->nodes[target].core))
            return true;
    return false;
}

/* An up-to-date follower takes over in a few hops, far below an election timeout: it skips
 * pre-vote, and followers that heard from the leader a moment ago (inside its lease) still
 * vote for it, since the vote request says the leader asked for it. Nothing is lost. */
Test(consensus_transfer, to_an_up_to_date_follower)
{
    struct sim_world w;
    fixture_world(&w, 5, 31);
    fixture_elect(&w, 0);
    fixture_propose(&w, 0, 6);
    fixture_converge(&w, 50);
    uint64_t term = consensus_term(w.nodes[0].core);
    uint64_t last = consensus_last_index(w.nodes[0].core);
    cr_assert_eq(consensus_transfer_leader(w.nodes[0].core, 3), 0);
    cr_assert_eq(consensus_transfer_target(w.nodes[0].core), 3);
    uint32_t ticks = run_until_leader(&w, 3, 30);
    cr_assert_eq(sim_world_leader(&w), 3, "seed %llu: the target did not take over",
                 (unsigned long long)w.seed);
    cr_assert_lt(ticks, 5, "took %u ticks (election timeout 10)", ticks);
    cr_assert_eq(consensus_term(w.nodes[3].core), term + 1, "one election, no pre-vote round");
    /* 5 nodes: the target needed a follower besides the old leader, inside its lease. */
    cr_assert(follower_granted_despite_lease(&w, 0, 3));
    cr_assert_neq(consensus_role(w.nodes[0].core), CONSENSUS_LEADER);
    cr_assert_eq(consensus_transfer_target(w.nodes[0].core), CONSENSUS_NONE);
    fixture_propose(&w, 3, 3);
    fixture_converge(&w, 50);
    cr_assert_eq(consensus_last_index(w.nodes[3].core), last + 1 + 3);
    sim_world_free(&w);
}

/* A follower cut off while the leader took entries is caught up first: TIMEOUT_NOW waits
 * until it holds the whole log, which is also committed. Proposals meanwhile are refused
 * (TRANSFERRING, retryable), and flow at the new leader. */
Test(consensus_transfer, to_a_lagging_follower)
{
    struct sim_world w;
    fixture_world(&w, 3, 32);
    fixture_elect(&w, 0);
    fixture_converge(&w, 50);
    bus_isolate(&w.bus, 2, 3);
    fixture_propose(&w, 0, 20);
    sim_world_run_ticks(&w, 3);
    bus_heal(&w.bus);
    struct consensus_node *l = w.nodes[0].core;
    uint64_t last = consensus_last_index(l);
    cr_assert_lt(consensus_match_index(l, 2), last, "node 2 is not behind");
    cr_assert_eq(consensus_transfer_leader(l, 2), 0);
    uint64_t index = 0;
    cr_assert_eq(sim_world_propose(&w, 0, &index), CONSENSUS_ERR_TRANSFERRING);
    cr_assert_eq(consensus_last_index(l), last, "a refused proposal grew the log");
    run_until_leader(&w, 2, 30);
    cr_assert_eq(sim_world_leader(&w), 2, "seed %llu: the lagging target did not take over",
                 (unsigned long long)w.seed);
    /* It won because it held everything: the old leader's whole log is in its own. */
    cr_assert_geq(consensus_last_index(w.nodes[2].core), last + 1);
    cr_assert_eq(consensus_term_at(w.nodes[2].core, last), consensus_term_at(l, last));
    fixture_propose(&w, 2, 2);
    fixture_converge(&w, 60);
    sim_world_free(&w);
}

/* The target dies before it could campaign: the leader aborts after an election timeout,
 * keeps leading in the same term, and takes proposals again. */
Test(consensus_transfer, target_dies_mid_transfer_is_aborted_after_the_timeout)
{
    struct sim_world w;
    fixture_world(&w, 3, 33);
    fixture_elect(&w, 0);
    fixture_converge(&w, 50);
    struct consensus_node *l = w.nodes[0].core;
    uint64_t term = consensus_term(l);
    /* Dead before TIMEOUT_NOW reached it, or before it was sent at all: nobody campaigns. */
    fixture_propose(&w, 0, 1);
    sim_world_crash(&w, 1);
    cr_assert_eq(consensus_transfer_leader(l, 1), 0);
    uint64_t index = 0;
    sim_world_run_ticks(&w, 5);
    cr_assert_eq(sim_world_propose(&w, 0, &index), CONSENSUS_ERR_TRANSFERRING);
    cr_assert_eq(consensus_transfer_target(l), 1);
    sim_world_run_ticks(&w, 6); /* past the election timeout (10 ticks) */
    fixture_ok(&w);
    cr_assert_eq(consensus_transfer_target(l), CONSENSUS_NONE, "the transfer was not aborted");
    cr_assert_eq(sim_world_leader(&w), 0);
    cr_assert_eq(consensus_term(l), term, "an aborted transfer changed the term");
    cr_assert_eq(sim_world_propose(&w, 0, &index), 0, "proposals do not flow again");
    sim_world_restart(&w, 1);
    fixture_converge(&w, 80);
    cr_assert_eq(sim_world_leader(&w), 0);
    sim_world_free(&w);
}

/* What cannot be transferred is refused at once and changes nothing. */
Test(consensus_transfer, to_self_or_an_unknown_id_or_from_a_follower_is_refused)
{
    struct sim_world w;
    fixture_world(&w, 3, 34);
    fixture_elect(&w, 1);
    fixture_converge(&w, 50);
    struct consensus_node *l = w.nodes[1].core;
    cr_assert_eq(consensus_transfer_leader(l, 1), CONSENSUS_ERR_INVALID, "to itself");
    cr_assert_eq(consensus_transfer_leader(l, 3), CONSENSUS_ERR_INVALID, "to an unknown id");
    cr_assert_eq(consensus_transfer_leader(l, CONSENSUS_VOTERS_MAX), CONSENSUS_ERR_INVALID);
    cr_assert_eq(consensus_transfer_leader(w.nodes[0].core, 2), CONSENSUS_ERR_NOT_LEADER);
    cr_assert_eq(consensus_transfer_target(l), CONSENSUS_NONE);
    uint64_t index = 0;
    cr_assert_eq(sim_world_propose(&w, 1, &index), 0, "a refused transfer blocked proposals");
    /* One at a time: a second target while one is under way is BUSY; the same one is fine. */
    cr_assert_eq(consensus_transfer_leader(l, 2), 0);
    cr_assert_eq(consensus_transfer_leader(l, 2), 0);
    cr_assert_eq(consensus_transfer_leader(l, 0), CONSENSUS_ERR_BUSY);
    sim_world_free(&w);
}

/* No id: the most up-to-date follower is chosen (the one not cut off). */
Test(consensus_transfer, without_an_id_goes_to_the_most_up_to_date_follower)
{
    struct sim_world w;
    fixture_world(&w, 3, 35);
    fixture_elect(&w, 0);
    fixture_converge(&w, 50);
    bus_isolate(&w.bus, 1, 3);
    fixture_propose(&w, 0, 5);
    sim_world_run_ticks(&w, 2);
    cr_assert_eq(consensus_transfer_leader(w.nodes[0].core, CONSENSUS_NONE), 0);
    cr_assert_eq(consensus_transfer_target(w.nodes[0].core), 2);
    bus_heal(&w.bus);
    run_until_leader(&w, 2, 30);
    cr_assert_eq(sim_world_leader(&w), 2);
    sim_world_free(&w);
}
