/* server_transfer.c: leadership transfer: the transferLeader call, and a leader's SIGTERM. */
#include "server_handlers.h"
#include "server_rep.h"

#include "cluster.h"
#include "cluster_wire.h"
#include "log.h"

#include <stdio.h>
#include <string.h>

static void answer(struct server_request *req, int code, const char *text)
{
    TransactionalKV_transferLeader_result *res = req->result;
    TransferLeaderResponse *out = &res->success;
    res->has_success = true;
    out->success = code == 0;
    if (code != 0) {
        out->has_error = tp_bytes_set_str(&out->error, text ? text : server_error_text(code)) == 0;
        out->has_error_code = true;
        out->error_code = (ErrorCode)code;
    }
    if (code == ErrorCode_NOT_LEADER && req->node->rep)
        SERVER_SET_HINT(out, server_rep_leader_hint(req->node));
    server_request_done(req);
}

static void on_transferred(void *ctx, int err, uint32_t leader)
{
    struct server_request *req = ctx;
    if (err == 0) {
        char id[16];
        snprintf(id, sizeof id, "%u", leader);
        TransferLeaderResponse *out = &((TransactionalKV_transferLeader_result *)req->result)->success;
        out->has_leader_id = tp_bytes_set_str(&out->leader_id, id) == 0;
        answer(req, 0, NULL);
        return;
    }
    answer(req, err == CLUSTER_ERR_TIMEOUT ? ErrorCode_TIMEOUT
                : err == CLUSTER_ERR_CLOSED ? ErrorCode_SHUTTING_DOWN
                                            : ErrorCode_UNAVAILABLE,
           err == CLUSTER_ERR_TIMEOUT ? "the target did not win within two election timeouts: "
                                        "transfer aborted, the leader goes on"
                                      : NULL);
}

void server_handle_transfer_leader(struct server_request *req)
{
    struct server_node *n = req->node;
    const TransferLeaderRequest *in = &((TransactionalKV_transferLeader_args *)req->args)->request;
    if (!n->rep) {
        answer(req, ErrorCode_INVALID_ARGUMENT, "a standalone node has no one to hand over to");
        return;
    }
    if (n->stopping) {
        answer(req, ErrorCode_SHUTTING_DOWN, NULL);
        return;
    }
    uint32_t target = CONSENSUS_NONE;
    if (in->has_target_id && cluster_id_parse(&in->target_id, CONSENSUS_NONE, &target)) {
        answer(req, ErrorCode_INVALID_ARGUMENT, "target_id: no such member");
        return;
    }
    int rc = cluster_transfer_leader(n->rep->cluster, target, on_transferred, req);
    switch (rc) {
    case 0: return; /* answered by on_transferred */
    case CLUSTER_ERR_NOT_LEADER: answer(req, ErrorCode_NOT_LEADER, NULL); return;
    case CLUSTER_ERR_BUSY: answer(req, ErrorCode_BUSY, "a leadership transfer is under way"); return;
    case CLUSTER_ERR_INVALID:
        answer(req, ErrorCode_INVALID_ARGUMENT,
               target == CONSENSUS_NONE ? "no follower to hand over to"
                                        : "target_id: this node leads already");
        return;
    default: answer(req, ErrorCode_UNAVAILABLE, cluster_strerror(rc)); return;
    }
}

static void on_stop_transferred(void *ctx, int err, uint32_t leader)
{
    struct server_node *n = ctx;
    if (err == CLUSTER_ERR_CLOSED)
        return; /* the node is closing anyway */
    if (err == 0)
        log_info("stopping: node %u leads now", leader);
    else
        log_warn("stopping: leadership transfer failed (%s): stopping anyway",
                 cluster_strerror(err));
    server_node_stop(n);
}

bool server_transfer_before_stop(struct server_node *n)
{
    if (!n->rep || n->stop_transferring || n->cfg->replica_count < 2)
        return false;
    n->stop_transferring = true; /* a second signal, or the transfer's end, stops at once */
    struct cluster_status st;
    cluster_status(n->rep->cluster, &st);
    bool reachable = false;
    for (uint32_t i = 0; i < st.peer_count; i++)
        reachable = reachable || (st.peers[i].id != st.id && !st.peers[i].learner &&
                                  st.peers[i].reachable);
    if (st.role != CONSENSUS_LEADER || !reachable)
        return false;
    int rc = cluster_transfer_leader(n->rep->cluster, CONSENSUS_NONE, on_stop_transferred, n);
    if (rc != 0) {
        log_warn("stopping: cannot transfer leadership (%s)", cluster_strerror(rc));
        return false;
    }
    log_info("stopping: transferring leadership first (at most two election timeouts)");
    return true;
}
