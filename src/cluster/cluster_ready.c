/* cluster_ready.c: one ready batch handled as consensus.h prescribes: send, persist, sync once,
   acknowledge, apply, answer reads, advance; or, when it may, sync in the background. */
#include "cluster_internal.h"

#include "log.h"

#include <assert.h>
#include <stdlib.h>

static bool is_response(enum consensus_msg_type t)
{
    return cluster_wire_response_method(t) >= 0;
}

static void count_msg(struct cluster_stats *st, const struct consensus_msg *m)
{
    if (is_response(m->type)) {
        st->responses++;
    } else if (m->type == CONSENSUS_MSG_APPEND) {
        st->appends++;
        st->append_entries += m->entry_count;
    } else if (m->type == CONSENSUS_MSG_COMMIT) {
        st->commits++;
    }
}

void cluster_stats_maybe_log(struct cluster_node *n, int64_t now_ms)
{
    struct cluster_stats *st = &n->stats;
    if (now_ms - st->since_ms < 1000)
        return;
    if (st->turns > 0)
        log_debug("cluster: %lld ms: %llu turns, %llu entries in %llu writes (%llu background "
                  "syncs), %llu appends carrying %llu entries, %llu commit notes, %llu answers, "
                  "%llu applied",
                  (long long)(now_ms - st->since_ms), (unsigned long long)st->turns,
                  (unsigned long long)st->entries, (unsigned long long)st->persist_turns,
                  (unsigned long long)st->bg_syncs,
                  (unsigned long long)st->appends, (unsigned long long)st->append_entries,
                  (unsigned long long)st->commits, (unsigned long long)st->responses,
                  (unsigned long long)st->applied);
    *st = (struct cluster_stats){.since_ms = now_ms};
}

/* False when the log could not give back the entries an append needs (storage failed). */
static bool send_msg(struct cluster_node *n, const struct consensus_msg *m)
{
    count_msg(&n->stats, m);
    if (is_response(m->type)) {
        cluster_inbound_answer(n, m);
        return true;
    }
    if (m->type == CONSENSUS_MSG_SNAPSHOT) {
        cluster_snap_send_start(n, m);
        return true;
    }
    struct cluster_reloaded reloaded;
    const struct consensus_msg *full = cluster_reload(n, m, &reloaded);
    if (!full) {
        cluster_reloaded_free(&reloaded);
        return false;
    }
    union cluster_wire_request req;
    int method = -1;
    int rc = cluster_wire_request_out(full, &method, &req);
    if (rc == 0)
        rc = cluster_transport_call(n->tp, m->to, method, &req,
                                    m->type == CONSENSUS_MSG_READ_INDEX ? m->seq : 0);
    cluster_wire_request_release(method, &req);
    cluster_reloaded_free(&reloaded);
    if (rc != 0 && m->type == CONSENSUS_MSG_READ_INDEX)
        cluster_read_failed(n, m->seq, CLUSTER_ERR_NO_LEADER);
    /* Anything else lost is retried by the core (heartbeats, elections). */
    return true;
}

/* Sends the batch's messages that go before (or after) it persists; false as send_msg. */
static bool send_msgs(struct cluster_node *n, const struct consensus_ready *rd, bool before)
{
    for (size_t i = 0; i < rd->msg_count; i++)
        if (rd->msgs[i].send_before_persist == before && !send_msg(n, &rd->msgs[i]))
            return false;
    return true;
}

/* Writes the batch's entries (the WAL drops a conflicting suffix first); no sync. */
static int write_entries(struct cluster_node *n, const struct consensus_ready *rd)
{
    if (rd->entry_count == 0)
        return 0;
    n->stats.persist_turns++;
    n->stats.entries += rd->entry_count;
    const struct cluster_io_ops *io = n->io->ops;
    uint64_t first = rd->entries[0].index;
    if (first <= io->last_index(n->io) && io->truncate_suffix(n->io, first) != 0)
        return CLUSTER_ERR_IO;
    for (size_t i = 0; i < rd->entry_count; i++) {
        const struct consensus_entry *e = &rd->entries[i];
        if (io->append(n->io, e->index, e->term, e->data, e->len) != 0)
            return CLUSTER_ERR_IO;
    }
    return 0;
}

