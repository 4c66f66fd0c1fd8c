/* cluster_snap_take.c: taking snapshots in the background, then compacting the log below them
   (keeping snapshot_catchup_entries entries, so a follower a little behind gets entries). */
#include "cluster_internal.h"

#include "log.h"

/* A durable snapshot holds everything up to index: the core keeps its tail, the WAL follows. */
static void compact(struct cluster_node *n, uint64_t index, uint64_t term)
{
    n->snapshot_index = index;
    n->snapshot_term = term;
    int rc = consensus_compact(n->core, index, term);
    if (rc != 0 && rc != CONSENSUS_ERR_STALE) {
        log_warn("cluster: the core refused snapshot %llu: %s", (unsigned long long)index,
                 consensus_strerror(rc));
        return;
    }
    const struct cluster_io_ops *io = n->io->ops;
    uint64_t start = consensus_first_index(n->core) - 1, log_start, log_term;
    io->snapshot_point(n->io, &log_start, &log_term);
    /* Not past the log's end: a received snapshot the core holds (its log starts after it)
       may wait for its install, which restarts the log anyway. */
    if (start > log_start && start <= io->last_index(n->io) &&
        io->compact(n->io, start, consensus_term_at(n->core, start)) != 0)
        log_warn("cluster: compacting the log to %llu failed: %s", (unsigned long long)start,
                 io->last_error(n->io));
    log_info("cluster: snapshot at %llu, log kept from %llu", (unsigned long long)index,
             (unsigned long long)start + 1);
}

void cluster_snapshot_done(struct cluster_node *n, uint64_t index, bool ok)
{
    if (!n->snap_taking || index != n->snap_taking_index)
        return;
    n->snap_taking = false;
    /* A failed node's core may be stopped inside a batch (between ready and advance), where
       it must not be compacted: the snapshot is the server's, and a restart finds it. */
    if (n->failed)
        return;
    if (ok && index > n->snapshot_index) /* else an installed snapshot passed it */
        compact(n, index, n->snap_taking_term);
}

/* Starts a snapshot of the applied state (the server may finish it before returning). */
static void snapshot_now(struct cluster_node *n, bool force)
{
    uint64_t index = consensus_applied_index(n->core);
    uint64_t term = consensus_term_at(n->core, index);
    if (term == 0) {
        log_warn("cluster: no term for applied index %llu: no snapshot", (unsigned long long)index);
        return;
    }
    n->snap_taking = true;
    n->snap_taking_index = index;
    n->snap_taking_term = term;
    if (n->cb.snap.begin(n->cb.ctx, index, term, force) != 0 && n->snap_taking &&
        n->snap_taking_index == index)
        n->snap_taking = false; /* not now: asked again after a later turn */
}

/* After each ready turn: take a snapshot when due (or a peer needs one and there is none),
   then move the transfers along. */
void cluster_snap_maybe_take(struct cluster_node *n)
{
    if (!n->cb.snap.begin)
        return;
    uint64_t applied = consensus_applied_index(n->core);
    bool due = n->cfg.snapshot_every && applied >= n->snapshot_index + n->cfg.snapshot_every;
    bool wanted = false;
    for (uint32_t i = 0; i < CONSENSUS_MEMBERS_MAX; i++)
        wanted |= n->peers[i].snap_out && n->snapshot_index == 0;
    if ((due || wanted) && !n->snap_taking && applied > n->snapshot_index)
        snapshot_now(n, wanted);
    cluster_snap_pump(n);
}
