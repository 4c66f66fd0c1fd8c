/* cluster_held.c: peer calls that arrive inside a ready batch, held until right after its advance. */
#include "cluster_internal.h"

#include <stdlib.h>
#include <string.h>

/*
 * No input may reach the core between ready and advance, but a peer call can arrive there:
 * whatever the batch sends (a forwarded write's answer from apply, a read's) lets that
 * connection's next buffered call in at once (net_reply_send -> net_conn_progress ->
 * conn_process_input). Such a call is checked now and kept with its own copy of the request
 * (the caller frees its own when we return), then handled as any other right after the
 * batch's advance, in the same turn, in arrival order: as proposals made in a batch are
 * (n->deferred).
 */
struct cluster_held {
    struct cluster_held *next;
    uint32_t from;
    int method;
    void *response;
    cluster_done_fn done;
    void *ctx;
    struct consensus_msg msg;         /* the checked message (not installSnapshot) */
    struct consensus_entry *entries;  /* its entries, payloads copied */
    InstallSnapshotRequest snap;      /* installSnapshot: the request, bytes copied */
};

static void held_free(struct cluster_held *h)
{
    for (uint32_t i = 0; h->entries && i < h->msg.entry_count; i++)
        free((void *)h->entries[i].data);
    free(h->entries);
    InstallSnapshotRequest_free(&h->snap);
    free(h);
}

static int copy_bytes(tp_bytes *to, const tp_bytes *from)
{
    return from->len == 0 ? 0 : tp_bytes_set(to, from->data, from->len);
}

static int copy_msg(struct cluster_held *h, const struct consensus_msg *m)
{
    h->msg = *m;
    h->msg.entries = NULL;
    if (m->entry_count == 0)
        return 0;
    h->entries = calloc(m->entry_count, sizeof *h->entries);
    if (!h->entries) {
        h->msg.entry_count = 0;
        return CLUSTER_ERR_NOMEM;
    }
    for (uint32_t i = 0; i < m->entry_count; i++) {
        const struct consensus_entry *e = &m->entries[i];
        h->entries[i] = *e;
        h->entries[i].data = NULL;
        if (e->len == 0)
            continue;
        uint8_t *data = malloc(e->len);
        if (!data)
            return CLUSTER_ERR_NOMEM;
        memcpy(data, e->data, e->len);
        h->entries[i].data = data;
    }
    h->msg.entries = h->entries;
    return 0;
}

static int copy_snap(struct cluster_held *h, const InstallSnapshotRequest *r)
{
    h->snap = *r;
    h->snap.leader_id = (tp_bytes){0};
    h->snap.data = (tp_bytes){0};
    return copy_bytes(&h->snap.leader_id, &r->leader_id) != 0 ||
                   copy_bytes(&h->snap.data, &r->data) != 0
               ? CLUSTER_ERR_NOMEM
               : 0;
}

int cluster_held_add(struct cluster_node *n, uint32_t from, int method,
                     const struct consensus_msg *msg, const InstallSnapshotRequest *snap,
                     void *response, cluster_done_fn done, void *ctx)
{
    struct cluster_held *h = calloc(1, sizeof *h);
    if (!h)
        return CLUSTER_ERR_NOMEM;
    *h = (struct cluster_held){.from = from, .method = method, .response = response,
                               .done = done, .ctx = ctx};
    InstallSnapshotRequest_init(&h->snap);
    if ((msg ? copy_msg(h, msg) : copy_snap(h, snap)) != 0) {
        held_free(h);
        return CLUSTER_ERR_NOMEM;
    }
    n->held_total++;
    struct cluster_held **p = &n->held;
    while (*p)
        p = &(*p)->next;
    *p = h;
    cluster_schedule(n);
    return 0;
}

void cluster_held_run(struct cluster_node *n)
{
    while (n->held) {
        struct cluster_held *h = n->held;
        n->held = h->next;
        int rc = CLUSTER_ERR_IO;
        if (!n->failed && !n->closing)
            rc = h->method == TransactionalKV_METHOD_installSnapshot
                     ? cluster_snap_receive(n, h->from, &h->snap, h->response, h->done, h->ctx)
                     : cluster_inbound_step(n, h->from, h->method, &h->msg, h->response,
                                            h->done, h->ctx);
        if (rc != 0) /* accepted when it arrived: the answer comes through done */
            h->done(h->ctx, rc);
        held_free(h);
    }
}

void cluster_held_fail_all(struct cluster_node *n, int err)
{
    while (n->held) {
        struct cluster_held *h = n->held;
        n->held = h->next;
        h->done(h->ctx, err);
        held_free(h);
    }
}
