/* http_server.c: the HTTP listener (libevent's evhttp) and its routes; GET and HEAD only. */
#include "http_internal.h"

#include "log.h"
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* An operator's tools send small requests: anything larger is refused by evhttp. */
#define HTTP_HEADERS_BYTES_MAX 8192
#define HTTP_BODY_BYTES_MAX 1024
#define HTTP_TIMEOUT_S 30

void http_send_json(struct evhttp_request *req, int code, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text) {
        evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
        return;
    }
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "application/json");
    evhttp_add_header(h, "Cache-Control", "no-store");
    struct evbuffer *out = evbuffer_new();
    if (out && evbuffer_add(out, text, strlen(text)) == 0 && evbuffer_add(out, "\n", 1) == 0)
        evhttp_send_reply(req, code, code == HTTP_OK ? "OK" : "Service Unavailable", out);
    else
        evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
    if (out)
        evbuffer_free(out);
    free(text);
}

static void on_other(struct evhttp_request *req, void *arg)
{
    (void)arg;
    evhttp_send_error(req, HTTP_NOTFOUND, "not found: try /, /metrics, /health or /ready");
}

static const struct route {
    const char *path;
    void (*cb)(struct evhttp_request *, void *);
} routes[] = {
    {"/metrics", http_on_metrics},   {"/health", http_on_health},
    {"/ready", http_on_ready},       {"/api/cluster", http_on_cluster},
    {"/api/node", http_on_node},     {"/", http_on_asset},
    {"/index.html", http_on_asset},  {"/dashboard.js", http_on_asset},
    {"/dashboard.css", http_on_asset},
};

static int bind_http(struct server_http *h, const char *listen)
{
    char host[256];
    uint16_t port;
    if (net_split_host_port(listen, host, sizeof host, &port) != NET_OK)
        return -1;
    struct evhttp_bound_socket *s = evhttp_bind_socket_with_handle(h->http, host, port);
    if (!s)
        return -1;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    evutil_socket_t fd = evhttp_bound_socket_get_fd(s);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
        h->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                 : ((struct sockaddr_in *)&ss)->sin_port);
    return 0;
}

int server_http_open(struct server_node *n)
{
    const char *listen = n->cfg->http_listen;
    if (!listen)
        return 0;
    struct server_http *h = calloc(1, sizeof *h);
    if (!h || !(h->http = evhttp_new(n->base))) {
        free(h);
        log_error("cannot create the HTTP server: out of memory");
        return -1;
    }
    h->node = n;
    n->http = h;
    evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
    evhttp_set_max_headers_size(h->http, HTTP_HEADERS_BYTES_MAX);
    evhttp_set_max_body_size(h->http, HTTP_BODY_BYTES_MAX);
    evhttp_set_timeout(h->http, HTTP_TIMEOUT_S);
    evhttp_set_gencb(h->http, on_other, h);
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (evhttp_set_cb(h->http, routes[i].path, routes[i].cb, h) != 0)
            return -1;
    if (bind_http(h, listen) != 0) {
        log_error("cannot listen for HTTP on %s (http.listen): %s", listen, strerror(errno));
        return -1;
    }
    log_info("HTTP on %s (port %u): /metrics /health /ready and the dashboard at /", listen,
             h->port);
    return 0;
}

uint16_t server_http_port(const struct server_node *n) { return n->http ? n->http->port : 0; }

void server_http_close(struct server_node *n)
{
    struct server_http *h = n->http;
    if (!h)
        return;
    if (h->http)
        evhttp_free(h->http);
    free(h);
    n->http = NULL;
}
