/* server_handle_info.c: ping, node and cluster status, and the peer methods a standalone node
   refuses. */
#include "server_handlers.h"

#include "server_health.h"
#include "server_rep.h"
#include "server_stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

void server_member_id(const struct server_node *n, char out[SERVER_MEMBER_ID_MAX])
{
    snprintf(out, SERVER_MEMBER_ID_MAX, "%u", n->cfg->instance_index);
}

void server_handle_ping(struct server_request *req)
{
    TransactionalKV_ping_args *a = req->args;
    TransactionalKV_ping_result *res = req->result;
    PingResponse *out = &res->success;
    res->has_success = true;
    const PingRequest *q = &a->request;
    int rc = a->has_request && q->has_message
                 ? tp_bytes_set(&out->message, q->message.data, q->message.len)
                 : tp_bytes_set_str(&out->message, "pong");
    out->timestamp_us = server_wall_us();
    char id[SERVER_MEMBER_ID_MAX];
    server_member_id(req->node, id);
    out->has_node_id = tp_bytes_set_str(&out->node_id, id) == 0;
    (void)rc;   /* an empty message on allocation failure is still an answer */
    server_request_done(req);
}

int server_fill_status(const struct server_node *n, NodeStatus *st, const char *reported_by)
{
    uint64_t applied = kv_sm_applied_version(n->sm);
    char digest[KV_DIGEST_HEX_LEN + 1];
    kv_sm_digest_hex(n->sm, digest);
    st->role = NodeRole_STANDALONE;
    st->term = 1;
    st->commit_index = (int64_t)applied;
    st->applied_index = (int64_t)applied;
    st->last_log_index = (int64_t)wal_last_index(n->wal);
    if (n->rep) {
        struct cluster_status cs;
        cluster_status(n->rep->cluster, &cs);
        st->role = (NodeRole)cs.role;
        st->term = (int64_t)cs.term;
        st->commit_index = (int64_t)cs.commit_index;
        st->last_log_index = (int64_t)cs.last_index;
    }
    st->reachable = true;
    st->has_state_digest = true;
    char id[SERVER_MEMBER_ID_MAX];
    server_member_id(n, id);
    st->has_reported_by = true;
    if (tp_bytes_set_str(&st->node_id, id) != 0 || tp_bytes_set_str(&st->reported_by, reported_by) ||
        tp_bytes_set_str(&st->endpoint, server_self_endpoint(n)) != 0 ||
        tp_bytes_set_str(&st->state_digest, digest) != 0)
        return ErrorCode_INTERNAL;
    return 0;
}

/* Another node as this one sees it (replicated): the leader knows how far each follower's
   log matches its own (match_index) and when it last heard from it; a follower knows only
   the leader's contact. Indexes this node cannot know are the match index (0 when unknown);
   the state digest is left unset: ask that node's getNodeInfo for it. */
static int fill_peer(const struct server_node *n, const struct cluster_status *cs,
                     const struct cluster_peer_status *p, NodeStatus *st, const char *self)
{
    uint32_t i = p->id;
    char id[16];
    snprintf(id, sizeof id, "%u", i);
    st->role = i == cs->leader ? NodeRole_LEADER : NodeRole_FOLLOWER;
    st->term = (int64_t)cs->term;
    st->commit_index = st->applied_index = st->last_log_index = (int64_t)p->match_index;
    st->has_match_index = true;
    st->match_index = (int64_t)p->match_index;
    st->has_last_contact_ms = p->last_contact_ms >= 0;
    st->last_contact_ms = p->last_contact_ms;
    st->reachable = p->reachable;
    st->has_reported_by = true;
    if (p->has_progress) {
        st->has_replication = tp_bytes_set_str(
            &st->replication, consensus_progress_state_name(p->progress.state)) == 0;
        st->has_lag_entries = true;
        st->lag_entries = (int64_t)p->lag;
    }
    if (p->snapshot_sending) {
        st->has_snapshot_bytes_sent = st->has_snapshot_bytes = true;
        st->snapshot_bytes_sent = (int64_t)p->snapshot_sent;
        st->snapshot_bytes = (int64_t)p->snapshot_bytes;
    }
    if (tp_bytes_set_str(&st->node_id, id) != 0 || tp_bytes_set_str(&st->reported_by, self) ||
        tp_bytes_set_str(&st->endpoint, server_peer_endpoint(n, i) ? server_peer_endpoint(n, i)
                                                                   : "") != 0)
        return ErrorCode_INTERNAL;
    return 0;
}

