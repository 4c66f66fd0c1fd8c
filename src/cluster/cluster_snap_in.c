/* cluster_snap_in.c: a snapshot arriving in chunks: bounds, order, crc32c, then the core. */
#include "cluster_internal.h"

#include "crc32c.h"
#include "log.h"
#include "metrics.h"
#include "wal.h"

#include <stdlib.h>
#include <string.h>

struct cluster_snap_in {
    uint32_t from;
    uint64_t term, index, log_term;
    uint64_t total;
    uint8_t *data;
    size_t len;
    bool complete; /* stepped into the core; waiting for snapshot_apply */
};

static void snap_in_free(struct cluster_node *n)
{
    if (n->snap_in)
        free(n->snap_in->data);
    free(n->snap_in);
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

/* Adds the chunk; false when it does not continue what we hold (the leader restarts). */
static bool take_chunk(struct cluster_node *n, uint32_t from, const InstallSnapshotRequest *r)
{
    struct cluster_snap_in *in = n->snap_in;
    bool same = in && !in->complete && in->from == from && in->term == (uint64_t)r->leader_term &&
                in->index == (uint64_t)r->last_included_index &&
                in->total == (uint64_t)r->total_size;
    if (!same || r->offset == 0) {
        if (in && in->complete)
            return false; /* one install at a time */
        snap_in_free(n);
        if (r->offset != 0)
            return false;
        in = n->snap_in = calloc(1, sizeof *in);
        if (!in || !(in->data = malloc((size_t)r->total_size)))
            return snap_in_free(n), false;
        *in = (struct cluster_snap_in){from, (uint64_t)r->leader_term,
                                       (uint64_t)r->last_included_index,
                                       (uint64_t)r->last_included_term, (uint64_t)r->total_size,
                                       in->data, 0, false};
    }
    if ((uint64_t)r->offset != in->len)
        return false;
    if (r->data.len)
        memcpy(in->data + in->len, r->data.data, r->data.len);
    in->len += r->data.len;
    metrics_count(METRIC_SNAPSHOT_RECEIVED_BYTES, r->data.len);
    return true;
}

static int answer_now(struct cluster_node *n, uint32_t from, InstallSnapshotResponse *resp,
                      bool ok, cluster_done_fn done, void *ctx)
{
    struct cluster_inbound *ib = calloc(1, sizeof *ib);
    if (!ib || cluster_id_set(&resp->node_id, n->cfg.id) != 0) {
        free(ib);
        return CLUSTER_ERR_NOMEM;
    }
    resp->term = (int64_t)consensus_term(n->core);
    resp->success = ok;
    resp->has_next_offset = true;
    resp->next_offset = n->snap_in ? (int64_t)n->snap_in->len : 0;
    *ib = (struct cluster_inbound){.from = from, .method = TransactionalKV_METHOD_installSnapshot,
                                   .gen = ++n->step_gen, .response = resp, .done = done,
                                   .ctx = ctx, .answered = true};
    cluster_inbound_add(n, ib);
    cluster_schedule(n);
    return 0;
}

int cluster_snap_receive(struct cluster_node *n, uint32_t from, const InstallSnapshotRequest *req,
                         InstallSnapshotResponse *resp, cluster_done_fn done, void *ctx)
{
    uint32_t claimed;
    if (cluster_id_parse(&req->leader_id, n->cfg.node_count, &claimed) != 0 || claimed != from ||
        !request_ok(req) || !n->cb.snapshot_restore)
        return CLUSTER_ERR_INVALID;
    if ((uint64_t)req->leader_term < consensus_term(n->core))
        return answer_now(n, from, resp, false, done, ctx); /* stale leader: our term tells */
    if (!take_chunk(n, from, req))
        return answer_now(n, from, resp, false, done, ctx);
    if (!req->done)
        return answer_now(n, from, resp, true, done, ctx);
    struct cluster_snap_in *in = n->snap_in;
    if (in->len != in->total || crc32c(in->data, in->len) != (uint32_t)req->crc32c) {
        log_warn("cluster: snapshot from node %u fails its checksum", from);
        snap_in_free(n);
        return answer_now(n, from, resp, false, done, ctx);
    }
    struct cluster_inbound *ib = calloc(1, sizeof *ib);
    if (!ib)
        return CLUSTER_ERR_NOMEM;
    *ib = (struct cluster_inbound){.from = from, .method = TransactionalKV_METHOD_installSnapshot,
                                   .gen = ++n->step_gen, .response = resp, .done = done,
                                   .ctx = ctx};
    in->complete = true;
    struct consensus_msg m = {.type = CONSENSUS_MSG_SNAPSHOT, .from = from, .to = n->cfg.id,
                              .term = in->term, .index = in->index, .log_term = in->log_term};
    if (consensus_step(n->core, &m) != 0) {
        free(ib);
        snap_in_free(n);
        return CLUSTER_ERR_INVALID;
    }
    n->last_heard_ms[from] = cluster_now_ms();
    cluster_inbound_add(n, ib);
    cluster_schedule(n);
    return 0;
}

/* Ready step 1 for an accepted snapshot: the server restores it durably, the log restarts. */
int cluster_snap_persist(struct cluster_node *n, uint64_t index, uint64_t term)
{
    struct cluster_snap_in *in = n->snap_in;
    if (!in || !in->complete || in->index != index || in->log_term != term) {
        log_error("cluster: the core installs a snapshot we do not hold (%llu)",
                  (unsigned long long)index);
        return CLUSTER_ERR_IO;
    }
    int rc = n->cb.snapshot_restore(n->cb.ctx, index, term, in->data, in->len);
    if (rc == 0)
        rc = wal_reset(n->wal, index, term) == 0 ? 0 : CLUSTER_ERR_IO;
    if (rc == 0) {
        free(n->snap_data); /* keep what we installed, to feed others if we lead (the */
        n->snap_data = NULL; /* server's file does when snapshot_read is there) */
        n->snap_len = in->len;
        if (!n->cb.snapshot_read) {
            n->snap_data = in->data;
            in->data = NULL;
        }
        n->snapshot_index = index;
        n->snapshot_term = term;
        log_info("cluster: installed snapshot at %llu from node %u", (unsigned long long)index,
                 in->from);
    }
    snap_in_free(n);
    return rc;
}

void cluster_snap_free_all(struct cluster_node *n)
{
    snap_in_free(n);
    for (uint32_t i = 0; i < CONSENSUS_NODES_MAX; i++) {
        free(n->snap_out[i]);
        n->snap_out[i] = NULL;
    }
    free(n->snap_data);
    n->snap_data = NULL;
    free(n->snap_chunk);
    n->snap_chunk = NULL;
}
