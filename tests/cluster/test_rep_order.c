/* test_rep_order.c: per-connection order (issue 19, item 4): a request pipelined behind a write
   on the same connection is served after the write took effect, as in Redis. Each round sends
   set k=i, then a serializable get, a linearizable get and a range of k, then set k=i+1 and a
   get, all without waiting; every read must see the write just before it, never an older one
   and never the one after it. On a standalone node, and on each node of a 3-node cluster (a
   follower's writes are forwarded and its answer comes before its own apply). */
#include "rep_fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#define ROUNDS 40
#define CALLS_PER_ROUND 6

static void send_set(struct net_client *c, int32_t seq, const char *value)
{
    SetRequest q;
    SetRequest_init(&q);
    tp_bytes_set_str(&q.key, "k");
    tp_bytes_set_str(&q.value, value);
    test_send_ok(c, TEST_METHOD(setKey), seq, &q);
    SetRequest_free(&q);
}

static void send_get(struct net_client *c, int32_t seq, bool linearizable)
{
    GetRequest q;
    GetRequest_init(&q);
    tp_bytes_set_str(&q.key, "k");
    q.has_consistency = true;
    q.consistency = linearizable ? Consistency_LINEARIZABLE : Consistency_SERIALIZABLE;
    test_send_ok(c, TEST_METHOD(get), seq, &q);
    GetRequest_free(&q);
}

static void send_range(struct net_client *c, int32_t seq)
{
    GetRangeRequest q;
    GetRangeRequest_init(&q);
    tp_bytes_set_str(&q.begin_key, "k");
    q.has_end_key = true;
    tp_bytes_set_str(&q.end_key, "l");
    q.has_consistency = true;
    q.consistency = Consistency_SERIALIZABLE;
    test_send_ok(c, TEST_METHOD(getRange), seq, &q);
    GetRangeRequest_free(&q);
}

static void expect_set(struct net_client *c, int32_t seq)
{
    TransactionalKV_setKey_result res;
    test_recv_ok(c, TEST_METHOD(setKey), seq, &res);
    cr_assert(res.success.success, "set %d", seq);
    TransactionalKV_setKey_result_free(&res);
}

static void expect_get(struct net_client *c, int32_t seq, const char *value, const char *what)
{
    TransactionalKV_get_result res;
    test_recv_ok(c, TEST_METHOD(get), seq, &res);
    cr_assert(res.success.success, "%s get", what);
    cr_assert(res.success.found, "%s get %d found nothing: served before the set", what, seq);
    cr_assert(res.success.value.len == strlen(value) &&
                  memcmp(res.success.value.data, value, strlen(value)) == 0,
              "%s get %d saw %.*s, not %s", what, seq, (int)res.success.value.len,
              res.success.value.data, value);
    TransactionalKV_get_result_free(&res);
}

static void expect_range(struct net_client *c, int32_t seq, const char *value)
{
    TransactionalKV_getRange_result res;
    test_recv_ok(c, TEST_METHOD(getRange), seq, &res);
    cr_assert(res.success.success);
    cr_assert_eq(res.success.key_values.count, 1, "range %d", seq);
    const tp_bytes *v = &res.success.key_values.items[0].value;
    cr_assert(v->len == strlen(value) && memcmp(v->data, value, v->len) == 0, "range %d", seq);
    TransactionalKV_getRange_result_free(&res);
}

/* ROUNDS rounds pipelined on one connection to addr, then every answer checked in order. */
static void rounds(const char *addr, int tag)
{
    struct net_client c;
    cr_assert_eq(net_client_connect(&c, addr, true, 10000), NET_OK);
    int32_t base = tag * 100000;
    char a[32], b[32];
    for (int i = 0; i < ROUNDS; i++) {
        int32_t s = base + i * CALLS_PER_ROUND;
        snprintf(a, sizeof a, "%d-%d", tag, 2 * i);
        snprintf(b, sizeof b, "%d-%d", tag, 2 * i + 1);
        send_set(&c, s, a);
        send_get(&c, s + 1, false);
        send_get(&c, s + 2, true);
        send_range(&c, s + 3);
        send_set(&c, s + 4, b);
        send_get(&c, s + 5, false);
    }
    for (int i = 0; i < ROUNDS; i++) {
        int32_t s = base + i * CALLS_PER_ROUND;
        snprintf(a, sizeof a, "%d-%d", tag, 2 * i);
        snprintf(b, sizeof b, "%d-%d", tag, 2 * i + 1);
        expect_set(&c, s);
        expect_get(&c, s + 1, a, "serializable");
        expect_get(&c, s + 2, a, "linearizable");
        expect_range(&c, s + 3, a);
        expect_set(&c, s + 4);
        expect_get(&c, s + 5, b, "serializable");
    }
    net_client_close(&c);
}

Test(rep_order, a_standalone_node_serves_a_connection_in_order)
{
    struct node_proc p;
    node_start(&p, "");
    rounds(p.addr, 1);
    node_cleanup(&p);
}

Test(rep_order, every_node_of_a_cluster_serves_a_connection_in_order, .timeout = 120)
{
    struct rep r;
    rep_start(&r, "");
    rep_wait_leader(&r);
    for (int n = 0; n < REP_NODES; n++)
        rounds(r.nodes[n].addr, 2 + n);
    rep_cleanup(&r);
}
