/* server_handle_read.c: reads served from the local store, after the linearizable gate when
   the client asks for it in replicated mode. */
#include "server_handlers.h"

#include "server_rep.h"
#include "server_vwait.h"

#include <stdlib.h>

/* A found value copied into a response (get and snapshotRead share the three fields). */
static int copy_value(int rc, const struct kv_read *rd, bool *found, bool *has_value,
                      tp_bytes *value)
{
    if (rc != 0)
        return rc;
    *found = true;
    *has_value = true;
    return tp_bytes_set(value, rd->value, rd->value_len) == 0 ? 0 : ErrorCode_INTERNAL;
}

static void serve_get(struct server_request *req, int code, const char *hint)
{
    TransactionalKV_get_args *a = req->args;
    TransactionalKV_get_result *res = req->result;
    GetResponse *out = &res->success;
    res->has_success = true;
    const kv_store *s = server_store(req->node);
    uint64_t v = kv_store_applied_version(s);
    out->has_version = true;
    out->version = (int64_t)v;
    struct kv_read rd;
    int rc = code ? code
             : a->has_request ? kv_store_get(s, a->request.key.data, a->request.key.len, v, &rd)
                              : ErrorCode_INVALID_ARGUMENT;
    if (!code)
        rc = copy_value(rc, &rd, &out->found, &out->has_value, &out->value);
    out->success = rc == 0 || rc == ErrorCode_NOT_FOUND;
    if (!out->success) {
        SERVER_SET_ERROR(out, rc);
        SERVER_SET_HINT(out, hint);
    }
    server_request_done(req);
}

void server_handle_get(struct server_request *req)
{
    TransactionalKV_get_args *a = req->args;
    server_read_gate(req, a->request.consistency != Consistency_SERIALIZABLE, serve_get);
}

/* Once the read version is applied here (code 0), or it was not in time (FUTURE_VERSION). */
static void serve_snapshot_read(struct server_request *req, int code)
{
    TransactionalKV_snapshotRead_args *a = req->args;
    TransactionalKV_snapshotRead_result *res = req->result;
    SnapshotReadResponse *out = &res->success;
    res->has_success = true;
    struct kv_read rd;
#if PLANTED_BUG_snapshot_read_newest /* planted bug (tools/mutants): reads the newest version */
    a->request.read_version = (int64_t)kv_store_applied_version(server_store(req->node));
#endif
    int rc = code ? code
                  : kv_store_get(server_store(req->node), a->request.key.data,
                                 a->request.key.len, (uint64_t)a->request.read_version, &rd);
    rc = copy_value(rc, &rd, &out->found, &out->has_value, &out->value);
    out->success = rc == 0 || rc == ErrorCode_NOT_FOUND;
    if (!out->success)
        SERVER_SET_ERROR(out, rc);
    server_request_done(req);
}

void server_handle_snapshot_read(struct server_request *req)
{
    TransactionalKV_snapshotRead_args *a = req->args;
    if (!a->has_request || a->request.read_version < 0)
        serve_snapshot_read(req, ErrorCode_INVALID_ARGUMENT);
    else   /* a version not applied here yet is waited for (bounded) */
        server_vwait(req, (uint64_t)a->request.read_version, serve_snapshot_read);
}

struct range_collect {
    GetRangeResponse *out;
    uint32_t cap;
    uint64_t bytes;          /* the encoded size of the pairs collected */
    uint64_t bytes_max;      /* what the reply leaves for them */
    bool full;               /* a pair did not fit: the reply has more */
};

/* collect's answer when the next pair would make the reply too long (not an ErrorCode). */
#define RANGE_FULL (-1)

static int collect(void *ctx, const uint8_t *key, size_t klen, const struct kv_read *r)
{
    struct range_collect *c = ctx;
    GetRangeResponse *out = c->out;
    uint64_t size = SERVER_REPLY_KV_OVERHEAD_BYTES + (uint64_t)klen + r->value_len;
    /* The first pair always goes, so a scan moves on even past a pair stored under larger
       limits than today's (the config check makes one pair at today's limits fit). */
    if (out->key_values.count > 0 && c->bytes + size > c->bytes_max) {
        c->full = true;
        return RANGE_FULL;
    }
    c->bytes += size;
    if (out->key_values.count == c->cap) {
        uint32_t cap = c->cap ? c->cap * 2 : 16;
        void *items = realloc(out->key_values.items, cap * sizeof *out->key_values.items);
        if (!items)
            return ErrorCode_INTERNAL;
        out->key_values.items = items;
        c->cap = cap;
    }
    KeyValue *kv = &out->key_values.items[out->key_values.count];
    KeyValue_init(kv);
    out->key_values.count++;
    if (tp_bytes_set(&kv->key, key, klen) != 0 || tp_bytes_set(&kv->value, r->value, r->value_len))
        return ErrorCode_INTERNAL;
    return 0;
}

