/* test_rep_grow.c: membership changes on processes under a write load, as an operator makes
   them (HACKING.md: grow / shrink, replace a dead node): 3 -> 5 -> 3 voters (each new node a
   learner first, promoted once caught up; then a follower and the leader removed), and a
   node killed with SIGKILL replaced by a fresh one at a new address. No acknowledged write
   is lost, and writes go on throughout. */
#include "rep_load.h"
#include "rep_member.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KEYS_MAX 40000
#define S(b) ((b).data ? (const char *)(b).data : "")

/* As an operator does it: add a learner at a new port, start it (deployment.join), wait until
   the leader sees it caught up, promote it. Its member id. */
static int grow_by_one(struct rep *r, struct rep_load *w)
{
    int slot = rep_add_learner(r, node_free_port());
    rep_promote_caught_up(r, slot);
    rep_load_allow(w, slot, r->nodes[slot].addr, true);
    return slot;
}

static void expect_voters(struct rep *r, const char *want)
{
    ListMembersResponse l;
    cr_assert_eq(rep_members(r, rep_leader_now(r), &l), 0);
    char text[128];
    rep_members_text(&l.members, text, sizeof text);
    cr_assert_str_eq(text, want);
    ListMembersResponse_free(&l);
}

/* Removes member node (at the leader, which may be itself), then stops its process. */
static void shrink_by(struct rep *r, struct rep_load *w, int node)
{
    rep_remove_member(r, node);
    rep_load_allow(w, node, NULL, false);
    if (r->nodes[node].pid > 0) /* not when it was killed before */
        cr_assert_eq(node_stop(&r->nodes[node], SIGTERM), 0,
                     "removed node %d's exit was unclean", node);
}

Test(rep_grow, three_to_five_to_three_voters_under_load_loses_nothing)
{
    struct rep r;
    rep_start(&r, "");
    rep_wait_leader(&r);
    struct rep_load *w = rep_load_start(&r, 'g', KEYS_MAX);
    rep_load_wait_more(w, 50, "at the start");
    cr_assert_eq(grow_by_one(&r, w), 3);
    rep_load_wait_more(w, 50, "after the first promotion");
    cr_assert_eq(grow_by_one(&r, w), 4);
    expect_voters(&r, "0 1 2 3 4");
    /* Each new member takes writes itself: member 4 caught up through member 3's add, a
       membership from before its own id was given out, which must not read as its removal
       (it then refused every write NOT_MEMBER, and did so as a leader too). */
    for (int node = 3; node <= 4; node++)
        for (double deadline = node_now() + REP_WAIT_S;;) {
            SetResponse s;
            cr_assert_eq(rep_set(&r, node, "grown", "yes", &s), 0);
            bool ok = s.success;
            int code = s.has_error_code ? (int)s.error_code : -1;
            cr_assert(ok || (code != ErrorCode_NOT_MEMBER && rep_retryable(code)),
                      "node %d refused a write: %s", node, S(s.error));
            SetResponse_free(&s);
            if (ok)
                break;
            cr_assert_lt(node_now(), deadline, "node %d never took a write", node);
            usleep(20000);
        }
    rep_load_wait_more(w, 50, "with five voters");
    int leader = rep_leader_now(&r), other = (leader + 2) % 5;
    shrink_by(&r, w, other);
    rep_load_wait_more(w, 50, "after removing a follower");
    shrink_by(&r, w, leader);
    int next = rep_leader_now(&r);
    cr_assert(next != leader && next != other);
    rep_load_wait_more(w, 50, "after removing the leader");
    char want[16];
    int left[3], k = 0;
    for (int i = 0; i < 5; i++)
        if (i != leader && i != other)
            left[k++] = i;
    snprintf(want, sizeof want, "%d %d %d", left[0], left[1], left[2]);
    expect_voters(&r, want);
    rep_load_stop(w, "rep_grow 3-5-3");
    rep_load_check(&r, w);
    rep_load_free(w);
    rep_cleanup(&r);
}

Test(rep_grow, a_killed_node_is_replaced_by_a_fresh_one_at_a_new_address)
{
    struct rep r;
    rep_start(&r, "");
    rep_wait_leader(&r);
    struct rep_load *w = rep_load_start(&r, 'g', KEYS_MAX);
    rep_load_wait_more(w, 50, "at the start");
    rep_load_allow(w, 2, NULL, false);
    rep_kill(&r, 2);
    rep_load_wait_more(w, 50, "after node 2 was killed");
    shrink_by(&r, w, 2);
    cr_assert_eq(grow_by_one(&r, w), 3);
    expect_voters(&r, "0 1 3");
    rep_load_wait_more(w, 50, "with the new member");
    /* The new member holds everything, and counts: with node 0 stopped, 1 and 3 commit. */
    int leader = rep_leader_now(&r);
    int gone = leader == 0 ? 1 : 0;
    rep_load_allow(w, gone, NULL, false);
    rep_kill(&r, gone);
    rep_load_wait_more(w, 50, "with a majority of old and new");
    rep_restart(&r, gone);
    rep_load_allow(w, gone, r.nodes[gone].addr, true);
    rep_load_stop(w, "rep_grow replace");
    rep_load_check(&r, w);
    rep_load_free(w);
    rep_cleanup(&r);
}
