/* kv_store_impl.h: the store's layout, shared by its own files (store, reads, window, snapshot). */
#ifndef KV_STORE_IMPL_H
#define KV_STORE_IMPL_H

#include "kv_ring.h"
#include "kv_session.h"
#include "kv_index.h"
#include "kv_store.h"

#define KV_VER_TOMBSTONE 0x80000000u
#define KV_VER_LEN_MASK 0x7FFFFFFFu
_Static_assert(KV_VALUE_MAX_CEILING <= KV_VER_LEN_MASK, "value length must fit beside the flag");

/* One committed write of one key: header and value in a single allocation (20 + vlen bytes,
 * from the index's slab: kv_slab.h). */
struct kv_ver {
    struct kv_ver *older;
    uint64_t version;
    uint32_t meta; /* value length, KV_VER_TOMBSTONE for a delete */
    uint8_t value[];
};

static inline bool kv_ver_is_tombstone(const struct kv_ver *v) { return v->meta & KV_VER_TOMBSTONE; }
static inline uint32_t kv_ver_len(const struct kv_ver *v) { return v->meta & KV_VER_LEN_MASK; }

struct kv_store {
    struct kv_config cfg;
    struct kv_index *index;
    uint64_t applied_version;
    uint64_t log_term;       /* the consensus term of the entry at applied_version; 0: unknown */
    int64_t applied_ts_us;   /* the largest entry timestamp seen: leader clocks may step back */
    uint64_t floor_version;
    uint64_t write_version;  /* version of the latest write, >= applied */
    uint64_t live_keys;
    uint64_t versions;
    uint64_t version_bytes;
    uint64_t writes_pending; /* writes not yet followed by reclaim: sizes its budget */
    bool reclaim_held;       /* kv_store_hold_reclaim */
    struct kv_digest digest;
    struct kv_ring clock;    /* (version, timestamp) of applied versions >= floor */
    struct kv_ring reclaim;  /* (version, node): trim node once floor >= version; one entry
                              * per node at most (node->queued), so removal never dangles */
    struct kv_sessions *sessions; /* the state machine's client sessions (kv_session.h): kept
                              * here so snapshots carry them with the data */
    uint8_t *membership;     /* kv_store_set_membership's bytes (kv_member_snap.c) */
    uint32_t membership_len;
};

/* The newest version of n at or below version, or NULL. */
static inline const struct kv_ver *kv_node_at(const struct kv_node *n, uint64_t version)
{
    const struct kv_ver *v = n->newest;
    while (v != NULL && v->version > version)
        v = v->older;
    return v;
}

/* A version record, or NULL when out of memory; counted in s. val NULL leaves the value bytes
 * for the caller to fill (snapshot restore reads straight into them). */
struct kv_ver *kv_ver_new(kv_store *s, const uint8_t *val, size_t vlen, bool tombstone,
                          uint64_t version);
void kv_ver_free(kv_store *s, struct kv_ver *v);
/* A node's history still holds something to reclaim: older versions or a tombstone. */
static inline bool kv_node_reclaimable(const struct kv_node *n)
{
    return n->newest->older != NULL || kv_ver_is_tombstone(n->newest);
}

#endif
