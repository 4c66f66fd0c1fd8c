/* test_rep_transfer.c: leadership transfer on real processes: transferLeader under a write
   load (the new leader, the longest wait for an acknowledged write, nothing lost), what is
   refused, and SIGTERM on a leader handing over before it exits. */
#include "rep_fixture.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEYS_MAX 2000
/* A transfer is a few round trips plus the new leader's no-op; on a loaded 2-core box an
   acknowledged write may still wait this long (an election after SIGKILL takes 400 - 800 ms
   here). Generous, and well below the 2 s of an aborted transfer plus an election. */
#define WINDOW_MS_MAX 1500.0

struct acked {
    char key[KEYS_MAX][16];
    int count;
    double last_ack, window;
};

/* Writes through node until an answer; records the longest gap between acknowledgements. */
static void write_acked(struct rep *r, int node, struct acked *a, int i)
{
    snprintf(a->key[a->count], sizeof a->key[0], "t%05d", i);
    SetResponse s;
    if (rep_set(r, node, a->key[a->count], a->key[a->count], &s) != 0)
        return;
    if (s.success) {
        double now = node_now();
        if (a->last_ack > 0 && now - a->last_ack > a->window)
            a->window = now - a->last_ack;
        a->last_ack = now;
        a->count++;
    } else {
        cr_assert(rep_refused(s.success, s.has_error_code, s.error_code) ||
                      s.error_code == ErrorCode_TIMEOUT,
                  "write %d answered %d", i, s.error_code);
    }
    SetResponse_free(&s);
}

static void transfer_send(struct rep *r, int node, const char *target, int32_t seqid)
{
    TransferLeaderRequest q;
    TransferLeaderRequest_init(&q);
    if (target) {
        q.has_target_id = true;
        tp_bytes_set_str(&q.target_id, target);
    }
    struct net_client *c = rep_client(r, node);
    cr_assert(c, "cannot connect to node %d", node);
    test_send_ok(c, TEST_METHOD(transferLeader), seqid, &q);
    TransferLeaderRequest_free(&q);
}

static TransferLeaderResponse transfer_recv(struct rep *r, int node, int32_t seqid)
{
    TransactionalKV_transferLeader_result res;
    test_recv_ok(rep_client(r, node), TEST_METHOD(transferLeader), seqid, &res);
    cr_assert(res.has_success);
    return res.success; /* moved out: free it */
}

/* The tests read the nodes' info lines. */
static void rep_start_info(struct rep *r)
{
    setenv(NODE_LOG_LEVEL_ENV, "info", 1);
    rep_start(r, "");
}

static void check_all_present(struct rep *r, int node, const struct acked *a)
{
    for (int i = 0; i < a->count; i++) {
        GetResponse g;
        cr_assert_eq(rep_get(r, node, a->key[i], true, &g), 0);
        cr_assert(g.success && g.found, "acknowledged %s is missing on node %d", a->key[i], node);
        GetResponse_free(&g);
    }
}

Test(rep_transfer, under_load_the_target_leads_and_no_acknowledged_write_is_lost)
{
    struct rep r;
    rep_start_info(&r);
    int leader = rep_wait_leader(&r);
    int target = (leader + 1) % REP_NODES, writer = (leader + 2) % REP_NODES;
    struct acked *a = calloc(1, sizeof *a);
    cr_assert(a);
    char id[8];
    snprintf(id, sizeof id, "%d", target);
    double asked = 0;
    for (int i = 0; i < 300; i++) {
        if (i == 100) {
            transfer_send(&r, leader, id, 777);
            asked = node_now();
        }
        write_acked(&r, writer, a, i);
    }
    TransferLeaderResponse t = transfer_recv(&r, leader, 777);
    double answered = node_now();
    cr_assert(t.success, "transfer failed: %s", t.has_error ? (const char *)t.error.data : "?");
    cr_assert(t.has_leader_id);
    cr_assert_str_eq((const char *)t.leader_id.data, id);
    TransferLeaderResponse_free(&t);
    cr_assert_eq(rep_wait_leader(&r), target);
    printf("rep_transfer: %d writes acknowledged, the longest wait between two %.0f ms; the "
           "transfer answered %.0f ms after it was asked\n", a->count, a->window * 1000,
           (answered - asked) * 1000);
    cr_assert_gt(a->count, 250, "writes were refused around the transfer");
    cr_assert_lt(a->window * 1000, WINDOW_MS_MAX, "no write acknowledged for %.0f ms",
                 a->window * 1000);
    cr_assert(node_log_contains(&r.nodes[leader], "leadership transferred to node"));
    rep_wait_converged(&r);
    for (int i = 0; i < REP_NODES; i++)
        check_all_present(&r, i, a);
    free(a);
    rep_cleanup(&r);
}

