/* http_internal.h: what the server's HTTP files share. */
#ifndef HTTP_INTERNAL_H
#define HTTP_INTERNAL_H

#include "server_http.h"

#include <jansson.h>

struct evhttp;
struct evhttp_request;
struct evbuffer;

/* /api/cluster requests gathering their peers' answers at once; more get 503 (each asks
   every peer over the links that carry consensus, whose call queues must not fill up). */
#define HTTP_CLUSTER_QUERIES_MAX 8u

struct server_http {
    struct server_node *node;
    struct evhttp *http;
    uint16_t port;
    uint32_t cluster_queries;   /* /api/cluster requests in flight */
};

/* Sends a JSON body with code (takes a reference of body). */
void http_send_json(struct evhttp_request *req, int code, json_t *body);

/* http_metrics.c: the Prometheus text exposition of the whole node into out. */
int http_metrics_write(const struct server_node *n, struct evbuffer *out);
void http_on_metrics(struct evhttp_request *req, void *arg);

/* http_health.c: /health, /ready, and this node's status as JSON (for /api/node). */
void http_on_health(struct evhttp_request *req, void *arg);
void http_on_ready(struct evhttp_request *req, void *arg);
json_t *http_node_json(const struct server_node *n);

/* http_dashboard.c: the page's files and /api/cluster (every node's status). */
void http_on_asset(struct evhttp_request *req, void *arg);
void http_on_cluster(struct evhttp_request *req, void *arg);
void http_on_node(struct evhttp_request *req, void *arg);

#endif
