/* net_conn.c: one client connection: detects framing, hands whole messages up, puts the
   answers on its output in request order, and stops reading a client that floods or stops
   reading. */
#include "net_internal.h"
#include "net_write.h"

#include "log.h"
#include "log_client.h"
#include "metrics.h"

#include <assert.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Chunks looked at per evbuffer_peek call while scanning an unframed message. */
#define NET_PEEK_CHUNKS 8

static void conn_set_phase(struct net_conn *c, enum net_conn_phase to)
{
    enum net_conn_phase from = c->phase;
    switch (to) {
    case NET_CONN_DETECT: assert(0 && "a connection never returns to DETECT"); break;
    case NET_CONN_OPEN: assert(from == NET_CONN_DETECT); break;
    case NET_CONN_DRAINING: assert(from == NET_CONN_DETECT || from == NET_CONN_OPEN); break;
    case NET_CONN_CLOSING: assert(from != NET_CONN_CLOSED); break;
    case NET_CONN_CLOSED: break;
    }
    assert(from != NET_CONN_CLOSED);
    c->phase = to;
}

static size_t output_len(const struct net_conn *c)
{
    return evbuffer_get_length(bufferevent_get_output(c->bev));
}

static bool conn_wants_input(const struct net_conn *c)
{
    return (c->phase == NET_CONN_DETECT || c->phase == NET_CONN_OPEN) &&
           c->pending < c->srv->limits.pending_replies_max &&
           output_len(c) < c->srv->limits.output_high_water;
}

static void conn_update_read(struct net_conn *c)
{
    bool want = c->phase != NET_CONN_CLOSED && conn_wants_input(c);
    if (want == c->reading)
        return;
    c->reading = want;
    if (c->read_ev) {
        /* The idle timeout runs while reading, as a bufferevent's read timeout does. */
        uint32_t ms = c->srv->limits.idle_timeout_ms;
        struct timeval idle = {ms / 1000, (ms % 1000) * 1000};
        if (want)
            event_add(c->read_ev, ms ? &idle : NULL);
        else
            event_del(c->read_ev);
    } else if (want) {
        bufferevent_enable(c->bev, EV_READ);
    } else {
        bufferevent_disable(c->bev, EV_READ);
    }
}

static void conn_free(struct net_conn *c)
{
    assert(c->phase == NET_CONN_CLOSED);
    assert(c->busy == 0);
    net_out_unschedule(c);
    struct net_reply *r = c->head;
    while (r) {
        struct net_reply *next = r->next;
        if (r->answered) {
            net_slot_put(c->srv, r);
        } else {
            r->conn = NULL;   /* the handler still holds it; net_reply_* frees it */
            r->next = NULL;
        }
        r = next;
    }
    if (c->user_free)
        c->user_free(c->user);
    if (c->read_ev)
        event_free(c->read_ev);
    bufferevent_free(c->bev);
    net_server_forget(c->srv, c);
    free(c);
}

void net_conn_enter(struct net_conn *c) { c->busy++; }

void net_conn_leave(struct net_conn *c)
{
    assert(c->busy > 0);
    c->busy--;
    if (c->busy == 0 && c->phase == NET_CONN_CLOSED)
        conn_free(c);
}

void net_conn_close(struct net_conn *c, const char *reason)
{
    if (c->phase != NET_CONN_CLOSED)
        log_client(LOG_CLIENT_CLOSED, LOG_INFO, "conn %llu (%s): closed: %s",
                   (unsigned long long)c->id, c->peer, reason);
    net_conn_close_quiet(c);
}

void net_conn_close_quiet(struct net_conn *c)
{
    if (c->phase == NET_CONN_CLOSED)
        return;
    conn_set_phase(c, NET_CONN_CLOSED);
    bufferevent_disable(c->bev, EV_READ | EV_WRITE);
    if (c->read_ev)
        event_del(c->read_ev);
    c->reading = false;
    if (c->busy == 0)
        conn_free(c);
}

/* A draining or closing connection ends once nothing more will be written. */
static void conn_check_done(struct net_conn *c)
{
    if (output_len(c) > 0)
        return;
    if (c->phase == NET_CONN_CLOSING)
        net_conn_close(c, "after the last reply");
    else if (c->phase == NET_CONN_DRAINING && c->pending == 0)
        net_conn_close(c, "drained");
}