static void expect_refused(struct rep *r, int node, const char *target, int code)
{
    transfer_send(r, node, target, 9);
    TransferLeaderResponse t = transfer_recv(r, node, 9);
    cr_assert(!t.success, "a transfer to %s from node %d was taken", target ? target : "-", node);
    cr_assert(t.has_error_code);
    cr_assert_eq((int)t.error_code, code, "to %s: code %d, not %d", target ? target : "-",
                 t.error_code, code);
    if (code == ErrorCode_NOT_LEADER)
        cr_assert(t.has_leader_hint, "NOT_LEADER without the leader's endpoint");
    TransferLeaderResponse_free(&t);
}

Test(rep_transfer, to_itself_an_unknown_id_or_asked_of_a_follower_is_refused)
{
    struct rep r;
    rep_start(&r, "");
    int leader = rep_wait_leader(&r);
    char self[8];
    snprintf(self, sizeof self, "%d", leader);
    expect_refused(&r, leader, self, ErrorCode_INVALID_ARGUMENT);
    expect_refused(&r, leader, "7", ErrorCode_INVALID_ARGUMENT);
    expect_refused(&r, leader, "x", ErrorCode_INVALID_ARGUMENT);
    expect_refused(&r, (leader + 1) % REP_NODES, NULL, ErrorCode_NOT_LEADER);
    cr_assert_eq(rep_wait_leader(&r), leader, "a refused transfer moved the leader");
    /* kvctl, given every endpoint, finds the leader and hands over to the one named. */
    int target = (leader + 2) % REP_NODES;
    char cmd[600], out[512] = "";
    snprintf(cmd, sizeof cmd, "%s -e %s,%s,%s leader transfer %d 2>&1", getenv("KVCTL"),
             r.nodes[(leader + 1) % REP_NODES].addr, r.nodes[target].addr,
             r.nodes[leader].addr, target);
    FILE *f = popen(cmd, "r");
    cr_assert(f);
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = '\0';
    int status = pclose(f);
    char want[32];
    snprintf(want, sizeof want, "OK leader %d\n", target);
    cr_assert_eq(status, 0, "kvctl leader transfer: %s", out);
    cr_assert_str_eq(out, want);
    cr_assert_eq(rep_wait_leader(&r), target);
    rep_cleanup(&r);
}

/* SIGTERM on the leader: it hands over to a follower before it exits, so the others have a
   leader in the next term at once instead of after an election timeout. */
Test(rep_transfer, sigterm_on_the_leader_hands_over_before_it_exits)
{
    struct rep r;
    rep_start_info(&r);
    int leader = rep_wait_leader(&r);
    struct acked *a = calloc(1, sizeof *a);
    cr_assert(a);
    int writer = (leader + 1) % REP_NODES;
    for (int i = 0; i < 50; i++)
        write_acked(&r, writer, a, i);
    NodeInfo before;
    cr_assert_eq(rep_info(&r, writer, &before), 0);
    rep_disconnect(&r, leader);
    double t0 = node_now();
    cr_assert_eq(node_stop(&r.nodes[leader], SIGTERM), 0, "a leader's SIGTERM exit was unclean");
    double stopped = node_now() - t0;
    cr_assert(node_log_contains(&r.nodes[leader], "stopping: transferring leadership first"));
    cr_assert(node_log_contains(&r.nodes[leader], "leads now"),
              "the leader exited without handing over");
    int next = rep_leader_seen_by(&r, writer);
    cr_assert(next >= 0 && next != leader, "no new leader right after the old one exited");
    NodeInfo after;
    cr_assert_eq(rep_info(&r, writer, &after), 0);
    cr_assert_eq(after.status.term, before.status.term + 1, "more than one election");
    printf("rep_transfer: SIGTERM to exit %.0f ms, node %d leads in term %lld\n",
           stopped * 1000, next, (long long)after.status.term);
    NodeInfo_free(&before);
    NodeInfo_free(&after);
    for (int i = 50; i < 100; i++)
        write_acked(&r, writer, a, i);
    rep_restart(&r, leader);
    rep_wait_converged(&r);
    check_all_present(&r, leader, a);
    free(a);
    rep_cleanup(&r);
}
