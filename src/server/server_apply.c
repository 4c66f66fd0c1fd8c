/* server_apply.c: checks and applies KvCommands to the store; deterministic on every replica. */
#include "server_apply.h"

#include <assert.h>
#include <string.h>

/* Our own log, CRC-checked: sizes are bounded by what remains, not by request limits. */
static const tp_limits entry_limits = {INT32_MAX, INT32_MAX, TP_DEPTH_MAX_DEFAULT};

int server_entry_encode(tp_buf *out, int64_t timestamp_us, const KvCommand *cmd)
{
    tp_buf_reset(out);
    tp_write_i64(out, timestamp_us);
    int rc = KvCommand_write(cmd, out);
    if (rc == 0 && out->failed)
        rc = TP_ERR_NOMEM;
    return rc;
}

static int bytes_cmp(const tp_bytes *a, const tp_bytes *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c = n ? memcmp(a->data, b->data, n) : 0;
    return c ? c : (a->len > b->len) - (a->len < b->len);
}

static int check_op(const struct kv_config *kc, const Operation *op, uint64_t *bytes)
{
    if (op->key.len > kc->key_max)
        return ErrorCode_KEY_TOO_LARGE;
    *bytes += op->key.len;
    switch (op->type) {
    case OperationType_SET:
        if (!op->has_value)
            return ErrorCode_INVALID_ARGUMENT;
        if (op->value.len > kc->value_max)
            return ErrorCode_VALUE_TOO_LARGE;
        *bytes += op->value.len;
        return 0;
    case OperationType_DELETE:
        return 0;
    case OperationType_CLEAR_RANGE:
        if (!op->has_end_key)
            return ErrorCode_INVALID_ARGUMENT;
        if (op->end_key.len > kc->key_max + 1)
            return ErrorCode_KEY_TOO_LARGE;
        if (bytes_cmp(&op->key, &op->end_key) > 0)
            return ErrorCode_INVALID_ARGUMENT;
        *bytes += op->end_key.len;
        return 0;
    }
    return ErrorCode_INVALID_ARGUMENT;
}

static int check_atomic(const struct kv_config *kc, const struct server_cmd_limits *lim,
                        const AtomicCommitRequest *a)
{
    if (a->read_version < 0)
        return ErrorCode_INVALID_ARGUMENT;
    if (a->operations.count > lim->txn_operations_max)
        return ErrorCode_TRANSACTION_TOO_LARGE;
    uint64_t conflicts = (a->has_read_conflict_keys ? a->read_conflict_keys.count : 0) +
                         (a->has_read_conflict_ranges ? a->read_conflict_ranges.count : 0);
    if (conflicts > lim->conflict_keys_max)
        return ErrorCode_TRANSACTION_TOO_LARGE;
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < a->operations.count; i++) {
        int rc = check_op(kc, &a->operations.items[i], &bytes);
        if (rc)
            return rc;
    }
    for (uint32_t i = 0; a->has_read_conflict_keys && i < a->read_conflict_keys.count; i++)
        if (a->read_conflict_keys.items[i].len > kc->key_max)
            return ErrorCode_KEY_TOO_LARGE;
    for (uint32_t i = 0; a->has_read_conflict_ranges && i < a->read_conflict_ranges.count; i++) {
        const KeyRange *r = &a->read_conflict_ranges.items[i];
        if (r->begin_key.len > kc->key_max || (r->has_end_key && r->end_key.len > kc->key_max + 1))
            return ErrorCode_KEY_TOO_LARGE;
    }
    return bytes > kc->txn_bytes_max ? ErrorCode_TRANSACTION_TOO_LARGE : 0;
}

int server_cmd_check(const kv_store *s, const struct server_cmd_limits *lim, const KvCommand *cmd)
{
    const struct kv_config *kc = kv_store_config(s);
    if (cmd->has_set_key) {
        if (cmd->set_key.key.len > kc->key_max)
            return ErrorCode_KEY_TOO_LARGE;
        return cmd->set_key.value.len > kc->value_max ? ErrorCode_VALUE_TOO_LARGE : 0;
    }
    if (cmd->has_delete_key)
        return cmd->delete_key.key.len > kc->key_max ? ErrorCode_KEY_TOO_LARGE : 0;
    if (cmd->has_clear_range) {
        const ClearRangeCommand *c = &cmd->clear_range;
        if (c->begin_key.len > kc->key_max || c->end_key.len > kc->key_max + 1)
            return ErrorCode_KEY_TOO_LARGE;
        return bytes_cmp(&c->begin_key, &c->end_key) > 0 ? ErrorCode_INVALID_ARGUMENT : 0;
    }
    if (cmd->has_atomic_commit)
        return check_atomic(kc, lim, &cmd->atomic_commit);
    return cmd->has_noop ? 0 : ErrorCode_INVALID_ARGUMENT;
}

