/* cluster_snap_out.c: taking snapshots (then compacting) and streaming them to lagging peers. */
#include "cluster_internal.h"

#include "crc32c.h"
#include "log.h"
#include "wal.h"

#include <stdlib.h>
#include <string.h>

/* One transfer in flight to a peer: the chunk at offset is out, or waits for retry_at. */
struct cluster_snap_out {
    uint64_t index, term;
    size_t offset;
    bool in_flight;
    bool wanted;        /* ordered during a ready turn: started after it */
    int64_t retry_at_ms;
};

#define SNAP_DONE_BIT (1ull << 63)

static int take(struct cluster_node *n)
{
    uint64_t index = consensus_applied_index(n->core);
    uint64_t term = consensus_term_at(n->core, index);
    uint8_t *data = NULL;
    size_t len = 0;
    if (term == 0 || n->cb.snapshot_save(n->cb.ctx, index, &data, &len) != 0)
        return CLUSTER_ERR_IO;
    free(n->snap_data);
    n->snap_data = data;
    n->snap_len = len;
    n->snapshot_index = index;
    n->snapshot_term = term;
    if (consensus_compact(n->core, index, term) != 0 || wal_compact(n->wal, index, term) != 0)
        log_warn("cluster: compacting to %llu failed", (unsigned long long)index);
    log_info("cluster: snapshot at %llu (%zu bytes)", (unsigned long long)index, len);
    return 0;
}

static void send_chunk(struct cluster_node *n, uint32_t peer)
{
    struct cluster_snap_out *o = n->snap_out[peer];
    size_t left = n->snap_len - o->offset;
    size_t chunk = left < CLUSTER_SNAPSHOT_CHUNK_BYTES ? left : CLUSTER_SNAPSHOT_CHUNK_BYTES;
    bool done = o->offset + chunk == n->snap_len;
    InstallSnapshotRequest req;
    InstallSnapshotRequest_init(&req);
    int rc = cluster_id_set(&req.leader_id, n->cfg.id);
    req.leader_term = (int64_t)consensus_term(n->core);
    req.last_included_index = (int64_t)o->index;
    req.last_included_term = (int64_t)o->term;
    req.offset = (int64_t)o->offset;
    req.data.data = n->snap_data + o->offset; /* borrowed for the encode */
    req.data.len = (uint32_t)chunk;
    req.done = done;
    req.has_total_size = true;
    req.total_size = (int64_t)n->snap_len;
    req.has_crc32c = done;
    req.crc32c = (int32_t)crc32c(n->snap_data, n->snap_len);
    uint64_t tag = (o->offset + chunk) | (done ? SNAP_DONE_BIT : 0);
    if (rc == 0)
        rc = cluster_transport_call(n->tp, peer, TransactionalKV_METHOD_installSnapshot, &req, tag);
    req.data.data = NULL;
    req.data.len = 0;
    InstallSnapshotRequest_free(&req);
    o->in_flight = rc == 0;
    if (rc != 0)
        o->retry_at_ms = cluster_now_ms() + n->cfg.heartbeat_interval_ms;
}

/* Ordered by the core (inside a ready turn): the transfer starts after the turn. */
void cluster_snap_send_start(struct cluster_node *n, const struct consensus_msg *m)
{
    if (!n->cb.snapshot_save || m->to >= n->cfg.node_count)
        return;
    if (!n->snap_out[m->to]) {
        n->snap_out[m->to] = calloc(1, sizeof *n->snap_out[m->to]);
        if (!n->snap_out[m->to])
            return;
    }
    n->snap_out[m->to]->wanted = true;
}

void cluster_snap_on_reply(struct cluster_node *n, uint32_t peer, uint64_t tag, int err,
                           const InstallSnapshotResponse *resp)
{
    struct cluster_snap_out *o = n->snap_out[peer];
    if (!o || !o->in_flight)
        return;
    o->in_flight = false;
    if (err != 0 || !resp->success || (uint64_t)resp->term > consensus_term(n->core)) {
        if (err == 0 && resp->term >= 0 && (uint64_t)resp->term > consensus_term(n->core)) {
            struct consensus_msg m = {.type = CONSENSUS_MSG_SNAPSHOT_RESP, .from = peer,
                                      .to = n->cfg.id, .term = (uint64_t)resp->term};
            consensus_step(n->core, &m); /* a newer term: step down */
        }
        o->offset = 0;
        o->retry_at_ms = cluster_now_ms() + n->cfg.heartbeat_interval_ms;
        return;
    }
    o->offset = (size_t)(tag & ~SNAP_DONE_BIT);
    if (!(tag & SNAP_DONE_BIT))
        return; /* the next chunk leaves from cluster_snap_maybe_take */
    struct consensus_msg m = {.type = CONSENSUS_MSG_SNAPSHOT_RESP, .from = peer, .to = n->cfg.id,
                              .term = (uint64_t)resp->term, .success = true, .index = o->index};
    consensus_step(n->core, &m);
    free(o);
    n->snap_out[peer] = NULL;
}

/* After each ready turn: take a snapshot when due, and move transfers along. */
void cluster_snap_maybe_take(struct cluster_node *n)
{
    if (!n->cb.snapshot_save)
        return;
    uint64_t applied = consensus_applied_index(n->core);
    bool due = n->cfg.snapshot_every && applied >= n->snapshot_index + n->cfg.snapshot_every;
    bool wanted = false;
    for (uint32_t i = 0; i < n->cfg.node_count; i++)
        wanted |= n->snap_out[i] && n->snap_out[i]->wanted && !n->snap_data;
    if ((due || wanted) && take(n) != 0)
        log_warn("cluster: taking a snapshot at %llu failed", (unsigned long long)applied);
    int64_t now = cluster_now_ms();
    for (uint32_t i = 0; i < n->cfg.node_count; i++) {
        struct cluster_snap_out *o = n->snap_out[i];
        if (!o || o->in_flight || !n->snap_data || o->retry_at_ms > now)
            continue;
        if (consensus_role(n->core) != CONSENSUS_LEADER) {
            free(o);
            n->snap_out[i] = NULL;
            continue;
        }
        if (o->wanted || o->offset == 0) { /* (re)start with the newest snapshot */
            o->wanted = false;
            o->offset = 0;
            o->index = n->snapshot_index;
            o->term = n->snapshot_term;
        }
        send_chunk(n, i);
    }
}