/* The shared body of getRange and snapshotGetRange. */
static void serve_range(struct server_request *req, const tp_bytes *begin, const tp_bytes *end,
                        bool has_end, int64_t version, int32_t limit, bool reverse,
                        GetRangeResponse *out)
{
    uint32_t max = req->node->cfg->max_range_results;
    _Static_assert(SERVER_REPLY_BYTES_MIN > SERVER_REPLY_ENVELOPE_BYTES, "room for pairs");
    out->has_version = true;
    out->version = version;
    int rc = version < 0 || limit < 0 ? ErrorCode_INVALID_ARGUMENT : 0;
    struct kv_range r = {
        .begin = begin->data, .begin_len = begin->len,
        .end = has_end ? end->data : NULL, .end_len = has_end ? end->len : 0,
        .end_unbounded = !has_end, .version = (uint64_t)version,
        .limit = limit == 0 || (uint32_t)limit > max ? max : (uint32_t)limit,
        .reverse = reverse,
    };
    const struct server_config *cfg = req->node->cfg;
    struct range_collect c = {.out = out,
                              .bytes_max = cfg->max_reply_bytes - SERVER_REPLY_ENVELOPE_BYTES};
    uint32_t count = 0;
    bool more = false;
    if (rc == 0)
        rc = kv_store_range(server_store(req->node), &r, collect, &c, &count, &more);
    if (rc == RANGE_FULL)
        rc = 0;
    out->has_more = more || c.full;
    out->success = rc == 0;
    if (rc != 0)
        SERVER_SET_ERROR(out, rc);
    server_request_done(req);
}

static void serve_get_range(struct server_request *req, int code, const char *hint)
{
    TransactionalKV_getRange_args *a = req->args;
    TransactionalKV_getRange_result *res = req->result;
    res->has_success = true;
    if (code) {
        SERVER_SET_ERROR(&res->success, code);
        SERVER_SET_HINT(&res->success, hint);
        server_request_done(req);
        return;
    }
    const GetRangeRequest *q = &a->request;
    int64_t v = (int64_t)kv_store_applied_version(server_store(req->node));
    if (!a->has_request)
        v = -1;
    serve_range(req, &q->begin_key, &q->end_key, q->has_end_key, v, q->limit, q->reverse,
                &res->success);
}

void server_handle_get_range(struct server_request *req)
{
    TransactionalKV_getRange_args *a = req->args;
    server_read_gate(req, a->request.consistency != Consistency_SERIALIZABLE, serve_get_range);
}

static void serve_snapshot_get_range(struct server_request *req, int code)
{
    TransactionalKV_snapshotGetRange_args *a = req->args;
    TransactionalKV_snapshotGetRange_result *res = req->result;
    res->has_success = true;
    if (code) {
        SERVER_SET_ERROR(&res->success, code);
        server_request_done(req);
        return;
    }
    const SnapshotGetRangeRequest *q = &a->request;
    serve_range(req, &q->begin_key, &q->end_key, q->has_end_key, q->read_version, q->limit,
                q->reverse, &res->success);
}

void server_handle_snapshot_get_range(struct server_request *req)
{
    TransactionalKV_snapshotGetRange_args *a = req->args;
    if (!a->has_request || a->request.read_version < 0)
        serve_snapshot_get_range(req, ErrorCode_INVALID_ARGUMENT);
    else
        server_vwait(req, (uint64_t)a->request.read_version, serve_snapshot_get_range);
}

static void serve_read_version(struct server_request *req, int code, const char *hint)
{
    TransactionalKV_getReadVersion_result *res = req->result;
    res->has_success = true;
    res->success.version = (int64_t)kv_store_applied_version(server_store(req->node));
    res->success.success = code == 0;
    if (code) {
        SERVER_SET_ERROR(&res->success, code);
        SERVER_SET_HINT(&res->success, hint);
    }
    server_request_done(req);
}

void server_handle_get_read_version(struct server_request *req)
{
    TransactionalKV_getReadVersion_args *a = req->args;
    server_read_gate(req, a->request.consistency != Consistency_SERIALIZABLE, serve_read_version);
}

static void gate_done(void *ctx, int code, const char *hint)
{
    struct server_request *req = ctx;
    req->gate_next(req, code, hint);
}

void server_read_gate(struct server_request *req, bool linearizable,
                      void (*next)(struct server_request *req, int code, const char *hint))
{
#if PLANTED_BUG_read_local /* planted bug (tools/mutants): LINEARIZABLE reads served locally */
    linearizable = false;
#endif
    if (!req->node->rep || !linearizable) {
        next(req, 0, NULL);
        return;
    }
    req->gate_next = next;
    server_rep_read(req->node, gate_done, req);
}

void server_handle_get_committed_version(struct server_request *req)
{
    TransactionalKV_getCommittedVersion_result *res = req->result;
    res->has_success = true;
    res->success.version = (int64_t)kv_store_applied_version(server_store(req->node));
    res->success.success = true;
    server_request_done(req);
}
