/* cluster_api.c: what the server calls: propose, read index, status and inbound peer calls. */
#include "cluster_internal.h"

#include "log.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

static int propose_err(int consensus_err)
{
    switch (consensus_err) {
    case CONSENSUS_ERR_NOT_LEADER: return CLUSTER_ERR_NOT_LEADER;
    /* Leadership is moving: the server waits for the new leader and proposes there. */
    case CONSENSUS_ERR_TRANSFERRING: return CLUSTER_ERR_NOT_LEADER;
    case CONSENSUS_ERR_NO_LEADER: return CLUSTER_ERR_NO_LEADER;
    case CONSENSUS_ERR_BUSY: return CLUSTER_ERR_BUSY;
    case CONSENSUS_ERR_TOO_LARGE: return CLUSTER_ERR_TOO_LARGE;
    default: return CLUSTER_ERR_INVALID;
    }
}

/* Hands data to the core (which copies it) and files w by index, or finishes w with the
   error. */
static void propose_to_core(struct cluster_node *n, struct cluster_waiter *w, const void *data,
                            uint32_t len)
{
    uint64_t index = 0;
    int rc = consensus_propose(n->core, data, len, &index);
    if (rc != 0) {
        w->leader = consensus_leader(n->core);
        cluster_waiter_finish(n, w, propose_err(rc));
        return;
    }
    cluster_proposal_file(n, w, index);
}

void cluster_proposal_file(struct cluster_node *n, struct cluster_waiter *w, uint64_t index)
{
    w->index = index;
    w->term = consensus_term(n->core);
    /* Indexes grow with each proposal, so it almost always goes last; after a leader change
       an older waiter may hold a larger index, and then the list is walked. */
    struct cluster_waiter **p = &n->proposals;
    if (n->proposals_last && n->proposals_last->index <= index)
        p = &n->proposals_last->next;
    while (*p && (*p)->index <= index)
        p = &(*p)->next;
    w->next = *p;
    *p = w;
    if (!w->next)
        n->proposals_last = w;
    assert(n->proposals_last && !n->proposals_last->next);
    cluster_schedule(n);
}

void cluster_propose_submit(struct cluster_node *n, struct cluster_waiter *w)
{
    uint8_t *data = w->data;
    w->data = NULL;
    propose_to_core(n, w, data, w->len);
    free(data);
}

void cluster_propose(struct cluster_node *n, const void *data, uint32_t len,
                     cluster_propose_fn done, void *ctx)
{
    struct cluster_waiter *w = calloc(1, sizeof *w);
    if (!w || n->closing) {
        free(w);
        done(ctx, n->closing ? CLUSTER_ERR_CLOSED : CLUSTER_ERR_NOMEM, 0, CONSENSUS_NONE);
        return;
    }
    n->waiter_count++;
    w->propose_done = done;
    w->ctx = ctx;
    w->leader = CONSENSUS_NONE;
    if (n->failed || len == 0 || len > n->cfg.entry_bytes_max ||
        n->waiter_count > CLUSTER_WAITERS_MAX) {
        cluster_waiter_finish(n, w, n->failed ? CLUSTER_ERR_IO
                                    : len == 0 ? CLUSTER_ERR_INVALID
                                    : len > n->cfg.entry_bytes_max ? CLUSTER_ERR_TOO_LARGE
                                                                   : CLUSTER_ERR_BUSY);
        return;
    }
    w->len = len;
    if (!n->in_ready) {
        propose_to_core(n, w, data, len); /* the core copies it: no copy of ours */
        return;
    }
    /* No input may reach the core between ready and advance: submitted in the next turn. */
    w->data = malloc(len);
    if (!w->data) {
        cluster_waiter_finish(n, w, CLUSTER_ERR_NOMEM);
        return;
    }
    memcpy(w->data, data, len);
    *n->deferred_tail = w;
    n->deferred_tail = &w->next;
    cluster_schedule(n);
}

void cluster_read_submit(struct cluster_node *n, struct cluster_waiter *w)
{
    w->submitted = true;
    int rc = consensus_read_index(n->core, w->id);
    if (rc != 0) {
        /* unlink from the reads list and finish */
        for (struct cluster_waiter **p = &n->reads; *p; p = &(*p)->next)
            if (*p == w) {
                *p = w->next;
                break;
            }
        w->leader = consensus_leader(n->core);
        cluster_waiter_finish(n, w, propose_err(rc));
        return;
    }
    cluster_schedule(n);
}

void cluster_read_index(struct cluster_node *n, cluster_read_fn done, void *ctx)
{
    struct cluster_waiter *w = calloc(1, sizeof *w);
    if (!w || n->closing) {
        free(w);
        done(ctx, n->closing ? CLUSTER_ERR_CLOSED : CLUSTER_ERR_NOMEM, 0);
        return;
    }
    n->waiter_count++;
    w->read_done = done;
    w->ctx = ctx;
    w->id = ++n->next_id;
    w->deadline_ms = cluster_clock(n) + 2 * (int64_t)n->cfg.election_timeout_ms;
    if (n->failed || n->waiter_count > CLUSTER_WAITERS_MAX) {
        cluster_waiter_finish(n, w, n->failed ? CLUSTER_ERR_IO : CLUSTER_ERR_BUSY);
        return;
    }
    w->next = n->reads;
    n->reads = w;
    if (n->in_ready)
        cluster_schedule(n); /* submitted at the start of the next turn */
    else
        cluster_read_submit(n, w);
}

void cluster_peer_lost(struct cluster_node *n, uint32_t peer)
{
    struct cluster_peer *p = cluster_peer_of(n, peer);
    if (n->failed || n->closing || !p)
        return;
    p->lost = true;
    cluster_schedule(n);
}

