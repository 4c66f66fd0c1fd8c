/* read_index.c: linearizable reads: confirm leadership with a heartbeat round, then serve. */
#include <assert.h>

#include "internal.h"

/*
 * Raft thesis §6.4: the leader records its commit index, confirms it is still the leader by
 * exchanging heartbeats with a majority after the read arrived, and answers once it has
 * committed an entry of its own term (before that its commit index may lag).
 * A read joins round hb_seq + 1; the next flush sends that round; an APPEND_RESP echoing a
 * seq >= the read's round proves the follower still took us for leader after the read.
 */

static void answer(struct consensus_node *node, const struct read_req *r, uint64_t index, int err)
{
    if (node_is_self(node, r->from)) {
        outbox_read_state(node, r->ctx, index, err);
        return;
    }
    struct consensus_msg *out = outbox_push(node, CONSENSUS_MSG_READ_INDEX_RESP, r->from);
    out->term = 0;
    out->success = err == 0;
    out->index = index;
    out->seq = r->ctx;
    out->err = err;
}

static void enqueue(struct consensus_node *node, uint32_t from, uint64_t ctx)
{
    assert(node->read_count < node->cfg.read_pending_max);
    uint32_t slot = (node->read_head + node->read_count) % node->cfg.read_pending_max;
    node->read_queue[slot] = (struct read_req){.ctx = ctx, .seq = node->hb_seq + 1, .from = from};
    node->read_count++;
    node->hb_pending = true;
    read_index_release(node); /* a single node needs no round */
}

int read_index_request(struct consensus_node *node, uint32_t from, uint64_t ctx)
{
    if (node->role == CONSENSUS_LEADER) {
        if (node->read_count == node->cfg.read_pending_max)
            return CONSENSUS_ERR_BUSY;
        enqueue(node, from, ctx);
        return 0;
    }
    assert(node_is_self(node, from));
    if (node->leader == CONSENSUS_NONE)
        return CONSENSUS_ERR_NO_LEADER;
    struct consensus_msg *out = outbox_push(node, CONSENSUS_MSG_READ_INDEX, node->leader);
    out->term = 0;
    out->seq = ctx;
    return 0;
}

void read_index_handle(struct consensus_node *node, const struct consensus_msg *msg)
{
    if (msg->type == CONSENSUS_MSG_READ_INDEX_RESP) {
        int err = msg->success ? 0 : (msg->err != 0 ? msg->err : CONSENSUS_ERR_NOT_LEADER);
        outbox_read_state(node, msg->seq, msg->success ? msg->index : 0, err);
        return;
    }
    assert(msg->type == CONSENSUS_MSG_READ_INDEX);
    struct read_req r = {.ctx = msg->seq, .from = msg->from};
    if (node->role != CONSENSUS_LEADER)
        answer(node, &r, 0, CONSENSUS_ERR_NOT_LEADER);
    else if (node->read_count == node->cfg.read_pending_max)
        answer(node, &r, 0, CONSENSUS_ERR_BUSY);
    else
        enqueue(node, msg->from, msg->seq);
}

static bool confirmed(const struct consensus_node *node, uint64_t seq)
{
#if PLANTED_BUG_read_no_round /* planted bug (tools/mutants): no heartbeat round for reads */
    return true;
#endif
    uint32_t acks = 0;
    for (uint32_t i = 0; i < node->cfg.node_count; i++)
        acks += node_is_self(node, i) || node->prs[i].acked_seq >= seq;
    return acks >= quorum_majority(node->cfg.node_count);
}

void read_index_release(struct consensus_node *node)
{
    assert(node->role == CONSENSUS_LEADER);
    if (!node->committed_in_term)
        return;
    while (node->read_count > 0) {
        const struct read_req *r = &node->read_queue[node->read_head];
        if (!confirmed(node, r->seq))
            return;
        answer(node, r, node->log.commit, 0);
        node->read_head = (node->read_head + 1) % node->cfg.read_pending_max;
        node->read_count--;
    }
}

void read_index_fail_all(struct consensus_node *node)
{
    while (node->read_count > 0) {
        answer(node, &node->read_queue[node->read_head], 0, CONSENSUS_ERR_NOT_LEADER);
        node->read_head = (node->read_head + 1) % node->cfg.read_pending_max;
        node->read_count--;
    }
    node->read_head = 0;
}

void read_index_invariants(const struct consensus_node *node)
{
    assert(node->read_count <= node->cfg.read_pending_max);
    assert(node->read_head < node->cfg.read_pending_max);
    if (node->role != CONSENSUS_LEADER) {
        assert(node->read_count == 0);
        return;
    }
    uint64_t prev = 0;
    for (uint32_t i = 0; i < node->read_count; i++) {
        const struct read_req *r = &node->read_queue[(node->read_head + i) %
                                                     node->cfg.read_pending_max];
        assert(r->seq >= prev);
        assert(r->seq <= node->hb_seq + 1);
        assert(r->from < node->cfg.node_count);
        prev = r->seq;
    }
}
