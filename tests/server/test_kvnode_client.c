/* test_kvnode_client.c: what a client can rely on at the edges (issue 14), against a real
   kvnode over both transports: replies capped by bytes, reads at a version not applied yet,
   unknown enum values, the one form of node ids. */
#include "node_proc.h"

#include <criterion/criterion.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

/* A node whose replies are capped at REPLY_MAX bytes: REPLY_MAX - 1024 for key-value pairs
   (SERVER_REPLY_ENVELOPE_BYTES), each taking 15 bytes more than its key and value. */
#define REPLY_MAX 8192
#define PAIRS_BUDGET (REPLY_MAX - 1024)
#define PAIR_OVERHEAD 15
static const char reply_config[] =
    "\"limits\": {\"max_key_bytes\": 16, \"max_value_bytes\": 2000, \"max_reply_bytes\": 8192}";

static void set_sized(struct net_client *c, const char *key, size_t value_len)
{
    char value[2001];
    cr_assert_lt(value_len, sizeof value);
    memset(value, 'v', value_len);
    value[value_len] = '\0';
    SetResponse s;
    node_set(c, key, value, &s);
    cr_assert(s.success, "set %s", key);
    SetResponse_free(&s);
}

/* Seven keys prefix0..prefix6 whose pairs take exactly PAIRS_BUDGET + extra bytes. */
static void write_seven(struct net_client *c, char prefix, size_t extra)
{
    char key[4];
    size_t used = 0;
    for (int i = 0; i < 6; i++) {
        snprintf(key, sizeof key, "%c%d", prefix, i);
        set_sized(c, key, 1000);
        used += PAIR_OVERHEAD + 2 + 1000;
    }
    snprintf(key, sizeof key, "%c6", prefix);
    set_sized(c, key, PAIRS_BUDGET + extra - used - PAIR_OVERHEAD - 2);
}

/* getRange [begin, end) on c; the reply's bytes on the wire (frame header included) in *wire. */
static void range(struct net_client *c, const char *begin, const char *end,
                  GetRangeResponse *out, size_t *wire)
{
    GetRangeRequest q;
    GetRangeRequest_init(&q);
    tp_bytes_set_str(&q.begin_key, begin);
    q.has_end_key = true;
    tp_bytes_set_str(&q.end_key, end);
    TransactionalKV_getRange_result res;
    test_call_ok(c, TEST_METHOD(getRange), 9, &q, &res);
    *wire = c->used;
    cr_assert(res.success.success);
    *out = res.success;   /* moved */
    GetRangeRequest_free(&q);
}

Test(kvnode_client, range_replies_are_capped_by_bytes_on_both_transports)
{
    struct node_proc p;
    node_start(&p, reply_config);
    struct net_client c;
    node_connect(&p, &c, true);
    write_seven(&c, 'a', 0);   /* fills the budget exactly */
    write_seven(&c, 'b', 1);   /* one byte over it */
    net_client_close(&c);
    for (int framed = 0; framed < 2; framed++) {
        node_connect(&p, &c, framed);
        GetRangeResponse g;
        size_t wire;
        range(&c, "a", "b", &g, &wire);
        cr_assert_eq(g.key_values.count, 7, "framed %d: pairs that fill the budget all fit",
                     framed);
        cr_assert_not(g.has_more);
        cr_assert_leq(wire, REPLY_MAX, "framed %d: a reply of %zu bytes", framed, wire);
        GetRangeResponse_free(&g);
        range(&c, "b", "c", &g, &wire);
        cr_assert_eq(g.key_values.count, 6, "framed %d: one byte over leaves the last out",
                     framed);
        cr_assert(g.has_more, "a reply cut by bytes says has_more");
        cr_assert_leq(wire, REPLY_MAX);
        GetRangeResponse_free(&g);
        range(&c, "b6", "c", &g, &wire);
        cr_assert_eq(g.key_values.count, 1, "the next page holds the rest");
        cr_assert_not(g.has_more);
        GetRangeResponse_free(&g);
        net_client_close(&c);
    }
    cr_assert_eq(node_stop(&p, SIGTERM), 0);
    node_cleanup(&p);
}

