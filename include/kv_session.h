/* kv_session.h: client sessions of the state machine: numbered writes apply at most once. */
#ifndef KV_SESSION_H
#define KV_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "kv_digest.h"
#include "kv_snap_io.h"

/*
 * The Raft dissertation's client sessions (Ongaro 2014, section 6.3; LogCabin does the same):
 * a client opens a session (its id is the index of the entry that opened it), numbers its
 * writes 1, 2, 3, ... and sends every retry of a write with the same number. The table
 * remembers each write's answer, so a retry that reaches the log again is answered from the
 * table instead of being applied twice. The client acknowledges the answers it has (every
 * number below acked_below), and the table forgets them.
 *
 * Everything here runs in log order on every replica with log time (the leader's clock that
 * each entry carries), so every replica holds the same table at the same index: a session
 * idle for longer than its timeout expires at the same entry everywhere. Limits, all
 * deterministic: at sessions_max open sessions a new one pushes out the one closest to
 * expiry; a session holds at most results_max answers and the table results_total_max, past
 * which the session drops its own oldest answer. A retry whose answer is gone (session
 * expired or pushed out, answer dropped) is refused, never applied: at most once, always.
 *
 * Pure data and no IDL: kv_sm.c decides what to call, in log order.
 */

/* Log-time timeouts a session may ask for (OpenSession carries the leader's choice). */
#define KV_SESSION_TIMEOUT_US_MIN (1000LL * 1000)                /* 1 s */
#define KV_SESSION_TIMEOUT_US_MAX (24LL * 3600 * 1000 * 1000)    /* a day */

/* One write's answer, as the state machine gave it the first time. */
struct kv_session_result {
    uint64_t seq;
    uint64_t version; /* the version it committed at (the entry that applied it) */
    int32_t code;     /* 0 or a KV_ERR_* number */
    bool found;       /* delete: the key was live before */
};

struct kv_sessions;
struct kv_session;

/* An empty table; NULL when out of memory. Limits must be > 0. */
struct kv_sessions *kv_sessions_new(uint32_t sessions_max, uint32_t results_max,
                                    uint64_t results_total_max);
void kv_sessions_free(struct kv_sessions *t);

uint64_t kv_sessions_count(const struct kv_sessions *t);
uint64_t kv_sessions_results(const struct kv_sessions *t);
/* Heap bytes held (as kv_mem_charge counts them). */
uint64_t kv_sessions_bytes(const struct kv_sessions *t);
/* Order-free digest of every session and stored answer (zero when the table is empty), kept
 * current on every change; replicas compare it with the store's. */
struct kv_digest kv_sessions_digest(const struct kv_sessions *t);

/* Drops every session whose last activity plus timeout is before now_us. Returns how many. */
uint32_t kv_sessions_expire(struct kv_sessions *t, int64_t now_us);

/* Opens session id (unused so far: ids are log indexes) with a timeout in the range above.
   At sessions_max the session closest to expiry is dropped first (*evicted set). */
void kv_sessions_open(struct kv_sessions *t, uint64_t id, int64_t timeout_us, int64_t now_us,
                      bool *evicted);
/* Closes session id; false when it was not open. */
bool kv_sessions_close(struct kv_sessions *t, uint64_t id);

enum kv_session_verdict {
    KV_SESSION_NEW,       /* apply the write, then kv_sessions_record its answer */
    KV_SESSION_DUPLICATE, /* applied before: *stored is its answer; do not apply it again */
    KV_SESSION_GONE,      /* no such session, or the answer was dropped: refuse it */
};

/* Looks up write seq (>= 1) of session id after taking the client's acknowledgement (every
   answer below acked_below may go; acknowledgements only move forward). Refreshes the
   session's expiry from now_us. *s gets the session for kv_sessions_record (valid until the
   next call on the table) when NEW. */
enum kv_session_verdict kv_sessions_begin(struct kv_sessions *t, uint64_t id, uint64_t seq,
                                          uint64_t acked_below, int64_t now_us,
                                          struct kv_session **s,
                                          struct kv_session_result *stored);
/* Stores the answer of a write begin called NEW (r->seq is its number). */
void kv_sessions_record(struct kv_sessions *t, struct kv_session *s,
                        const struct kv_session_result *r);

/* Snapshot section: the table in id order, so equal tables encode to equal bytes. */
#define KV_SESSIONS_SECTION_TAG 0x53534553u /* the bytes "SESS" on disk (little-endian) */
#define KV_SESSIONS_SECTION_FORMAT 1u
void kv_sessions_encode(const struct kv_sessions *t, struct kv_snap_out *o);
/* Reads a section body (after its tag and format) of at most body_left bytes into the empty
   table t; every field is checked (limits, order, the digest it ends with). */
int kv_sessions_decode(struct kv_sessions *t, struct kv_snap_in *in, uint64_t body_left);

#endif
