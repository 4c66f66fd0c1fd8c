/* test_rep_session.c: client sessions on a real 3-node cluster: a write retried through every
   node, across a leader change, a restart and a snapshot install, applies once and answers
   with its first version; every replica ends with the same session table (digest). */
#include "rep_member.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A write without a session (retried after TIMEOUT too: the same value twice is harmless). */
static int64_t plain_set(struct rep *r, int node, const char *key, const char *value)
{
    int64_t version;
    cr_assert_eq(rep_session_set(r, node, key, value, 0, 0, &version), 0);
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
    int64_t id = rep_open_session(&r, follower);   /* forwarded to the leader */
    int64_t first, again;
    cr_assert_eq(rep_session_set(&r, follower, "k", "one", id, 1, &first), 0);
    /* Someone else writes k; every retry of write 1 answers its first version and leaves k. */
    plain_set(&r, leader, "k", "other");
    for (int n = 0; n < REP_NODES; n++) {
        cr_assert_eq(rep_session_set(&r, n, "k", "one", id, 1, &again), 0);
        cr_assert_eq(again, first, "retry through node %d", n);
    }
    expect_value(&r, leader, "k", "other");

    /* The leader dies: the new one holds the same table. */
    rep_kill(&r, leader);
    int next = rep_wait_leader(&r);
    cr_assert_eq(rep_session_set(&r, next, "k", "one", id, 1, &again), 0);
    cr_assert_eq(again, first, "retry at the new leader");
    expect_value(&r, next, "k", "other");
    /* Enough writes for snapshots; the old leader's machine comes back wiped, as a new member
       (HACKING.md, "Replace a dead node"), and is sent one. */
    for (int i = 0; i < 60; i++) {
        char key[16];
        snprintf(key, sizeof key, "fill%d", i);
        cr_assert_eq(rep_session_set(&r, next, key, "x", id, 2 + i, &again), 0);
    }
    int fresh = rep_replace(&r, leader);
    rep_wait_converged(&r);   /* equal digests: data and session tables */
    cr_assert_eq(rep_session_set(&r, fresh, "fill0", "x", id, 2, &again), 0);
    cr_assert_eq(rep_session_set(&r, fresh, "k", "one", id, 1, &again), 0);
    cr_assert_eq(again, first, "retry through the node restored from a snapshot");

    /* Closed: a retry is refused and applies nothing. */
    CloseSessionRequest cq;
    CloseSessionRequest_init(&cq);
    cq.session_id = id;
    TransactionalKV_closeSession_result cres;
    rep_call_answered(&r, follower, TEST_METHOD(closeSession), &cq, &cres);
    cr_assert(cres.success.success && cres.success.found);
    TransactionalKV_closeSession_result_free(&cres);
    cr_assert_eq(rep_session_set(&r, follower, "k", "one", id, 1, &again), ErrorCode_SESSION_EXPIRED);
    expect_value(&r, next, "k", "other");
    rep_wait_converged(&r);
    rep_cleanup(&r);
}
