/* ready.c: the output batch: collecting messages and read states, handing them out, advance. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static void *grow(void *p, size_t *cap, size_t elem)
{
    *cap = *cap == 0 ? 16 : *cap * 2;
    void *q = realloc(p, *cap * elem);
    assert(q != NULL); /* the core aborts on memory exhaustion (see clog.c) */
    if (q == NULL)
        abort();
    return q;
}

struct consensus_msg *cons_outbox_push(struct consensus_node *node, enum consensus_msg_type type,
                                       uint32_t to)
{
    assert(!node->ready_outstanding);
    assert(to != CONSENSUS_NONE);
    assert(!node_is_self(node, to));
    if (node->msg_count == node->msg_cap)
        node->msgs = grow(node->msgs, &node->msg_cap, sizeof *node->msgs);
    struct consensus_msg *m = &node->msgs[node->msg_count++];
    memset(m, 0, sizeof *m);
    m->type = type;
    m->from = node->cfg.id;
    m->to = to;
    m->term = node->term;
    cons_ident_stamp(node, m);
    return m;
}

void cons_outbox_read_state(struct consensus_node *node, uint64_t ctx, uint64_t index, int err)
{
    if (node->read_out_count == node->read_out_cap)
        node->reads = grow(node->reads, &node->read_out_cap, sizeof *node->reads);
    node->reads[node->read_out_count++] = (struct consensus_read_state){ctx, index, err};
}

static bool hard_state_changed(const struct consensus_node *node)
{
    return node->term != node->hs_sent.term || node->vote != node->hs_sent.vote;
}

/* Committed entries may be applied only once durable here: a deferrable batch is not synced
   before it applies, so it applies up to the durable index; any other batch syncs first. */
static uint64_t apply_limit(const struct clog *log)
{
    return log->commit < log->persisted ? log->commit : log->persisted;
}

static bool role_changed(const struct consensus_node *node)
{
    return node->role != node->role_sent || node->term != node->term_sent ||
           node->leader != node->leader_sent;
}

static bool membership_changed(const struct consensus_node *node)
{
    return node->conf_gen != node->conf_gen_sent;
}

bool consensus_has_ready(struct consensus_node *node)
{
    assert(!node->ready_outstanding);
    const struct clog *log = &node->log;
    bool leader_due = node->role == CONSENSUS_LEADER &&
                      (node->send_pending || node->hb_pending || node->commit_changed ||
                       cons_transfer_due(node));
    return node->msg_count > 0 || node->read_out_count > 0 || node->snapshot_apply ||
           log->unstable <= cons_clog_last_index(log) || log->applied < apply_limit(log) ||
           hard_state_changed(node) || role_changed(node) || membership_changed(node) ||
           node->stale_out_count > 0 || node->self_refused != node->self_refused_sent ||
           leader_due;
}

/* Messages that state nothing about our own log or vote, so they may leave while our disk
   write is in flight: a leader's (§10.2.1), and read-index traffic. */
static bool may_send_early(const struct consensus_node *node, const struct consensus_msg *m)
{
    if (hard_state_changed(node))
        return false;
    return m->type == CONSENSUS_MSG_APPEND || m->type == CONSENSUS_MSG_COMMIT ||
           m->type == CONSENSUS_MSG_SNAPSHOT || m->type == CONSENSUS_MSG_READ_INDEX ||
           m->type == CONSENSUS_MSG_READ_INDEX_RESP;
}

/* True when no part of the batch needs its writes durable first (consensus.h, the top). */
static bool sync_may_defer(const struct consensus_node *node)
{
    if (hard_state_changed(node) || node->snapshot_apply)
        return false;
    for (size_t i = 0; i < node->msg_count; i++)
        if (!node->msgs[i].send_before_persist)
            return false;
    return true;
}

