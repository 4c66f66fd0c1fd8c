/* test_kvnode_snapshot_bg.c: snapshots written by the loop in steps at a pinned version, no
   fork: writes go on while one is written, kill -9 during it loses nothing and loads no
   partial file, a failed one is retried, one snapshot file stays at rest. */
#include "node_proc.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WAIT_SECONDS 20.0
#define BG_CONFIG(every)                                                                      \
    "\"storage\": {\"snapshot_every_entries\": " #every ", \"snapshot_log_growth_percent\": 0, " \
    "\"snapshot_log_min_bytes\": 0}"

/* The node's child process, or 0 when it has none (snapshots fork none any more). */
static pid_t child_of(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
    FILE *f = fopen(path, "r");
    cr_assert(f, "%s: the test needs Linux's /proc children", path);
    int child = 0;
    if (fscanf(f, "%d", &child) != 1)
        child = 0;
    fclose(f);
    return child;
}

static void check_range(struct net_client *c, int to)
{
    char key[32], value[32];
    for (int i = 0; i < to; i++) {
        snprintf(key, sizeof key, "bg-%05d", i);
        cr_assert(node_get(c, key, value, sizeof value), "lost %s", key);
        cr_assert_str_eq(value, key);
    }
}

static int64_t wait_snapshot_index(struct net_client *c, int64_t at_least)
{
    double deadline = node_now() + WAIT_SECONDS;
    int64_t index;
    while ((index = node_snapshot_index(c)) < at_least && node_now() < deadline)
        usleep(5000); /* polling with a deadline */
    return index;
}

/* Files in data_dir whose names start with prefix and end with suffix. */
static int count_files(const struct node_proc *p, const char *prefix, const char *suffix)
{
    char path[400];
    snprintf(path, sizeof path, "%s/data", p->dir);
    DIR *d = opendir(path);
    cr_assert(d);
    int count = 0;
    for (struct dirent *de; (de = readdir(d)) != NULL;) {
        size_t len = strlen(de->d_name), slen = strlen(suffix);
        count += strncmp(de->d_name, prefix, strlen(prefix)) == 0 && len >= slen &&
                 strcmp(de->d_name + len - slen, suffix) == 0;
    }
    closedir(d);
    return count;
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

/* A snapshot is being written: its temp file is there (it is created at the pin). */
static void wait_writing(const struct node_proc *p)
{
    double deadline = node_now() + WAIT_SECONDS;
    while (count_files(p, "snapshot-", ".tmp") == 0) {
        cr_assert_lt(node_now(), deadline, "no snapshot is being written; see %s", p->log);
        usleep(2000); /* polling with a deadline */
    }
}

/* The snapshot at 300 is pinned, then its first step waits 3 s (the test hook): writes
   meanwhile are answered, the snapshot is adopted at 300 and the state after a restart
   from it and the log is whole. */
Test(kvnode_snapshot_bg, writes_are_answered_while_the_snapshot_is_written, .timeout = 60)
{
    setenv("KVNODE_TEST_SNAPSHOT_DELAY_MS", "3000", 1);
    struct node_proc p;
    node_start(&p, BG_CONFIG(300));
    unsetenv("KVNODE_TEST_SNAPSHOT_DELAY_MS");
    struct net_client c;
    node_connect(&p, &c, true);
    node_set_keys(&c, "bg", 0, 300);
    wait_writing(&p);
    double t0 = node_now();
    node_set_keys(&c, "bg", 300, 400);
    double took = node_now() - t0;
    cr_assert_eq(child_of(p.pid), 0, "no fork");
    cr_assert_eq(node_snapshot_index(&c), 0, "not adopted before it is written (3 s first)");
    cr_assert_lt(took, 2.5, "100 writes took %.2f s beside the snapshot", took);
    cr_assert_eq(wait_snapshot_index(&c, 1), 300, "the snapshot holds the state at the pin");
    check_range(&c, 400);
    net_client_close(&c);
    cr_assert_eq(node_stop(&p, SIGTERM), 0);
    node_restart(&p);
    node_connect(&p, &c, true);
    check_range(&c, 400);
    cr_assert_eq(node_snapshot_index(&c), 300);
    net_client_close(&c);
    node_cleanup(&p);
}

Test(kvnode_snapshot_bg, kill_9_during_a_snapshot_keeps_every_write_and_no_partial_file,
     .timeout = 60)
{
    setenv("KVNODE_TEST_SNAPSHOT_DELAY_MS", "5000", 1);
    struct node_proc p;
    node_start(&p, BG_CONFIG(200));
    unsetenv("KVNODE_TEST_SNAPSHOT_DELAY_MS");
    struct net_client c;
    node_connect(&p, &c, true);
    node_set_keys(&c, "bg", 0, 200);
    wait_writing(&p);
    node_set_keys(&c, "bg", 200, 250);
    net_client_close(&c);
    cr_assert_eq(node_stop(&p, SIGKILL), 128 + SIGKILL);
    cr_assert_eq(count_files(&p, "snapshot-", ".tmp"), 1, "killed while it was written");
    cr_assert_eq(count_files(&p, "snapshot-", ".kvsnap"), 0, "no snapshot was finished");
    node_restart(&p);
    node_connect(&p, &c, true);
    check_range(&c, 250);
    cr_assert_eq(node_snapshot_index(&c), 0, "nothing partial was loaded");
    cr_assert_eq(count_files(&p, "snapshot-", ".tmp"), 0, "temp files are removed at start");
    net_client_close(&c);
    node_cleanup(&p);
}

Test(kvnode_snapshot_bg, a_failed_snapshot_is_logged_and_retried, .timeout = 60)
{
    char fail[300];
    struct node_proc p;
    snprintf(fail, sizeof fail, "/tmp/kvnode-snapfail-%d", (int)getpid());
    FILE *f = fopen(fail, "w");
    cr_assert(f);
    fclose(f);
    setenv("KVNODE_TEST_SNAPSHOT_FAIL_FILE", fail, 1);
    node_start(&p, BG_CONFIG(50));
    unsetenv("KVNODE_TEST_SNAPSHOT_FAIL_FILE");
    struct net_client c;
    node_connect(&p, &c, true);
    node_set_keys(&c, "bg", 0, 60);
    double deadline = node_now() + WAIT_SECONDS;
    while (!log_contains(&p, "snapshot at 50 failed: test hook")) {
        cr_assert_lt(node_now(), deadline, "the failure is not logged; see %s", p.log);
        usleep(5000); /* polling with a deadline */
    }
    cr_assert_eq(node_snapshot_index(&c), 0);
    cr_assert_eq(count_files(&p, "snapshot-", ""), 0);
    cr_assert_eq(unlink(fail), 0);
    /* No more writes: the retry timer alone takes the snapshot, at the applied version. */
    cr_assert_eq(wait_snapshot_index(&c, 1), 60, "retried after the failure; see %s", p.log);
    cr_assert_eq(count_files(&p, "snapshot-", ".kvsnap"), 1);
    check_range(&c, 60);
    net_client_close(&c);
    node_cleanup(&p);
}

/* The path of the node's snapshot file at index. */
static void snap_path(const struct node_proc *p, int64_t index, char *out, size_t size)
{
    snprintf(out, size, "%s/data/snapshot-%020lld.kvsnap", p->dir, (long long)index);
}

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    cr_assert(in && out, "copy %s to %s", from, to);
    char buf[65536];
    for (size_t n; (n = fread(buf, 1, sizeof buf, in)) > 0;)
        cr_assert_eq(fwrite(buf, 1, n, out), n);
    cr_assert_eq(fclose(in), 0);
    cr_assert_eq(fclose(out), 0);
}

