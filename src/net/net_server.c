/* net_server.c: the listener: accepts clients up to the limit, tracks them, drains them. */
#include "net_internal.h"

#include "log.h"
#include "log_client.h"
#include "metrics.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/ssl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

const char *net_strerror(int code)
{
    switch (code) {
#define NET_ERROR_TEXT(name, text) case name: return text;
        NET_ERRORS(NET_ERROR_TEXT)
#undef NET_ERROR_TEXT
    }
    return "unknown net error";
}

void net_limits_default(struct net_limits *limits)
{
    *limits = (struct net_limits){
        .frame_bytes_max = NET_FRAME_BYTES_DEFAULT,
        .connections_max = NET_CONNECTIONS_DEFAULT,
        .connections_per_address_max = NET_CONNECTIONS_PER_ADDRESS_DEFAULT,
        .reserved_connections = 0,
        .reserved_probation_ms = NET_RESERVED_PROBATION_MS_DEFAULT,
        .idle_timeout_ms = NET_IDLE_TIMEOUT_MS_DEFAULT,
        .pending_replies_max = NET_PENDING_REPLIES_DEFAULT,
        .output_high_water = NET_OUTPUT_HIGH_WATER_DEFAULT,
    };
}

int net_split_host_port(const char *host_port, char *host, size_t host_size, uint16_t *port)
{
    const char *colon = strrchr(host_port, ':');
    if (!colon || colon == host_port)
        return NET_ERR_ADDRESS;
    const char *h = host_port;
    size_t hlen = (size_t)(colon - host_port);
    if (h[0] == '[') {
        if (hlen < 3 || h[hlen - 1] != ']')
            return NET_ERR_ADDRESS;
        h++;
        hlen -= 2;
    }
    if (hlen + 1 > host_size)
        return NET_ERR_ADDRESS;
    char *end;
    errno = 0;
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || errno != 0 || p > 65535 || colon[1] == '-' ||
        colon[1] == '+')
        return NET_ERR_ADDRESS;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    *port = (uint16_t)p;
    return NET_OK;
}

_Static_assert(NET_PEER_ADDR_MAX >= INET6_ADDRSTRLEN + sizeof "[]:65535",
               "a peer address always fits");

void net_peer_format(int fd, char *out, size_t size)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char host[INET6_ADDRSTRLEN];
    snprintf(out, size, "local");
    if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
        return;
    if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
        if (inet_ntop(AF_INET, &in->sin_addr, host, sizeof host))
            snprintf(out, size, "%s:%u", host, ntohs(in->sin_port));
    } else if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
        if (inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host))
            snprintf(out, size, "[%s]:%u", host, ntohs(in6->sin6_port));
    }
}

static void log_flush_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    log_client_flush();
}

struct net_server *net_server_new(struct event_base *base, const struct net_limits *limits,
                                  net_message_cb on_message, void *ctx)
{
    assert(base);
    assert(on_message);
    assert(limits->frame_bytes_max > 0 && limits->frame_bytes_max <= NET_FRAME_BYTES_MAX);
    assert(limits->connections_max > 0);
    assert(limits->reserved_connections == 0 || limits->reserved_probation_ms > 0);
    assert(limits->pending_replies_max > 0);
    assert(limits->output_high_water > 0);
    struct net_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return NULL;
    srv->base = base;
    srv->limits = *limits;
    srv->on_message = on_message;
    srv->ctx = ctx;
    srv->arena_limit = 2 * (size_t)limits->frame_bytes_max + 64 * 1024;
    uint64_t seed;
    if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed)
        seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)srv;
    net_addr_table_init(&srv->addrs, seed);
    srv->log_ev = event_new(base, -1, EV_PERSIST, log_flush_cb, srv);
    /* Often enough that an interval's summary is late by a second at most. */
    struct timeval every = {1, 0};
    if (net_turn_join(&srv->flush, base, NET_TURN_CLIENT_FLUSH, net_out_flush, srv) != 0 ||
        !srv->log_ev || event_add(srv->log_ev, &every) != 0) {
        net_turn_leave(&srv->flush);
        if (srv->log_ev)
            event_free(srv->log_ev);
        free(srv);
        return NULL;
    }
    return srv;
}

