/* test_stranded.c: requests stranded by a leader change are answered at once, not after a
   timeout: a deposed leader's proposals, and writes a follower forwarded to a leader that is
   gone (sim_client.c holds the driver's rules; reads are in test_read_index.c). */
#include <criterion/criterion.h>

#include "sim_fixture.h"

static uint32_t pending_proposals(const struct sim_world *w)
{
    uint32_t n = 0;
    for (size_t p = 0; p < w->prop_count; p++)
        n += w->props[p].pending;
    return n;
}

/* A leader cut off keeps its uncommitted proposals until check-quorum deposes it (within
   two election timeouts), then answers them all: their outcome is unknown. */
Test(consensus_stranded, a_cut_off_leader_answers_its_proposals_when_it_steps_down)
{
    struct sim_world w;
    fixture_world(&w, 3, 31);
    fixture_elect(&w, 0);
    fixture_converge(&w, 50);
    bus_isolate(&w.bus, 0, 3);
    fixture_propose(&w, 0, 3);
    cr_assert_eq(pending_proposals(&w), 3);
    uint32_t t = 0;
    while (consensus_role(w.nodes[0].core) == CONSENSUS_LEADER && t++ < 2 * 10 + 1) {
        cr_assert_eq(pending_proposals(&w), 3, "answered while still leading");
        sim_world_run_ticks(&w, 1);
    }
    cr_assert_neq(consensus_role(w.nodes[0].core), CONSENSUS_LEADER, "not deposed in 2 elections");
    sim_world_run_ticks(&w, 1);
    fixture_ok(&w);
    cr_assert_eq(pending_proposals(&w), 0, "stepped down and still holds proposals");
    for (size_t p = 0; p < w.prop_count; p++)
        cr_assert(!w.props[p].acked);
    sim_world_free(&w);
}

/* A write forwarded to a leader that is cut off is answered once the follower learns of a
   newer term, though the old leader never answers. Node 1's clock is stopped, so only the
   new leader's message can tell it. */
Test(consensus_stranded, a_forwarded_write_is_answered_once_the_follower_sees_a_new_term)
{
    struct sim_world w;
    fixture_world(&w, 5, 32);
    w.answer_bound_ticks = 2;
    fixture_elect(&w, 0);
    fixture_converge(&w, 50);
    bus_isolate(&w.bus, 0, 5);
    w.no_tick[1] = true;
    cr_assert_eq(sim_world_forward(&w, 1), 0);
    cr_assert(w.fwds[0].pending, "lost on the way, so it waits");
    for (uint32_t t = 0; t < 100 * w.tick_units && w.fwds[0].pending && !w.failed; t++) {
        cr_assert_eq(consensus_term(w.nodes[1].core), 1, "answered only after a new term");
        sim_world_step(&w);
    }
    fixture_ok(&w);
    cr_assert(!w.fwds[0].pending, "never answered");
    cr_assert_gt(consensus_term(w.nodes[1].core), 1);
    cr_assert_eq(pending_proposals(&w), 0, "nothing reached a log");
    sim_world_free(&w);
}

/* A forwarded write that reaches the leader is answered with its outcome, relayed back. */
Test(consensus_stranded, a_forwarded_write_gets_the_leaders_answer)
{
    struct sim_world w;
    fixture_world(&w, 3, 33);
    fixture_elect(&w, 0);
    fixture_converge(&w, 50);
    cr_assert_eq(sim_world_forward(&w, 2), 0);
    cr_assert_eq(pending_proposals(&w), 1);
    sim_world_run_ticks(&w, 3);
    fixture_ok(&w);
    cr_assert(!w.fwds[0].pending);
    cr_assert(w.props[0].acked);
    sim_world_free(&w);
}
