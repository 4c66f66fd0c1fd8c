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

/* The cluster id as listMembers gives it (16 hex digits), once every node is bound. */
static void cluster_id_of(struct rep *r, char out[17])
{
    for (int i = 0; i < REP_NODES; i++)
        cr_assert(wait_log(r, i, "is bound as member"), "node %d was never bound", i);
    ListMembersResponse l;
    cr_assert_eq(rep_members(r, rep_leader_now(r), &l), 0);
    cr_assert(l.success && l.has_cluster_id && l.cluster_id.len == 16, "no cluster id listed");
    memcpy(out, l.cluster_id.data, 16);
    out[16] = '\0';
    ListMembersResponse_free(&l);
}

/* The data dir's files, sizes and times, as one line each (to show it was left as it was). */
static void dir_listing(const char *dir, char *out, size_t size)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "cd '%s/data' && find . -type f -printf '%%p %%s %%T@\\n' | sort",
             dir);
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    cr_assert_eq(pclose(p), 0);
    cr_assert_gt(n, 0, "%s/data is empty", dir);
}

/* deployment.join.cluster_id: a node told to join another cluster than the one that reaches
   it takes no part (no entry, no snapshot, no vote; it says why) while the cluster goes on;
   started again naming the right one it catches up and is promoted; and its data dir, now the
   cluster's, refuses to start under a config naming another cluster, and is left as it is. */
