/* kv_sm.c: applies committed commands: checks, conflict detection, then writes at one version. */
#include "kv_sm.h"

#include <assert.h>
#include <stdlib.h>

#include "kv_mem.h"
#include "kv_session.h"
#include "kv_sm_check.h"

#define KV_SAME_CODE(name) _Static_assert((int)KV_ERR_##name == (int)ErrorCode_##name, #name)
KV_SAME_CODE(NOT_FOUND);
KV_SAME_CODE(CONFLICT);
KV_SAME_CODE(TRANSACTION_TOO_OLD);
KV_SAME_CODE(FUTURE_VERSION);
KV_SAME_CODE(KEY_TOO_LARGE);
KV_SAME_CODE(VALUE_TOO_LARGE);
KV_SAME_CODE(TRANSACTION_TOO_LARGE);
KV_SAME_CODE(INVALID_ARGUMENT);
KV_SAME_CODE(INTERNAL);
KV_SAME_CODE(SESSION_EXPIRED);
_Static_assert((int)KV_OK == (int)ErrorCode_OK, "OK");

struct kv_sm {
    kv_store *store;
    uint64_t duplicates, expired, evicted;   /* kv_sm_session_stats */
    kv_sm_change_fn observer;
    void *observer_ctx;
};

kv_sm *kv_sm_new(const struct kv_config *cfg)
{
    kv_sm *sm = calloc(1, sizeof *sm);
    if (sm == NULL)
        return NULL;
    sm->store = kv_store_new(cfg);
    if (sm->store == NULL) {
        free(sm);
        return NULL;
    }
    return sm;
}

void kv_sm_free(kv_sm *sm)
{
    if (sm == NULL)
        return;
    kv_store_free(sm->store);
    free(sm);
}

const kv_store *kv_sm_store(const kv_sm *sm) { return sm->store; }


void kv_sm_set_observer(kv_sm *sm, kv_sm_change_fn fn, void *ctx)
{
    sm->observer = fn;
    sm->observer_ctx = ctx;
}

/* The keys and ranges an applied command wrote, to the observer. */
static void notify(const kv_sm *sm, const KvCommand *cmd, uint64_t version)
{
    void *ctx = sm->observer_ctx;
    if (cmd->has_set_key)
        sm->observer(ctx, cmd->set_key.key.data, cmd->set_key.key.len, NULL, 0, version);
    else if (cmd->has_delete_key)
        sm->observer(ctx, cmd->delete_key.key.data, cmd->delete_key.key.len, NULL, 0, version);
    else if (cmd->has_clear_range)
        sm->observer(ctx, cmd->clear_range.begin_key.data, cmd->clear_range.begin_key.len,
                     cmd->clear_range.end_key.data, cmd->clear_range.end_key.len, version);
    for (uint32_t i = 0; cmd->has_atomic_commit && i < cmd->atomic_commit.operations.count; i++) {
        const Operation *op = &cmd->atomic_commit.operations.items[i];
        bool range = op->type == OperationType_CLEAR_RANGE;
        sm->observer(ctx, op->key.data, op->key.len, range ? op->end_key.data : NULL,
                     range ? op->end_key.len : 0, version);
    }
}
uint64_t kv_sm_applied_version(const kv_sm *sm) { return kv_store_applied_version(sm->store); }
uint64_t kv_sm_log_term(const kv_sm *sm) { return kv_store_log_term(sm->store); }
void kv_sm_set_log_term(kv_sm *sm, uint64_t term) { kv_store_set_log_term(sm->store, term); }

int kv_sm_set_membership(kv_sm *sm, const uint8_t *data, uint32_t len)
{
    return kv_store_set_membership(sm->store, data, len);
}

const uint8_t *kv_sm_membership(const kv_sm *sm, uint32_t *len)
{
    return kv_store_membership(sm->store, len);
}

void kv_sm_digest_hex(const kv_sm *sm, char out[KV_DIGEST_HEX_LEN + 1])
{
    struct kv_digest d = kv_store_digest(sm->store);
    struct kv_digest t = kv_sessions_digest(kv_store_sessions_const(sm->store));
    d.lane[0] += t.lane[0]; /* both are order-free sums: one more term each */
    d.lane[1] += t.lane[1];
    kv_digest_hex(&d, out);
}

void kv_sm_session_stats(const kv_sm *sm, struct kv_sm_session_stats *out)
{
    const struct kv_sessions *t = kv_store_sessions_const(sm->store);
    *out = (struct kv_sm_session_stats){
        .open = kv_sessions_count(t), .results = kv_sessions_results(t),
        .bytes = kv_sessions_bytes(t), .duplicates = sm->duplicates, .expired = sm->expired,
        .evicted = sm->evicted};
}

