/* kv_store.h: the ordered multi-version key-value store (reads, writes, MVCC window). */
#ifndef KV_STORE_H
#define KV_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv_config.h"
#include "kv_digest.h"
#include "kv_err.h"

typedef struct kv_store kv_store;

/* NULL when out of memory or cfg is not kv_config_valid(). cfg NULL means the defaults. */
kv_store *kv_store_new(const struct kv_config *cfg);
void kv_store_free(kv_store *s);

const struct kv_config *kv_store_config(const kv_store *s);
uint64_t kv_store_applied_version(const kv_store *s);
/* The consensus term of the entry at the applied version, which snapshots record (0: unknown,
   as in standalone mode); the replicated server sets it as it applies. */
uint64_t kv_store_log_term(const kv_store *s);
void kv_store_set_log_term(kv_store *s, uint64_t term);
int64_t kv_store_applied_timestamp_us(const kv_store *s);
/* The cluster's membership as of the applied version: opaque bytes (the consensus core's
   encoding) the replicated server sets as it applies, and every snapshot carries in a section
   of its own. len 0: none (standalone, or a snapshot written before snapshots held it).
   0, KV_ERR_INVALID_ARGUMENT (longer than KV_MEMBERSHIP_BYTES_MAX) or KV_ERR_NOMEM. */
#define KV_MEMBERSHIP_BYTES_MAX 16384u
int kv_store_set_membership(kv_store *s, const uint8_t *data, uint32_t len);
const uint8_t *kv_store_membership(const kv_store *s, uint32_t *len);
/* The oldest readable version: reads need floor <= version <= applied. */
uint64_t kv_store_floor_version(const kv_store *s);
/* 0, KV_ERR_TRANSACTION_TOO_OLD or KV_ERR_FUTURE_VERSION. */
int kv_store_check_read_version(const kv_store *s, uint64_t version);
/* While held, versions that left the MVCC window are not freed and no key leaves the index
 * (reads below the floor are refused all the same): a snapshot written in steps
 * (kv_snapshot_job_*) reads the versions of its pinned version while writes go on. Released, the backlog goes at up to KV_RECLAIM_CATCHUP_MAX
 * nodes per advance beside the usual budget. */
void kv_store_hold_reclaim(kv_store *s, bool hold);
bool kv_store_reclaim_held(const kv_store *s);

/* ------------------------------------------------------------------ reads */

/* value points into the store and stays valid until the next write or kv_store_advance. */
struct kv_read {
    const uint8_t *value;
    size_t value_len;
    uint64_t version; /* the version that wrote the value */
};

/* 0 with *out filled, KV_ERR_NOT_FOUND, or a read-version / key-size error. */
int kv_store_get(const kv_store *s, const uint8_t *key, size_t klen, uint64_t version,
                 struct kv_read *out);

struct kv_range {
    const uint8_t *begin;
    size_t begin_len;
    const uint8_t *end; /* exclusive; ignored when end_unbounded */
    size_t end_len;
    bool end_unbounded;
    uint64_t version;
    uint32_t limit; /* 0: no limit */
    bool reverse;   /* from the end down to begin */
};

/* Called for each live key in order; a non-zero return stops the scan and is returned. */
typedef int (*kv_range_fn)(void *ctx, const uint8_t *key, size_t klen, const struct kv_read *r);

/* Walks [begin, end) at r->version. *count gets the keys delivered; *has_more is true when the
 * limit stopped the scan and another live key was in range. A range with begin >= end is empty.
 * Keys: begin <= key_max bytes, end <= key_max + 1 (so "key + \0" works as an end). */
int kv_store_range(const kv_store *s, const struct kv_range *r, kv_range_fn fn, void *ctx,
                   uint32_t *count, bool *has_more);

/* Conflict checks: was key (or any key in [begin, end)) written by a version > version?
 * Writes count when they changed the key (a delete of an absent key writes nothing). The
 * caller checks version >= floor first: history below the floor is gone. */
bool kv_store_key_written_after(const kv_store *s, const uint8_t *key, size_t klen,
                                uint64_t version);
bool kv_store_range_written_after(const kv_store *s, const uint8_t *begin, size_t blen,
                                  const uint8_t *end, size_t elen, bool end_unbounded,
                                  uint64_t version);

/* Changes after a version, for watches: every write to a key at a version in (r->version,
 * applied], newest first per key, keys in order: value NULL (and vlen 0) is a delete. With
 * single_key, r->begin is the key and the end is ignored; otherwise [begin, end) as in
 * kv_store_range (limit and reverse are ignored). r->version must be >= the floor: history
 * below it is gone. A non-zero return from fn stops the walk and is returned. */
typedef int (*kv_change_fn)(void *ctx, const uint8_t *key, size_t klen, uint64_t version,
                            const uint8_t *value, size_t vlen);
int kv_store_changes(const kv_store *s, const struct kv_range *r, bool single_key,
                     kv_change_fn fn, void *ctx);

/* ----------------------------------------------------------------- writes */

/* Writes happen at version > applied; several writes may share one version (a transaction,
 * later ones win); then kv_store_advance(version) makes it the applied version. Writes check
 * sizes (KEY_TOO_LARGE, VALUE_TOO_LARGE) and change nothing on error. */
int kv_store_set(kv_store *s, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                 uint64_t version);
/* *found (may be NULL): whether the key was live before. */
int kv_store_delete(kv_store *s, const uint8_t *key, size_t klen, uint64_t version,
                    bool *found);
/* Deletes every live key in [begin, end); begin > end is KV_ERR_INVALID_ARGUMENT. */
int kv_store_clear_range(kv_store *s, const uint8_t *begin, size_t blen, const uint8_t *end,
                         size_t elen, uint64_t version, uint64_t *cleared);

/* Marks version applied with the leader's entry timestamp, moves the floor of the window
 * (a function of the applied stream only, never the local clock) and reclaims a bounded
 * amount of history. version must be > applied. */
void kv_store_advance(kv_store *s, uint64_t version, int64_t timestamp_us);

/* ------------------------------------------------------------------ stats */

struct kv_stats {
    uint64_t live_keys;     /* keys with a value at the applied version */
    uint64_t indexed_keys;  /* keys in the index, including those with only history */
    uint64_t versions;      /* version records held */
    uint64_t reclaim_pending;
    uint64_t bytes;         /* heap bytes held, counted as the allocator charges them */
};

void kv_store_stats(const kv_store *s, struct kv_stats *out);
/* The digest of the live state at the applied version. */
struct kv_digest kv_store_digest(const kv_store *s);

/* The client session table (kv_session.h) the state machine keeps beside the data, so a
 * snapshot holds both. Only the state machine changes it. */
struct kv_sessions;
struct kv_sessions *kv_store_sessions(kv_store *s);
const struct kv_sessions *kv_store_sessions_const(const kv_store *s);

#endif
