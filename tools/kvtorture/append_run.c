/* append_run.c: kvtorture's verdict on a list-append history (a run's or a saved one):
   counts, anomalies, cycles, the history saved on a violation. */
#include "kvtorture.h"
#include "append_check.h"

#include <inttypes.h>
#include <stdio.h>

static void print_counts(const struct kvt_txns *t)
{
    struct kvt_txn_counts n;
    kvt_txns_count(t, &n);
    printf("%-7s %8s %8s %8s\n", "op", "ok", "fail", "info");
    printf("%-7s %8zu %8zu %8zu\n", "txn", n.txns[KVT_OK], n.txns[KVT_FAIL], n.txns[KVT_INFO]);
    printf("%-7s %8zu %8zu %8zu\n", "read", n.reads[KVT_OK], n.reads[KVT_FAIL],
           n.reads[KVT_INFO]);
    printf("%-7s %8zu %8zu %8zu\n", "append", n.appends[KVT_OK], n.appends[KVT_FAIL],
           n.appends[KVT_INFO]);
}

/* The check itself; true when clean. *oom set when memory ran out. */
static bool verdict(const struct kvt_txns *t, bool *oom)
{
    struct kvt_append_result r;
    *oom = kvt_append_check(t, stdout, &r) != 0;
    if (*oom) {
        fprintf(stderr, "kvtorture: out of memory checking the append history\n");
        return false;
    }
    printf("append: %zu txns, %zu committed, %zu keys, %zu dependency edges, %zu cycles\n",
           t->count, r.committed, r.keys, r.edges, r.cycles);
    for (int a = 0; a < KVT_ANOMALIES; a++)
        if (r.count[a])
            printf("append: %zu x %s\n", r.count[a], kvt_anomaly_name((enum kvt_anomaly)a));
    print_counts(t);
    return kvt_append_clean(&r);
}

int kvt_append_verdict(const struct kvt_run *run, const struct kvt_txns *t, bool final_read)
{
    const struct kvt_options *o = run->o;
    bool oom, clean = verdict(t, &oom);
    char path[KVT_PATH_MAX], header[128];
    if (o->history)
        snprintf(path, sizeof path, "%s", o->history);
    else
        snprintf(path, sizeof path, "/tmp/kvtorture-%" PRIu64 ".append-history", o->seed);
    snprintf(header, sizeof header, "seed %" PRIu64 " workers %u keys %u", o->seed, o->workers,
             o->keys);
    if ((o->history || !clean) && kvt_txns_write(path, t, header) == 0)
        printf("history: %zu txns written to %s\n", t->count, path);
    else if (o->history || !clean)
        fprintf(stderr, "kvtorture: cannot write %s\n", path);
    if (oom)
        return KVT_EXIT_SETUP;
    /* Without the final read, the lists' last appends went unchecked: not clean. */
    int safety = !clean ? KVT_EXIT_VIOLATION : final_read ? KVT_EXIT_CLEAN : KVT_EXIT_UNKNOWN;
    int rc = kvt_verdict_combine(run, safety);
    char also[96];
    kvt_verdict_also(run, rc, also, sizeof also);
    printf("kvtorture: %s (seed %" PRIu64 ", append workload)%s%s\n", kvt_verdict_name(rc),
           o->seed, safety == KVT_EXIT_UNKNOWN ? ": no node served the final read, so no"
                                                 " verdict on the lists' last appends" : "",
           also);
    return rc;
}

int kvt_append_check_saved(const char *path)
{
    struct kvt_txns t;
    kvt_txns_init(&t);
    long bad = kvt_txns_read(path, &t);
    if (bad != 0) {
        fprintf(stderr, "kvtorture: %s: %s %ld\n", path, bad < 0 ? "cannot read" : "bad line",
                bad);
        kvt_txns_free(&t);
        return KVT_EXIT_USAGE;
    }
    kvt_txns_sort(&t);
    bool oom, clean = verdict(&t, &oom);
    printf("kvtorture: %s: %s\n", path, clean ? "strictly serializable" : "VIOLATION");
    kvt_txns_free(&t);
    return oom ? KVT_EXIT_SETUP : clean ? KVT_EXIT_CLEAN : KVT_EXIT_VIOLATION;
}
