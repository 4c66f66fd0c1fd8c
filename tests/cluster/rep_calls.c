/* rep_calls.c: caller threads for the failover tests, and the checks on what they wrote. */
#include "rep_calls.h"

#include "consensus.h"
#include "wal.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CALL_TIMEOUT_MS 8000
#define RANGE_PAGE 10000
/* The log entry's clock header (src/server/server_entry.h, SERVER_ENTRY_HEADER_SIZE). */
#define ENTRY_HEADER_BYTES 8u

const char *const rep_outcome_names[CALL_OUTCOMES] = {"ok", "timeout", "refused", "lost",
                                                      "other"};

static void caller_key(int caller, int call, char *out, size_t size)
{
    snprintf(out, size, "w%02d-%06d", caller, call);
}

/* The caller's connection, opened when it is not; false when it could not be. */
static bool caller_connect(struct rep_caller *c)
{
    if (c->connected)
        return true;
    if (net_client_connect(&c->cl, c->addr, true, CALL_TIMEOUT_MS) != NET_OK) {
        net_client_close(&c->cl);
        return false;
    }
    return c->connected = true;
}

static void caller_drop(struct rep_caller *c)
{
    net_client_close(&c->cl);
    c->connected = false;
}

static bool names(const tp_bytes *hint, const char *addr)
{
    return hint->len == strlen(addr) && !memcmp(hint->data, addr, hint->len);
}

/* One set; nothing sent means nothing can be applied (refused). */
static enum rep_outcome call_set(struct rep_caller *c, const char *key, struct rep_call *call)
{
    if (!caller_connect(c))
        return CALL_REFUSED;
    SetRequest q;
    SetRequest_init(&q);
    tp_bytes_set_str(&q.key, key);
    tp_bytes_set_str(&q.value, key);
    TransactionalKV_setKey_result res;
    TransactionalKV_setKey_result_init(&res);
    int32_t seq = ++c->seqid;
    int rc = test_send(&c->cl, TEST_METHOD(setKey), seq, &q, NULL);
    bool sent = rc == 0;
    if (sent)
        rc = test_recv(&c->cl, TEST_METHOD(setKey), seq, &res, NULL);
    enum rep_outcome out = CALL_OTHER;
    const SetResponse *s = &res.success;
    if (rc != 0 || !res.has_success) {
        caller_drop(c);
        out = sent ? CALL_LOST : CALL_REFUSED;
    } else if (s->success) {
        out = CALL_OK;
    } else {
        call->code = s->has_error_code ? (int)s->error_code : -1;
        call->hint_cut = s->has_leader_hint && names(&s->leader_hint, c->cut_addr);
        out = call->code == ErrorCode_TIMEOUT ? CALL_TIMEOUT
              : rep_refused(s->success, s->has_error_code, s->error_code) ? CALL_REFUSED
                                                                          : CALL_OTHER;
    }
    TransactionalKV_setKey_result_free(&res);
    SetRequest_free(&q);
    return out;
}

/* One linearizable get; a read changes nothing, so any error is a refusal. */
static enum rep_outcome call_get(struct rep_caller *c, const char *key, struct rep_call *call)
{
    if (!caller_connect(c))
        return CALL_REFUSED;
    GetRequest q;
    GetRequest_init(&q);
    tp_bytes_set_str(&q.key, key);
    TransactionalKV_get_result res;
    TransactionalKV_get_result_init(&res);
    int32_t seq = ++c->seqid;
    int rc = test_send(&c->cl, TEST_METHOD(get), seq, &q, NULL);
    if (rc == 0)
        rc = test_recv(&c->cl, TEST_METHOD(get), seq, &res, NULL);
    enum rep_outcome out = CALL_OK;
    const GetResponse *g = &res.success;
    if (rc != 0 || !res.has_success) {
        caller_drop(c);
        out = CALL_LOST;
    } else if (!g->success) {
        call->code = g->has_error_code ? (int)g->error_code : -1;
        call->hint_cut = g->has_leader_hint && names(&g->leader_hint, c->cut_addr);
        out = CALL_REFUSED;
    }
    TransactionalKV_get_result_free(&res);
    GetRequest_free(&q);
    return out;
}

