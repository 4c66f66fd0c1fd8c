/* cluster_snap_in.c: a snapshot arriving in chunks: bounds, order, crc32c, into the server's
   temp storage; then the core, and the install in the ready turn. */
#include "cluster_internal.h"

#include "crc32c.h"
#include "log.h"
#include "metrics.h"

#include <stdlib.h>
#include <string.h>

/*
 * Chunks are written in order as they come (memory holds one chunk, not the snapshot): a
 * chunk at the end of what we hold is written, one already held is acknowledged again, one
 * past it is refused with where we stand (next_offset), so the leader sends from there. A
 * chunk of another transfer starts over only at offset 0, and never for an older one (a lower
 * term, or an older snapshot of the same leader). Once whole, the bytes are checked against
 * the leader's crc32c and synced, and the snapshot is stepped into the core; one the core has
 * no use for is dropped at once. The install (ready step 1) hands it to the server, which
 * replaces its state, then the log restarts after it.
 */

#define SNAP_IN_LOG_EVERY_MS 5000

struct cluster_snap_in {
    uint32_t from;
    uint64_t term, index, log_term;
    uint64_t total;
    uint64_t len;  /* bytes held, in order */
    uint32_t crc;  /* crc32c of them */
    void *recv;    /* the server's temp storage */
    bool complete; /* stepped into the core, which accepted it: installed in the ready turn */
    int64_t started_ms, logged_ms;
};

static double mb(uint64_t bytes)
{
    return (double)bytes / (1024.0 * 1024.0);
}

static void snap_in_free(struct cluster_node *n)
{
    struct cluster_snap_in *in = n->snap_in;
    if (in && in->recv)
        n->cb.snap.recv_abort(n->cb.ctx, in->recv);
    free(in);
    n->snap_in = NULL;
}

static bool request_ok(const InstallSnapshotRequest *r)
{
    return r->leader_term >= 1 && r->last_included_index >= 1 && r->last_included_term >= 1 &&
           r->last_included_term <= r->leader_term && r->offset >= 0 &&
           r->data.len <= CLUSTER_SNAPSHOT_CHUNK_BYTES && r->has_total_size &&
           r->total_size > 0 && r->total_size <= (int64_t)CLUSTER_SNAPSHOT_BYTES_MAX &&
           r->offset <= r->total_size - (int64_t)r->data.len && /* no overflow: both bounded */
           (!r->done || (r->has_crc32c && r->offset + (int64_t)r->data.len == r->total_size));
}

static bool same_transfer(const struct cluster_snap_in *in, uint32_t from,
                          const InstallSnapshotRequest *r)
{
    return in && in->from == from && in->term == (uint64_t)r->leader_term &&
           in->index == (uint64_t)r->last_included_index &&
           in->total == (uint64_t)r->total_size;
}

/* A chunk of a transfer older than the one we hold leaves it alone. */
static bool older(const struct cluster_snap_in *in, uint32_t from, const InstallSnapshotRequest *r)
{
    return in && ((uint64_t)r->leader_term < in->term ||
                  ((uint64_t)r->leader_term == in->term && in->from == from &&
                   (uint64_t)r->last_included_index < in->index));
}

static int answer_now(struct cluster_node *n, uint32_t from, InstallSnapshotResponse *resp,
                      bool ok, uint64_t next, cluster_done_fn done, void *ctx)
{
    struct cluster_inbound *ib = calloc(1, sizeof *ib);
    if (!ib || cluster_id_set(&resp->node_id, n->cfg.id) != 0) {
        free(ib);
        return CLUSTER_ERR_NOMEM;
    }
    resp->term = (int64_t)consensus_term(n->core);
    resp->success = ok;
    resp->has_next_offset = true;
    resp->next_offset = (int64_t)next;
    *ib = (struct cluster_inbound){.from = from, .method = TransactionalKV_METHOD_installSnapshot,
                                   .gen = ++n->step_gen, .response = resp, .done = done,
                                   .ctx = ctx, .answered = true};
    cluster_inbound_add(n, ib);
    cluster_schedule(n);
    return 0;
}

