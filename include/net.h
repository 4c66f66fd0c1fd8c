/* net.h: the node's listener and client connections: framing, ordered replies, limits. */
#ifndef NET_H
#define NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct bufferevent;
struct tp_arena;
typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

#define NET_ERRORS(X) \
    X(NET_OK, "ok") \
    X(NET_ERR_ADDRESS, "bad address: want HOST:PORT") \
    X(NET_ERR_RESOLVE, "cannot resolve host") \
    X(NET_ERR_BIND, "cannot listen on the address") \
    X(NET_ERR_NOMEM, "out of memory") \
    X(NET_ERR_STATE, "not possible in the current state") \
    X(NET_ERR_CONNECT, "cannot connect") \
    X(NET_ERR_TIMEOUT, "timed out") \
    X(NET_ERR_CLOSED, "connection closed by the server") \
    X(NET_ERR_IO, "socket error") \
    X(NET_ERR_FRAME, "bad or oversized reply") \
    X(NET_ERR_TLS, "TLS failed")

enum net_error {
#define NET_ERROR_ENUM(name, text) name,
    NET_ERRORS(NET_ERROR_ENUM)
#undef NET_ERROR_ENUM
};

const char *net_strerror(int code);

/* Defaults, and the ceilings configs may not exceed. */
#define NET_FRAME_BYTES_DEFAULT (16u * 1024 * 1024)
#define NET_FRAME_BYTES_MAX (256u * 1024 * 1024)
#define NET_CONNECTIONS_DEFAULT 1024u
#define NET_IDLE_TIMEOUT_MS_DEFAULT 300000u
#define NET_PENDING_REPLIES_DEFAULT 256u
/* Output buffered for one client before its input stops being read. */
#define NET_OUTPUT_HIGH_WATER_DEFAULT (4u * 1024 * 1024)
/* Connections one source address may hold (0: no bound of its own). */
#define NET_CONNECTIONS_PER_ADDRESS_DEFAULT 512u
#define NET_RESERVED_PROBATION_MS_DEFAULT 2000u

struct net_limits {
    uint32_t frame_bytes_max;      /* a frame (or unframed message) longer than this closes */
    uint32_t connections_max;      /* past it, an idle untrusted one makes room (net_admit.c) */
    uint32_t connections_per_address_max; /* per source IP; 0: no bound of its own */
    uint32_t reserved_connections; /* beyond connections_max, on probation (for peers) */
    uint32_t reserved_probation_ms; /* a reserved connection not trusted by then closes */
    uint32_t idle_timeout_ms;      /* no input (or no output progress) this long closes */
    uint32_t pending_replies_max;  /* unanswered requests per connection before reads stop */
    uint32_t output_high_water;    /* bytes queued to a client before its reads stop */
};

void net_limits_default(struct net_limits *limits);

/* One answer slot, in request order on its connection. Each slot is answered exactly once,
   by net_reply_send, net_reply_send_close or net_reply_none, whenever the handler is ready;
   replies leave in request order. Slots outlive a closed connection (answers are dropped). */
struct net_reply;

/* A whole message (without its frame header) arrived. msg is valid only during the call. */
typedef void (*net_message_cb)(void *ctx, struct net_reply *reply, const uint8_t *msg,
                               size_t len);

/* data is a whole Thrift message; the frame header is added when the client framed. */
void net_reply_send(struct net_reply *reply, const void *data, size_t len);
/* Sends, then closes the connection once the answer is written (bad input). */
void net_reply_send_close(struct net_reply *reply, const void *data, size_t len);
/* For oneway calls: the slot ends without output. */
void net_reply_none(struct net_reply *reply);
/* Scratch memory for the request in this slot (decode its arguments here): released all at
   once when the slot is answered (after the answer's bytes are copied, so they may live in
   it). Copy what must outlive the answer. The arena keeps up to a few KiB for the next
   request; it may hold at most twice the frame limit (plus 64 KiB). */
struct tp_arena *net_reply_arena(struct net_reply *reply);
/* Stable id of the slot's connection (for logs and per-connection state); 0 once closed. */
uint64_t net_reply_conn_id(const struct net_reply *reply);

/* The layer above may keep one pointer per connection (a peer's authenticated id, a nonce it
   issued). free_fn (may be NULL) runs exactly once for it: when the connection is freed or
   another pointer replaces it. On a closed connection nothing is attached, NET_ERR_CLOSED is
   returned and the caller keeps user. */
typedef void (*net_user_free_fn)(void *user);
int net_reply_conn_set_user(struct net_reply *reply, void *user, net_user_free_fn free_fn);
/* The attached pointer; NULL when none or once the connection is closed. */
void *net_reply_conn_user(const struct net_reply *reply);

/* The layer above vouches for the connection (a peer proved it holds the cluster secret): it
   is never closed to make room, leaves its reserved slot, and no longer counts against its
   source address. */
void net_reply_conn_trust(struct net_reply *reply);
/* The layer above expects to trust the connection soon (a peer was handed its challenge): it
   makes room only after every other untrusted connection. */
void net_reply_conn_hold(struct net_reply *reply);
/* Whether the connection sits in a reserved slot (not trusted yet): only calls that can
   prove it a peer should be served on it. False once closed. */
bool net_reply_conn_reserved(const struct net_reply *reply);

/* The connection's remote end as "HOST:PORT" ("[v6]:PORT"), for logs: "local" for a
   connection without a socket (a bufferevent pair), "closed" once the connection is gone. */
#define NET_PEER_ADDR_MAX 64u
const char *net_reply_peer(const struct net_reply *reply);
/* The connection's TLS session (its handshake done), or NULL: plain, or closed. */
SSL *net_reply_conn_ssl(const struct net_reply *reply);

struct net_server;

struct net_server *net_server_new(struct event_base *base, const struct net_limits *limits,
                                  net_message_cb on_message, void *ctx);
/* Starts accepting on HOST:PORT (port 0 picks one; see net_server_port). */
int net_server_listen(struct net_server *srv, const char *host_port);
uint16_t net_server_port(const struct net_server *srv);
/* From now on accepted connections speak TLS with ctx (the caller keeps it, and frees it
   after the server). A failed handshake is logged with its reason and closed. */
void net_server_set_tls(struct net_server *srv, SSL_CTX *ctx);
/* Serves an already connected bufferevent (a socket or one end of a pair). Takes ownership. */
int net_server_adopt(struct net_server *srv, struct bufferevent *bev);
size_t net_server_connection_count(const struct net_server *srv);
/* Graceful stop: no new connections or requests; answers already asked for are written;
   on_drained runs once every connection is gone (maybe before this returns); it must not
   free the server itself (stop the loop instead). */
void net_server_drain(struct net_server *srv, void (*on_drained)(void *ctx), void *ctx);
void net_server_free(struct net_server *srv);

/* Splits HOST:PORT ("[v6]:port" too) into host (NUL-terminated, host_size bytes) and port. */
int net_split_host_port(const char *host_port, char *host, size_t host_size, uint16_t *port);

#endif
