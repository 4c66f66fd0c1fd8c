/* rotxn.c: the register workload's read-only transactions: a linearizable read version, a
   pause (a transaction that lives a while, as FoundationDB's may for seconds), then snapshot
   reads of a few keys at that version, each on a node picked at random. No commit. */
#include "client_internal.h"

#include <time.h>

/* Longest pause between the read version and the reads. */
#define ROTXN_PAUSE_NS_MAX (20 * 1000 * 1000)
/* Tries at distinct keys before taking fewer (a skewed key choice repeats itself). */
#define ROTXN_PICKS_MAX 16

/* Up to want distinct keys, picked as the run picks them. */
static uint32_t pick_keys(const struct kvt_run *run, uint64_t *rng, uint32_t want,
                          uint32_t *out)
{
    uint32_t n = 0;
    for (int tries = 0; n < want && tries < ROTXN_PICKS_MAX; tries++) {
        uint32_t k = kvt_key_pick(run, rng), i = 0;
        while (i < n && out[i] != k)
            i++;
        if (i == n)
            out[n++] = k;
    }
    return n;
}

/*
 * Each snapshot read that answers goes to the log as a read of the register whose window is
 * the read-version call, and whose version is the read version. The state at the read version
 * is the state at one point of that window, so the linearizability check judges it (a snapshot
 * read of a value written after the window, as reading the newest value gives, is a
 * violation); the version order check (versions.h) judges it against the writes' versions,
 * which also tells fractured reads across keys. Read i is process base + i, so a process never
 * has two ops open.
 */
void kvt_op_rotxn(const struct kvt_run *run, struct kvt_conn *conns, uint64_t *rng,
                  uint32_t base, struct kvt_hlog *log)
{
    unsigned count = run->cluster->count;
    struct kvt_conn *first = &conns[kvt_rand(rng) % count];
    int64_t invoke = kvt_now_ns();
    int64_t rv = kvt_read_version(first);
    int64_t complete = kvt_now_ns();
    if (rv <= 0)
        return;
    struct timespec ts = {0, (long)(kvt_rand(rng) % ROTXN_PAUSE_NS_MAX)};
    nanosleep(&ts, NULL);
    uint32_t keys[KVT_ROTXN_READS_MAX];
    uint32_t n = pick_keys(run, rng, 1 + (uint32_t)(kvt_rand(rng) % KVT_ROTXN_READS_MAX), keys);
    for (uint32_t i = 0; i < n; i++) {
        struct kvt_conn *k = &conns[kvt_rand(rng) % count];
        tp_bytes key = {NULL, 0};
        kvt_key_bytes(keys[i], &key);
        int64_t value;
        int rc = kvt_snapshot_read(k, &key, rv, &value);
        tp_bytes_free(&key);
        if (rc != 0)
            continue;   /* e.g. FUTURE_VERSION from a node behind: it saw nothing */
        struct kvt_op op = {.process = base + i, .type = KVT_READ, .outcome = KVT_OK,
                            .key = keys[i], .value = value, .invoke_ns = invoke,
                            .complete_ns = complete, .node = k->node, .version = rv};
        kvt_hlog_add(log, &op);
    }
}