/* Any read-conflict key or range written after the read version aborts the commit. */
static int conflicts(const kv_store *s, const AtomicCommitRequest *a)
{
    uint64_t rv = (uint64_t)a->read_version;
    int rc = kv_store_check_read_version(s, rv);
    if (rc)
        return rc;
    for (uint32_t i = 0; a->has_read_conflict_keys && i < a->read_conflict_keys.count; i++) {
        const tp_bytes *k = &a->read_conflict_keys.items[i];
        if (kv_store_key_written_after(s, k->data, k->len, rv))
            return ErrorCode_CONFLICT;
    }
    for (uint32_t i = 0; a->has_read_conflict_ranges && i < a->read_conflict_ranges.count; i++) {
        const KeyRange *r = &a->read_conflict_ranges.items[i];
        if (kv_store_range_written_after(s, r->begin_key.data, r->begin_key.len, r->end_key.data,
                                         r->has_end_key ? r->end_key.len : 0, !r->has_end_key, rv))
            return ErrorCode_CONFLICT;
    }
    return 0;
}

static int apply_atomic(kv_store *s, uint64_t index, const AtomicCommitRequest *a)
{
    int rc = conflicts(s, a);
    for (uint32_t i = 0; rc == 0 && i < a->operations.count; i++) {
        const Operation *op = &a->operations.items[i];
        uint64_t cleared;
        if (op->type == OperationType_SET)
            rc = kv_store_set(s, op->key.data, op->key.len, op->value.data, op->value.len, index);
        else if (op->type == OperationType_DELETE)
            rc = kv_store_delete(s, op->key.data, op->key.len, index, NULL);
        else
            rc = kv_store_clear_range(s, op->key.data, op->key.len, op->end_key.data,
                                      op->end_key.len, index, &cleared);
        assert(rc == 0 && "server_cmd_check passed, so the store accepts every operation");
    }
    return rc;
}

static int apply_cmd(kv_store *s, uint64_t index, const KvCommand *cmd, bool *found)
{
    uint64_t cleared;
    if (cmd->has_set_key)
        return kv_store_set(s, cmd->set_key.key.data, cmd->set_key.key.len,
                            cmd->set_key.value.data, cmd->set_key.value.len, index);
    if (cmd->has_delete_key)
        return kv_store_delete(s, cmd->delete_key.key.data, cmd->delete_key.key.len, index, found);
    if (cmd->has_clear_range)
        return kv_store_clear_range(s, cmd->clear_range.begin_key.data,
                                    cmd->clear_range.begin_key.len, cmd->clear_range.end_key.data,
                                    cmd->clear_range.end_key.len, index, &cleared);
    if (cmd->has_atomic_commit)
        return apply_atomic(s, index, &cmd->atomic_commit);
    return 0;
}

int server_apply_entry(kv_store *s, const struct server_cmd_limits *lim, uint64_t index,
                       const uint8_t *data, size_t len, struct server_apply_result *out)
{
    assert(index > kv_store_applied_version(s));
    memset(out, 0, sizeof *out);
    out->version = index;
    tp_reader r;
    tp_reader_init(&r, data, len, &entry_limits);
    int64_t ts;
    KvCommand cmd;
    KvCommand_init(&cmd);
    if (tp_read_i64(&r, &ts) != 0 || KvCommand_read(&cmd, &r) != 0) {
        KvCommand_free(&cmd);
        return -1;
    }
    out->code = server_cmd_check(s, lim, &cmd);
    if (out->code == 0)
        out->code = apply_cmd(s, index, &cmd, &out->found);
    KvCommand_free(&cmd);
    int64_t floor_ts = kv_store_applied_timestamp_us(s);
    kv_store_advance(s, index, ts > floor_ts ? ts : floor_ts);
    return 0;
}
