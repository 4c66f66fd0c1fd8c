/* interop_cases.c: the C half of the named interop cases (interop.py: named_cases). */
#include "interop_cases.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "kvstore.h"

static void bset(tp_bytes *b, const void *data, size_t len)
{
    if (tp_bytes_set(b, data, len) != 0)
        abort(); /* a test cannot go on without its values */
}

/* A literal's bytes, embedded NULs included (but not the terminating one). */
#define BSET(field, lit) bset(&(field), (lit), sizeof(lit) - 1)
#define OSET(s, field, lit)                                                                  \
    do {                                                                                     \
        (s)->has_##field = true;                                                             \
        BSET((s)->field, lit);                                                               \
    } while (0)
#define OVAL(s, field, v)                                                                    \
    do {                                                                                     \
        (s)->has_##field = true;                                                             \
        (s)->field = (v);                                                                    \
    } while (0)

static void *list_alloc(size_t count, size_t size)
{
    void *items = calloc(count, size);
    if (items == NULL)
        abort();
    return items;
}

static void ping_call(void *p)
{
    TransactionalKV_ping_args *a = p;
    a->has_request = true;
    OSET(&a->request, message, "hello, thrift");
}

static void ping_call_unset(void *p)
{
    TransactionalKV_ping_args *a = p;
    a->has_request = true;
}

static void ping_reply(void *p)
{
    TransactionalKV_ping_result *r = p;
    r->has_success = true;
    BSET(r->success.message, "pong \xc3\xa9\xe4\xb8\x96");
    r->success.timestamp_us = 1700000000123456;
    OSET(&r->success, node_id, "n1");
}

static void get_call_unset_optionals(void *p)
{
    TransactionalKV_get_args *a = p;
    a->has_request = true;
    BSET(a->request.key, "\x00key\xff");
}

static void get_call_serializable(void *p)
{
    TransactionalKV_get_args *a = p;
    a->has_request = true;
    BSET(a->request.key, "\xff");
    OVAL(&a->request, consistency, Consistency_SERIALIZABLE);
}

static void get_reply_found(void *p)
{
    TransactionalKV_get_result *r = p;
    r->has_success = true;
    r->success.found = true;
    OSET(&r->success, value, "\x00\x01\xfe\xff");
    r->success.success = true;
    OVAL(&r->success, version, 42);
}

static void get_reply_not_leader(void *p)
{
    TransactionalKV_get_result *r = p;
    r->has_success = true;
    r->success.found = false;
    r->success.success = false;
    OSET(&r->success, error, "not the leader");
    OVAL(&r->success, error_code, ErrorCode_NOT_LEADER);
    OSET(&r->success, leader_hint, "127.0.0.1:7001");
}

static void set_call(void *p)
{
    TransactionalKV_setKey_args *a = p;
    a->has_request = true;
    BSET(a->request.key, "\x00\x00");
    BSET(a->request.value, "");
}

static void set_reply(void *p)
{
    TransactionalKV_setKey_result *r = p;
    r->has_success = true;
    r->success.success = true;
    OVAL(&r->success, version, INT64_MAX);
}

static void delete_reply(void *p)
{
    TransactionalKV_deleteKey_result *r = p;
    r->has_success = true;
    r->success.success = true;
    OVAL(&r->success, version, INT64_MIN);
    OVAL(&r->success, found, false);
}

static void getrange_call(void *p)
{
    TransactionalKV_getRange_args *a = p;
    a->has_request = true;
    BSET(a->request.begin_key, "");
    OSET(&a->request, end_key, "\xff\xff");
    OVAL(&a->request, limit, 100);
    OVAL(&a->request, reverse, true);
}

static void getrange_reply(void *p)
{
    TransactionalKV_getRange_result *r = p;
    r->has_success = true;
    GetRangeResponse *g = &r->success;
    g->key_values.count = 3;
    g->key_values.items = list_alloc(3, sizeof(KeyValue));
    BSET(g->key_values.items[0].key, "\x00");
    BSET(g->key_values.items[0].value, "zero");
    BSET(g->key_values.items[1].key, "a\x00" "b");
    BSET(g->key_values.items[1].value, "\xff\xff\xff");
    BSET(g->key_values.items[2].key, "\xff");
    BSET(g->key_values.items[2].value, "");
    g->has_more = true;
    g->success = true;
    OVAL(g, version, 7);
}

