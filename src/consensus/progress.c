/* progress.c: per-follower replication state and its bounded in-flight window. */
#include "progress.h"

#include <assert.h>
#include <string.h>

void cons_progress_reset(struct progress *pr, uint64_t next)
{
    assert(next >= 1);
    memset(pr, 0, sizeof *pr);
    pr->next = next;
    pr->state = PROGRESS_PROBE;
}

static void clear_inflight(struct progress *pr)
{
    pr->inflight_start = 0;
    pr->inflight_count = 0;
}

void cons_progress_become_probe(struct progress *pr)
{
    pr->next = pr->match + 1;
    pr->state = PROGRESS_PROBE;
    pr->probe_sent = false;
    pr->pending_snapshot = 0;
    pr->stall_ticks = 0;
    clear_inflight(pr);
}

void cons_progress_become_replicate(struct progress *pr)
{
    pr->state = PROGRESS_REPLICATE;
    pr->next = pr->match + 1;
    pr->probe_sent = false;
    pr->pending_snapshot = 0;
    pr->stall_ticks = 0;
    clear_inflight(pr);
}

void cons_progress_become_snapshot(struct progress *pr, uint64_t snap_index)
{
    assert(snap_index > pr->match);
    pr->state = PROGRESS_SNAPSHOT;
    pr->pending_snapshot = snap_index;
    pr->probe_sent = false;
    pr->stall_ticks = 0;
    clear_inflight(pr);
}

void cons_progress_lost(struct progress *pr)
{
    pr->match = 0;
    pr->commit_sent = 0; /* what it was told is gone with its log */
    cons_progress_become_probe(pr);
}

bool cons_progress_update(struct progress *pr, uint64_t index)
{
    if (index <= pr->match) {
        return false;
    }
    pr->match = index;
    if (pr->match_high < index)
        pr->match_high = index;
    if (pr->next <= index)
        pr->next = index + 1;
    pr->probe_sent = false;
    pr->stall_ticks = 0;
    return true;
}

bool cons_progress_inflight_full(const struct progress *pr, uint32_t inflight_max)
{
    assert(inflight_max <= CONSENSUS_INFLIGHT_MAX);
    return pr->inflight_count >= inflight_max;
}

void cons_progress_inflight_add(struct progress *pr, uint64_t last)
{
    assert(pr->inflight_count < CONSENSUS_INFLIGHT_MAX);
    if (pr->inflight_count > 0) {
        uint32_t tail = (pr->inflight_start + pr->inflight_count - 1) % CONSENSUS_INFLIGHT_MAX;
        assert(pr->inflight[tail] < last);
    }
    uint32_t slot = (pr->inflight_start + pr->inflight_count) % CONSENSUS_INFLIGHT_MAX;
    pr->inflight[slot] = last;
    pr->inflight_count++;
}

void cons_progress_inflight_free_to(struct progress *pr, uint64_t index)
{
    while (pr->inflight_count > 0 && pr->inflight[pr->inflight_start] <= index)
        cons_progress_inflight_free_first(pr);
}

void cons_progress_inflight_free_first(struct progress *pr)
{
    assert(pr->inflight_count > 0);
    pr->inflight_start = (pr->inflight_start + 1) % CONSENSUS_INFLIGHT_MAX;
    pr->inflight_count--;
}

void cons_progress_invariants(const struct progress *pr, uint64_t last_index,
                              uint32_t inflight_max)
{
    assert(pr->match < pr->next);
    assert(pr->match <= pr->match_high);
    assert(pr->next <= last_index + 1);
    assert(pr->match <= last_index);
    assert(pr->inflight_count <= inflight_max);
    if (pr->state != PROGRESS_REPLICATE)
        assert(pr->inflight_count == 0);
    if (pr->state == PROGRESS_SNAPSHOT)
        assert(pr->pending_snapshot > 0);
    else
        assert(pr->pending_snapshot == 0);
    uint64_t prev = pr->match;
    for (uint32_t i = 0; i < pr->inflight_count; i++) {
        uint64_t last = pr->inflight[(pr->inflight_start + i) % CONSENSUS_INFLIGHT_MAX];
        assert(last > prev);
        assert(last < pr->next);
        prev = last;
    }
}
