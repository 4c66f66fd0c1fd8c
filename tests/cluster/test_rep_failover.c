/* test_rep_failover.c: SIGKILL the leader under a steady write load (a new leader, writers
   resume, the unavailable window measured, the restarted node catches up), and SIGKILL all
   three during writes (every acknowledged write survives). */
#include "rep_fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEYS_MAX 4000
#define LATENCY_WRITES 200

struct acked {
    char key[KEYS_MAX][16];
    int count;
};

/* One write through node: 1 acknowledged, 0 refused (safe to retry), -1 unknown outcome. */
static int write_once(struct rep *r, int node, const char *key)
{
    SetResponse s;
    if (rep_set(r, node, key, key, &s) != 0)
        return -1;
    int out = s.success ? 1 : rep_refused(s.success, s.has_error_code, s.error_code) ? 0 : -1;
    if (!s.success && !rep_refused(s.success, s.has_error_code, s.error_code))
        cr_assert_eq(s.error_code, ErrorCode_TIMEOUT, "a write either commits, is refused, "
                     "or times out: got %d", s.error_code);
    SetResponse_free(&s);
    return out;
}

static void check_all_present(struct rep *r, int node, const struct acked *a)
{
    for (int i = 0; i < a->count; i++) {
        GetResponse g;
        cr_assert_eq(rep_get(r, node, a->key[i], true, &g), 0);
        cr_assert(g.success && g.found, "acknowledged %s is missing on node %d", a->key[i], node);
        cr_assert_eq(memcmp(g.value.data, a->key[i], g.value.len), 0);
        GetResponse_free(&g);
    }
}

/* Single-client write latency through node (forwarded when it is a follower). */
static void measure_latency(struct rep *r, int node, const char *what)
{
    double total = 0, worst = 0;
    char key[16];
    for (int i = 0; i < LATENCY_WRITES; i++) {
        snprintf(key, sizeof key, "lat%d", i);
        double t0 = node_now();
        cr_assert_eq(write_once(r, node, key), 1);
        double dt = node_now() - t0;
        total += dt;
        worst = dt > worst ? dt : worst;
    }
    printf("rep_failover: write latency through the %s: mean %.2f ms, max %.2f ms (%d writes)\n",
           what, total * 1000 / LATENCY_WRITES, worst * 1000, LATENCY_WRITES);
}

Test(rep_failover, the_leader_is_killed_under_load_and_replaced)
{
    struct rep r;
    rep_start(&r, "");
    int leader = rep_wait_leader(&r);
    int writer = (leader + 1) % REP_NODES;
    measure_latency(&r, leader, "leader");
    measure_latency(&r, writer, "follower");
    struct acked *a = calloc(1, sizeof *a);
    cr_assert(a);
    double kill_at = 0, first_after = 0, last_before = 0;
    int after = 0;
    for (int i = 0; after < 50 && a->count < KEYS_MAX; i++) {
        if (i == 100) {
            last_before = node_now();
            rep_kill(&r, leader);
            kill_at = node_now();
        }
        snprintf(a->key[a->count], sizeof a->key[0], "w%05d", i);
        int rc = write_once(&r, writer, a->key[a->count]);
        if (rc == 1) {
            a->count++;
            if (kill_at > 0 && after++ == 0)
                first_after = node_now();
        }
        cr_assert(kill_at == 0 || node_now() < kill_at + REP_WAIT_S, "writes did not resume");
    }
    printf("rep_failover: unavailable window after SIGKILL of the leader: %.0f ms "
           "(last write before the kill ended %.0f ms before it)\n",
           (first_after - kill_at) * 1000, (kill_at - last_before) * 1000);
    int new_leader = rep_wait_leader(&r);
    cr_assert_neq(new_leader, leader);
    rep_restart(&r, leader);
    rep_wait_converged(&r);
    for (int i = 0; i < REP_NODES; i++)
        check_all_present(&r, i, a);
    free(a);
    rep_cleanup(&r);
}

/* Sends a write to node without waiting for its answer (it is in flight at the crash). */
static void send_only(struct rep *r, int node, const char *key)
{
    SetRequest q;
    SetRequest_init(&q);
    tp_bytes_set_str(&q.key, key);
    tp_bytes_set_str(&q.value, key);
    test_send_ok(rep_client(r, node), TEST_METHOD(setKey), 1, &q);
    SetRequest_free(&q);
}

Test(rep_failover, every_acknowledged_write_survives_killing_all_three)
{
    struct rep r;
    rep_start(&r, "\"storage\": {\"snapshot_every_entries\": 50, \"snapshot_log_min_bytes\": 0}");
    int leader = rep_wait_leader(&r);
    struct acked *a = calloc(1, sizeof *a);
    cr_assert(a);
    for (int i = 0; i < 150; i++) {
        snprintf(a->key[a->count], sizeof a->key[0], "c%05d", i);
        if (write_once(&r, (leader + i) % REP_NODES, a->key[a->count]) == 1)
            a->count++;
    }
    send_only(&r, leader, "in-flight-1");
    send_only(&r, (leader + 1) % REP_NODES, "in-flight-2");
    for (int i = 0; i < REP_NODES; i++)
        rep_kill(&r, i);
    for (int i = 0; i < REP_NODES; i++)
        rep_restart(&r, i);
    rep_wait_leader(&r);
    cr_assert_gt(a->count, 100);
    check_all_present(&r, (leader + 2) % REP_NODES, a);
    rep_wait_converged(&r);
    free(a);
    rep_cleanup(&r);
}

/* Every key of a, read from node's own state (serializable: what it applied). */
static void check_all_applied(struct rep *r, int node, const struct acked *a)
{
    for (int i = 0; i < a->count; i++) {
        GetResponse g;
        cr_assert_eq(rep_get(r, node, a->key[i], false, &g), 0);
        cr_assert(g.success && g.found, "acknowledged %s is missing on node %d", a->key[i], node);
        GetResponse_free(&g);
    }
}

/* A follower that lost its disk comes back under the same leader and term, whose progress
   still says it matches everything; no snapshot is due, so the leader's log must bring it
   back (before the fix its rejections counted as stale and it never caught up). With member
   identity on, such a node is refused (rep_identity); this is the escape hatch's path
   (consensus.member_identity false), which the core must still handle. */
Test(rep_failover, a_follower_restarted_with_a_wiped_disk_catches_up_from_the_log)
{
    struct rep r;
    rep_start_consensus(&r, "\"storage\": {\"snapshot_every_entries\": 1000000}",
                        "\"member_identity\": false");
    int leader = rep_wait_leader(&r);
    int wiped = (leader + 1) % REP_NODES;
    struct acked *a = calloc(1, sizeof *a);
    cr_assert(a);
    for (int i = 0; i < 200; i++) {
        if (i == 100) {
            rep_wait_converged(&r); /* the leader saw it match every entry so far */
            rep_kill(&r, wiped);
            rep_wipe(&r, wiped);
        }
        snprintf(a->key[a->count], sizeof a->key[0], "p%05d", i);
        if (write_once(&r, leader, a->key[a->count]) == 1)
            a->count++;
    }
    cr_assert_gt(a->count, 150);
    rep_restart(&r, wiped);
    rep_wait_converged(&r);
    check_all_applied(&r, wiped, a);
    free(a);
    rep_cleanup(&r);
}
