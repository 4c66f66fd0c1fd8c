/* net_reply.c: answer slots. Each carries an arena for its request (net_reply_arena); slots
   are recycled through a bounded per-server pool, so a steady load allocates nothing per
   request. An answer that is next in order goes straight onto the output. */
#include "net_internal.h"

#include <assert.h>
#include <event2/bufferevent_ssl.h>
#include <stdlib.h>
#include <string.h>

/* Free slots a server keeps, and the most arena memory a kept slot may hold. */
#define NET_SLOT_POOL_MAX 512u
#define NET_SLOT_ARENA_KEEP (16u * 1024)

struct net_reply *net_slot_get(struct net_server *srv)
{
    struct net_reply *r = srv->free_slots;
    if (r) {
        srv->free_slots = r->next;
        srv->free_count--;
    } else {
        r = malloc(sizeof *r);
        if (!r)
            return NULL;
        tp_arena_init(&r->arena, 0, srv->arena_limit);
    }
    r->conn = NULL;
    r->next = NULL;
    r->data = NULL;
    r->len = 0;
    r->answered = false;
    r->close_after = false;
    return r;
}

static void slot_destroy(struct net_reply *r)
{
    free(r->data);
    tp_arena_free(&r->arena);
    free(r);
}

void net_slot_put(struct net_server *srv, struct net_reply *r)
{
    if (!srv || srv->free_count >= NET_SLOT_POOL_MAX ||
        tp_arena_held(&r->arena) > NET_SLOT_ARENA_KEEP) {
        slot_destroy(r);
        return;
    }
    free(r->data);
    r->data = NULL;
    tp_arena_reset(&r->arena);
    assert(tp_arena_held(&r->arena) <= NET_SLOT_ARENA_KEEP);
    r->next = srv->free_slots;
    srv->free_slots = r;
    srv->free_count++;
}

void net_slots_free(struct net_server *srv)
{
    while (srv->free_slots) {
        struct net_reply *r = srv->free_slots;
        srv->free_slots = r->next;
        slot_destroy(r);
    }
    srv->free_count = 0;
}

static void reply_answer(struct net_reply *r, const void *data, size_t len, bool close_after)
{
    assert(!r->answered);
    assert(len <= UINT32_MAX);
    struct net_conn *c = r->conn;
    if (!c) {   /* the connection went away while the handler worked */
        slot_destroy(r);
        return;
    }
    r->answered = true;
    r->close_after = close_after;
    assert(c->pending > 0);
    c->pending--;
    net_conn_enter(c);
    if (r == c->head) {   /* next in order: onto the output, no copy on the side */
        c->head = r->next;
        if (!c->head)
            c->tail = NULL;
        net_conn_emit(c, data, len, close_after);
        net_slot_put(c->srv, r);
    } else if (len > 0 && (r->data = malloc(len)) == NULL) {
        net_conn_close(c, "out of memory for a reply");
    } else if (len > 0) {
        memcpy(r->data, data, len);
        r->len = len;
    }
    if (c->phase != NET_CONN_CLOSED)
        net_conn_progress(c);
    net_conn_leave(c);
}

void net_reply_send(struct net_reply *reply, const void *data, size_t len)
{
    assert(len > 0);
    reply_answer(reply, data, len, false);
}

void net_reply_send_close(struct net_reply *reply, const void *data, size_t len)
{
    reply_answer(reply, data, len, true);
}

void net_reply_none(struct net_reply *reply) { reply_answer(reply, NULL, 0, false); }

struct tp_arena *net_reply_arena(struct net_reply *reply)
{
    assert(!reply->answered);
    return &reply->arena;
}

uint64_t net_reply_conn_id(const struct net_reply *reply)
{
    return reply->conn ? reply->conn->id : 0;
}

int net_reply_conn_set_user(struct net_reply *reply, void *user, net_user_free_fn free_fn)
{
    struct net_conn *c = reply->conn;
    if (!c || c->phase == NET_CONN_CLOSED)
        return NET_ERR_CLOSED;
    if (c->user_free && c->user != user)
        c->user_free(c->user);
    c->user = user;
    c->user_free = free_fn;
    return NET_OK;
}

void *net_reply_conn_user(const struct net_reply *reply)
{
    const struct net_conn *c = reply->conn;
    return c && c->phase != NET_CONN_CLOSED ? c->user : NULL;
}

void net_reply_conn_trust(struct net_reply *reply)
{
    struct net_conn *c = reply->conn;
    if (c && c->phase != NET_CONN_CLOSED)
        net_server_trust(c->srv, c);
}

void net_reply_conn_hold(struct net_reply *reply)
{
    if (reply->conn)
        reply->conn->held = true;
}

bool net_reply_conn_reserved(const struct net_reply *reply)
{
    const struct net_conn *c = reply->conn;
    return c && c->phase != NET_CONN_CLOSED && c->reserved;
}

const char *net_reply_peer(const struct net_reply *reply)
{
    return reply->conn ? reply->conn->peer : "closed";
}

SSL *net_reply_conn_ssl(const struct net_reply *reply)
{
    const struct net_conn *c = reply->conn;
    if (!c || c->phase == NET_CONN_CLOSED || !c->tls || !c->tls_up)
        return NULL;
    return bufferevent_openssl_get_ssl(c->bev);
}