static void getrange_reply_empty(void *p)
{
    TransactionalKV_snapshotGetRange_result *r = p;
    r->has_success = true;
    r->success.has_more = false;
    r->success.success = true;
}

static void atomic_commit_request(AtomicCommitRequest *c)
{
    c->read_version = 99;
    c->operations.count = 3;
    c->operations.items = list_alloc(3, sizeof(Operation));
    Operation *op = c->operations.items;
    op[0].type = OperationType_SET;
    BSET(op[0].key, "k\x00");
    OSET(&op[0], value, "v\xff");
    op[1].type = OperationType_DELETE;
    BSET(op[1].key, "gone");
    op[2].type = OperationType_CLEAR_RANGE;
    BSET(op[2].key, "a");
    OSET(&op[2], end_key, "b\xff");
    c->has_read_conflict_keys = true;
    c->read_conflict_keys.count = 3;
    c->read_conflict_keys.items = list_alloc(3, sizeof(tp_bytes));
    BSET(c->read_conflict_keys.items[0], "\x00");
    BSET(c->read_conflict_keys.items[1], "\xff");
    BSET(c->read_conflict_keys.items[2], "");
    c->has_read_conflict_ranges = true;
    c->read_conflict_ranges.count = 2;
    c->read_conflict_ranges.items = list_alloc(2, sizeof(KeyRange));
    BSET(c->read_conflict_ranges.items[0].begin_key, "a");
    OSET(&c->read_conflict_ranges.items[0], end_key, "b");
    BSET(c->read_conflict_ranges.items[1].begin_key, "\xff");
}

static void atomic_commit_call(void *p)
{
    TransactionalKV_atomicCommit_args *a = p;
    a->has_request = true;
    atomic_commit_request(&a->request);
}

static void atomic_commit_reply_conflict(void *p)
{
    TransactionalKV_atomicCommit_result *r = p;
    r->has_success = true;
    r->success.success = false;
    OSET(&r->success, error, "conflict on k");
    OVAL(&r->success, error_code, ErrorCode_CONFLICT);
}

static void node_status(NodeStatus *n, const char *id, const char *endpoint, NodeRole role)
{
    bset(&n->node_id, id, strlen(id));
    bset(&n->endpoint, endpoint, strlen(endpoint));
    n->role = role;
    n->term = 3;
    n->commit_index = 10;
    n->applied_index = 10;
    n->last_log_index = 11;
    n->reachable = true;
}

static void cluster_health_reply(void *p)
{
    TransactionalKV_getClusterHealth_result *r = p;
    r->has_success = true;
    ClusterHealth *h = &r->success;
    h->healthy = true;
    OSET(h, leader_id, "n2");
    h->term = 3;
    h->nodes.count = 2;
    h->nodes.items = list_alloc(2, sizeof(NodeStatus));
    node_status(&h->nodes.items[0], "n1", "127.0.0.1:7001", NodeRole_FOLLOWER);
    OVAL(&h->nodes.items[0], match_index, 11);
    OVAL(&h->nodes.items[0], last_contact_ms, 5);
    node_status(&h->nodes.items[1], "n2", "127.0.0.1:7002", NodeRole_LEADER);
    OSET(&h->nodes.items[1], state_digest, "ab01");
    h->success = true;
}

static void append_entry_call(void *p)
{
    TransactionalKV_appendEntry_args *a = p;
    a->has_request = true;
    AppendEntryRequest *e = &a->request;
    BSET(e->leader_id, "n2");
    e->has_entry = true;
    e->entry.index = 5;
    e->entry.term = 2;
    BSET(e->entry.data, "\x0c\x00\x01");
    e->entry.timestamp = 1700000000000000;
    e->prev_log_index = 4;
    e->prev_log_term = 2;
    e->leader_term = 2;
    e->has_entries = true;
    e->entries.count = 2;
    e->entries.items = list_alloc(2, sizeof(ConsensusLogEntry));
    e->entries.items[0] = (ConsensusLogEntry){.index = 6, .term = 2, .timestamp = 1};
    e->entries.items[1] = (ConsensusLogEntry){.index = 7, .term = 2, .timestamp = 2};
    BSET(e->entries.items[1].data, "\xff\x00");
    OVAL(e, leader_commit, 4);
}

static void append_entry_peer_error(void *p)
{
    TransactionalKV_appendEntry_result *r = p;
    r->has_error = true;
    r->error.code = ErrorCode_UNAUTHORIZED;
    BSET(r->error.message, "peer not authenticated");
}

