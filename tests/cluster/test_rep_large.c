/* test_rep_large.c (suite slow): a store of 3,000,000 keys; a wiped follower, replaced by a new
   member, catches up while writes go on, then again over a link that holds the leader's calls
   back 20 ms. */
#include "rep_member.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define LARGE_KEYS 3000000
/* Both catch-ups, each within this (stated for a loaded 2-core box: the snapshot is ~400 MB
   and ~3M keys are restored from it). */
#define LARGE_CATCHUP_S 300.0
#define LARGE_SNAPSHOT_BYTES_MIN (200ull * 1000 * 1000)

static const char large_config[] =
    "\"storage\": {\"snapshot_every_entries\": 100000, \"snapshot_log_growth_percent\": 50}";

/* Runs kvbench against ep with args; its pid (wait for it with finish_kvbench). */
static pid_t start_kvbench(const char *ep, const char *args)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "exec '%s' -e %s -q --retries 1000 %s >/dev/null",
             getenv("KVBENCH"), ep, args);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static int finish_kvbench(pid_t pid)
{
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int64_t applied(struct rep *r, int node)
{
    NodeInfo info;
    if (rep_info(r, node, &info) != 0)
        return -1;
    int64_t v = info.status.applied_index;
    NodeInfo_free(&info);
    return v;
}

/* The size of the newest snapshot file in node's data dir (0: none). */
static uint64_t newest_snapshot_bytes(struct rep *r, int node)
{
    char dir[400], path[700], best[300] = "";
    snprintf(dir, sizeof dir, "%s/data", r->nodes[node].dir);
    DIR *d = opendir(dir);
    cr_assert(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (strncmp(de->d_name, "snapshot-", 9) == 0 && len > 7 &&
            strcmp(de->d_name + len - 7, ".kvsnap") == 0 && strcmp(de->d_name, best) > 0)
            snprintf(best, sizeof best, "%s", de->d_name);
    }
    closedir(d);
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, best);
    return best[0] && stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* Kills *f (its disk lost), replaces it by a new member at its address (HACKING.md "Replace a
   dead node"; the leader's calls to it held back delay_ms when not 0), waits until it applied
   what the leader had at that moment and promotes it; *f is the new member. Returns the
   seconds from its start until it caught up. */
static double replace_and_catch_up(struct rep *r, int leader, int *f, int delay_ms)
{
    rep_kill(r, *f);
    rep_remove_member(r, *f);
    uint16_t port = r->nodes[*f].port;
    *f = rep_add_member(r, port, true);
    if (delay_ms > 0) {
        char faults[64];
        snprintf(faults, sizeof faults, "delay_ms=%d:%d\n", *f, delay_ms);
        rep_faults(r, leader, faults);
    }
    int64_t target = applied(r, leader);
    cr_assert_gt(target, 0);
    double t0 = node_now();
    rep_join(r, *f, port);
    while (applied(r, *f) < target) {
        cr_assert_lt(node_now() - t0, LARGE_CATCHUP_S, "node %d did not catch up to %lld in %.0f s",
                     *f, (long long)target, LARGE_CATCHUP_S);
        usleep(200000); /* polling with a deadline */
    }
    double secs = node_now() - t0;
    rep_promote_caught_up(r, *f);
    return secs;
}

static void print_transfer_lines(struct rep *r, int node)
{
    FILE *f = fopen(r->nodes[node].log, "r");
    cr_assert(f);
    char line[1024];
    while (fgets(line, sizeof line, f))
        if (strstr(line, "sent to node") || strstr(line, "received:"))
            fprintf(stderr, "  node %d: %s", node, line);
    fclose(f);
}

Test(rep_large, a_wiped_follower_of_3m_keys_catches_up_fast_and_over_a_slow_link,
     .timeout = 1800)
{
    struct rep r;
    setenv(NODE_LOG_LEVEL_ENV, "info", 1);
    rep_start(&r, large_config);
    int leader = rep_wait_leader(&r);
    int f = (leader + 1) % REP_NODES;
    double t0 = node_now();
    char args[200];
    snprintf(args, sizeof args, "-c 4 -d 64 -k %d --preload -n 1", LARGE_KEYS);
    cr_assert_eq(finish_kvbench(start_kvbench(r.nodes[leader].addr, args)), 0, "preload");
    fprintf(stderr, "rep_large: %d keys preloaded in %.0f s\n", LARGE_KEYS, node_now() - t0);
    rep_wait_converged(&r);
    /* Writes go on while the follower catches up. */
    snprintf(args, sizeof args, "-c 1 -d 8 -k %d --rate 2000 -t 3600", LARGE_KEYS);
    pid_t load = start_kvbench(r.nodes[leader].addr, args);
    double secs = replace_and_catch_up(&r, leader, &f, 0);
    kill(load, SIGTERM);
    finish_kvbench(load);
    uint64_t snap = newest_snapshot_bytes(&r, f);
    fprintf(stderr, "rep_large: caught up in %.1f s from a %.0f MB snapshot\n", secs,
            (double)snap / 1e6);
    rep_wait_converged(&r);
    /* Again, each call of the leader's to the follower (chunks, appends) held back 20 ms. */
    secs = replace_and_catch_up(&r, leader, &f, 20);
    snap = newest_snapshot_bytes(&r, f);
    fprintf(stderr, "rep_large: over a 20 ms link caught up in %.1f s from a %.0f MB snapshot\n",
            secs, (double)snap / 1e6);
    cr_assert_geq(snap, LARGE_SNAPSHOT_BYTES_MIN, "the snapshot is small: %llu bytes",
                  (unsigned long long)snap);
    rep_faults(&r, leader, "");
    rep_wait_converged(&r);
    print_transfer_lines(&r, leader);
    print_transfer_lines(&r, f);
    rep_cleanup(&r);
}
