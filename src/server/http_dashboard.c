/* http_dashboard.c: the live dashboard: its files (embedded at build time from
   src/server/dashboard/) and GET /api/cluster, every node's status gathered by this one (its
   own directly, the others' by getNodeInfo over the authenticated peer links). */
#include "http_internal.h"

#include "cluster_net.h"
#include "cluster_wire.h"
#include "dashboard_assets.h"
#include "server_rep.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <stdlib.h>
#include <string.h>

/* A peer that does not answer within this long is shown as unreachable. */
#define HTTP_PEER_TIMEOUT_MS 500u

void http_on_asset(struct evhttp_request *req, void *arg)
{
    (void)arg;
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    if (!path || strcmp(path, "/") == 0)
        path = "/index.html";
    for (size_t i = 0; i < dashboard_asset_count; i++) {
        const struct dashboard_asset *a = &dashboard_assets[i];
        if (strcmp(path + 1, a->name) != 0)
            continue;
        struct evkeyvalq *hd = evhttp_request_get_output_headers(req);
        evhttp_add_header(hd, "Content-Type", a->type);
        evhttp_add_header(hd, "Cache-Control", "no-cache");
        struct evbuffer *out = evbuffer_new();
        if (out && evbuffer_add_reference(out, a->data, a->len, NULL, NULL) == 0)
            evhttp_send_reply(req, HTTP_OK, "OK", out);
        else
            evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
        if (out)
            evbuffer_free(out);
        return;
    }
    evhttp_send_error(req, HTTP_NOTFOUND, "not found");
}

/* The leader's view of one follower (getClusterHealth's match_index and replication). */
struct leader_view {
    bool known;
    int64_t match_index, last_contact_ms;
    char replication[16]; /* "probe", "replicate", "snapshot"; "" unknown */
    int64_t lag_entries;  /* -1: unknown */
    int64_t snapshot_sent, snapshot_bytes; /* -1: no snapshot transfer under way */
};

/* One /api/cluster request waiting for its peers' answers. */
struct cluster_query {
    struct evhttp_request *req;
    struct server_http *http;
    struct server_node *node;
    json_t *nodes;       /* one object per member, in the membership's order: */
    uint32_t ids[CONSENSUS_MEMBERS_MAX + 1]; /* their ids (and this node's, when no member) */
    uint32_t count;
    uint32_t waiting;
    struct leader_view view[CONSENSUS_MEMBERS_MAX + 1]; /* the leader's, when this node is not */
};

struct peer_answer {
    struct cluster_query *q;
    uint32_t peer;
    uint32_t pos; /* in q->nodes */
};

/* The position of member id in q->nodes, or -1. */
static int pos_of(const struct cluster_query *q, uint32_t id)
{
    for (uint32_t i = 0; i < q->count; i++)
        if (q->ids[i] == id)
            return (int)i;
    return -1;
}

static const char *node_role_name(int role)
{
    const char *name = NodeRole_name(role);
    return name ? name : "UNKNOWN";
}

static json_t *unreachable_json(const struct server_node *n, uint32_t peer, const char *why)
{
    json_t *o = json_object();
    char id[16];
    snprintf(id, sizeof id, "%u", peer);
    json_object_set_new(o, "node_id", json_string(id));
    const char *endpoint = server_peer_endpoint(n, peer);
    json_object_set_new(o, "endpoint", endpoint ? json_string(endpoint) : json_null());
    json_object_set_new(o, "reachable", json_false());
    json_object_set_new(o, "error", json_string(why));
    return o;
}

