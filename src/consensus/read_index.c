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
        cons_outbox_read_state(node, r->ctx, index, err);
        return;
    }
    struct consensus_msg *out = cons_outbox_push(node, CONSENSUS_MSG_READ_INDEX_RESP, r->from);
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
    cons_read_index_release(node); /* a single node needs no round */
}

/*
 * A follower's read goes to its leader as READ_INDEX and waits in fwd_queue for the answer.
 * It cannot outlive the leader it went to: when the leader or the term changes (this node
 * times out, learns of a newer term, or wins an election itself), every read still waiting
 * fails at once with NOT_LEADER, so its caller retries with the next leader instead of
 * waiting out a timeout. A read the leader never answers (a lost message) fails after
 * READ_FWD_ELECTIONS_MAX election timeouts. Answers for reads no longer waiting are dropped.
 */
#define READ_FWD_ELECTIONS_MAX 2u

static struct read_fwd *fwd_at(const struct consensus_node *node, uint32_t i)
{
    return &node->fwd_queue[(node->fwd_head + i) % node->cfg.read_pending_max];
}

static void fwd_pop_answered(struct consensus_node *node)
{
    while (node->fwd_count > 0 && fwd_at(node, 0)->answered) {
        node->fwd_head = (node->fwd_head + 1) % node->cfg.read_pending_max;
        node->fwd_count--;
    }
}

static int fwd_send(struct consensus_node *node, uint64_t ctx)
{
    if (node->leader == CONSENSUS_NONE)
        return CONSENSUS_ERR_NO_LEADER;
    if (node->fwd_count == node->cfg.read_pending_max)
        return CONSENSUS_ERR_BUSY;
    *fwd_at(node, node->fwd_count) = (struct read_fwd){.ctx = ctx, .sent_tick = node->ticks};
    node->fwd_count++;
    struct consensus_msg *out = cons_outbox_push(node, CONSENSUS_MSG_READ_INDEX, node->leader);
    out->term = 0;
    out->seq = ctx;
    return 0;
}

/* The leader's answer: the read waiting for it gets its read state. */
static void fwd_answer(struct consensus_node *node, const struct consensus_msg *msg)
{
    if (msg->from != node->leader)
        return; /* from a leader this node no longer follows: its reads failed already */
    for (uint32_t i = 0; i < node->fwd_count; i++) {
        struct read_fwd *f = fwd_at(node, i);
        if (f->answered || f->ctx != msg->seq)
            continue;
        f->answered = true;
        int err = msg->success ? 0 : (msg->err != 0 ? msg->err : CONSENSUS_ERR_NOT_LEADER);
        cons_outbox_read_state(node, f->ctx, msg->success ? msg->index : 0, err);
        fwd_pop_answered(node);
        return;
    }
    /* A duplicate, or the read expired before it came: dropped. */
}

void cons_read_index_fwd_fail_all(struct consensus_node *node)
{
    for (uint32_t i = 0; i < node->fwd_count; i++) {
        struct read_fwd *f = fwd_at(node, i);
        if (!f->answered)
            cons_outbox_read_state(node, f->ctx, 0, CONSENSUS_ERR_NOT_LEADER);
    }
    node->fwd_head = 0;
    node->fwd_count = 0;
}

void cons_read_index_tick(struct consensus_node *node)
{
    node->ticks++;
    uint64_t limit = (uint64_t)READ_FWD_ELECTIONS_MAX * node->cfg.election_ticks;
    while (node->fwd_count > 0 && node->ticks - fwd_at(node, 0)->sent_tick >= limit) {
        struct read_fwd *f = fwd_at(node, 0);
        cons_outbox_read_state(node, f->ctx, 0, CONSENSUS_ERR_NO_LEADER);
        f->answered = true;
        fwd_pop_answered(node);
    }
}

int cons_read_index_request(struct consensus_node *node, uint32_t from, uint64_t ctx)
{
    if (node->role == CONSENSUS_LEADER) {
        if (node->read_count == node->cfg.read_pending_max)
            return CONSENSUS_ERR_BUSY;
        enqueue(node, from, ctx);
        return 0;
    }
    assert(node_is_self(node, from));
    return fwd_send(node, ctx);
}

void cons_read_index_handle(struct consensus_node *node, const struct consensus_msg *msg)
{
    if (msg->type == CONSENSUS_MSG_READ_INDEX_RESP) {
        fwd_answer(node, msg);
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
    for (uint32_t i = 0; i < node->conf.count; i++) {
        const struct consensus_member *m = &node->conf.members[i];
        if (m->role == CONSENSUS_MEMBER_VOTER)
            acks += node_is_self(node, m->id) || node->prs[i].acked_seq >= seq;
    }
    return acks >= cons_quorum_majority(consensus_membership_voters(&node->conf));
}

void cons_read_index_release(struct consensus_node *node)
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

void cons_read_index_fail_all(struct consensus_node *node)
{
    while (node->read_count > 0) {
        answer(node, &node->read_queue[node->read_head], 0, CONSENSUS_ERR_NOT_LEADER);
        node->read_head = (node->read_head + 1) % node->cfg.read_pending_max;
        node->read_count--;
    }
    node->read_head = 0;
}

static void fwd_invariants(const struct consensus_node *node)
{
    assert(node->fwd_count <= node->cfg.read_pending_max);
    assert(node->fwd_head < node->cfg.read_pending_max);
    if (node->fwd_count == 0)
        return;
    assert(node->role == CONSENSUS_FOLLOWER);
    assert(node->leader != CONSENSUS_NONE);
    assert(!fwd_at(node, 0)->answered);
    uint64_t prev = 0;
    for (uint32_t i = 0; i < node->fwd_count; i++) {
        const struct read_fwd *f = fwd_at(node, i);
        assert(f->sent_tick >= prev);
        assert(f->sent_tick <= node->ticks);
        prev = f->sent_tick;
    }
}

void cons_read_index_invariants(const struct consensus_node *node)
{
    assert(node->read_count <= node->cfg.read_pending_max);
    assert(node->read_head < node->cfg.read_pending_max);
    fwd_invariants(node);
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
        assert(r->from != CONSENSUS_NONE);
        prev = r->seq;
    }
}