/* Written, not yet synced (a background sync may be under way for earlier batches). */
static bool unsynced(const struct cluster_node *n)
{
    return n->io->ops->durable_index(n->io) < n->io->ops->last_index(n->io);
}

static int persist(struct cluster_node *n, const struct consensus_ready *rd)
{
    if (rd->hard_state_changed && n->io->ops->hard_state_save(n->io, &rd->hard_state) != 0)
        return CLUSTER_ERR_IO;
    if (rd->snapshot_apply && cluster_snap_persist(n, rd->snapshot_index, rd->snapshot_term) != 0)
        return CLUSTER_ERR_IO;
    if (write_entries(n, rd) != 0)
        return CLUSTER_ERR_IO;
#if PLANTED_BUG_ack_before_persist /* planted bug (tools/mutants): the sync runs behind the acks */
    if (cluster_bg_sync(n) && !cluster_sync_in_flight(n) && unsynced(n))
        return n->io->ops->sync_start(n->io);
#endif
    /* One sync for this batch and any earlier one written without a sync (consensus.h).
       Under storage.fsync N ms the io's sync_due syncs at most every N ms (acknowledging
       before the sync is what that setting asks for); with no writes coming, the heartbeat
       turns that pass through here sync what is left. */
    if (unsynced(n) && n->io->ops->sync_due(n->io) != 0)
        return CLUSTER_ERR_IO;
    return 0;
}

/*
 * Steps 0 and 1. A deferrable batch (consensus.h) under background syncing is only written:
 * the sync thread makes it durable and consensus_persisted() reports it. Any other batch
 * first waits for a background sync in flight (one per WAL), then writes and syncs here.
 * Returns 0 or CLUSTER_ERR_IO; *deferred says which way it went.
 */
static int persist_batch(struct cluster_node *n, const struct consensus_ready *rd, bool *deferred)
{
    *deferred = rd->sync_may_defer && cluster_bg_sync(n);
    if (!*deferred)
        return cluster_sync_wait(n) == 0 ? persist(n, rd) : CLUSTER_ERR_IO;
    if (write_entries(n, rd) != 0)
        return CLUSTER_ERR_IO;
    if (!cluster_sync_in_flight(n) && unsynced(n))
        return n->io->ops->sync_start(n->io);
    return 0;
}

static int apply_committed(struct cluster_node *n, const struct consensus_ready *rd)
{
    if (rd->snapshot_apply)
        cluster_proposals_applied(n, rd->snapshot_index, 0); /* covered ones are lost */
    for (size_t i = 0; i < rd->committed_count; i++) {
        const struct consensus_entry *e = &rd->committed[i];
        if (cluster_member_applying(n, e)) {
            if (n->cb.apply(n->cb.ctx, e->index, e->term, NULL, 0, NULL) != 0)
                return CLUSTER_ERR_IO;
            cluster_proposals_applied(n, e->index, e->term);
            continue;
        }
        void *proposal = cluster_proposal_of(n, e->index, e->term);
        if (n->cb.apply(n->cb.ctx, e->index, e->term, e->data, e->len, proposal) != 0)
            return CLUSTER_ERR_IO;
        cluster_proposals_applied(n, e->index, e->term);
    }
    return 0;
}

