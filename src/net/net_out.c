/* net_out.c: a socket connection's output. Answers collect in the output buffer during a loop
   turn; the server's flush event, queued behind every callback already active, writes each
   connection's batch with one sendmsg. Only a socket that would block gets EV_WRITE, and
   libevent writes the rest: no epoll_ctl pair and no extra loop turn per reply. */
#include "net_internal.h"

#include <assert.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* Buffer chunks handed to one sendmsg. */
#define NET_WRITE_IOVECS 64

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
        event_active(srv->flush_ev, EV_TIMEOUT, 0);   /* a non-empty list has it active */
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
    struct evbuffer *out = bufferevent_get_output(c->bev);
    evutil_socket_t fd = bufferevent_getfd(c->bev);
    while (!c->writing && evbuffer_get_length(out) > 0) {
        struct evbuffer_iovec vec[NET_WRITE_IOVECS];
        struct iovec iov[NET_WRITE_IOVECS];
        int n = evbuffer_peek(out, -1, NULL, vec, NET_WRITE_IOVECS);
        n = n < NET_WRITE_IOVECS ? n : NET_WRITE_IOVECS;
        size_t want = 0;
        for (int i = 0; i < n; i++) {
            iov[i] = (struct iovec){vec[i].iov_base, vec[i].iov_len};
            want += vec[i].iov_len;
        }
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)n};
        ssize_t w = sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            net_conn_close(c, "socket error writing");
            return;
        }
        w = w < 0 ? 0 : w;
        /* A bufferevent keeps its output's start frozen but for its own writes. */
        evbuffer_unfreeze(out, 1);
        int rc = evbuffer_drain(out, (size_t)w);
        evbuffer_freeze(out, 1);
        assert(rc == 0);
        (void)rc;
        if ((size_t)w < want) {
            c->writing = true;
            bufferevent_enable(c->bev, EV_WRITE);
        }
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

void net_out_flush_cb(evutil_socket_t fd, short what, void *arg)
{
    struct net_server *srv = arg;
    (void)fd;
    (void)what;
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