/* CONFLICT when any read-conflict key or range was written after the read version. */
static int check_conflicts(const kv_store *s, const AtomicCommitRequest *c)
{
#if PLANTED_BUG_txn_no_conflict /* planted bug (tools/mutants): read-conflict keys ignored */
    return 0;
#endif
    uint64_t rv = (uint64_t)c->read_version;
    for (uint32_t i = 0; c->has_read_conflict_keys && i < c->read_conflict_keys.count; i++) {
        const tp_bytes *k = &c->read_conflict_keys.items[i];
        if (kv_store_key_written_after(s, k->data, k->len, rv))
            return KV_ERR_CONFLICT;
    }
    for (uint32_t i = 0; c->has_read_conflict_ranges && i < c->read_conflict_ranges.count; i++) {
        const KeyRange *r = &c->read_conflict_ranges.items[i];
        if (kv_store_range_written_after(s, r->begin_key.data, r->begin_key.len,
                                         r->end_key.data, r->end_key.len, !r->has_end_key, rv))
            return KV_ERR_CONFLICT;
    }
    return 0;
}

/* Writes of a checked command cannot fail: sizes were validated before the first one. */
static void must(int err)
{
    assert(err == 0);
    (void)err;
}

static void apply_operations(kv_store *s, const AtomicCommitRequest *c, uint64_t version)
{
    for (uint32_t i = 0; i < c->operations.count; i++) {
        const Operation *op = &c->operations.items[i];
        if (op->type == OperationType_SET)
            must(kv_store_set(s, op->key.data, op->key.len, op->value.data, op->value.len,
                              version));
        else if (op->type == OperationType_DELETE)
            must(kv_store_delete(s, op->key.data, op->key.len, version, NULL));
        else
            must(kv_store_clear_range(s, op->key.data, op->key.len, op->end_key.data,
                                      op->end_key.len, version, NULL));
    }
}

static int apply_commit(kv_store *s, const AtomicCommitRequest *c, uint64_t version)
{
    int err = kv_store_check_read_version(s, (uint64_t)c->read_version);
    if (err == 0)
        err = check_conflicts(s, c);
    if (err == 0)
        apply_operations(s, c, version);
    return err;
}

/* Log time at this entry: the largest leader clock applied so far (clocks may step back). */
static int64_t log_now(const kv_sm *sm, int64_t timestamp_us)
{
    int64_t applied = kv_store_applied_timestamp_us(sm->store);
    return timestamp_us > applied ? timestamp_us : applied;
}

static int apply_checked(kv_sm *sm, const KvCommand *cmd, uint64_t version, int64_t now_us,
                         bool *found)
{
    kv_store *s = sm->store;
    if (cmd->has_open_session) {
        bool evicted;
        kv_sessions_open(kv_store_sessions(s), version,
                         (int64_t)cmd->open_session.timeout_ms * 1000, now_us, &evicted);
        sm->evicted += evicted;
        return 0;
    }
    if (cmd->has_close_session) {
        *found = kv_sessions_close(kv_store_sessions(s), (uint64_t)cmd->close_session.session_id);
        return 0;
    }
    if (cmd->has_set_key)
        return kv_store_set(s, cmd->set_key.key.data, cmd->set_key.key.len,
                            cmd->set_key.value.data, cmd->set_key.value.len, version);
    if (cmd->has_delete_key)
        return kv_store_delete(s, cmd->delete_key.key.data, cmd->delete_key.key.len, version,
                               found);
    if (cmd->has_clear_range)
        return kv_store_clear_range(s, cmd->clear_range.begin_key.data,
                                    cmd->clear_range.begin_key.len,
                                    cmd->clear_range.end_key.data, cmd->clear_range.end_key.len,
                                    version, NULL);
    if (cmd->has_atomic_commit)
        return apply_commit(s, &cmd->atomic_commit, version);
    return 0; /* noop */
}

/* Applies a checked command and tells the observer what it wrote. */
static void run_checked(kv_sm *sm, const KvCommand *cmd, uint64_t version, int64_t now,
                        struct kv_sm_result *res)
{
    res->error = apply_checked(sm, cmd, version, now, &res->found);
    if (res->error == 0 && sm->observer != NULL)
        notify(sm, cmd, version);
}

/* Every entry, whatever it holds, first expires the sessions idle past their timeout. */
static int64_t begin_entry(kv_sm *sm, uint64_t version, int64_t timestamp_us,
                           struct kv_sm_result *res)
{
    assert(version > kv_store_applied_version(sm->store));
    *res = (struct kv_sm_result){.version = version, .committed_version = version};
    int64_t now = log_now(sm, timestamp_us);
    sm->expired += kv_sessions_expire(kv_store_sessions(sm->store), now);
    return now;
}

static const SessionRef *session_of(const KvCommand *cmd)
{
    if (cmd->has_set_key && cmd->set_key.has_session)
        return &cmd->set_key.session;
    if (cmd->has_delete_key && cmd->delete_key.has_session)
        return &cmd->delete_key.session;
    if (cmd->has_atomic_commit && cmd->atomic_commit.has_session)
        return &cmd->atomic_commit.session;
    return NULL;
}

