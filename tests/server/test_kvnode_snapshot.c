/* test_kvnode_snapshot.c: a real kvnode's snapshots: the log is compacted below the newest,
   kill -9 and restart restore it plus the log after it, and a corrupt one refuses the start. */
#include "node_proc.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The entry count alone decides (no log growth rule), so snapshots land every 50 entries. */
#define SNAP_EVERY 50
#define SNAP_CONFIG                                                                           \
    "\"storage\": {\"snapshot_every_entries\": 50, \"snapshot_log_growth_percent\": 0, "     \
    "\"snapshot_log_min_bytes\": 0, "                                                       \
    "\"wal_segment_bytes\": 4096}"
/* A background snapshot finishes within this. */
#define SNAP_WAIT_SECONDS 20.0

struct dir_census {
    int snapshots;
    char snapshot[256];       /* the last snapshot file name seen */
    int segments;
    uint64_t segment_first_min;
    int segments_at_or_below; /* segments starting at or below `below` */
};

static uint64_t leading_number(const char *s, size_t digits)
{
    uint64_t v = 0;
    for (size_t i = 0; i < digits; i++)
        v = v * 10 + (uint64_t)(s[i] - '0');
    return v;
}

static void census(const struct node_proc *p, uint64_t below, struct dir_census *c)
{
    memset(c, 0, sizeof *c);
    c->segment_first_min = UINT64_MAX;
    char path[400];
    snprintf(path, sizeof path, "%s/data", p->dir);
    DIR *d = opendir(path);
    cr_assert(d);
    for (struct dirent *de; (de = readdir(d)) != NULL;)
        if (strncmp(de->d_name, "snapshot-", 9) == 0) {
            c->snapshots++;
            snprintf(c->snapshot, sizeof c->snapshot, "%s", de->d_name);
        }
    closedir(d);
    snprintf(path, sizeof path, "%s/data/wal", p->dir);
    d = opendir(path);
    cr_assert(d);
    for (struct dirent *de; (de = readdir(d)) != NULL;) {
        size_t len = strlen(de->d_name);
        if (len != 24 || strcmp(de->d_name + 20, ".wal") != 0)
            continue;
        uint64_t first = leading_number(de->d_name, 20);
        c->segments++;
        c->segment_first_min = first < c->segment_first_min ? first : c->segment_first_min;
        c->segments_at_or_below += first <= below;
    }
    closedir(d);
}

static uint64_t snapshot_index(struct net_client *c)
{
    NodeInfo info;
    node_info(c, &info);
    uint64_t index = (uint64_t)info.snapshot_index;
    NodeInfo_free(&info);
    return index;
}

/* Writes at least min keys, then more as needed, until the node reports a snapshot at or
   past index written and the log compacted (one callback on the node's loop does both), and
   returns how many it wrote. Snapshots are due every SNAP_EVERY entries after the last one
   written, so one that took long shifts the rest: writes go on only while none is due,
   which keeps the count within about two intervals of index. */
static int write_until_snapshot(struct net_client *c, int min, uint64_t index)
{
    node_set_keys(c, "snap", 0, min);
    int n = min;
    double deadline = node_now() + SNAP_WAIT_SECONDS;
    for (uint64_t snap; (snap = snapshot_index(c)) < index;) {
        cr_assert_lt(node_now(), deadline,
                     "no snapshot at or past %" PRIu64 " within %.0f s: the last at %" PRIu64
                     " after %d writes", index, SNAP_WAIT_SECONDS, snap, n);
        uint64_t due = snap + SNAP_EVERY > index ? snap + SNAP_EVERY : index;
        if ((uint64_t)n < due) {
            node_set_keys(c, "snap", n, (int)due);
            n = (int)due;
        } else {
            usleep(5000); /* a due snapshot is being written: polling with a deadline */
        }
    }
    return n;
}

static void config_read(const struct node_proc *p, char *text, size_t size)
{
    FILE *f = fopen(p->config, "r");
    cr_assert(f);
    size_t n = fread(text, 1, size - 1, f);
    fclose(f);
    text[n] = '\0';
}

static void config_write(const struct node_proc *p, const char *text)
{
    FILE *f = fopen(p->config, "w");
    cr_assert(f);
    cr_assert(fputs(text, f) >= 0);
    cr_assert_eq(fclose(f), 0);
}

/* Rewrites the config so the next start logs at info level (recovery counts). */
static void log_info_level(const struct node_proc *p)
{
    char text[2048];
    config_read(p, text, sizeof text);
    char *at = strstr(text, "\"warn\"");
    cr_assert(at);
    memcpy(at, "\"info\"", 6);
    config_write(p, text);
}

