/* replication.c: the leader's side of log replication: appends, acks, commit by counting. */
#include <assert.h>

#include "internal.h"

/* Entries from next, bounded in count and bytes (one entry may exceed the byte bound). */
static uint32_t batch_count(const struct consensus_node *node, uint64_t next)
{
    uint64_t last = cons_clog_last_index(&node->log);
    uint32_t n = 0;
    uint64_t bytes = 0;
    for (uint64_t i = next; i <= last && n < node->cfg.batch_entries_max; i++) {
        uint32_t len = cons_clog_entry(&node->log, i)->len;
        if (n > 0 && bytes + len > node->cfg.batch_bytes_max)
            break;
        bytes += len;
        n++;
    }
    return n;
}

static void push_append(struct consensus_node *node, uint32_t slot, uint64_t prev, uint32_t n)
{
    struct progress *pr = &node->prs[slot];
    uint32_t peer = node->conf.members[slot].id;
    uint64_t prev_term = 0;
    bool known = cons_clog_term(&node->log, prev, &prev_term);
    assert(known);
    (void)known;
    struct consensus_msg *out = cons_outbox_push(node, CONSENSUS_MSG_APPEND, peer);
    out->prev_index = prev;
    out->prev_term = prev_term;
    out->commit = node->log.commit;
#if PLANTED_BUG_lost_commit /* planted bug (tools/mutants): a heartbeat's commit is lost, yet counted */
    out->commit = n > 0 ? out->commit : 0;
#endif
    out->entry_count = n;
    out->entries = n > 0 ? cons_clog_entry(&node->log, prev + 1) : NULL;
    out->seq = node->hb_seq;
    /* The follower takes min(leader_commit, its last new entry). */
    uint64_t learned = node->log.commit < prev + n ? node->log.commit : prev + n;
    if (learned > pr->commit_sent)
        pr->commit_sent = learned;
}

/* Sends one append to the member in slot if its state allows; true if one was sent. */
static bool send_one(struct consensus_node *node, uint32_t slot)
{
    struct progress *pr = &node->prs[slot];
    if (pr->state == PROGRESS_SNAPSHOT)
        return false;
    if (pr->state == PROGRESS_PROBE && pr->probe_sent)
        return false;
    if (pr->state == PROGRESS_REPLICATE && cons_progress_inflight_full(pr, node->cfg.inflight_max))
        return false;
    if (pr->next <= node->log.snap_index) {
        /* The entries it needs are compacted away: it needs the snapshot. */
        cons_snapshot_send(node, slot);
        return false;
    }
    uint32_t n = batch_count(node, pr->next);
    if (n == 0 && pr->state == PROGRESS_REPLICATE)
        return false;
    push_append(node, slot, pr->next - 1, n);
    if (pr->state == PROGRESS_PROBE) {
        pr->probe_sent = true;
    } else {
        pr->next += n;
        cons_progress_inflight_add(pr, pr->next - 1);
    }
    return true;
}

static bool send_appends(struct consensus_node *node, uint32_t slot)
{
    bool any = false;
    while (send_one(node, slot)) {
        any = true;
        if (node->prs[slot].state != PROGRESS_REPLICATE)
            break;
    }
    return any;
}

static void send_heartbeat(struct consensus_node *node, uint32_t slot)
{
    struct progress *pr = &node->prs[slot];
    if (pr->state == PROGRESS_PROBE) {
        pr->probe_sent = false; /* the probe doubles as the heartbeat */
        return;
    }
    uint64_t prev = pr->match > node->log.snap_index ? pr->match : node->log.snap_index;
    push_append(node, slot, prev, 0);
}

static void send_commit(struct consensus_node *node, uint32_t slot)
{
    struct progress *pr = &node->prs[slot];
    /* Only up to match: the follower's entries beyond it may not be ours. */
    uint64_t commit = node->log.commit < pr->match ? node->log.commit : pr->match;
    if (commit <= pr->commit_sent)
        return;
    struct consensus_msg *out =
        cons_outbox_push(node, CONSENSUS_MSG_COMMIT, node->conf.members[slot].id);
    out->commit = commit;
    pr->commit_sent = commit;
}

