/* server_conn.c: per-connection state: a peer's authentication, and the order of a client's
   requests: a read parked behind the connection's unanswered writes, a write behind its
   unanswered reads, everything behind what is parked; then run in arrival order. */
#include "server_conn.h"

#include "server_vwait.h"

#include <assert.h>
#include <stdlib.h>

static bool is_write(const struct server_request *req)
{
    switch (req->method->id) {
    case TransactionalKV_METHOD_setKey:
    case TransactionalKV_METHOD_deleteKey:
    case TransactionalKV_METHOD_atomicCommit:
    case TransactionalKV_METHOD_openSession:
    case TransactionalKV_METHOD_closeSession: return true;
    default: return false;
    }
}

static void unref(struct server_conn *c)
{
    assert(c->refs > 0);
    if (--c->refs == 0) {
        assert(!c->head && c->writes == 0 && c->reads == 0);
        free(c);
    }
}

static void conn_gone(void *p)
{
    struct server_conn *c = p;
    c->closed = true;
    server_peer_conn_gone(c);
    unref(c);
}

struct server_conn *server_conn_find(const struct net_reply *reply)
{
    return reply ? net_reply_conn_user(reply) : NULL;
}

struct server_conn *server_conn_get(struct net_reply *reply)
{
    struct server_conn *c = server_conn_find(reply);
    if (c || !reply)
        return c;
    c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->refs = 1;   /* the connection's: dropped when it goes (conn_gone) */
    if (net_reply_conn_set_user(reply, c, conn_gone) != NET_OK) {
        free(c);
        return NULL;
    }
    return c;
}

/* A read parked behind a follower's write waited for that write's apply here; on time or not
   (a serializable read may be stale anyway), it is served now. */
static void applied(struct server_request *req, int code)
{
    (void)code;
    server_handlers[req->method->id](req);
}

/* Runs req now, counted until its answer; a read first waits until this node applied the
   connection's last write (a follower's answer to a write comes from the leader). */
static void start(struct server_conn *c, struct server_request *req)
{
    bool write = is_write(req);
    *(write ? &c->writes : &c->reads) += 1;
    c->refs++;
    req->order_conn = c;
    req->order_write = write;
    if (!write && c->write_version > kv_store_applied_version(server_store(req->node)))
        server_vwait(req, c->write_version, applied);
    else
        server_handlers[req->method->id](req);
}

/* Whether req may run now: a write waits for the reads before it, a read for the writes. */
static bool may_start(const struct server_conn *c, const struct server_request *req)
{
    return is_write(req) ? c->reads == 0 : c->writes == 0;
}

static void park(struct server_conn *c, struct server_request *req)
{
    c->refs++;
    req->order_next = NULL;
    if (c->tail)
        c->tail->order_next = req;
    else
        c->head = req;
    c->tail = req;
}

/* Runs parked requests whose turn came. Answers may come inside (a write refused at once):
   the loop that is already running carries on. */
static void drain(struct server_conn *c)
{
    if (c->draining)
        return;
    c->draining = true;
    while (c->head && may_start(c, c->head)) {
        struct server_request *req = c->head;
        c->head = req->order_next;
        if (!c->head)
            c->tail = NULL;
        start(c, req);
        assert(c->refs > 1);   /* the caller holds one */
        c->refs--;             /* the one it held while parked */
    }
    c->draining = false;
}

void server_conn_dispatch(struct server_request *req)
{
    struct server_conn *c = req->from_peer ? NULL : server_conn_get(req->reply);
    if (!c) {   /* a peer's forwarded write, or a connection already closed */
        server_handlers[req->method->id](req);
        return;
    }
    if (c->head || !may_start(c, req)) {
        park(c, req);
        return;
    }
    c->refs++;   /* start may answer at once and drain, which must not free c under us */
    start(c, req);
    unref(c);
}

/* The version a write's answer names (0: it changed no data). */
static uint64_t written_version(const struct server_request *req)
{
    const void *r = req->result;
    switch (req->method->id) {
    case TransactionalKV_METHOD_setKey: {
        const SetResponse *s = &((const TransactionalKV_setKey_result *)r)->success;
        return s->success && s->has_version ? (uint64_t)s->version : 0;
    }
    case TransactionalKV_METHOD_deleteKey: {
        const DeleteResponse *d = &((const TransactionalKV_deleteKey_result *)r)->success;
        return d->success && d->has_version ? (uint64_t)d->version : 0;
    }
    case TransactionalKV_METHOD_atomicCommit: {
        const AtomicCommitResponse *a = &((const TransactionalKV_atomicCommit_result *)r)->success;
        return a->success && a->has_committed_version ? (uint64_t)a->committed_version : 0;
    }
    default: return 0;
    }
}

void server_conn_finished(struct server_request *req)
{
    struct server_conn *c = req->order_conn;
    assert(c);
    if (!req->order_write) {
        assert(c->reads > 0);
        c->reads--;
        return;
    }
    assert(c->writes > 0);
    c->writes--;
    uint64_t v = written_version(req);
    if (v > c->write_version)
        c->write_version = v;
}

void server_conn_release(struct server_conn *c)
{
    drain(c);
    unref(c);
}
