/* net_sync.c: a blocking client: one net_pipe call at a time on a private event base. */
#include "net_sync.h"

#include "net.h"

#include <event2/event.h>
#include <string.h>

static void on_reply(void *ctx, const struct net_pipe_call *call, int err, const uint8_t *msg,
                     size_t len)
{
    struct net_sync *s = ctx;
    s->done = true;
    if (!call) {
        s->err = NET_ERR_FRAME; /* an answer to a call we never made */
        return;
    }
    s->err = err;
    tp_buf_reset(&s->reply);
    if (err != NET_OK)
        return;
    if (len > s->reply.cap && !tp_buf_grow(&s->reply, len)) {
        s->err = NET_ERR_NOMEM;
        return;
    }
    memcpy(s->reply.data, msg, len);
    s->reply.len = len;
}

static void on_state(void *ctx, int err)
{
    struct net_sync *s = ctx;
    s->done = true;
    if (err)
        s->err = err;
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct net_sync *s = arg;
    (void)fd, (void)what;
    s->expired = true;
}

/* Runs the base until a callback says done or timeout_ms passes. */
static int run(struct net_sync *s, uint32_t timeout_ms)
{
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    s->done = s->expired = false;
    s->err = NET_OK;
    if (evtimer_add(s->deadline, &tv) != 0)
        return NET_ERR_NOMEM;
    while (!s->done && !s->expired)
        event_base_loop(s->base, EVLOOP_ONCE);
    evtimer_del(s->deadline);
    return s->done ? s->err : NET_ERR_TIMEOUT;
}

int net_sync_connect(struct net_sync *s, const char *endpoint, bool framed, SSL_CTX *tls,
                     uint32_t timeout_ms)
{
    memset(s, 0, sizeof *s);
    tp_buf_init(&s->reply);
    s->base = event_base_new();
    s->deadline = s->base ? evtimer_new(s->base, on_deadline, s) : NULL;
    if (!s->deadline)
        return NET_ERR_NOMEM;
    struct net_pipe_config cfg = {.base = s->base, .tls = tls, .framed = framed,
                                  .on_reply = on_reply, .on_state = on_state, .ctx = s};
    net_pipe_init(&s->pipe, &cfg);
    int rc = net_pipe_connect(&s->pipe, endpoint);
    if (rc == NET_OK)
        rc = run(s, timeout_ms);
    if (rc == NET_OK && s->pipe.state != NET_PIPE_UP)
        rc = NET_ERR_CONNECT;
    if (rc != NET_OK)
        net_pipe_close(&s->pipe, rc);
    return rc;
}

int net_sync_call(struct net_sync *s, const void *msg, size_t len, int32_t seqid,
                  uint32_t timeout_ms, const uint8_t **reply, size_t *reply_len)
{
    int rc = net_pipe_send(&s->pipe, msg, len, seqid, 0, NULL, 0);
    s->sent = rc == NET_OK;
    if (rc == NET_OK)
        rc = run(s, timeout_ms);
    if (rc != NET_OK) {
        net_pipe_close(&s->pipe, rc);
        return rc;
    }
    *reply = s->reply.data;
    *reply_len = s->reply.len;
    return NET_OK;
}

bool net_sync_connected(const struct net_sync *s)
{
    return s->pipe.state == NET_PIPE_UP;
}

const char *net_sync_tls_error(const struct net_sync *s)
{
    return s->pipe.tls_error[0] ? s->pipe.tls_error : "connection closed during TLS";
}

void net_sync_close(struct net_sync *s)
{
    net_pipe_free(&s->pipe);
    tp_buf_free(&s->reply);
    if (s->deadline)
        event_free(s->deadline);
    if (s->base)
        event_base_free(s->base);
    memset(s, 0, sizeof *s);
}
