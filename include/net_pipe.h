/* net_pipe.h: the client side of a Thrift connection, for every client we build: kvbench,
   kvctl, kvtorture. Calls are written as they are made (pipelined; framed or unframed),
   replies are matched to their calls by seqid (never by order), each call may carry a
   deadline, and the connection may speak TLS. It runs on a libevent base; net_sync.h is the
   same client used one call at a time, blocking, for tools. */
#ifndef NET_PIPE_H
#define NET_PIPE_H

#include "net.h"
#include "net_scan.h"
#include "thrift.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct event;
struct sockaddr;
struct bufferevent;
typedef struct ssl_ctx_st SSL_CTX;

/* One call waiting for its reply. tag and ptr are the caller's (what was asked, of whom). */
struct net_pipe_call {
    int32_t seqid;
    uint32_t tag;
    void *ptr;
    int64_t deadline_ms;    /* on net_pipe_now_ms()'s clock; 0: none */
    bool live;              /* false once answered (the ring keeps the hole until the head) */
};

/*
 * A reply to call: err 0 with the whole message (without its frame header; valid during the
 * callback only), or err (NET_ERR_CLOSED, NET_ERR_IO, NET_ERR_TIMEOUT, NET_ERR_TLS, ...)
 * with msg NULL when the call can no longer be answered (the connection went down, or the
 * deadline passed: whether the server acted on it is unknown). call is NULL for a reply no
 * call waits for (its seqid was never sent here, or its call already failed): it is counted
 * in unmatched and otherwise ignored. The callback may make calls, close or reconnect the
 * pipe, but not free it.
 */
typedef void (*net_pipe_reply_fn)(void *ctx, const struct net_pipe_call *call, int err,
                                  const uint8_t *msg, size_t len);
/* The connection is up (err 0: calls made meanwhile are on their way), or went down (every
   waiting call has had its reply callback first). */
typedef void (*net_pipe_state_fn)(void *ctx, int err);
/* libevent wrote what was left in the output (a caller that writes it itself, see
   net_pipe_track). */
typedef void (*net_pipe_written_fn)(void *ctx);

struct net_pipe_config {
    struct event_base *base;
    SSL_CTX *tls;               /* NULL: plain TCP; else the server's certificate must chain
                                   to its CA and name the endpoint's host */
    bool framed;                /* 4-byte length prefixes (else TBufferedTransport style) */
    uint32_t frame_max;         /* a longer reply breaks the connection; 0: the default */
    uint32_t idle_ms;           /* no input this long while calls wait breaks it; 0: never */
    net_pipe_reply_fn on_reply;
    net_pipe_state_fn on_state; /* may be NULL */
    net_pipe_written_fn on_written; /* may be NULL */
    void *ctx;
};

enum net_pipe_state { NET_PIPE_DOWN, NET_PIPE_CONNECTING, NET_PIPE_UP };

struct net_pipe {
    struct net_pipe_config cfg;
    enum net_pipe_state state;
    struct bufferevent *bev;
    struct event *read_ev;      /* a plain socket once up: reads it (the bev's EV_READ off) */
    uint64_t gen;               /* bumped by every close: a callback may have closed it */
    char endpoint[256];
    struct net_pipe_call *calls; /* ring in send order: head .. head + count */
    uint32_t head, count, cap;
    uint32_t waiting;           /* live calls in the ring */
    int32_t seqid;
    tp_buf out;                 /* the call being written (net_pipe_begin .. net_pipe_end) */
    size_t frame_at;
    struct net_scan scan;       /* unframed: progress through the input */
    size_t scanned;
    int err;                    /* why it went down last (0: it did not) */
    char tls_error[256];        /* the TLS failure's reason, when err is NET_ERR_TLS */
    uint64_t unmatched;         /* replies no call waited for */
    uint64_t bytes_sent, bytes_received;
};

int net_pipe_init(struct net_pipe *p, const struct net_pipe_config *cfg);
/* Starts connecting to HOST:PORT (a name is resolved here, blocking). Calls may be made at
   once: they leave when it is up. 0 or NET_ERR_ADDRESS, NET_ERR_RESOLVE, NET_ERR_NOMEM,
   NET_ERR_STATE (not down). */
int net_pipe_connect(struct net_pipe *p, const char *endpoint);
/* The same to an address resolved already; host is the name the certificate must have. */
int net_pipe_connect_addr(struct net_pipe *p, const struct sockaddr *addr, int addr_len,
                          const char *host);
/* Ends the connection: every waiting call gets err, then on_state(err). Nothing when down
   with no call waiting. */
void net_pipe_close(struct net_pipe *p, int err);
void net_pipe_free(struct net_pipe *p);

/* Writing a call: encode one whole CALL message with *seqid into the buffer begin returns,
   then end sends it (framed if asked) and remembers tag and ptr for its reply. end: 0, or
   NET_ERR_NOMEM (the buffer failed), NET_ERR_STATE (the pipe is down): no reply then. */
tp_buf *net_pipe_begin(struct net_pipe *p, int32_t *seqid);
int net_pipe_end(struct net_pipe *p, uint32_t tag, void *ptr, int64_t deadline_ms);
/* The same for a CALL the caller encoded (with seqid; see net_pipe_next_seqid). */
int net_pipe_send(struct net_pipe *p, const void *msg, size_t len, int32_t seqid, uint32_t tag,
                  void *ptr, int64_t deadline_ms);
int32_t net_pipe_next_seqid(struct net_pipe *p);
/* For a caller that writes its calls' bytes itself (framed, into the connection's output,
   p->bev's, or a buffer of its own until the pipe is up): remembers call c for its reply.
   Allowed while down too: the call then waits for the next connection (and fails with it).
   0, or NET_ERR_NOMEM. */
int net_pipe_track(struct net_pipe *p, const struct net_pipe_call *c);
/* Runs fn on every waiting call, in send order (fn must not make or end calls). */
void net_pipe_each(struct net_pipe *p, void (*fn)(void *arg, struct net_pipe_call *c),
                   void *arg);
/* Fails every call whose deadline is at or before now_ms with NET_ERR_TIMEOUT. */
void net_pipe_expire(struct net_pipe *p, int64_t now_ms);
static inline uint32_t net_pipe_waiting(const struct net_pipe *p) { return p->waiting; }
int64_t net_pipe_now_ms(void);

#endif