/* Chunk 0 of a new transfer: temp storage for it, in place of any other. */
static struct cluster_snap_in *begin(struct cluster_node *n, uint32_t from,
                                     const InstallSnapshotRequest *r)
{
    snap_in_free(n);
    struct cluster_snap_in *in = calloc(1, sizeof *in);
    if (!in)
        return NULL;
    *in = (struct cluster_snap_in){.from = from, .term = (uint64_t)r->leader_term,
                                   .index = (uint64_t)r->last_included_index,
                                   .log_term = (uint64_t)r->last_included_term,
                                   .total = (uint64_t)r->total_size,
                                   .started_ms = cluster_clock(n)};
    in->logged_ms = in->started_ms;
    in->recv = n->cb.snap.recv_begin(n->cb.ctx, in->index, in->log_term, in->total);
    if (!in->recv) {
        free(in);
        return NULL;
    }
    n->snap_in = in;
    log_info("cluster: receiving snapshot %llu (term %llu, %.1f MB) from node %u",
             (unsigned long long)in->index, (unsigned long long)in->log_term, mb(in->total),
             from);
    return in;
}

/* Writes the part of the chunk past what we hold; false when storage failed. */
static bool take_chunk(struct cluster_node *n, struct cluster_snap_in *in,
                       const InstallSnapshotRequest *r)
{
    uint64_t end = (uint64_t)r->offset + r->data.len;
    if (end <= in->len)
        return true; /* held already: a resend */
    size_t skip = (size_t)(in->len - (uint64_t)r->offset);
    const uint8_t *data = r->data.data + skip;
    size_t len = r->data.len - skip;
    if (n->cb.snap.recv_write(n->cb.ctx, in->recv, in->len, data, len) != 0)
        return false;
    in->crc = crc32c_extend(in->crc, data, len);
    in->len = end;
    metrics_count(METRIC_SNAPSHOT_RECEIVED_BYTES, len);
    int64_t now = cluster_clock(n);
    if (now - in->logged_ms >= SNAP_IN_LOG_EVERY_MS) {
        log_info("cluster: snapshot %llu from node %u: %.1f of %.1f MB",
                 (unsigned long long)in->index, in->from, mb(in->len), mb(in->total));
        in->logged_ms = now;
    }
    return true;
}

/* The last byte arrived: checked, synced and stepped into the core, which answers. */
static int complete(struct cluster_node *n, uint32_t from, const InstallSnapshotRequest *r,
                    InstallSnapshotResponse *resp, cluster_done_fn done, void *ctx)
{
    struct cluster_snap_in *in = n->snap_in;
    double secs = (double)(cluster_clock(n) - in->started_ms) / 1000.0;
    if (in->crc != (uint32_t)r->crc32c || n->cb.snap.recv_sync(n->cb.ctx, in->recv) != 0) {
        log_warn("cluster: snapshot %llu from node %u %s; dropped", (unsigned long long)in->index,
                 from, in->crc != (uint32_t)r->crc32c ? "fails its checksum" : "cannot be synced");
        snap_in_free(n);
        return answer_now(n, from, resp, false, 0, done, ctx);
    }
    log_info("cluster: snapshot %llu from node %u received: %.1f MB in %.1f s (%.1f MB/s)",
             (unsigned long long)in->index, from, mb(in->total), secs,
             secs > 0 ? mb(in->total) / secs : 0.0);
    struct cluster_inbound *ib = calloc(1, sizeof *ib);
    if (!ib)
        return CLUSTER_ERR_NOMEM;
    *ib = (struct cluster_inbound){.from = from, .method = TransactionalKV_METHOD_installSnapshot,
                                   .gen = ++n->step_gen, .response = resp, .done = done,
                                   .ctx = ctx};
    struct consensus_membership conf;
    bool has_conf = n->cb.snap.recv_membership != NULL;
    if (has_conf && n->cb.snap.recv_membership(n->cb.ctx, in->recv, &conf) != 0) {
        log_warn("cluster: snapshot %llu from node %u holds no membership; dropped",
                 (unsigned long long)in->index, from);
        free(ib);
        snap_in_free(n);
        return answer_now(n, from, resp, false, 0, done, ctx);
    }
    struct consensus_msg m = {.type = CONSENSUS_MSG_SNAPSHOT, .from = from, .to = n->cfg.id,
                              .term = in->term, .index = in->index, .log_term = in->log_term,
                              .membership = has_conf ? &conf : NULL};
    if (consensus_step(n->core, &m) != 0) {
        free(ib);
        snap_in_free(n);
        return CLUSTER_ERR_INVALID;
    }
    if (consensus_snapshot_accepted(n->core)) {
        in->complete = true;
    } else { /* the core had no use for it: the storage goes now */
        log_info("cluster: snapshot %llu not needed (commit %llu): dropped",
                 (unsigned long long)in->index,
                 (unsigned long long)consensus_commit_index(n->core));
        snap_in_free(n);
    }
    cluster_heard(n, from);
    cluster_inbound_add(n, ib);
    cluster_schedule(n);
    return 0;
}