static bool log_contains(const struct node_proc *p, const char *what)
{
    static char text[1 << 20];
    FILE *f = fopen(p->log, "r");
    cr_assert(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    return strstr(text, what) != NULL;
}

Test(kvnode_snapshot, compacts_the_log_and_kill_9_restart_keeps_every_write)
{
    struct node_proc p;
    node_start(&p, SNAP_CONFIG);
    struct net_client c;
    node_connect(&p, &c, true);
    enum { SNAP = 1000 };
    const int N = write_until_snapshot(&c, SNAP + 30, SNAP);
    NodeInfo before;
    node_info(&c, &before);
    /* Due at 1000; if the child started at 950 was still writing then, the next one starts
       when it finishes, at whatever index the node has applied by then. */
    uint64_t snap = (uint64_t)before.snapshot_index;
    cr_assert(snap >= SNAP && snap <= (uint64_t)N, "snapshot at %" PRIu64 ", due at %d, %d written",
              snap, SNAP, N);
    struct dir_census dc;
    census(&p, snap, &dc);
    cr_assert_eq(dc.snapshots, 1, "only the newest snapshot is kept");
    char name[64];
    snprintf(name, sizeof name, "snapshot-%020" PRIu64 ".kvsnap", snap);
    cr_assert_str_eq(dc.snapshot, name);
    cr_assert_gt(dc.segment_first_min, 1, "the first segments are gone");
    cr_assert_leq(dc.segments_at_or_below, 1, "only the segment holding %" PRIu64 " may stay",
                  snap);
    net_client_close(&c);
    cr_assert_eq(node_stop(&p, SIGKILL), 128 + SIGKILL);

    log_info_level(&p);
    node_restart(&p);
    node_connect(&p, &c, true);
    char key[32], value[32];
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "snap-%05d", i);
        cr_assert(node_get(&c, key, value, sizeof value), "lost %s", key);
        cr_assert_str_eq(value, key);
    }
    NodeInfo after;
    node_info(&c, &after);
    cr_assert_eq(after.status.applied_index, before.status.applied_index);
    cr_assert(tp_bytes_equal(&after.status.state_digest, &before.status.state_digest));
    cr_assert_eq((uint64_t)after.snapshot_index, snap);
    cr_assert_eq(after.keys, N);
    char line[128];
    snprintf(line, sizeof line, "recovered version %d: snapshot %" PRIu64 ", %" PRIu64
             " log entries replayed", N, snap, (uint64_t)N - snap);
    cr_assert(log_contains(&p, line), "no '%s' in %s", line, p.log);
    NodeInfo_free(&before);
    NodeInfo_free(&after);
    net_client_close(&c);
    node_cleanup(&p);
}

Test(kvnode_snapshot, a_flipped_byte_in_the_snapshot_refuses_the_start_and_names_the_file)
{
    struct node_proc p;
    node_start(&p, SNAP_CONFIG);
    struct net_client c;
    node_connect(&p, &c, true);
    write_until_snapshot(&c, 120, 100);
    net_client_close(&c);
    cr_assert_eq(node_stop(&p, SIGTERM), 0);
    struct dir_census dc;
    census(&p, 100, &dc);
    cr_assert_eq(dc.snapshots, 1);
    char path[600];
    snprintf(path, sizeof path, "%s/data/%s", p.dir, dc.snapshot);
    int fd = open(path, O_RDWR);
    cr_assert_geq(fd, 0);
    off_t size = lseek(fd, 0, SEEK_END);
    uint8_t b;
    off_t at = size / 2;
    cr_assert_eq(pread(fd, &b, 1, at), 1);
    b ^= 0x40;
    cr_assert_eq(pwrite(fd, &b, 1, at), 1);
    close(fd);
    char err[8192];
    const char *args[] = {"--config", p.config, NULL};
    int code = node_run_once(args, err, sizeof err);
    cr_assert_neq(code, 0, "a corrupt snapshot must not start: %s", err);
    cr_assert(strstr(err, path), "the message names %s: %s", path, err);
    cr_assert(strstr(err, "newest snapshot is damaged") &&
                  strstr(err, "Restore data_dir from a backup"),
              "the message says what to do: %s", err);
    node_cleanup(&p);
}

/* storage.snapshot_log_min_bytes: however many entries were applied, no snapshot is taken
   before the log written since the last one holds that many bytes. */
#define MIN_BYTES_CONFIG                                                                      \
    "\"storage\": {\"snapshot_every_entries\": 10, \"snapshot_log_growth_percent\": 0, "     \
    "\"snapshot_log_min_bytes\": 131072, \"wal_segment_bytes\": 4096}"

