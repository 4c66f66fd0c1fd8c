/* test_rep_catchup.c: followers brought back by snapshots streamed in chunks: a wiped follower
   (replaced by a new member, HACKING.md "Replace a dead node") while writes go on, kill -9 at each install step, the leader killed mid-transfer, a follower
   cut off while the leader compacts twice (twice over). */
#include "rep_member.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Snapshots every 200 entries, a 50-entry tail: values of 4 KiB make a ~4 MB snapshot after
   1,000 keys, sixteen 256 KiB chunks. */
#define CATCHUP_CONFIG                                                                       \
    "\"storage\": {\"snapshot_every_entries\": 200, \"snapshot_log_growth_percent\": 0, "     \
    "\"snapshot_log_min_bytes\": 0, \"snapshot_catchup_entries\": 50, "                      \
    "\"wal_segment_bytes\": 1048576}"
#define VALUE_BYTES 4096
#define KEYS 1000

/* Writes keys [from, to) through the leader, which stays the leader in these tests. */
static void write_keys(struct rep *r, int leader, int from, int to)
{
    static char value[VALUE_BYTES + 1];
    char key[32];
    for (int i = from; i < to; i++) {
        snprintf(key, sizeof key, "cu-%06d", i);
        memset(value, 'a' + i % 26, VALUE_BYTES);
        value[VALUE_BYTES] = '\0';
        int64_t version; /* retried through refusals and elections (rep_call_answered) */
        cr_assert_eq(rep_session_set(r, leader, key, value, 0, 0, &version), 0, "set %s", key);
    }
}

static int64_t info_field(struct rep *r, int node, bool snapshot)
{
    NodeInfo info;
    cr_assert_eq(rep_info(r, node, &info), 0);
    int64_t v = snapshot ? info.snapshot_index : info.status.applied_index;
    NodeInfo_free(&info);
    return v;
}

/* Writes keys from *written on, 50 at a time, until the leader took a snapshot at index or
   past it. (Waiting instead could wait forever: a snapshot comes 200 entries after the last
   one began, which may be past the last write.) */
static void write_until_snapshot(struct rep *r, int leader, int *written, int64_t index)
{
    double deadline = node_now() + REP_WAIT_S;
    while (info_field(r, leader, true) < index) {
        cr_assert_lt(node_now(), deadline, "node %d took no snapshot at %lld", leader,
                     (long long)index);
        write_keys(r, leader, *written, *written + 50);
        *written += 50;
    }
}

/* Snapshot files in a node's data dir (only the newest should stay) and leftovers. */
static int count_files(struct rep *r, int node, const char *suffix)
{
    char dir[400];
    snprintf(dir, sizeof dir, "%s/data", r->nodes[node].dir);
    DIR *d = opendir(dir);
    cr_assert(d, "%s", dir);
    int count = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name), slen = strlen(suffix);
        count += strncmp(de->d_name, "snapshot-", 9) == 0 && len > slen &&
                 strcmp(de->d_name + len - slen, suffix) == 0;
    }
    closedir(d);
    return count;
}

static bool log_says(struct rep *r, int node, const char *text)
{
    FILE *f = fopen(r->nodes[node].log, "r");
    cr_assert(f);
    char line[1024];
    bool found = false;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, text) != NULL;
    fclose(f);
    return found;
}

static void check_keys(struct rep *r, int node, int count)
{
    char key[32];
    for (int i = 0; i < count; i += 97) {
        snprintf(key, sizeof key, "cu-%06d", i);
        GetResponse g;
        cr_assert_eq(rep_get(r, node, key, false, &g), 0);
        cr_assert(g.found, "%s missing on node %d", key, node);
        cr_assert_eq(g.value.len, VALUE_BYTES);
        cr_assert_eq(g.value.data[0], 'a' + i % 26);
        GetResponse_free(&g);
    }
}

/* A cluster (logging at info: the tests read what the nodes say) whose leader holds KEYS keys
   and a snapshot of them; f is a follower. */
static void start_loaded(struct rep *r, int *leader, int *f)
{
    setenv(NODE_LOG_LEVEL_ENV, "info", 1);
    rep_start(r, CATCHUP_CONFIG);
    *leader = rep_wait_leader(r);
    *f = (*leader + 1) % REP_NODES;
    write_keys(r, *leader, 0, KEYS);
    int written = KEYS;
    write_until_snapshot(r, *leader, &written, KEYS / 2);
}

