/* counter.c: the counter workload (issue 19): every worker increments one counter with
   atomicCommit (read it at a read version, commit +1 with it as a read conflict) in a client
   session of its own, and retries a commit whose outcome is open (a lost reply, TIMEOUT, a
   leader change) with the same bytes and sequence number until it has a definite answer.
   Without sessions such a retry answers CONFLICT when the first try did apply, the client
   counts the increment as failed and makes it again: counted twice. The check: the final
   count is at least the acknowledged increments and at most those plus the unknown ones, and
   no two acknowledged increments wrote the same count or committed at the same version. */
#include "client_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define COUNTER_KEY 0u
/* One increment keeps retrying its commit this long at most; then its outcome is unknown. */
#define COUNTER_RETRY_NS (15LL * 1000 * 1000 * 1000)
#define COUNTER_RETRY_PAUSE_NS (30 * 1000 * 1000)
#define COUNTER_SESSION_TIMEOUT_MS 60000

static int open_session(struct kvt_conn *k, struct kvt_counter *c)
{
    OpenSessionRequest req;
    OpenSessionRequest_init(&req);
    req.has_timeout_ms = true;
    req.timeout_ms = COUNTER_SESSION_TIMEOUT_MS;
    TransactionalKV_openSession_result res;
    TransactionalKV_openSession_result_init(&res);
    enum call_status st;
    KVT_CALL(st, k, openSession, &req, &res);
    const OpenSessionResponse *o = &res.success;
    int rc = st == CALL_OK && o->success && o->has_session_id ? 0 : -1;
    if (rc == 0) {
        c->session = o->session_id;
        c->seq = 0;
    } else if (st == CALL_OK) {
        kvt_write_error(k, o->has_error_code, o->error_code, o->has_leader_hint, &o->leader_hint);
    }
    TransactionalKV_openSession_result_free(&res);
    return rc;
}

/* The counter at rv (0 when never written); 0, or -1. */
static int read_count(struct kvt_conn *k, int64_t rv, int64_t *count)
{
    tp_bytes key = {0};
    kvt_key_bytes(COUNTER_KEY, &key);
    int64_t v = KVT_NIL;
    int rc = kvt_snapshot_read(k, &key, rv, &v);
    tp_bytes_free(&key);
    if (rc == 0) {
        *count = v == KVT_NIL ? 0 : v;
        rc = v == KVT_NIL || v > 0 ? 0 : -1;
    }
    return rc;
}

enum attempt { ATTEMPT_OK, ATTEMPT_NOT_APPLIED, ATTEMPT_AGAIN, ATTEMPT_GONE };

/* One try of the commit; *version on OK. TIMEOUT and a lost reply leave it open (AGAIN, and
   *uncertain); refusals before any log held it are AGAIN too; CONFLICT and the like are the
   stored, definite answer. */
static enum attempt try_commit(struct kvt_conn *k, AtomicCommitRequest *req, bool *uncertain,
                               int64_t *version)
{
    TransactionalKV_atomicCommit_result res;
    TransactionalKV_atomicCommit_result_init(&res);
    enum call_status st;
    KVT_CALL(st, k, atomicCommit, req, &res);
    const AtomicCommitResponse *a = &res.success;
    enum attempt out = ATTEMPT_AGAIN;
    if (st != CALL_OK) {
        *uncertain |= st == CALL_UNKNOWN;
    } else if (a->success) {
        out = ATTEMPT_OK;
        *version = a->committed_version;
    } else if (a->has_error_code && a->error_code == ErrorCode_SESSION_EXPIRED) {
        out = ATTEMPT_GONE;
    } else if (kvt_write_error(k, a->has_error_code, a->error_code, a->has_leader_hint,
                               &a->leader_hint) == KVT_INFO) {
        *uncertain = true;   /* TIMEOUT: maybe in a log; the retry tells */
    } else if (a->error_code != ErrorCode_NOT_LEADER && a->error_code != ErrorCode_UNAVAILABLE &&
               a->error_code != ErrorCode_BUSY && a->error_code != ErrorCode_SHUTTING_DOWN) {
        out = ATTEMPT_NOT_APPLIED;   /* CONFLICT, TRANSACTION_TOO_OLD, ...: for good */
    }
    TransactionalKV_atomicCommit_result_free(&res);
    return out;
}