/* Sends a snapshotRead of key at version (the reply is read later with recv_snapshot_read). */
static void send_snapshot_read(struct net_client *c, const char *key, int64_t version)
{
    SnapshotReadRequest q;
    SnapshotReadRequest_init(&q);
    tp_bytes_set_str(&q.key, key);
    q.read_version = version;
    test_send_ok(c, TEST_METHOD(snapshotRead), 5, &q);
    SnapshotReadRequest_free(&q);
}

static SnapshotReadResponse recv_snapshot_read(struct net_client *c)
{
    TransactionalKV_snapshotRead_result res;
    test_recv_ok(c, TEST_METHOD(snapshotRead), 5, &res);
    return res.success;   /* moved */
}

static bool readable_within(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, ms) == 1;
}

/* Issue 14: a version a client got elsewhere (a commit on the leader) may not be applied yet
   on the node it reads from. The read waits for it, up to consensus.request_timeout_ms (here
   1000 ms), as FoundationDB's storage servers do; only then FUTURE_VERSION. */
Test(kvnode_client, a_read_at_a_version_not_applied_yet_waits_for_it)
{
    struct node_proc p;
    node_start(&p, "\"consensus\": {\"request_timeout_ms\": 1000}");
    struct net_client reader, writer;
    node_connect(&p, &reader, true);
    node_connect(&p, &writer, false);
    SetResponse s;
    node_set(&writer, "before", "1", &s);
    int64_t next = s.version + 1;
    SetResponse_free(&s);
    send_snapshot_read(&reader, "later", next);
    cr_assert_not(readable_within(reader.fd, 200), "answered before its version existed");
    node_set(&writer, "later", "here", &s);
    cr_assert_eq(s.version, next);
    SetResponse_free(&s);
    SnapshotReadResponse r = recv_snapshot_read(&reader);
    cr_assert(r.success && r.found, "served once applied: error %d", (int)r.error_code);
    cr_assert_str_eq((const char *)r.value.data, "here");
    SnapshotReadResponse_free(&r);

    double t0 = node_now();
    send_snapshot_read(&reader, "later", next + 1000);
    r = recv_snapshot_read(&reader);
    double waited = node_now() - t0;
    cr_assert_not(r.success);
    cr_assert_eq(r.error_code, ErrorCode_FUTURE_VERSION);
    cr_assert_geq(waited, 0.9, "failed after %.3f s, before the request timeout", waited);
    cr_assert_lt(waited, 10.0);
    SnapshotReadResponse_free(&r);
    net_client_close(&reader);
    net_client_close(&writer);
    cr_assert_eq(node_stop(&p, SIGTERM), 0);
    node_cleanup(&p);
}

/* The answer refused the call as INVALID_ARGUMENT, naming field in its error. */
#define EXPECT_INVALID(resp, field)                                                     \
    do {                                                                                \
        cr_assert_not((resp)->success);                                                 \
        cr_assert_eq((resp)->error_code, ErrorCode_INVALID_ARGUMENT);                   \
        cr_assert((resp)->has_error && strstr((const char *)(resp)->error.data, field), \
                  "error '%s' names %s", (resp)->error.data, field);                    \
    } while (0)

/* Issue 14: an unknown Consistency used to be taken silently (as LINEARIZABLE) while an
   unknown OperationType was refused; now every enum of a request is checked alike. */
