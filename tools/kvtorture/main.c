/* main.c: kvtorture: start nodes, run workers and the nemesis, heal, read the final state,
   check, and exit 0 (clean), 1 (violation), 2 (usage), 3 (setup failure), 4 (unknown), 5
   (liveness failure) or 6 (a node failed). */
#include "kvtorture.h"
#include "check_logs.h"
#include "final.h"
#include "txn.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LEADER_WAIT_NS (30LL * 1000 * 1000 * 1000)

atomic_bool kvt_stop;

int64_t kvt_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

uint64_t kvt_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);   /* splitmix64 */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&kvt_stop, true);
}

/* A cluster is ready once some node names a leader. */
static int wait_leader(const struct kvt_cluster *c, int timeout_ms)
{
    for (int64_t deadline = kvt_now_ns() + LEADER_WAIT_NS; kvt_now_ns() < deadline;) {
        int leader = kvt_cluster_leader(c, timeout_ms);
        if (leader >= 0) {
            printf("kvtorture: node %d leads\n", leader);
            return 0;
        }
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "kvtorture: no leader within %lld s\n", LEADER_WAIT_NS / 1000000000);
    return -1;
}

/* Workers and nemesis for the run's duration, then every fault healed. */
static int run_load(struct kvt_run *run, struct kvt_txns *t)
{
    /* The nemesis's own reads are one more worker's log (check_logs.h). */
    char path[KVT_PATH_MAX + 32];
    kvt_logs_worker_path(run->log_dir, run->o->workers, path, sizeof path);
    if (kvt_hlog_create(&run->nemesis_log, path) != 0) {
        perror(path);
        return -1;
    }
    struct kvt_workers *ws = kvt_workers_start(run);
    if (ws)
        kvt_nemesis_run(run);
    atomic_store(&kvt_stop, true);
    int rc = kvt_workers_join(ws, t);
    kvt_nemesis_heal(run);
    if (kvt_hlog_close(&run->nemesis_log) != 0)
        rc = -1;
    return rc;
}

/* The append workload after the load: every node caught up, the final reads, the nodes
   stopped, the check; the temp dir kept unless clean. */
static int finish_append(struct kvt_run *run, struct kvt_txns *t, int load_rc)
{
    bool behind[KVT_NODES_MAX];
    run->live_failed = load_rc == 0 && kvt_catch_up(run, behind) != 0;
    int rc = load_rc != 0 ? -1 : kvt_append_final(run, t);
    run->nodes_failed = kvt_cluster_stop(run->cluster);
    if (rc < 0)
        fprintf(stderr, "kvtorture: out of memory during the run\n");
    rc = rc < 0 ? KVT_EXIT_SETUP : kvt_append_verdict(run, t, rc == 0);
    kvt_cluster_remove(run->cluster, run->o->keep || rc != KVT_EXIT_CLEAN);
    return rc;
}

/* The counter workload after the load: its check (counter.c); the temp dir kept unless clean. */
static int finish_counter(struct kvt_run *run, int load_rc)
{
    int rc = load_rc != 0 ? KVT_EXIT_SETUP : kvt_counter_verdict(run);
    if (load_rc != 0)
        run->nodes_failed = kvt_cluster_stop(run->cluster);
    kvt_cluster_remove(run->cluster, run->o->keep || rc != KVT_EXIT_CLEAN);
    return rc;
}

/* A temp dir for the workers' logs (TMPDIR or /tmp); 0 or -1. */
static int make_log_dir(char *dir, size_t size)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, size, "%s/kvtorture-ops-XXXXXX", tmp ? tmp : "/tmp");
    if (mkdtemp(dir))
        return 0;
    perror(dir);
    return -1;
}

/* The workers' logs and their dir, unless kept. */
static void remove_logs(const struct kvt_options *o, const char *dir)
{
    if (o->keep) {
        printf("kvtorture: ops logs kept in %s\n", dir);
        return;
    }
    for (unsigned i = 0; i <= o->workers; i++) {   /* the nemesis's log is the last */
        char path[KVT_PATH_MAX + 32];
        kvt_logs_worker_path(dir, i, path, sizeof path);
        remove(path);
    }
    rmdir(dir);
}