static void probation_over_cb(evutil_socket_t fd, short what, void *arg)
{
    struct net_conn *c = arg;
    (void)fd;
    (void)what;
    net_conn_enter(c);
    net_conn_close(c, "not trusted within the probation of a reserved slot");
    net_conn_leave(c);
}

/* Links a new connection in at the front, counted against group g (may be NULL). */
static int adopt(struct net_server *srv, struct bufferevent *bev, struct net_addr_group *g,
                 bool reserved)
{
    struct net_conn *c = net_conn_new(srv, bev);
    struct event *probation = NULL;
    if (c && reserved && !(probation = event_new(srv->base, -1, 0, probation_over_cb, c))) {
        if (c->read_ev)
            event_free(c->read_ev);
        free(c);
        c = NULL;
    }
    if (!c) {
        bufferevent_free(bev);
        if (g)
            net_addr_group_release(&srv->addrs, g);
        return NET_ERR_NOMEM;
    }
    c->group = g;
    if (g)
        g->count++;
    c->reserved = reserved;
    srv->reserved_count += reserved;
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    else
        srv->conns_tail = c;
    srv->conns = c;
    srv->conn_count++;
    if (probation) {
        c->probation_ev = probation;
        uint32_t ms = srv->limits.reserved_probation_ms;
        struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
        event_add(probation, &tv);
    }
    return NET_OK;
}

int net_server_adopt(struct net_server *srv, struct bufferevent *bev)
{
    if (srv->draining) {
        bufferevent_free(bev);
        return NET_ERR_STATE;
    }
    return adopt(srv, bev, NULL, false);
}

void net_server_set_tls(struct net_server *srv, SSL_CTX *ctx) { srv->tls = ctx; }

/* A plain socket bufferevent, or one that first runs the server side of a TLS handshake. */
static struct bufferevent *accept_bev(struct net_server *srv, evutil_socket_t fd)
{
    if (!srv->tls)
        return bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
    SSL *ssl = SSL_new(srv->tls);
    if (!ssl)
        return NULL;
    struct bufferevent *bev = bufferevent_openssl_socket_new(
        srv->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        SSL_free(ssl);
        return NULL;
    }
    /* A client that closes without close_notify has still said all it meant to. */
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    return bev;
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *addr,
                      int addr_len, void *arg)
{
    struct net_server *srv = arg;
    (void)l;
    (void)addr_len;
    struct net_addr a;
    net_addr_from_sockaddr(&a, addr);
    struct net_addr_group *g = net_addr_group_get(&srv->addrs, &a);
    struct net_admit ad = {NET_ADMIT_NO, NULL, "out of memory"};
    if (g)
        net_admit_decide(srv, g, &ad);
    if (ad.verdict == NET_ADMIT_NO) {
        log_client(LOG_CLIENT_REFUSED, LOG_WARN, "refusing a connection: %s; %zu open",
                   ad.why, srv->conn_count);
        if (g)
            net_addr_group_release(&srv->addrs, g);
        evutil_closesocket(fd);
        metrics_count(METRIC_CONN_REFUSED, 1);
        return;
    }
    if (ad.evict) {
        log_client(LOG_CLIENT_EVICTED, LOG_INFO, "conn %llu (%s): closed to make room: %s",
                   (unsigned long long)ad.evict->id, ad.evict->peer, ad.why);
        net_conn_close_quiet(ad.evict);
    }
    struct bufferevent *bev = accept_bev(srv, fd);
    if (!bev) {
        net_addr_group_release(&srv->addrs, g);
        evutil_closesocket(fd);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (adopt(srv, bev, g, ad.verdict == NET_ADMIT_RESERVED) != NET_OK)
        log_warn("dropping a connection: out of memory");
    else
        metrics_count(METRIC_CONN_ACCEPTED, 1);
}

static void accept_error_cb(struct evconnlistener *l, void *arg)
{
    (void)l;
    (void)arg;
    /* EMFILE and friends: the listener keeps going; the next accept may succeed. */
    log_client(LOG_CLIENT_REFUSED, LOG_WARN, "accept failed: %s", strerror(errno));
}

int net_server_listen(struct net_server *srv, const char *host_port)
{
    assert(!srv->listener);
    char host[256];
    uint16_t port;
    if (net_split_host_port(host_port, host, sizeof host, &port) != NET_OK)
        return NET_ERR_ADDRESS;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai;
    char port_text[8];
    snprintf(port_text, sizeof port_text, "%u", port);
    if (getaddrinfo(host, port_text, &hints, &ai) != 0)
        return NET_ERR_RESOLVE;
    srv->listener = evconnlistener_new_bind(srv->base, accept_cb, srv,
                                            LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
                                                LEV_OPT_CLOSE_ON_EXEC,
                                            -1, ai->ai_addr, (int)ai->ai_addrlen);
    freeaddrinfo(ai);
    if (!srv->listener)
        return NET_ERR_BIND;
    evconnlistener_set_error_cb(srv->listener, accept_error_cb);
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    evutil_socket_t fd = evconnlistener_get_fd(srv->listener);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
        srv->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                   : ((struct sockaddr_in *)&ss)->sin_port);
    return NET_OK;
}

