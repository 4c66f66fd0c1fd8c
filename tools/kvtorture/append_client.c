/* append_client.c: one list-append transaction over the Thrift API: a read version, snapshot
   reads of its keys (comma-separated lists), and one atomicCommit that sets each appended key
   to the list it read plus the new element, with every key read as a read conflict. */
#include "client_internal.h"
#include "txn.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "E,E,..." into out (up to KVT_LIST_MAX); false when the bytes are not such a list. */
static bool parse_list(const tp_bytes *b, int64_t *out, uint32_t *len)
{
    *len = 0;
    size_t at = 0;
    while (b->data && at < b->len) {
        int64_t v = 0;
        size_t digits = 0;
        for (; at < b->len && b->data[at] >= '0' && b->data[at] <= '9' && digits < 18; at++)
            v = v * 10 + (b->data[at] - '0'), digits++;
        if (digits == 0 || v <= 0 || *len == KVT_LIST_MAX)
            return false;
        out[(*len)++] = v;
        if (at < b->len && (b->data[at] != ',' || ++at == b->len))
            return false;
    }
    return true;
}

/* Reads key at rv into a read mop of t; 0, 1 (the read failed), -1 (memory). */
static int read_key(struct kvt_conn *k, struct kvt_txn *t, uint32_t key, int64_t rv,
                    int64_t *scratch)
{
    SnapshotReadRequest req;
    SnapshotReadRequest_init(&req);
    kvt_key_bytes(key, &req.key);
    req.read_version = rv;
    TransactionalKV_snapshotRead_result res;
    TransactionalKV_snapshotRead_result_init(&res);
    enum call_status st;
    KVT_CALL(st, k, snapshotRead, &req, &res);
    const SnapshotReadResponse *s = &res.success;
    int rc = st == CALL_OK && s->success ? 0 : 1;
    uint32_t len = 0;
    if (rc == 0 && s->found && !parse_list(&s->value, scratch, &len)) {
        scratch[0] = KVT_FOREIGN_ELEMENT;   /* the checker flags it */
        len = 1;
    }
    if (rc == 0)
        rc = kvt_txn_read(t, key, true, scratch, len);
    if (st == CALL_OK && !s->success)
        kvt_write_error(k, s->has_error_code, s->error_code, s->has_leader_hint, &s->leader_hint);
    TransactionalKV_snapshotRead_result_free(&res);
    SnapshotReadRequest_free(&req);
    return rc;
}

/* The value an append sets: what the txn read of the key, then the element. */
static int append_value(const struct kvt_txn *t, uint32_t key, int64_t element, tp_bytes *out)
{
    const struct kvt_mop *read = NULL;
    for (uint32_t i = 0; i < t->mop_count; i++)
        if (t->mops[i].kind == KVT_MOP_READ && t->mops[i].key == key)
            read = &t->mops[i];
    size_t cap = ((read ? read->len : 0) + 1) * 21 + 1, used = 0;
    char *text = malloc(cap);
    if (!text)
        return -1;
    for (uint32_t i = 0; read && i < read->len; i++)
        used += (size_t)snprintf(text + used, cap - used, "%" PRId64 ",", read->list[i]);
    used += (size_t)snprintf(text + used, cap - used, "%" PRId64, element);
    int rc = tp_bytes_set(out, text, used) == 0 ? 0 : -1;
    free(text);
    return rc;
}

/* The commit: a SET per append, every read key a read conflict. 0 with t->outcome, or -1. */
static int commit(struct kvt_conn *k, struct kvt_txn *t, int64_t rv)
{
    Operation ops[KVT_TXN_APPENDS_MAX];
    tp_bytes conflicts[KVT_TXN_READS_MAX];
    uint32_t nops = 0, nconf = 0;
    int rc = 0;
    for (uint32_t i = 0; i < t->mop_count; i++) {
        const struct kvt_mop *m = &t->mops[i];
        if (m->kind == KVT_MOP_READ && nconf < KVT_TXN_READS_MAX) {
            conflicts[nconf] = (tp_bytes){NULL, 0};
            kvt_key_bytes(m->key, &conflicts[nconf++]);
        } else if (m->kind == KVT_MOP_APPEND && nops < KVT_TXN_APPENDS_MAX) {
            Operation *op = &ops[nops++];
            Operation_init(op);
            op->type = OperationType_SET;
            op->has_value = true;
            kvt_key_bytes(m->key, &op->key);
            rc |= append_value(t, m->key, m->element, &op->value);
        }
    }
    AtomicCommitRequest req;
    AtomicCommitRequest_init(&req);
    req.read_version = rv;
    req.operations = (list_Operation){ops, nops};
    req.has_read_conflict_keys = true;
    req.read_conflict_keys = (tp_list_binary){conflicts, nconf};
    TransactionalKV_atomicCommit_result res;
    TransactionalKV_atomicCommit_result_init(&res);
    enum call_status st = CALL_NOT_SENT;
    if (rc == 0)
        KVT_CALL(st, k, atomicCommit, &req, &res);
    const AtomicCommitResponse *a = &res.success;
    t->outcome = st != CALL_OK ? kvt_transport_outcome(st)
                 : a->success  ? KVT_OK
                               : kvt_write_error(k, a->has_error_code, a->error_code,
                                                 a->has_leader_hint, &a->leader_hint);
    TransactionalKV_atomicCommit_result_free(&res);
    for (uint32_t i = 0; i < nops; i++)
        Operation_free(&ops[i]);
    for (uint32_t i = 0; i < nconf; i++)
        tp_bytes_free(&conflicts[i]);
    return rc;
}

int kvt_op_append(struct kvt_conn *k, struct kvt_txn *t, const uint32_t *reads, uint32_t nreads,
                  const int64_t *elements, uint32_t nappends)
{
    assert(nreads <= KVT_TXN_READS_MAX && nappends <= nreads);
    t->node = k->node;
    t->outcome = KVT_FAIL;   /* until the commit is sent, nothing can have happened */
    int64_t *scratch = malloc(KVT_LIST_MAX * sizeof *scratch);
    if (!scratch)
        return -1;
    int64_t rv = kvt_read_version(k);
    int rc = rv >= 0 ? 0 : 1;
    for (uint32_t i = 0; rc == 0 && i < nreads; i++)
        rc = read_key(k, t, reads[i], rv, scratch);
    /* The appended keys are the first ones read: each append is read-modify-write. */
    for (uint32_t i = 0; rc == 0 && i < nappends; i++)
        rc = kvt_txn_append(t, reads[i], elements[i]);
    if (rc == 0)
        rc = commit(k, t, rv);
    free(scratch);
    return rc < 0 ? -1 : 0;
}

int kvt_read_all(struct kvt_conn *k, struct kvt_txn *t, uint32_t keys)
{
    int64_t *scratch = malloc(KVT_LIST_MAX * sizeof *scratch);
    if (!scratch)
        return -1;
    t->node = k->node;
    int64_t rv = kvt_read_version(k);
    int rc = rv >= 0 ? 0 : 1;
    for (uint32_t key = 0; rc == 0 && key < keys; key++)
        rc = read_key(k, t, key, rv, scratch);
    for (uint32_t i = 0; i < t->mop_count; i++)
        t->mops[i].conflict = false;   /* a read-only txn commits nothing */
    t->outcome = rc == 0 ? KVT_OK : KVT_FAIL;
    free(scratch);
    return rc < 0 ? -1 : 0;
}
