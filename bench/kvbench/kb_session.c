/* kb_session.c: --session: every connection writes in a client session of its own (issue 19),
   as a client that retries safely does: each set and commit carries (session, sequence) and
   acknowledges the answers the connection has. What that costs is the difference to a run
   without it. Sessions are opened before the run, over a blocking connection. */
#include "kvbench.h"
#include "kvstore.h"
#include "net_sync.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define KB_SESSION_TRIES 50

/* openSession at endpoint; the session id, or -1. */
static int64_t open_at(struct kb_bench *b, const char *endpoint)
{
    struct net_sync c;
    if (net_sync_connect(&c, endpoint, b->opt.framed, b->tls, b->opt.timeout_ms) != NET_OK) {
        net_sync_close(&c);
        return -1;
    }
    OpenSessionRequest req;
    OpenSessionRequest_init(&req);
    TransactionalKV_openSession_result res;
    TransactionalKV_openSession_result_init(&res);
    tp_buf out;
    tp_buf_init(&out);
    const uint8_t *msg;
    size_t len;
    /* net_sync adds the frame header itself when framed. */
    if (TransactionalKV_openSession_send(&out, 1, &req) == 0 && !out.failed &&
        net_sync_call(&c, out.data, out.len, 1, b->opt.timeout_ms, &msg, &len) == NET_OK) {
        tp_reader r;
        tp_reader_init(&r, msg, len, NULL);
        tp_app_exception ax;
        tp_app_exception_init(&ax);
        if (TransactionalKV_openSession_recv(&r, 1, &res, &ax) != 0)
            res.has_success = false;
        tp_app_exception_free(&ax);
    }
    int64_t id = res.has_success && res.success.success && res.success.has_session_id
                     ? res.success.session_id : -1;
    TransactionalKV_openSession_result_free(&res);
    tp_buf_free(&out);
    net_sync_close(&c);
    return id;
}

int kb_sessions_open(struct kb_bench *b)
{
    for (uint32_t i = 0; i < b->opt.connections; i++) {
        struct kb_conn *c = &b->conns[i];
        uint32_t at = c->endpoint_index;
        c->session_id = -1;
        for (int t = 0; t < KB_SESSION_TRIES && c->session_id < 0; t++) {
            /* Any node opens one (a follower forwards it); a node that cannot, the next. */
            c->session_id = open_at(b, b->opt.endpoints[at]);
            if (c->session_id < 0) {
                at = (at + 1) % b->opt.endpoint_count;
                nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
            }
        }
        if (c->session_id < 0) {
            fprintf(stderr, "kvbench: no node opened a session\n");
            return -1;
        }
    }
    return 0;
}

void kb_session_ref(const struct kb_slot *s, SessionRef *ref)
{
    const struct kb_conn *c = s->conn;
    uint64_t low = s->session_seq;
    /* Every answer below the oldest write still in flight is in hand. */
    for (uint32_t i = 0; i < c->b->opt.depth; i++)
        if (c->slots[i].busy && c->slots[i].session_seq && c->slots[i].session_seq < low)
            low = c->slots[i].session_seq;
    *ref = (SessionRef){.session_id = c->session_id, .sequence = (int64_t)s->session_seq,
                        .has_acked_below = true, .acked_below = (int64_t)low};
}
