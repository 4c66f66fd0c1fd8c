/* test_powercut_node.c: a node's acknowledged writes survive a power cut (the node SIGKILLed
   and every byte it wrote since its last fsync undone: powercut.h), also a write that came
   pipelined behind a read on the same connection. Answering the first write lets the
   connection's next requests in while the group commit runs (server_conn.c); the write among
   them must wait for a sync of its own before it is answered. A standalone node once answered
   it from the same commit, before any sync covered it. */
#include "node_proc.h"
#include "powercut.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ROUNDS 4
/* Each sync is slowed by up to this (the shim draws it): a write answered before its sync is
   then still unsynced when the test cuts the power, right after the answer. */
#define SYNC_US_MAX "100000"

static void set_request(SetRequest *req, const char *key)
{
    SetRequest_init(req);
    cr_assert_eq(tp_bytes_set_str(&req->key, key), 0);
    cr_assert_eq(tp_bytes_set_str(&req->value, key), 0);
}

/* setKey(a), get(a), setKey(b), sent in one write so the node reads them in one go; true when
   both writes were acknowledged. */
static bool write_read_write(struct net_client *c, const char *a, const char *b)
{
    SetRequest s1, s2;
    GetRequest g;
    set_request(&s1, a);
    set_request(&s2, b);
    GetRequest_init(&g);
    cr_assert_eq(tp_bytes_set_str(&g.key, a), 0);
    int32_t ids[3] = {test_seqid(), test_seqid(), test_seqid()};
    tp_buf buf;
    tp_buf_init(&buf);
    cr_assert_eq(TransactionalKV_setKey_send(&buf, ids[0], &s1), 0);
    cr_assert_eq(TransactionalKV_get_send(&buf, ids[1], &g), 0);
    cr_assert_eq(TransactionalKV_setKey_send(&buf, ids[2], &s2), 0);
    cr_assert_eq(net_client_send(c, buf.data, buf.len), NET_OK);
    tp_buf_free(&buf);
    TransactionalKV_setKey_result r1, r2;
    TransactionalKV_get_result rg;
    test_recv_ok(c, TEST_METHOD(setKey), ids[0], &r1);
    test_recv_ok(c, TEST_METHOD(get), ids[1], &rg);
    test_recv_ok(c, TEST_METHOD(setKey), ids[2], &r2);
    bool acked = r1.has_success && r1.success.success && r2.has_success && r2.success.success;
    cr_assert(rg.has_success && rg.success.found, "the read behind the write saw it");
    TransactionalKV_setKey_result_free(&r1);
    TransactionalKV_setKey_result_free(&r2);
    TransactionalKV_get_result_free(&rg);
    SetRequest_free(&s1);
    SetRequest_free(&s2);
    GetRequest_free(&g);
    return acked;
}

/* Until a write is acknowledged: a 1-node cluster elects itself after its start. */
static void wait_writable(struct net_client *c)
{
    double deadline = node_now() + 20.0;
    for (;;) {
        SetResponse s;
        node_set(c, "ready", "ready", &s);
        bool ok = s.success;
        SetResponse_free(&s);
        if (ok)
            return;
        cr_assert_lt(node_now(), deadline, "no write taken within 20 s");
        usleep(20000); /* polling with a deadline */
    }
}

static void power_cut_check(bool cluster)
{
    const char *shim = getenv("KVT_POWERCUT_LIB");
    cr_assert(shim, "meson sets KVT_POWERCUT_LIB");
    struct node_proc p;
    uint16_t port = node_free_port();
    char extra[512] = "";
    if (cluster)
        snprintf(extra, sizeof extra,
                 "\"cluster_secret\": \"test-secret-0123456789abcdef\", \"deployment\": "
                 "{\"mode\": \"replicated\", \"instance_id\": \"0\", "
                 "\"replica_endpoints\": [\"127.0.0.1:%u\"]}", (unsigned)port);
    node_start_at(&p, port, extra);
    node_stop(&p, SIGTERM);
    char data[300], undo[300];
    snprintf(data, sizeof data, "%s/data", p.dir);
    snprintf(undo, sizeof undo, "%s/undo", p.dir);
    cr_assert_eq(mkdir(undo, 0700), 0);
    for (int round = 0; round < ROUNDS; round++) {
        /* Only the node's process sees the shim (the environment is copied at its exec). */
        setenv("LD_PRELOAD", shim, 1);
        setenv(KVT_POWERCUT_ENV_DIR, data, 1);
        setenv(KVT_POWERCUT_ENV_UNDO, undo, 1);
        setenv(KVT_POWERCUT_ENV_SYNC_US, SYNC_US_MAX, 1);
        node_restart(&p);
        unsetenv("LD_PRELOAD");
        struct net_client c;
        node_connect(&p, &c, false);
        wait_writable(&c);
        char a[32], b[32];
        snprintf(a, sizeof a, "first-%d", round);
        snprintf(b, sizeof b, "second-%d", round);
        cr_assert(write_read_write(&c, a, b), "round %d: the writes were not acknowledged",
                  round);
        net_client_close(&c);
        node_stop(&p, SIGKILL);
        struct kvt_powercut_stats st;
        cr_assert_eq(kvt_powercut_undo(data, undo, &st, stderr), 0);
        node_restart(&p);
        node_connect(&p, &c, true);
        char got[64];
        cr_assert(node_get(&c, a, got, sizeof got), "round %d: acknowledged %s is gone", round,
                  a);
        cr_assert(node_get(&c, b, got, sizeof got),
                  "round %d: acknowledged %s, pipelined behind a read, is gone after a power "
                  "cut: it was answered before a sync covered it", round, b);
        net_client_close(&c);
        node_stop(&p, SIGTERM);
    }
    node_cleanup(&p);
}

Test(powercut_node, a_standalone_nodes_pipelined_writes_survive_a_power_cut, .timeout = 120)
{
    power_cut_check(false);
}

Test(powercut_node, a_1_node_clusters_pipelined_writes_survive_a_power_cut, .timeout = 120)
{
    power_cut_check(true);
}
