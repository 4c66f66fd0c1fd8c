/* test_rep_cutoff.c: a failover as clients with writes in flight see it. The leader is cut
   off silently (its fault file: no connection resets) while 16 writers and 2 linearizable
   readers go through the two followers: no call waits longer than the new leader's election
   plus one round trip, every acknowledged write is there afterwards, and no write appears
   twice in the log (a write refused outright appears not at all). */
#include "rep_fixture.h"
#include "wal.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WRITERS 16
#define READERS 2
#define CALLS_MAX 20000
#define CALL_TIMEOUT_MS 8000
/* A write answered later than this after the new leader's election (as the test sees it,
   polling the followers) fails the test. One round trip, follower -> leader -> follower with
   the commit's fsyncs, takes about a millisecond on an idle machine; this allows for a loaded
   2-core one. A write stranded on the cut-off leader used to wait for the whole request
   timeout (2,000 ms after the cut; the election takes 400 - 900 ms of it). */
#define ROUND_TRIP_SLACK_S 0.75
/* How long the writers go on after the election. */
#define AFTER_S 1.0
/* The log entry's clock header (src/server/server_entry.h, SERVER_ENTRY_HEADER_SIZE). */
#define ENTRY_HEADER_BYTES 8u

enum outcome { CALL_OK, CALL_TIMEOUT, CALL_REFUSED, CALL_LOST, CALL_OTHER, OUTCOMES };
static const char *const outcome_names[OUTCOMES] = {"ok", "timeout", "refused", "lost", "other"};

struct call {
    double start, end;
    enum outcome outcome;
    int code;
    bool hint_cut; /* the answer named the cut-off leader as the one to retry at */
};

struct writer {
    int id;
    bool reads;         /* a reader: linearizable gets of the first writer's first key */
    const char *addr;
    struct net_client cl;
    bool connected;
    int32_t seqid;
    atomic_bool *stop;
    const char *cut_addr; /* the leader that will be cut off */
    struct call *calls;
    atomic_int count;
    atomic_int ok;
    pthread_t thread;
};

static double later(double a, double b)
{
    return a > b ? a : b;
}

static void writer_key(int writer, int call, char *out, size_t size)
{
    snprintf(out, size, "w%02d-%06d", writer, call);
}

/* One set on the writer's own connection; nothing sent means nothing can be applied. */
static enum outcome call_set(struct writer *w, const char *key, struct call *c)
{
    int *code = &c->code;
    *code = -1;
    if (!w->connected) {
        if (net_client_connect(&w->cl, w->addr, true, CALL_TIMEOUT_MS) != NET_OK) {
            net_client_close(&w->cl);
            return CALL_REFUSED;
        }
        w->connected = true;
    }
    SetRequest q;
    SetRequest_init(&q);
    tp_bytes_set_str(&q.key, key);
    tp_bytes_set_str(&q.value, key);
    TransactionalKV_setKey_result res;
    TransactionalKV_setKey_result_init(&res);
    int32_t seq = ++w->seqid;
    int rc;
    REP_SEND(&w->cl, setKey, seq, &q, rc);
    bool sent = rc == 0;
    if (sent)
        REP_RECV(&w->cl, setKey, seq, &res, rc);
    enum outcome out = CALL_OTHER;
    if (rc != 0 || !res.has_success) {
        net_client_close(&w->cl);
        w->connected = false;
        out = sent ? CALL_LOST : CALL_REFUSED;
    } else if (res.success.success) {
        out = CALL_OK;
    } else {
        const SetResponse *s = &res.success;
        *code = s->has_error_code ? (int)s->error_code : -1;
        c->hint_cut = s->has_leader_hint && s->leader_hint.len == strlen(w->cut_addr) &&
                      !memcmp(s->leader_hint.data, w->cut_addr, s->leader_hint.len);
        out = *code == ErrorCode_TIMEOUT                              ? CALL_TIMEOUT
              : rep_refused(s->success, s->has_error_code, s->error_code) ? CALL_REFUSED
                                                                          : CALL_OTHER;
    }
    TransactionalKV_setKey_result_free(&res);
    SetRequest_free(&q);
    return out;
}

