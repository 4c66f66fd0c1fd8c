/* main.c: kvtorture: start nodes, run workers and the nemesis, heal, read the final state,
   check, and exit 0 (clean), 1 (violation), 2 (usage) or 3 (setup failure). */
#include "kvtorture.h"
#include "final.h"
#include "lin.h"
#include "report.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHECK_TIME_BUDGET_NS (60LL * 1000 * 1000 * 1000)
#define FINAL_ISSUES_MAX 32
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
static int run_load(struct kvt_run *run, struct kvt_history *h, struct kvt_txns *t)
{
    struct kvt_workers *ws = kvt_workers_start(run);
    if (ws)
        kvt_nemesis_run(run);
    atomic_store(&kvt_stop, true);
    int rc = kvt_workers_join(ws, h, t);
    kvt_nemesis_heal(run);
    return rc;
}

/* The append workload after the load: the final reads, the nodes stopped, the check. */
static int finish_append(struct kvt_run *run, struct kvt_txns *t, int load_rc)
{
    int rc = load_rc != 0 ? -1 : kvt_append_final(run, t);
    kvt_cluster_down(run->cluster, run->o->keep);
    if (rc < 0)
        fprintf(stderr, "kvtorture: out of memory during the run\n");
    return rc < 0 ? KVT_EXIT_SETUP : kvt_append_verdict(run->o, t);
}

/* Linearizability of every key; true when no key is violated (unknown keys are said). */
static bool check_keys(const struct kvt_history *h, unsigned keys, size_t *unknown)
{
    struct kvt_lin_limits lim;
    kvt_lin_limits_default(&lim);
    lim.now_ns = kvt_now_ns;
    lim.time_budget_ns = CHECK_TIME_BUDGET_NS;
    bool clean = true;
    *unknown = 0;
    for (uint32_t k = 0; k < keys; k++) {
        struct kvt_lin_result r;
        if (kvt_lin_check_key(h, k, &lim, &r) != 0) {
            fprintf(stderr, "kvtorture: out of memory checking key %" PRIu32 "\n", k);
            r.verdict = KVT_LIN_UNKNOWN;
        }
        kvt_report_lin(stdout, h, &r);
        clean = clean && r.verdict != KVT_LIN_VIOLATION;
        *unknown += r.verdict == KVT_LIN_UNKNOWN;
    }
    return clean;
}

static bool check_final(const struct kvt_history *h, const struct kvt_final *f)
{
    struct kvt_final_issue is[FINAL_ISSUES_MAX];
    size_t n = kvt_final_check(h, f, is, FINAL_ISSUES_MAX);
    kvt_report_final(stdout, h, is, n < FINAL_ISSUES_MAX ? n : FINAL_ISSUES_MAX);
    if (n == 0)
        printf("final: %u keys agree on %u node(s); no acknowledged write lost\n", f->keys,
               f->nodes);
    return n == 0;
}

static void save_history(const struct kvt_options *o, const struct kvt_history *h, bool clean)
{
    char path[KVT_PATH_MAX], header[128];
    if (o->history)
        snprintf(path, sizeof path, "%s", o->history);
    else if (!clean)
        snprintf(path, sizeof path, "/tmp/kvtorture-%" PRIu64 ".history", o->seed);
    else
        return;
    snprintf(header, sizeof header, "kvtorture seed %" PRIu64 " workers %u keys %u", o->seed,
             o->workers, o->keys);
    if (kvt_history_write(path, h, header) == 0)
        printf("history: %zu ops written to %s\n", h->count, path);
    else
        fprintf(stderr, "kvtorture: cannot write %s\n", path);
}

static int check(const struct kvt_options *o, const struct kvt_history *h,
                 const struct kvt_final *f)
{
    size_t unknown;
    bool lin = check_keys(h, o->keys, &unknown);
    bool fin = check_final(h, f);
    kvt_report_counts(stdout, h);
    save_history(o, h, lin && fin);
    printf("kvtorture: %s (seed %" PRIu64 ")%s\n", lin && fin ? "CLEAN" : "VIOLATION", o->seed,
           unknown ? "; some keys unknown: the search hit its bound" : "");
    return lin && fin ? KVT_EXIT_CLEAN : KVT_EXIT_VIOLATION;
}

/* --check: a saved history's linearizability, every key it names (or an append history's
   strict serializability). */
static int check_saved(const char *path)
{
    if (kvt_txns_is_file(path))
        return kvt_append_check_saved(path);
    struct kvt_history h;
    kvt_history_init(&h);
    long bad = kvt_history_read(path, &h);
    if (bad != 0) {
        fprintf(stderr, "kvtorture: %s: %s %ld\n", path, bad < 0 ? "cannot read" : "bad line",
                bad);
        kvt_history_free(&h);
        return KVT_EXIT_USAGE;
    }
    kvt_history_sort(&h);
    uint32_t keys = 0;
    for (size_t i = 0; i < h.count; i++)
        keys = h.ops[i].key >= keys ? h.ops[i].key + 1 : keys;
    size_t unknown;
    bool clean = check_keys(&h, keys, &unknown);
    kvt_report_counts(stdout, &h);
    printf("kvtorture: %s: %s\n", path, clean ? "linearizable" : "VIOLATION");
    kvt_history_free(&h);
    return clean ? KVT_EXIT_CLEAN : KVT_EXIT_VIOLATION;
}

int main(int argc, char **argv)
{
    struct kvt_options o;
    int rc = kvt_options_parse(&o, argc, argv);
    if (rc != KVT_EXIT_CLEAN)
        return rc;
    if (o.check)
        return check_saved(o.check);
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
    struct kvt_run run = {.o = &o, .cluster = &c, .start_ns = kvt_now_ns()};
    run.end_ns = run.start_ns + (int64_t)(o.duration_s * 1e9);
    atomic_init(&run.next_value, 1);
    atomic_init(&run.next_txn, 0);
    struct kvt_history h;
    kvt_history_init(&h);
    struct kvt_txns t;
    kvt_txns_init(&t);
    int load_rc = run_load(&run, &h, &t);
    if (o.workload == KVT_WORKLOAD_APPEND) {
        rc = finish_append(&run, &t, load_rc);
        kvt_txns_free(&t);
        kvt_history_free(&h);
        return rc;
    }
    struct kvt_final f = {0};
    rc = load_rc != 0 || kvt_final_reads(&run, &f) < 0 ? KVT_EXIT_SETUP : 0;
    kvt_cluster_down(&c, o.keep);
    if (rc == 0)
        rc = check(&o, &h, &f);
    else
        fprintf(stderr, "kvtorture: out of memory during the run\n");
    kvt_final_free(&f);
    kvt_history_free(&h);
    kvt_txns_free(&t);
    return rc;
}
