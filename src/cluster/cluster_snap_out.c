/* cluster_snap_out.c: taking snapshots (then compacting) and streaming them to lagging peers. */
#include "cluster_internal.h"

#include "crc32c.h"
#include "log.h"
#include "metrics.h"
#include "wal.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* One transfer in flight to a peer: the chunk at offset is out, or waits for retry_at. */
struct cluster_snap_out {
    uint64_t index, term;
    uint64_t offset;
    uint64_t total;     /* the snapshot's size, known from the first chunk */
    uint32_t crc;       /* crc32c of the bytes before offset */
    uint32_t crc_next;  /* ... and through the chunk in flight */
    bool in_flight;
    bool wanted;        /* ordered during a ready turn: started after it */
    int64_t retry_at_ms;
};

#define SNAP_DONE_BIT (1ull << 63)

/* The log below index is no longer needed: a durable snapshot holds it. */
static void compact(struct cluster_node *n, uint64_t index, uint64_t term)
{
    n->snapshot_index = index;
    n->snapshot_term = term;
    if (consensus_compact(n->core, index, term) != 0 || wal_compact(n->wal, index, term) != 0)
        log_warn("cluster: compacting to %llu failed", (unsigned long long)index);
    log_info("cluster: snapshot at %llu, log compacted", (unsigned long long)index);
}

/* snapshot_save: the snapshot is taken on the loop and kept in memory. */
static int take(struct cluster_node *n, uint64_t index, uint64_t term)
{
    uint8_t *data = NULL;
    size_t len = 0;
    if (n->cb.snapshot_save(n->cb.ctx, index, &data, &len) != 0)
        return CLUSTER_ERR_IO;
    free(n->snap_data);
    n->snap_data = data;
    n->snap_len = len;
    compact(n, index, term);
    log_info("cluster: snapshot at %llu is %zu bytes", (unsigned long long)index, len);
    return 0;
}

void cluster_snapshot_done(struct cluster_node *n, uint64_t index, bool ok)
{
    if (!n->snap_taking || index != n->snap_taking_index)
        return;
    n->snap_taking = false;
    if (ok && index > n->snapshot_index) /* else an installed snapshot passed it */
        compact(n, index, n->snap_taking_term);
}

/* Points *data at the chunk at o->offset (at most CLUSTER_SNAPSHOT_CHUNK_BYTES, the last one
   may be shorter); -1 when the snapshot o sends is gone. */
static int chunk_at(struct cluster_node *n, struct cluster_snap_out *o, const uint8_t **data,
                    size_t *len)
{
    if (!n->cb.snapshot_read) {
        if (o->index != n->snapshot_index || !n->snap_data)
            return -1; /* replaced by a newer one */
        o->total = n->snap_len;
        uint64_t left = o->total - o->offset;
        *data = n->snap_data + o->offset;
        *len = left < CLUSTER_SNAPSHOT_CHUNK_BYTES ? (size_t)left : CLUSTER_SNAPSHOT_CHUNK_BYTES;
        return 0;
    }
    if (!n->snap_chunk && !(n->snap_chunk = malloc(CLUSTER_SNAPSHOT_CHUNK_BYTES)))
        return -1;
    uint64_t total = 0;
    if (n->cb.snapshot_read(n->cb.ctx, o->index, o->offset, n->snap_chunk,
                            CLUSTER_SNAPSHOT_CHUNK_BYTES, len, &total) != 0)
        return -1;
    if (o->offset == 0)
        o->total = total;
    if (total != o->total || total == 0 || total > CLUSTER_SNAPSHOT_BYTES_MAX || *len == 0 ||
        o->offset + *len > total)
        return -1;
    *data = n->snap_chunk;
    return 0;
}

/* Starts o over with the newest snapshot, after a pause. */
static void restart(struct cluster_node *n, struct cluster_snap_out *o)
{
    o->offset = 0;
    o->crc = 0;
    o->index = n->snapshot_index;
    o->term = n->snapshot_term;
    o->retry_at_ms = cluster_now_ms() + n->cfg.heartbeat_interval_ms;
}

