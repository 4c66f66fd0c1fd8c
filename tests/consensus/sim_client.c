/* sim_client.c: clients' pending requests (proposals, reads, forwarded writes): how each is
   answered from the cores' outputs, and the check that none outlives its leadership. */
#include <assert.h>
#include <stdlib.h>

#include "sim.h"

struct sim_wait sim_client_wait_on(const struct sim_world *w, uint32_t leader, uint64_t term)
{
    /* A leader of a later term may exist already: then the request is stranded from the
       start, and the bound runs from now. */
    return (struct sim_wait){.leader = leader, .term = term,
                             .changed_at = w->check.top_term > term ? w->now : 0};
}

static void answered(struct sim_world *w, const struct sim_wait *wt)
{
    if (wt->changed_at != 0 && w->now - wt->changed_at > w->answer_after_change_max)
        w->answer_after_change_max = w->now - wt->changed_at;
}

static void forward_done(struct sim_world *w, size_t f)
{
    struct sim_forward *fw = &w->fwds[f];
    if (!fw->pending)
        return;
    fw->pending = false;
    w->forwards_answered++;
    answered(w, &fw->wait);
}

void sim_client_proposal_done(struct sim_world *w, size_t p)
{
    struct sim_proposal *pr = &w->props[p];
    assert(pr->pending);
    pr->pending = false;
    answered(w, &pr->wait);
    if (pr->forward == SIM_NO_FORWARD)
        return;
    /* The leader's reply goes back to the follower that forwarded it, unless that way is cut
       (then only the follower's own change of view answers its client). */
    const struct sim_forward *fw = &w->fwds[pr->forward];
    if (fw->pending && w->nodes[fw->node].core != NULL && !w->bus.cut[pr->node][fw->node])
        forward_done(w, pr->forward);
}

void sim_client_read_done(struct sim_world *w, size_t r)
{
    answered(w, &w->reads[r].wait);
    w->reads[r] = w->reads[--w->read_count];
}

int sim_world_forward(struct sim_world *w, uint32_t x)
{
    struct sim_node *n = &w->nodes[x];
    if (n->core == NULL || n->syncing)
        return CONSENSUS_ERR_NOT_LEADER;
    uint32_t l = consensus_leader(n->core);
    if (l == CONSENSUS_NONE || l == x)
        return CONSENSUS_ERR_NOT_LEADER;
    uint64_t term = consensus_term(n->core);
    if (w->fwd_count == w->fwd_cap) {
        w->fwd_cap = w->fwd_cap ? w->fwd_cap * 2 : 256;
        w->fwds = realloc(w->fwds, w->fwd_cap * sizeof *w->fwds);
        assert(w->fwds != NULL);
    }
    size_t f = w->fwd_count++;
    w->fwds[f] = (struct sim_forward){.node = x, .pending = true,
                                      .wait = sim_client_wait_on(w, l, term)};
    const struct consensus_node *lc = w->nodes[l].core;
    if (lc == NULL || w->bus.cut[x][l])
        return 0; /* lost on the way */
    if (consensus_role(lc) == CONSENSUS_LEADER && consensus_term(lc) == term &&
        sim_world_propose(w, l, NULL) == 0) {
        w->props[w->prop_count - 1].forward = f;
        return 0;
    }
    /* Refused before any log held it (not leader of that term, busy, mid-batch). */
    if (!w->bus.cut[l][x])
        forward_done(w, f);
    return 0;
}

/* The driver's rule: once this node does not lead the term a proposal was made in, the ones
   above its commit index have an unknown outcome and are answered TIMEOUT now (those at or
   below it are committed and apply here soon). A snapshot answers those it covers. */
void sim_client_batch(struct sim_world *w, uint32_t i, const struct consensus_ready *rd)
{
    uint64_t commit = consensus_commit_index(w->nodes[i].core);
    for (size_t p = w->props_done; p < w->prop_count; p++) {
        const struct sim_proposal *pr = &w->props[p];
        if (!pr->pending || pr->node != i)
            continue;
        bool covered = rd->snapshot_apply && pr->index <= rd->snapshot_index;
        bool stranded = rd->role_changed && pr->index > commit &&
                        (rd->role != CONSENSUS_LEADER || rd->term != pr->wait.term);
        if (covered || stranded)
            sim_client_proposal_done(w, p);
    }
    if (!rd->role_changed)
        return;
    for (size_t f = w->fwds_done; f < w->fwd_count; f++) {
        const struct sim_forward *fw = &w->fwds[f];
        if (fw->pending && fw->node == i &&
            (rd->term != fw->wait.term || rd->leader != fw->wait.leader))
            forward_done(w, f);
    }
}

/* The node's clients are gone with it: nothing of theirs waits any more. */
void sim_client_crash(struct sim_world *w, uint32_t i)
{
    for (size_t p = w->props_done; p < w->prop_count; p++)
        if (w->props[p].node == i)
            w->props[p].pending = false;
    for (size_t f = w->fwds_done; f < w->fwd_count; f++)
        if (w->fwds[f].node == i)
            w->fwds[f].pending = false;
    for (size_t r = 0; r < w->read_count;)
        if (w->reads[r].node == i)
            w->reads[r] = w->reads[--w->read_count];
        else
            r++;
}

/* True when the request waited longer than the bound after its leadership ended. */
static bool overdue(struct sim_world *w, struct sim_wait *wt)
{
    if (wt->changed_at == 0 && w->check.top_term > wt->term)
        wt->changed_at = w->now;
    return w->answer_bound_ticks != 0 && wt->changed_at != 0 &&
           w->now - wt->changed_at > (uint64_t)w->answer_bound_ticks * w->tick_units;
}

static void fail_overdue(struct sim_world *w, const char *what, uint32_t node,
                         const struct sim_wait *wt)
{
    sim_world_fail(w, "%s on node %u (to leader %u of term %llu) unanswered %llu ticks after a "
                   "leader of term %llu took over (bound %u)", what, node, wt->leader,
                   (unsigned long long)wt->term,
                   (unsigned long long)((w->now - wt->changed_at) / w->tick_units),
                   (unsigned long long)w->check.top_term, w->answer_bound_ticks);
}

void sim_client_check(struct sim_world *w)
{
    while (w->props_done < w->prop_count && !w->props[w->props_done].pending)
        w->props_done++;
    while (w->fwds_done < w->fwd_count && !w->fwds[w->fwds_done].pending)
        w->fwds_done++;
    for (size_t p = w->props_done; p < w->prop_count; p++)
        if (w->props[p].pending && overdue(w, &w->props[p].wait))
            fail_overdue(w, "a proposal", w->props[p].node, &w->props[p].wait);
    for (size_t r = 0; r < w->read_count; r++)
        if (overdue(w, &w->reads[r].wait))
            fail_overdue(w, "a read", w->reads[r].node, &w->reads[r].wait);
    for (size_t f = w->fwds_done; f < w->fwd_count; f++)
        if (w->fwds[f].pending && overdue(w, &w->fwds[f].wait))
            fail_overdue(w, "a forwarded write", w->fwds[f].node, &w->fwds[f].wait);
}
