/* transfer.c: leadership transfer: catch the target up, then TIMEOUT_NOW (Raft thesis §3.10). */
#include <assert.h>

#include "internal.h"

/*
 * "The prior leader sends its log entries to the target server ... then sends a TimeoutNow
 * request to the target server. This request has the same effect as the target server's
 * election timer firing: the target server starts a new election (incrementing its term and
 * becoming a candidate). ... If the transfer does not complete after about an election
 * timeout, the prior leader aborts the transfer and resumes accepting client requests."
 * (thesis §3.10)
 *
 * Proposals are refused meanwhile (consensus_propose: TRANSFERRING): the target can only
 * catch up with a log that stops growing, and an entry taken now would be answered TIMEOUT
 * (outcome unknown) when the term changes under it. The server retries them at the new
 * leader, so a client sees a wait, not an error.
 */

void cons_transfer_reset(struct consensus_node *node)
{
    node->transfer_target = CONSENSUS_NONE;
    node->transfer_elapsed = 0;
    node->timeout_now_sent = false;
}

/* The most up-to-date voter, preferring those heard from in this check-quorum period (a
   learner cannot win an election). */
static uint32_t pick_target(const struct consensus_node *node)
{
    int best = -1;
    for (int pass = 0; pass < 2 && best < 0; pass++)
        for (uint32_t i = 0; i < node->conf.count; i++) {
            const struct consensus_member *m = &node->conf.members[i];
            const struct progress *pr = &node->prs[i];
            if (node_is_self(node, m->id) || m->role != CONSENSUS_MEMBER_VOTER ||
                (pass == 0 && !pr->recent_active))
                continue;
            if (best < 0 || pr->match > node->prs[best].match)
                best = (int)i;
        }
    return best < 0 ? CONSENSUS_NONE : node->conf.members[best].id;
}

int consensus_transfer_leader(struct consensus_node *node, uint32_t target)
{
    assert(!node->ready_outstanding);
    if (node->role != CONSENSUS_LEADER)
        return CONSENSUS_ERR_NOT_LEADER;
    if (target == CONSENSUS_NONE)
        target = pick_target(node);
    if (target == CONSENSUS_NONE || !cons_conf_is_voter(&node->conf, target) ||
        node_is_self(node, target))
        return CONSENSUS_ERR_INVALID;
    if (node->transfer_target == target)
        return 0;
    if (node->transfer_target != CONSENSUS_NONE)
        return CONSENSUS_ERR_BUSY;
    node->transfer_target = target;
    node->transfer_elapsed = 0;
    node->timeout_now_sent = false;
    /* Appends to it now, rather than at the next heartbeat. */
    node->send_pending = true;
    cons_transfer_invariants(node);
    return 0;
}

uint32_t consensus_transfer_target(const struct consensus_node *node)
{
    return node->transfer_target;
}

/* The target holds all we hold, and all of it is committed: it wins any election it starts,
 * and no waiting proposal of ours is left to an unknown outcome by the term change. */
bool cons_transfer_due(const struct consensus_node *node)
{
    if (node->role != CONSENSUS_LEADER || node->transfer_target == CONSENSUS_NONE ||
        node->timeout_now_sent)
        return false;
    int slot = cons_conf_slot(&node->conf, node->transfer_target);
    uint64_t last = cons_clog_last_index(&node->log);
    /* A target removed meanwhile gets nothing: the transfer times out. */
    return slot >= 0 && node->prs[slot].match == last && node->log.commit == last;
}

void cons_transfer_flush(struct consensus_node *node)
{
    if (!cons_transfer_due(node))
        return;
    cons_outbox_push(node, CONSENSUS_MSG_TIMEOUT_NOW, node->transfer_target);
    node->timeout_now_sent = true;
}

void cons_transfer_tick(struct consensus_node *node)
{
    assert(node->role == CONSENSUS_LEADER);
    if (node->transfer_target == CONSENSUS_NONE)
        return;
    /* The target did not win in time (it died, or TIMEOUT_NOW was lost): lead on. */
    if (++node->transfer_elapsed >= node->cfg.election_ticks)
        cons_transfer_reset(node);
}

/* A follower told by its leader to take over campaigns at once. */
void cons_transfer_handle_timeout_now(struct consensus_node *node,
                                      const struct consensus_msg *msg)
{
    assert(msg->type == CONSENSUS_MSG_TIMEOUT_NOW);
    assert(msg->term == node->term);
    if (node->role != CONSENSUS_FOLLOWER || !cons_conf_may_campaign(node))
        return; /* a learner, or a node removed meanwhile, never campaigns */
    cons_election_campaign_transfer(node);
}

void cons_transfer_invariants(const struct consensus_node *node)
{
    if (node->transfer_target == CONSENSUS_NONE) {
        assert(node->transfer_elapsed == 0);
        assert(!node->timeout_now_sent);
        return;
    }
    assert(node->role == CONSENSUS_LEADER);
    assert(!node_is_self(node, node->transfer_target));
    assert(node->transfer_elapsed < node->cfg.election_ticks);
}