/* Where a retry goes: the leader a refusal named, else (after a lost connection) the next. */
static void move_on(struct kvt_conn *k)
{
    int next = k->leader_hint >= 0 ? k->leader_hint
               : !k->connected    ? (k->node + 1) % (int)k->cluster->count
                                  : k->node;
    k->leader_hint = -1;
    if (next != k->node) {
        kvt_conn_drop(k);
        k->node = next;
    }
    struct timespec ts = {0, COUNTER_RETRY_PAUSE_NS};
    nanosleep(&ts, NULL);
}

/* The commit of count + 1, retried with the same bytes until definite or out of time. */
static enum kvt_outcome commit_increment(struct kvt_conn *k, struct kvt_counter *c, int64_t rv,
                                         int64_t count, int64_t *version, bool *was_open)
{
    Operation op;
    Operation_init(&op);
    op.type = OperationType_SET;
    kvt_key_bytes(COUNTER_KEY, &op.key);
    op.has_value = true;
    kvt_value_bytes(count + 1, &op.value);
    AtomicCommitRequest req;
    AtomicCommitRequest_init(&req);
    req.read_version = rv;
    req.operations = (list_Operation){&op, 1};
    req.has_read_conflict_keys = true;
    req.read_conflict_keys = (tp_list_binary){&op.key, 1};
    req.has_session = true;
    req.session.session_id = c->session;
    req.session.sequence = ++c->seq;
    req.session.has_acked_below = true;   /* one at a time: every earlier one is settled */
    req.session.acked_below = c->seq;
    bool uncertain = false;
    enum attempt a = ATTEMPT_AGAIN;
    int64_t deadline = kvt_now_ns() + COUNTER_RETRY_NS;
    /* Until a definite answer; at the run's end (faults still on until every worker is
       back) or the deadline, an open outcome stays unknown. */
    while ((a = try_commit(k, &req, &uncertain, version)) == ATTEMPT_AGAIN &&
           kvt_now_ns() < deadline && !atomic_load(&kvt_stop))
        move_on(k);
    tp_bytes_free(&op.key);
    tp_bytes_free(&op.value);
    if (a == ATTEMPT_GONE)
        c->session = 0;   /* the next increment opens another */
    *was_open = uncertain;
    /* GONE after tries that all stayed out of every log: this one never applied. */
    return a == ATTEMPT_OK            ? KVT_OK
           : a == ATTEMPT_NOT_APPLIED ? KVT_FAIL
           : uncertain                ? KVT_INFO
                                      : KVT_FAIL;
}

enum kvt_outcome kvt_counter_one(struct kvt_run *run, struct kvt_conn *k, struct kvt_counter *c)
{
    int64_t rv, count, version = 0;
    bool was_open = false;
    if (c->session == 0 && open_session(k, c) != 0)
        return KVT_FAIL;
    if ((rv = kvt_read_version(k)) < 0 || read_count(k, rv, &count) != 0)
        return KVT_FAIL;
    enum kvt_outcome out = commit_increment(k, c, rv, count, &version, &was_open);
    if (was_open && out != KVT_INFO)
        atomic_fetch_add(&run->counter.settled, 1);
    if (out == KVT_OK) {
        pthread_mutex_lock(&run->counter.lock);
        struct kvt_counter_ack *acks = run->counter.acks;
        if (run->counter.acked == run->counter.cap) {
            size_t cap = run->counter.cap ? run->counter.cap * 2 : 1024;
            acks = realloc(acks, cap * sizeof *acks);
            if (acks) {
                run->counter.acks = acks;
                run->counter.cap = cap;
            }
        }
        if (run->counter.acked < run->counter.cap)
            run->counter.acks[run->counter.acked++] = (struct kvt_counter_ack){version, count + 1};
        else
            run->counter.lost_acks++;
        pthread_mutex_unlock(&run->counter.lock);
    } else if (out == KVT_INFO) {
        atomic_fetch_add(&run->counter.unknown, 1);
    }
    return out;
}

