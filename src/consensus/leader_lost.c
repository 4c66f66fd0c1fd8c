/* leader_lost.c: a follower told its leader's connection was reset campaigns without waiting. */
#include <assert.h>

#include "internal.h"

/*
 * A reset connection (the leader's process died: the kernel closed its sockets) says more than
 * silence does, and sooner: the follower need not wait out an election timeout. It forgets the
 * leader, so it grants pre-votes at once, and starts a pre-vote itself. Safe whoever is wrong:
 * a pre-vote changes no term, and peers that still hear from a live leader refuse it (their
 * lease, thesis §9.6); check-quorum is untouched. To keep the survivors from splitting the
 * vote, they go in turn: the first follower after the old leader (by id, cyclically) at once,
 * each next one heartbeat_ticks later.
 */
/* Voters other than the old leader whose id comes after it, cyclically, before ours. */
static uint32_t rank_after(const struct consensus_node *node, uint32_t leader)
{
    uint32_t self = node->cfg.id, rank = 0;
    for (uint32_t i = 0; i < node->conf.count; i++) {
        const struct consensus_member *m = &node->conf.members[i];
        if (m->role != CONSENSUS_MEMBER_VOTER || m->id == leader || m->id == self)
            continue;
        bool between = self > leader ? m->id > leader && m->id < self
                                     : m->id > leader || m->id < self;
        rank += between;
    }
    return rank;
}

void consensus_leader_lost(struct consensus_node *node, uint32_t peer)
{
    assert(!node->ready_outstanding);
    if (node->role != CONSENSUS_FOLLOWER || node->leader != peer || peer == CONSENSUS_NONE)
        return;
    cons_role_become_follower(node, node->term, CONSENSUS_NONE);
    if (!cons_conf_may_campaign(node))
        return; /* a learner only forgets the leader (and grants nothing: it has no vote) */
    uint32_t wait = rank_after(node, peer) * node->cfg.heartbeat_ticks;
    if (wait == 0) {
        cons_election_campaign(node, true);
        return;
    }
    if (wait < node->randomized_timeout)
        node->election_elapsed = node->randomized_timeout - wait;
}