static void request_vote_reply(void *p)
{
    TransactionalKV_requestVote_result *r = p;
    r->has_success = true;
    BSET(r->success.node_id, "n3");
    r->success.term = 4;
    r->success.vote_granted = true;
    OVAL(&r->success, pre_vote, true);
}

static void install_snapshot_call(void *p)
{
    TransactionalKV_installSnapshot_args *a = p;
    a->has_request = true;
    InstallSnapshotRequest *s = &a->request;
    BSET(s->leader_id, "n1");
    s->leader_term = 5;
    s->last_included_index = 100;
    s->last_included_term = 4;
    s->offset = 0;
    uint8_t all[256];
    for (size_t i = 0; i < sizeof all; i++)
        all[i] = (uint8_t)i;
    bset(&s->data, all, sizeof all);
    s->done = true;
    OVAL(s, total_size, 256);
    OVAL(s, crc32c, -123456789);
}

static void app_exception_unknown_method(void *p)
{
    tp_app_exception *e = p;
    e->type = TP_APPEX_UNKNOWN_METHOD;
    BSET(e->message, "Unknown function frobnicate");
}

static void app_exception_internal(void *p)
{
    tp_app_exception *e = p;
    e->type = TP_APPEX_INTERNAL_ERROR;
    BSET(e->message, "internal error");
}

static void kvcommand_set(void *p)
{
    KvCommand *c = p;
    c->has_set_key = true;
    BSET(c->set_key.key, "\x00");
    BSET(c->set_key.value, "\xff");
}

static void kvcommand_atomic(void *p)
{
    KvCommand *c = p;
    c->has_atomic_commit = true;
    c->atomic_commit.read_version = 1;
    c->atomic_commit.operations.count = 1;
    c->atomic_commit.operations.items = list_alloc(1, sizeof(Operation));
    Operation *op = c->atomic_commit.operations.items;
    op->type = OperationType_SET;
    BSET(op->key, "k");
    OSET(op, value, "v");
}

static void kvcommand_noop(void *p)
{
    KvCommand *c = p;
    c->has_noop = true;
}

static void kvcommand_clear_range(void *p)
{
    KvCommand *c = p;
    c->has_clear_range = true;
    BSET(c->clear_range.begin_key, "");
    BSET(c->clear_range.end_key, "\xff");
}

#define CALL(name, m, seqid) {#name, IC_CALL, TransactionalKV_METHOD_##m, NULL, seqid, name}
#define REPLY(name, m, seqid) {#name, IC_REPLY, TransactionalKV_METHOD_##m, NULL, seqid, name}

const ic_case ic_cases[] = {
    CALL(ping_call, ping, 1),
    CALL(ping_call_unset, ping, 0),
    REPLY(ping_reply, ping, 1),
    CALL(get_call_unset_optionals, get, 2),
    CALL(get_call_serializable, get, 3),
    REPLY(get_reply_found, get, 2),
    REPLY(get_reply_not_leader, get, 3),
    CALL(set_call, setKey, INT32_MAX),
    REPLY(set_reply, setKey, -1),
    REPLY(delete_reply, deleteKey, 5),
    CALL(getrange_call, getRange, 6),
    REPLY(getrange_reply, getRange, 6),
    REPLY(getrange_reply_empty, snapshotGetRange, 7),
    CALL(atomic_commit_call, atomicCommit, 8),
    REPLY(atomic_commit_reply_conflict, atomicCommit, 8),
    REPLY(cluster_health_reply, getClusterHealth, 9),
    CALL(append_entry_call, appendEntry, 10),
    REPLY(append_entry_peer_error, appendEntry, 11),
    REPLY(request_vote_reply, requestVote, 12),
    CALL(install_snapshot_call, installSnapshot, 13),
    {"app_exception_unknown_method", IC_EXCEPTION, -1, "frobnicate", 14,
     app_exception_unknown_method},
    {"app_exception_internal", IC_EXCEPTION, -1, "setKey", 15, app_exception_internal},
    {"kvcommand_set", IC_STRUCT, -1, NULL, 0, kvcommand_set},
    {"kvcommand_atomic", IC_STRUCT, -1, NULL, 0, kvcommand_atomic},
    {"kvcommand_noop", IC_STRUCT, -1, NULL, 0, kvcommand_noop},
    {"kvcommand_clear_range", IC_STRUCT, -1, NULL, 0, kvcommand_clear_range},
};
const size_t ic_case_count = sizeof ic_cases / sizeof ic_cases[0];
