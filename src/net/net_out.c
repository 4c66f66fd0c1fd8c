/* net_out.c: a socket connection's output. Answers collect in the output buffer during a loop
   turn; the end of turn's client flush (net_turn.h), its last step, writes each connection's
   batch with one sendmsg. Only a socket that would block gets EV_WRITE, and
   libevent writes the rest: no epoll_ctl pair and no extra loop turn per reply. */
#include "net_internal.h"
#include "net_write.h"

#include <assert.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>

void net_out_schedule(struct net_conn *c)
{
    if (!c->direct || c->writing || c->flush_queued || c->phase == NET_CONN_CLOSED)
        return;
    struct net_server *srv = c->srv;
    c->flush_queued = true;
    c->flush_prev = NULL;
    c->flush_next = srv->flush_head;
    if (srv->flush_head)
        srv->flush_head->flush_prev = c;
    else
        net_turn_want(&srv->flush);   /* a non-empty list has it wanted */
    srv->flush_head = c;
}

void net_out_unschedule(struct net_conn *c)
{
    if (!c->flush_queued)
        return;
    if (c->flush_prev)
        c->flush_prev->flush_next = c->flush_next;
    else
        c->srv->flush_head = c->flush_next;
    if (c->flush_next)
        c->flush_next->flush_prev = c->flush_prev;
    c->flush_prev = c->flush_next = NULL;
    c->flush_queued = false;
}

/* Writes what the socket takes now; arms EV_WRITE for the rest. */
static void write_now(struct net_conn *c)
{
    assert(c->direct && !c->writing);
    int rc = net_write_direct(c->bev);
    if (rc < 0) {
        net_conn_close(c, "socket error writing");
        return;
    }
    if (rc > 0) {
        c->writing = true;
        bufferevent_enable(c->bev, EV_WRITE);
    }
}

/* One connection's batch: written, then its reading resumed or its close finished. */
static void flush_conn(struct net_conn *c)
{
    net_conn_enter(c);
    if (c->phase != NET_CONN_CLOSED && !c->writing)
        write_now(c);
    if (c->phase != NET_CONN_CLOSED)
        net_conn_progress(c);
    net_conn_leave(c);
}

void net_out_flush(void *arg)
{
    struct net_server *srv = arg;
    /* A flush may queue more (input it lets in is answered at once); the input is finite. */
    while (srv->flush_head) {
        struct net_conn *c = srv->flush_head;
        net_out_unschedule(c);
        flush_conn(c);
    }
}

void net_out_written(struct net_conn *c)
{
    if (!c->direct || !c->writing ||
        evbuffer_get_length(bufferevent_get_output(c->bev)) > 0)
        return;
    c->writing = false;
    bufferevent_disable(c->bev, EV_WRITE);
}