void cons_replication_flush(struct consensus_node *node)
{
    assert(node->role == CONSENSUS_LEADER);
    if (!node->hb_pending && !node->send_pending && !node->commit_changed)
        return;
    if (node->hb_pending)
        node->hb_seq++;
    /* Learners too: they are replicated to, only never counted. */
    for (uint32_t i = 0; i < node->conf.count; i++) {
        if (node_is_self(node, node->conf.members[i].id))
            continue;
        if (node->hb_pending)
            send_heartbeat(node, i);
        /* A follower learns the commit from the next append, or else from a notification
         * as soon as the commit passes what it was told (an ack can do that, too). */
        if (!send_appends(node, i))
            send_commit(node, i);
    }
    node->hb_pending = false;
    node->send_pending = false;
    node->commit_changed = false;
}

/* The voters' matches (ours: what is durable here; a leader being removed is not one), by
   match_high for the invariants, else by match. */
static uint32_t voter_matches(const struct consensus_node *node, uint64_t *match, bool high)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < node->conf.count; i++) {
        const struct consensus_member *m = &node->conf.members[i];
        bool counted = m->role == CONSENSUS_MEMBER_VOTER;
#if PLANTED_BUG_learner_counted /* planted bug (tools/mutants): a learner's ack counts */
        counted = counted || n < CONSENSUS_VOTERS_MAX;
#endif
        if (!counted)
            continue;
        if (node_is_self(node, m->id))
            match[n++] = node->log.persisted;
        else if (node->prs[i].stale && !high)
            match[n++] = 0; /* a wiped member's data dir holds nothing it acknowledged */
        else
            match[n++] = high ? node->prs[i].match_high : node->prs[i].match;
    }
    return n;
}

void cons_replication_maybe_commit(struct consensus_node *node)
{
    assert(node->role == CONSENSUS_LEADER);
    uint64_t match[CONSENSUS_VOTERS_MAX];
    uint32_t voters = voter_matches(node, match, false);
    uint64_t q = cons_quorum_commit_index(match, voters);
#if PLANTED_BUG_commit_first_ack /* planted bug (tools/mutants): the first ack commits */
    for (uint32_t i = 0; i < voters; i++) q = match[i] > q ? match[i] : q;
#endif
    if (q <= node->log.commit)
        return;
    /* "Raft never commits log entries from previous terms by counting replicas" (§5.4.2). */
    if (cons_clog_entry(&node->log, q)->term != node->term)
        return;
    for (uint64_t i = node->log.commit + 1; i <= q; i++) {
        const struct consensus_entry *e = cons_clog_entry(&node->log, i);
        if (e->term == node->term) {
            assert(node->uncommitted_bytes >= e->len);
            node->uncommitted_bytes -= e->len;
        }
    }
    node->log.commit = q;
    node->committed_in_term = true;
    node->commit_changed = true;
    cons_read_index_release(node);
}

static void handle_reject(struct consensus_node *node, struct progress *pr,
                          const struct consensus_msg *msg)
{
    if (pr->state == PROGRESS_SNAPSHOT)
        return;
    /* Back up past every term the follower does not share, in one round trip. */
    uint64_t match_guess = msg->hint_index;
    if (msg->hint_index >= node->log.snap_index) {
        uint64_t t = 0;
        match_guess = cons_clog_find_conflict(&node->log, msg->hint_index, msg->hint_term, &t);
        /* Nothing we still hold matches: the follower needs the snapshot (next <= it). */
        if (t > msg->hint_term)
            match_guess = node->log.snap_index - 1;
    }
    /* A follower whose log ends below what it acknowledged lost its disk (restarted with an
       empty data dir): its acknowledgements are gone too, and only probing it from what it
       holds now brings it back; ignored as stale, it stayed behind for the whole term. On a
       network that reorders, an old reject from before it matched more looks the same and
       costs one extra probe. Other rejects from below match are stale. */
    if (msg->index < pr->match)
        cons_progress_lost(pr);
    else if (match_guess < pr->match)
        return;
    cons_progress_become_probe(pr);
    pr->next = match_guess + 1;
    node->send_pending = true;
}

