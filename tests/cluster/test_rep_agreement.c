/* test_rep_agreement.c: a real 3-node cluster agrees: writes through every node, one state,
   peer methods refused on client connections. */
#include "rep_fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#define WRITES 60

/* Sets key=value through node, retrying definite refusals; asserts it was acknowledged. */
static int64_t set_ok(struct rep *r, int node, const char *key, const char *value)
{
    double deadline = node_now() + REP_WAIT_S;
    for (;;) {
        SetResponse s;
        cr_assert_eq(rep_set(r, node, key, value, &s), 0, "set %s via node %d", key, node);
        bool refused = rep_refused(s.success, s.has_error_code, s.error_code);
        int64_t version = s.success ? s.version : -1;
        cr_assert(s.success || refused, "set %s via node %d: %s", key, node,
                  s.error.data ? (char *)s.error.data : "?");
        SetResponse_free(&s);
        if (!refused)
            return version;
        cr_assert_lt(node_now(), deadline);
    }
}

Test(rep_agreement, writes_through_every_node_reach_one_state)
{
    struct rep r;
    rep_start(&r, "");
    rep_wait_leader(&r);
    char key[32], value[32];
    int64_t last = 0;
    for (int i = 0; i < WRITES; i++) {
        snprintf(key, sizeof key, "k%03d", i % 40);
        snprintf(value, sizeof value, "v%d", i);
        int64_t v = set_ok(&r, i % REP_NODES, key, value);
        cr_assert_gt(v, last, "versions grow with every acknowledged write");
        last = v;
        /* What one node acknowledged, a linearizable read on any other sees at once. */
        GetResponse g;
        cr_assert_eq(rep_get(&r, (i + 1) % REP_NODES, key, true, &g), 0);
        cr_assert(g.success && g.found, "linearizable read of %s on node %d", key,
                  (i + 1) % REP_NODES);
        cr_assert_eq(g.value.len, strlen(value));
        cr_assert_eq(memcmp(g.value.data, value, g.value.len), 0);
        cr_assert_geq(g.version, v);
        GetResponse_free(&g);
    }
    rep_wait_converged(&r);
    GetRangeResponse ranges[REP_NODES];
    for (int i = 0; i < REP_NODES; i++) {
        cr_assert_eq(rep_range(&r, i, &ranges[i]), 0);
        cr_assert(ranges[i].success);
        cr_assert_eq(ranges[i].key_values.count, 40u, "node %d holds every key", i);
    }
    for (int i = 1; i < REP_NODES; i++)
        for (uint32_t j = 0; j < 40; j++)
            cr_assert(KeyValue_equal(&ranges[0].key_values.items[j],
                                     &ranges[i].key_values.items[j]),
                      "node %d differs from node 0 at pair %u", i, j);
    for (int i = 0; i < REP_NODES; i++)
        GetRangeResponse_free(&ranges[i]);
    rep_cleanup(&r);
}

Test(rep_agreement, a_client_connection_cannot_append_entries)
{
    struct rep r;
    rep_start(&r, "");
    int leader = rep_wait_leader(&r);
    int follower = (leader + 1) % REP_NODES;
    set_ok(&r, leader, "before", "x");
    rep_wait_converged(&r);
    NodeInfo before;
    cr_assert_eq(rep_info(&r, follower, &before), 0);
    /* A forged append claiming a higher term, on a connection that never authenticated. */
    AppendEntryRequest q;
    AppendEntryRequest_init(&q);
    tp_bytes_set_str(&q.leader_id, leader == 0 ? "1" : "0");
    q.leader_term = before.status.term + 5;
    q.prev_log_index = before.status.last_log_index;
    q.prev_log_term = before.status.term;
    q.has_leader_commit = true;
    q.leader_commit = before.status.commit_index;
    struct net_client *c = rep_client(&r, follower);
    TransactionalKV_appendEntry_result res;
    test_send_ok(c, TEST_METHOD(appendEntry), 77, &q);
    test_recv_ok(c, TEST_METHOD(appendEntry), 77, &res);
    cr_assert(res.has_error && !res.has_success, "a PeerError, not a response");
    cr_assert_eq(res.error.code, ErrorCode_UNAUTHORIZED);
    NodeInfo after;
    cr_assert_eq(rep_info(&r, follower, &after), 0);
    cr_assert_eq(after.status.term, before.status.term, "the forged term changed nothing");
    cr_assert_eq(after.status.last_log_index, before.status.last_log_index);
    cr_assert_eq(after.status.role, NodeRole_FOLLOWER);
    cr_assert_eq(rep_wait_leader(&r), leader, "the leader is still the leader");
    TransactionalKV_appendEntry_result_free(&res);
    AppendEntryRequest_free(&q);
    NodeInfo_free(&before);
    NodeInfo_free(&after);
    rep_cleanup(&r);
}
