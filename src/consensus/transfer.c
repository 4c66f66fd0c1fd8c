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

/* The most up-to-date follower, preferring those heard from in this check-quorum period. */
static uint32_t pick_target(const struct consensus_node *node)
{
    uint32_t best = CONSENSUS_NONE;
    for (int pass = 0; pass < 2 && best == CONSENSUS_NONE; pass++)
        for (uint32_t i = 0; i < node->cfg.node_count; i++) {
            const struct progress *pr = &node->prs[i];
            if (node_is_self(node, i) || (pass == 0 && !pr->recent_active))
                continue;
            if (best == CONSENSUS_NONE || pr->match > node->prs[best].match)
                best = i;
        }
    return best;
}

int consensus_transfer_leader(struct consensus_node *node, uint32_t target)
{
    assert(!node->ready_outstanding);
    if (node->role != CONSENSUS_LEADER)
        return CONSENSUS_ERR_NOT_LEADER;
    if (target == CONSENSUS_NONE)
        target = pick_target(node);
    if (target == CONSENSUS_NONE || target >= node->cfg.node_count || node_is_self(node, target))
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
    uint64_t last = cons_clog_last_index(&node->log);
    return node->prs[node->transfer_target].match == last && node->log.commit == last;
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
    if (node->role != CONSENSUS_FOLLOWER)
        return;
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
    assert(node->transfer_target < node->cfg.node_count);
    assert(!node_is_self(node, node->transfer_target));
    assert(node->transfer_elapsed < node->cfg.election_ticks);
}