/* The register workload after the load: the final reads (every node caught up), the nodes
   stopped, the check; the temp dir kept unless clean. */
static int finish_register(struct kvt_run *run, int load_rc)
{
    struct kvt_final f = {0};
    int fin = load_rc != 0 ? -1 : kvt_final_reads(run, &f);
    run->live_failed = fin == 1;
    run->nodes_failed = kvt_cluster_stop(run->cluster);
    int rc = KVT_EXIT_SETUP;
    if (fin >= 0)
        rc = kvt_register_verdict(run, &f);
    else
        fprintf(stderr, "kvtorture: out of memory during the run, or a log not written\n");
    kvt_cluster_remove(run->cluster, run->o->keep || rc != KVT_EXIT_CLEAN);
    kvt_final_free(&f);
    return rc;
}

/* --check: a saved history's linearizability, every key it names (or an append history's
   strict serializability). */
static int check_saved(const struct kvt_options *o)
{
    return kvt_txns_is_file(o->check) ? kvt_append_check_saved(o->check)
                                      : kvt_register_check_saved(o);
}

/* Workers, nemesis, final reads and the check, on a cluster that is up. */
static int torture(const struct kvt_options *o, struct kvt_cluster *c, const char *log_dir)
{
    struct kvt_run run = {.o = o, .cluster = c, .start_ns = kvt_now_ns(), .log_dir = log_dir,
                          .key_cdf = kvt_key_cdf(o)};
    run.end_ns = run.start_ns + (int64_t)(o->duration_s * 1e9);
    atomic_init(&run.next_value, 1);
    atomic_init(&run.next_txn, 0);
    atomic_init(&run.workers_hold, false);
    pthread_mutex_init(&run.counter.lock, NULL);   /* the counter workload's (counter.c) */
    if (o->key_dist == KVT_KEYS_ZIPF && !run.key_cdf) {
        kvt_cluster_down(c, o->keep);
        return KVT_EXIT_SETUP;
    }
    struct kvt_txns t;
    kvt_txns_init(&t);
    int load_rc = run_load(&run, &t);
    int rc = o->workload == KVT_WORKLOAD_APPEND    ? finish_append(&run, &t, load_rc)
             : o->workload == KVT_WORKLOAD_COUNTER ? finish_counter(&run, load_rc)
                                                   : finish_register(&run, load_rc);
    kvt_txns_free(&t);
    free((void *)run.key_cdf);
    free(run.faults);
    return rc;
}

int main(int argc, char **argv)
{
    struct kvt_options o;
    int rc = kvt_options_parse(&o, argc, argv);
    if (rc != KVT_EXIT_CLEAN)
        return rc;
    if (o.check)
        return check_saved(&o);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("kvtorture: seed %" PRIu64 ", %s, %u workers, %u keys, %.0f s\n", o.seed,
           o.single ? "single node" : "cluster", o.workers, o.keys, o.duration_s);
    struct kvt_cluster c;
    if (kvt_cluster_up(&c, &o) != 0)
        return KVT_EXIT_SETUP;
    printf("kvtorture: %u node(s) up (%s) in %s\n", c.count,
           c.replicated ? "replicated" : "standalone", c.dir);
    if (c.replicated && wait_leader(&c, o.timeout_ms) != 0) {
        kvt_cluster_down(&c, true);
        return KVT_EXIT_SETUP;
    }
    char log_dir[KVT_PATH_MAX];
    if (make_log_dir(log_dir, sizeof log_dir) != 0) {
        kvt_cluster_down(&c, o.keep);
        return KVT_EXIT_SETUP;
    }
    rc = torture(&o, &c, log_dir);
    remove_logs(&o, log_dir);
    return rc;
}