/* One snapshot file on disk at rest: each finished snapshot removes the one before (after its
   own file was synced, renamed and its directory synced), and a crash between that rename and
   the removal (both files left, reproduced here by putting the older one back) is cleaned up
   by the next start, which restores the newer one. */
Test(kvnode_snapshot_bg, one_snapshot_file_at_rest_even_after_a_crash_between_two, .timeout = 60)
{
    struct node_proc p;
    node_start(&p, BG_CONFIG(100));
    struct net_client c;
    node_connect(&p, &c, true);
    node_set_keys(&c, "bg", 0, 100);
    cr_assert_eq(wait_snapshot_index(&c, 100), 100);
    cr_assert_eq(count_files(&p, "snapshot-", ".kvsnap"), 1);
    char first[400], aside[420], second[400];
    snap_path(&p, 100, first, sizeof first);
    snprintf(aside, sizeof aside, "%s.aside", first);
    copy_file(first, aside);
    node_set_keys(&c, "bg", 100, 200);
    cr_assert_eq(wait_snapshot_index(&c, 200), 200);
    snap_path(&p, 200, second, sizeof second);
    cr_assert_eq(access(second, F_OK), 0, "%s", second);
    cr_assert_neq(access(first, F_OK), 0, "the older snapshot is removed");
    cr_assert_eq(count_files(&p, "snapshot-", ".kvsnap"), 1);
    net_client_close(&c);
    cr_assert_eq(node_stop(&p, SIGKILL), 128 + SIGKILL);
    cr_assert_eq(rename(aside, first), 0);
    cr_assert_eq(count_files(&p, "snapshot-", ".kvsnap"), 2);
    node_restart(&p);
    node_connect(&p, &c, true);
    cr_assert_eq(node_snapshot_index(&c), 200, "the newest snapshot is restored");
    check_range(&c, 200);
    cr_assert_neq(access(first, F_OK), 0, "the start removes the older snapshot");
    cr_assert_eq(count_files(&p, "snapshot-", ".kvsnap"), 1);
    net_client_close(&c);
    node_cleanup(&p);
}
