/* role.c: role transitions; each swaps in that role's step and tick handlers. */
#include <assert.h>
#include <string.h>

#include "internal.h"

/*
 * "If a server receives a request with a stale term number, it rejects the request. ...
 * If a candidate or leader discovers that its term is out of date, it immediately reverts
 * to follower state." (Raft paper §5.1)
 */

static int step_follower(struct consensus_node *node, const struct consensus_msg *msg);
static int step_candidate(struct consensus_node *node, const struct consensus_msg *msg);
static int step_leader(struct consensus_node *node, const struct consensus_msg *msg);
static void tick_leader(struct consensus_node *node);

void cons_role_reset_election_timer(struct consensus_node *node)
{
    node->election_elapsed = 0;
    uint32_t e = node->cfg.election_ticks;
    node->randomized_timeout = e + (uint32_t)(node->cfg.rand_u64(node->cfg.rand_ctx) % e);
    assert(node->randomized_timeout >= e);
    assert(node->randomized_timeout < 2 * e);
}

static void reset(struct consensus_node *node, uint64_t term)
{
    assert(term >= node->term);
    if (term > node->term) {
        node->term = term;
        node->vote = CONSENSUS_NONE;
    }
    /* Reads waiting on this leadership (ours, or a leader's we followed) fail now. */
    if (node->role == CONSENSUS_LEADER)
        cons_read_index_fail_all(node);
    cons_read_index_fwd_fail_all(node);
    node->leader = CONSENSUS_NONE;
    node->heartbeat_elapsed = 0;
    memset(node->votes, 0, sizeof node->votes);
    node->send_pending = false;
    node->hb_pending = false;
    node->commit_changed = false;
    node->committed_in_term = false;
    node->uncommitted_bytes = 0;
    cons_transfer_reset(node);
    cons_role_reset_election_timer(node);
}

void cons_role_become_follower(struct consensus_node *node, uint64_t term, uint32_t leader)
{
    reset(node, term);
    node->role = CONSENSUS_FOLLOWER;
    node->leader = leader;
    node->step_role = step_follower;
    node->tick_role = cons_election_tick;
}

void cons_role_become_pre_candidate(struct consensus_node *node)
{
    assert(node->role != CONSENSUS_LEADER);
    /* A pre-candidate keeps its term and vote: asking changes nothing durable (§9.6). */
    reset(node, node->term);
    node->role = CONSENSUS_PRE_CANDIDATE;
    node->step_role = step_candidate;
    node->tick_role = cons_election_tick;
}

void cons_role_become_candidate(struct consensus_node *node)
{
    assert(node->role != CONSENSUS_LEADER);
    reset(node, node->term + 1);
    node->vote = node->cfg.id;
    node->role = CONSENSUS_CANDIDATE;
    node->step_role = step_candidate;
    node->tick_role = cons_election_tick;
}

void cons_role_become_leader(struct consensus_node *node)
{
    assert(node->role == CONSENSUS_CANDIDATE);
    assert(node->vote == node->cfg.id);
    reset(node, node->term);
    node->role = CONSENSUS_LEADER;
    node->leader = node->cfg.id;
    node->step_role = step_leader;
    node->tick_role = tick_leader;
    uint64_t last = cons_clog_last_index(&node->log);
    for (uint32_t i = 0; i < node->conf.count; i++) {
        cons_progress_reset(&node->prs[i], last + 1);
        node->prs[i].recent_active = true;
    }
    /* "...each leader commit a blank no-op entry into the log at the start of its term"
     * (§8): only an entry of its own term lets it count replicas and commit. */
    cons_clog_append(&node->log, node->term, NULL, 0);
    node->send_pending = true;
    node->hb_pending = true;
}

static int step_follower(struct consensus_node *node, const struct consensus_msg *msg)
{
    switch (msg->type) {
    case CONSENSUS_MSG_APPEND:
        return cons_follow_handle_append(node, msg);
    case CONSENSUS_MSG_COMMIT:
        cons_follow_handle_commit(node, msg);
        return 0;
    case CONSENSUS_MSG_SNAPSHOT:
        cons_snapshot_handle(node, msg);
        return 0;
    case CONSENSUS_MSG_VOTE:
        cons_election_handle_vote(node, msg);
        return 0;
    case CONSENSUS_MSG_TIMEOUT_NOW:
        cons_transfer_handle_timeout_now(node, msg);
        return 0;
    default:
        return 0; /* responses to a role we no longer hold */
    }
}

static int step_candidate(struct consensus_node *node, const struct consensus_msg *msg)
{
    switch (msg->type) {
    case CONSENSUS_MSG_APPEND:
    case CONSENSUS_MSG_COMMIT:
    case CONSENSUS_MSG_SNAPSHOT:
        /* A leader exists in our term (or, for a pre-candidate, in a term >= ours). */
        cons_role_become_follower(node, msg->term, msg->from);
        return step_follower(node, msg);
    case CONSENSUS_MSG_VOTE:
        cons_election_handle_vote(node, msg);
        return 0;
    case CONSENSUS_MSG_VOTE_RESP:
        cons_election_handle_vote_resp(node, msg);
        return 0;
    default:
        return 0;
    }
}

static int step_leader(struct consensus_node *node, const struct consensus_msg *msg)
{
    int slot = cons_conf_slot(&node->conf, msg->from);
    if (slot >= 0 && msg->type != CONSENSUS_MSG_VOTE_RESP && msg->type != CONSENSUS_MSG_VOTE)
        node->prs[slot].recent_active = true;
    switch (msg->type) {
    case CONSENSUS_MSG_APPEND_RESP:
        cons_replication_handle_append_resp(node, msg);
        return 0;
    case CONSENSUS_MSG_SNAPSHOT_RESP:
        cons_snapshot_handle_resp(node, msg);
        return 0;
    case CONSENSUS_MSG_VOTE:
        cons_election_handle_vote(node, msg);
        return 0;
    case CONSENSUS_MSG_APPEND:
    case CONSENSUS_MSG_COMMIT:
    case CONSENSUS_MSG_SNAPSHOT:
        /* Another leader in our own term: impossible unless a peer is broken. */
        return CONSENSUS_ERR_INVALID;
    default:
        return 0;
    }
}

static void tick_leader(struct consensus_node *node)
{
    cons_election_tick_check_quorum(node);
    if (node->role != CONSENSUS_LEADER)
        return;
    cons_transfer_tick(node);
    cons_replication_tick(node);
}