void net_conn_emit(struct net_conn *c, const void *data, size_t len, bool close_after)
{
    if (c->phase == NET_CONN_CLOSING || c->phase == NET_CONN_CLOSED)
        return;   /* nothing after a closing answer */
    assert(c->phase != NET_CONN_DETECT);
    assert(len <= UINT32_MAX);
    if (len > 0) {
        struct evbuffer *out = bufferevent_get_output(c->bev);
        uint8_t hdr[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                          (uint8_t)len};
        bool framed = c->framing == NET_FRAMING_FRAMED;
        if ((framed && evbuffer_add(out, hdr, 4) != 0) || evbuffer_add(out, data, len) != 0) {
            net_conn_close(c, "out of memory writing a reply");
            return;
        }
        net_out_schedule(c);
        metrics_count(METRIC_NET_SENT_BYTES, len);
    }
    if (close_after) {
        conn_set_phase(c, NET_CONN_CLOSING);
        bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
    }
}

/* Answers that waited for an earlier one go out as soon as they are next. */
static void conn_flush_replies(struct net_conn *c)
{
    while (c->head && c->head->answered) {
        struct net_reply *r = c->head;
        c->head = r->next;
        if (!c->head)
            c->tail = NULL;
        net_conn_emit(c, r->data, r->len, r->close_after);
        net_slot_put(c->srv, r);
    }
}