/* The health verdict and the last second's client traffic (kvctl health, the dashboard). */
static int fill_health_fields(const struct server_node *n, NodeInfo *out)
{
    struct server_health h;
    server_health_get(n, &h);
    out->has_healthy = out->has_ready = out->has_failed = true;
    out->healthy = h.healthy;
    out->ready = h.ready;
    out->failed = h.failed;
    out->has_health_reason = out->has_ready_reason = true;
    if (n->stats) {
        const struct server_stats_second *s = &n->stats->last;
        out->has_reads_per_second = out->has_writes_per_second = true;
        out->has_latency_p99_us = true;
        out->reads_per_second = (int64_t)s->reads;
        out->writes_per_second = (int64_t)s->writes;
        out->latency_p99_us = (int64_t)(s->p99_ns / 1000);
    }
    return tp_bytes_set_str(&out->health_reason, h.reason) != 0 ||
                   tp_bytes_set_str(&out->ready_reason, h.ready_reason) != 0
               ? ErrorCode_INTERNAL
               : 0;
}

void server_handle_get_node_info(struct server_request *req)
{
    const struct server_node *n = req->node;
    TransactionalKV_getNodeInfo_result *res = req->result;
    NodeInfo *out = &res->success;
    res->has_success = true;
    struct kv_stats stats;
    kv_store_stats(server_store(n), &stats);
    out->uptime_ms = server_now_ms() - n->start_ms;
    out->keys = (int64_t)stats.live_keys;
    out->memory_bytes = (int64_t)stats.bytes;
    out->snapshot_index = (int64_t)n->snapshot_index;
    char why[512];
    if (server_node_failed(n, why, sizeof why))
        out->has_storage_failure = tp_bytes_set_str(&out->storage_failure, why) == 0;
    out->has_no_space = true;
    out->no_space = server_node_no_space(n);
    char self[SERVER_MEMBER_ID_MAX], id[16];
    server_member_id(n, self);
    int rc = server_fill_status(n, &out->status, self);
    if (rc == 0)
        rc = fill_health_fields(n, out);
    const char *leader = self;   /* a standalone node leads itself */
    if (n->rep) {
        struct cluster_status cs;
        cluster_status(n->rep->cluster, &cs);
        snprintf(id, sizeof id, "%u", cs.leader);
        leader = cs.leader == CONSENSUS_NONE ? NULL : id;
    }
    if (rc == 0 && leader)
        out->has_leader_id = tp_bytes_set_str(&out->leader_id, leader) == 0;
    if (rc == 0 && (tp_bytes_set_str(&out->node_id, self) != 0 ||
                    tp_bytes_set_str(&out->version, SERVER_VERSION) != 0 ||
                    tp_bytes_set_str(&out->mode, server_mode_name(n->cfg->mode)) != 0 ||
                    tp_bytes_set_str(&out->data_dir, n->cfg->data_dir) != 0))
        rc = ErrorCode_INTERNAL;
    out->success = rc == 0;
    if (rc)
        SERVER_SET_ERROR(out, rc);
    server_request_done(req);
}

/* A leader exists and (as far as this node can tell) a majority hears it. */
static bool healthy(const struct cluster_status *cs)
{
    if (cs->leader == CONSENSUS_NONE || cs->failed)
        return false;
    if (cs->leader != cs->id) {
        const struct cluster_peer_status *l = cluster_status_peer(cs, cs->leader);
        return l && l->reachable;
    }
    uint32_t reachable = 0, voters = 0; /* learners are not counted */
    for (uint32_t i = 0; i < cs->peer_count; i++) {
        voters += !cs->peers[i].learner;
        reachable += !cs->peers[i].learner && cs->peers[i].reachable;
    }
    return reachable * 2 > voters;
}

