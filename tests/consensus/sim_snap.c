/* sim_snap.c: snapshot transfers as the server runs them: chunks in a window, acks, resume. */
#include <assert.h>
#include <string.h>

#include "sim.h"

/*
 * The model of src/cluster's snapshot streaming, on the bus with its loss, duplication and
 * delay. The leader's order (CONSENSUS_MSG_SNAPSHOT) starts a transfer, or resumes the one
 * under way for the same (index, term). Chunks leave in order, paced, at most `window` beyond
 * the last acknowledged one; an ack moves that mark and reports progress to the core. No
 * progress for resend_units sends again from the mark. The follower keeps the chunks it
 * holds in order, answers where it stands, and steps the snapshot into its core once whole;
 * the core's SNAPSHOT_RESP (the answer to the last chunk) ends the transfer.
 */

static uint32_t chunks_of(const struct sim_world *w, uint64_t index)
{
    uint64_t h = (index + 1) * 0x9e3779b97f4a7c15ull ^ w->seed;
    h ^= h >> 29;
    uint32_t lo = w->snap.chunks_min ? w->snap.chunks_min : 1;
    assert(w->snap.chunks_max >= lo);
    return lo + (uint32_t)(h % (w->snap.chunks_max - lo + 1));
}

void sim_snap_reset(struct sim_node *n)
{
    memset(n->xfer, 0, sizeof n->xfer);
    memset(&n->recv, 0, sizeof n->recv);
}

void sim_snap_order(struct sim_world *w, uint32_t leader, const struct consensus_msg *m)
{
    struct sim_node *n = &w->nodes[leader];
    struct sim_xfer *x = &n->xfer[m->to];
    /* The server streams its snapshot file: the state it holds at that index. */
    assert(n->disk.snap_index == m->index);
    if (x->active && x->index == m->index && x->term == m->term) {
        w->snap_stats.resumed++;
        sim_trace_add(&w->trace, w->now, "node %u RESUMES snapshot %llu to %u at chunk %u/%u",
                      leader, (unsigned long long)m->index, m->to, x->acked, x->total);
        return;
    }
    *x = (struct sim_xfer){.active = true, .term = m->term, .index = m->index,
                           .log_term = m->log_term, .snap = n->disk.snap_sm,
                           .total = chunks_of(w, m->index), .progress_at = w->now,
                           .send_at = w->now};
    w->snap_stats.started++;
    sim_trace_add(&w->trace, w->now, "node %u STARTS snapshot %llu/%llu to %u: %u chunks", leader,
                  (unsigned long long)m->index, (unsigned long long)m->log_term, m->to, x->total);
}

static void send_chunk(struct sim_world *w, uint32_t from, uint32_t to, struct sim_xfer *x)
{
    struct consensus_msg m = {.type = CONSENSUS_MSG_SNAPSHOT, .from = from, .to = to,
                              .term = x->term, .index = x->index, .log_term = x->log_term};
    struct sim_chunk c = {.index = x->index, .log_term = x->log_term, .offset = x->sent,
                          .total = x->total, .epoch = x->epoch};
    bus_send_chunk(&w->bus, &w->rng, w->now, BUS_CHUNK, &m, &c, &x->snap);
    x->sent++;
    x->send_at = w->now + w->snap.chunk_units;
    w->snap_stats.chunks++;
}

static void rewind_to(struct sim_world *w, struct sim_xfer *x, uint32_t chunk)
{
    x->sent = x->acked = chunk;
    x->epoch++;
    x->progress_at = w->now;
    w->snap_stats.rewinds++;
}

void sim_snap_pump(struct sim_world *w, uint32_t i)
{
    struct sim_node *n = &w->nodes[i];
    if (n->core == NULL || n->syncing)
        return;
    for (uint32_t p = 0; p < w->node_count; p++) {
        struct sim_xfer *x = &n->xfer[p];
        if (!x->active)
            continue;
        /* A transfer belongs to a leader's term: a former leader drops it. */
        if (consensus_role(n->core) != CONSENSUS_LEADER || consensus_term(n->core) != x->term) {
            x->active = false;
            continue;
        }
        if (x->sent > x->acked && w->now - x->progress_at >= w->snap.resend_units)
            rewind_to(w, x, x->acked); /* acks lost, or chunks: again from the mark */
        while (x->sent < x->total && x->sent - x->acked < w->snap.window && w->now >= x->send_at)
            send_chunk(w, i, p, x);
    }
}

static void ack(struct sim_world *w, const struct bus_msg *bm, bool success, uint32_t next)
{
    struct consensus_msg m = {.type = CONSENSUS_MSG_SNAPSHOT_RESP, .from = bm->m.to,
                              .to = bm->m.from,
                              .term = consensus_term(w->nodes[bm->m.to].core)};
    struct sim_chunk c = bm->chunk;
    c.success = success;
    c.next = next;
    bus_send_chunk(&w->bus, &w->rng, w->now, BUS_CHUNK_ACK, &m, &c, NULL);
}

static bool same_transfer(const struct sim_recv *r, const struct bus_msg *bm)
{
    return r->active && r->from == bm->m.from && r->term == bm->m.term &&
           r->index == bm->chunk.index && r->total == bm->chunk.total;
}

