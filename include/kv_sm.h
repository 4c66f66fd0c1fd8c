/* kv_sm.h: the KV state machine: applies committed KvCommands (IDL) to the store, in order. */
#ifndef KV_SM_H
#define KV_SM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv_snapshot.h"
#include "kv_store.h"
#include "kvstore.h"

/* Decoding a log entry: a command's strings are bounded by the transaction limit and by the
 * entry's own length; lists are bounded so a small entry cannot claim a huge array. */
#define KV_SM_CONTAINER_MAX 100000u
#define KV_SM_DEPTH_MAX 8u

typedef struct kv_sm kv_sm;

struct kv_sm_result {
    int error;        /* 0 or a KV_ERR_* code (numbers equal the IDL ErrorCode) */
    bool found;       /* delete_key, close_session: the key (session) was there before */
    uint64_t version; /* the version the command consumed: every entry consumes its index */
    /* The version the answer names: the write's own, or for a retry answered from its session
     * (duplicate) the version the first try committed at. open_session: the session id. */
    uint64_t committed_version;
    bool duplicate;   /* answered from the session table: nothing was applied again */
};

/* What the session table did, counted since kv_sm_new (observations, not replicated state). */
struct kv_sm_session_stats {
    uint64_t open, results, bytes;          /* now */
    uint64_t duplicates, expired, evicted;  /* retries answered from the table; sessions that
                                               expired, or were pushed out by a newer one */
};

/* NULL when out of memory or cfg is invalid; cfg NULL means the defaults. */
kv_sm *kv_sm_new(const struct kv_config *cfg);
void kv_sm_free(kv_sm *sm);
/* The store, for reads. Pointers into it stay valid until the next apply or restore. */
const kv_store *kv_sm_store(const kv_sm *sm);
uint64_t kv_sm_applied_version(const kv_sm *sm);
/* The consensus term of the entry at the applied version (kv_store_log_term). */
uint64_t kv_sm_log_term(const kv_sm *sm);
void kv_sm_set_log_term(kv_sm *sm, uint64_t term);
/* The cluster's membership bytes as of the applied version (kv_store_set_membership). */
int kv_sm_set_membership(kv_sm *sm, const uint8_t *data, uint32_t len);
const uint8_t *kv_sm_membership(const kv_sm *sm, uint32_t *len);

/* Told of each write an applied command made (for watches): one key (end NULL), or a range
 * [begin, end) cleared, at version. Commands that failed or were answered from a session
 * make no calls. It runs inside the apply: it must not touch the machine. */
typedef void (*kv_sm_change_fn)(void *ctx, const uint8_t *begin, size_t blen,
                                const uint8_t *end, size_t elen, uint64_t version);
void kv_sm_set_observer(kv_sm *sm, kv_sm_change_fn fn, void *ctx);

/* Applies cmd at version (> applied) with the leader's entry timestamp. A command that fails
 * (limits, CONFLICT, TRANSACTION_TOO_OLD, ...) changes no key but still consumes the version.
 * Returns res->error. Deterministic: equal command streams give equal state on every replica. */
int kv_sm_apply(kv_sm *sm, const KvCommand *cmd, uint64_t version, int64_t timestamp_us,
                struct kv_sm_result *res);
/* The same for an encoded entry; bytes that do not decode are INVALID_ARGUMENT. */
int kv_sm_apply_bytes(kv_sm *sm, const uint8_t *data, size_t len, uint64_t version,
                      int64_t timestamp_us, struct kv_sm_result *res);

void kv_sm_session_stats(const kv_sm *sm, struct kv_sm_session_stats *out);

/* Hex digest of the state at the applied version, for getClusterHealth's state_digest: the
 * live data and the client session table (with no session open, the data's alone). */
void kv_sm_digest_hex(const kv_sm *sm, char out[KV_DIGEST_HEX_LEN + 1]);

/* Snapshots of the whole machine; a restore replaces the state only when the snapshot is
 * whole and valid, otherwise the machine is untouched. */
int kv_sm_save_file(const kv_sm *sm, const char *path, char *err, size_t err_len);
/* Through a storage seam (util/sio.h; NULL: the real system calls). */
struct sio;
int kv_sm_save_file_io(const kv_sm *sm, const char *path, const struct sio *io, char *err,
                       size_t err_len);
/* kv_snapshot_job_begin on the machine's store: a snapshot written in steps (kv_snapshot.h).
 * A restore (file or memory) while the job runs is a bug: free the job first. */
int kv_sm_snapshot_job_begin(kv_sm *sm, const char *path, const struct sio *io,
                             struct kv_snap_job **out, char *err, size_t err_len);
int kv_sm_restore_file(kv_sm *sm, const char *path, char *err, size_t err_len);
int kv_sm_save_mem(const kv_sm *sm, uint8_t **data, size_t *len);
int kv_sm_restore_mem(kv_sm *sm, const uint8_t *data, size_t len, char *err, size_t err_len);

#endif