void cons_replication_handle_append_resp(struct consensus_node *node,
                                         const struct consensus_msg *msg)
{
    int slot = cons_conf_slot(&node->conf, msg->from);
    if (slot < 0)
        return; /* from a node no longer (or not yet) a member */
    struct progress *pr = &node->prs[slot];
    if (msg->seq > pr->acked_seq && msg->seq <= node->hb_seq) {
        pr->acked_seq = msg->seq;
        cons_read_index_release(node);
    }
    if (!msg->success) {
        handle_reject(node, pr, msg);
        return;
    }
    if (msg->index > cons_clog_last_index(&node->log))
        return; /* acknowledges entries we never had: a broken peer */
    if (cons_progress_update(pr, msg->index)) {
        cons_progress_inflight_free_to(pr, msg->index);
        if (pr->state == PROGRESS_PROBE)
            cons_progress_become_replicate(pr);
        else if (pr->state == PROGRESS_SNAPSHOT && pr->match >= pr->pending_snapshot)
            cons_progress_become_probe(pr);
        cons_replication_maybe_commit(node);
        node->send_pending = true;
    } else if (pr->state == PROGRESS_REPLICATE && pr->inflight_count == 0 &&
               pr->next > pr->match + 1) {
        /* Nothing in flight, yet the follower lacks what we sent: it was lost. */
        cons_progress_become_probe(pr);
        node->send_pending = true;
    } else if (pr->state == PROGRESS_REPLICATE &&
               cons_progress_inflight_full(pr, node->cfg.inflight_max)) {
        /* A heartbeat came back while the window is full: make room for one batch. */
        cons_progress_inflight_free_first(pr);
        node->send_pending = true;
    }
}

void cons_replication_tick(struct consensus_node *node)
{
    assert(node->role == CONSENSUS_LEADER);
    node->heartbeat_elapsed++;
    if (node->heartbeat_elapsed >= node->cfg.heartbeat_ticks) {
        node->heartbeat_elapsed = 0;
        node->hb_pending = true;
    }
    for (uint32_t i = 0; i < node->conf.count; i++) {
        struct progress *pr = &node->prs[i];
        if (node_is_self(node, node->conf.members[i].id))
            continue;
        bool waiting = pr->state == PROGRESS_SNAPSHOT ||
                       (pr->state == PROGRESS_REPLICATE &&
                        pr->match < cons_clog_last_index(&node->log));
        if (!waiting)
            continue;
        /* Lost batches or a lost snapshot: fall back to probing from match. */
        if (++pr->stall_ticks >= node->cfg.election_ticks) {
            cons_progress_become_probe(pr);
            node->send_pending = true;
        }
    }
}

void cons_replication_invariants(const struct consensus_node *node)
{
    if (node->role != CONSENSUS_LEADER) {
        assert(!node->send_pending);
        assert(!node->hb_pending);
        assert(!node->commit_changed);
        assert(node->uncommitted_bytes == 0);
        return;
    }
    uint64_t last = cons_clog_last_index(&node->log);
    for (uint32_t i = 0; i < node->conf.count; i++) {
        if (node_is_self(node, node->conf.members[i].id))
            continue;
        cons_progress_invariants(&node->prs[i], last, node->cfg.inflight_max);
        assert(node->prs[i].acked_seq <= node->hb_seq);
    }
    uint64_t match[CONSENSUS_VOTERS_MAX];
    uint32_t voters = voter_matches(node, match, true);
    assert(node->uncommitted_bytes <= node->cfg.uncommitted_bytes_max);
    /* Quorum/commit: once the leader commits in its term, a majority acknowledged the commit
       (a follower that lost its disk since then may hold less: cons_progress_lost). */
    if (node->committed_in_term) {
        assert(node->log.commit <= cons_quorum_commit_index(match, voters) ||
               node->conf_index > node->log.commit);
        assert(consensus_term_at(node, node->log.commit) == node->term ||
               node->log.commit == node->log.snap_index);
    }
}
