/* dsim_main.c: dsim, the driver simulator on its own: many seeds (a soak), or one replayed. */
#include "dsim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void usage(void)
{
    fprintf(stderr, "usage: dsim [--seeds N] [--start S] [--seed S] [--stop] [--verbose] "
                    "[--members]\n"
                    "  --members  random membership changes (5 or 7 nodes, 2 or 3 spares)\n"
                    "  --seeds N  run seeds start..start+N-1 (default 200)\n"
                    "  --seed S   replay one seed\n"
                    "  --stop     stop at the first seed that fails\n"
                    "  --verbose  the driver's log (debug level) on stderr\n");
    exit(2);
}

int main(int argc, char **argv)
{
    uint64_t start = 1, seeds = 200;
    bool stop = false, verbose = false, members = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--members") == 0) {
            members = true;
            continue;
        }
        if (strcmp(argv[i], "--stop") == 0 || strcmp(argv[i], "--verbose") == 0) {
            stop |= strcmp(argv[i], "--stop") == 0;
            verbose |= strcmp(argv[i], "--verbose") == 0;
            continue;
        }
        if (i + 1 >= argc)
            usage();
        uint64_t v = strtoull(argv[++i], NULL, 10);
        if (strcmp(argv[i - 1], "--seeds") == 0)
            seeds = v;
        else if (strcmp(argv[i - 1], "--start") == 0)
            start = v;
        else if (strcmp(argv[i - 1], "--seed") == 0)
            start = v, seeds = 1;
        else
            usage();
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t failed = 0, ran = 0;
    struct dsim_stats sum = {0};
    for (uint64_t s = start; s < start + seeds; s++, ran++) {
        struct dsim_config cfg;
        if (members)
            dsim_config_members(&cfg, s);
        else
            dsim_config_default(&cfg, s);
        cfg.verbose = verbose;
        struct dsim_stats st;
        if (!dsim_run(s, &cfg, &st)) {
            failed++;
            if (stop) {
                ran++;
                break;
            }
        }
        sum.events += st.events;
        sum.turns += st.turns;
        sum.calls += st.calls;
        sum.crashes += st.crashes;
        sum.io_errors += st.io_errors;
        sum.installs += st.installs;
        sum.snapshots += st.snapshots;
        sum.acked += st.acked;
        sum.reads_ok += st.reads_ok;
        sum.lost += st.lost;
        sum.dups += st.dups;
        sum.changes_applied += st.changes_applied;
        sum.forwards += st.forwards;
        sum.let_in += st.let_in;
        sum.let_in_batch += st.let_in_batch;
        sum.transfers += st.transfers;
        sum.transferred += st.transferred;
        if (st.heal_ms > sum.heal_ms)
            sum.heal_ms = st.heal_ms;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("dsim: seeds %llu..%llu: %llu failed, %.1f s (%.1f seeds/s)\n",
           (unsigned long long)start, (unsigned long long)(start + ran - 1),
           (unsigned long long)failed, secs, secs > 0 ? (double)ran / secs : 0.0);
    printf("dsim: %llu events, %llu turns, %llu calls (%llu lost, %llu duplicated), %llu crashes, "
           "%llu I/O errors, %llu snapshots taken, %llu installed, %llu proposals acknowledged, "
           "%llu reads, %llu leadership transfers (%llu took); slowest heal %llu ms\n",
           (unsigned long long)sum.events, (unsigned long long)sum.turns,
           (unsigned long long)sum.calls, (unsigned long long)sum.lost,
           (unsigned long long)sum.dups, (unsigned long long)sum.crashes,
           (unsigned long long)sum.io_errors, (unsigned long long)sum.snapshots,
           (unsigned long long)sum.installs, (unsigned long long)sum.acked,
           (unsigned long long)sum.reads_ok, (unsigned long long)sum.transfers,
           (unsigned long long)sum.transferred, (unsigned long long)sum.heal_ms);
    if (members)
        printf("dsim: %llu membership changes applied\n",
               (unsigned long long)sum.changes_applied);
    printf("dsim: %llu writes forwarded, %llu calls let in by a reply (%llu inside a batch)\n",
           (unsigned long long)sum.forwards, (unsigned long long)sum.let_in,
           (unsigned long long)sum.let_in_batch);
    return failed == 0 ? 0 : 1;
}
