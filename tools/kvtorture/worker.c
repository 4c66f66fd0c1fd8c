/* worker.c: client workers: random reads, unique writes, cas and read-only txns on a few keys
   (or list-append txns), each recorded with its invocation and completion times. Writes go to
   one node (the leader, once a refusal names it); reads and read-only txns go to a node picked
   at random each time, a deposed leader included. */
#include "kvtorture.h"
#include "check_logs.h"
#include "hlog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* After an op that did not succeed, a short pause keeps a dead node from flooding the
   history with refused connections. */
#define WORKER_BACKOFF_NS (20 * 1000 * 1000)

struct worker {
    struct kvt_run *run;
    unsigned id;
    uint64_t rng;
    int64_t *known;          /* per key: the value this worker last saw or wrote */
    struct kvt_counter counter;   /* the counter workload's session */
    struct kvt_hlog log;     /* register ops, streamed */
    struct kvt_conn reads[KVT_NODES_MAX];   /* one connection per node for reads */
    struct kvt_txns t;
    int rc;
    pthread_t thread;
};

static void nap_ns(int64_t ns)
{
    struct timespec ts = {.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
    nanosleep(&ts, NULL);
}

/* One register op into the log (or a read-only txn: its reads); the op's outcome. */
static enum kvt_outcome one_op(struct worker *w, struct kvt_conn *home, struct kvt_op *op)
{
    unsigned nodes = w->run->cluster->count;
    uint64_t roll = kvt_rand(&w->rng) % 100;
    if (roll >= 85) {
        uint32_t base = w->run->o->workers + w->id * KVT_ROTXN_READS_MAX;
        kvt_op_rotxn(w->run, w->reads, &w->rng, base, &w->log);
        return KVT_OK;
    }
    op->type = roll < 45 ? KVT_READ : roll < 70 ? KVT_WRITE : KVT_CAS;
    struct kvt_conn *k = op->type == KVT_READ ? &w->reads[kvt_rand(&w->rng) % nodes] : home;
    if (op->type != KVT_READ)
        op->value = atomic_fetch_add(&w->run->next_value, 1);
    if (op->type == KVT_CAS)
        op->expected = w->known[op->key];
    op->invoke_ns = kvt_now_ns();
    if (op->type == KVT_READ)
        kvt_op_read(k, op);
    else if (op->type == KVT_WRITE)
        kvt_op_write(k, op);
    else
        kvt_op_cas(k, op);
    op->complete_ns = kvt_now_ns();
    if (op->outcome == KVT_OK)
        w->known[op->key] = op->value;
    op->version = op->outcome == KVT_OK && k->version > 0 ? k->version : 0;
    kvt_hlog_add(&w->log, op);
    return op->outcome;   /* a failure pauses the worker (WORKER_BACKOFF_NS) */
}

/* Where the next op goes: the leader a refusal named, or (after a lost connection) another
   node; otherwise the same one. */
static void reroute(struct worker *w, struct kvt_conn *k)
{
    int next = k->leader_hint;
    unsigned count = w->run->cluster->count;
    if (next < 0 && !k->connected && count > 1)
        next = (int)(kvt_rand(&w->rng) % count);
    k->leader_hint = -1;
    if (next >= 0 && next != k->node) {
        kvt_conn_drop(k);
        k->node = next;
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    const struct kvt_options *o = w->run->o;
    struct kvt_conn k;
    kvt_conn_init(&k, w->run->cluster, (int)(w->id % w->run->cluster->count), o->timeout_ms);
    for (unsigned i = 0; i < w->run->cluster->count; i++)
        kvt_conn_init(&w->reads[i], w->run->cluster, (int)i, o->timeout_ms);
    for (unsigned n = 0; n < KVT_OPS_PER_WORKER_MAX && w->rc == 0; n++) {
        while (atomic_load(&w->run->workers_hold) && !atomic_load(&kvt_stop))
            nap_ns(WORKER_BACKOFF_NS);
        if (atomic_load(&kvt_stop) || kvt_now_ns() >= w->run->end_ns)
            break;
        enum kvt_outcome outcome;
        if (o->workload == KVT_WORKLOAD_APPEND) {
            w->rc = kvt_append_one(w->run, &k, &w->rng, w->id, &w->t, &outcome);
        } else if (o->workload == KVT_WORKLOAD_COUNTER) {
            outcome = kvt_counter_one(w->run, &k, &w->counter);
        } else {
            struct kvt_op op = {.process = w->id, .key = kvt_key_pick(w->run, &w->rng)};
            outcome = one_op(w, &k, &op);
        }
        if (outcome != KVT_OK) {
            reroute(w, &k);
            nap_ns(WORKER_BACKOFF_NS);
        }
    }
    kvt_conn_free(&k);
    for (unsigned i = 0; i < w->run->cluster->count; i++)
        kvt_conn_free(&w->reads[i]);
    return NULL;
}

static int merge(struct worker *ws, unsigned count, struct kvt_txns *t)
{
    int rc = 0;
    for (unsigned i = 0; i < count; i++) {
        rc |= ws[i].rc;
        for (size_t j = 0; rc == 0 && j < ws[i].t.count; j++)
            rc = kvt_txns_add(t, &ws[i].t.txns[j]);   /* moves the mops */
    }
    kvt_txns_sort(t);
    return rc;
}

/* Worker w's log in run->log_dir; 0, or -1 (message printed). */
static int open_log(struct worker *w)
{
    char path[KVT_PATH_MAX + 32];
    kvt_logs_worker_path(w->run->log_dir, w->id, path, sizeof path);
    if (kvt_hlog_create(&w->log, path) == 0)
        return 0;
    perror(path);
    return -1;
}

struct kvt_workers {
    struct worker *w;
    unsigned started;
    int rc;
};

struct kvt_workers *kvt_workers_start(struct kvt_run *run)
{
    unsigned count = run->o->workers;
    struct kvt_workers *ws = calloc(1, sizeof *ws);
    if (ws && !(ws->w = calloc(count, sizeof *ws->w))) {
        free(ws);
        ws = NULL;
    }
    for (; ws && ws->started < count; ws->started++) {
        struct worker *w = &ws->w[ws->started];
        *w = (struct worker){.run = run, .id = ws->started,
                             .rng = run->o->seed * 1000003u + ws->started};
        kvt_txns_init(&w->t);
        w->known = calloc(run->o->keys, sizeof *w->known);
        if (!w->known || open_log(w) != 0 ||
            pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            free(w->known);
            if (w->log.f)
                kvt_hlog_close(&w->log);
            ws->rc = -1;
            break;
        }
    }
    return ws;
}

int kvt_workers_join(struct kvt_workers *ws, struct kvt_txns *t)
{
    if (!ws)
        return -1;
    for (unsigned i = 0; i < ws->started; i++)
        pthread_join(ws->w[i].thread, NULL);
    int rc = ws->rc == 0 ? merge(ws->w, ws->started, t) : -1;
    for (unsigned i = 0; i < ws->started; i++) {
        if (kvt_hlog_close(&ws->w[i].log) != 0) {
            fprintf(stderr, "kvtorture: worker %u's log could not be written\n", i);
            rc = -1;
        }
        kvt_txns_free(&ws->w[i].t);
        free(ws->w[i].known);
    }
    free(ws->w);
    free(ws);
    return rc;
}
