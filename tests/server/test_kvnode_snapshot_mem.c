/* test_kvnode_snapshot_mem.c: what writing snapshots costs in memory. A node holding N keys of
   16 B + 100 B is overwritten by kvbench at 25,000 writes/s while it writes snapshot after
   snapshot (one every N/2 entries); its RSS plus the private pages of any child it has (a
   fork's copy-on-write) is sampled every 20 ms. The peak stays within 1.3x the RSS at rest after the preload (issue 20's
   target) and the node never forks. The MVCC window is 0.5 s here, so what the window keeps
   under the overwrite load (~150 B per write it holds) does not hide the snapshot's own cost.
   N is KVNODE_MEM_KEYS (200,000 in suite server; 1,000,000 in suite slow), the overwrites run
   KVNODE_MEM_SECONDS. */
#include "node_proc.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MEM_RATIO_MAX 1.3
/* Overwrites per second: what the 3-node cluster takes at 64 in flight (bench/RESULTS.md).
   The window and a snapshot's pin both keep history in proportion to it. */
#define MEM_RATE 25000
/* Under AddressSanitizer (its shadow and quarantine) RSS says nothing of the node's own memory:
   the workload and the other checks still run, the ratio is printed but not checked. */
#if defined(__SANITIZE_ADDRESS__)
#define MEM_RATIO_CHECKED false
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MEM_RATIO_CHECKED false
#endif
#endif
#ifndef MEM_RATIO_CHECKED
#define MEM_RATIO_CHECKED true
#endif
#define SAMPLE_US 20000
#define SETTLE_S 120.0

static long env_long(const char *name, long dflt)
{
    const char *v = getenv(name);
    return v && *v ? strtol(v, NULL, 10) : dflt;
}

static long field_kib(const char *path, const char *prefix)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[256];
    long kib, sum = 0;
    size_t len = strlen(prefix);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, prefix, len) == 0 && sscanf(line + len, " %ld", &kib) == 1)
            sum += kib;
    fclose(f);
    return sum;
}

/* The node's RSS plus its children's private pages (KiB); *children gets how many it has. */
static long memory_kib(pid_t pid, int *children)
{
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    long kib = field_kib(path, "VmRSS:");
    cr_assert_gt(kib, 0, "no VmRSS for %d", (int)pid);
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
    FILE *f = fopen(path, "r");
    cr_assert(f, "%s: the test needs Linux's /proc children", path);
    *children = 0;
    for (int child; fscanf(f, "%d", &child) == 1; (*children)++) {
        snprintf(path, sizeof path, "/proc/%d/smaps_rollup", child);
        kib += field_kib(path, "Private_Clean:") + field_kib(path, "Private_Dirty:");
    }
    fclose(f);
    return kib;
}

/* A snapshot is being written: its temp file is in data_dir. */
static bool writing(const struct node_proc *p)
{
    char path[400];
    snprintf(path, sizeof path, "%s/data", p->dir);
    DIR *d = opendir(path);
    cr_assert(d, "%s", path);
    bool found = false;
    for (struct dirent *de; (de = readdir(d)) != NULL;) {
        size_t len = strlen(de->d_name);
        found |= len > 4 && strcmp(de->d_name + len - 4, ".tmp") == 0;
    }
    closedir(d);
    return found;
}

static pid_t start_kvbench(const struct node_proc *p, const char *args)
{
    const char *kvbench = getenv("KVBENCH");
    cr_assert(kvbench, "KVBENCH must name the built kvbench (meson sets it)");
    char cmd[768];
    snprintf(cmd, sizeof cmd, "exec '%s' -e %s -q --retries 1000 %s >/dev/null", kvbench,
             p->addr, args);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static int finish_kvbench(pid_t pid, bool wait)
{
    int status;
    pid_t r = waitpid(pid, &status, wait ? 0 : WNOHANG);
    if (r == 0)
        return -1;
    cr_assert_eq(r, pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

Test(kvnode_snapshot_mem, snapshots_under_overwrites_stay_within_1_3x_the_rss_at_rest,
     .timeout = 1500)
{
    long keys = env_long("KVNODE_MEM_KEYS", 200000), seconds = env_long("KVNODE_MEM_SECONDS", 8);
    char config[256], args[256];
    snprintf(config, sizeof config,
             "\"limits\": {\"mvcc_window_ms\": 500}, \"storage\": {\"snapshot_every_entries\": "
             "%ld, \"snapshot_log_growth_percent\": 0, \"snapshot_log_min_bytes\": 0}",
             keys / 2);
    struct node_proc p;
    node_start(&p, config);
    struct net_client c;
    node_connect(&p, &c, true);
    snprintf(args, sizeof args, "-c 4 -d 64 -k %ld --preload -n 1", keys);
    cr_assert_eq(finish_kvbench(start_kvbench(&p, args), true), 0, "the preload failed");
    /* At rest: the preload's last snapshot (at or past the N/2 boundary) is written. */
    double deadline = node_now() + SETTLE_S;
    int children;
    while (node_snapshot_index(&c) < keys / 2) {
        cr_assert_lt(node_now(), deadline, "no snapshot after the preload; see %s", p.log);
        usleep(50000); /* polling with a deadline */
    }
    while (writing(&p)) {
        cr_assert_lt(node_now(), deadline, "a snapshot never ends; see %s", p.log);
        usleep(50000); /* polling with a deadline */
    }
    long rest = memory_kib(p.pid, &children), peak = rest;
    int64_t first = node_snapshot_index(&c), last = first;
    snprintf(args, sizeof args, "-c 4 -d 16 -k %ld -t %ld --rate %d", keys, seconds, MEM_RATE);
    pid_t bench = start_kvbench(&p, args);
    int rc, samples = 0;
    while ((rc = finish_kvbench(bench, false)) < 0) {
        long kib = memory_kib(p.pid, &children);
        cr_assert_eq(children, 0, "the node forked");
        peak = kib > peak ? kib : peak;
        if (++samples % 10 == 0)
            last = node_snapshot_index(&c);
        usleep(SAMPLE_US);
    }
    cr_assert_eq(rc, 0, "the overwrites failed");
    last = node_snapshot_index(&c);
    fprintf(stderr, "kvnode_snapshot_mem: %ld keys, RSS at rest %ld KiB, peak %ld KiB (%.2fx) "
            "over %d samples, snapshots %lld -> %lld\n", keys, rest, peak,
            (double)peak / (double)rest, samples, (long long)first, (long long)last);
    cr_assert_geq(last - first, keys / 2, "a snapshot was written under the load (%lld -> %lld)",
                  (long long)first, (long long)last);
    if (MEM_RATIO_CHECKED)
        cr_assert_leq((double)peak, MEM_RATIO_MAX * (double)rest,
                      "peak %ld KiB against %ld KiB at rest", peak, rest);
    else
        fprintf(stderr, "kvnode_snapshot_mem: the ratio is not checked under AddressSanitizer\n");
    net_client_close(&c);
    node_cleanup(&p);
}
