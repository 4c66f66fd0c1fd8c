/* test_rep_snapshot.c: replicated snapshots written by a child process and shipped from the
   file in chunks: a follower that missed entries the leader compacted away catches up. */
#include "rep_fixture.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Values big enough that the snapshot spans several 256 KiB chunks. */
#define VALUE_BYTES 2000
#define KEYS 400

static void write_keys(struct rep *r, int leader, int from, int to, char *value)
{
    char key[32];
    for (int i = from; i < to; i++) {
        snprintf(key, sizeof key, "rs-%05d", i);
        memset(value, 'a' + i % 26, VALUE_BYTES);
        value[VALUE_BYTES] = '\0';
        SetResponse s;
        cr_assert_eq(rep_set(r, leader, key, value, &s), 0, "set %s", key);
        cr_assert(s.success, "set %s", key);
        SetResponse_free(&s);
    }
}

static int64_t snapshot_index(struct rep *r, int node)
{
    NodeInfo info;
    cr_assert_eq(rep_info(r, node, &info), 0);
    int64_t index = info.snapshot_index;
    NodeInfo_free(&info);
    return index;
}

Test(rep_snapshot, a_follower_behind_the_compacted_log_gets_the_snapshot_file, .timeout = 120)
{
    struct rep r;
    rep_start(&r, "\"storage\": {\"snapshot_every_entries\": 100, "
                  "\"snapshot_log_growth_percent\": 0, \"snapshot_log_min_bytes\": 0, "
                  "\"snapshot_catchup_entries\": 0, \"wal_segment_bytes\": 65536}");
    int leader = rep_wait_leader(&r);
    int behind = (leader + 1) % REP_NODES;
    char *value = malloc(VALUE_BYTES + 1);
    cr_assert(value);
    write_keys(&r, leader, 0, 10, value);
    rep_kill(&r, behind);
    write_keys(&r, leader, 10, KEYS, value);
    double deadline = node_now() + REP_WAIT_S;
    while (snapshot_index(&r, leader) < 300) {
        cr_assert_lt(node_now(), deadline, "the leader took no snapshot");
        usleep(10000); /* polling with a deadline */
    }
    rep_restart(&r, behind);
    rep_wait_converged(&r);
    cr_assert_geq(snapshot_index(&r, behind), 300, "caught up by the leader's snapshot");
    char key[32];
    for (int i = 0; i < KEYS; i += 37) {
        snprintf(key, sizeof key, "rs-%05d", i);
        GetResponse g;
        cr_assert_eq(rep_get(&r, behind, key, false, &g), 0);
        cr_assert(g.found, "%s missing on the follower", key);
        cr_assert_eq(g.value.len, VALUE_BYTES);
        cr_assert_eq(g.value.data[0], 'a' + i % 26);
        GetResponse_free(&g);
    }
    free(value);
    rep_cleanup(&r);
}

/* Replicas apply the same log: with equal thresholds all three would fork their snapshot at
   the same index and compete for the cores together. Replica i waits for (3 + i) / 3 times
   snapshot_log_min_bytes of log, so when replica 0 (2 MiB) has its first snapshot, replica 2
   (~3.3 MiB) has none yet. */
Test(rep_snapshot, replicas_snapshot_at_staggered_log_sizes, .timeout = 120)
{
    struct rep r;
    rep_start(&r, "\"storage\": {\"snapshot_every_entries\": 1, "
                  "\"snapshot_log_growth_percent\": 0, \"snapshot_log_min_bytes\": 2097152}");
    int leader = rep_wait_leader(&r);
    char value[1001];
    memset(value, 'v', 1000);
    value[1000] = '\0';
    double deadline = node_now() + REP_WAIT_S;
    int written = 0;
    while (snapshot_index(&r, 0) == 0) {
        cr_assert_lt(node_now(), deadline, "replica 0 took no snapshot after %d writes", written);
        /* ~1 KiB of log a write: the ~1,300 writes between the thresholds of replicas 0
           and 2 outlast replica 0's check interval (100 ms) and its child many times over. */
        for (int i = 0; i < 10; i++, written++) {
            char key[32];
            snprintf(key, sizeof key, "st-%05d", written);
            SetResponse s;
            cr_assert_eq(rep_set(&r, leader, key, value, &s), 0, "set %s", key);
            cr_assert(s.success, "set %s", key);
            SetResponse_free(&s);
        }
    }
    cr_assert_eq(snapshot_index(&r, 2), 0,
                 "replica 2 snapshotted with replica 0, after %d writes", written);
    rep_cleanup(&r);
}