/* A whole snapshot goes to the core; one it does not accept is released at once. */
static void complete(struct sim_world *w, struct sim_node *n)
{
    struct sim_recv *r = &n->recv;
    struct consensus_msg m = {.type = CONSENSUS_MSG_SNAPSHOT, .from = r->from, .to = n->id,
                              .term = r->term, .index = r->index, .log_term = r->log_term,
                              .membership = &r->snap.conf};
    r->active = false;
    n->recv_snap = r->snap;
    int err = consensus_step(n->core, &m);
    w->core_inputs++;
    w->delivered[CONSENSUS_MSG_SNAPSHOT]++;
    if (err != 0)
        sim_world_fail(w, "node %u refused a whole snapshot: %s", n->id, consensus_strerror(err));
    if (!consensus_snapshot_accepted(n->core)) {
        memset(&n->recv_snap, 0, sizeof n->recv_snap);
        w->snap_stats.released++;
    }
}

/* The follower's side of one chunk (cluster_snap_receive's model). */
static void on_chunk(struct sim_world *w, struct sim_node *n, const struct bus_msg *bm)
{
    const struct sim_chunk *c = &bm->chunk;
    struct sim_recv *r = &n->recv;
    if (bm->m.term < consensus_term(n->core) || consensus_snapshot_accepted(n->core)) {
        ack(w, bm, false, 0); /* a stale leader (our term tells it), or one install at a time */
        return;
    }
    if (consensus_commit_index(n->core) >= c->index) {
        ack(w, bm, true, c->total); /* we hold it already */
        return;
    }
    if (!same_transfer(r, bm)) {
        /* Only chunk 0 starts a transfer, and a late one of an older transfer (a lower
           term, or an older snapshot of the same leader) leaves the newer partial alone. */
        bool older = r->active && (bm->m.term < r->term ||
                                   (bm->m.term == r->term && c->index < r->index));
        if (c->offset != 0 || older) {
            ack(w, bm, false, 0);
            return;
        }
        *r = (struct sim_recv){.active = true, .from = bm->m.from, .term = bm->m.term,
                               .index = c->index, .log_term = c->log_term, .total = c->total,
                               .snap = bm->snap};
    }
    if (c->offset > r->have) {
        ack(w, bm, false, r->have); /* a gap: resend from what we hold */
        return;
    }
    if (memcmp(&bm->snap, &r->snap, sizeof r->snap) != 0)
        sim_world_fail(w, "node %u: chunk %u of snapshot %llu carries other data", n->id,
                       c->offset, (unsigned long long)c->index);
    if (c->offset == r->have)
        r->have++;
    if (r->have == r->total)
        complete(w, n); /* the core's SNAPSHOT_RESP answers the last chunk */
    else
        ack(w, bm, true, r->have);
}

/* The leader's side of one ack (cluster_snap_on_reply's model). */
static void on_ack(struct sim_world *w, struct sim_node *n, const struct bus_msg *bm)
{
    const struct sim_chunk *c = &bm->chunk;
    struct sim_xfer *x = &n->xfer[bm->m.from];
    if (bm->m.term > consensus_term(n->core)) {
        struct consensus_msg m = {.type = CONSENSUS_MSG_SNAPSHOT_RESP, .from = bm->m.from,
                                  .to = n->id, .term = bm->m.term};
        consensus_step(n->core, &m); /* a newer term: step down */
        w->core_inputs++;
        return;
    }
    if (!x->active || x->index != c->index || x->term != consensus_term(n->core))
        return;
    if (!c->success) {
        if (c->epoch == x->epoch)
            rewind_to(w, x, c->next);
        return;
    }
    if (c->next <= x->acked)
        return;
    x->acked = c->next;
    if (x->sent < x->acked)
        x->sent = x->acked;
    x->progress_at = w->now;
    consensus_snapshot_progress(n->core, bm->m.from, x->index);
    w->core_inputs++;
    if (x->acked < x->total)
        return;
    /* The follower holds it already: what its core would have answered. */
    struct consensus_msg m = {.type = CONSENSUS_MSG_SNAPSHOT_RESP, .from = bm->m.from,
                              .to = n->id, .term = bm->m.term, .success = true,
                              .index = x->index};
    x->active = false;
    w->snap_stats.done++;
    consensus_step(n->core, &m);
    w->core_inputs++;
}

void sim_snap_deliver(struct sim_world *w, struct bus_msg *bm)
{
    struct sim_node *n = &w->nodes[bm->m.to];
    assert(n->core != NULL && !n->syncing);
    if (bm->kind == BUS_CHUNK)
        on_chunk(w, n, bm);
    else
        on_ack(w, n, bm);
}

void sim_snap_resp(struct sim_world *w, const struct consensus_msg *m)
{
    struct sim_node *n = &w->nodes[m->to];
    struct sim_xfer *x = &n->xfer[m->from];
    if (!m->success || !x->active || m->index < x->index || m->term != x->term)
        return;
    x->active = false;
    w->snap_stats.done++;
    sim_trace_add(&w->trace, w->now, "node %u snapshot %llu to %u DONE", m->to,
                  (unsigned long long)x->index, m->from);
}