/* One linearizable get on the reader's own connection. */
static enum outcome call_get(struct writer *w, const char *key, int *code)
{
    *code = -1;
    if (!w->connected) {
        if (net_client_connect(&w->cl, w->addr, true, CALL_TIMEOUT_MS) != NET_OK) {
            net_client_close(&w->cl);
            return CALL_REFUSED;
        }
        w->connected = true;
    }
    GetRequest q;
    GetRequest_init(&q);
    tp_bytes_set_str(&q.key, key);
    TransactionalKV_get_result res;
    TransactionalKV_get_result_init(&res);
    int32_t seq = ++w->seqid;
    int rc;
    REP_SEND(&w->cl, get, seq, &q, rc);
    if (rc == 0)
        REP_RECV(&w->cl, get, seq, &res, rc);
    enum outcome out = CALL_OK;
    if (rc != 0 || !res.has_success) {
        net_client_close(&w->cl);
        w->connected = false;
        out = CALL_LOST;
    } else if (!res.success.success) {
        *code = res.success.has_error_code ? (int)res.success.error_code : -1;
        out = CALL_REFUSED;
    }
    TransactionalKV_get_result_free(&res);
    GetRequest_free(&q);
    return out;
}

static void *writer_run(void *arg)
{
    struct writer *w = arg;
    char key[32];
    for (int i = 0; i < CALLS_MAX && !atomic_load(w->stop); i++) {
        struct call *c = &w->calls[i];
        writer_key(w->reads ? 0 : w->id, w->reads ? 0 : i, key, sizeof key);
        c->start = node_now();
        c->outcome = w->reads ? call_get(w, key, &c->code) : call_set(w, key, c);
        c->end = node_now();
        atomic_fetch_add(&w->ok, c->outcome == CALL_OK);
        atomic_store(&w->count, i + 1);
    }
    if (w->connected)
        net_client_close(&w->cl);
    return NULL;
}

static void wait_writers_ok(struct writer *ws, int each)
{
    double deadline = node_now() + REP_WAIT_S;
    for (int i = 0; i < WRITERS; i++)
        while (atomic_load(&ws[i].ok) < each) {
            cr_assert_lt(node_now(), deadline, "writer %d has %d acknowledged writes", i,
                         atomic_load(&ws[i].ok));
            usleep(5000);
        }
}

/* Polls the followers until one says it leads in a term after old_term; the time it saw. */
static double wait_new_leader(struct rep *r, int old, int64_t old_term, int *leader)
{
    double deadline = node_now() + REP_WAIT_S;
    for (;;) {
        for (int k = 1; k < REP_NODES; k++) {
            int n = (old + k) % REP_NODES;
            NodeInfo info;
            if (rep_info(r, n, &info) != 0)
                continue;
            bool leads = info.status.role == NodeRole_LEADER && info.status.term > old_term;
            NodeInfo_free(&info);
            if (leads) {
                *leader = n;
                return node_now();
            }
        }
        cr_assert_lt(node_now(), deadline, "no new leader");
        usleep(5000);
    }
}

/* Every call answered after the cut ends by max(its start, the election) + one round trip. */
static void check_bound(const struct writer *ws, double cut, double elected)
{
    int counts[OUTCOMES] = {0};
    double worst = -1e9, slowest = 0;
    for (int i = 0; i < WRITERS + READERS; i++)
        for (int k = 0; k < atomic_load(&ws[i].count); k++) {
            const struct call *c = &ws[i].calls[k];
            if (c->end <= cut)
                continue;
            counts[c->outcome]++;
            double late = c->end - later(c->start, elected);
            worst = later(worst, late);
            slowest = later(slowest, c->end - c->start);
            cr_assert_leq(late, ROUND_TRIP_SLACK_S,
                          "caller %d call %d (%s, code %d) started %.0f ms after the cut and "
                          "ended %.0f ms after the election (which came %.0f ms after the cut)",
                          i, k, outcome_names[c->outcome], c->code, (c->start - cut) * 1000,
                          late * 1000, (elected - cut) * 1000);
            cr_assert_neq(c->outcome, CALL_OTHER, "writer %d call %d: code %d", i, k, c->code);
            cr_assert(!c->hint_cut || c->end <= cut, "writer %d call %d: sent back to the "
                      "cut-off leader (%s, code %d)", i, k, outcome_names[c->outcome], c->code);
            cr_assert(!ws[i].reads || c->outcome == CALL_OK, "reader %d call %d: %s, code %d",
                      i, k, outcome_names[c->outcome], c->code);
        }
    printf("rep_cutoff: new leader seen %.0f ms after the cut; calls answered after the cut: "
           "%d ok, %d timeout, %d refused, %d lost; slowest %.0f ms; latest %.0f ms after "
           "max(start, election) (bound %.0f ms)\n",
           (elected - cut) * 1000, counts[CALL_OK], counts[CALL_TIMEOUT], counts[CALL_REFUSED],
           counts[CALL_LOST], slowest * 1000, worst * 1000, ROUND_TRIP_SLACK_S * 1000);
}

