/* cluster_invariants.c: the driver's invariants, checked after every turn (as the core's are). */
#include "cluster_internal.h"

/* Longer lists are walked only when asked (`full`): production walks them while they are short. */
#define WALK_MAX 1024u

static const char *proposals_check(const struct cluster_node *n, uint32_t *count)
{
    uint64_t applied = consensus_applied_index(n->core), prev = 0;
    const struct cluster_waiter *last = NULL;
    for (const struct cluster_waiter *w = n->proposals; w; w = w->next) {
        if (w->index < prev)
            return "proposal waiters out of index order";
        if (w->index <= applied)
            return "a proposal waiter at or below the applied index";
        if (!w->propose_done || w->data)
            return "a proposal waiter with no callback, or still holding its data";
        prev = w->index;
        last = w;
        ++*count;
    }
    return last == n->proposals_last ? NULL : "proposals_last is not the last proposal waiter";
}

static const char *others_check(const struct cluster_node *n, uint32_t *count)
{
    for (const struct cluster_waiter *w = n->reads; w; w = w->next, ++*count)
        if (!w->read_done)
            return "a read waiter with no callback";
    for (const struct cluster_waiter *w = n->finished; w; w = w->next)
        ++*count;
    struct cluster_waiter *const *tail = &n->deferred;
    for (const struct cluster_waiter *w = n->deferred; w; w = w->next, ++*count) {
        if (!w->propose_done || !w->data)
            return "a deferred proposal with no callback or no data";
        tail = &w->next;
    }
    return tail == n->deferred_tail ? NULL : "deferred_tail is not the deferred list's end";
}

static const char *waiters_check(const struct cluster_node *n)
{
    uint32_t count = 0;
    const char *bad = proposals_check(n, &count);
    if (!bad)
        bad = others_check(n, &count);
    if (!bad && count != n->waiter_count)
        bad = "waiter_count is not the number of waiters";
    return bad;
}

static const char *log_check(const struct cluster_node *n)
{
    const struct cluster_io_ops *io = n->io->ops;
    if (io->durable_index(n->io) > io->last_index(n->io))
        return "the log is durable past its end";
    if (cluster_sync_in_flight(n) && !cluster_bg_sync(n))
        return "a background sync in flight on a node that syncs in its batches";
    if (n->failed)
        return NULL; /* the core stops where storage failed */
    /* With no batch pending (a proposal made as an outcome was delivered makes one), the
       log holds all the core holds. */
    if (!consensus_has_ready(n->core) && io->last_index(n->io) != consensus_last_index(n->core))
        return "the log and the core disagree on the last index";
    if (consensus_applied_index(n->core) > consensus_commit_index(n->core))
        return "applied past the commit index";
    if (n->snap_taking && n->snap_taking_index > consensus_applied_index(n->core))
        return "a snapshot being taken past the applied index";
    return NULL;
}

const char *cluster_invariants(const struct cluster_node *n, bool full)
{
    if (n->in_ready)
        return "a turn ended inside a ready batch";
    if (n->held)
        return "a peer call held past its ready turn";
    if (n->failed && (n->proposals || n->reads || n->deferred))
        return "a failed node holds waiters";
    const char *bad = log_check(n);
    if (!bad && (full || n->waiter_count <= WALK_MAX))
        bad = waiters_check(n);
    if (!bad)
        bad = cluster_snap_out_check(n);
    if (!bad)
        bad = cluster_snap_in_check(n);
    return bad;
}