int cluster_snap_receive(struct cluster_node *n, uint32_t from, const InstallSnapshotRequest *req,
                         InstallSnapshotResponse *resp, cluster_done_fn done, void *ctx)
{
    uint32_t claimed;
    if (cluster_id_parse(&req->leader_id, CONSENSUS_NONE, &claimed) != 0 || claimed != from ||
        !request_ok(req) || !n->cb.snap.begin)
        return CLUSTER_ERR_INVALID;
    uint64_t total = (uint64_t)req->total_size;
    if ((uint64_t)req->leader_term < consensus_term(n->core))
        return answer_now(n, from, resp, false, 0, done, ctx); /* stale: our term tells */
    cluster_heard(n, from);
    if (consensus_commit_index(n->core) >= (uint64_t)req->last_included_index)
        return answer_now(n, from, resp, true, total, done, ctx); /* held already */
    struct cluster_snap_in *in = n->snap_in;
    if (in && in->complete)
        return answer_now(n, from, resp, false, 0, done, ctx); /* one install at a time */
    if (!same_transfer(in, from, req)) {
        if (req->offset != 0 || older(in, from, req))
            return answer_now(n, from, resp, false, 0, done, ctx);
        if (!(in = begin(n, from, req)))
            return answer_now(n, from, resp, false, 0, done, ctx);
    }
    if ((uint64_t)req->offset > in->len)
        return answer_now(n, from, resp, false, in->len, done, ctx); /* a gap */
    if (!take_chunk(n, in, req)) {
        log_warn("cluster: writing snapshot %llu failed; dropped", (unsigned long long)in->index);
        snap_in_free(n);
        return answer_now(n, from, resp, false, 0, done, ctx);
    }
    if (in->len < in->total || !req->done)
        return answer_now(n, from, resp, true, in->len, done, ctx);
    return complete(n, from, req, resp, done, ctx);
}

/* Ready step 1 for an accepted snapshot: the server installs it, the log restarts after it. */
int cluster_snap_persist(struct cluster_node *n, uint64_t index, uint64_t term)
{
    struct cluster_snap_in *in = n->snap_in;
    if (!in || !in->complete || in->index != index || in->log_term != term) {
        log_error("cluster: the core installs a snapshot we do not hold (%llu)",
                  (unsigned long long)index);
        return CLUSTER_ERR_IO;
    }
    void *recv = in->recv;
    in->recv = NULL; /* the install takes it, whatever its outcome */
    int rc = n->cb.snap.install(n->cb.ctx, recv, index, term) == 0 ? 0 : CLUSTER_ERR_IO;
    if (rc == 0 && n->io->ops->reset(n->io, index, term) != 0)
        rc = CLUSTER_ERR_IO;
    if (rc == 0) {
        n->snapshot_index = index;
        n->snapshot_term = term;
        log_info("cluster: installed snapshot %llu (term %llu) from node %u; the log restarts "
                 "after it", (unsigned long long)index, (unsigned long long)term, in->from);
        if (n->cb.snap.installed)
            n->cb.snap.installed(n->cb.ctx, index, term);
    }
    snap_in_free(n);
    return rc;
}

void cluster_snap_free_all(struct cluster_node *n)
{
    snap_in_free(n);
    cluster_snap_out_free_all(n);
    free(n->snap_chunk);
    n->snap_chunk = NULL;
}

const char *cluster_snap_in_check(const struct cluster_node *n)
{
    const struct cluster_snap_in *in = n->snap_in;
    if (!in)
        return NULL;
    if (in->from == CONSENSUS_NONE || in->from == n->cfg.id)
        return "a snapshot received from no peer";
    if (in->len > in->total || (in->complete && in->len != in->total))
        return "a received snapshot holds more than its size, or is complete short of it";
    if (!in->recv)
        return "a received snapshot with no storage";
    return NULL;
}