static void conn_deliver(struct net_conn *c, const uint8_t *msg, size_t len)
{
    struct net_reply *r = net_slot_get(c->srv);
    if (!r) {
        net_conn_close(c, "out of memory for a request");
        return;
    }
    r->conn = c;
    if (c->tail)
        c->tail->next = r;
    else
        c->head = r;
    c->tail = r;
    c->pending++;
    net_server_touch(c->srv, c);
    metrics_count(METRIC_NET_RECEIVED_BYTES, len);
    c->srv->on_message(c->srv->ctx, r, msg, len);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Returns the length of a whole framed message at the front (header excluded), 0 if more
   bytes are needed, -1 after closing for an oversized frame. */
static int64_t framed_ready(struct net_conn *c, struct evbuffer *in)
{
    uint8_t hdr[4];
    if (evbuffer_copyout(in, hdr, 4) < 4)
        return 0;
    uint32_t n = be32(hdr);
    if (n > c->srv->limits.frame_bytes_max) {
        log_client(LOG_CLIENT_BAD_INPUT, LOG_WARN, "conn %llu (%s): frame of %u bytes is over "
                   "the limit of %u", (unsigned long long)c->id, c->peer, n,
                   c->srv->limits.frame_bytes_max);
        net_conn_close(c, "frame over the size limit");
        return -1;
    }
    if (n == 0) {
        net_conn_close(c, "empty frame");
        return -1;
    }
    return evbuffer_get_length(in) - 4 >= n ? (int64_t)n : 0;
}

/* Scans unframed input from where the last scan stopped. Returns the message length, 0 if
   more bytes are needed, -1 after closing for a malformed message. */
static int64_t unframed_ready(struct net_conn *c, struct evbuffer *in)
{
    struct net_scan *s = &c->scan;
    while (s->consumed < evbuffer_get_length(in)) {
        struct evbuffer_ptr at;
        struct evbuffer_iovec vec[NET_PEEK_CHUNKS];
        evbuffer_ptr_set(in, &at, (size_t)s->consumed, EVBUFFER_PTR_SET);
        int n = evbuffer_peek(in, -1, &at, vec, NET_PEEK_CHUNKS);
        n = n < NET_PEEK_CHUNKS ? n : NET_PEEK_CHUNKS;
        for (int i = 0; i < n; i++) {
            size_t used;
            enum net_scan_result r = net_scan_feed(s, vec[i].iov_base, vec[i].iov_len, &used);
            if (r == NET_SCAN_DONE)
                return (int64_t)s->consumed;
            if (r != NET_SCAN_MORE) {
                log_client(LOG_CLIENT_BAD_INPUT, LOG_WARN, "conn %llu (%s): unframed message: %s",
                           (unsigned long long)c->id, c->peer, net_scan_strerror(r));
                net_conn_close(c, "malformed unframed message");
                return -1;
            }
        }
    }
    return 0;
}

/* Tells framed from unframed input by its first bytes; false while more are needed.
   Unframed strict messages start with the version byte 0x80. A frame's 4-byte length is
   followed by its message, whose first byte is 0x80 (strict) or 0 (an old-style name length,
   below 2^24); an old-style unframed message's name length is followed by the name, whose
   first byte is neither (a method name is a letter or more). So byte 4 decides, unless the
   length is one no name has: then it is a frame's (and a bad one is refused at once). */
static bool conn_detect(struct net_conn *c, struct evbuffer *in)
{
    uint8_t head[5];
    ssize_t n = evbuffer_copyout(in, head, sizeof head);
    bool name_len = n >= 4 && be32(head) > 0 && be32(head) <= NET_SCAN_NAME_MAX;
    if (n >= 1 && head[0] == 0x80)
        c->framing = NET_FRAMING_UNFRAMED;
    else if (n >= 4 && !name_len)
        c->framing = NET_FRAMING_FRAMED;
    else if (n < (ssize_t)sizeof head)
        return false;
    else
        c->framing = head[4] != 0 && head[4] != 0x80 ? NET_FRAMING_UNFRAMED : NET_FRAMING_FRAMED;
    net_scan_init(&c->scan, c->srv->limits.frame_bytes_max);
    conn_set_phase(c, NET_CONN_OPEN);
    return true;
}

static void conn_process_input(struct net_conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    while (conn_wants_input(c) && evbuffer_get_length(in) > 0) {
        if (c->phase == NET_CONN_DETECT && !conn_detect(c, in))
            break;
        bool framed = c->framing == NET_FRAMING_FRAMED;
        int64_t n = framed ? framed_ready(c, in) : unframed_ready(c, in);
        if (n <= 0)
            break;
        size_t skip = framed ? 4 : 0;
        const uint8_t *msg = evbuffer_pullup(in, (ssize_t)(skip + (size_t)n));
        if (!msg) {
            net_conn_close(c, "out of memory assembling a request");
            break;
        }
        conn_deliver(c, msg + skip, (size_t)n);
        evbuffer_drain(in, skip + (size_t)n);
        if (!framed)   /* the scanner is only for unframed input (and big to clear) */
            net_scan_init(&c->scan, c->srv->limits.frame_bytes_max);
    }
    conn_update_read(c);
}

void net_conn_progress(struct net_conn *c)
{
    conn_flush_replies(c);
    if (c->phase == NET_CONN_CLOSED)
        return;
    if (c->busy == 1)   /* not inside this connection's own input loop */
        conn_process_input(c);
    else
        conn_update_read(c);
    if (c->phase != NET_CONN_CLOSED)
        conn_check_done(c);
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
    struct net_conn *c = arg;
    (void)bev;
    net_conn_enter(c);
    if (c->phase != NET_CONN_CLOSED)
        net_conn_progress(c);
    net_conn_leave(c);
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
    struct net_conn *c = arg;
    (void)bev;
    net_conn_enter(c);
    if (c->phase != NET_CONN_CLOSED)
        net_out_written(c);
    if (c->phase != NET_CONN_CLOSED)
        net_conn_progress(c);
    net_conn_leave(c);
}

static void tls_established(struct net_conn *c)
{
    c->tls_up = true;
    char subject[160];
    SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
    net_tls_peer_subject(ssl, subject, sizeof subject);
    log_debug("conn %llu (%s): TLS %s, client %s", (unsigned long long)c->id, c->peer,
              SSL_get_version(ssl), subject);
}

/* A refused handshake (wrong CA, expired or missing certificate, plain text) or a broken
   session: the reason goes to the log, then the connection closes. */
static void tls_failed(struct net_conn *c)
{
    char why[400];
    net_tls_error_text(c->bev, why, sizeof why);
    if (!why[0])
        snprintf(why, sizeof why, "%s", "connection reset");
    if (!c->tls_up) {
        metrics_count(METRIC_CONN_REFUSED, 1);
        log_client(LOG_CLIENT_REFUSED, LOG_WARN, "conn %llu (%s): TLS handshake failed: %s",
                   (unsigned long long)c->id, c->peer, why);
        net_conn_close_quiet(c); /* the line above says why */
    } else {
        log_client(LOG_CLIENT_CLOSED, LOG_INFO, "conn %llu (%s): TLS error: %s",
                   (unsigned long long)c->id, c->peer, why);
        net_conn_close_quiet(c);
    }
}

/* The client is done sending; it may still wait for the answers it asked for. */
static void conn_eof(struct net_conn *c)
{
    if (c->phase == NET_CONN_DETECT || c->phase == NET_CONN_OPEN) {
        conn_set_phase(c, NET_CONN_DRAINING);
        bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
    }
    conn_update_read(c);
    if (c->phase != NET_CONN_CLOSED)
        conn_check_done(c);
}

/* A socket's input, read by net_read_direct (one syscall per wake-up, not libevent's two). */
static void conn_sock_read_cb(evutil_socket_t fd, short what, void *arg)
{
    struct net_conn *c = arg;
    (void)fd;
    net_conn_enter(c);
    if (c->phase == NET_CONN_CLOSED) {
        /* nothing: its callbacks are done */
    } else if (what & EV_TIMEOUT) {
        net_conn_close(c, "idle timeout");
    } else {
        int n = net_read_direct(c->bev);
        if (n > 0)
            net_conn_progress(c);
        else if (n == 0)
            conn_eof(c);
        else if (n == -2)
            net_conn_close(c, errno == ENOMEM ? "out of memory reading" : "socket error");
    }
    net_conn_leave(c);
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct net_conn *c = arg;
    (void)bev;
    net_conn_enter(c);
    if (what & BEV_EVENT_CONNECTED) {
        tls_established(c);
    } else if (what & BEV_EVENT_TIMEOUT) {
        net_conn_close(c, c->tls && !c->tls_up ? "TLS handshake timed out" : "idle timeout");
    } else if (c->tls && (what & BEV_EVENT_ERROR)) {
        tls_failed(c);
    } else if (what & BEV_EVENT_ERROR)
        net_conn_close(c, "socket error");
    else if (what & BEV_EVENT_EOF)
        conn_eof(c);
    net_conn_leave(c);
}

struct net_conn *net_conn_new(struct net_server *srv, struct bufferevent *bev)
{
    struct net_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->srv = srv;
    c->bev = bev;
    c->id = ++srv->next_conn_id;
    c->phase = NET_CONN_DETECT;
    c->framing = NET_FRAMING_UNKNOWN;
    c->tls = bufferevent_openssl_get_ssl(bev) != NULL;
    c->direct = bufferevent_getfd(bev) >= 0 && !c->tls;
    net_peer_format(bufferevent_getfd(bev), c->peer, sizeof c->peer);
    bufferevent_setcb(bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
    bufferevent_setwatermark(bev, EV_WRITE, srv->limits.output_high_water / 2, 0);
    struct timeval idle = {srv->limits.idle_timeout_ms / 1000,
                           (srv->limits.idle_timeout_ms % 1000) * 1000};
    bufferevent_set_timeouts(bev, &idle, &idle);
    /* A socket is written directly (net_out.c); EV_WRITE only while it is full (a new
       bufferevent starts with EV_WRITE enabled); it is read directly too, by its own event. */
    if (c->direct) {
        c->read_ev = event_new(srv->base, bufferevent_getfd(bev), EV_READ | EV_PERSIST,
                               conn_sock_read_cb, c);
        if (!c->read_ev) {
            free(c);
            return NULL;
        }
        bufferevent_disable(bev, EV_READ | EV_WRITE);
    } else {
        c->reading = true;
        bufferevent_enable(bev, EV_READ | EV_WRITE);
    }
    conn_update_read(c);
    return c;
}

void net_conn_drain(struct net_conn *c)
{
    if (c->phase != NET_CONN_DETECT && c->phase != NET_CONN_OPEN)
        return;
    net_conn_enter(c);
    conn_set_phase(c, NET_CONN_DRAINING);
    bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
    conn_update_read(c);
    conn_check_done(c);
    net_conn_leave(c);
}
