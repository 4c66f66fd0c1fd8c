/* cluster_net_link.h: one peer's outbound connection inside the NetworkTransport. */
#ifndef CLUSTER_NET_LINK_H
#define CLUSTER_NET_LINK_H

#include "cluster_internal.h"
#include "cluster_net.h"
#include "net_pipe.h"
#include "net_turn.h"

#include <event2/util.h>
#include <sys/socket.h>

struct bufferevent;
struct evbuffer;

/* A call waiting for its reply (or for the link to come up): the ptr of its net_pipe call. */
struct net_call {
    struct net_call *next;   /* on the transport's failed list */
    uint32_t peer;
    int32_t seqid;
    int method;
    uint64_t tag;
    int64_t deadline_ms;
    uint64_t queued_ns; /* appendEntry: when it was queued (its round trip is measured) */
    bool internal; /* the handshake's own calls */
    bool sent;     /* written to the socket's output: the peer may have it */
    int err;
    cluster_forward_done_fn fwd_done; /* a forwarded client call: raw reply to here */
    void *fwd_ctx;
};

/* Fault injection's slow link (cluster_net_shape.c): frames waiting for their time. */
struct shaped_frame;
struct net_shape {
    struct evbuffer *buf;    /* the frames, in order */
    struct shaped_frame *q;  /* ring: each frame's length and release time */
    uint32_t head, count, cap;
    int64_t busy_until_us;   /* when the paced link finishes the last frame queued */
    struct event *ev;        /* the head's release */
};

enum link_state {
    LINK_IDLE = 0,   /* never used, or waiting for the backoff */
    LINK_CONNECTING,
    LINK_HANDSHAKE,  /* peerChallenge / peerAuthenticate in flight */
    LINK_READY,
};

struct cluster_net;

/* The link's connection is net's one client (net_pipe): it keeps the calls in flight and
   matches each reply to its call by seqid; the link adds the handshake, the queue until it is
   up, shaping, batched direct writes and the backoff. */
struct net_link {
    struct cluster_net *net;
    uint32_t peer;
    enum link_state state;
    bool backing_off;
    struct net_pipe pipe;    /* its bev once connecting; the calls queued and in flight */
    const char *why;         /* why the link is going down (for the log line) */
    struct event *retry_ev;
    struct sockaddr_storage addr;
    int addr_len;
    uint32_t backoff_ms;
    struct evbuffer *queued; /* frames written before the link was ready */
    bool flush_queued;       /* output waits for the transport's flush event */
    bool writing;            /* the socket was full: libevent writes the rest (EV_WRITE) */
    char host[256];          /* the endpoint's host: the name its certificate must have */
    struct net_shape shape;
};

struct cluster_net {
    struct cluster_transport t; /* first: the transport's address is the net's */
    struct cluster_net_config cfg;
    struct event_base *base;
    struct net_turn_part fail;  /* the end of turn's peer failures (deliver_failures) */
    struct event *sweep_ev;
    struct net_turn_part flush; /* the end of turn's peer flush (net_link_flush) */
    tp_buf frame;            /* where each outbound frame is encoded, kept between frames */
    struct net_call *failed, **failed_tail;
    int32_t seqid;
    uint64_t rng;
    struct net_link links[CONSENSUS_MEMBERS_MAX]; /* by the transport's slot */
};

void net_call_fail(struct cluster_net *net, struct net_call *c, int err);

int net_link_init(struct net_link *l, struct cluster_net *net, uint32_t peer,
                  const char *endpoint);
void net_link_free(struct net_link *l);
/* A peer that left the membership: its calls fail UNREACHABLE at the end of the turn. */
void net_link_remove(struct net_link *l);
/* Takes c; 0, or an error (c freed, no reply) when the request cannot be encoded. */
int net_link_call(struct net_link *l, struct net_call *c, const void *request);
/* The same for a forwarded client call, framed by enc (cluster_net_forward). */
int net_link_forward(struct net_link *l, struct net_call *c, cluster_forward_encode_fn enc,
                     void *enc_ctx);
void net_link_expire(struct net_link *l, int64_t now_ms);
/* The end of turn's peer flush (net_turn.h): each link with new output gets one sendmsg.
 * Frames collect in a link's output during a loop turn (appends to every follower, forwarded
 * calls); only a socket that would block gets EV_WRITE, so a batch costs no epoll_ctl pair
 * and no extra loop turn. */
void net_link_flush(void *net);
/* The link has new output for the peer flush. */
void net_link_flush_schedule(struct net_link *l);

/* cluster_net_shape.c: with a delay or rate set for the peer, frames go through the shape
   buffer (push: the frame of len bytes just added to l->shape.buf). */
bool net_shape_on(const struct net_link *l);
int net_shape_init(struct net_link *l);
int net_shape_push(struct net_link *l, size_t len);
void net_shape_drop(struct net_link *l);
void net_shape_free(struct net_link *l);

#endif