static int fill_health(const struct server_node *n, ClusterHealth *out, const char *self)
{
    struct cluster_status cs;
    cluster_status(n->rep->cluster, &cs);
    out->term = (int64_t)cs.term;
    out->nodes.items = calloc(cs.peer_count ? cs.peer_count : 1, sizeof *out->nodes.items);
    if (!out->nodes.items)
        return ErrorCode_INTERNAL;
    int rc = 0;
    for (uint32_t i = 0; i < cs.peer_count; i++) {
        NodeStatus *st = &out->nodes.items[i];
        NodeStatus_init(st);
        out->nodes.count++;
        if (rc == 0)
            rc = cs.peers[i].id == cs.id ? server_fill_status(n, st, self)
                                         : fill_peer(n, &cs, &cs.peers[i], st, self);
    }
    char id[16];
    snprintf(id, sizeof id, "%u", cs.leader);
    if (rc == 0 && cs.leader != CONSENSUS_NONE)
        out->has_leader_id = tp_bytes_set_str(&out->leader_id, id) == 0;
    out->healthy = rc == 0 && healthy(&cs);
    return rc;
}

void server_health_local(struct server_request *req)
{
    const struct server_node *n = req->node;
    TransactionalKV_getClusterHealth_result *res = req->result;
    ClusterHealth *out = &res->success;
    res->has_success = true;
    int rc = ErrorCode_INTERNAL;
    char self[SERVER_MEMBER_ID_MAX];
    server_member_id(n, self);
    if (n->rep) {
        rc = fill_health(n, out, self);
    } else {
        out->term = 1;
        out->nodes.items = calloc(1, sizeof *out->nodes.items);
        if (out->nodes.items) {
            NodeStatus_init(&out->nodes.items[0]);
            out->nodes.count = 1;
            rc = server_fill_status(n, &out->nodes.items[0], self);
        }
        if (rc == 0 && tp_bytes_set_str(&out->leader_id, self) == 0)
            out->has_leader_id = true;
        out->healthy = rc == 0;
    }
    out->has_reported_by = rc == 0 && tp_bytes_set_str(&out->reported_by, self) == 0;
    out->success = rc == 0;
    if (rc)
        SERVER_SET_ERROR(out, rc);
    server_request_done(req);
}

void server_handle_peer_challenge(struct server_request *req)
{
    TransactionalKV_peerChallenge_result *res = req->result;
    uint8_t nonce[32];
    if (getrandom(nonce, sizeof nonce, 0) != (ssize_t)sizeof nonce)
        for (size_t i = 0; i < sizeof nonce; i++)
            nonce[i] = (uint8_t)rand();
    res->has_success = tp_bytes_set(&res->success.nonce, nonce, sizeof nonce) == 0;
    server_request_done(req);
}

#define PEER_REFUSE(method)                                                              \
    case TransactionalKV_METHOD_##method: {                                              \
        TransactionalKV_##method##_result *res = req->result;                            \
        res->has_error = true;                                                           \
        res->error.code = ErrorCode_UNAUTHORIZED;                                        \
        tp_bytes_set_str(&res->error.message, text);                                     \
        break;                                                                           \
    }

void server_handle_peer_refused(struct server_request *req)
{
    static const char text[] = "UNAUTHORIZED: a standalone node takes no peers";
    switch (req->method->id) {
        PEER_REFUSE(peerAuthenticate)
        PEER_REFUSE(appendEntry)
        PEER_REFUSE(commitNotification)
        PEER_REFUSE(requestVote)
        PEER_REFUSE(installSnapshot)
        PEER_REFUSE(readIndex)
        PEER_REFUSE(timeoutNow)
    default:
        break;
    }
    server_request_done(req);
}