static void write_big(struct net_client *c, int from, int n, const char *value)
{
    char key[32];
    for (int i = from; i < from + n; i++) {
        snprintf(key, sizeof key, "big-%05d", i);
        SetResponse s;
        node_set(c, key, value, &s);
        cr_assert(s.success, "set %s", key);
        SetResponse_free(&s);
    }
}

Test(kvnode_snapshot, no_snapshot_before_the_log_holds_snapshot_log_min_bytes, .timeout = 60)
{
    struct node_proc p;
    node_start(&p, MIN_BYTES_CONFIG);
    struct net_client c;
    node_connect(&p, &c, true);
    char value[1001];
    memset(value, 'v', sizeof value - 1);
    value[sizeof value - 1] = '\0';
    /* 80 entries of ~1 KB: eight times snapshot_every_entries, but below 128 KiB of log (in
       4 KiB segments of 512-byte blocks, three entries each: about 110 KiB). */
    write_big(&c, 0, 80, value);
    NodeInfo info;
    node_info(&c, &info);
    cr_assert_eq(info.snapshot_index, 0, "a snapshot before the log reached the minimum");
    NodeInfo_free(&info);
    struct dir_census dc;
    census(&p, 0, &dc);
    cr_assert_eq(dc.snapshots, 0);
    /* Past the minimum: the log size is measured at most every 100 ms after a commit, so keep
       writing until the snapshot is there or the deadline passes. */
    double deadline = node_now() + SNAP_WAIT_SECONDS;
    int written = 80;
    int64_t snapshot_index = 0;
    while (snapshot_index == 0 && node_now() < deadline) {
        write_big(&c, written, 10, value);
        written += 10;
        node_info(&c, &info);
        snapshot_index = info.snapshot_index;
        NodeInfo_free(&info);
    }
    cr_assert_gt(snapshot_index, 80, "snapshot at %" PRId64 " after %d writes", snapshot_index,
                 written);
    net_client_close(&c);
    node_cleanup(&p);
}

/* Rewrites the config as a 1-node cluster's (its own endpoint the only one), logging at info. */
static void make_one_node_cluster(const struct node_proc *p)
{
    char text[2048], out[4096];
    config_read(p, text, sizeof text);
    char *brace = strrchr(text, '}');
    cr_assert(brace);
    *brace = '\0';
    snprintf(out, sizeof out,
             "%s, \"cluster_secret\": \"test-secret-0123456789abcdef\", \"deployment\": "
             "{\"mode\": \"replicated\", \"instance_id\": \"0\", \"replica_endpoints\": "
             "[\"%s\"]}}\n", text, p->addr);
    config_write(p, out);
    log_info_level(p);
}

/* A data directory standalone mode wrote (a snapshot, log entries after it, no saved term)
   opens as a 1-node cluster with every write, and takes writes; it stays one after a kill. */
Test(kvnode_snapshot, a_standalone_data_dir_opens_as_a_1_node_cluster)
{
    struct node_proc p;
    node_start(&p, SNAP_CONFIG);
    struct net_client c;
    node_connect(&p, &c, true);
    const int N = write_until_snapshot(&c, 130, 100);
    node_set_keys(&c, "snap", N, N + 7); /* in the log only */
    net_client_close(&c);
    cr_assert_eq(node_stop(&p, SIGTERM), 0);

    make_one_node_cluster(&p);
    for (int start = 0; start < 2; start++) {
        node_restart(&p);
        node_connect(&p, &c, true);
        char key[32], value[32];
        for (int i = 0; i < N + 7; i++) {
            snprintf(key, sizeof key, "snap-%05d", i);
            cr_assert(node_get(&c, key, value, sizeof value), "lost %s (start %d)", key, start);
            cr_assert_str_eq(value, key);
        }
        snprintf(key, sizeof key, "cluster-%d", start);
        SetResponse s;
        double deadline = node_now() + SNAP_WAIT_SECONDS;
        for (;;) { /* until it elects itself: UNAVAILABLE before */
            node_set(&c, key, key, &s);
            if (s.success || node_now() > deadline)
                break;
            SetResponse_free(&s);
            usleep(20000);
        }
        cr_assert(s.success, "no write taken as a 1-node cluster (start %d)", start);
        SetResponse_free(&s);
        cr_assert(node_get(&c, key, value, sizeof value));
        NodeInfo info;
        node_info(&c, &info);
        cr_assert_eq(info.keys, N + 7 + start + 1);
        NodeInfo_free(&info);
        net_client_close(&c);
        cr_assert_eq(node_stop(&p, start == 0 ? SIGKILL : SIGTERM), start == 0 ? 128 + SIGKILL : 0);
    }
    cr_assert(log_contains(&p, "opened as a 1-node cluster"), "no upgrade logged in %s", p.log);
    node_cleanup(&p);
}
