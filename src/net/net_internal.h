/* net_internal.h: what the connection and listener files share; not for users of src/net. */
#ifndef NET_INTERNAL_H
#define NET_INTERNAL_H

#include "net.h"
#include "net_addr.h"
#include "net_scan.h"
#include "net_tls.h"
#include "net_turn.h"
#include "thrift.h"

#include <event2/event.h>
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
    struct net_reply *next;  /* in its connection's queue, or in the server's free slots */
    uint8_t *data;           /* an answer given out of order, kept until its turn */
    size_t len;
    bool answered;
    bool close_after;
    tp_arena arena;          /* net_reply_arena; reset when the slot is recycled */
};

struct net_conn {
    struct net_server *srv;
    struct bufferevent *bev;
    struct net_conn *prev, *next;
    uint64_t id;
    enum net_conn_phase phase;
    enum net_framing framing;
    struct net_scan scan;
    struct event *read_ev;   /* direct: reads the socket (its bufferevent's EV_READ stays off) */
    struct net_reply *head, *tail;
    uint32_t pending;        /* slots not yet answered */
    uint32_t busy;           /* callbacks running on this connection */
    bool reading;            /* EV_READ enabled (read_ev added, for a direct one) */
    bool direct;             /* a socket: net_out writes it; else libevent does (a pair) */
    bool writing;            /* direct, and EV_WRITE armed because the socket was full */
    bool flush_queued;       /* on the server's flush list */
    bool tls;                /* an OpenSSL bufferevent: libevent writes (never direct) */
    bool tls_up;             /* its handshake finished */
    struct net_conn *flush_prev, *flush_next;
    void *user;              /* the layer above's per-connection state */
    net_user_free_fn user_free;
    struct net_addr_group *group; /* its source address; NULL once trusted (not counted) */
    bool trusted;            /* vouched for by the layer above: never evicted */
    bool reserved;           /* in a reserved slot, on probation until trusted */
    bool held;               /* the layer above expects to trust it soon: evicted last */
    struct event *probation_ev;   /* reserved: closes it unless trusted by then */
    char peer[NET_PEER_ADDR_MAX];
};

struct net_server {
    struct event_base *base;
    struct net_limits limits;
    net_message_cb on_message;
    void *ctx;
    struct evconnlistener *listener;
    uint16_t port;
    SSL_CTX *tls;                  /* not NULL: every accepted connection speaks TLS */
    struct net_conn *conns;        /* most recently active first (net_server_touch) */
    struct net_conn *conns_tail;   /* the least recently active */
    size_t conn_count;             /* every connection, reserved ones included */
    uint32_t reserved_count;       /* connections in reserved slots */
    struct net_addr_table addrs;   /* connections per source address */
    struct event *log_ev;          /* writes the summary of held-back log lines */
    uint64_t next_conn_id;
    bool draining;
    void (*on_drained)(void *ctx);
    void *drained_ctx;
    struct net_turn_part flush;    /* the end of turn's client flush: writes the flush list */
    struct net_conn *flush_head;   /* direct connections with output not yet written */
    struct net_reply *free_slots;  /* recycled slots with their arenas */
    uint32_t free_count;
    size_t arena_limit;            /* what one slot's arena may hold */
};

/* The accept policy (net_admit.c): admit (maybe after closing evict), admit into a reserved
   slot, or refuse (why names the limit). g is the newcomer's address group. */
enum net_admit_verdict { NET_ADMIT_YES, NET_ADMIT_RESERVED, NET_ADMIT_NO };
struct net_admit {
    enum net_admit_verdict verdict;
    struct net_conn *evict;   /* close this one first; NULL: nobody */
    const char *why;          /* the limit that was reached; NULL when none */
};
void net_admit_decide(const struct net_server *srv, const struct net_addr_group *g,
                      struct net_admit *out);

/* Writes fd's remote address as HOST:PORT into out ("local" when fd has none). */
void net_peer_format(int fd, char *out, size_t size);
struct net_conn *net_conn_new(struct net_server *srv, struct bufferevent *bev);
void net_conn_drain(struct net_conn *c);
/* Closes now (or as soon as the running callback returns), logging why. */
void net_conn_close(struct net_conn *c, const char *reason);
/* The same, for a caller that logged it already. */
void net_conn_close_quiet(struct net_conn *c);
/* Called by net_conn when it has been freed; the server unlinks it. */
void net_server_forget(struct net_server *srv, struct net_conn *c);
/* c was active (a request arrived): it moves to the front of the server's list. */
void net_server_touch(struct net_server *srv, struct net_conn *c);
/* net_reply_conn_trust: never evicted, out of its reserved slot and its address's count. */
void net_server_trust(struct net_server *srv, struct net_conn *c);

/* net_conn.c: a callback running on c (it is freed only when none is); after any change to
   the reply queue or the output: write what is in order, resume reading, maybe end. */
void net_conn_enter(struct net_conn *c);
void net_conn_leave(struct net_conn *c);
void net_conn_progress(struct net_conn *c);
/* Appends one answer to the output (nothing once closing); close_after starts the close. */
void net_conn_emit(struct net_conn *c, const void *data, size_t len, bool close_after);

/* net_out.c: a direct connection's output is written once per loop turn, by the end of
   turn's client flush (net_turn.h); EV_WRITE only while the socket is full. */
void net_out_schedule(struct net_conn *c);
void net_out_unschedule(struct net_conn *c);
void net_out_flush(void *srv);
/* libevent wrote everything that was waiting: back to writing directly. */
void net_out_written(struct net_conn *c);

/* net_reply.c: slots come from and go back to the server's pool (srv NULL: freed). */
struct net_reply *net_slot_get(struct net_server *srv);
void net_slot_put(struct net_server *srv, struct net_reply *r);
void net_slots_free(struct net_server *srv);

#endif
