/* identity.c: member identity: incarnations and the cluster id, bound through the log. */
#include <assert.h>
#include <string.h>

#include "internal.h"

/*
 * A voter whose data dir was wiped comes back with term 0 and no vote: without this file it
 * could vote a second time in a term it voted in before (two leaders in one term), and its
 * acknowledgements of entries it no longer holds would have counted towards their commit.
 * So each data dir has an incarnation (consensus_config.incarnation), every message carries
 * it, and the leader binds each member to the one it hears from (and the cluster to a random
 * id) through the log, one change at a time like any other. Once bound, a member with
 * another incarnation is not that member any more: what it sends is dropped, and what it is
 * sent says which incarnation the sender holds for it, so it learns that it must stop.
 */

void cons_ident_stamp(const struct consensus_node *node, struct consensus_msg *m)
{
    m->incarnation = node->cfg.incarnation;
    m->cluster_id = node->conf.cluster_id;
    const struct consensus_member *to = consensus_membership_find(&node->conf, m->to);
    m->to_incarnation = to != NULL ? to->incarnation : 0;
}

static bool seen(const struct consensus_node *node, const struct consensus_stale_member *s)
{
    for (uint32_t i = 0; i < CONSENSUS_MEMBERS_MAX; i++) {
        const struct consensus_stale_member *x = &node->stale_seen[i];
        if (x->id == s->id && x->incarnation == s->incarnation && x->cluster_id == s->cluster_id)
            return true;
    }
    return false;
}

/* Reported once per (id, incarnation, cluster id) among the last MEMBERS_MAX reported. */
static void report(struct consensus_node *node, const struct consensus_msg *msg, uint64_t bound)
{
    struct consensus_stale_member s = {.id = msg->from, .incarnation = msg->incarnation,
                                       .bound = bound, .cluster_id = msg->cluster_id};
    if (seen(node, &s) || node->stale_out_count == CONSENSUS_MEMBERS_MAX)
        return;
    node->stale_seen[node->stale_seen_next++ % CONSENSUS_MEMBERS_MAX] = s;
    node->stale_out[node->stale_out_count++] = s;
}

static void refuse_self(struct consensus_node *node, uint64_t bound)
{
    if (node->self_refused)
        return;
    node->self_refused = true;
    node->self_bound = bound;
    if (node->role != CONSENSUS_FOLLOWER || node->leader != CONSENSUS_NONE)
        cons_role_become_follower(node, node->term, CONSENSUS_NONE);
}

/* The transport makes these from its own snapshot chunks: they state no identity (0). */
static bool transport_made(const struct consensus_msg *msg)
{
    return msg->type == CONSENSUS_MSG_SNAPSHOT || msg->type == CONSENSUS_MSG_SNAPSHOT_RESP;
}

static bool from_leader(const struct consensus_msg *msg)
{
    return msg->type == CONSENSUS_MSG_APPEND || msg->type == CONSENSUS_MSG_COMMIT ||
           msg->type == CONSENSUS_MSG_SNAPSHOT || msg->type == CONSENSUS_MSG_TIMEOUT_NOW;
}

/* The cluster id our log holds committed (0: none we know of). */
static uint64_t committed_cluster(const struct consensus_node *node)
{
    return node->conf_index <= node->log.commit ? node->conf.cluster_id
                                                : node->conf_base.cluster_id;
}

/* A leader's message is judged on what we hold committed only: what our log holds beyond
   it (a binding an earlier leader appended) the leader may be about to cut. */
static bool drop_from_leader(const struct consensus_node *node, const struct consensus_msg *msg)
{
    uint64_t cluster = committed_cluster(node);
    return cluster != 0 && msg->cluster_id != 0 && msg->cluster_id != cluster;
}

/* A message from outside the cluster this node was told to join (consensus_config.cluster_id):
   one stating another cluster id; or a leader's stating none (the transport's snapshots state
   none: their snapshot's membership must name it). Answers and vote requests stating none are
   judged as any member's: a member added after this node states none until it holds the
   membership, and refusing those would keep every later joiner from catching up from this
   node once it leads. */
static bool other_cluster(const struct consensus_node *node, const struct consensus_msg *msg)
{
    uint64_t want = node->cfg.cluster_id;
    if (want == 0)
        return false;
    if (msg->type == CONSENSUS_MSG_SNAPSHOT && msg->cluster_id == 0)
        return msg->membership == NULL || msg->membership->cluster_id != want;
    if (msg->cluster_id != 0)
        return msg->cluster_id != want;
    return from_leader(msg) && !transport_made(msg);
}

/* A refused node answers a leader's append with a reject that carries its own incarnation:
   the leader drops it, and so learns (and reports) that this member came back. */
