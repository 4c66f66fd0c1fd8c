/* election.c: terms, votes, pre-vote, election timeouts and the leader's check-quorum. */
#include <assert.h>

#include "internal.h"

static bool is_request(enum consensus_msg_type type)
{
    return type == CONSENSUS_MSG_APPEND || type == CONSENSUS_MSG_COMMIT ||
           type == CONSENSUS_MSG_VOTE || type == CONSENSUS_MSG_SNAPSHOT;
}

/* Answers a request from a stale term with our term, so its sender steps down. */
static void reject_stale(struct consensus_node *node, const struct consensus_msg *msg)
{
    static const enum consensus_msg_type resp[CONSENSUS_MSG_TYPE_COUNT] = {
        [CONSENSUS_MSG_APPEND] = CONSENSUS_MSG_APPEND_RESP,
        [CONSENSUS_MSG_COMMIT] = CONSENSUS_MSG_COMMIT_RESP,
        [CONSENSUS_MSG_VOTE] = CONSENSUS_MSG_VOTE_RESP,
        [CONSENSUS_MSG_SNAPSHOT] = CONSENSUS_MSG_SNAPSHOT_RESP,
    };
    assert(is_request(msg->type));
    struct consensus_msg *out = cons_outbox_push(node, resp[msg->type], msg->from);
    out->success = false;
    out->pre_vote = msg->pre_vote;
    out->index = cons_clog_last_index(&node->log);
    out->seq = msg->seq;
}

/* With check-quorum, a node that heard from a live leader within the minimum election
 * timeout ignores votes: a rejoining node cannot depose a healthy leader (thesis §9.6). */
static bool in_lease(const struct consensus_node *node)
{
    return node->leader != CONSENSUS_NONE && node->election_elapsed < node->cfg.election_ticks;
}

int cons_election_step_term(struct consensus_node *node, const struct consensus_msg *msg)
{
    if (msg->term > node->term) {
        if (msg->type == CONSENSUS_MSG_VOTE) {
            /* ...unless the leader itself asked for this election (thesis §3.10). */
            if (in_lease(node) && !msg->transfer) {
                reject_stale(node, msg);
                return 1;
            }
            if (msg->pre_vote)
                return 0; /* a pre-vote changes no term */
        }
        if (msg->type == CONSENSUS_MSG_VOTE_RESP && msg->pre_vote && msg->success)
            return 0; /* granted pre-votes carry the term the candidate will use */
        bool from_leader = msg->type == CONSENSUS_MSG_APPEND ||
                           msg->type == CONSENSUS_MSG_COMMIT ||
                           msg->type == CONSENSUS_MSG_SNAPSHOT ||
                           msg->type == CONSENSUS_MSG_TIMEOUT_NOW;
        cons_role_become_follower(node, msg->term, from_leader ? msg->from : CONSENSUS_NONE);
        return 0;
    }
    if (msg->term < node->term) {
        if (is_request(msg->type))
            reject_stale(node, msg);
        return 1; /* stale responses are dropped */
    }
    return 0;
}

void cons_election_handle_vote(struct consensus_node *node, const struct consensus_msg *msg)
{
    assert(msg->type == CONSENSUS_MSG_VOTE);
    bool can_vote;
    if (msg->pre_vote)
        can_vote = msg->term > node->term;
    else
        can_vote = msg->term == node->term &&
                   (node->vote == msg->from ||
                    (node->vote == CONSENSUS_NONE && node->leader == CONSENSUS_NONE));
#if PLANTED_BUG_second_vote /* planted bug (tools/mutants): a second vote in one term */
    can_vote = can_vote || (!msg->pre_vote && msg->term == node->term && node->leader == CONSENSUS_NONE);
#endif
    /* "...the voter denies its vote if its own log is more up-to-date" (§5.4.1). */
    bool grant = can_vote && cons_clog_up_to_date(&node->log, msg->index, msg->log_term);
    struct consensus_msg *out = cons_outbox_push(node, CONSENSUS_MSG_VOTE_RESP, msg->from);
    out->success = grant;
    out->pre_vote = msg->pre_vote;
    if (grant && msg->pre_vote)
        out->term = msg->term;
    if (grant && !msg->pre_vote) {
        node->vote = msg->from;
        node->election_elapsed = 0;
    }
}

/* The outcome over the voters of our membership: learners and strangers never count. */
static enum quorum_result vote_result(const struct consensus_node *node)
{
    uint8_t votes[CONSENSUS_VOTERS_MAX];
    uint32_t n = 0;
    for (uint32_t i = 0; i < node->conf.count; i++)
        if (node->conf.members[i].role == CONSENSUS_MEMBER_VOTER)
            votes[n++] = node->votes[i];
    return cons_quorum_vote_result(votes, n);
}

