/* cluster_waiters.c: proposals and reads waiting for their outcome, delivered outside the core. */
#include "cluster_internal.h"

#include <assert.h>
#include <stdlib.h>

/* Outcomes are delivered at the start of a ready turn, so no callback runs inline. */
void cluster_waiter_finish(struct cluster_node *n, struct cluster_waiter *w, int err)
{
    w->err = err;
    w->next = n->finished;
    n->finished = w;
    cluster_schedule(n);
}

static void deliver_one(struct cluster_node *n, struct cluster_waiter *w)
{
    assert(n->waiter_count > 0);
    n->waiter_count--;
    if (w->propose_done)
        w->propose_done(w->ctx, w->err, w->err ? 0 : w->index, w->leader);
    else
        w->read_done(w->ctx, w->err, w->err ? 0 : w->index);
    free(w->data);
    free(w);
}

void cluster_waiters_deliver(struct cluster_node *n)
{
    while (n->finished) {
        /* Reverse to deliver in the order they finished. */
        struct cluster_waiter *list = NULL;
        while (n->finished) {
            struct cluster_waiter *w = n->finished;
            n->finished = w->next;
            w->next = list;
            list = w;
        }
        while (list) {
            struct cluster_waiter *w = list;
            list = w->next;
            deliver_one(n, w);
        }
    }
}

/* The ctx of this node's proposal of entry index (term), while it waits; NULL when none. */
void *cluster_proposal_of(const struct cluster_node *n, uint64_t index, uint64_t term)
{
    for (const struct cluster_waiter *w = n->proposals; w && w->index <= index; w = w->next)
        if (w->index == index && w->term == term)
            return w->ctx;
    return NULL;
}

/* Entry index (term) was applied: its proposer learns whether it was its own entry. */
void cluster_proposals_applied(struct cluster_node *n, uint64_t index, uint64_t term)
{
    while (n->proposals && n->proposals->index <= index) {
        struct cluster_waiter *w = n->proposals;
        n->proposals = w->next;
        bool mine = w->index == index && w->term == term;
        w->leader = consensus_leader(n->core);
        if (!mine)
            w->index = 0;
        /* Delivered now, right after apply(index), as cluster.h promises. A snapshot (term 0)
           says nothing about which entries it holds: their outcome is unknown. */
        w->err = mine ? 0 : term == 0 ? CLUSTER_ERR_TIMEOUT : CLUSTER_ERR_LOST;
        deliver_one(n, w);
    }
    if (!n->proposals)
        n->proposals_last = NULL;
}

/* This node no longer leads the term a proposal was made in. Above the commit index its
   outcome is unknown (a later leader may commit or overwrite it): TIMEOUT now, not when (if
   ever) its index is applied here. At or below it, it is committed and applies here soon. */
void cluster_proposals_stranded(struct cluster_node *n, enum consensus_role role, uint64_t term,
                                uint32_t leader)
{
    uint64_t commit = consensus_commit_index(n->core);
    struct cluster_waiter *last = NULL;
    for (struct cluster_waiter **p = &n->proposals; *p;) {
        struct cluster_waiter *w = *p;
        if (w->index > commit && (role != CONSENSUS_LEADER || w->term != term)) {
            *p = w->next;
            w->leader = leader;
            cluster_waiter_finish(n, w, CLUSTER_ERR_TIMEOUT);
        } else {
            last = w;
            p = &w->next;
        }
    }
    n->proposals_last = last;
}

static struct cluster_waiter *read_find(struct cluster_node *n, uint64_t id, bool unlink)
{
    for (struct cluster_waiter **p = &n->reads; *p; p = &(*p)->next) {
        if ((*p)->id != id)
            continue;
        struct cluster_waiter *w = *p;
        if (unlink)
            *p = w->next;
        return w;
    }
    return NULL;
}

void cluster_reads_state(struct cluster_node *n, const struct consensus_read_state *rs)
{
    struct cluster_waiter *w = read_find(n, rs->ctx, rs->err != 0);
    if (!w)
        return; /* timed out already */
    if (rs->err != 0) {
        w->leader = consensus_leader(n->core);
        cluster_waiter_finish(n, w, rs->err == CONSENSUS_ERR_BUSY ? CLUSTER_ERR_BUSY
                                                                   : CLUSTER_ERR_NO_LEADER);
        return;
    }
    w->index_known = true;
    w->index = rs->index;
}

void cluster_reads_applied(struct cluster_node *n)
{
    uint64_t applied = consensus_applied_index(n->core);
    for (struct cluster_waiter **p = &n->reads; *p;) {
        struct cluster_waiter *w = *p;
        if (w->index_known && w->index <= applied) {
            *p = w->next;
            cluster_waiter_finish(n, w, 0);
        } else {
            p = &w->next;
        }
    }
}

void cluster_read_failed(struct cluster_node *n, uint64_t id, int err)
{
    struct cluster_waiter *w = read_find(n, id, true);
    if (w)
        cluster_waiter_finish(n, w, err);
}

void cluster_waiters_expire(struct cluster_node *n, int64_t now_ms)
{
    for (struct cluster_waiter **p = &n->reads; *p;) {
        struct cluster_waiter *w = *p;
        if (w->deadline_ms <= now_ms) {
            *p = w->next;
            cluster_waiter_finish(n, w, CLUSTER_ERR_TIMEOUT);
        } else {
            p = &w->next;
        }
    }
}

static void fail_list(struct cluster_node *n, struct cluster_waiter **head, int err)
{
    while (*head) {
        struct cluster_waiter *w = *head;
        *head = w->next;
        cluster_waiter_finish(n, w, err);
    }
}

void cluster_waiters_fail_all(struct cluster_node *n, int in_core, int err)
{
    fail_list(n, &n->proposals, in_core);
    n->proposals_last = NULL;
    fail_list(n, &n->reads, err);
    fail_list(n, &n->deferred, err);
    n->deferred_tail = &n->deferred;
}

void cluster_submit_deferred(struct cluster_node *n)
{
    assert(!n->in_ready);
    struct cluster_waiter *list = n->deferred;
    n->deferred = NULL;
    n->deferred_tail = &n->deferred;
    while (list) {
        struct cluster_waiter *w = list;
        list = w->next;
        w->next = NULL;
        cluster_propose_submit(n, w);
    }
    for (struct cluster_waiter *w = n->reads; w;) {
        struct cluster_waiter *next = w->next;
        if (!w->submitted)
            cluster_read_submit(n, w); /* may unlink w */
        w = next;
    }
}
