/* net_pipe.c: a pipelined client connection: connect (TLS), write calls, match replies by seqid. */
#include "net_pipe.h"

#include "net.h"
#include "net_tls.h"
#include "net_write.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* Calls one connection may have waiting (a bound on the ring, not a tuning knob). */
#define NET_PIPE_CALLS_MAX (1u << 20)

int64_t net_pipe_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int net_pipe_init(struct net_pipe *p, const struct net_pipe_config *cfg)
{
    memset(p, 0, sizeof *p);
    p->cfg = *cfg;
    if (!p->cfg.frame_max)
        p->cfg.frame_max = NET_FRAME_BYTES_DEFAULT;
    tp_buf_init(&p->out);
    return NET_OK;
}

/* HOST:PORT as an address: numeric forms directly, a name through the resolver (IPv4 first,
   as a server listening on 127.0.0.1 is not reached at ::1). */
static int resolve(const char *endpoint, char *host, size_t host_size,
                   struct sockaddr_storage *ss, int *ss_len)
{
    uint16_t port;
    if (net_split_host_port(endpoint, host, host_size, &port) != NET_OK)
        return NET_ERR_ADDRESS;
    *ss_len = (int)sizeof *ss;
    if (evutil_parse_sockaddr_port(endpoint, (struct sockaddr *)ss, ss_len) == 0)
        return NET_OK;
    char port_text[8];
    snprintf(port_text, sizeof port_text, "%u", port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    if (getaddrinfo(host, port_text, &hints, &res) != 0 || !res)
        return NET_ERR_RESOLVE;
    const struct addrinfo *pick = res;
    for (const struct addrinfo *ai = res; ai; ai = ai->ai_next)
        if (ai->ai_family == AF_INET) {
            pick = ai;
            break;
        }
    memcpy(ss, pick->ai_addr, pick->ai_addrlen);
    *ss_len = (int)pick->ai_addrlen;
    freeaddrinfo(res);
    return NET_OK;
}

static void on_read(struct bufferevent *bev, void *arg);
static void on_event(struct bufferevent *bev, short what, void *arg);

int net_pipe_connect(struct net_pipe *p, const char *endpoint)
{
    if (p->state != NET_PIPE_DOWN)
        return NET_ERR_STATE;
    char host[256];
    struct sockaddr_storage ss;
    int ss_len;
    int rc = resolve(endpoint, host, sizeof host, &ss, &ss_len);
    if (rc != NET_OK)
        return rc;
    snprintf(p->endpoint, sizeof p->endpoint, "%s", endpoint);
    return net_pipe_connect_addr(p, (struct sockaddr *)&ss, ss_len, host);
}

static void on_written(struct bufferevent *bev, void *arg)
{
    struct net_pipe *p = arg;
    (void)bev;
    if (p->cfg.on_written)
        p->cfg.on_written(p->cfg.ctx);
}

int net_pipe_connect_addr(struct net_pipe *p, const struct sockaddr *addr, int addr_len,
                          const char *host)
{
    if (p->state != NET_PIPE_DOWN)
        return NET_ERR_STATE;
    p->bev = p->cfg.tls ? net_tls_client_bev(p->cfg.base, p->cfg.tls, host)
                        : bufferevent_socket_new(p->cfg.base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!p->bev)
        return NET_ERR_NOMEM;
    p->err = 0;
    p->tls_error[0] = '\0';
    p->scanned = 0;
    net_scan_init(&p->scan, p->cfg.frame_max);
    bufferevent_setcb(p->bev, on_read, p->cfg.on_written ? on_written : NULL, on_event, p);
    if (p->cfg.idle_ms) {
        struct timeval tv = {p->cfg.idle_ms / 1000, (p->cfg.idle_ms % 1000) * 1000};
        bufferevent_set_timeouts(p->bev, &tv, NULL);
    }
    bufferevent_enable(p->bev, EV_READ | EV_WRITE);
    p->state = NET_PIPE_CONNECTING;
    if (bufferevent_socket_connect(p->bev, (struct sockaddr *)addr, addr_len) != 0) {
        bufferevent_free(p->bev);
        p->bev = NULL;
        p->state = NET_PIPE_DOWN;
        p->err = NET_ERR_CONNECT;
        return NET_ERR_CONNECT;
    }
    return NET_OK;
}

static void read_stop(struct net_pipe *p)
{
    if (p->read_ev)
        event_free(p->read_ev);
    p->read_ev = NULL;
}

void net_pipe_close(struct net_pipe *p, int err)
{
    if (p->state == NET_PIPE_DOWN && p->count == 0)
        return;
    read_stop(p);
    if (p->bev)
        bufferevent_free(p->bev);
    p->bev = NULL;
    p->state = NET_PIPE_DOWN;
    p->err = err;
    p->gen++;
    /* The ring is set aside first: a callback may connect again and make new calls. */
    struct net_pipe_call *old = p->calls;
    uint32_t head = p->head, count = p->count, mask = p->cap - 1;
    p->calls = NULL;
    p->head = p->count = p->cap = p->waiting = 0;
    for (uint32_t i = 0; i < count; i++)
        if (old[(head + i) & mask].live)
            p->cfg.on_reply(p->cfg.ctx, &old[(head + i) & mask], err, NULL, 0);
    free(old);
    if (p->cfg.on_state)
        p->cfg.on_state(p->cfg.ctx, err);
}

void net_pipe_free(struct net_pipe *p)
{
    read_stop(p);
    if (p->bev)
        bufferevent_free(p->bev);
    free(p->calls);
    tp_buf_free(&p->out);
    memset(p, 0, sizeof *p);
}

int32_t net_pipe_next_seqid(struct net_pipe *p)
{
    p->seqid = p->seqid == INT32_MAX ? 1 : p->seqid + 1;
    return p->seqid;
}

static int calls_push(struct net_pipe *p, const struct net_pipe_call *c)
{
    if (p->count == p->cap) {
        uint32_t cap = p->cap ? p->cap * 2 : 16;
        if (cap > NET_PIPE_CALLS_MAX)
            return NET_ERR_NOMEM;
        struct net_pipe_call *ring = malloc(cap * sizeof *ring);
        if (!ring)
            return NET_ERR_NOMEM;
        for (uint32_t i = 0; i < p->count; i++)
            ring[i] = p->calls[(p->head + i) & (p->cap - 1)];
        free(p->calls);
        p->calls = ring;
        p->cap = cap;
        p->head = 0;
    }
    p->calls[(p->head + p->count) & (p->cap - 1)] = *c;
    p->count++;
    p->waiting++;
    return NET_OK;
}

int net_pipe_track(struct net_pipe *p, const struct net_pipe_call *c)
{
    struct net_pipe_call live = *c;
    live.live = true;
    return calls_push(p, &live);
}

void net_pipe_each(struct net_pipe *p, void (*fn)(void *arg, struct net_pipe_call *c),
                   void *arg)
{
    for (uint32_t i = 0; i < p->count; i++) {
        struct net_pipe_call *c = &p->calls[(p->head + i) & (p->cap - 1)];
        if (c->live)
            fn(arg, c);
    }
}

/* Marks the call answered; the head moves past answered calls. */
static void calls_done(struct net_pipe *p, struct net_pipe_call *c)
{
    c->live = false;
    p->waiting--;
    while (p->count > 0 && !p->calls[p->head].live) {
        p->head = (p->head + 1) & (p->cap - 1);
        p->count--;
    }
}

/* The waiting call with seqid, taken out into *out. Replies come in order as a rule, so the
   head is the first look. */
static bool calls_take(struct net_pipe *p, int32_t seqid, struct net_pipe_call *out)
{
    for (uint32_t i = 0; i < p->count; i++) {
        struct net_pipe_call *c = &p->calls[(p->head + i) & (p->cap - 1)];
        if (c->live && c->seqid == seqid) {
            *out = *c;
            calls_done(p, c);
            return true;
        }
    }
    return false;
}

/* Sends hdr (the frame header, or NULL) and msg as one call, remembered for its reply. */
static int send_call(struct net_pipe *p, const uint8_t *hdr, const void *msg, size_t len,
                     const struct net_pipe_call *c)
{
    if (p->state == NET_PIPE_DOWN)
        return NET_ERR_STATE;
    if (len > p->cfg.frame_max)
        return NET_ERR_FRAME;
    int rc = calls_push(p, c);
    if (rc != NET_OK)
        return rc;
    if ((hdr && bufferevent_write(p->bev, hdr, 4) != 0) ||
        bufferevent_write(p->bev, msg, len) != 0) {
        net_pipe_close(p, NET_ERR_NOMEM); /* a half-written call: the stream is lost */
        return NET_ERR_NOMEM;
    }
    p->bytes_sent += len + (hdr ? 4 : 0);
    return NET_OK;
}

int net_pipe_send(struct net_pipe *p, const void *msg, size_t len, int32_t seqid, uint32_t tag,
                  void *ptr, int64_t deadline_ms)
{
    struct net_pipe_call c = {.seqid = seqid, .tag = tag, .ptr = ptr,
                              .deadline_ms = deadline_ms, .live = true};
    uint8_t hdr[4];
    tp_frame_put_len(hdr, len > UINT32_MAX ? UINT32_MAX : (uint32_t)len);
    return send_call(p, p->cfg.framed ? hdr : NULL, msg, len, &c);
}

tp_buf *net_pipe_begin(struct net_pipe *p, int32_t *seqid)
{
    tp_buf_reset(&p->out);
    p->frame_at = p->cfg.framed ? tp_frame_begin(&p->out) : 0;
    *seqid = net_pipe_next_seqid(p);
    return &p->out;
}

/* The frame header was reserved by begin: the call leaves in one write. */
int net_pipe_end(struct net_pipe *p, uint32_t tag, void *ptr, int64_t deadline_ms)
{
    if (p->cfg.framed)
        tp_frame_end(&p->out, p->frame_at);
    if (p->out.failed)
        return NET_ERR_NOMEM;
    struct net_pipe_call c = {.seqid = p->seqid, .tag = tag, .ptr = ptr,
                              .deadline_ms = deadline_ms, .live = true};
    return send_call(p, NULL, p->out.data, p->out.len, &c);
}

void net_pipe_expire(struct net_pipe *p, int64_t now_ms)
{
    uint64_t gen = p->gen;
    for (uint32_t i = 0; i < p->count && p->gen == gen;) {
        struct net_pipe_call *c = &p->calls[(p->head + i) & (p->cap - 1)];
        if (!c->live || !c->deadline_ms || c->deadline_ms > now_ms) {
            i++;
            continue;
        }
        struct net_pipe_call done = *c;
        calls_done(p, c);
        p->cfg.on_reply(p->cfg.ctx, &done, NET_ERR_TIMEOUT, NULL, 0);
        i = 0; /* the ring may have moved */
    }
}

/* The next whole message in the input: 1 with it (*skip: its bytes with the frame header),
   0 when more must come, -1 when the input is not a message or too long. */
static int next_message(struct net_pipe *p, struct evbuffer *in, const uint8_t **msg,
                        size_t *len, size_t *skip)
{
    size_t have = evbuffer_get_length(in);
    if (p->cfg.framed) {
        uint8_t hdr[4];
        if (have < 4 || evbuffer_copyout(in, hdr, 4) != 4)
            return 0;
        uint32_t n = tp_frame_get_len(hdr);
        if (n == 0 || n > p->cfg.frame_max)
            return -1;
        if (have < 4 + (size_t)n)
            return 0;
        const uint8_t *all = evbuffer_pullup(in, 4 + (ssize_t)n);
        if (!all)
            return -1;
        *msg = all + 4;
        *len = n;
        *skip = 4 + (size_t)n;
        return 1;
    }
    if (p->scanned >= have)
        return 0;
    const uint8_t *all = evbuffer_pullup(in, -1);
    if (!all)
        return -1;
    size_t used;
    enum net_scan_result r = net_scan_feed(&p->scan, all + p->scanned, have - p->scanned, &used);
    p->scanned += used;
    if (r == NET_SCAN_MORE)
        return 0;
    if (r != NET_SCAN_DONE)
        return -1;
    *msg = all;
    *len = *skip = p->scanned;
    p->scanned = 0;
    net_scan_init(&p->scan, p->cfg.frame_max);
    return 1;
}

/* One reply: to the call waiting for its seqid, else counted as unmatched. */
static void deliver(struct net_pipe *p, const uint8_t *msg, size_t len)
{
    tp_reader r;
    tp_reader_init(&r, msg, len, NULL);
    tp_message m;
    if (tp_read_message_begin(&r, &m) != 0) {
        net_pipe_close(p, NET_ERR_FRAME);
        return;
    }
    struct net_pipe_call c;
    if (!calls_take(p, m.seqid, &c)) {
        p->unmatched++;
        p->cfg.on_reply(p->cfg.ctx, NULL, 0, msg, len);
        return;
    }
    p->cfg.on_reply(p->cfg.ctx, &c, 0, msg, len);
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct net_pipe *p = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    uint64_t gen = p->gen;
    for (;;) {
        const uint8_t *msg;
        size_t len, skip;
        int got = next_message(p, in, &msg, &len, &skip);
        if (got < 0)
            net_pipe_close(p, NET_ERR_FRAME);
        if (got <= 0)
            return;
        deliver(p, msg, len);
        if (p->gen != gen)
            return; /* closed by the reply's callback (or a bad header): in is gone */
        evbuffer_drain(in, skip);
        p->bytes_received += skip;
    }
}

/* A plain socket's replies, read by net_read_direct (one syscall per wake-up, not libevent's
   two); the idle timeout as a bufferevent's read timeout. */
static void on_sock_read(evutil_socket_t fd, short what, void *arg)
{
    struct net_pipe *p = arg;
    (void)fd;
    if (what & EV_TIMEOUT) {
        if (p->waiting > 0)
            net_pipe_close(p, NET_ERR_TIMEOUT);
        return;   /* idle, not stuck */
    }
    int n = net_read_direct(p->bev);
    if (n > 0)
        on_read(p->bev, p);
    else if (n == 0)
        net_pipe_close(p, NET_ERR_CLOSED);
    else if (n == -2)
        net_pipe_close(p, errno == ECONNRESET ? NET_ERR_CLOSED : NET_ERR_IO);
}

/* Connected over a plain socket: its input is read directly from now on. */
static void read_start(struct net_pipe *p)
{
    if (p->cfg.tls)
        return;
    p->read_ev = event_new(p->cfg.base, bufferevent_getfd(p->bev), EV_READ | EV_PERSIST,
                           on_sock_read, p);
    if (!p->read_ev)
        return;   /* the bufferevent reads it, as it did */
    struct timeval tv = {p->cfg.idle_ms / 1000, (p->cfg.idle_ms % 1000) * 1000};
    event_add(p->read_ev, p->cfg.idle_ms ? &tv : NULL);
    bufferevent_disable(p->bev, EV_READ);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct net_pipe *p = arg;
    if (what & BEV_EVENT_CONNECTED) {
        int one = 1;
        setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        p->state = NET_PIPE_UP;
        read_start(p);
        if (p->cfg.on_state)
            p->cfg.on_state(p->cfg.ctx, 0);
        return;
    }
    if ((what & BEV_EVENT_TIMEOUT) && p->state == NET_PIPE_UP && p->waiting == 0) {
        bufferevent_enable(bev, EV_READ); /* idle, not stuck */
        return;
    }
    int sock_err = EVUTIL_SOCKET_ERROR();
    int err = what & BEV_EVENT_TIMEOUT                          ? NET_ERR_TIMEOUT
              : p->state == NET_PIPE_CONNECTING                 ? NET_ERR_CONNECT
              : what & BEV_EVENT_EOF || sock_err == ECONNRESET ? NET_ERR_CLOSED
                                                                : NET_ERR_IO;
    if (p->cfg.tls && (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF))) {
        net_tls_error_text(bev, p->tls_error, sizeof p->tls_error);
        if (p->tls_error[0])
            err = NET_ERR_TLS;
    }
    net_pipe_close(p, err);
}
