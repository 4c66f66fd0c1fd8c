/* sim_check.c: the checkers: one leader per term, one history, durable commits, reads. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

void sim_check_init(struct sim_checker *c)
{
    memset(c, 0, sizeof *c);
}

void sim_check_free(struct sim_checker *c)
{
    free(c->hist);
    free(c->leader_of_term);
    memset(c, 0, sizeof *c);
}

static uint64_t history_digest(const struct sim_checker *c, uint64_t index)
{
    return index == 0 ? 0 : c->hist[index - 1].digest;
}

/* Whether b changed a's members or roles, and whether it bound an identity. */
static void count_config(struct sim_checker *c, const struct consensus_membership *a,
                         const struct consensus_membership *b)
{
    bool members = a->count != b->count, bound = a->cluster_id != b->cluster_id;
    for (uint32_t i = 0; i < b->count && !members; i++) {
        const struct consensus_member *x = consensus_membership_find(a, b->members[i].id);
        members = x == NULL || x->role != b->members[i].role;
        bound = bound || (x != NULL && x->incarnation != b->members[i].incarnation);
    }
    c->configs += members;
    c->bindings += bound;
}

static void history_push(struct sim_checker *c, const struct consensus_entry *e)
{
    if (c->len == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 1024;
        c->hist = realloc(c->hist, c->cap * sizeof *c->hist);
        assert(c->hist != NULL);
    }
    struct sim_sm sm = {.applied = c->len, .digest = history_digest(c, c->len), .conf = c->conf};
    sim_sm_apply(&sm, e);
    if (consensus_membership_is_config(e->data, e->len))
        count_config(c, &c->conf, &sm.conf);
    c->conf = sm.conf;
    c->hist[c->len++] = (struct sim_history_entry){
        .term = e->term, .payload_hash = sim_payload_hash(e->data, e->len), .digest = sm.digest};
}

/* True if a majority of m's voters hold (index, term) on their synced disks. */
static bool durable_in(const struct sim_world *w, const struct consensus_membership *m,
                       uint64_t index, uint64_t term)
{
    uint32_t holders = 0;
    uint32_t voters = 0;
    for (uint32_t k = 0; k < m->count; k++) {
        uint32_t id = m->members[k].id;
        if (m->members[k].role != CONSENSUS_MEMBER_VOTER || id >= w->node_count)
            continue;
        voters++;
        /* A voter whose data dir was wiped is refused (sim_world_may_wipe: every other
           voter holds its binding): no election or commit counts it, so what it held
           before counts as held, as in the quorum overlap argument. */
        holders += w->nodes[id].wipes > 0 || sim_disk_holds(&w->nodes[id].disk, index, term);
    }
    return holders >= voters / 2 + 1;
}

/* Committed means durable on a majority: their synced disks hold it (§5.4, Figure 2). The
   majority is of the voters of the membership the leader counted with, the newest in its log
   (a change takes effect when appended), so it is checked on the leader as its commit moves. */
static void check_durable(struct sim_world *w, uint32_t i)
{
    struct sim_node *n = &w->nodes[i];
    uint64_t commit = consensus_commit_index(n->core);
    if (consensus_role(n->core) == CONSENSUS_LEADER) {
        const struct consensus_membership *m = consensus_membership(n->core);
        for (uint64_t k = n->commit_checked + 1; k <= commit; k++) {
            uint64_t term = consensus_term_at(n->core, k);
            if (term != 0 && !durable_in(w, m, k, term))
                sim_world_fail(w, "node %u: entry %llu/%llu committed but durable on a minority",
                               i, (unsigned long long)k, (unsigned long long)term);
        }
    }
    n->commit_checked = commit;
}

void sim_check_committed(struct sim_world *w, uint32_t node, const struct consensus_entry *e)
{
    struct sim_checker *c = &w->check;
    if (e->index > c->len + 1) {
        sim_world_fail(w, "node %u: committed %llu leaves a gap after history %llu", node,
                       (unsigned long long)e->index, (unsigned long long)c->len);
        return;
    }
    if (e->index == c->len + 1) {
        history_push(c, e);
        return;
    }
    const struct sim_history_entry *h = &c->hist[e->index - 1];
    if (h->term != e->term || h->payload_hash != sim_payload_hash(e->data, e->len))
        sim_world_fail(w, "node %u: committed entry %llu changed: term %llu, was %llu", node,
                       (unsigned long long)e->index, (unsigned long long)e->term,
                       (unsigned long long)h->term);
}

void sim_check_applied(struct sim_world *w, uint32_t node)
{
    const struct sim_sm *sm = &w->nodes[node].sm;
    if (sm->applied > w->check.len) {
        sim_world_fail(w, "node %u applied %llu beyond history %llu", node,
                       (unsigned long long)sm->applied, (unsigned long long)w->check.len);
        return;
    }
    if (sm->digest != history_digest(&w->check, sm->applied))
        sim_world_fail(w, "node %u: applied state at %llu is not a prefix of the history", node,
                       (unsigned long long)sm->applied);
}

