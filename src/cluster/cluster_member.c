/* cluster_member.c: membership changes through the driver: propose one, apply and log them. */
#include "cluster_internal.h"

#include "log.h"

#include <stdio.h>
#include <stdlib.h>

static int change_err(int consensus_err)
{
    switch (consensus_err) {
    case CONSENSUS_ERR_NOT_LEADER: return CLUSTER_ERR_NOT_LEADER;
    /* Leadership is moving: ask the new leader. */
    case CONSENSUS_ERR_TRANSFERRING: return CLUSTER_ERR_NOT_LEADER;
    case CONSENSUS_ERR_CHANGE_PENDING: return CLUSTER_ERR_CHANGE_PENDING;
    case CONSENSUS_ERR_NOT_MEMBER: return CLUSTER_ERR_NOT_MEMBER;
    case CONSENSUS_ERR_LAST_VOTER: return CLUSTER_ERR_LAST_VOTER;
    case CONSENSUS_ERR_LEARNER_BEHIND: return CLUSTER_ERR_LEARNER_BEHIND;
    case CONSENSUS_ERR_FULL: return CLUSTER_ERR_FULL;
    case CONSENSUS_ERR_BUSY: return CLUSTER_ERR_BUSY;
    default: return CLUSTER_ERR_INVALID;
    }
}

uint64_t cluster_membership_index(const struct cluster_node *n)
{
    return consensus_membership_index(n->core);
}

int cluster_member_change(struct cluster_node *n, struct consensus_change *change,
                          cluster_propose_fn done, void *ctx)
{
    if (n->in_ready || n->closing || n->failed || n->waiter_count >= CLUSTER_WAITERS_MAX)
        return CLUSTER_ERR_BUSY;
    struct cluster_waiter *w = calloc(1, sizeof *w);
    if (!w)
        return CLUSTER_ERR_BUSY;
    uint64_t index = 0;
    int rc = consensus_propose_change(n->core, change, &index);
    if (rc != 0) {
        free(w);
        return change_err(rc);
    }
    n->waiter_count++;
    w->propose_done = done;
    w->ctx = ctx;
    w->leader = CONSENSUS_NONE;
    cluster_proposal_file(n, w, index);
    log_info("cluster: node %u proposed a membership change at %llu (%s %u)", n->cfg.id,
             (unsigned long long)index,
             change->type == CONSENSUS_CHANGE_ADD_VOTER     ? "add voter"
             : change->type == CONSENSUS_CHANGE_ADD_LEARNER ? "add learner"
             : change->type == CONSENSUS_CHANGE_PROMOTE     ? "promote"
                                                            : "remove",
             change->id);
    return 0;
}

const struct consensus_membership *cluster_membership(const struct cluster_node *n)
{
    return consensus_membership(n->core);
}

bool cluster_member_applying(struct cluster_node *n, const struct consensus_entry *e)
{
    if (!consensus_membership_is_config(e->data, e->len))
        return false;
    struct consensus_membership m;
    int rc = consensus_membership_decode(e->data, e->len, &m);
    (void)rc; /* the core took it in only after checking it */
    if (rc == 0 && n->cb.membership)
        n->cb.membership(n->cb.ctx, e->index, &m);
    return true;
}

void cluster_member_log(const struct cluster_node *n, const struct consensus_membership *m)
{
    char buf[CONSENSUS_MEMBERS_MAX * 16];
    size_t off = 0;
    for (uint32_t i = 0; i < m->count && off < sizeof buf; i++)
        off += (size_t)snprintf(buf + off, sizeof buf - off, "%s%u%s", i ? " " : "",
                                m->members[i].id,
                                m->members[i].role == CONSENSUS_MEMBER_LEARNER ? "(learner)" : "");
    log_info("cluster: node %u: membership at %llu: %s", n->cfg.id,
             (unsigned long long)consensus_membership_index(n->core), m->count ? buf : "none");
}
