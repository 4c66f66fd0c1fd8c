/* cluster_net_shape.c: fault injection's slow link: calls to a peer held back and paced. */
#include "cluster_net_link.h"

#include <assert.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdlib.h>
#include <time.h>

/*
 * With a delay or a rate set for the peer (cluster_transport_shape), whole call frames wait in
 * the link's shape buffer instead of its socket's output: a frame's last bit "leaves" once
 * every frame before it left at rate_kbps, and it reaches the socket delay_ms after that, so a
 * loopback link behaves like a long, thin one (what this node sends; replies are the peer's).
 * The handshake's own calls are not shaped.
 */

struct shaped_frame {
    size_t len;
    int64_t release_us;
};

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

bool net_shape_on(const struct net_link *l)
{
    const struct cluster_transport_fault *f = cluster_transport_fault(&l->net->t, l->peer);
    return f && (f->delay_ms > 0 || f->rate_kbps > 0);
}

static void arm(struct net_link *l)
{
    struct net_shape *s = &l->shape;
    if (s->count == 0)
        return;
    int64_t wait = s->q[s->head].release_us - now_us();
    if (wait < 0)
        wait = 0;
    struct timeval tv = {.tv_sec = wait / 1000000, .tv_usec = wait % 1000000};
    event_add(s->ev, &tv);
}

/* The timer: frames whose time came go to the socket's output, in order. */
static void release(evutil_socket_t fd, short what, void *arg)
{
    struct net_link *l = arg;
    struct net_shape *s = &l->shape;
    (void)fd, (void)what;
    int64_t now = now_us();
    bool moved = false;
    while (s->count > 0 && s->q[s->head].release_us <= now && l->pipe.bev) {
        struct evbuffer *out = bufferevent_get_output(l->pipe.bev);
        evbuffer_remove_buffer(s->buf, out, s->q[s->head].len);
        s->head = (s->head + 1) % s->cap;
        s->count--;
        moved = true;
    }
    if (moved)
        net_link_flush_schedule(l);
    arm(l);
}

int net_shape_init(struct net_link *l)
{
    l->shape.buf = evbuffer_new();
    l->shape.ev = event_new(l->net->base, -1, 0, release, l);
    return l->shape.buf && l->shape.ev ? 0 : CLUSTER_ERR_NOMEM;
}

int net_shape_push(struct net_link *l, size_t len)
{
    struct net_shape *s = &l->shape;
    if (s->count == s->cap) {
        uint32_t cap = s->cap ? s->cap * 2 : 64;
        struct shaped_frame *q = malloc(cap * sizeof *q);
        if (!q)
            return CLUSTER_ERR_NOMEM;
        for (uint32_t i = 0; i < s->count; i++)
            q[i] = s->q[(s->head + i) % s->cap];
        free(s->q);
        s->q = q;
        s->cap = cap;
        s->head = 0;
    }
    const struct cluster_transport_fault *f = cluster_transport_fault(&l->net->t, l->peer);
    int64_t now = now_us();
    int64_t start = s->busy_until_us > now ? s->busy_until_us : now;
    uint32_t kbps = f ? f->rate_kbps : 0, delay_ms = f ? f->delay_ms : 0;
    /* len bytes at kbps kilobits a second take len * 8000 / kbps microseconds. */
    s->busy_until_us = start + (kbps ? (int64_t)(len * 8000 / kbps) : 0);
    s->q[(s->head + s->count++) % s->cap] =
        (struct shaped_frame){len, s->busy_until_us + (int64_t)delay_ms * 1000};
    if (s->count == 1)
        arm(l);
    return 0;
}

void net_shape_drop(struct net_link *l)
{
    struct net_shape *s = &l->shape;
    if (s->buf)
        evbuffer_drain(s->buf, evbuffer_get_length(s->buf));
    s->head = s->count = 0;
    s->busy_until_us = 0;
    if (s->ev)
        event_del(s->ev);
}

void net_shape_free(struct net_link *l)
{
    struct net_shape *s = &l->shape;
    if (s->ev)
        event_free(s->ev);
    if (s->buf)
        evbuffer_free(s->buf);
    free(s->q);
    *s = (struct net_shape){0};
}
