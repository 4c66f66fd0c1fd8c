/* test_rep_watch.c: a watcher on each node of a real 3-node cluster sees every committed change
   of its key, in order, exactly once, across a leader kill and its own node's restart: it
   resumes from the last version it saw, on the node that comes back. */
#include "rep_fixture.h"

#include <criterion/criterion.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define WRITES 30
#define WATCH_WAIT_MS 1000

struct watcher {
    int node;
    struct net_client c;
    bool connected, waiting;
    int32_t seq;
    int64_t after;               /* the last version seen */
    int64_t versions[WRITES + 1];
    char values[WRITES + 1][8];
    int seen;
};

static void watcher_send(struct watcher *w, struct rep *r)
{
    if (!w->connected) {
        if (r->nodes[w->node].pid <= 0 ||
            net_client_connect(&w->c, r->nodes[w->node].addr, true, 5000) != NET_OK) {
            net_client_close(&w->c);
            return;   /* its node is down: try again on the next pump */
        }
        w->connected = true;
    }
    WatchRequest q;
    WatchRequest_init(&q);
    q.has_key = true;
    tp_bytes_set_str(&q.key, "w");
    q.after_version = w->after;
    q.has_timeout_ms = true;
    q.timeout_ms = WATCH_WAIT_MS;
    int rc;
    w->seq = ++r->seqid;
    rc = test_send(&w->c, TEST_METHOD(watch), w->seq, &q, NULL);
    WatchRequest_free(&q);
    w->waiting = rc == 0;
    if (rc != 0) {
        net_client_close(&w->c);
        w->connected = false;
    }
}

static void watcher_take(struct watcher *w, const WatchResponse *a)
{
    if (!a->success) {
        cr_assert(a->error_code == ErrorCode_SHUTTING_DOWN, "watch on node %d failed: %d",
                  w->node, a->error_code);
        return;
    }
    for (uint32_t i = 0; i < a->events.count; i++) {
        const WatchEvent *e = &a->events.items[i];
        cr_assert_gt(e->version, w->after, "node %d: versions in order, none twice", w->node);
        cr_assert_lt(w->seen, WRITES, "node %d: more changes than writes", w->node);
        cr_assert(e->has_value && e->value.len < sizeof w->values[0]);
        w->versions[w->seen] = e->version;
        memcpy(w->values[w->seen], e->value.data, e->value.len);
        w->values[w->seen][e->value.len] = '\0';
        w->seen++;
        w->after = e->version;
    }
    w->after = a->version > w->after ? a->version : w->after;
}

/* Reads the answers that came, and sends each watcher's next watch. */
static void pump(struct watcher *ws, struct rep *r)
{
    for (int i = 0; i < REP_NODES; i++) {
        struct watcher *w = &ws[i];
        if (!w->waiting) {
            watcher_send(w, r);
            continue;
        }
        struct pollfd p = {.fd = w->c.fd, .events = POLLIN};
        if (poll(&p, 1, 0) != 1)
            continue;
        TransactionalKV_watch_result res;
        TransactionalKV_watch_result_init(&res);
        int rc = test_recv(&w->c, TEST_METHOD(watch), w->seq, &res, NULL);
        w->waiting = false;
        if (rc == 0 && res.has_success)
            watcher_take(w, &res.success);
        else {   /* its node went away: reconnect and go on from w->after */
            net_client_close(&w->c);
            w->connected = false;
        }
        TransactionalKV_watch_result_free(&res);
        watcher_send(w, r);
    }
}

Test(rep_watch, every_node_sees_every_change_across_a_failover_and_a_restart, .timeout = 240)
{
    struct rep r;
    rep_start(&r, "\"limits\": {\"mvcc_window_ms\": 600000}");
    int leader = rep_wait_leader(&r);
    struct watcher ws[REP_NODES] = {{0}};
    int64_t start;
    cr_assert_eq(rep_session_set(&r, leader, "start", "x", 0, 0, &start), 0);
    for (int i = 0; i < REP_NODES; i++) {
        ws[i].node = i;
        ws[i].after = start;
    }
    int64_t id = rep_open_session(&r, leader), acked[WRITES];
    int killed = -1;
    for (int i = 0; i < WRITES; i++) {
        pump(ws, &r);
        if (i == WRITES / 3) {   /* the leader dies: a new one takes over */
            killed = rep_wait_leader(&r);
            rep_kill(&r, killed);
        }
        if (i == 2 * WRITES / 3)   /* it comes back: its watcher resumes there */
            rep_restart(&r, killed);
        char value[8];
        snprintf(value, sizeof value, "v%d", i);
        int node = (killed + 1 + i) % REP_NODES;   /* a live node, alternating */
        if (r.nodes[node].pid <= 0)
            node = (node + 1) % REP_NODES;
        /* Retried through failures in one session: each write applies once. */
        cr_assert_eq(rep_session_set(&r, node, "w", value, id, i + 1, &acked[i]), 0);
        cr_assert(i == 0 || acked[i] > acked[i - 1]);
    }
    double deadline = node_now() + REP_WAIT_S;
    for (;;) {
        pump(ws, &r);
        bool all = true;
        for (int i = 0; i < REP_NODES; i++)
            all = all && ws[i].seen == WRITES;
        if (all)
            break;
        cr_assert_lt(node_now(), deadline, "watchers saw %d, %d, %d of %d changes", ws[0].seen,
                     ws[1].seen, ws[2].seen, WRITES);
        usleep(10000);
    }
    for (int n = 0; n < REP_NODES; n++)
        for (int i = 0; i < WRITES; i++) {
            char value[8];
            snprintf(value, sizeof value, "v%d", i);
            cr_assert_eq(ws[n].versions[i], acked[i], "node %d, change %d", n, i);
            cr_assert_str_eq(ws[n].values[i], value, "node %d, change %d", n, i);
        }
    for (int i = 0; i < REP_NODES; i++)
        if (ws[i].connected)
            net_client_close(&ws[i].c);
    rep_cleanup(&r);
}