void cons_election_handle_vote_resp(struct consensus_node *node, const struct consensus_msg *msg)
{
    bool pre = node->role == CONSENSUS_PRE_CANDIDATE;
    assert(pre || node->role == CONSENSUS_CANDIDATE);
    if (msg->pre_vote != pre)
        return;
    if (pre && msg->success && msg->term != node->term + 1)
        return;
    if (!cons_conf_is_voter(&node->conf, msg->from))
        return; /* a learner's or a removed node's answer */
    node->votes[cons_conf_slot(&node->conf, msg->from)] =
        msg->success ? QUORUM_VOTE_YES : QUORUM_VOTE_NO;
    enum quorum_result res = vote_result(node);
    if (res == QUORUM_WON) {
        if (pre)
            cons_election_campaign(node, false);
        else
            cons_role_become_leader(node);
    } else if (res == QUORUM_LOST) {
        cons_role_become_follower(node, node->term, CONSENSUS_NONE);
    }
}

static void campaign(struct consensus_node *node, bool pre_vote, bool transfer);

void cons_election_campaign(struct consensus_node *node, bool pre_vote)
{
    campaign(node, pre_vote, false);
}

/* The leader handed over (TIMEOUT_NOW): no pre-vote, and the votes it asks for say so, so
 * voters in their leader's lease grant them (etcd-io/raft: campaignTransfer). */
void cons_election_campaign_transfer(struct consensus_node *node)
{
    campaign(node, false, true);
}

static void campaign(struct consensus_node *node, bool pre_vote, bool transfer)
{
    assert(!(pre_vote && transfer));
    if (pre_vote)
        cons_role_become_pre_candidate(node);
    else
        cons_role_become_candidate(node);
    assert(cons_conf_may_campaign(node));
    if (cons_conf_is_voter(&node->conf, node->cfg.id))
        node->votes[cons_conf_slot(&node->conf, node->cfg.id)] = QUORUM_VOTE_YES;
    if (vote_result(node) == QUORUM_WON) {
        if (pre_vote)
            cons_election_campaign(node, false);
        else
            cons_role_become_leader(node);
        return;
    }
    for (uint32_t i = 0; i < node->conf.count; i++) {
        const struct consensus_member *m = &node->conf.members[i];
        if (node_is_self(node, m->id) || m->role != CONSENSUS_MEMBER_VOTER)
            continue;
        struct consensus_msg *out = cons_outbox_push(node, CONSENSUS_MSG_VOTE, m->id);
        out->term = pre_vote ? node->term + 1 : node->term;
        out->index = cons_clog_last_index(&node->log);
        out->log_term = cons_clog_last_term(&node->log);
        out->pre_vote = pre_vote;
        out->transfer = transfer;
    }
}

/* Followers and candidates: "If election timeout elapses ... start new election" (§5.2). */
void cons_election_tick(struct consensus_node *node)
{
    assert(node->role != CONSENSUS_LEADER);
    node->election_elapsed++;
    if (node->election_elapsed < node->randomized_timeout)
        return;
    /* A learner, a node removed or not yet added never campaigns: it forgets a leader it
       has not heard from (its waiting reads fail) and waits to hear from one. */
    if (cons_conf_may_campaign(node))
        cons_election_campaign(node, true);
    else
        cons_role_become_follower(node, node->term, CONSENSUS_NONE);
}

/* A leader that has not heard from a majority for an election timeout steps down. */
void cons_election_tick_check_quorum(struct consensus_node *node)
{
    assert(node->role == CONSENSUS_LEADER);
    node->election_elapsed++;
    if (node->election_elapsed < node->cfg.election_ticks)
        return;
    node->election_elapsed = 0;
    uint32_t active = 0;
    for (uint32_t i = 0; i < node->conf.count; i++) {
        const struct consensus_member *m = &node->conf.members[i];
        if (m->role == CONSENSUS_MEMBER_VOTER)
            active += node_is_self(node, m->id) || node->prs[i].recent_active;
        node->prs[i].recent_active = false;
    }
    if (active < cons_quorum_majority(consensus_membership_voters(&node->conf)))
        cons_role_become_follower(node, node->term, CONSENSUS_NONE);
}

void cons_election_invariants(const struct consensus_node *node)
{
    assert(node->randomized_timeout >= node->cfg.election_ticks);
    assert(node->randomized_timeout < 2 * node->cfg.election_ticks);
    switch (node->role) {
    case CONSENSUS_LEADER:
        assert(node->leader == node->cfg.id);
        assert(node->vote == node->cfg.id);
        break;
    case CONSENSUS_CANDIDATE:
        assert(node->vote == node->cfg.id);
        assert(node->leader == CONSENSUS_NONE);
        assert(!cons_conf_is_voter(&node->conf, node->cfg.id) ||
               node->votes[cons_conf_slot(&node->conf, node->cfg.id)] == QUORUM_VOTE_YES);
        break;
    case CONSENSUS_PRE_CANDIDATE:
        assert(node->leader == CONSENSUS_NONE);
        assert(!cons_conf_is_voter(&node->conf, node->cfg.id) ||
               node->votes[cons_conf_slot(&node->conf, node->cfg.id)] == QUORUM_VOTE_YES);
        break;
    case CONSENSUS_FOLLOWER:
        assert(node->leader != node->cfg.id);
        break;
    }
    /* A leader of a term voted for itself in it, so every other vote in that term is lost. */
    if (node->role != CONSENSUS_LEADER)
        assert(node->log.count == 0 || node->term >= cons_clog_last_term(&node->log));
}