uint16_t net_server_port(const struct net_server *srv) { return srv->port; }

size_t net_server_connection_count(const struct net_server *srv) { return srv->conn_count; }

static void check_drained(struct net_server *srv)
{
    if (srv->draining && srv->conn_count == 0 && srv->on_drained) {
        void (*cb)(void *) = srv->on_drained;
        srv->on_drained = NULL;
        cb(srv->drained_ctx);
    }
}

static void unlink_conn(struct net_server *srv, struct net_conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        srv->conns_tail = c->prev;
    c->prev = c->next = NULL;
}

void net_server_touch(struct net_server *srv, struct net_conn *c)
{
    if (srv->conns == c)
        return;
    unlink_conn(srv, c);
    c->next = srv->conns;
    srv->conns->prev = c;
    srv->conns = c;
}

/* Leaves the reserved slot and its address's count (both only once). */
static void uncount(struct net_server *srv, struct net_conn *c)
{
    if (c->group) {
        assert(c->group->count > 0);
        c->group->count--;
        net_addr_group_release(&srv->addrs, c->group);
        c->group = NULL;
    }
    if (c->reserved) {
        assert(srv->reserved_count > 0);
        srv->reserved_count--;
        c->reserved = false;
        event_free(c->probation_ev);
        c->probation_ev = NULL;
    }
}

void net_server_trust(struct net_server *srv, struct net_conn *c)
{
    c->trusted = true;
    uncount(srv, c);
}

void net_server_forget(struct net_server *srv, struct net_conn *c)
{
    uncount(srv, c);
    unlink_conn(srv, c);
    assert(srv->conn_count > 0);
    srv->conn_count--;
    check_drained(srv);
}

void net_server_drain(struct net_server *srv, void (*on_drained)(void *ctx), void *ctx)
{
    srv->draining = true;
    srv->on_drained = on_drained;
    srv->drained_ctx = ctx;
    if (srv->listener)
        evconnlistener_disable(srv->listener);
    struct net_conn *c = srv->conns;
    while (c) {
        struct net_conn *next = c->next;   /* draining may free c */
        net_conn_drain(c);
        c = next;
    }
    check_drained(srv);
}

void net_server_free(struct net_server *srv)
{
    if (!srv)
        return;
    srv->on_drained = NULL;
    while (srv->conns) {
        assert(srv->conns->busy == 0);
        net_conn_close(srv->conns, "server stopped");
    }
    if (srv->listener)
        evconnlistener_free(srv->listener);
    assert(!srv->flush_head);
    net_turn_leave(&srv->flush);
    event_free(srv->log_ev);
    net_addr_table_free(&srv->addrs);
    net_slots_free(srv);
    free(srv);
}
