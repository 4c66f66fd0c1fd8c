/* append_worker.c: the list-append workload: random txns on a moving window of keys, unique
   elements, and the final read of every key. */
#include "kvtorture.h"

#include <stdio.h>
#include <time.h>

#define FINAL_READ_NS (30LL * 1000 * 1000 * 1000)
#define FINAL_RETRY_NS (100 * 1000 * 1000)

int kvt_append_one(struct kvt_run *run, struct kvt_conn *k, uint64_t *rng, uint32_t process,
                   struct kvt_txns *out, enum kvt_outcome *outcome)
{
    uint32_t window = run->o->keys;
    uint64_t seq = (uint64_t)atomic_fetch_add(&run->next_txn, 1);
    uint32_t low = (uint32_t)(seq / KVT_APPEND_TXNS_PER_KEY_STEP);
    uint32_t nreads = 1 + (uint32_t)(kvt_rand(rng) % KVT_TXN_READS_MAX);
    nreads = nreads > window ? window : nreads;
    uint32_t nappends = 1 + (uint32_t)(kvt_rand(rng) % KVT_TXN_APPENDS_MAX);
    nappends = nappends > nreads ? nreads : nappends;
    uint32_t reads[KVT_TXN_READS_MAX];
    int64_t elements[KVT_TXN_APPENDS_MAX];
    for (uint32_t i = 0; i < nreads; i++) {   /* distinct keys of the window */
        uint32_t key, j;
        do {
            key = low + (uint32_t)(kvt_rand(rng) % window);
            for (j = 0; j < i && reads[j] != key; j++)
                ;
        } while (j < i);
        reads[i] = key;
    }
    for (uint32_t i = 0; i < nappends; i++)
        elements[i] = atomic_fetch_add(&run->next_value, 1);
    struct kvt_txn t = {.process = process, .invoke_ns = kvt_now_ns()};
    int rc = kvt_op_append(k, &t, reads, nreads, elements, nappends);
    t.complete_ns = kvt_now_ns();
    *outcome = t.outcome;
    if (rc != 0) {
        kvt_txn_free(&t);
        return -1;
    }
    return kvt_txns_add(out, &t);
}

int kvt_append_final(struct kvt_run *run, struct kvt_txns *out)
{
    const struct kvt_cluster *c = run->cluster;
    uint64_t txns = (uint64_t)atomic_load(&run->next_txn);
    uint32_t keys = (uint32_t)(txns / KVT_APPEND_TXNS_PER_KEY_STEP) + run->o->keys;
    for (int64_t deadline = kvt_now_ns() + FINAL_READ_NS; kvt_now_ns() < deadline;) {
        for (unsigned i = 0; i < c->count; i++) {
            struct kvt_conn k;
            kvt_conn_init(&k, c, (int)i, run->o->timeout_ms);
            struct kvt_txn t = {.process = run->o->workers, .invoke_ns = kvt_now_ns()};
            int rc = kvt_read_all(&k, &t, keys);
            t.complete_ns = kvt_now_ns();
            kvt_conn_free(&k);
            if (rc == 0 && t.outcome == KVT_OK) {
                printf("final: %u keys read at one version on node %u\n", keys, i);
                return kvt_txns_add(out, &t);
            }
            kvt_txn_free(&t);
            if (rc != 0)
                return -1;
        }
        struct timespec ts = {0, FINAL_RETRY_NS};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "kvtorture: no node served the final reads in %lld s\n",
            FINAL_READ_NS / 1000000000);
    return 1;
}
