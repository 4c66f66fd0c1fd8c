/* server_handle_health.c: getClusterHealth; on a follower it answers with the leader's view. A follower
   hears only from the leader, so its own view would call every other follower unreachable
   while the cluster is healthy. It asks the leader over the authenticated peer link (as
   Consul's `operator raft list-peers` asks the leader); every entry says whose view it is
   (reported_by), and its last_contact_ms how fresh. When the leader cannot be asked in time
   the node answers its own view, and says so. */
#include "server_handlers.h"

#include "cluster_net.h"
#include "server_rep.h"

#include <stdio.h>
#include <string.h>

static int encode_call(void *ctx, tp_buf *out, int32_t seqid)
{
    (void)ctx;
    GetClusterHealthRequest q;
    GetClusterHealthRequest_init(&q);
    return TransactionalKV_getClusterHealth_send(out, seqid, &q) == 0 && !out->failed ? 0 : -1;
}

/* The leader's answer with this node's own entry, fresher from here, in its place. */
static int merge_own(const struct server_node *n, ClusterHealth *h)
{
    char self[SERVER_MEMBER_ID_MAX];
    server_member_id(n, self);
    for (uint32_t i = 0; i < h->nodes.count; i++) {
        NodeStatus *st = &h->nodes.items[i];
        if (st->node_id.len != strlen(self) || memcmp(st->node_id.data, self, st->node_id.len))
            continue;
        NodeStatus_free(st);
        NodeStatus_init(st);
        return server_fill_status(n, st, self);
    }
    return ErrorCode_INTERNAL;   /* the leader's answer does not list this node */
}

static void forwarded(void *ctx, int err, int32_t seqid, const uint8_t *msg, size_t len)
{
    struct server_request *req = ctx;
    TransactionalKV_getClusterHealth_result *res = req->result;
    if (err == CLUSTER_ERR_CLOSED) {   /* the node is stopping: its cluster is gone */
        res->has_success = true;
        SERVER_SET_ERROR(&res->success, ErrorCode_SHUTTING_DOWN);
        server_request_done(req);
        return;
    }
    tp_reader r;
    tp_reader_init(&r, msg, len, &req->node->wire_limits);
    tp_app_exception ax;
    tp_app_exception_init(&ax);
    bool ok = err == 0 && TransactionalKV_getClusterHealth_recv(&r, seqid, res, &ax) == 0 &&
              res->has_success && res->success.success && merge_own(req->node, &res->success) == 0;
    tp_app_exception_free(&ax);
    if (ok) {
        server_request_done(req);
        return;
    }
    TransactionalKV_getClusterHealth_result_free(res);
    TransactionalKV_getClusterHealth_result_init(res);
    server_health_local(req);   /* the leader could not tell: what this node knows */
}

void server_handle_get_cluster_health(struct server_request *req)
{
    const struct server_node *n = req->node;
    struct cluster_status cs;
    if (n->rep)
        cluster_status(n->rep->cluster, &cs);
    /* A forwarded call is never forwarded again; the leader answers its own view. */
    if (!n->rep || req->from_peer || cs.leader == CONSENSUS_NONE || cs.leader == cs.id ||
        cluster_net_forward(n->rep->tp, cs.leader, n->cfg->peer_call_timeout_ms, encode_call,
                            NULL, forwarded, req) != 0)
        server_health_local(req);
}