static int cmp_key(const void *a, const void *b)
{
    const KeyValue *x = a, *y = b;
    size_t n = x->key.len < y->key.len ? x->key.len : y->key.len;
    int c = memcmp(x->key.data, y->key.data, n);
    return c ? c : (x->key.len > y->key.len) - (x->key.len < y->key.len);
}

/* Every pair on node (serializable reads of its state), in pages of at most 10,000. */
static void range_all(struct rep *r, int node, KeyValue **out, uint32_t *count)
{
    uint32_t cap = 0;
    *out = NULL;
    *count = 0;
    tp_bytes begin = {0};
    for (int32_t seq = 1;; seq++) {
        GetRangeRequest q;
        GetRangeRequest_init(&q);
        tp_bytes_set(&q.begin_key, begin.data, begin.len);
        q.has_limit = true;
        q.limit = 10000;
        q.has_consistency = true;
        q.consistency = Consistency_SERIALIZABLE;
        TransactionalKV_getRange_result res;
        TransactionalKV_getRange_result_init(&res);
        struct net_client *c = rep_client(r, node);
        int rc;
        REP_SEND(c, getRange, seq, &q, rc);
        if (rc == 0)
            REP_RECV(c, getRange, seq, &res, rc);
        cr_assert(rc == 0 && res.has_success && res.success.success, "range on node %d", node);
        const GetRangeResponse *g = &res.success;
        for (uint32_t i = 0; i < g->key_values.count; i++) {
            if (*count == cap) {
                cap = cap ? cap * 2 : 4096;
                *out = realloc(*out, cap * sizeof **out);
                cr_assert(*out);
            }
            KeyValue *kv = &(*out)[(*count)++];
            KeyValue_init(kv);
            tp_bytes_set(&kv->key, g->key_values.items[i].key.data, g->key_values.items[i].key.len);
            tp_bytes_set(&kv->value, g->key_values.items[i].value.data,
                         g->key_values.items[i].value.len);
        }
        bool more = g->has_more && g->key_values.count > 0;
        if (more) { /* on from just after the last key */
            const tp_bytes *last = &g->key_values.items[g->key_values.count - 1].key;
            uint8_t *next = malloc(last->len + 1);
            cr_assert(next);
            memcpy(next, last->data, last->len);
            next[last->len] = 0;
            free(begin.data);
            begin = (tp_bytes){.data = next, .len = last->len + 1};
        }
        TransactionalKV_getRange_result_free(&res);
        GetRangeRequest_free(&q);
        if (!more)
            break;
    }
    free(begin.data);
}

static void check_acked_present(struct rep *r, int node, const struct writer *ws)
{
    KeyValue *all;
    uint32_t count;
    range_all(r, node, &all, &count);
    qsort(all, count, sizeof *all, cmp_key);
    char key[32];
    for (int i = 0; i < WRITERS; i++)
        for (int k = 0; k < atomic_load(&ws[i].count); k++) {
            if (ws[i].calls[k].outcome != CALL_OK)
                continue;
            writer_key(i, k, key, sizeof key);
            KeyValue probe = {.key = {.data = (uint8_t *)key, .len = (uint32_t)strlen(key)}};
            const KeyValue *kv = bsearch(&probe, all, count, sizeof probe, cmp_key);
            cr_assert(kv, "acknowledged %s is missing on node %d", key, node);
            cr_assert(kv->value.len == strlen(key) && !memcmp(kv->value.data, key, kv->value.len));
        }
    for (uint32_t i = 0; i < count; i++)
        KeyValue_free(&all[i]);
    free(all);
}