static void *caller_run(void *arg)
{
    struct rep_caller *c = arg;
    char key[32];
    for (int i = 0; i < REP_CALLS_MAX && !atomic_load(c->stop); i++) {
        struct rep_call *call = &c->calls[i];
        caller_key(c->reads ? 0 : c->id, c->reads ? 0 : i, key, sizeof key);
        call->code = -1;
        call->start = node_now();
        call->outcome = c->reads ? call_get(c, key, call) : call_set(c, key, call);
        call->end = node_now();
        atomic_fetch_add(&c->ok, call->outcome == CALL_OK);
        atomic_store(&c->count, i + 1);
    }
    if (c->connected)
        caller_drop(c);
    return NULL;
}

void rep_caller_start(struct rep_caller *c, int id, bool reads, const char *addr,
                      const char *cut_addr, atomic_bool *stop)
{
    cr_assert(id >= 0 && id < REP_CALLERS_MAX);
    c->id = id;
    c->reads = reads;
    c->addr = addr;
    c->cut_addr = cut_addr;
    c->stop = stop;
    c->calls = calloc(REP_CALLS_MAX, sizeof *c->calls);
    cr_assert(c->calls);
    cr_assert_eq(pthread_create(&c->thread, NULL, caller_run, c), 0);
}

void rep_caller_join(struct rep_caller *c)
{
    pthread_join(c->thread, NULL);
}

void rep_caller_free(struct rep_caller *c)
{
    free(c->calls);
    c->calls = NULL;
}

void rep_callers_wait_ok(struct rep_caller *cs, int count, int each)
{
    double deadline = node_now() + REP_WAIT_S;
    for (int i = 0; i < count; i++)
        while (atomic_load(&cs[i].ok) < each) {
            cr_assert_lt(node_now(), deadline, "caller %d has %d acknowledged calls", i,
                         atomic_load(&cs[i].ok));
            usleep(5000);
        }
}

static int cmp_key(const void *a, const void *b)
{
    const KeyValue *x = a, *y = b;
    size_t n = x->key.len < y->key.len ? x->key.len : y->key.len;
    int c = memcmp(x->key.data, y->key.data, n);
    return c ? c : (x->key.len > y->key.len) - (x->key.len < y->key.len);
}

static void keep_pair(KeyValue **out, uint32_t *count, uint32_t *cap, const KeyValue *from)
{
    if (*count == *cap) {
        *cap = *cap ? *cap * 2 : 4096;
        *out = realloc(*out, *cap * sizeof **out);
        cr_assert(*out);
    }
    KeyValue *kv = &(*out)[(*count)++];
    KeyValue_init(kv);
    tp_bytes_set(&kv->key, from->key.data, from->key.len);
    tp_bytes_set(&kv->value, from->value.data, from->value.len);
}

/* Every pair on node (serializable reads of its state), page by page. */
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
        q.limit = RANGE_PAGE;
        q.has_consistency = true;
        q.consistency = Consistency_SERIALIZABLE;
        TransactionalKV_getRange_result res;
        TransactionalKV_getRange_result_init(&res);
        struct net_client *c = rep_client(r, node);
        int rc = test_send(c, TEST_METHOD(getRange), seq, &q, NULL);
        if (rc == 0)
            rc = test_recv(c, TEST_METHOD(getRange), seq, &res, NULL);
        cr_assert(rc == 0 && res.has_success && res.success.success, "range on node %d", node);
        const GetRangeResponse *g = &res.success;
        for (uint32_t i = 0; i < g->key_values.count; i++)
            keep_pair(out, count, &cap, &g->key_values.items[i]);
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