static int by_value(const void *pa, const void *pb)
{
    const struct kvt_counter_ack *a = pa, *b = pb;
    return a->value < b->value ? -1 : a->value > b->value;
}

/* The counter after the heal, from the node that answers a linearizable read; -1: none. */
static int64_t final_count(const struct kvt_run *run)
{
    for (int attempt = 0; attempt < 50; attempt++) {
        struct kvt_conn k;
        kvt_conn_init(&k, run->cluster, attempt % (int)run->cluster->count, run->o->timeout_ms);
        int64_t rv = kvt_read_version(&k), count = -1;
        if (rv < 0 || read_count(&k, rv, &count) != 0)
            count = -1;
        kvt_conn_free(&k);
        if (count >= 0)
            return count;
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

/* Acknowledged increments that wrote one count twice, or committed at one version twice. */
static uint64_t duplicate_acks(struct kvt_counter_ack *acks, uint64_t n, int64_t final)
{
    uint64_t bad = 0;
    qsort(acks, n, sizeof *acks, by_value);
    for (uint64_t i = 0; i < n; i++) {
        bool twice = i > 0 && (acks[i].value == acks[i - 1].value ||
                               acks[i].version == acks[i - 1].version);
        if (twice || acks[i].value > final) {
            if (bad++ < 5)
                printf("kvtorture: VIOLATION: increment to %" PRId64 " at version %" PRId64
                       "%s\n", acks[i].value, acks[i].version,
                       twice ? " acknowledged twice" : " above the final count");
        }
    }
    return bad;
}

int kvt_counter_verdict(struct kvt_run *run)
{
    bool behind[KVT_NODES_MAX];
    run->live_failed = kvt_catch_up(run, behind) != 0;
    int64_t final = final_count(run);
    run->nodes_failed = kvt_cluster_stop(run->cluster);
    uint64_t acked = run->counter.acked, unknown = atomic_load(&run->counter.unknown);
    printf("kvtorture: counter: %" PRIu64 " increments acknowledged, %" PRIu64
           " unknown, final count %" PRId64 "; %" PRIu64 " outcomes left open by a try were "
           "settled by a retry in their session\n", acked, unknown, final,
           (uint64_t)atomic_load(&run->counter.settled));
    int safety = KVT_EXIT_CLEAN;
    if (final < 0 || run->counter.lost_acks > 0) {
        printf("kvtorture: UNKNOWN: %s\n", final < 0 ? "no node answered the final read"
                                                     : "out of memory recording increments");
        safety = KVT_EXIT_UNKNOWN;
    } else if ((uint64_t)final < acked || (uint64_t)final > acked + unknown) {
        printf("kvtorture: VIOLATION: final count %" PRId64 " outside [%" PRIu64 ", %" PRIu64
               "]: %s\n", final, acked, acked + unknown,
               (uint64_t)final < acked ? "an acknowledged increment was lost"
                                       : "some increment applied twice");
        safety = KVT_EXIT_VIOLATION;
    }
    if (duplicate_acks(run->counter.acks, acked, final) > 0)
        safety = KVT_EXIT_VIOLATION;
    int rc = kvt_verdict_combine(run, safety);
    char also[160];
    kvt_verdict_also(run, rc, also, sizeof also);
    printf("kvtorture: %s (seed %" PRIu64 ", counter workload)%s\n", kvt_verdict_name(rc),
           run->o->seed, also);
    free(run->counter.acks);
    return rc;
}