/* Counts every writer key set by the log's entries 1..last of the stopped node. */
static void count_log_sets(const char *data_dir, uint64_t last, uint8_t (*seen)[CALLS_MAX])
{
    char dir[400];
    snprintf(dir, sizeof dir, "%s/wal", data_dir);
    struct wal_config cfg;
    wal_config_default(&cfg, dir);
    struct wal *wal = NULL;
    struct wal_errmsg err;
    cr_assert_eq(wal_open(&cfg, &wal, &err), 0, "%s", err.text);
    cr_assert_eq(wal_first_index(wal), 1, "the log was compacted: it cannot be checked whole");
    cr_assert_geq(wal_last_index(wal), last);
    static struct wal_entry ents[256];
    static uint8_t buf[1 << 20];
    for (uint64_t from = 1; from <= last;) {
        size_t n = 0;
        cr_assert_eq(wal_read(wal, from, ents, 256, buf, sizeof buf, &n), 0);
        cr_assert_gt(n, 0);
        for (size_t i = 0; i < n && ents[i].index <= last; i++) {
            if (ents[i].len == 0)
                continue; /* a new leader's no-op */
            cr_assert_gt(ents[i].len, ENTRY_HEADER_BYTES);
            tp_reader rd;
            tp_reader_init(&rd, ents[i].data + ENTRY_HEADER_BYTES,
                           ents[i].len - ENTRY_HEADER_BYTES, NULL);
            KvCommand cmd;
            KvCommand_init(&cmd);
            cr_assert_eq(KvCommand_read(&cmd, &rd), 0, "entry %llu", (unsigned long long)from);
            int wr, k;
            char tail;
            if (cmd.has_set_key && cmd.set_key.key.len < 31) {
                char key[32];
                memcpy(key, cmd.set_key.key.data, cmd.set_key.key.len);
                key[cmd.set_key.key.len] = '\0';
                if (sscanf(key, "w%d-%d%c", &wr, &k, &tail) == 2 && wr >= 0 && wr < WRITERS &&
                    k >= 0 && k < CALLS_MAX) {
                    cr_assert_eq(seen[wr][k], 0, "%s is in the log twice", key);
                    seen[wr][k] = 1;
                }
            }
            KvCommand_free(&cmd);
        }
        from = ents[n - 1].index + 1;
    }
    wal_close(wal);
}

/* In the committed log: acknowledged writes once, refused ones never, the others at most
   once (their outcome was unknown, and nobody sent them again). */
static void check_log(struct rep *r, int node, const struct writer *ws)
{
    NodeInfo info;
    cr_assert_eq(rep_info(r, node, &info), 0);
    uint64_t applied = (uint64_t)info.status.applied_index;
    NodeInfo_free(&info);
    rep_disconnect(r, node);
    node_stop(&r->nodes[node], SIGTERM);
    uint8_t (*seen)[CALLS_MAX] = calloc(WRITERS, sizeof *seen);
    cr_assert(seen);
    char data_dir[300];
    snprintf(data_dir, sizeof data_dir, "%s/data", r->nodes[node].dir);
    count_log_sets(data_dir, applied, seen);
    char key[32];
    for (int i = 0; i < WRITERS; i++)
        for (int k = 0; k < atomic_load(&ws[i].count); k++) {
            writer_key(i, k, key, sizeof key);
            enum outcome o = ws[i].calls[k].outcome;
            if (o == CALL_OK)
                cr_assert_eq(seen[i][k], 1, "acknowledged %s is not in the log", key);
            if (o == CALL_REFUSED)
                cr_assert_eq(seen[i][k], 0, "%s was refused, yet it is in the log", key);
        }
    free(seen);
}

Test(rep_cutoff, a_leader_cut_off_under_16_writers_strands_no_write, .timeout = 170)
{
    struct rep r;
    rep_start(&r, "\"storage\": {\"snapshot_every_entries\": 0}");
    int old = rep_wait_leader(&r);
    NodeInfo info;
    cr_assert_eq(rep_info(&r, old, &info), 0);
    int64_t old_term = info.status.term;
    NodeInfo_free(&info);
    atomic_bool stop = false;
    struct writer *ws = calloc(WRITERS + READERS, sizeof *ws);
    cr_assert(ws);
    for (int i = 0; i < WRITERS + READERS; i++) {
        ws[i].id = i;
        ws[i].reads = i >= WRITERS;
        ws[i].addr = r.nodes[(old + 1 + i % 2) % REP_NODES].addr;
        ws[i].stop = &stop;
        ws[i].cut_addr = r.nodes[old].addr;
        ws[i].calls = calloc(CALLS_MAX, sizeof *ws[i].calls);
        cr_assert(ws[i].calls);
        cr_assert_eq(pthread_create(&ws[i].thread, NULL, writer_run, &ws[i]), 0);
    }
    wait_writers_ok(ws, 20);
    double cut = node_now();
    rep_isolate(&r, old);
    int fresh = -1;
    double elected = wait_new_leader(&r, old, old_term, &fresh);
    while (node_now() < elected + AFTER_S)
        usleep(10000);
    atomic_store(&stop, true);
    for (int i = 0; i < WRITERS + READERS; i++)
        pthread_join(ws[i].thread, NULL);
    check_bound(ws, cut, elected);
    rep_faults(&r, old, "");
    rep_wait_converged(&r);
    for (int n = 0; n < REP_NODES; n++)
        check_acked_present(&r, n, ws);
    check_log(&r, fresh, ws);
    for (int i = 0; i < WRITERS + READERS; i++)
        free(ws[i].calls);
    free(ws);
    rep_cleanup(&r);
}