/* Persist before acknowledging: a response leaves only once the disk holds what it says. */
void sim_check_before_send(struct sim_world *w, uint32_t node, const struct consensus_msg *m)
{
    const struct sim_node *n = &w->nodes[node];
    const struct sim_disk *d = &n->disk;
    if (m->type == CONSENSUS_MSG_APPEND_RESP && m->success) {
        uint64_t term = consensus_term_at(n->core, m->index);
        if (m->index > d->snap_index && (term == 0 || !sim_disk_holds(d, m->index, term)))
            sim_world_fail(w, "node %u acks index %llu before its disk holds it", node,
                           (unsigned long long)m->index);
    }
    if (m->type == CONSENSUS_MSG_VOTE_RESP && m->success && !m->pre_vote) {
        /* A later term on disk covers it too: the node can never vote in this one again
           (granted, then a newer term came in before the batch was persisted). */
        if (d->hs.term < m->term || (d->hs.term == m->term && d->hs.vote != m->to))
            sim_world_fail(w, "node %u grants a vote in term %llu before persisting it", node,
                           (unsigned long long)m->term);
    }
    if (!m->send_before_persist && !m->pre_vote && m->term > d->hs.term)
        sim_world_fail(w, "node %u sends term %llu before persisting it", node,
                       (unsigned long long)m->term);
}

void sim_check_read(struct sim_world *w, uint32_t node, const struct consensus_read_state *r)
{
    w->answered[w->answered_count++ % 64] = *r;
    for (size_t i = 0; i < w->read_count; i++) {
        struct sim_read *rd = &w->reads[i];
        if (rd->ctx != r->ctx)
            continue;
        if (rd->node != node)
            sim_world_fail(w, "read %llu answered on node %u, asked on %u",
                           (unsigned long long)r->ctx, node, rd->node);
        if (r->err == 0 && r->index < rd->floor)
            sim_world_fail(w, "read %llu at index %llu misses commit %llu that preceded it",
                           (unsigned long long)r->ctx, (unsigned long long)r->index,
                           (unsigned long long)rd->floor);
        if (r->err == 0)
            w->reads_done++;
        sim_client_read_done(w, i);
        return;
    }
    sim_world_fail(w, "read %llu answered twice, or never asked", (unsigned long long)r->ctx);
}

static void check_leaders(struct sim_world *w)
{
    struct sim_checker *c = &w->check;
    for (uint32_t i = 0; i < w->node_count; i++) {
        const struct consensus_node *core = w->nodes[i].core;
        if (core == NULL || consensus_role(core) != CONSENSUS_LEADER)
            continue;
        uint64_t term = consensus_term(core);
        if (term >= c->terms_cap) {
            uint64_t cap = c->terms_cap ? c->terms_cap : 64;
            while (cap <= term)
                cap *= 2;
            c->leader_of_term = realloc(c->leader_of_term, cap * sizeof *c->leader_of_term);
            assert(c->leader_of_term != NULL);
            for (uint64_t t = c->terms_cap; t < cap; t++)
                c->leader_of_term[t] = CONSENSUS_NONE;
            c->terms_cap = cap;
        }
        if (c->leader_of_term[term] == CONSENSUS_NONE)
            c->leader_of_term[term] = i;
        if (term > c->top_term)
            c->top_term = term;
        else if (c->leader_of_term[term] != i)
            sim_world_fail(w, "two leaders in term %llu: %u and %u", (unsigned long long)term,
                           c->leader_of_term[term], i);
    }
}

void sim_check_step(struct sim_world *w)
{
    check_leaders(w);
    for (uint32_t i = 0; i < w->node_count; i++) {
        const struct sim_node *n = &w->nodes[i];
        if (n->core == NULL)
            continue;
        check_durable(w, i);
        /* The entry at each node's commit index is the history's, if the history has it. */
        uint64_t commit = consensus_commit_index(n->core);
        uint64_t term = consensus_term_at(n->core, commit);
        if (commit > 0 && commit <= w->check.len && term != 0 &&
            term != w->check.hist[commit - 1].term)
            sim_world_fail(w, "node %u commit %llu has term %llu, history %llu", i,
                           (unsigned long long)commit, (unsigned long long)term,
                           (unsigned long long)w->check.hist[commit - 1].term);
    }
    sim_client_check(w);
}

/* Every proposal acknowledged as committed is in the one history; states converged. */
void sim_check_final(struct sim_world *w)
{
    for (size_t i = 0; i < w->prop_count; i++) {
        const struct sim_proposal *p = &w->props[i];
        if (!p->acked)
            continue;
        if (p->index > w->check.len || w->check.hist[p->index - 1].payload_hash != p->payload_hash)
            sim_world_fail(w, "acknowledged proposal at %llu is not in the history",
                           (unsigned long long)p->index);
    }
    for (uint32_t i = 0; i < w->node_count; i++)
        if (w->nodes[i].core != NULL)
            sim_check_applied(w, i);
}