Test(rep_identity, a_node_joining_names_its_cluster_and_refuses_any_other, .timeout = 170)
{
    setenv(NODE_LOG_LEVEL_ENV, "info", 1);
    struct rep r;
    start_identity(&r);
    int leader = rep_wait_leader(&r);
    write_acked(&r, leader, "before");
    char cid[17], wrong[17];
    cluster_id_of(&r, cid);
    snprintf(wrong, sizeof wrong, "%016llx", (unsigned long long)(strtoull(cid, NULL, 16) ^ 1));
    /* kvctl member add-learner prints the join config with the cluster id. */
    uint16_t port = node_free_port();
    char args[256], out[4096], want[256];
    snprintf(args, sizeof args, "-e %s member add-learner 127.0.0.1:%u", r.nodes[leader].addr,
             port);
    cr_assert_eq(rep_kvctl(args, out, sizeof out), 0, "%s", out);
    snprintf(want, sizeof want, "join: {\"member_id\": 3, \"endpoint\": \"127.0.0.1:%u\", "
             "\"cluster_id\": \"%s\"}", port, cid);
    cr_assert(strstr(out, want), "add-learner printed no join config:\n%s", out);
    rep_join_in(&r, 3, port, wrong);
    snprintf(want, sizeof want, "which joins cluster %s only", wrong);
    cr_assert(wait_log(&r, 3, want), "the node joining another cluster never said so");
    for (int i = 0; i < 50; i++) {
        char key[16];
        snprintf(key, sizeof key, "w-%02d", i);
        write_acked(&r, rep_leader_now(&r), key);
    }
    NodeInfo info;
    cr_assert_eq(rep_info(&r, 3, &info), 0);
    cr_assert_eq(info.status.applied_index, 0, "it applied the other cluster's entries");
    cr_assert_eq(info.status.last_log_index, 0, "it took the other cluster's entries");
    NodeInfo_free(&info);
    cr_assert(!node_log_contains(&r.nodes[3], "installed snapshot"));
    /* Named right, it catches up and is promoted. */
    rep_disconnect(&r, 3);
    node_stop(&r.nodes[3], SIGTERM);
    node_cleanup(&r.nodes[3]);
    memset(&r.nodes[3], 0, sizeof r.nodes[3]);
    rep_join_in(&r, 3, port, cid);
    rep_promote_caught_up(&r, 3);
    write_acked(&r, rep_leader_now(&r), "after");
    rep_wait_converged(&r);
    /* Its data dir is the cluster's now: another cluster's id in its config stops the start. */
    rep_disconnect(&r, 3);
    cr_assert_eq(node_stop(&r.nodes[3], SIGTERM), 0);
    char before[8192], after[8192], cfg[400], text[4096];
    dir_listing(r.nodes[3].dir, before, sizeof before);
    FILE *f = fopen(r.nodes[3].config, "r");
    cr_assert(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    char *at = strstr(text, cid);
    cr_assert(at, "the config names no cluster id:\n%s", text);
    memcpy(at, wrong, 16);
    snprintf(cfg, sizeof cfg, "%s/other.json", r.nodes[3].dir);
    f = fopen(cfg, "w");
    cr_assert(f);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
    const char *argv[] = {"--config", cfg, NULL};
    static char err[16384];
    cr_assert_neq(node_run_once(argv, err, sizeof err), 0, "it started in another cluster");
    snprintf(want, sizeof want, "belongs to cluster %s, but deployment.join.cluster_id names "
             "cluster %s", cid, wrong);
    cr_assert(strstr(err, want), "the refusal does not say why:\n%s", err);
    dir_listing(r.nodes[3].dir, after, sizeof after);
    cr_assert_str_eq(after, before, "the refused start changed the data dir:\n%s\n---\n%s", before, after);
    rep_restart(&r, 3);
    write_acked(&r, rep_leader_now(&r), "restarted");
    rep_wait_converged(&r);
    /* Leading, the node that was told its cluster takes the next joiner in: that one states no
       cluster id in its answers until it holds the membership (they were refused as another
       cluster's, and it never caught up). */
    snprintf(args, sizeof args, "-e %s leader transfer 3", r.nodes[rep_leader_now(&r)].addr);
    cr_assert_eq(rep_kvctl(args, out, sizeof out), 0, "%s", out);
    for (double end = node_now() + REP_WAIT_S; rep_leader_seen_by(&r, 3) != 3; usleep(20000))
        cr_assert_lt(node_now(), end, "member 3 does not lead after the transfer: %s", out);
    uint16_t next = node_free_port();
    int id = rep_add_member(&r, next, true);
    rep_join_in(&r, id, next, cid);
    rep_promote_caught_up(&r, id);
    write_acked(&r, rep_leader_now(&r), "grown");
    rep_wait_converged(&r);
    rep_cleanup(&r);
}

/* Replaces from with to in node's config file. */
static void config_replace(struct rep *r, int node, const char *from, const char *to)
{
    char text[4096], *at;
    FILE *f = fopen(r->nodes[node].config, "r");
    cr_assert(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    cr_assert((at = strstr(text, from)), "node %d's config has no %s", node, from);
    char out[4096];
    snprintf(out, sizeof out, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    f = fopen(r->nodes[node].config, "w");
    cr_assert(f);
    fputs(out, f);
    cr_assert_eq(fclose(f), 0);
}

/* A cluster from before member identity (no identity file, no cluster id, memberships of
   format 1 in its log and snapshots) restarted with it on, as a rolling upgrade does: each
   node makes its data dir's incarnation at its first start, the leader binds the cluster and
   every member, nothing acknowledged is lost and writes go on; a wiped node is then refused. */
Test(rep_identity, a_cluster_from_before_identity_adopts_one_at_its_first_start, .timeout = 170)
{
    setenv(NODE_LOG_LEVEL_ENV, "info", 1);
    struct rep r;
    rep_start_consensus(&r, SNAP_CONFIG, "\"member_identity\": false");
    int leader = rep_wait_leader(&r);
    static char keys[400][16];
    int count = 0;
    for (; count < 300; count++) { /* past a snapshot (every 200 entries) */
        snprintf(keys[count], sizeof keys[0], "old-%03d", count);
        write_acked(&r, leader, keys[count]);
    }
    rep_wait_converged(&r);
    for (int i = 0; i < REP_NODES; i++) {
        char path[400];
        snprintf(path, sizeof path, "%s/data/identity", r.nodes[i].dir);
        cr_assert_neq(access(path, F_OK), 0, "node %d made an identity with it off", i);
    }
    cr_assert_gt(snapshot_index(&r, leader), 0, "no snapshot from before identity");
    for (int i = 0; i < REP_NODES; i++) { /* one at a time, as a rolling upgrade */
        rep_disconnect(&r, i);
        cr_assert_eq(node_stop(&r.nodes[i], SIGTERM), 0);
        config_replace(&r, i, "\"member_identity\": false", "\"member_identity\": true");
        rep_restart(&r, i);
        cr_assert(wait_log(&r, i, "new incarnation"), "node %d made no incarnation", i);
        leader = rep_leader_now(&r);
        snprintf(keys[count], sizeof keys[0], "roll-%d", i);
        write_acked(&r, leader, keys[count++]);
    }
    for (int i = 0; i < REP_NODES; i++)
        cr_assert(wait_log(&r, i, "is bound as member"), "node %d was never bound", i);
    char cid[17];
    cluster_id_of(&r, cid);
    rep_wait_converged(&r);
    for (int i = 0; i < REP_NODES; i++)
        holds_all(&r, i, keys, count);
    /* Identity holds from now on: a wiped follower is refused under its old id. */
    leader = rep_leader_now(&r);
    int wiped = (leader + 1) % REP_NODES;
    rep_kill(&r, wiped);
    rep_wipe(&r, wiped);
    rep_restart(&r, wiped);
    cr_assert(wait_log(&r, wiped, "is bound to another data dir"),
              "the wiped node was not refused after the upgrade");
    write_acked(&r, leader, "after-upgrade");
    rep_cleanup(&r);
}