#define SET_OPT_INT(o, key, info, field) \
    json_object_set_new(o, key, (info)->has_##field ? json_integer((info)->field) : json_null())

static json_t *info_json(const NodeInfo *in)
{
    json_t *o = json_object();
    json_object_set_new(o, "node_id", json_stringn((const char *)in->node_id.data, in->node_id.len));
    json_object_set_new(o, "endpoint", json_stringn((const char *)in->status.endpoint.data,
                                                    in->status.endpoint.len));
    json_object_set_new(o, "reachable", json_true());
    json_object_set_new(o, "role", json_string(node_role_name((int)in->status.role)));
    json_object_set_new(o, "term", json_integer(in->status.term));
    /* The peer's leader: a member id in decimal (any, ids only grow); else unknown. */
    uint32_t lid;
    bool lid_ok = in->has_leader_id && cluster_id_parse(&in->leader_id, CONSENSUS_NONE, &lid) == 0;
    json_object_set_new(o, "leader", lid_ok ? json_integer(lid) : json_null());
    json_object_set_new(o, "commit_index", json_integer(in->status.commit_index));
    json_object_set_new(o, "applied_index", json_integer(in->status.applied_index));
    json_object_set_new(o, "last_log_index", json_integer(in->status.last_log_index));
    json_object_set_new(o, "healthy", in->has_healthy ? json_boolean(in->healthy) : json_null());
    json_object_set_new(o, "health_reason",
                        json_stringn((const char *)in->health_reason.data, in->health_reason.len));
    json_object_set_new(o, "ready", in->has_ready ? json_boolean(in->ready) : json_null());
    json_object_set_new(o, "failed", json_boolean(in->has_failed && in->failed));
    SET_OPT_INT(o, "reads_per_second", in, reads_per_second);
    SET_OPT_INT(o, "writes_per_second", in, writes_per_second);
    SET_OPT_INT(o, "latency_p99_us", in, latency_p99_us);
    return o;
}

static struct leader_view view_of_peer(const struct cluster_peer_status *p)
{
    struct leader_view v = {true, (int64_t)p->match_index, p->last_contact_ms, "", -1, -1, -1};
    if (p->has_progress) {
        snprintf(v.replication, sizeof v.replication, "%s",
                 consensus_progress_state_name(p->progress.state));
        v.lag_entries = (int64_t)p->lag;
    }
    if (p->snapshot_sending) {
        v.snapshot_sent = (int64_t)p->snapshot_sent;
        v.snapshot_bytes = (int64_t)p->snapshot_bytes;
    }
    return v;
}

static struct leader_view view_of_status(const NodeStatus *st)
{
    struct leader_view v = {true, st->match_index,
                            st->has_last_contact_ms ? st->last_contact_ms : -1, "", -1, -1, -1};
    if (st->has_replication && st->replication.data)
        snprintf(v.replication, sizeof v.replication, "%.*s", (int)st->replication.len,
                 (const char *)st->replication.data);
    if (st->has_lag_entries)
        v.lag_entries = st->lag_entries;
    if (st->has_snapshot_bytes_sent && st->has_snapshot_bytes) {
        v.snapshot_sent = st->snapshot_bytes_sent;
        v.snapshot_bytes = st->snapshot_bytes;
    }
    return v;
}

#define INT_OR_NULL(v) ((v) >= 0 ? json_integer(v) : json_null())

static void view_json(json_t *e, const struct leader_view *v)
{
    json_object_set_new(e, "match_index", json_integer(v->match_index));
    json_object_set_new(e, "last_contact_ms", json_integer(v->last_contact_ms));
    json_object_set_new(e, "replication",
                        v->replication[0] ? json_string(v->replication) : json_null());
    json_object_set_new(e, "lag_entries", INT_OR_NULL(v->lag_entries));
    json_object_set_new(e, "snapshot_bytes_sent", INT_OR_NULL(v->snapshot_sent));
    json_object_set_new(e, "snapshot_bytes", INT_OR_NULL(v->snapshot_bytes));
}

static void query_finish(struct cluster_query *q)
{
    const struct server_node *n = q->node;
    json_t *o = json_object();
    json_object_set_new(o, "self", json_integer(n->rep ? n->cfg->instance_index : 0));
    json_object_set_new(o, "time_ms", json_integer(server_wall_us() / 1000));
    json_object_set_new(o, "nodes", q->nodes);
    if (n->rep && n->rep->cluster) { /* the leader's view of its followers' logs: ours */
        struct cluster_status cs;
        cluster_status(n->rep->cluster, &cs);
        for (uint32_t i = 0; cs.role == CONSENSUS_LEADER && i < cs.peer_count; i++) {
            int pos = pos_of(q, cs.peers[i].id);
            if (pos >= 0)
                q->view[pos] = view_of_peer(&cs.peers[i]);
        }
    }
    for (size_t i = 0; i < json_array_size(q->nodes); i++) {
        json_t *e = json_array_get(q->nodes, i);
        if (q->view[i].known)
            view_json(e, &q->view[i]);
    }
    http_send_json(q->req, HTTP_OK, o);
    q->http->cluster_queries--;
    free(q);
}

static int encode_node_info(void *ctx, tp_buf *out, int32_t seqid)
{
    (void)ctx;
    GetNodeInfoRequest r;
    GetNodeInfoRequest_init(&r);
    return TransactionalKV_getNodeInfo_send(out, seqid, &r);
}

static void on_peer_info(void *ctx, int err, int32_t seqid, const uint8_t *msg, size_t len)
{
    struct peer_answer *a = ctx;
    struct cluster_query *q = a->q;
    json_t *e = NULL;
    if (err == 0) {
        tp_reader r;
        tp_reader_init(&r, msg, len, NULL);
        TransactionalKV_getNodeInfo_result res;
        TransactionalKV_getNodeInfo_result_init(&res);
        tp_app_exception ax;
        tp_app_exception_init(&ax);
        if (TransactionalKV_getNodeInfo_recv(&r, seqid, &res, &ax) == 0 && res.has_success)
            e = info_json(&res.success);
        TransactionalKV_getNodeInfo_result_free(&res);
        tp_app_exception_free(&ax);
    }
    json_array_set_new(q->nodes, a->pos,
                       e ? e : unreachable_json(q->node, a->peer,
                                                err ? cluster_strerror(err) : "bad answer"));
    free(a);
    if (--q->waiting == 0)
        query_finish(q);
}

static int encode_cluster_health(void *ctx, tp_buf *out, int32_t seqid)
{
    (void)ctx;
    GetClusterHealthRequest r;
    GetClusterHealthRequest_init(&r);
    return TransactionalKV_getClusterHealth_send(out, seqid, &r);
}

/* The leader's getClusterHealth: how it replicates to each follower, as it sees. */
static void on_leader_health(void *ctx, int err, int32_t seqid, const uint8_t *msg, size_t len)
{
    struct peer_answer *a = ctx;
    struct cluster_query *q = a->q;
    tp_reader r;
    tp_reader_init(&r, msg, len, NULL);
    TransactionalKV_getClusterHealth_result res;
    TransactionalKV_getClusterHealth_result_init(&res);
    tp_app_exception ax;
    tp_app_exception_init(&ax);
    if (err == 0 && TransactionalKV_getClusterHealth_recv(&r, seqid, &res, &ax) == 0 &&
        res.has_success)
        for (uint32_t i = 0; i < res.success.nodes.count; i++) {
            const NodeStatus *st = &res.success.nodes.items[i];
            uint32_t id;
            int pos = cluster_id_parse(&st->node_id, CONSENSUS_NONE, &id) == 0 ? pos_of(q, id)
                                                                                : -1;
            if (st->has_match_index && pos >= 0 && id != a->peer)
                q->view[pos] = view_of_status(st);
        }
    TransactionalKV_getClusterHealth_result_free(&res);
    tp_app_exception_free(&ax);
    free(a);
    if (--q->waiting == 0)
        query_finish(q);
}

/* Calls peer (getNodeInfo, or the leader's getClusterHealth); false when the call could not
   even be queued. */
static bool ask_peer(struct cluster_query *q, uint32_t peer, uint32_t pos, bool leader_view)
{
    struct peer_answer *a = malloc(sizeof *a);
    if (!a)
        return false;
    *a = (struct peer_answer){q, peer, pos};
    if (cluster_net_forward(q->node->rep->tp, peer, HTTP_PEER_TIMEOUT_MS,
                            leader_view ? encode_cluster_health : encode_node_info, NULL,
                            leader_view ? on_leader_health : on_peer_info, a) == 0)
        return true;
    free(a);
    return false;
}

static uint32_t leader_of(const struct server_node *n)
{
    struct cluster_status cs;
    cluster_status(n->rep->cluster, &cs);
    return cs.leader;
}

void http_on_cluster(struct evhttp_request *req, void *arg)
{
    struct server_http *h = arg;
    struct server_node *n = h->node;
    if (h->cluster_queries >= HTTP_CLUSTER_QUERIES_MAX) {
        evhttp_send_error(req, HTTP_SERVUNAVAIL, "busy: too many cluster queries; retry");
        return;
    }
    struct cluster_query *q = calloc(1, sizeof *q);
    if (!q || !(q->nodes = json_array())) {
        free(q);
        evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
        return;
    }
    q->req = req;
    q->http = h;
    q->node = n;
    h->cluster_queries++;
    const struct consensus_membership *m = server_membership(n);
    uint32_t self = n->rep ? n->cfg->instance_index : 0;
    for (uint32_t i = 0; m && i < m->count; i++)
        q->ids[q->count++] = m->members[i].id;
    if (pos_of(q, self) < 0) /* standalone, or not a member (yet) */
        q->ids[q->count++] = self;
    q->waiting = 1; /* held until every call is queued */
    for (uint32_t i = 0; i < q->count; i++) {
        if (q->ids[i] == self) {
            json_array_append_new(q->nodes, http_node_json(n));
            continue;
        }
        json_array_append_new(q->nodes, unreachable_json(n, q->ids[i], "not asked"));
        q->waiting++;
        if (!ask_peer(q, q->ids[i], i, false)) {
            json_array_set_new(q->nodes, i, unreachable_json(n, q->ids[i], "cannot ask it"));
            q->waiting--;
        }
    }
    uint32_t leader = n->rep && n->rep->cluster ? leader_of(n) : CONSENSUS_NONE;
    int leader_pos = pos_of(q, leader);
    if (leader != CONSENSUS_NONE && leader != self && leader_pos >= 0 &&
        ask_peer(q, leader, (uint32_t)leader_pos, true))
        q->waiting++; /* a follower shows the leader's view of replication too */
    if (--q->waiting == 0)
        query_finish(q);
}
