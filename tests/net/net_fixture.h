/* net_fixture.h: an event loop, a net_server with an echo handler, and helpers to pump it. */
#ifndef TESTS_NET_FIXTURE_H
#define TESTS_NET_FIXTURE_H

#include "net.h"

#include <criterion/criterion.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FIX_HELD_MAX 1024

struct fix {
    struct event_base *base;
    struct net_server *srv;
    struct net_limits limits;
    bool hold;                       /* keep reply slots instead of answering */
    bool close_after;                /* answer with net_reply_send_close */
    size_t reply_pad;                /* extra bytes appended to each echo */
    struct net_reply *held[FIX_HELD_MAX];
    uint8_t *held_msg[FIX_HELD_MAX];
    size_t held_len[FIX_HELD_MAX];
    size_t held_n;
    size_t messages;                 /* messages handed up so far */
    size_t reserved_seen;            /* of them, on a connection in a reserved slot */
    bool trust;                      /* trust every connection a message comes on */
    bool drained;
};

static inline void fix_echo(struct fix *f, struct net_reply *r, const uint8_t *msg, size_t len)
{
    size_t n = len + f->reply_pad;
    uint8_t *out = calloc(1, n);
    cr_assert(out);
    memcpy(out, msg, len);
    if (f->close_after)
        net_reply_send_close(r, out, n);
    else
        net_reply_send(r, out, n);
    free(out);
}

static inline void fix_on_message(void *ctx, struct net_reply *r, const uint8_t *msg, size_t len)
{
    struct fix *f = ctx;
    f->messages++;
    f->reserved_seen += net_reply_conn_reserved(r);
    if (f->trust)
        net_reply_conn_trust(r);
    if (!f->hold) {
        fix_echo(f, r, msg, len);
        return;
    }
    cr_assert_lt(f->held_n, FIX_HELD_MAX);
    f->held[f->held_n] = r;
    f->held_msg[f->held_n] = malloc(len);
    memcpy(f->held_msg[f->held_n], msg, len);
    f->held_len[f->held_n] = len;
    f->held_n++;
}

static inline void fix_answer(struct fix *f, size_t i)
{
    cr_assert_lt(i, f->held_n);
    cr_assert(f->held[i]);
    fix_echo(f, f->held[i], f->held_msg[i], f->held_len[i]);
    free(f->held_msg[i]);
    f->held[i] = NULL;
    f->held_msg[i] = NULL;
}

static inline void fix_init(struct fix *f)
{
    memset(f, 0, sizeof *f);
    f->base = event_base_new();
    cr_assert(f->base);
    net_limits_default(&f->limits);
}

static inline void fix_start(struct fix *f)
{
    f->srv = net_server_new(f->base, &f->limits, fix_on_message, f);
    cr_assert(f->srv);
}

static inline void fix_fini(struct fix *f)
{
    for (size_t i = 0; i < f->held_n; i++)
        if (f->held[i])
            fix_answer(f, i);
    net_server_free(f->srv);
    /* Pair ends freed with deferred callbacks pending are released by the loop, not by
       bufferevent_free: let it run them, or they leak with the base. */
    for (int i = 0; i < 4; i++)
        event_base_loop(f->base, EVLOOP_NONBLOCK);
    event_base_free(f->base);
}

static inline double fix_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs the loop until cond(arg) holds or seconds pass; returns whether it held. */
static inline bool fix_pump(struct fix *f, bool (*cond)(void *), void *arg, double seconds)
{
    double deadline = fix_now() + seconds;
    while (!cond(arg)) {
        if (fix_now() > deadline)
            return false;
        struct timeval tick = {0, 2000};
        event_base_loopexit(f->base, &tick);
        event_base_loop(f->base, 0);
    }
    return true;
}

/* Runs the loop for a while with no condition: lets everything that can happen happen. */
static inline void fix_settle(struct fix *f, double seconds)
{
    double deadline = fix_now() + seconds;
    while (fix_now() < deadline) {
        struct timeval tick = {0, 2000};
        event_base_loopexit(f->base, &tick);
        event_base_loop(f->base, 0);
    }
}

static inline void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

#endif
