/* progress.h: the leader's view of one follower: match/next, probe/replicate/snapshot, window. */
#ifndef CONSENSUS_PROGRESS_H
#define CONSENSUS_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#define CONSENSUS_INFLIGHT_MAX 64u

/*
 * PROBE: one append at a time until the follower's log matches (after a rejection or at
 * election). REPLICATE: next runs ahead of match; up to inflight_max batches in flight.
 * SNAPSHOT: the follower needs the snapshot at pending_snapshot; nothing else is sent.
 */
enum progress_state { PROGRESS_PROBE = 0, PROGRESS_REPLICATE, PROGRESS_SNAPSHOT };

struct progress {
    uint64_t match;
    uint64_t match_high;  /* the highest match in this term: below it only after
                             cons_progress_lost */
    uint64_t next;
    enum progress_state state;
    bool probe_sent;
    bool recent_active;   /* heard from in this check-quorum period */
    uint64_t pending_snapshot;
    uint32_t stall_ticks; /* ticks without progress while waiting on the follower */
    uint64_t acked_seq;   /* highest heartbeat round the follower answered */
    uint64_t commit_sent; /* highest commit index the follower was told */
    uint64_t incarnation; /* the follower's, as last heard in this term (0: not yet) */
    bool stale;           /* it sent another incarnation than its bound one: never counted */
    uint64_t inflight[CONSENSUS_INFLIGHT_MAX]; /* last index of each batch, ascending */
    uint32_t inflight_start;
    uint32_t inflight_count;
};

void cons_progress_reset(struct progress *pr, uint64_t next);
void cons_progress_become_probe(struct progress *pr);
void cons_progress_become_replicate(struct progress *pr);
void cons_progress_become_snapshot(struct progress *pr, uint64_t snap_index);
/* The follower's log ends below match: it lost acknowledged entries (its disk was wiped).
   Nothing is known to match any more; the caller probes it again. */
void cons_progress_lost(struct progress *pr);
/* True if index raised match. */
bool cons_progress_update(struct progress *pr, uint64_t index);
bool cons_progress_inflight_full(const struct progress *pr, uint32_t inflight_max);
void cons_progress_inflight_add(struct progress *pr, uint64_t last);
void cons_progress_inflight_free_to(struct progress *pr, uint64_t index);
void cons_progress_inflight_free_first(struct progress *pr);

void cons_progress_invariants(const struct progress *pr, uint64_t last_index,
                              uint32_t inflight_max);

#endif
