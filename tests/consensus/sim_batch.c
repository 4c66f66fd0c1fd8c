/* sim_batch.c: handling a ready batch as consensus.h prescribes: synced now, or in the background. */
#include <assert.h>

#include "sim.h"

void sim_batch_begin(struct sim_world *w, uint32_t i);
void sim_batch_finish(struct sim_world *w, uint32_t i);
void sim_batch_bg_sync_done(struct sim_world *w, uint32_t i);

static void send(struct sim_world *w, uint32_t i, const struct consensus_msg *m)
{
    if (w->trace.messages) {
        char buf[140];
        consensus_describe_msg(m, buf, sizeof buf);
        sim_trace_add(&w->trace, w->now, "send %s", buf);
    }
    if (m->type == CONSENSUS_MSG_SNAPSHOT)
        sim_snap_order(w, i, m); /* the server streams the snapshot in chunks */
    else
        bus_send(&w->bus, &w->rng, w->now, m);
}

static void trace_role(struct sim_world *w, uint32_t i, const struct consensus_ready *rd)
{
    if (!rd->role_changed)
        return;
    sim_trace_add(&w->trace, w->now, "node %u is %s in term %llu (leader %d) last %llu commit %llu",
                  i, consensus_role_name(rd->role), (unsigned long long)rd->term,
                  rd->leader == CONSENSUS_NONE ? -1 : (int)rd->leader,
                  (unsigned long long)consensus_last_index(w->nodes[i].core),
                  (unsigned long long)consensus_commit_index(w->nodes[i].core));
}

/* What a driver logs: a member back with a new data dir, or this node refused. */
static void trace_identity(struct sim_world *w, uint32_t i, const struct consensus_ready *rd)
{
    for (size_t k = 0; k < rd->stale_member_count; k++) {
        const struct consensus_stale_member *s = &rd->stale_members[k];
        sim_trace_add(&w->trace, w->now, "node %u: member %u came back with incarnation %016llx "
                      "(bound %016llx): refused", i, s->id, (unsigned long long)s->incarnation,
                      (unsigned long long)s->bound);
    }
    w->stale_reports += rd->stale_member_count;
    if (rd->self_refused)
        sim_trace_add(&w->trace, w->now, "node %u REFUSED: its id is bound to another data dir", i);
    w->self_refusals += rd->self_refused;
}

static void acknowledge(struct sim_world *w, uint32_t i, const struct consensus_entry *e)
{
    for (size_t p = w->props_done; p < w->prop_count; p++) {
        struct sim_proposal *pr = &w->props[p];
        if (!pr->pending || pr->node != i || pr->index != e->index)
            continue;
        pr->acked = pr->payload_hash == sim_payload_hash(e->data, e->len) && e->len > 0;
        w->check.acked += pr->acked;
        sim_client_proposal_done(w, p);
    }
}

/* Steps 3 and 4: apply, answer reads. */
static void apply(struct sim_world *w, uint32_t i, const struct consensus_ready *rd)
{
    struct sim_node *n = &w->nodes[i];
    if (rd->snapshot_apply) {
        n->sm = n->recv_snap;
        sim_check_applied(w, i);
    }
    for (size_t k = 0; k < rd->committed_count; k++) {
        sim_check_committed(w, i, &rd->committed[k]);
        sim_sm_apply(&n->sm, &rd->committed[k]);
        acknowledge(w, i, &rd->committed[k]);
    }
    if (rd->committed_count > 0)
        sim_check_applied(w, i);
    for (size_t k = 0; k < rd->read_count; k++)
        sim_check_read(w, i, &rd->reads[k]);
    sim_client_batch(w, i, rd);
}

/* A background sync of every write so far, unless one is running (it starts the next). */
static void bg_sync_start(struct sim_world *w, uint32_t i)
{
    struct sim_node *n = &w->nodes[i];
    if (n->bg_syncing || sim_disk_pending_records(&n->disk) == 0)
        return;
    n->bg_syncing = true;
    n->bg_records = sim_disk_pending_records(&n->disk);
    n->bg_done_at = w->now + 1 + sim_rng_below(&w->rng, w->bg_delay_max);
}

/* Called by the world when a background sync is due: storage reports its durable index. */
void sim_batch_bg_sync_done(struct sim_world *w, uint32_t i)
{
    struct sim_node *n = &w->nodes[i];
    assert(n->bg_syncing && !n->syncing);
    sim_disk_sync_records(&n->disk, n->bg_records);
    n->bg_syncing = false;
    uint64_t durable = sim_disk_durable_index(&n->disk);
    if (w->trace.messages)
        sim_trace_add(&w->trace, w->now, "node %u synced to %llu", i,
                      (unsigned long long)durable);
    consensus_persisted(n->core, durable);
    w->core_inputs++;
    w->bg_syncs++;
    bg_sync_start(w, i); /* what was written meanwhile: group commit */
}

/* Steps 0 and 1: early messages out, then the write (synced later, or now). A deferrable
   batch may instead be written, applied and advanced at once, synced in the background. */
void sim_batch_begin(struct sim_world *w, uint32_t i)
{
    struct sim_node *n = &w->nodes[i];
    assert(n->core != NULL && !n->syncing);
    consensus_ready(n->core, &n->rd);
    trace_role(w, i, &n->rd);
    trace_identity(w, i, &n->rd);
    for (size_t k = 0; k < n->rd.msg_count; k++)
        if (n->rd.msgs[k].send_before_persist)
            send(w, i, &n->rd.msgs[k]);
    if (n->rd.snapshot_apply && n->recv_snap.applied != n->rd.snapshot_index)
        sim_world_fail(w, "node %u told to apply snapshot %llu it never received", i,
                       (unsigned long long)n->rd.snapshot_index);
    sim_disk_write(&n->disk, &n->rd, n->rd.snapshot_apply ? &n->recv_snap : NULL);
    if (n->rd.sync_may_defer && sim_rng_chance(&w->rng, w->defer_ppm)) {
        apply(w, i, &n->rd);
        consensus_advance_unsynced(n->core, &n->rd);
        bg_sync_start(w, i);
        return;
    }
    /* This batch's sync covers every earlier write too: a running background one is moot. */
    n->bg_syncing = false;
    n->syncing = true;
    n->sync_done_at = w->now + sim_rng_below(&w->rng, w->sync_delay_max + 1);
    if (n->sync_done_at == w->now)
        sim_batch_finish(w, i);
}

/* Steps 2 to 5: after the sync, acknowledgements out, apply, reads, advance. */
void sim_batch_finish(struct sim_world *w, uint32_t i)
{
    struct sim_node *n = &w->nodes[i];
    assert(n->syncing);
    sim_disk_sync(&n->disk);
    const struct consensus_ready *rd = &n->rd;
    for (size_t k = 0; k < rd->msg_count; k++) {
        if (rd->msgs[k].send_before_persist)
            continue;
        sim_check_before_send(w, i, &rd->msgs[k]);
        send(w, i, &rd->msgs[k]);
    }
    apply(w, i, rd);
    consensus_advance(n->core, rd);
    n->syncing = false;
    while (n->pending_ticks > 0) {
        n->pending_ticks--;
        consensus_tick(n->core);
        w->core_inputs++;
    }
}
