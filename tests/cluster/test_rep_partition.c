/* test_rep_partition.c: partitions through the fault file: an isolated follower commits
   nothing and serves stale serializable reads while linearizable ones fail; a leader cut off
   steps down, a new one takes over, and nothing written to the old one after the cut exists. */
#include "rep_fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CUT_WRITES 3

static void set_acked(struct rep *r, int node, const char *key, const char *value)
{
    SetResponse s;
    cr_assert_eq(rep_set(r, node, key, value, &s), 0);
    cr_assert(s.success, "set %s=%s via node %d: %s", key, value, node,
              s.error.data ? (char *)s.error.data : "?");
    SetResponse_free(&s);
}

static bool get_value(struct rep *r, int node, const char *key, bool lin, char *out, size_t size,
                      int *code)
{
    GetResponse g;
    cr_assert_eq(rep_get(r, node, key, lin, &g), 0);
    *code = g.success ? 0 : g.has_error_code ? (int)g.error_code : -1;
    bool ok = g.success && g.found;
    if (ok)
        snprintf(out, size, "%.*s", (int)g.value.len, (char *)g.value.data);
    GetResponse_free(&g);
    return ok;
}

/* Runs kvctl ARGS against one node; its output (stdout and stderr) goes into out. */
static int kvctl_on(struct rep *r, int node, const char *args, char *out, size_t size)
{
    char all[1024];
    snprintf(all, sizeof all, "-e %s %s", r->nodes[node].addr, args);
    return rep_kvctl(all, out, size);
}

Test(rep_partition, an_isolated_follower_commits_nothing_and_serves_stale_reads)
{
    struct rep r;
    rep_start(&r, "");
    int leader = rep_wait_leader(&r);
    int lone = (leader + 1) % REP_NODES;
    set_acked(&r, leader, "a", "1");
    rep_wait_converged(&r);
    rep_isolate(&r, lone);
    rep_wait_cut(&r, lone);
    NodeInfo before;
    cr_assert_eq(rep_info(&r, lone, &before), 0);
    set_acked(&r, leader, "a", "2"); /* the majority goes on */
    set_acked(&r, (leader + 2) % REP_NODES, "b", "1");
    char v[16];
    int code;
    cr_assert(get_value(&r, lone, "a", false, v, sizeof v, &code), "served serializable");
    cr_assert_str_eq(v, "1", "the minority's serializable read is stale");
    cr_assert(!get_value(&r, lone, "a", true, v, sizeof v, &code), "no linearizable read");
    cr_assert_eq(code, ErrorCode_UNAVAILABLE);
    char kv_out[512]; /* kvctl asks the same way: --serializable is stale, a plain get refused */
    cr_assert_eq(kvctl_on(&r, lone, "--serializable get a", kv_out, sizeof kv_out), 0, "%s",
                 kv_out);
    cr_assert_str_eq(kv_out, "1\n");
    cr_assert_eq(kvctl_on(&r, lone, "get a", kv_out, sizeof kv_out), 3, "%s", kv_out);
    SetResponse s;
    cr_assert_eq(rep_set(&r, lone, "c", "1", &s), 0);
    cr_assert(!s.success, "the minority acknowledges no write");
    SetResponse_free(&s);
    NodeInfo after;
    cr_assert_eq(rep_info(&r, lone, &after), 0);
    cr_assert_eq(after.status.commit_index, before.status.commit_index, "it committed nothing");
    NodeInfo_free(&before);
    NodeInfo_free(&after);
    rep_faults(&r, lone, "");
    rep_wait_converged(&r);
    cr_assert(get_value(&r, lone, "a", true, v, sizeof v, &code));
    cr_assert_str_eq(v, "2");
    rep_cleanup(&r);
}

Test(rep_partition, a_leader_cut_off_steps_down_and_its_late_writes_vanish)
{
    struct rep r;
    rep_start(&r, "");
    int old = rep_wait_leader(&r);
    set_acked(&r, old, "before", "1");
    rep_isolate(&r, old);
    rep_wait_cut(&r, old);
    /* Written to the old leader after the cut: none may be acknowledged, none may exist. */
    char key[16];
    for (int i = 0; i < CUT_WRITES; i++) {
        snprintf(key, sizeof key, "late%d", i);
        SetResponse s;
        cr_assert_eq(rep_set(&r, old, key, key, &s), 0);
        cr_assert(!s.success, "the cut-off leader acknowledged %s", key);
        SetResponse_free(&s);
    }
    double deadline = node_now() + REP_WAIT_S;
    int fresh = -1;
    while (fresh < 0 || fresh == old) {
        int a = rep_leader_seen_by(&r, (old + 1) % REP_NODES);
        fresh = a == rep_leader_seen_by(&r, (old + 2) % REP_NODES) ? a : -1;
        cr_assert_lt(node_now(), deadline, "the majority elected no new leader");
        usleep(20000);
    }
    NodeInfo info;
    cr_assert_eq(rep_info(&r, old, &info), 0);
    cr_assert_neq(info.status.role, NodeRole_LEADER, "the old leader stepped down");
    NodeInfo_free(&info);
    set_acked(&r, fresh, "after", "1");
    rep_faults(&r, old, "");
    rep_wait_converged(&r);
    char v[16];
    int code;
    for (int n = 0; n < REP_NODES; n++) {
        for (int i = 0; i < CUT_WRITES; i++) {
            snprintf(key, sizeof key, "late%d", i);
            cr_assert(!get_value(&r, n, key, false, v, sizeof v, &code), "%s exists", key);
        }
        cr_assert(get_value(&r, n, "after", false, v, sizeof v, &code));
        cr_assert(get_value(&r, n, "before", false, v, sizeof v, &code));
    }
    rep_cleanup(&r);
}

/* A write a follower forwards to the leader after the leader was cut off is lost on the way,
   as on a real partition: the cut-off leader never appends it, and the follower answers once
   its own view moves on (TIMEOUT: it cannot know), or, when it already follows a new leader,
   with that leader's answer. */
Test(rep_partition, a_write_forwarded_to_a_cut_off_leader_is_lost_on_the_way)
{
    struct rep r;
    rep_start(&r, "");
    int old = rep_wait_leader(&r);
    int via = (old + 1) % REP_NODES;
    set_acked(&r, via, "before", "1");
    rep_isolate(&r, old);
    rep_wait_cut(&r, old);
    NodeInfo before;
    cr_assert_eq(rep_info(&r, old, &before), 0);
    SetResponse s;
    double t0 = node_now();
    cr_assert_eq(rep_set(&r, via, "lost", "1", &s), 0);
    cr_assert(s.success || (s.has_error_code && s.error_code == ErrorCode_TIMEOUT),
              "code %d", s.has_error_code ? (int)s.error_code : -1);
    cr_assert_lt(node_now() - t0, 2.0, "answered at the request timeout, not when the follower "
                 "stopped following the cut-off leader");
    SetResponse_free(&s);
    NodeInfo after;
    cr_assert_eq(rep_info(&r, old, &after), 0);
    cr_assert_eq(after.status.last_log_index, before.status.last_log_index,
                 "the cut-off leader appended a forwarded write");
    NodeInfo_free(&before);
    NodeInfo_free(&after);
    rep_cleanup(&r);
}
