/* kv_sm_check.c: every size and shape rule a command must meet before it is applied. */
#include "kv_sm_check.h"

#include <assert.h>

#include "kv_err.h"
#include "kv_index.h"
#include "kv_session.h"

static int check_key(const struct kv_config *cfg, const tp_bytes *key)
{
    return key->len > cfg->key_max ? KV_ERR_KEY_TOO_LARGE : 0;
}

/* A range end may be one byte longer than a key, so "key + \0" can end a range. */
static int check_range(const struct kv_config *cfg, const tp_bytes *begin, const tp_bytes *end)
{
    if (begin->len > cfg->key_max || (end != NULL && end->len > (uint64_t)cfg->key_max + 1))
        return KV_ERR_KEY_TOO_LARGE;
    if (end != NULL && kv_key_cmp(begin->data, begin->len, end->data, end->len) > 0)
        return KV_ERR_INVALID_ARGUMENT;
    return 0;
}

static int check_operation(const struct kv_config *cfg, const Operation *op, uint64_t *bytes)
{
    int err = 0;
    *bytes += op->key.len;
    switch (op->type) {
    case OperationType_SET:
        if (!op->has_value)
            return KV_ERR_INVALID_ARGUMENT;
        *bytes += op->value.len;
        err = check_key(cfg, &op->key);
        if (err == 0 && op->value.len > cfg->value_max)
            err = KV_ERR_VALUE_TOO_LARGE;
        return err;
    case OperationType_DELETE:
        return check_key(cfg, &op->key);
    case OperationType_CLEAR_RANGE:
        if (!op->has_end_key)
            return KV_ERR_INVALID_ARGUMENT;
        *bytes += op->end_key.len;
        return check_range(cfg, &op->key, &op->end_key);
    }
    return KV_ERR_INVALID_ARGUMENT; /* an operation type from a newer IDL */
}

static int check_commit(const struct kv_config *cfg, const AtomicCommitRequest *c)
{
    if (c->read_version < 0)
        return KV_ERR_INVALID_ARGUMENT;
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < c->operations.count; i++) {
        int err = check_operation(cfg, &c->operations.items[i], &bytes);
        if (err != 0)
            return err;
    }
    if (bytes > cfg->txn_bytes_max)
        return KV_ERR_TRANSACTION_TOO_LARGE;
    for (uint32_t i = 0; c->has_read_conflict_keys && i < c->read_conflict_keys.count; i++)
        if (check_key(cfg, &c->read_conflict_keys.items[i]) != 0)
            return KV_ERR_KEY_TOO_LARGE;
    for (uint32_t i = 0; c->has_read_conflict_ranges && i < c->read_conflict_ranges.count; i++) {
        const KeyRange *r = &c->read_conflict_ranges.items[i];
        int err = check_range(cfg, &r->begin_key, r->has_end_key ? &r->end_key : NULL);
        if (err != 0)
            return err;
    }
    return 0;
}

static int check_session_ref(const SessionRef *s)
{
    if (s->session_id <= 0 || s->sequence <= 0)
        return KV_ERR_INVALID_ARGUMENT;
    if (s->has_acked_below && (s->acked_below < 0 || s->acked_below > s->sequence))
        return KV_ERR_INVALID_ARGUMENT;
    return 0;
}

/* The session fields of a write, and the session commands themselves. */
static int check_sessions(const KvCommand *cmd)
{
    if (cmd->has_set_key && cmd->set_key.has_session)
        return check_session_ref(&cmd->set_key.session);
    if (cmd->has_delete_key && cmd->delete_key.has_session)
        return check_session_ref(&cmd->delete_key.session);
    if (cmd->has_atomic_commit && cmd->atomic_commit.has_session)
        return check_session_ref(&cmd->atomic_commit.session);
    if (cmd->has_open_session) {
        int64_t us = (int64_t)cmd->open_session.timeout_ms * 1000;
        return us < KV_SESSION_TIMEOUT_US_MIN || us > KV_SESSION_TIMEOUT_US_MAX
                   ? KV_ERR_INVALID_ARGUMENT
                   : 0;
    }
    if (cmd->has_close_session)
        return cmd->close_session.session_id > 0 ? 0 : KV_ERR_INVALID_ARGUMENT;
    return 0;
}

int kv_sm_check_command(const struct kv_config *cfg, const KvCommand *cmd)
{
    int set = cmd->has_set_key + cmd->has_delete_key + cmd->has_clear_range +
              cmd->has_atomic_commit + cmd->has_noop + cmd->has_open_session +
              cmd->has_close_session;
    if (set != 1)
        return KV_ERR_INVALID_ARGUMENT;
    int err = check_sessions(cmd);
    if (err != 0)
        return err;
    if (cmd->has_open_session || cmd->has_close_session)
        return 0;
    if (cmd->has_set_key) {
        const SetRequest *s = &cmd->set_key;
        if (s->key.len > cfg->key_max)
            return KV_ERR_KEY_TOO_LARGE;
        if (s->value.len > cfg->value_max)
            return KV_ERR_VALUE_TOO_LARGE;
        return (uint64_t)s->key.len + s->value.len > cfg->txn_bytes_max
                   ? KV_ERR_TRANSACTION_TOO_LARGE
                   : 0;
    }
    if (cmd->has_delete_key)
        return check_key(cfg, &cmd->delete_key.key);
    if (cmd->has_clear_range)
        return check_range(cfg, &cmd->clear_range.begin_key, &cmd->clear_range.end_key);
    if (cmd->has_atomic_commit)
        return check_commit(cfg, &cmd->atomic_commit);
    assert(cmd->has_noop);
    return 0;
}
