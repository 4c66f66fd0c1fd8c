/* kv_window.c: the MVCC window: advancing the applied version, the floor, and reclaim. */
#include <assert.h>

#include "kv_store_impl.h"

/* Reclaim work per advance: a fixed minimum plus twice the writes it follows, so reclaim
 * outpaces the writes that create garbage while no single apply does unbounded work. */
#define KV_RECLAIM_BUDGET_MIN 16u
#define KV_RECLAIM_PER_WRITE 2u
/* The writes one advance pays reclaim for, at most: a backlog held during a snapshot goes
 * over many advances, none doing more than ~8k trims. */
#define KV_RECLAIM_CATCHUP_MAX 4096u

/* The floor the applied stream implies; it never moves back. */
static uint64_t next_floor(kv_store *s)
{
    uint64_t floor = s->floor_version;
    uint64_t wv = s->cfg.window_versions;
    if (wv > 0 && s->applied_version > wv && s->applied_version - wv > floor)
        floor = s->applied_version - wv;
    if (s->cfg.window_us > 0) {
        /* A version stays readable for window_us after the version that replaced it was
         * applied, as FoundationDB keeps a read version valid for 5 s after it was handed
         * out: a version that was the newest when a client took it must not expire at the
         * next write merely because the system had been idle. So the front entry goes once
         * its successor is older than the cutoff. applied_ts_us >= 0 and window_us >= 0: no
         * overflow. */
        int64_t cutoff = s->applied_ts_us - s->cfg.window_us;
        while (s->clock.len > 1 && kv_ring_at(&s->clock, 1)->ts_us < cutoff)
            kv_ring_pop(&s->clock);
        if (kv_ring_front(&s->clock)->version > floor)
            floor = kv_ring_front(&s->clock)->version;
    }
    assert(floor <= s->applied_version);
    return floor;
}

/* Drops what no read can see any more: versions older than the newest one at or below the
 * floor, that one too when it is a tombstone, and the key when nothing is left. Returns false
 * when node was removed. */
static bool trim(kv_store *s, struct kv_node *n)
{
    struct kv_ver **link = &n->newest;
    while (*link != NULL && (*link)->version > s->floor_version)
        link = &(*link)->older;
    struct kv_ver *keep = *link;
    if (keep == NULL)
        return true;
    while (keep->older != NULL) {
        struct kv_ver *old = keep->older;
        keep->older = old->older;
        kv_ver_free(s, old);
    }
    if (kv_ver_is_tombstone(keep)) {
        *link = NULL;
        kv_ver_free(s, keep);
    }
    if (n->newest != NULL)
        return true;
    kv_index_remove(s->index, n);
    return false;
}

static void reclaim(kv_store *s)
{
    if (s->reclaim_held)
        return; /* writes_pending keeps counting: the backlog's budget */
    uint64_t paid = s->writes_pending < KV_RECLAIM_CATCHUP_MAX ? s->writes_pending
                                                               : KV_RECLAIM_CATCHUP_MAX;
    uint64_t budget = KV_RECLAIM_BUDGET_MIN + KV_RECLAIM_PER_WRITE * paid;
    s->writes_pending -= paid;
    for (; budget > 0; budget--) {
        const struct kv_ring_entry *e = kv_ring_front(&s->reclaim);
        if (e == NULL || e->version > s->floor_version)
            break;
        struct kv_node *n = e->node;
        kv_ring_pop(&s->reclaim);
        assert(n->queued);
        n->queued = 0;
        if (trim(s, n) && kv_node_reclaimable(n)) {
            /* What is left becomes reclaimable once the floor passes today's version; one
             * walk then frees a whole window of history, so the cost per version stays O(1). */
            kv_ring_push(&s->reclaim,
                         (struct kv_ring_entry){.version = s->applied_version, .node = n});
            n->queued = 1;
        }
    }
}

void kv_store_advance(kv_store *s, uint64_t version, int64_t timestamp_us)
{
    assert(version > s->applied_version);
    assert(version >= s->write_version);
    s->applied_version = version;
    s->write_version = version;
    if (timestamp_us > s->applied_ts_us)
        s->applied_ts_us = timestamp_us;
    if (s->cfg.window_us > 0)
        kv_ring_push(&s->clock, (struct kv_ring_entry){.version = version,
                                                       .ts_us = s->applied_ts_us});
    s->floor_version = next_floor(s);
    /* Entries below the floor no longer matter, except the last of them: versions have gaps,
     * and the time floor must still see where the window's time edge falls. */
    while (s->clock.len > 1 && kv_ring_at(&s->clock, 1)->version <= s->floor_version)
        kv_ring_pop(&s->clock);
    reclaim(s);
}

void kv_store_hold_reclaim(kv_store *s, bool hold)
{
    s->reclaim_held = hold;
}

bool kv_store_reclaim_held(const kv_store *s)
{
    return s->reclaim_held;
}
