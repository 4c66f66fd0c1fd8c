/* dsim_member.c: membership changes through the real driver: random ones under the faults,
   the server's side of them (the membership kept with the state and its snapshots). */
#include "dsim.h"

#include <string.h>

/* The server keeps the newest membership with its state: it travels in every snapshot. */
void dsim_member_applied(struct dsim_node *n, uint64_t index, const struct consensus_membership *m)
{
    if (index != n->sm.applied + 1)
        dsim_world_fail(n->w, "node %u: membership at %llu handed out after %llu", n->id,
                        (unsigned long long)index, (unsigned long long)n->sm.applied);
    n->sm.conf = *m;
}

/* A node started on an empty state holds the bootstrap membership. */
void dsim_member_bootstrap(const struct dsim_world *w, struct dsim_sm *sm)
{
    consensus_membership_bootstrap(&sm->conf, w->ccfg.voters ? w->ccfg.voters : w->cfg.nodes);
}

bool dsim_member_is(const struct dsim_world *w, uint32_t i)
{
    uint32_t l = dsim_leader(w);
    if (l == CONSENSUS_NONE)
        return true;
    return consensus_membership_find(consensus_membership(w->nodes[l].node->core), i) != NULL;
}

uint32_t dsim_member_may_stop(const struct dsim_world *w, uint32_t l, uint32_t v)
{
    const struct consensus_membership *m = consensus_membership(w->nodes[l].node->core);
    uint32_t voters = consensus_membership_voters(m);
    for (uint32_t k = 0; k < w->cfg.nodes; k++, v = (v + 1) % w->cfg.nodes) {
        const struct consensus_member *a = consensus_membership_find(m, v);
        if (v != l && a && (a->role == CONSENSUS_MEMBER_LEARNER || voters >= 3))
            return v;
    }
    return CONSENSUS_NONE;
}

static void change_done(void *ctx, int err, uint64_t index, uint32_t leader)
{
    (void)index;
    (void)leader;
    struct dsim_world *w = ctx;
    w->stats.changes_done++;
    w->stats.changes_applied += err == 0;
}

/* One random change at the leader: add a spare node (learner or voter), promote a learner,
   remove any member (the leader too). What the core refuses now is not done. */
void dsim_member_step(struct dsim_world *w)
{
    uint32_t l = dsim_leader(w);
    if (l == CONSENSUS_NONE)
        return;
    struct cluster_node *ln = w->nodes[l].node;
    const struct consensus_membership *m = consensus_membership(ln->core);
    uint32_t pick = m->members[dsim_below(&w->rng, m->count)].id;
    struct consensus_change ch = {.id = pick, .addr = "dsim"};
    switch (dsim_below(&w->rng, 5)) {
    case 0:
    case 1:
        ch.type = CONSENSUS_CHANGE_ADD_LEARNER;
        break;
    case 2:
        ch.type = CONSENSUS_CHANGE_ADD_VOTER;
        break;
    case 3:
        ch.type = CONSENSUS_CHANGE_PROMOTE;
        break;
    default:
        ch.type = CONSENSUS_CHANGE_REMOVE;
        break;
    }
    bool add = ch.type == CONSENSUS_CHANGE_ADD_LEARNER || ch.type == CONSENSUS_CHANGE_ADD_VOTER;
    if (add && m->next_id >= w->cfg.nodes)
        return; /* no spare node has that id: the world's nodes are all it has */
    if (cluster_member_change(ln, &ch, change_done, w) == 0)
        w->stats.changes++;
}
