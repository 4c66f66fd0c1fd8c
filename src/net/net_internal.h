/* net_internal.h: what the connection and listener files share; not for users of src/net. */
#ifndef NET_INTERNAL_H
#define NET_INTERNAL_H

#include "net.h"
#include "net_scan.h"

#include <event2/listener.h>

/* memcached-style phases, changed only through conn_set_phase(). */
enum net_conn_phase {
    NET_CONN_DETECT,    /* waiting for the first byte: framed or unframed */
    NET_CONN_OPEN,      /* reading requests, writing replies */
    NET_CONN_DRAINING,  /* server stopping: no more reads, finishing replies */
    NET_CONN_CLOSING,   /* flushing a last reply, then close */
    NET_CONN_CLOSED,    /* freed as soon as no callback is running on it */
};

enum net_framing { NET_FRAMING_UNKNOWN, NET_FRAMING_FRAMED, NET_FRAMING_UNFRAMED };

struct net_reply {
    struct net_conn *conn;   /* NULL once the connection is gone */
    struct net_reply *next;
    uint8_t *data;           /* frame header included when framed */
    size_t len;
    bool answered;
    bool close_after;
};

struct net_conn {
    struct net_server *srv;
    struct bufferevent *bev;
    struct net_conn *prev, *next;
    uint64_t id;
    enum net_conn_phase phase;
    enum net_framing framing;
    struct net_scan scan;
    struct net_reply *head, *tail;
    uint32_t pending;        /* slots not yet answered */
    uint32_t busy;           /* callbacks running on this connection */
    bool reading;            /* EV_READ enabled */
    void *user;              /* the layer above's per-connection state */
    net_user_free_fn user_free;
    char peer[NET_PEER_ADDR_MAX];
};

struct net_server {
    struct event_base *base;
    struct net_limits limits;
    net_message_cb on_message;
    void *ctx;
    struct evconnlistener *listener;
    uint16_t port;
    struct net_conn *conns;
    size_t conn_count;
    uint64_t next_conn_id;
    bool draining;
    void (*on_drained)(void *ctx);
    void *drained_ctx;
};

/* Writes fd's remote address as HOST:PORT into out ("local" when fd has none). */
void net_peer_format(int fd, char *out, size_t size);
struct net_conn *net_conn_new(struct net_server *srv, struct bufferevent *bev);
void net_conn_drain(struct net_conn *c);
/* Closes now (or as soon as the running callback returns), logging why. */
void net_conn_close(struct net_conn *c, const char *reason);
/* Called by net_conn when it has been freed; the server unlinks it. */
void net_server_forget(struct net_server *srv, struct net_conn *c);

#endif
