/* kv_session_impl.h: the session table's layout, shared by its own files (table, snapshot). */
#ifndef KV_SESSION_IMPL_H
#define KV_SESSION_IMPL_H

#include "kv_session.h"

struct kv_session {
    uint64_t id;
    int64_t timeout_us;
    int64_t expiry_us;   /* log time of the last activity plus the timeout */
    uint64_t acked;      /* answers below this number are gone (acknowledged or dropped) */
    uint64_t heap_pos;
    uint32_t n, cap;     /* answers held, sorted by seq, all >= acked */
    struct kv_session_result *results;
};

struct kv_sessions {
    uint32_t sessions_max, results_max;
    uint64_t results_total_max;
    struct kv_session **slot;  /* open addressing by id, at most half full */
    uint64_t mask;             /* slots - 1; 0: no slots yet */
    struct kv_session **heap;  /* by (expiry, id): the next to expire first */
    uint64_t heap_cap;
    uint64_t count;            /* sessions */
    uint64_t results;          /* answers held in all sessions */
    uint64_t bytes;            /* sessions and their answer arrays */
    struct kv_digest digest;
};

struct kv_session *kv_sessions_find(const struct kv_sessions *t, uint64_t id);
/* Adds a session that is not there (count < sessions_max). */
struct kv_session *kv_sessions_insert(struct kv_sessions *t, uint64_t id, int64_t timeout_us,
                                      int64_t expiry_us, uint64_t acked);
/* Adds a stored answer of session id to the digest (snapshot restore fills answers itself). */
void kv_sessions_digest_result(struct kv_sessions *t, uint64_t id,
                               const struct kv_session_result *r);
/* What kv_sessions_encode writes, in bytes (the section's length field). */
uint64_t kv_sessions_encoded_bytes(const struct kv_sessions *t);

#endif
