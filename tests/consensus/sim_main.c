/* sim_main.c: consensus_sim, the standalone simulator: soak many seeds or replay one. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"

static void usage(void)
{
    fprintf(stderr, "usage: consensus_sim [--seeds N] [--start S] [--seed S] [--nodes 1..7]\n"
                    "                     [--chaos-ticks T] [--members] [--verbose] [--stop]\n"
                    "  --members  random membership changes, with spare nodes to add\n"
                    "             (1..5 voters at bootstrap unless --nodes is given)\n"
                    "  --seeds N  run seeds start..start+N-1 (default 200), 3 and 5 nodes\n"
                    "             alternating unless --nodes is given\n"
                    "  --seed S   replay one seed (add --verbose for the whole trace)\n"
                    "  --stop     stop at the first seed that fails\n");
    exit(2);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a;
    uint32_t y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static uint32_t percentile(uint32_t *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, cmp_u32);
    size_t k = (size_t)(p * (double)(n - 1) + 0.5);
    return v[k];
}

int main(int argc, char **argv)
{
    uint64_t start = 1, seeds = 200;
    uint32_t nodes = 0, chaos_ticks = 0;
    bool verbose = false, stop = false, members = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--members") == 0) {
            members = true;
            continue;
        }
        if (strcmp(a, "--verbose") == 0 || strcmp(a, "--stop") == 0) {
            verbose = verbose || strcmp(a, "--verbose") == 0;
            stop = stop || strcmp(a, "--stop") == 0;
            continue;
        }
        if (v == NULL)
            usage();
        i++;
        if (strcmp(a, "--seeds") == 0)
            seeds = strtoull(v, NULL, 10);
        else if (strcmp(a, "--start") == 0)
            start = strtoull(v, NULL, 10);
        else if (strcmp(a, "--seed") == 0)
            start = strtoull(v, NULL, 10), seeds = 1;
        else if (strcmp(a, "--nodes") == 0)
            nodes = (uint32_t)atoi(v);
        else if (strcmp(a, "--chaos-ticks") == 0)
            chaos_ticks = (uint32_t)atoi(v);
        else
            usage();
    }
    if (nodes > CONSENSUS_VOTERS_MAX)
        usage();
    uint32_t *failover = calloc(seeds, sizeof *failover);
    uint32_t *healt = calloc(seeds, sizeof *healt);
    uint32_t *answer = calloc(seeds, sizeof *answer);
    uint64_t forwards = 0;
    size_t nf = 0, nh = 0;
    uint64_t changes = 0, wipes = 0;
    uint64_t steps = 0, inputs = 0, committed = 0, acked = 0, reads = 0, bg = 0, failed = 0;
    struct sim_snap_stats snap = {0};
    clock_t c0 = clock();
    for (uint64_t s = start; s < start + seeds; s++) {
        struct sim_chaos_config cfg;
        if (members)
            sim_chaos_config_members(&cfg, nodes != 0 ? nodes : (uint32_t)(1 + s % 5));
        else
            sim_chaos_config_default(&cfg, nodes != 0 ? nodes : (s % 2 ? 3 : 5));
        if (chaos_ticks != 0)
            cfg.chaos_ticks = chaos_ticks;
        cfg.verbose = verbose;
        struct sim_chaos_result r;
        if (!sim_chaos_run(s, &cfg, &r)) {
            failed++;
            if (stop) {
                seeds = s - start + 1;
                break;
            }
            continue;
        }
        steps += r.steps;
        inputs += r.core_inputs;
        committed += r.committed;
        acked += r.acked;
        reads += r.reads;
        bg += r.bg_syncs;
        changes += r.changes;
        wipes += r.wipes;
        forwards += r.forwards;
        answer[nh] = r.answer_ticks_max;
        snap.started += r.snap.started;
        snap.resumed += r.snap.resumed;
        snap.done += r.snap.done;
        snap.chunks += r.snap.chunks;
        snap.rewinds += r.snap.rewinds;
        snap.released += r.snap.released;
        healt[nh++] = r.heal_ticks;
        if (r.failover_ticks > 0)
            failover[nf++] = r.failover_ticks;
    }
    double cpu = (double)(clock() - c0) / CLOCKS_PER_SEC;
    printf("seeds %llu..%llu: %llu failed\n", (unsigned long long)start,
           (unsigned long long)(start + seeds - 1), (unsigned long long)failed);
    printf("committed %llu entries, %llu acknowledged proposals, %llu reads, %llu background "
           "syncs\n", (unsigned long long)committed, (unsigned long long)acked,
           (unsigned long long)reads, (unsigned long long)bg);
    printf("membership changes committed: %llu; data dirs wiped: %llu\n",
           (unsigned long long)changes, (unsigned long long)wipes);
    printf("snapshot transfers: %llu started, %llu resumed, %llu done, %llu chunks sent, %llu "
           "resends from the last ack, %llu whole snapshots released unused\n",
           (unsigned long long)snap.started, (unsigned long long)snap.resumed,
           (unsigned long long)snap.done, (unsigned long long)snap.chunks,
           (unsigned long long)snap.rewinds, (unsigned long long)snap.released);
    printf("cpu %.2f s: %.0f cluster steps/s (time units), %.0f core inputs/s\n", cpu,
           cpu > 0 ? (double)steps / cpu : 0.0, cpu > 0 ? (double)inputs / cpu : 0.0);
    printf("heal to convergence ticks: p50 %u p99 %u max %u\n", percentile(healt, nh, 0.5),
           percentile(healt, nh, 0.99), percentile(healt, nh, 1.0));
    printf("leader crash to new leader ticks (election timeout 10): p50 %u p99 %u max %u (%zu runs)\n",
           percentile(failover, nf, 0.5), percentile(failover, nf, 0.99),
           percentile(failover, nf, 1.0), nf);
    struct sim_chaos_config dflt;
    sim_chaos_config_default(&dflt, 3);
    printf("requests stranded by a leader change, answered after it (worst per run, ticks; "
           "bound %u): p50 %u p99 %u max %u; %llu forwarded writes answered\n",
           dflt.answer_bound_ticks, percentile(answer, nh, 0.5), percentile(answer, nh, 0.99),
           percentile(answer, nh, 1.0), (unsigned long long)forwards);
    free(answer);
    free(failover);
    free(healt);
    return failed == 0 ? 0 : 1;
}