/* At the start of a turn, outside the batch: the core hears of the resets since the last. */
void cluster_peers_lost_apply(struct cluster_node *n)
{
    for (uint32_t i = 0; i < CONSENSUS_MEMBERS_MAX; i++)
        if (n->peers[i].lost) {
            uint32_t p = n->peers[i].id;
            n->peers[i].lost = false;
            if (consensus_leader(n->core) == p)
                log_info("cluster: the connection from leader %u was reset: electing without "
                         "waiting for the election timeout", p);
            consensus_leader_lost(n->core, p);
        }
}

const struct cluster_peer_status *cluster_status_peer(const struct cluster_status *st,
                                                      uint32_t id)
{
    for (uint32_t i = 0; i < st->peer_count; i++)
        if (st->peers[i].id == id)
            return &st->peers[i];
    return NULL;
}

void cluster_status(const struct cluster_node *n, struct cluster_status *out)
{
    memset(out, 0, sizeof *out);
    out->id = n->cfg.id;
    out->role = consensus_role(n->core);
    out->term = consensus_term(n->core);
    out->leader = consensus_leader(n->core);
    out->transfer_target = consensus_transfer_target(n->core);
    out->commit_index = consensus_commit_index(n->core);
    out->applied_index = consensus_applied_index(n->core);
    out->last_index = consensus_last_index(n->core);
    out->snapshot_index = n->snapshot_index;
    out->failed = n->failed;
    out->failure = n->failure;
    out->incarnation = n->cfg.incarnation;
    out->cluster_id = consensus_membership(n->core)->cluster_id;
    out->refused = consensus_self_refused(n->core, &out->refused_bound);
    int64_t now = cluster_clock(n);
    const struct consensus_membership *m = consensus_membership(n->core);
    for (uint32_t k = 0; k < m->count; k++) {
        uint32_t i = m->members[k].id;
        struct cluster_peer_status *p = &out->peers[out->peer_count++];
        p->id = i;
        p->learner = m->members[k].role == CONSENSUS_MEMBER_LEARNER;
        p->match_index = consensus_match_index(n->core, i);
        if (i == n->cfg.id) {
            p->last_contact_ms = 0;
            p->reachable = true;
            continue;
        }
        const struct cluster_peer *pe = cluster_peer_of(n, i);
        int64_t heard = pe ? pe->last_heard_ms : -1;
        p->last_contact_ms = heard < 0 ? -1 : now - heard;
        p->reachable = p->last_contact_ms >= 0 &&
                       p->last_contact_ms <= (int64_t)n->cfg.election_timeout_ms;
        p->has_progress = consensus_peer_progress(n->core, i, &p->progress);
        if (p->has_progress)
            p->lag = out->last_index > p->progress.match ? out->last_index - p->progress.match
                                                         : 0;
        p->snapshot_sending = cluster_snap_out_status(n, i, &p->snapshot_sent,
                                                      &p->snapshot_bytes);
    }
}

uint32_t cluster_leader(const struct cluster_node *n, uint64_t *term)
{
    if (term)
        *term = consensus_term(n->core);
    return consensus_leader(n->core);
}

bool cluster_failed(const struct cluster_node *n) { return n->failed; }

/* Steps a checked peer call into the core; its answer (or IGNORED) leaves at a turn's end. */
int cluster_inbound_step(struct cluster_node *n, uint32_t from, int method,
                         struct consensus_msg *msg, void *response, cluster_done_fn done,
                         void *ctx)
{
    assert(!n->in_ready);
    struct cluster_inbound *ib = calloc(1, sizeof *ib);
    if (!ib)
        return CLUSTER_ERR_NOMEM;
    ib->from = from;
    ib->method = method;
    ib->response = response;
    ib->done = done;
    ib->ctx = ctx;
    ib->gen = ++n->step_gen;
    ib->deadline_ms = cluster_clock(n) + 2 * (int64_t)n->cfg.election_timeout_ms;
    if (method == TransactionalKV_METHOD_readIndex)
        msg->seq = ib->seq = ++n->next_id;
    if (consensus_step(n->core, msg) != 0) {
        free(ib);
        return CLUSTER_ERR_INVALID;
    }
    cluster_heard(n, from);
    if (method == TransactionalKV_METHOD_timeoutNow) {
        /* The core answers it with an election, not a message: taken is all we say. */
        ((TimeoutNowResponse *)response)->success = true;
        ib->answered = true;
    }
    cluster_inbound_add(n, ib);
    cluster_schedule(n);
    return 0;
}

int cluster_node_handle(struct cluster_node *n, uint32_t from, int method, const void *request,
                        void *response, cluster_done_fn done, void *ctx)
{
    if (n->failed || n->closing)
        return CLUSTER_ERR_IO;
    if (from == CONSENSUS_NONE || from == n->cfg.id)
        return CLUSTER_ERR_INVALID;
    if (method == TransactionalKV_METHOD_installSnapshot)
        return n->in_ready ? cluster_held_add(n, from, method, NULL, request, response, done, ctx)
                           : cluster_snap_receive(n, from, request, response, done, ctx);
    struct cluster_wire_in in;
    int rc = cluster_wire_request_in(method, request, from, n->cfg.id, CONSENSUS_NONE,
                                     n->cfg.entry_bytes_max, &in);
    if (rc != 0)
        return rc;
    /* Let in by a reply the batch sent (cluster_held.c): after the batch's advance. */
    rc = n->in_ready ? cluster_held_add(n, from, method, &in.msg, NULL, response, done, ctx)
                     : cluster_inbound_step(n, from, method, &in.msg, response, done, ctx);
    cluster_wire_in_release(&in);
    return rc;
}
