/* test_rep_session.c: client sessions on a real 3-node cluster: a write retried through every
   node, across a leader change, a restart and a snapshot install, applies once and answers
   with its first version; every replica ends with the same session table (digest). */
#include "rep_fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Retries on refusals that applied nothing (no leader yet, not the leader), as a client does. */
#define SESSION_CALL(r, node, method, req, result)                                        \
    do {                                                                                  \
        double deadline_ = node_now() + REP_WAIT_S;                                       \
        for (;;) {                                                                        \
            int rc_;                                                                      \
            int32_t seq_ = ++(r)->seqid;                                                  \
            struct net_client *c_ = rep_client(r, node);                                  \
            REP_SEND(c_, method, seq_, req, rc_);                                         \
            TransactionalKV_##method##_result_init(result);                               \
            if (rc_ == 0)                                                                 \
                REP_RECV(c_, method, seq_, result, rc_);                                  \
            if (rc_ == 0 && (result)->has_success &&                                      \
                !((result)->success.has_error_code &&                                     \
                  ((result)->success.error_code == ErrorCode_UNAVAILABLE ||               \
                   (result)->success.error_code == ErrorCode_NOT_LEADER)))                \
                break;                                                                    \
            if (rc_ != 0)                                                                 \
                rep_disconnect(r, node);                                                  \
            TransactionalKV_##method##_result_free(result);                               \
            cr_assert_lt(node_now(), deadline_, #method " on node %d kept failing", node); \
            usleep(50000);                                                                \
        }                                                                                 \
    } while (0)

static int64_t open_session(struct rep *r, int node)
{
    OpenSessionRequest q;
    OpenSessionRequest_init(&q);
    TransactionalKV_openSession_result res;
    SESSION_CALL(r, node, openSession, &q, &res);
    cr_assert(res.success.success, "openSession");
    cr_assert(res.success.has_session_id && res.success.session_id > 0);
    cr_assert_eq(res.success.timeout_ms, 120000, "the node's default timeout");
    int64_t id = res.success.session_id;
    TransactionalKV_openSession_result_free(&res);
    return id;
}

/* setKey in a session through node; returns the answer's code, the version in *version. */
static int session_set(struct rep *r, int node, const char *key, const char *value, int64_t id,
                       int64_t seq, int64_t *version)
{
    SetRequest q;
    SetRequest_init(&q);
    tp_bytes_set_str(&q.key, key);
    tp_bytes_set_str(&q.value, value);
    q.has_session = id != 0;   /* 0: a write without a session */
    q.session.session_id = id;
    q.session.sequence = seq;
    TransactionalKV_setKey_result res;
    SESSION_CALL(r, node, setKey, &q, &res);
    int code = res.success.success ? 0 : (int)res.success.error_code;
    *version = res.success.has_version ? res.success.version : 0;
    TransactionalKV_setKey_result_free(&res);
    SetRequest_free(&q);
    return code;
}

static int64_t plain_set(struct rep *r, int node, const char *key, const char *value)
{
    int64_t version;
    cr_assert_eq(session_set(r, node, key, value, 0, 0, &version), 0);
    return version;
}

static void expect_value(struct rep *r, int node, const char *key, const char *value)
{
    GetResponse g;
    cr_assert_eq(rep_get(r, node, key, true, &g), 0);
    cr_assert(g.success && g.found, "%s on node %d", key, node);
    cr_assert_eq(g.value.len, strlen(value));
    cr_assert_eq(memcmp(g.value.data, value, g.value.len), 0, "%s on node %d", key, node);
    GetResponse_free(&g);
}

Test(rep_session, retries_through_every_node_and_a_failover_apply_once, .timeout = 180)
{
    struct rep r;
    rep_start(&r, "\"storage\": {\"snapshot_every_entries\": 20, \"snapshot_log_min_bytes\": 0}");
    int leader = rep_wait_leader(&r), follower = (leader + 1) % REP_NODES;
    int64_t id = open_session(&r, follower);   /* forwarded to the leader */
    int64_t first, again;
    cr_assert_eq(session_set(&r, follower, "k", "one", id, 1, &first), 0);
    /* Someone else writes k; every retry of write 1 answers its first version and leaves k. */
    plain_set(&r, leader, "k", "other");
    for (int n = 0; n < REP_NODES; n++) {
        cr_assert_eq(session_set(&r, n, "k", "one", id, 1, &again), 0);
        cr_assert_eq(again, first, "retry through node %d", n);
    }
    expect_value(&r, leader, "k", "other");

    /* The leader dies: the new one holds the same table. */
    rep_kill(&r, leader);
    int next = rep_wait_leader(&r);
    cr_assert_eq(session_set(&r, next, "k", "one", id, 1, &again), 0);
    cr_assert_eq(again, first, "retry at the new leader");
    expect_value(&r, next, "k", "other");
    /* Enough writes for snapshots; the old leader comes back wiped and is sent one. */
    for (int i = 0; i < 60; i++) {
        char key[16];
        snprintf(key, sizeof key, "fill%d", i);
        cr_assert_eq(session_set(&r, next, key, "x", id, 2 + i, &again), 0);
    }
    rep_wipe(&r, leader);
    rep_restart(&r, leader);
    rep_wait_converged(&r);   /* equal digests: data and session tables */
    cr_assert_eq(session_set(&r, leader, "fill0", "x", id, 2, &again), 0);
    cr_assert_eq(session_set(&r, leader, "k", "one", id, 1, &again), 0);
    cr_assert_eq(again, first, "retry through the node restored from a snapshot");

    /* Closed: a retry is refused and applies nothing. */
    CloseSessionRequest cq;
    CloseSessionRequest_init(&cq);
    cq.session_id = id;
    TransactionalKV_closeSession_result cres;
    SESSION_CALL(&r, follower, closeSession, &cq, &cres);
    cr_assert(cres.success.success && cres.success.found);
    TransactionalKV_closeSession_result_free(&cres);
    cr_assert_eq(session_set(&r, follower, "k", "one", id, 1, &again), ErrorCode_SESSION_EXPIRED);
    expect_value(&r, next, "k", "other");
    rep_wait_converged(&r);
    rep_cleanup(&r);
}
