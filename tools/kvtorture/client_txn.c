/* client_txn.c: compare-and-set as an optimistic transaction (read version, snapshot read,
   commit with the key as a read conflict), and the status calls of the final phase. */
#include "client_internal.h"

#include <stdlib.h>

/* Step 1: a linearizable read version; -1 when none (the cas then did not happen). */
int64_t kvt_read_version(struct kvt_conn *k)
{
    GetReadVersionRequest req;
    GetReadVersionRequest_init(&req);
    req.has_consistency = true;
    req.consistency = Consistency_LINEARIZABLE;
    TransactionalKV_getReadVersion_result res;
    TransactionalKV_getReadVersion_result_init(&res);
    enum call_status st;
    KVT_CALL(st, k, getReadVersion, &req, &res);
    const GetReadVersionResponse *g = &res.success;
    int64_t v = st == CALL_OK && g->success ? g->version : -1;
    if (st == CALL_OK && !g->success)
        kvt_write_error(k, g->has_error_code, g->error_code, g->has_leader_hint, &g->leader_hint);
    TransactionalKV_getReadVersion_result_free(&res);
    GetReadVersionRequest_free(&req);
    return v;
}

int kvt_snapshot_read(struct kvt_conn *k, const tp_bytes *key, int64_t rv, int64_t *value)
{
    SnapshotReadRequest req;
    SnapshotReadRequest_init(&req);
    tp_bytes_set(&req.key, key->data, key->len);
    req.read_version = rv;
    TransactionalKV_snapshotRead_result res;
    TransactionalKV_snapshotRead_result_init(&res);
    enum call_status st;
    KVT_CALL(st, k, snapshotRead, &req, &res);
    const SnapshotReadResponse *s = &res.success;
    int rc = st == CALL_OK && s->success ? 0 : -1;
    if (rc == 0)
        *value = kvt_parse_value(s->found, &s->value);
    TransactionalKV_snapshotRead_result_free(&res);
    SnapshotReadRequest_free(&req);
    return rc;
}

/* Step 3: set the key, conflicting with any change to it after rv. */
static enum kvt_outcome commit(struct kvt_conn *k, tp_bytes *key, int64_t rv, int64_t value)
{
    Operation op;
    Operation_init(&op);
    op.type = OperationType_SET;
    op.key = *key;
    op.has_value = true;
    kvt_value_bytes(value, &op.value);
    AtomicCommitRequest req;
    AtomicCommitRequest_init(&req);
    req.read_version = rv;
    req.operations = (list_Operation){&op, 1};
    req.has_read_conflict_keys = true;
    req.read_conflict_keys = (tp_list_binary){key, 1};
    TransactionalKV_atomicCommit_result res;
    TransactionalKV_atomicCommit_result_init(&res);
    enum call_status st;
    KVT_CALL(st, k, atomicCommit, &req, &res);
    const AtomicCommitResponse *a = &res.success;
    if (st == CALL_OK && a->success && a->has_committed_version)
        k->version = a->committed_version;
    enum kvt_outcome out = st != CALL_OK ? kvt_transport_outcome(st)
                           : a->success  ? KVT_OK
                                         : kvt_write_error(k, a->has_error_code, a->error_code,
                                                           a->has_leader_hint, &a->leader_hint);
    TransactionalKV_atomicCommit_result_free(&res);
    tp_bytes_free(&op.value);   /* the key and lists are borrowed: not freed with req */
    return out;
}

void kvt_op_cas(struct kvt_conn *k, struct kvt_op *op)
{
    op->node = k->node;
    op->outcome = KVT_FAIL;   /* until the commit is sent, nothing can have happened */
    k->version = -1;
    tp_bytes key = {NULL, 0};
    kvt_key_bytes(op->key, &key);
    int64_t rv = kvt_read_version(k), seen;
    if (rv >= 0 && kvt_snapshot_read(k, &key, rv, &seen) == 0 && seen == op->expected)
        op->outcome = commit(k, &key, rv, op->value);
    tp_bytes_free(&key);
}

int kvt_read_local(struct kvt_conn *k, uint32_t key, int64_t *value)
{
    GetRequest req;
    GetRequest_init(&req);
    kvt_key_bytes(key, &req.key);
    req.has_consistency = true;
    req.consistency = Consistency_SERIALIZABLE;
    TransactionalKV_get_result res;
    TransactionalKV_get_result_init(&res);
    enum call_status st;
    KVT_CALL(st, k, get, &req, &res);
    int rc = st == CALL_OK && res.success.success ? 0 : -1;
    if (rc == 0)
        *value = kvt_parse_value(res.success.found, &res.success.value);
    TransactionalKV_get_result_free(&res);
    GetRequest_free(&req);
    return rc;
}

int64_t kvt_applied_index(struct kvt_conn *k)
{
    GetNodeInfoRequest req;
    GetNodeInfoRequest_init(&req);
    TransactionalKV_getNodeInfo_result res;
    TransactionalKV_getNodeInfo_result_init(&res);
    enum call_status st;
    KVT_CALL(st, k, getNodeInfo, &req, &res);
    int64_t applied = st == CALL_OK && res.success.success ? res.success.status.applied_index : -1;
    TransactionalKV_getNodeInfo_result_free(&res);
    GetNodeInfoRequest_free(&req);
    return applied;
}

int kvt_cluster_leader(const struct kvt_cluster *c, int timeout_ms)
{
    int leader = -1;
    for (unsigned i = 0; leader < 0 && i < c->count; i++) {
        if (c->nodes[i].pid <= 0 || c->nodes[i].paused)
            continue;
        struct kvt_conn k;
        kvt_conn_init(&k, c, (int)i, timeout_ms);
        GetClusterHealthRequest req;
        GetClusterHealthRequest_init(&req);
        TransactionalKV_getClusterHealth_result res;
        TransactionalKV_getClusterHealth_result_init(&res);
        enum call_status st;
        KVT_CALL(st, &k, getClusterHealth, &req, &res);
        const ClusterHealth *h = &res.success;
        if (st == CALL_OK && h->success && h->has_leader_id && h->leader_id.data)
            leader = kvt_cluster_node_of(c, (const char *)h->leader_id.data, h->leader_id.len);
        TransactionalKV_getClusterHealth_result_free(&res);
        GetClusterHealthRequest_free(&req);
        kvt_conn_free(&k);
    }
    return leader;
}
