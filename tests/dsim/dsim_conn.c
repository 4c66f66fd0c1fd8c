/* dsim_conn.c: peer connections as the server reads them: a few calls served at once, the
   rest buffered, and the next one let in by the reply that frees a slot, inside its send. */
#include "dsim.h"

#include <stdlib.h>

/*
 * A node serves a peer's calls on that peer's connection as net_conn does: at most
 * pipeline_max unanswered calls (limits.pending_replies_max), later ones wait in the input
 * buffer, and sending a reply lets the next one in at once, from inside the send
 * (net_reply_send -> net_conn_progress -> conn_process_input): wherever the driver finishes a
 * call, the next call from that peer may reach it there. Buffered calls die with either end's
 * process (a new life at either end is a new connection).
 */

static struct dsim_conn *conn_of(struct dsim_world *w, uint32_t from, uint32_t to)
{
    return &w->conns[from][to];
}

/* A connection of other processes than these is gone: what it buffered is dropped. */
static void renew(struct dsim_world *w, struct dsim_conn *c, uint32_t from_life, uint32_t to_life)
{
    if (c->from_life == from_life && c->to_life == to_life && c->gen != 0)
        return;
    for (size_t i = 0; i < c->count; i++)
        dsim_net_drop(c->buf[(c->head + i) % c->cap]);
    c->head = c->count = 0;
    c->from_life = from_life;
    c->to_life = to_life;
    c->serving = 0;
    c->gen = ++w->conn_gen;
}

static void push(struct dsim_conn *c, void *msg)
{
    if (c->count == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        void **buf = malloc(cap * sizeof *buf);
        if (!buf)
            abort();
        for (size_t i = 0; i < c->count; i++)
            buf[i] = c->buf[(c->head + i) % c->cap];
        free(c->buf);
        c->buf = buf;
        c->cap = cap;
        c->head = 0;
    }
    c->buf[(c->head + c->count++) % c->cap] = msg;
}

static bool full(const struct dsim_world *w, const struct dsim_conn *c)
{
    return w->cfg.pipeline_max != 0 && c->serving >= w->cfg.pipeline_max;
}

/* The input loop: buffered calls go in while slots are free (a reply sent from inside it
   lets nothing in itself: the loop goes on, as conn_process_input's does). */
static void let_in(struct dsim_world *w, uint32_t from, uint32_t to)
{
    struct dsim_conn *c = conn_of(w, from, to);
    if (c->delivering)
        return;
    c->delivering = true;
    while (c->count > 0 && !full(w, c) && !w->failed) {
        if (!w->nodes[to].up || w->nodes[to].life != c->to_life) {
            renew(w, c, c->from_life, w->nodes[to].life);
            break;
        }
        void *msg = c->buf[c->head];
        c->head = (c->head + 1) % c->cap;
        c->count--;
        c->serving++;
        w->stats.let_in++;
        dsim_net_serve(w, msg, c->gen);
    }
    c->delivering = false;
}

void dsim_conn_arrive(struct dsim_world *w, uint32_t from, uint32_t from_life, uint32_t to,
                      void *msg)
{
    struct dsim_conn *c = conn_of(w, from, to);
    renew(w, c, from_life, w->nodes[to].life);
    push(c, msg);
    let_in(w, from, to);
}

void dsim_conn_answered(struct dsim_world *w, uint32_t from, uint32_t to, uint32_t gen)
{
    struct dsim_conn *c = conn_of(w, from, to);
    if (gen != c->gen || c->serving == 0)
        return; /* a call of a connection that is gone */
    c->serving--;
    let_in(w, from, to);
}

void dsim_conn_free_all(struct dsim_world *w)
{
    for (uint32_t a = 0; a < DSIM_NODES_MAX; a++)
        for (uint32_t b = 0; b < DSIM_NODES_MAX; b++) {
            struct dsim_conn *c = conn_of(w, a, b);
            for (size_t i = 0; i < c->count; i++)
                dsim_net_drop(c->buf[(c->head + i) % c->cap]);
            free(c->buf);
            *c = (struct dsim_conn){0};
        }
}

uint32_t dsim_conn_take(struct dsim_world *w, uint32_t from, uint32_t from_life, uint32_t to)
{
    struct dsim_conn *c = conn_of(w, from, to);
    renew(w, c, from_life, w->nodes[to].life);
    c->serving++;
    return c->gen;
}