static bool answer_refused(struct consensus_node *node, const struct consensus_msg *msg)
{
    if (msg->type == CONSENSUS_MSG_APPEND) {
        struct consensus_msg *out = cons_outbox_push(node, CONSENSUS_MSG_APPEND_RESP, msg->from);
        out->success = false;
        out->seq = msg->seq;
    }
    return true;
}

bool cons_ident_drop(struct consensus_node *node, const struct consensus_msg *msg)
{
    if (node->self_refused)
        return answer_refused(node, msg);
    if (other_cluster(node, msg)) {
        struct consensus_msg said = *msg; /* a snapshot states its cluster in its membership */
        if (said.cluster_id == 0 && said.membership != NULL)
            said.cluster_id = said.membership->cluster_id;
        report(node, &said, 0);
        return true; /* before anything else: its bindings are another cluster's */
    }
    bool unchecked = false;
#if PLANTED_BUG_wiped_vote_counted /* planted bug (tools/mutants): votes skip identity */
    unchecked = msg->type == CONSENSUS_MSG_VOTE || msg->type == CONSENSUS_MSG_VOTE_RESP;
#endif
    /* The sender holds our id bound to another data dir: we are the stale one. */
    if (!unchecked && msg->to_incarnation != 0 && msg->to_incarnation != node->cfg.incarnation) {
        refuse_self(node, msg->to_incarnation);
        return answer_refused(node, msg);
    }
    int slot = cons_conf_slot(&node->conf, msg->from);
    uint64_t bound = slot >= 0 ? node->conf.members[slot].incarnation : 0;
    if (from_leader(msg)) {
        if (drop_from_leader(node, msg))
            report(node, msg, bound); /* a leader of another cluster */
        return drop_from_leader(node, msg);
    }
    struct progress *pr = node->role == CONSENSUS_LEADER && slot >= 0 ? &node->prs[slot] : NULL;
    if (!unchecked && bound != 0 && msg->incarnation != bound &&
        (msg->incarnation != 0 || !transport_made(msg))) {
        report(node, msg, bound);
        if (pr != NULL && !pr->stale) {
            /* What it acknowledged went with its data dir; nothing from it counts now. */
            cons_progress_lost(pr);
            pr->stale = true;
            pr->recent_active = false;
        }
        return true;
    }
    if (pr != NULL && pr->stale)
        return true; /* the transport's messages from a member found stale in this term */
    if (pr != NULL && msg->incarnation != 0)
        pr->incarnation = msg->incarnation;
    return false;
}

/* The leader binds, in one entry, the cluster id if none and every member it heard from. */
static void maybe_bind(struct consensus_node *node)
{
    if (node->cfg.incarnation == 0 || !cons_conf_may_change(node))
        return;
    struct consensus_membership next = node->conf;
    bool changed = false;
    if (next.cluster_id == 0) {
        while (next.cluster_id == 0)
            next.cluster_id = node->cfg.rand_u64(node->cfg.rand_ctx);
        changed = true;
    }
    for (uint32_t i = 0; i < next.count; i++) {
        struct consensus_member *m = &next.members[i];
        uint64_t heard = node_is_self(node, m->id) ? node->cfg.incarnation : node->prs[i].incarnation;
        if (m->incarnation == 0 && heard != 0) {
            m->incarnation = heard;
            changed = true;
        }
    }
    if (changed)
        cons_conf_append(node, &next); /* BUSY: again after the next input */
}

void cons_ident_after_input(struct consensus_node *node)
{
    /* Our own membership (a snapshot's, the log's) binds our id elsewhere. */
    const struct consensus_member *self = consensus_membership_find(&node->conf, node->cfg.id);
    if (self != NULL && self->incarnation != 0 && self->incarnation != node->cfg.incarnation)
        refuse_self(node, self->incarnation);
    if (!node->self_refused && !node->ready_outstanding)
        maybe_bind(node);
}

bool consensus_self_refused(const struct consensus_node *node, uint64_t *bound)
{
    if (node->self_refused && bound != NULL)
        *bound = node->self_bound;
    return node->self_refused;
}

void cons_ident_invariants(const struct consensus_node *node)
{
    assert(node->stale_out_count <= CONSENSUS_MEMBERS_MAX);
    if (node->self_refused) {
        /* A refused node neither leads nor campaigns, and knows who bound it elsewhere. */
        assert(node->role == CONSENSUS_FOLLOWER);
        assert(node->self_bound != 0 && node->self_bound != node->cfg.incarnation);
    }
    /* A leader never binds a member to 0, nor itself to another incarnation. */
    if (node->role == CONSENSUS_LEADER && node->cfg.incarnation != 0) {
        const struct consensus_member *self = consensus_membership_find(&node->conf, node->cfg.id);
        assert(self == NULL || self->incarnation == 0 ||
               self->incarnation == node->cfg.incarnation);
    }
}
