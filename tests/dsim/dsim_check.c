/* dsim_check.c: what must hold at every step of the driver simulator. */
#include "dsim.h"

#include <stdlib.h>
#include <string.h>

void dsim_check_free(struct dsim_check *c)
{
    free(c->hist);
    free(c->leader_of_term);
    memset(c, 0, sizeof *c);
}

/* Committed entries never change, and every node's state after index i is the same. */
void dsim_check_applied(struct dsim_world *w, uint32_t node, uint64_t index, uint64_t term,
                        const uint8_t *data, uint32_t len)
{
    struct dsim_check *c = &w->check;
    uint64_t hash = dsim_hash(data, len);
    uint64_t digest = w->nodes[node].sm.digest;
    if (index <= c->len) {
        const struct dsim_hist *h = &c->hist[index - 1];
        if (h->term != term || h->hash != hash)
            dsim_world_fail(w, "node %u applied a different entry at %llu (term %llu, first "
                               "applied in term %llu)", node, (unsigned long long)index,
                            (unsigned long long)term, (unsigned long long)h->term);
        else if (h->digest != digest)
            dsim_world_fail(w, "node %u's state after %llu differs from the first node's",
                            node, (unsigned long long)index);
        return;
    }
    if (index != c->len + 1) {
        dsim_world_fail(w, "node %u applied %llu, but no node applied %llu", node,
                        (unsigned long long)index, (unsigned long long)c->len + 1);
        return;
    }
    if (c->len == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 1024;
        c->hist = realloc(c->hist, c->cap * sizeof *c->hist);
        if (!c->hist)
            abort();
    }
    c->hist[c->len++] = (struct dsim_hist){term, hash, digest};
}

/* A node installed a snapshot: its state is the one every node had at that index. */
void dsim_check_state(struct dsim_world *w, uint32_t node)
{
    const struct dsim_sm *sm = &w->nodes[node].sm;
    const struct dsim_check *c = &w->check;
    if (sm->applied == 0)
        return;
    if (sm->applied > c->len || c->hist[sm->applied - 1].digest != sm->digest ||
        c->hist[sm->applied - 1].term != sm->applied_term)
        dsim_world_fail(w, "node %u installed a state at %llu no node applied", node,
                        (unsigned long long)sm->applied);
}

/* At most one leader per term. */
void dsim_check_role(struct dsim_world *w, uint32_t node, enum consensus_role role,
                     uint64_t term)
{
    struct dsim_check *c = &w->check;
    if (role != CONSENSUS_LEADER)
        return;
    if (term >= c->terms_cap) {
        uint64_t cap = c->terms_cap ? c->terms_cap : 64;
        while (cap <= term)
            cap *= 2;
        c->leader_of_term = realloc(c->leader_of_term, cap * sizeof *c->leader_of_term);
        if (!c->leader_of_term)
            abort();
        for (uint64_t t = c->terms_cap; t < cap; t++)
            c->leader_of_term[t] = CONSENSUS_NONE;
        c->terms_cap = cap;
    }
    if (c->leader_of_term[term] != CONSENSUS_NONE && c->leader_of_term[term] != node)
        dsim_world_fail(w, "nodes %u and %u both led term %llu", c->leader_of_term[term], node,
                        (unsigned long long)term);
    c->leader_of_term[term] = node;
}

/* After every turn and every other entry into a node that left no turn to come: the
   driver's invariants hold, and a node whose storage failed has stopped. */
void dsim_check_turn(struct dsim_world *w, uint32_t node)
{
    struct dsim_node *n = &w->nodes[node];
    if (!n->node || n->busy)
        return; /* inside a call into the node (a call a reply let in): checked at its end */
    if (n->dying) {
        dsim_node_crash(w, node);
        return;
    }
    if (n->turn_pending)
        return; /* inputs were taken: the turn they asked for settles them first */
    const char *broken = cluster_invariants(n->node, true);
    if (broken)
        dsim_world_fail(w, "node %u: %s", node, broken);
    if (n->io_error && !n->node->failed)
        dsim_world_fail(w, "node %u goes on after an I/O error", node);
}

/* Proposals: a leader that cannot commit steps down within an election timeout (200 ms here)
   and answers what it holds; a follower refuses at once; reads time out in two election
   timeouts. Nothing waits 2 s but a request the driver forgot. */
void dsim_check_answers(struct dsim_world *w)
{
    struct dsim_check *c = &w->check;
    while (c->ops_answered < w->op_count && w->ops[c->ops_answered]->done)
        c->ops_answered++;
    for (size_t i = c->ops_answered; i < w->op_count; i++) {
        const struct dsim_op *op = w->ops[i];
        if (!op->done && w->now - op->started_at > DSIM_ANSWER_MS) {
            dsim_world_fail(w, "a %s at node %u begun at %llu ms is not answered after %u ms",
                            op->read ? "read" : "proposal", op->node,
                            (unsigned long long)op->started_at, DSIM_ANSWER_MS);
            return;
        }
    }
}

/* A client's answer: an acknowledged proposal is the committed entry at its index; a read
   sees every write acknowledged before it began, and the node applied it. */
void dsim_check_op_done(struct dsim_op *op)
{
    struct dsim_world *w = op->w;
    struct dsim_check *c = &w->check;
    if (op->err != 0)
        return;
    if (op->read) {
        const struct dsim_node *n = &w->nodes[op->node];
        if (op->index < op->floor)
            dsim_world_fail(w, "a read at node %u has index %llu below %llu, acknowledged "
                               "before it began", op->node, (unsigned long long)op->index,
                            (unsigned long long)op->floor);
        else if (n->sm.applied < op->index)
            dsim_world_fail(w, "a read at node %u answered at %llu before applying it (%llu)",
                            op->node, (unsigned long long)op->index,
                            (unsigned long long)n->sm.applied);
        c->reads_ok++;
        return;
    }
    if (op->index == 0 || op->index > c->len || c->hist[op->index - 1].hash != op->payload_hash)
        dsim_world_fail(w, "a proposal at node %u was acknowledged at %llu, which is not its "
                           "entry", op->node, (unsigned long long)op->index);
    c->acked++;
    if (op->index > c->acked_max)
        c->acked_max = op->index;
}
