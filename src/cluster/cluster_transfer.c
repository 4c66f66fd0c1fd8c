/* cluster_transfer.c: a leadership transfer the server asked for, until another node leads. */
#include "cluster_internal.h"

#include "log.h"

#include <assert.h>

static int transfer_err(int consensus_err)
{
    switch (consensus_err) {
    case CONSENSUS_ERR_NOT_LEADER: return CLUSTER_ERR_NOT_LEADER;
    case CONSENSUS_ERR_BUSY: return CLUSTER_ERR_BUSY;
    default: return CLUSTER_ERR_INVALID;
    }
}

int cluster_transfer_leader(struct cluster_node *n, uint32_t target, cluster_transfer_fn done,
                            void *ctx)
{
    assert(!n->in_ready);
    assert(done);
    if (n->failed || n->closing)
        return n->failed ? CLUSTER_ERR_IO : CLUSTER_ERR_CLOSED;
    if (n->transfer.done)
        return CLUSTER_ERR_BUSY; /* one caller waits at a time */
    int rc = consensus_transfer_leader(n->core, target);
    if (rc != 0)
        return transfer_err(rc);
    uint32_t to = consensus_transfer_target(n->core);
    /* The core gives up after an election timeout; the target's win reaches us within one
       more (its first append, or its vote request and then that). */
    n->transfer = (struct cluster_transfer_wait){
        .done = done, .ctx = ctx, .target = to,
        .deadline_ms = cluster_clock(n) + 2 * (int64_t)n->cfg.election_timeout_ms};
    log_info("cluster: transferring leadership to node %u (term %llu)", to,
             (unsigned long long)consensus_term(n->core));
    cluster_schedule(n);
    return 0;
}

static void finish(struct cluster_node *n, int err, uint32_t leader)
{
    struct cluster_transfer_wait w = n->transfer;
    n->transfer = (struct cluster_transfer_wait){0};
    if (err == 0)
        log_info("cluster: leadership transferred to node %u (term %llu)", leader,
                 (unsigned long long)consensus_term(n->core));
    else
        log_warn("cluster: leadership transfer to node %u failed: %s", w.target,
                 cluster_strerror(err));
    w.done(w.ctx, err, leader);
}

/* After each turn and tick: done once another node leads, or at the deadline. */
void cluster_transfer_check(struct cluster_node *n, int64_t now_ms)
{
    if (!n->transfer.done || n->in_ready)
        return;
    uint32_t leader = consensus_leader(n->core);
    if (n->failed || n->closing)
        finish(n, n->failed ? CLUSTER_ERR_IO : CLUSTER_ERR_CLOSED, CONSENSUS_NONE);
    else if (leader != CONSENSUS_NONE && leader != n->cfg.id)
        finish(n, 0, leader);
    else if (now_ms >= n->transfer.deadline_ms)
        finish(n, CLUSTER_ERR_TIMEOUT, leader);
    else if (consensus_role(n->core) == CONSENSUS_LEADER &&
             consensus_transfer_target(n->core) == CONSENSUS_NONE)
        finish(n, CLUSTER_ERR_TIMEOUT, leader); /* the core gave up: it leads on */
}
