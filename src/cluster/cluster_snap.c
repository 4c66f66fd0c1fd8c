/* cluster_snap.c: snapshots: taking them, streaming them in chunks, assembling received ones. */
#include "cluster_internal.h"

#include "log.h"

void cluster_snap_send_start(struct cluster_node *n, const struct consensus_msg *m)
{
    (void)n;
    log_warn("cluster: node %u needs a snapshot; not implemented yet", m->to);
}

void cluster_snap_on_reply(struct cluster_node *n, uint32_t peer, uint64_t tag, int err,
                           const InstallSnapshotResponse *resp)
{
    (void)n, (void)peer, (void)tag, (void)err, (void)resp;
}

int cluster_snap_receive(struct cluster_node *n, uint32_t from, const InstallSnapshotRequest *req,
                         InstallSnapshotResponse *resp, cluster_done_fn done, void *ctx)
{
    (void)n, (void)from, (void)req, (void)resp, (void)done, (void)ctx;
    return CLUSTER_ERR_INVALID;
}

int cluster_snap_persist(struct cluster_node *n, uint64_t index, uint64_t term)
{
    (void)n, (void)index, (void)term;
    return CLUSTER_ERR_IO;
}

void cluster_snap_maybe_take(struct cluster_node *n) { (void)n; }
void cluster_snap_free_all(struct cluster_node *n) { (void)n; }
