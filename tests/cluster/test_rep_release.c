/* test_rep_release.c: a node's consensus core keeps the payloads of its last
   snapshot_catchup_entries applied entries only; a follower further behind is fed from the log
   on disk (no snapshot is ever taken here), and a log that cannot be read back stops the node
   as a failed disk does. */
#include "rep_fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define RELEASE_CONFIG                                                                       \
    "\"storage\": {\"snapshot_every_entries\": 0, \"snapshot_catchup_entries\": 10}"
#define KEYS 300

static void write_keys(struct rep *r, int node, int from, int to)
{
    char key[32], value[64];
    for (int i = from; i < to; i++) {
        snprintf(key, sizeof key, "rl-%05d", i);
        snprintf(value, sizeof value, "value of %s", key);
        int64_t version; /* retried through refusals and elections (rep_call_answered) */
        cr_assert_eq(rep_session_set(r, node, key, value, 0, 0, &version), 0, "set %s", key);
    }
}

/* Every key on node, read from its own state; and no snapshot was taken there. */
static void check_keys(struct rep *r, int node, int count)
{
    char key[32], want[64];
    for (int i = 0; i < count; i++) {
        snprintf(key, sizeof key, "rl-%05d", i);
        snprintf(want, sizeof want, "value of %s", key);
        GetResponse g;
        cr_assert_eq(rep_get(r, node, key, false, &g), 0);
        cr_assert(g.found, "%s missing on node %d", key, node);
        cr_assert(g.value.len == strlen(want) && memcmp(g.value.data, want, g.value.len) == 0,
                  "%s has another value on node %d", key, node);
        GetResponse_free(&g);
    }
    NodeInfo info;
    cr_assert_eq(rep_info(r, node, &info), 0);
    cr_assert_eq(info.snapshot_index, 0, "node %d took or received a snapshot", node);
    NodeInfo_free(&info);
}

static bool log_says(struct rep *r, int node, const char *text)
{
    FILE *f = fopen(r->nodes[node].log, "r");
    cr_assert(f, "%s", r->nodes[node].log);
    char line[1024];
    bool found = false;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, text) != NULL;
    fclose(f);
    return found;
}

static bool storage_failed(struct rep *r, int node, char *why, size_t size)
{
    NodeInfo info;
    if (rep_info(r, node, &info) != 0)
        return false;
    bool failed = info.has_storage_failure;
    if (failed)
        snprintf(why, size, "%.*s", (int)info.storage_failure.len,
                 (const char *)info.storage_failure.data);
    NodeInfo_free(&info);
    return failed;
}

/* The follower misses KEYS entries, 30 times the kept tail: the leader's core no longer holds
   their payloads, so it reads them back from its log for the follower's appends. */
Test(rep_release, a_follower_past_the_kept_tail_is_fed_from_the_log_on_disk, .timeout = 120)
{
    struct rep r;
    rep_start(&r, RELEASE_CONFIG);
    int leader = rep_wait_leader(&r), f = (leader + 1) % REP_NODES;
    rep_kill(&r, f);
    write_keys(&r, leader, 0, KEYS);
    rep_restart(&r, f);
    rep_wait_converged(&r);
    for (int i = 0; i < REP_NODES; i++)
        check_keys(&r, i, KEYS);
    rep_cleanup(&r);
}

/* The same, with the leader's log unreadable: the leader stops (storage failed, saying so);
   the other follower, elected, feeds the lagging one from its own log. */
Test(rep_release, a_log_that_cannot_be_read_back_stops_the_node, .timeout = 120)
{
    struct rep r;
    rep_start(&r, RELEASE_CONFIG);
    int leader = rep_wait_leader(&r), f = (leader + 1) % REP_NODES;
    int other = (leader + 2) % REP_NODES;
    rep_kill(&r, f);
    write_keys(&r, leader, 0, KEYS);
    rep_faults(&r, leader, "disk_fail=read:1:EIO\n");
    double deadline = node_now() + REP_WAIT_S;
    while (!log_says(&r, leader, "fault injection: read calls"))
        cr_assert_lt(node_now(), deadline, "the leader did not take its fault file");
    rep_restart(&r, f);
    char why[600] = "";
    deadline = node_now() + REP_WAIT_S;
    while (!storage_failed(&r, leader, why, sizeof why))
        cr_assert_lt(node_now(), deadline,
                     "the leader (node %d) did not stop on the failed read; node %d names "
                     "node %d as leader now", leader, other, rep_leader_seen_by(&r, other));
    cr_assert(strstr(why, "reading the log back"), "%s", why);
    write_keys(&r, other, KEYS, KEYS + 10);
    rep_kill(&r, leader);
    rep_faults(&r, leader, "");
    rep_restart(&r, leader);
    rep_wait_converged(&r);
    for (int i = 0; i < REP_NODES; i++)
        check_keys(&r, i, KEYS + 10);
    rep_cleanup(&r);
}