/* One batch; false when storage failed (nothing after the failure leaves the node). */
/* Member identity (consensus.h): what an operator must know, once each. */
static void identity_log(struct cluster_node *n, const struct consensus_ready *rd)
{
    for (size_t i = 0; i < rd->stale_member_count; i++) {
        const struct consensus_stale_member *s = &rd->stale_members[i];
        /* Another cluster: one it states, or none from a node not bound here (a member
           bound to another incarnation that states none is a wiped one: the warning below). */
        if (n->cfg.cluster_id != 0 && s->cluster_id != n->cfg.cluster_id &&
            (s->cluster_id != 0 || s->bound == 0)) {
            log_error("member %u of cluster %016llx (0: none stated) reached this node, which "
                      "joins cluster %016llx only (deployment.join.cluster_id): refused, this "
                      "node neither votes nor takes entries from it. Check the config: the "
                      "cluster id is the one kvctl status shows for the cluster to join",
                      s->id, (unsigned long long)s->cluster_id,
                      (unsigned long long)n->cfg.cluster_id);
            continue;
        }
        log_warn("member %u came back with a new data dir (incarnation %016llx, bound "
                 "%016llx, cluster %016llx): it is refused; remove member %u and add it again as "
                 "a new member", s->id, (unsigned long long)s->incarnation,
                 (unsigned long long)s->bound, (unsigned long long)s->cluster_id, s->id);
    }
    uint64_t bound = 0;
    if (rd->self_refused && consensus_self_refused(n->core, &bound))
        log_error("this node's member id %u is bound to another data dir (incarnation %016llx; "
                  "this one is %016llx): its data dir was wiped or copied. It no longer votes, "
                  "campaigns or takes entries: remove member %u and add this node again as a new "
                  "member", n->cfg.id, (unsigned long long)bound,
                  (unsigned long long)n->cfg.incarnation, n->cfg.id);
    const struct consensus_member *self = consensus_membership_find(rd->membership, n->cfg.id);
    if (!n->identity_bound_logged && self != NULL && n->cfg.incarnation != 0 &&
        self->incarnation == n->cfg.incarnation) {
        n->identity_bound_logged = true;
        log_info("this data dir (incarnation %016llx) is bound as member %u of cluster %016llx",
                 (unsigned long long)self->incarnation, n->cfg.id,
                 (unsigned long long)rd->membership->cluster_id);
    }
}

static bool handle_ready(struct cluster_node *n)
{
    struct consensus_ready rd;
    consensus_ready(n->core, &rd);
    n->stats.turns++;
    n->stats.applied += rd.committed_count;
    if (rd.membership_changed) /* links to every member before the batch's messages go */
        cluster_peers_sync(n, rd.membership);
    n->in_ready = true;
    bool deferred = false;
    const char *failed = !send_msgs(n, &rd, true)                ? "reading the log back"
                         : persist_batch(n, &rd, &deferred) != 0 ? "persisting to the log"
                         : !send_msgs(n, &rd, false)             ? "reading the log back"
                                                                 : NULL;
    if (failed) {
        n->in_ready = false;
        cluster_fail(n, failed);
        return false;
    }
    if (apply_committed(n, &rd) != 0) {
        n->in_ready = false;
        cluster_fail(n, "applying a committed entry");
        return false;
    }
    for (size_t i = 0; i < rd.read_count; i++)
        cluster_reads_state(n, &rd.reads[i]);
    n->in_ready = false;
    if (rd.membership_changed)
        cluster_member_log(n, rd.membership);
    identity_log(n, &rd);
    bool role_changed = rd.role_changed;
    enum consensus_role role = rd.role;
    uint64_t term = rd.term;
    uint32_t leader = rd.leader;
    if (deferred)
        consensus_advance_unsynced(n->core, &rd);
    else
        consensus_advance(n->core, &rd);
    cluster_release(n);
    cluster_reads_applied(n);
    if (role_changed)
        cluster_proposals_stranded(n, role, term, leader);
    if (role_changed && n->cb.role_changed)
        n->cb.role_changed(n->cb.ctx, role, term, leader);
    return true;
}

void cluster_ready_turn(struct cluster_node *n)
{
    assert(!n->in_ready);
    uint64_t gen = n->step_gen;
    if (!n->failed) {
        /* What became durable outside a background sync's end (a segment roll, a sync by
           the owner) counts too; the core ignores what it knew. */
        if (cluster_bg_sync(n))
            consensus_persisted(n->core, n->io->ops->durable_index(n->io));
        cluster_peers_lost_apply(n);
        /* What a batch's apply and reads let in (a read parked behind the writes just
           answered, a proposal) reaches the core after its advance, in this turn: a 1-node
           leader answers such a read at once, with the writes ahead of it. */
        do {
            cluster_submit_deferred(n);
            cluster_held_run(n);
        } while (consensus_has_ready(n->core) && handle_ready(n));
        if (!n->failed)
            cluster_snap_maybe_take(n);
    }
    cluster_held_fail_all(n, CLUSTER_ERR_IO); /* storage failed in a batch: none was stepped */
    cluster_inbound_flush(n, n->failed ? UINT64_MAX : gen);
    cluster_waiters_deliver(n);
    cluster_transfer_check(n, cluster_clock(n));
#ifndef NDEBUG
    const char *broken = cluster_invariants(n, false);
    if (broken)
        log_error("cluster: node %u: invariant broken: %s", n->cfg.id, broken);
    assert(!broken);
#endif
}
