/* kb_wire.c: kvbench's requests and replies on the wire, through the generated client API. */
#include "kvbench.h"
#include "kvstore.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

void kb_key(const struct kb_bench *b, uint64_t index, uint8_t *out)
{
    uint32_t n = b->opt.key_size;
    memset(out, '0', n);
    out[0] = 'k';
    for (uint32_t i = n; i > 1 && index > 0; i--, index /= 10)
        out[i - 1] = (uint8_t)('0' + index % 10);
}

static tp_bytes borrow(const uint8_t *data, uint32_t len)
{
    return (tp_bytes){.data = (uint8_t *)data, .len = len};
}

static const uint8_t *pick_value(struct kb_bench *b)
{
    return b->values + kb_rand_below(&b->rand, KB_VALUE_SLACK);
}

/* Sends one call on the connection's pipe, which remembers it for its reply. */
#define KB_APPEND(c, s, call, method, req)                                          \
    do {                                                                            \
        int32_t seq_;                                                               \
        tp_buf *out_ = net_pipe_begin(&(c)->pipe, &seq_);                           \
        if (TransactionalKV_##method##_send(out_, seq_, (req)) != 0 ||              \
            net_pipe_end(&(c)->pipe, (call), (s), 0) != NET_OK)                     \
            return -1;                                                              \
    } while (0)

static int encode_single(struct kb_bench *b, struct kb_slot *s, struct kb_conn *c,
                         const uint8_t *key)
{
    tp_bytes k = borrow(key, b->opt.key_size);
    if (s->op == KB_OP_SET) {
        SetRequest req = {.key = k, .value = borrow(pick_value(b), b->opt.value_size),
                          .has_session = s->session_seq != 0};
        if (req.has_session)
            kb_session_ref(s, &req.session);
        KB_APPEND(c, s, KB_CALL_SET, setKey, &req);
    } else if (s->op == KB_OP_GET || s->op == KB_OP_SGET) {
        GetRequest req = {.key = k, .has_consistency = true,
                          .consistency = s->op == KB_OP_GET ? Consistency_LINEARIZABLE
                                                            : Consistency_SERIALIZABLE};
        KB_APPEND(c, s, KB_CALL_GET, get, &req);
    } else if (s->op == KB_OP_RANGE) {
        GetRangeRequest req = {.begin_key = k, .has_limit = true,
                               .limit = (int32_t)b->opt.range_len};
        KB_APPEND(c, s, KB_CALL_RANGE, getRange, &req);
    } else {
        assert(s->op == KB_OP_PING);
        PingRequest req = {0};
        KB_APPEND(c, s, KB_CALL_PING, ping, &req);
    }
    s->awaiting = 1;
    return 0;
}

static int encode_commit(struct kb_bench *b, struct kb_slot *s, struct kb_conn *c,
                         uint8_t (*keys)[KB_KEY_SIZE_MAX])
{
    uint32_t nr = b->opt.txn_reads, nw = b->opt.txn_writes;
    Operation ops[KB_TXN_KEYS_MAX];
    tp_bytes reads[KB_TXN_KEYS_MAX];
    /* Writes go to the keys read first (read-modify-write), then to keys of their own. */
    for (uint32_t i = 0; i < nw; i++)
        ops[i] = (Operation){.type = OperationType_SET,
                             .key = borrow(keys[i], b->opt.key_size), .has_value = true,
                             .value = borrow(pick_value(b), b->opt.value_size)};
    for (uint32_t i = 0; i < nr; i++)
        reads[i] = borrow(keys[i], b->opt.key_size);
    AtomicCommitRequest req = {.read_version = s->read_version,
                               .operations = {.items = ops, .count = nw},
                               .has_read_conflict_keys = nr > 0,
                               .read_conflict_keys = {.items = reads, .count = nr},
                               .has_session = s->session_seq != 0};
    if (req.has_session)
        kb_session_ref(s, &req.session);
    KB_APPEND(c, s, KB_CALL_COMMIT, atomicCommit, &req);
    s->awaiting = 1;
    return 0;
}

static int encode_txn(struct kb_bench *b, struct kb_slot *s, struct kb_conn *c)
{
    static uint8_t keys[KB_TXN_KEYS_MAX][KB_KEY_SIZE_MAX];
    for (uint32_t i = 0; i < s->key_count; i++)
        kb_key(b, s->keys[i], keys[i]);
    if (s->phase == 0) {
        GetReadVersionRequest req = {0};
        KB_APPEND(c, s, KB_CALL_GRV, getReadVersion, &req);
        s->awaiting = 1;
        return 0;
    }
    if (s->phase == 1) {
        for (uint32_t i = 0; i < b->opt.txn_reads; i++) {
            SnapshotReadRequest req = {.key = borrow(keys[i], b->opt.key_size),
                                       .read_version = s->read_version};
            KB_APPEND(c, s, KB_CALL_SREAD, snapshotRead, &req);
        }
        s->awaiting = b->opt.txn_reads;
        return 0;
    }
    return encode_commit(b, s, c, keys);
}

int kb_wire_encode(struct kb_bench *b, struct kb_slot *s, struct kb_conn *c)
{
    if (s->op == KB_OP_TXN)
        return encode_txn(b, s, c);
    uint8_t key[KB_KEY_SIZE_MAX];
    kb_key(b, s->keys[0], key);
    return encode_single(b, s, c, key);
}