static void send_chunk(struct cluster_node *n, uint32_t peer)
{
    struct cluster_snap_out *o = n->snap_out[peer];
    const uint8_t *data;
    size_t chunk;
    if (chunk_at(n, o, &data, &chunk) != 0) {
        restart(n, o);
        return;
    }
    bool done = o->offset + chunk == o->total;
    o->crc_next = crc32c_extend(o->crc, data, chunk);
    InstallSnapshotRequest req;
    InstallSnapshotRequest_init(&req);
    int rc = cluster_id_set(&req.leader_id, n->cfg.id);
    req.leader_term = (int64_t)consensus_term(n->core);
    req.last_included_index = (int64_t)o->index;
    req.last_included_term = (int64_t)o->term;
    req.offset = (int64_t)o->offset;
    req.data.data = (uint8_t *)data; /* borrowed for the encode */
    req.data.len = (uint32_t)chunk;
    req.done = done;
    req.has_total_size = true;
    req.total_size = (int64_t)o->total;
    req.has_crc32c = done;
    req.crc32c = (int32_t)o->crc_next;
    uint64_t tag = (o->offset + chunk) | (done ? SNAP_DONE_BIT : 0);
    if (rc == 0)
        rc = cluster_transport_call(n->tp, peer, TransactionalKV_METHOD_installSnapshot, &req, tag);
    req.data.data = NULL;
    req.data.len = 0;
    InstallSnapshotRequest_free(&req);
    o->in_flight = rc == 0;
    if (rc == 0)
        metrics_count(METRIC_SNAPSHOT_SENT_BYTES, chunk);
    if (rc != 0)
        o->retry_at_ms = cluster_now_ms() + n->cfg.heartbeat_interval_ms;
}

/* Ordered by the core (inside a ready turn): the transfer starts after the turn. */
void cluster_snap_send_start(struct cluster_node *n, const struct consensus_msg *m)
{
    if ((!n->cb.snapshot_save && !n->cb.snapshot_begin) || m->to >= n->cfg.node_count)
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
        restart(n, o);
        return;
    }
    o->offset = tag & ~SNAP_DONE_BIT;
    o->crc = o->crc_next;
    if (!(tag & SNAP_DONE_BIT))
        return; /* the next chunk leaves from cluster_snap_maybe_take */
    struct consensus_msg m = {.type = CONSENSUS_MSG_SNAPSHOT_RESP, .from = peer, .to = n->cfg.id,
                              .term = (uint64_t)resp->term, .success = true, .index = o->index};
    consensus_step(n->core, &m);
    free(o);
    n->snap_out[peer] = NULL;
}

/* Takes (snapshot_save) or starts (snapshot_begin) a snapshot of the applied state. */
static void snapshot_now(struct cluster_node *n, bool force)
{
    uint64_t index = consensus_applied_index(n->core);
    uint64_t term = consensus_term_at(n->core, index);
    int rc = term == 0 ? CLUSTER_ERR_IO : 0;
    if (rc == 0 && n->cb.snapshot_save) {
        rc = take(n, index, term);
    } else if (rc == 0 && !n->snap_taking) {
        if (n->cb.snapshot_begin(n->cb.ctx, index, term, force) != 0)
            return; /* not now: asked again after a later turn */
        n->snap_taking = true;
        n->snap_taking_index = index;
        n->snap_taking_term = term;
    }
    if (rc != 0)
        log_warn("cluster: taking a snapshot at %llu failed", (unsigned long long)index);
}

/* After each ready turn: take a snapshot when due, and move transfers along. */
void cluster_snap_maybe_take(struct cluster_node *n)
{
    if (!n->cb.snapshot_save && !n->cb.snapshot_begin)
        return;
    uint64_t applied = consensus_applied_index(n->core);
    bool have = n->cb.snapshot_save ? n->snap_data != NULL : n->snapshot_index > 0;
    bool due = n->cfg.snapshot_every && applied >= n->snapshot_index + n->cfg.snapshot_every;
    bool wanted = false;
    for (uint32_t i = 0; i < n->cfg.node_count; i++)
        wanted |= n->snap_out[i] && n->snap_out[i]->wanted && !have;
    if ((due || wanted) && (n->cb.snapshot_save || applied > n->snapshot_index))
        snapshot_now(n, wanted);
    have = n->cb.snapshot_save ? n->snap_data != NULL : n->snapshot_index > 0;
    int64_t now = cluster_now_ms();
    for (uint32_t i = 0; i < n->cfg.node_count; i++) {
        struct cluster_snap_out *o = n->snap_out[i];
        if (!o || o->in_flight || !have || o->retry_at_ms > now)
            continue;
        if (consensus_role(n->core) != CONSENSUS_LEADER) {
            free(o);
            n->snap_out[i] = NULL;
            continue;
        }
        if (o->wanted || o->offset == 0) { /* (re)start with the newest snapshot */
            o->wanted = false;
            restart(n, o);
            o->retry_at_ms = 0;
        }
        send_chunk(n, i);
    }
}