void consensus_ready(struct consensus_node *node, struct consensus_ready *rd)
{
    assert(!node->ready_outstanding);
    if (node->role == CONSENSUS_LEADER) {
        cons_replication_flush(node);
        cons_transfer_flush(node);
    }
    struct clog *log = &node->log;
    memset(rd, 0, sizeof *rd);
    rd->hard_state_changed = hard_state_changed(node);
#if PLANTED_BUG_follower_forgets_vote /* planted bug (tools/mutants): a follower's vote is not saved */
    rd->hard_state_changed &= !(node->role == CONSENSUS_FOLLOWER && node->term == node->hs_sent.term);
#endif
    rd->hard_state = (struct consensus_hard_state){node->term, node->vote};
    rd->snapshot_apply = node->snapshot_apply;
    rd->snapshot_index = node->snapshot_index;
    rd->snapshot_term = node->snapshot_term;
    uint64_t last = cons_clog_last_index(log);
    if (log->unstable <= last) {
        rd->entries = cons_clog_entry(log, log->unstable);
        rd->entry_count = (size_t)(last - log->unstable + 1);
    }
    for (size_t i = 0; i < node->msg_count; i++)
        node->msgs[i].send_before_persist = may_send_early(node, &node->msgs[i]);
    rd->sync_may_defer = sync_may_defer(node);
    uint64_t apply_to = rd->sync_may_defer ? apply_limit(log) : log->commit;
    if (log->applied < apply_to) {
        rd->committed = cons_clog_entry(log, log->applied + 1);
        rd->committed_count = (size_t)(apply_to - log->applied);
    }
    rd->msgs = node->msgs;
    rd->msg_count = node->msg_count;
    rd->reads = node->reads;
    rd->read_count = node->read_out_count;
    rd->role_changed = role_changed(node);
    rd->role = node->role;
    rd->term = node->term;
    rd->leader = node->leader;
    rd->membership_changed = membership_changed(node);
    rd->membership = &node->conf;
    rd->stale_members = node->stale_out;
    rd->stale_member_count = node->stale_out_count;
    rd->self_refused = node->self_refused && !node->self_refused_sent;
    node->ready_entries_last = last;
    node->ready_committed_last = apply_to;
    node->ready_may_defer = rd->sync_may_defer;
    node->ready_outstanding = true;
}

static void advance(struct consensus_node *node, const struct consensus_ready *rd, bool synced)
{
    assert(node->ready_outstanding);
    assert(synced || node->ready_may_defer);
    assert(rd->sync_may_defer == node->ready_may_defer);
    struct clog *log = &node->log;
    /* Nothing may change the log between ready and advance. */
    assert(cons_clog_last_index(log) == node->ready_entries_last);
    if (rd->entry_count > 0) {
        assert(rd->entries[0].index == log->unstable);
        log->unstable = node->ready_entries_last + 1;
    }
    assert(log->unstable == node->ready_entries_last + 1);
    /* Synced: everything handed out so far is durable, earlier unsynced batches included. */
    if (synced)
        log->persisted = node->ready_entries_last;
    /* A deferred batch applied only what was durable already. */
    assert(node->ready_committed_last <= log->persisted);
    log->applied = node->ready_committed_last;
    node->hs_sent = rd->hard_state;
    node->role_sent = rd->role;
    node->term_sent = rd->term;
    node->leader_sent = rd->leader;
    if (rd->membership_changed)
        node->conf_gen_sent = node->conf_gen;
    node->snapshot_apply = false;
    node->stale_out_count = 0;
    node->self_refused_sent = node->self_refused_sent || rd->self_refused;
    node->msg_count = 0;
    node->read_out_count = 0;
    node->ready_outstanding = false;
    /* Our own log is durable now: it counts toward the commit (§10.2.1). */
    if (synced && node->role == CONSENSUS_LEADER)
        cons_replication_maybe_commit(node);
    cons_conf_maybe_step_down(node);
}

void consensus_advance(struct consensus_node *node, const struct consensus_ready *rd)
{
    advance(node, rd, true);
}

void consensus_advance_unsynced(struct consensus_node *node, const struct consensus_ready *rd)
{
    advance(node, rd, false);
}