/* A write in a session: applied once, its answer kept; a retry gets that answer back. */
static void apply_in_session(kv_sm *sm, const KvCommand *cmd, const SessionRef *ref,
                             uint64_t version, int64_t now, struct kv_sm_result *res)
{
    struct kv_sessions *t = kv_store_sessions(sm->store);
    struct kv_session *s;
    struct kv_session_result stored;
    uint64_t seq = (uint64_t)ref->sequence;
    uint64_t acked = ref->has_acked_below ? (uint64_t)ref->acked_below : 0;
    switch (kv_sessions_begin(t, (uint64_t)ref->session_id, seq, acked, now, &s, &stored)) {
    case KV_SESSION_GONE:
        res->error = KV_ERR_SESSION_EXPIRED;
        return;
    case KV_SESSION_DUPLICATE:
        res->error = stored.code;
        res->found = stored.found;
        res->committed_version = stored.version;
        res->duplicate = true;
        sm->duplicates++;
        return;
    case KV_SESSION_NEW:
        run_checked(sm, cmd, version, now, res);
        kv_sessions_record(t, s, &(struct kv_session_result){.seq = seq, .version = version,
                                                             .code = res->error,
                                                             .found = res->found});
        return;
    }
}

int kv_sm_apply(kv_sm *sm, const KvCommand *cmd, uint64_t version, int64_t timestamp_us,
                struct kv_sm_result *res)
{
    int64_t now = begin_entry(sm, version, timestamp_us, res);
    res->error = kv_sm_check_command(kv_store_config(sm->store), cmd);
    const SessionRef *ref = res->error == 0 ? session_of(cmd) : NULL;
    if (ref != NULL)
        apply_in_session(sm, cmd, ref, version, now, res);
    else if (res->error == 0)
        run_checked(sm, cmd, version, now, res);
    kv_store_advance(sm->store, version, timestamp_us);
    return res->error;
}

int kv_sm_apply_bytes(kv_sm *sm, const uint8_t *data, size_t len, uint64_t version,
                      int64_t timestamp_us, struct kv_sm_result *res)
{
    const struct kv_config *cfg = kv_store_config(sm->store);
    uint64_t string_max = cfg->txn_bytes_max < UINT32_MAX ? cfg->txn_bytes_max : UINT32_MAX;
    tp_limits limits = {.string_max = (uint32_t)string_max,
                        .container_max = KV_SM_CONTAINER_MAX,
                        .depth_max = KV_SM_DEPTH_MAX};
    tp_reader r;
    tp_reader_init(&r, data, len, &limits);
    KvCommand cmd;
    KvCommand_init(&cmd);
    int rc = KvCommand_read(&cmd, &r);
    /* Running out of memory is this replica's trouble, not the command's: calling the entry
     * invalid here while the others apply it would fork the history, so stop instead. */
    if (rc == TP_ERR_NOMEM)
        kv_die_oom(len);
    if (rc == 0 && r.pos == r.end) {
        rc = kv_sm_apply(sm, &cmd, version, timestamp_us, res);
    } else {
        /* Every replica holds the same bytes, so every replica rejects them alike. */
        begin_entry(sm, version, timestamp_us, res);
        res->error = rc = KV_ERR_INVALID_ARGUMENT;
        kv_store_advance(sm->store, version, timestamp_us);
    }
    KvCommand_free(&cmd);
    return rc;
}

static void replace_store(kv_sm *sm, kv_store *fresh)
{
    kv_store_free(sm->store);
    sm->store = fresh;
}

int kv_sm_save_file(const kv_sm *sm, const char *path, char *err, size_t err_len)
{
    return kv_snapshot_save_file(sm->store, path, err, err_len);
}

int kv_sm_save_file_io(const kv_sm *sm, const char *path, const struct sio *io, char *err,
                       size_t err_len)
{
    return kv_snapshot_save_file_io(sm->store, path, io, err, err_len);
}

int kv_sm_snapshot_job_begin(kv_sm *sm, const char *path, const struct sio *io,
                             struct kv_snap_job **out, char *err, size_t err_len)
{
    return kv_snapshot_job_begin(sm->store, path, io, out, err, err_len);
}

int kv_sm_restore_file(kv_sm *sm, const char *path, char *err, size_t err_len)
{
    kv_store *fresh = NULL;
    int rc = kv_snapshot_load_file(path, kv_store_config(sm->store), &fresh, err, err_len);
    if (rc == 0)
        replace_store(sm, fresh);
    return rc;
}

int kv_sm_save_mem(const kv_sm *sm, uint8_t **data, size_t *len)
{
    return kv_snapshot_save_mem(sm->store, data, len);
}

int kv_sm_restore_mem(kv_sm *sm, const uint8_t *data, size_t len, char *err, size_t err_len)
{
    kv_store *fresh = NULL;
    int rc = kv_snapshot_load_mem(data, len, NULL, kv_store_config(sm->store), &fresh, err,
                                  err_len);
    if (rc == 0)
        replace_store(sm, fresh);
    return rc;
}
