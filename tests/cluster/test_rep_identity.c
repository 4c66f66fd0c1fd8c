/* test_rep_identity.c: member identity with real processes: a follower killed, its data dir
   wiped and started again with its old config is refused (its votes and acknowledgements do
   not count, it says so, and so does the leader); the others go on committing; the operator
   removes it and starts the machine again as a new member, which catches up by snapshot. */
#include "rep_member.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Snapshots every 200 entries with a 50-entry tail: a new member must catch up by one. */
#define SNAP_CONFIG                                                                          \
    "\"storage\": {\"snapshot_every_entries\": 200, \"snapshot_log_growth_percent\": 0, "     \
    "\"snapshot_log_min_bytes\": 0, \"snapshot_catchup_entries\": 50}"

/* rep_start's cluster with consensus.member_identity on. */
static void start_identity(struct rep *r)
{
    rep_start_consensus(r, SNAP_CONFIG, "\"member_identity\": true");
}

static bool wait_log(struct rep *r, int node, const char *what)
{
    for (double end = node_now() + REP_WAIT_S; node_now() < end; usleep(20000))
        if (node_log_contains(&r->nodes[node], what))
            return true;
    return node_log_contains(&r->nodes[node], what);
}

/* The leader as node sees it, once that leader says so too (the refused node names none,
   so rep_wait_leader, which asks every live node, cannot serve). */
static int wait_leader_of(struct rep *r, int node)
{
    for (double end = node_now() + REP_WAIT_S; node_now() < end; usleep(20000)) {
        int l = rep_leader_seen_by(r, node);
        if (l >= 0 && rep_leader_seen_by(r, l) == l)
            return l;
    }
    cr_assert_fail("node %d saw no leader within %.0f s", node, REP_WAIT_S);
    return -1;
}

/* A write through node until acknowledged (REP_WAIT_S at most); asserts. */
static void write_acked(struct rep *r, int node, const char *key)
{
    for (double end = node_now() + REP_WAIT_S; node_now() < end; usleep(20000)) {
        SetResponse s;
        if (rep_set(r, node, key, key, &s) != 0)
            continue;
        bool ok = s.success;
        SetResponse_free(&s);
        if (ok)
            return;
    }
    cr_assert_fail("%s was not acknowledged within %.0f s", key, REP_WAIT_S);
}

static int64_t snapshot_index(struct rep *r, int node)
{
    NodeInfo info;
    if (rep_info(r, node, &info) != 0)
        return -1;
    int64_t v = info.snapshot_index;
    NodeInfo_free(&info);
    return v;
}

/* Every key in keys (each its own value) on node, read from its own state. */
static void holds_all(struct rep *r, int node, char (*keys)[16], int count)
{
    for (int i = 0; i < count; i++) {
        GetResponse g;
        cr_assert_eq(rep_get(r, node, keys[i], false, &g), 0, "get %s on node %d", keys[i], node);
        cr_assert(g.found && g.value.len == strlen(keys[i]) &&
                      memcmp(g.value.data, keys[i], g.value.len) == 0,
                  "acknowledged %s missing on node %d", keys[i], node);
        GetResponse_free(&g);
    }
}

#define KEYS_MAX 2000

/* The operator's path (HACKING.md, "Replace a dead node") for the refused member: with the
   leader compacted past its log's start, remove the old member id, start the machine again as
   a new member (same address, empty data dir, deployment.join): it catches up by a snapshot,
   is promoted, holds every acknowledged write, and counts in the majority. */
static void replace_the_refused_member(struct rep *r, int wiped, int other)
{
    static char keys[KEYS_MAX][16];
    int count = 0;
    snprintf(keys[count++], sizeof keys[0], "before");
    snprintf(keys[count++], sizeof keys[0], "with-two");
    snprintf(keys[count++], sizeof keys[0], "after");
    int leader = wait_leader_of(r, other);
    while (snapshot_index(r, leader) <= 0) {
        cr_assert_lt(count, KEYS_MAX, "node %d took no snapshot in %d writes", leader, count);
        snprintf(keys[count], sizeof keys[0], "k-%05d", count);
        write_acked(r, leader, keys[count++]);
    }
    rep_disconnect(r, wiped);
    node_stop(&r->nodes[wiped], SIGTERM); /* the refused process: the operator stops it */
    int fresh = rep_replace(r, wiped);
    cr_assert_geq(fresh, REP_NODES, "the new member reused an old id: %d", fresh);
    char said[64];
    snprintf(said, sizeof said, "is bound as member %d", fresh);
    cr_assert(wait_log(r, fresh, said), "the new member %d was never bound", fresh);
    cr_assert(node_log_contains(&r->nodes[fresh], "installed snapshot"),
              "the new member caught up without the leader's snapshot");
    leader = rep_leader_now(r);
    snprintf(keys[count], sizeof keys[0], "replaced");
    write_acked(r, leader, keys[count++]);
    rep_wait_converged(r);
    holds_all(r, fresh, keys, count);
    /* It votes and acknowledges: with the other old voter down, it and the leader commit. */
    int down = leader == other ? 3 - wiped - other : other;
    rep_kill(r, down);
    leader = rep_leader_now(r);
    snprintf(keys[count], sizeof keys[0], "new-majority");
    write_acked(r, leader, keys[count++]);
    holds_all(r, leader, keys, count);
    fprintf(stderr, "rep_identity: member %d replaced by member %d, %d writes acknowledged, "
                    "none lost\n", wiped, fresh, count);
}

Test(rep_identity, a_wiped_follower_is_refused_then_replaced_by_a_new_member, .timeout = 170)
{
    setenv(NODE_LOG_LEVEL_ENV, "info", 1); /* the test reads what the nodes say */
    struct rep r;
    start_identity(&r);
    int leader = rep_wait_leader(&r);
    write_acked(&r, leader, "before");
    for (int i = 0; i < REP_NODES; i++)
        cr_assert(wait_log(&r, i, "is bound as member"), "node %d was never bound", i);
    int wiped = (leader + 1) % REP_NODES, other = (leader + 2) % REP_NODES;
    rep_kill(&r, wiped);
    rep_wipe(&r, wiped);
    rep_restart(&r, wiped); /* its old config: the same member id, a new data dir */
    cr_assert(wait_log(&r, wiped, "is bound to another data dir"),
              "the wiped node never learned it is refused");
    leader = wait_leader_of(&r, other);
    char said[64];
    snprintf(said, sizeof said, "member %d came back with a new data dir", wiped);
    cr_assert(wait_log(&r, leader, said), "the leader did not report member %d", wiped);
    write_acked(&r, leader, "with-two");
    /* Its acknowledgements count for nothing: without the third node nothing commits. */
    rep_kill(&r, other);
    SetResponse s;
    int rc = rep_set(&r, leader, "without-quorum", "x", &s);
    cr_assert(rc != 0 || !s.success, "a write was acknowledged by the leader and the wiped node");
    if (rc == 0)
        SetResponse_free(&s);
    rep_restart(&r, other);
    leader = wait_leader_of(&r, other);
    cr_assert_neq(leader, wiped, "the refused node leads");
    write_acked(&r, leader, "after");
    char out[4096];
    snprintf(said, sizeof said, "-e %s health", r.nodes[wiped].addr);
    rep_kvctl(said, out, sizeof out);
    cr_assert(strstr(out, "bound to another data dir") != NULL, "health of the wiped node: %s",
              out);
    replace_the_refused_member(&r, wiped, other);
    rep_cleanup(&r);
}
