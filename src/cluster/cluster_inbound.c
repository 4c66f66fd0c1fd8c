/* cluster_inbound.c: peer calls waiting for the core's answer, matched by sender and method. */
#include "cluster_internal.h"

#include "log.h"

#include <stdlib.h>

void cluster_inbound_add(struct cluster_node *n, struct cluster_inbound *ib)
{
    struct cluster_inbound **p = &n->inbound;
    while (*p)
        p = &(*p)->next;
    ib->next = NULL;
    *p = ib;
}

static void finish(struct cluster_inbound *ib, int err)
{
    ib->done(ib->ctx, err);
    free(ib);
}

void cluster_inbound_answer(struct cluster_node *n, const struct consensus_msg *m)
{
    int method = cluster_wire_response_method(m->type);
    for (struct cluster_inbound **p = &n->inbound; *p; p = &(*p)->next) {
        struct cluster_inbound *ib = *p;
        if (ib->from != m->to || ib->method != method || ib->answered)
            continue;
        if (method == TransactionalKV_METHOD_readIndex && ib->seq != m->seq)
            continue;
        /* Sent by the flush at the end of the turn, not here inside the batch: sending a
           reply lets in the connection's next buffered calls (net_conn_progress), and no
           input may reach the core between ready and advance. */
        ib->answered = true;
        ib->err = cluster_wire_response_out(m, ib->response) == 0 ? 0 : CLUSTER_ERR_NOMEM;
        return;
    }
    log_debug("cluster: no call waits for %s to node %u", consensus_msg_type_name(m->type),
              m->to);
}

void cluster_inbound_flush(struct cluster_node *n, uint64_t gen)
{
    for (struct cluster_inbound **p = &n->inbound; *p;) {
        struct cluster_inbound *ib = *p;
        if (ib->answered || (ib->gen <= gen && ib->method != TransactionalKV_METHOD_readIndex)) {
            *p = ib->next;
            finish(ib, ib->answered ? ib->err : CLUSTER_ERR_IGNORED);
        } else {
            p = &ib->next;
        }
    }
}

void cluster_inbound_expire(struct cluster_node *n, int64_t now_ms)
{
    for (struct cluster_inbound **p = &n->inbound; *p;) {
        struct cluster_inbound *ib = *p;
        if (ib->deadline_ms <= now_ms) {
            *p = ib->next;
            finish(ib, CLUSTER_ERR_TIMEOUT);
        } else {
            p = &ib->next;
        }
    }
}

void cluster_inbound_fail_all(struct cluster_node *n, int err)
{
    while (n->inbound) {
        struct cluster_inbound *ib = n->inbound;
        n->inbound = ib->next;
        finish(ib, err);
    }
}
