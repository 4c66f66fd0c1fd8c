/* test_rep_health.c: getClusterHealth tells what is known and whose knowledge it is (issue
   14): a follower answers the leader's view of every other node (it never hears from the
   other followers itself); cut off from the leader, it answers its own view and says so. */
#include "rep_fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

static void health(struct rep *r, int node, TransactionalKV_getClusterHealth_result *res)
{
    GetClusterHealthRequest q;
    GetClusterHealthRequest_init(&q);
    struct net_client *c = rep_client(r, node);
    test_call_ok(c, TEST_METHOD(getClusterHealth), 9, &q, res);
    cr_assert(res->success.success);
    cr_assert_eq(res->success.nodes.count, REP_NODES);
}

static bool id_is(const tp_bytes *b, int id)
{
    char text[8];
    snprintf(text, sizeof text, "%d", id);
    return b->data && strcmp((const char *)b->data, text) == 0;
}

Test(rep_health, a_follower_answers_the_leaders_view_of_the_others)
{
    struct rep r;
    rep_start(&r, "");
    int leader = rep_wait_leader(&r);
    int f = (leader + 1) % REP_NODES, g = (leader + 2) % REP_NODES;
    TransactionalKV_getClusterHealth_result res;
    double deadline = node_now() + REP_WAIT_S;
    for (;;) {   /* the leader hears from both followers within a heartbeat or two */
        health(&r, f, &res);
        if (res.success.nodes.items[g].reachable)
            break;
        cr_assert_lt(node_now(), deadline, "follower %d never saw follower %d reachable", f, g);
        TransactionalKV_getClusterHealth_result_free(&res);
    }
    const ClusterHealth *h = &res.success;
    cr_assert(h->healthy);
    cr_assert(id_is(&h->leader_id, leader));
    cr_assert(h->has_reported_by && id_is(&h->reported_by, leader), "the leader's view");
    for (int i = 0; i < REP_NODES; i++) {
        const NodeStatus *st = &h->nodes.items[i];
        cr_assert(id_is(&st->node_id, i), "entry %d is node %d", i, i);
        cr_assert(st->reachable, "node %d", i);
        cr_assert(id_is(&st->reported_by, i == f ? f : leader), "node %d's entry: whose view", i);
    }
    cr_assert_eq(h->nodes.items[f].role, NodeRole_FOLLOWER, "its own entry is its own state");
    cr_assert_eq(h->nodes.items[leader].role, NodeRole_LEADER);
    cr_assert(h->nodes.items[leader].has_state_digest, "the leader's entry is the leader's own");
    cr_assert(h->nodes.items[g].has_last_contact_ms, "how fresh the leader's knowledge of g is");
    TransactionalKV_getClusterHealth_result_free(&res);

    /* Cut f off from the leader: it answers what it knows itself, and says so. */
    char text[64];
    snprintf(text, sizeof text, "drop_to=%d\ndrop_from=%d\n", leader, leader);
    rep_faults(&r, f, text);
    deadline = node_now() + REP_WAIT_S;
    for (;;) {
        health(&r, f, &res);
        if (id_is(&res.success.reported_by, f))
            break;
        cr_assert_lt(node_now(), deadline, "follower %d still relays the leader's view", f);
        TransactionalKV_getClusterHealth_result_free(&res);
    }
    const NodeStatus *other = &res.success.nodes.items[g];
    cr_assert(id_is(&other->reported_by, f));
    cr_assert_not(other->reachable && !other->has_last_contact_ms,
                  "reachable is claimed only with a contact to back it");
    TransactionalKV_getClusterHealth_result_free(&res);
    rep_faults(&r, f, "");
    rep_cleanup(&r);
}