/* A replaced disk: the follower comes back empty, as a new member, while writes go on; the
   leader's snapshot (many chunks) and then its log bring it level. Only the newest snapshot
   stays on disk. */
Test(rep_catchup, a_wiped_follower_catches_up_while_writes_go_on, .timeout = 180)
{
    struct rep r;
    int leader, f;
    start_loaded(&r, &leader, &f);
    rep_kill(&r, f);
    f = rep_replace_start(&r, f);
    write_keys(&r, leader, KEYS, KEYS + 200);
    rep_wait_converged(&r);
    rep_promote_caught_up(&r, f);
    cr_assert_geq(info_field(&r, f, true), KEYS / 2, "caught up without the snapshot");
    check_keys(&r, f, KEYS + 200);
    cr_assert(log_says(&r, leader, "sending snapshot"));
    cr_assert(log_says(&r, f, "installed snapshot"));
    /* A child's new snapshot is in place a moment before the node removes the one before. */
    double deadline = node_now() + REP_WAIT_S;
    for (int i = 0; i < REP_NODES_MAX; i++) {
        if (r.nodes[i].pid <= 0)
            continue;
        while (count_files(&r, i, ".kvsnap") != 1) {
            cr_assert_lt(node_now(), deadline, "node %d keeps %d snapshots", i,
                         count_files(&r, i, ".kvsnap"));
            usleep(20000); /* polling with a deadline */
        }
        cr_assert_eq(count_files(&r, i, ".recv"), 0, "node %d keeps a partial snapshot", i);
    }
    rep_cleanup(&r);
}

/* The install, step by step: a kill -9 at each leaves a node that restarts and converges
   (each round a new member replacing the one before: five ids, 3..7). */
Test(rep_catchup, kill_9_at_each_install_step_recovers, .timeout = 300)
{
    static const char *steps[] = {"receiving", "written", "restored", "renamed", "reset"};
    struct rep r;
    int leader, f;
    start_loaded(&r, &leader, &f);
    for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
        rep_kill(&r, f);
        setenv("KVNODE_TEST_INSTALL_CRASH_AT", steps[s], 1);
        f = rep_replace_start(&r, f);
        unsetenv("KVNODE_TEST_INSTALL_CRASH_AT");
        cr_assert_eq(node_wait_exit(&r.nodes[f], REP_WAIT_S), 128 + SIGKILL,
                     "node %d did not die at step %s", f, steps[s]);
        rep_disconnect(&r, f);
        char said[64];
        snprintf(said, sizeof said, "dying at install step '%s'", steps[s]);
        cr_assert(log_says(&r, f, said), "step %s never reached", steps[s]);
        rep_restart(&r, f);
        rep_wait_converged(&r);
        check_keys(&r, f, KEYS);
        cr_assert_eq(count_files(&r, f, ".recv"), 0, "a partial snapshot outlived step %s",
                     steps[s]);
        cr_assert_leq(count_files(&r, f, ".kvsnap"), 1, "after step %s", steps[s]);
    }
    rep_cleanup(&r);
}

/* The leader's view of node: its replication state and snapshot bytes acknowledged. */
static bool replication_of(struct rep *r, int leader, int node, char *state, size_t size,
                           int64_t *sent)
{
    struct net_client *c = rep_client(r, leader);
    GetClusterHealthRequest q;
    GetClusterHealthRequest_init(&q);
    TransactionalKV_getClusterHealth_result res;
    TransactionalKV_getClusterHealth_result_init(&res);
    int32_t seq = ++r->seqid;
    int rc = test_send(c, TEST_METHOD(getClusterHealth), seq, &q, NULL);
    if (rc == 0)
        rc = test_recv(c, TEST_METHOD(getClusterHealth), seq, &res, NULL);
    const NodeStatus *st = NULL;
    char id[16];
    snprintf(id, sizeof id, "%d", node);
    for (uint32_t i = 0; rc == 0 && res.has_success && i < res.success.nodes.count; i++)
        if (res.success.nodes.items[i].node_id.data &&
            strcmp((const char *)res.success.nodes.items[i].node_id.data, id) == 0)
            st = &res.success.nodes.items[i];
    bool ok = st != NULL;
    if (ok) {
        snprintf(state, size, "%s", st->has_replication ? (const char *)st->replication.data : "");
        *sent = st->has_snapshot_bytes_sent ? st->snapshot_bytes_sent : -1;
    }
    if (rc != 0)
        rep_disconnect(r, leader);
    TransactionalKV_getClusterHealth_result_free(&res);
    return ok;
}