Test(kvnode_client, unknown_enum_values_are_refused_naming_the_field)
{
    struct node_proc p;
    node_start(&p, "");
    static const int unknown[] = {7, 99, -1};
    for (int framed = 0; framed < 2; framed++) {
        struct net_client c;
        node_connect(&p, &c, framed);
        for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
            GetRequest g;
            GetRequest_init(&g);
            tp_bytes_set_str(&g.key, "k");
            g.has_consistency = true;
            g.consistency = (Consistency)unknown[i];
            TransactionalKV_get_result gr;
            test_call_ok(&c, TEST_METHOD(get), 11, &g, &gr);
            EXPECT_INVALID(&gr.success, "request.consistency");
            TransactionalKV_get_result_free(&gr);
            GetRequest_free(&g);
            GetRangeRequest q;
            GetRangeRequest_init(&q);
            q.has_consistency = true;
            q.consistency = (Consistency)unknown[i];
            TransactionalKV_getRange_result qr;
            test_call_ok(&c, TEST_METHOD(getRange), 11, &q, &qr);
            EXPECT_INVALID(&qr.success, "request.consistency");
            TransactionalKV_getRange_result_free(&qr);
            GetRangeRequest_free(&q);
            GetReadVersionRequest v;
            GetReadVersionRequest_init(&v);
            v.has_consistency = true;
            v.consistency = (Consistency)unknown[i];
            TransactionalKV_getReadVersion_result vr;
            test_call_ok(&c, TEST_METHOD(getReadVersion), 11, &v, &vr);
            EXPECT_INVALID(&vr.success, "request.consistency");
            TransactionalKV_getReadVersion_result_free(&vr);
        }
        AtomicCommitRequest t;
        AtomicCommitRequest_init(&t);
        t.operations.items = calloc(2, sizeof *t.operations.items);
        t.operations.count = 2;
        for (int i = 0; i < 2; i++) {
            Operation_init(&t.operations.items[i]);
            tp_bytes_set_str(&t.operations.items[i].key, "written?");
            t.operations.items[i].has_value = true;
            tp_bytes_set_str(&t.operations.items[i].value, "no");
        }
        t.operations.items[1].type = (OperationType)9;
        TransactionalKV_atomicCommit_result tr;
        test_call_ok(&c, TEST_METHOD(atomicCommit), 11, &t, &tr);
        EXPECT_INVALID(&tr.success, "request.operations[1].type");
        TransactionalKV_atomicCommit_result_free(&tr);
        AtomicCommitRequest_free(&t);
        char v[8];
        cr_assert_not(node_get(&c, "written?", v, sizeof v), "nothing of it was applied");
        net_client_close(&c);
    }
    cr_assert_eq(node_stop(&p, SIGTERM), 0);
    node_cleanup(&p);
}

/* Issue 14: node_id and leader_id are the member id in decimal in every answer ("0" for a
   standalone node), never the address (the endpoint field has that). */
Test(kvnode_client, node_ids_are_member_ids)
{
    struct node_proc p;
    node_start(&p, "");
    struct net_client c;
    node_connect(&p, &c, true);
    PingRequest q;
    PingRequest_init(&q);
    TransactionalKV_ping_result pr;
    test_call_ok(&c, TEST_METHOD(ping), 11, &q, &pr);
    cr_assert_str_eq((const char *)pr.success.node_id.data, "0");
    TransactionalKV_ping_result_free(&pr);
    NodeInfo info;
    node_info(&c, &info);
    cr_assert_str_eq((const char *)info.node_id.data, "0");
    cr_assert_str_eq((const char *)info.leader_id.data, "0");
    cr_assert_str_eq((const char *)info.status.node_id.data, "0");
    cr_assert_str_eq((const char *)info.status.endpoint.data, p.addr);
    NodeInfo_free(&info);
    GetClusterHealthRequest h;
    GetClusterHealthRequest_init(&h);
    TransactionalKV_getClusterHealth_result hr;
    test_call_ok(&c, TEST_METHOD(getClusterHealth), 11, &h, &hr);
    const ClusterHealth *ch = &hr.success;
    cr_assert(ch->success && ch->healthy);
    cr_assert_str_eq((const char *)ch->leader_id.data, "0");
    cr_assert_str_eq((const char *)ch->reported_by.data, "0");
    cr_assert_eq(ch->nodes.count, 1);
    cr_assert_str_eq((const char *)ch->nodes.items[0].node_id.data, "0");
    cr_assert_str_eq((const char *)ch->nodes.items[0].reported_by.data, "0");
    TransactionalKV_getClusterHealth_result_free(&hr);
    net_client_close(&c);
    cr_assert_eq(node_stop(&p, SIGTERM), 0);
    node_cleanup(&p);
}
