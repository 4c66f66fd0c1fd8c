/* client.c: one worker's blocking connection and the register ops over the Thrift API, each
   classified ok / fail (definitely not applied) / info (outcome unknown). */
#include "client_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kvt_conn_init(struct kvt_conn *k, const struct kvt_cluster *c, int node, int timeout_ms)
{
    memset(k, 0, sizeof *k);
    k->cluster = c;
    k->node = node;
    k->timeout_ms = timeout_ms;
    k->leader_hint = -1;
    k->version = -1;
    tp_buf_init(&k->out);
}

void kvt_conn_free(struct kvt_conn *k)
{
    if (k->connected)
        net_sync_close(&k->client);
    k->connected = false;
    tp_buf_free(&k->out);
}

void kvt_conn_drop(struct kvt_conn *k)
{
    if (k->connected)
        net_sync_close(&k->client);
    k->connected = false;
}

enum call_status kvt_roundtrip(struct kvt_conn *k, tp_reader *r)
{
    if (k->out.failed)
        return CALL_NOT_SENT;
    if (!k->connected) {
        const char *addr = k->cluster->nodes[k->node].addr;
        if (net_sync_connect(&k->client, addr, true, NULL, (uint32_t)k->timeout_ms) != NET_OK) {
            net_sync_close(&k->client);
            return CALL_NOT_SENT;
        }
        k->connected = true;
    }
    const uint8_t *msg;
    size_t len;
    if (net_sync_call(&k->client, k->out.data, k->out.len, k->seqid, (uint32_t)k->timeout_ms,
                      &msg, &len) != NET_OK) {
        kvt_conn_drop(k);   /* a late reply must never be taken for the next call's */
        return CALL_UNKNOWN;
    }
    tp_reader_init(r, msg, len, NULL);
    return CALL_OK;
}

void kvt_key_bytes(uint32_t key, tp_bytes *out)
{
    char text[32];
    snprintf(text, sizeof text, "kvt-%" PRIu32, key);
    tp_bytes_set_str(out, text);
}

void kvt_value_bytes(int64_t v, tp_bytes *out)
{
    char text[32];
    snprintf(text, sizeof text, "%" PRId64, v);
    tp_bytes_set_str(out, text);
}

/* A value we never write (it fails the check) when the bytes are not one of ours. */
#define KVT_FOREIGN_VALUE (-1)

int64_t kvt_parse_value(bool found, const tp_bytes *b)
{
    if (!found)
        return KVT_NIL;
    char text[32];
    if (!b->data || b->len == 0 || b->len >= sizeof text)
        return KVT_FOREIGN_VALUE;
    memcpy(text, b->data, b->len);
    text[b->len] = '\0';
    char *end;
    long long v = strtoll(text, &end, 10);
    return *end || v <= 0 ? KVT_FOREIGN_VALUE : (int64_t)v;
}

/* What a server error code means for an op that asked for a change. A node answers TIMEOUT
   whenever the write may have entered a log (proposed, forwarded, or in flight when storage
   failed or the node stopped); every other error code is definite: the write did not happen,
   and the checker holds the node to that. */
enum kvt_outcome kvt_write_error(struct kvt_conn *k, bool has_code, int code,
                                    bool has_hint, const tp_bytes *hint)
{
    if (has_code && code == ErrorCode_NOT_LEADER && has_hint && hint->data)
        k->leader_hint = kvt_cluster_node_of(k->cluster, (const char *)hint->data, hint->len);
    if (!has_code)
        return KVT_INFO;
    if (code == ErrorCode_NOT_MEMBER) {
        /* A node removed from the cluster: it refuses at the door (server_rep_propose and
           server_rep_read ask server_member_serving before anything is proposed, forwarded
           or read), and a follower relays that refusal only from a leader that made it the
           same way, so the write did not happen. Another node must take the next op: the
           connection goes, and the worker picks one at random (worker.c: reroute). */
        kvt_conn_drop(k);
        return KVT_FAIL;
    }
    switch (code) {
    case ErrorCode_NOT_LEADER:
    case ErrorCode_CONFLICT:
    case ErrorCode_TRANSACTION_TOO_OLD:
    case ErrorCode_FUTURE_VERSION:
    case ErrorCode_KEY_TOO_LARGE:
    case ErrorCode_VALUE_TOO_LARGE:
    case ErrorCode_TRANSACTION_TOO_LARGE:
    case ErrorCode_INVALID_ARGUMENT:
    case ErrorCode_UNAVAILABLE:
    case ErrorCode_BUSY:
    case ErrorCode_UNAUTHORIZED:
    case ErrorCode_SHUTTING_DOWN:
    case ErrorCode_INTERNAL:
    case ErrorCode_NO_SPACE:
        return KVT_FAIL;
    default:   /* TIMEOUT, or a code this build does not know: maybe applied */
        return KVT_INFO;
    }
}

enum kvt_outcome kvt_transport_outcome(enum call_status st)
{
    return st == CALL_NOT_SENT ? KVT_FAIL : KVT_INFO;
}

void kvt_op_read(struct kvt_conn *k, struct kvt_op *op)
{
    GetRequest req;
    GetRequest_init(&req);
    kvt_key_bytes(op->key, &req.key);
    req.has_consistency = true;
    req.consistency = Consistency_LINEARIZABLE;
    TransactionalKV_get_result res;
    TransactionalKV_get_result_init(&res);
    enum call_status st;
    op->node = k->node;
    k->version = -1;
    KVT_CALL(st, k, get, &req, &res);
    const GetResponse *g = &res.success;
    if (st != CALL_OK)
        op->outcome = kvt_transport_outcome(st);
    else if (!g->success) {
        kvt_write_error(k, g->has_error_code, g->error_code, g->has_leader_hint, &g->leader_hint);
        op->outcome = KVT_FAIL;   /* a read that did not answer changed nothing */
    } else {
        op->outcome = KVT_OK;
        op->value = kvt_parse_value(g->found, &g->value);
        k->version = g->has_version ? g->version : -1;
    }
    TransactionalKV_get_result_free(&res);
    GetRequest_free(&req);
}

void kvt_op_write(struct kvt_conn *k, struct kvt_op *op)
{
    SetRequest req;
    SetRequest_init(&req);
    kvt_key_bytes(op->key, &req.key);
    kvt_value_bytes(op->value, &req.value);
    TransactionalKV_setKey_result res;
    TransactionalKV_setKey_result_init(&res);
    enum call_status st;
    op->node = k->node;
    KVT_CALL(st, k, setKey, &req, &res);
    const SetResponse *s = &res.success;
    if (st != CALL_OK)
        op->outcome = kvt_transport_outcome(st);
    else if (!s->success)
        op->outcome = kvt_write_error(k, s->has_error_code, s->error_code, s->has_leader_hint,
                                  &s->leader_hint);
    else
        op->outcome = KVT_OK;
    k->version = op->outcome == KVT_OK && s->has_version ? s->version : -1;
    TransactionalKV_setKey_result_free(&res);
    SetRequest_free(&req);
}