void rep_check_acked_present(struct rep *r, int node, const struct rep_caller *cs, int count)
{
    KeyValue *all;
    uint32_t pairs;
    range_all(r, node, &all, &pairs);
    qsort(all, pairs, sizeof *all, cmp_key);
    char key[32];
    for (int i = 0; i < count; i++)
        for (int k = 0; !cs[i].reads && k < atomic_load(&cs[i].count); k++) {
            if (cs[i].calls[k].outcome != CALL_OK)
                continue;
            caller_key(cs[i].id, k, key, sizeof key);
            KeyValue probe = {.key = {.data = (uint8_t *)key, .len = (uint32_t)strlen(key)}};
            const KeyValue *kv = bsearch(&probe, all, pairs, sizeof probe, cmp_key);
            cr_assert(kv, "acknowledged %s is missing on node %d", key, node);
            cr_assert(kv->value.len == strlen(key) && !memcmp(kv->value.data, key, kv->value.len));
        }
    for (uint32_t i = 0; i < pairs; i++)
        KeyValue_free(&all[i]);
    free(all);
}

/* Counts the caller key a log entry sets in seen[caller][call]; asserts it is the first. */
static void count_entry(const struct wal_entry *e, uint8_t (*seen)[REP_CALLS_MAX])
{
    if (e->len == 0)
        return; /* a new leader's no-op */
    if (e->len >= CONSENSUS_MEMBERSHIP_MAGIC_LEN &&
        memcmp(e->data, CONSENSUS_MEMBERSHIP_MAGIC, CONSENSUS_MEMBERSHIP_MAGIC_LEN - 1) == 0)
        return; /* a config entry (member identity binds the members through one) */
    cr_assert_gt(e->len, ENTRY_HEADER_BYTES);
    tp_reader rd;
    tp_reader_init(&rd, e->data + ENTRY_HEADER_BYTES, e->len - ENTRY_HEADER_BYTES, NULL);
    KvCommand cmd;
    KvCommand_init(&cmd);
    cr_assert_eq(KvCommand_read(&cmd, &rd), 0, "entry %llu", (unsigned long long)e->index);
    int caller, call;
    char tail;
    if (cmd.has_set_key && cmd.set_key.key.len < 31) {
        char key[32];
        memcpy(key, cmd.set_key.key.data, cmd.set_key.key.len);
        key[cmd.set_key.key.len] = '\0';
        if (sscanf(key, "w%d-%d%c", &caller, &call, &tail) == 2 && caller >= 0 &&
            caller < REP_CALLERS_MAX && call >= 0 && call < REP_CALLS_MAX) {
            cr_assert_eq(seen[caller][call], 0, "%s is in the log twice", key);
            seen[caller][call] = 1;
        }
    }
    KvCommand_free(&cmd);
}

/* Counts every caller key set by the log's entries 1..last of the stopped node. */
static void count_log_sets(const char *data_dir, uint64_t last, uint8_t (*seen)[REP_CALLS_MAX])
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
        for (size_t i = 0; i < n && ents[i].index <= last; i++)
            count_entry(&ents[i], seen);
        from = ents[n - 1].index + 1;
    }
    wal_close(wal);
}

void rep_check_log(struct rep *r, int node, const struct rep_caller *cs, int count)
{
    NodeInfo info;
    cr_assert_eq(rep_info(r, node, &info), 0);
    uint64_t applied = (uint64_t)info.status.applied_index;
    NodeInfo_free(&info);
    rep_disconnect(r, node);
    node_stop(&r->nodes[node], SIGTERM);
    uint8_t (*seen)[REP_CALLS_MAX] = calloc(REP_CALLERS_MAX, sizeof *seen);
    cr_assert(seen);
    char data_dir[300];
    snprintf(data_dir, sizeof data_dir, "%s/data", r->nodes[node].dir);
    count_log_sets(data_dir, applied, seen);
    char key[32];
    for (int i = 0; i < count; i++)
        for (int k = 0; !cs[i].reads && k < atomic_load(&cs[i].count); k++) {
            caller_key(cs[i].id, k, key, sizeof key);
            enum rep_outcome o = cs[i].calls[k].outcome;
            if (o == CALL_OK)
                cr_assert_eq(seen[cs[i].id][k], 1, "acknowledged %s is not in the log", key);
            if (o == CALL_REFUSED)
                cr_assert_eq(seen[cs[i].id][k], 0, "%s was refused, yet it is in the log", key);
        }
    free(seen);
}