/* Waits until the leader streams a snapshot to node and the node acknowledged some of it. */
static void wait_mid_transfer(struct rep *r, int leader, int node)
{
    double deadline = node_now() + REP_WAIT_S;
    for (;;) {
        char state[32] = "";
        int64_t sent = -1;
        if (replication_of(r, leader, node, state, sizeof state, &sent) &&
            strcmp(state, "snapshot") == 0 && sent > 0)
            return;
        cr_assert_lt(node_now(), deadline, "no transfer to node %d under way", node);
        usleep(20000); /* polling with a deadline */
    }
}

/* The leader dies mid-transfer (slowed to 4 Mbit/s so there is a middle): the new leader
   sends its own snapshot and everyone converges, the old leader too once back. kvctl status
   shows the transfer while it runs. The follower's machine comes back wiped as a new member,
   added as a voter at once (kvctl member add): with a learner the two voters left after the
   leader's death could not elect. */
Test(rep_catchup, the_leader_killed_mid_transfer, .timeout = 180)
{
    struct rep r;
    int leader, f;
    start_loaded(&r, &leader, &f);
    rep_kill(&r, f);
    rep_remove_member(&r, f);
    uint16_t port = r.nodes[f].port;
    f = rep_add_member(&r, port, false);
    char faults[64];
    snprintf(faults, sizeof faults, "rate_kbps=%d:4000\n", f);
    rep_faults(&r, leader, faults);
    rep_join(&r, f, port);
    wait_mid_transfer(&r, leader, f);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "'%s' --endpoints %s,%s,%s status", getenv("KVCTL"),
             r.nodes[0].addr, r.nodes[1].addr, r.nodes[2].addr);
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    char out[4096] = "";
    size_t got = fread(out, 1, sizeof out - 1, p);
    out[got] = '\0';
    cr_assert_eq(pclose(p), 0, "kvctl status failed: %s", out);
    cr_assert(strstr(out, "snapshot "), "kvctl status does not show the transfer:\n%s", out);
    rep_kill(&r, leader);
    int next = rep_wait_leader(&r);
    cr_assert_neq(next, leader);
    rep_wait_converged(&r);
    check_keys(&r, f, KEYS);
    rep_restart(&r, leader);
    rep_wait_converged(&r);
    rep_cleanup(&r);
}

static void cut_off(struct rep *r, int node, bool cut)
{
    char faults[64] = "";
    int a = (node + 1) % REP_NODES, b = (node + 2) % REP_NODES;
    for (int i = 0; i < REP_NODES; i++) {
        if (cut && i == node)
            snprintf(faults, sizeof faults, "drop_to=%d,%d\ndrop_from=%d,%d\n", a, b, a, b);
        else if (cut)
            snprintf(faults, sizeof faults, "drop_to=%d\ndrop_from=%d\n", node, node);
        rep_faults(r, i, faults);
    }
}

/* A follower cut off while the leader takes two snapshots past it (beyond the log's tail)
   comes back by a snapshot; then the same again: a later install is never refused. */
Test(rep_catchup, a_follower_cut_off_while_the_leader_compacts_twice, .timeout = 180)
{
    struct rep r;
    setenv(NODE_LOG_LEVEL_ENV, "info", 1); /* the tests read what the nodes say */
    rep_start(&r, CATCHUP_CONFIG);
    int leader = rep_wait_leader(&r);
    int f = (leader + 1) % REP_NODES;
    write_keys(&r, leader, 0, 100);
    rep_wait_converged(&r);
    int written = 100;
    for (int round = 0; round < 2; round++) {
        cut_off(&r, f, true);
        int64_t before = info_field(&r, leader, true);
        write_until_snapshot(&r, leader, &written, before + 400); /* two, 200 apart */
        cut_off(&r, f, false);
        rep_wait_converged(&r);
        check_keys(&r, f, written);
        cr_assert_gt(info_field(&r, f, true), before, "round %d: no snapshot installed", round);
    }
    rep_cleanup(&r);
}
