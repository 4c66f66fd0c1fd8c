/* http_health.c: GET /health and /ready (200 or 503 with the reason, as JSON), and the node's
   status for the dashboard (GET /api/node). */
#include "http_internal.h"

#include "server_handlers.h"
#include "server_health.h"
#include "server_rep.h"
#include "server_stats.h"

#include <event2/http.h>

static const char *role_name(const struct server_node *n)
{
    if (!(n->rep && n->rep->cluster))
        return "STANDALONE";
    struct cluster_status cs;
    cluster_status(n->rep->cluster, &cs);
    static const char *const names[] = {"FOLLOWER", "CANDIDATE", "LEADER", "PRE_CANDIDATE"};
    return (unsigned)cs.role < 4 ? names[cs.role] : "UNKNOWN";
}

json_t *http_node_json(const struct server_node *n)
{
    struct server_health h;
    server_health_get(n, &h);
    const struct server_stats_second *s = n->stats ? &n->stats->last : NULL;
    json_t *o = json_object();
    char id[SERVER_MEMBER_ID_MAX];   /* the member id, as node_id everywhere */
    server_member_id(n, id);
    json_object_set_new(o, "node_id", json_string(id));
    json_object_set_new(o, "endpoint", json_string(server_self_endpoint(n)));
    json_object_set_new(o, "reachable", json_true());
    json_object_set_new(o, "role", json_string(role_name(n)));
    json_object_set_new(o, "term", json_integer((json_int_t)h.term));
    json_object_set_new(o, "leader", h.leader == CONSENSUS_NONE ? json_null()
                                                                : json_integer(h.leader));
    json_object_set_new(o, "commit_index", json_integer((json_int_t)h.commit_index));
    json_object_set_new(o, "applied_index", json_integer((json_int_t)h.applied_index));
    json_object_set_new(o, "last_log_index", json_integer((json_int_t)wal_last_index(n->wal)));
    json_object_set_new(o, "healthy", json_boolean(h.healthy));
    json_object_set_new(o, "health_reason", json_string(h.reason));
    json_object_set_new(o, "ready", json_boolean(h.ready));
    json_object_set_new(o, "ready_reason", json_string(h.ready_reason));
    json_object_set_new(o, "failed", json_boolean(h.failed));
    if (n->rep && n->rep->cluster) {
        struct cluster_status cs;
        cluster_status(n->rep->cluster, &cs);
        char hex[17];
        snprintf(hex, sizeof hex, "%016llx", (unsigned long long)cs.incarnation);
        json_object_set_new(o, "incarnation", json_string(hex)); /* member identity */
        snprintf(hex, sizeof hex, "%016llx", (unsigned long long)cs.cluster_id);
        json_object_set_new(o, "cluster_id", json_string(hex));
        json_object_set_new(o, "refused", json_boolean(cs.refused));
    }
    json_object_set_new(o, "reads_per_second", json_integer(s ? (json_int_t)s->reads : 0));
    json_object_set_new(o, "writes_per_second", json_integer(s ? (json_int_t)s->writes : 0));
    json_object_set_new(o, "latency_p99_us", json_integer(s ? (json_int_t)(s->p99_ns / 1000) : 0));
    return o;
}

/* etcd's shape: {"health": "true", "reason": ""}, plus the numbers behind it. */
static void send_check(struct evhttp_request *req, const struct server_node *n, bool ready)
{
    struct server_health h;
    server_health_get(n, &h);
    bool ok = ready ? h.ready : h.healthy;
    json_t *o = json_object();
    json_object_set_new(o, ready ? "ready" : "health", json_string(ok ? "true" : "false"));
    json_object_set_new(o, "reason", json_string(ready ? h.ready_reason : h.reason));
    char id[SERVER_MEMBER_ID_MAX];   /* the member id, as node_id everywhere */
    server_member_id(n, id);
    json_object_set_new(o, "node_id", json_string(id));
    json_object_set_new(o, "leader", h.leader == CONSENSUS_NONE ? json_null()
                                                                : json_integer(h.leader));
    json_object_set_new(o, "term", json_integer((json_int_t)h.term));
    json_object_set_new(o, "commit_index", json_integer((json_int_t)h.commit_index));
    json_object_set_new(o, "applied_index", json_integer((json_int_t)h.applied_index));
    json_object_set_new(o, "failed", json_boolean(h.failed));
    http_send_json(req, ok ? HTTP_OK : HTTP_SERVUNAVAIL, o);
}

void http_on_health(struct evhttp_request *req, void *arg)
{
    send_check(req, ((struct server_http *)arg)->node, false);
}

void http_on_ready(struct evhttp_request *req, void *arg)
{
    send_check(req, ((struct server_http *)arg)->node, true);
}

void http_on_node(struct evhttp_request *req, void *arg)
{
    http_send_json(req, HTTP_OK, http_node_json(((struct server_http *)arg)->node));
}
