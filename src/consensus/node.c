/* node.c: a core's construction, its inputs (step, tick, propose, compact, persisted), getters. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

_Static_assert(CONSENSUS_VOTERS_MAX <= 7, "quorum arithmetic is sized for 7 voters");

void consensus_config_default(struct consensus_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->node_count = 1;
    cfg->election_ticks = 10;
    cfg->heartbeat_ticks = 1;
    cfg->inflight_max = 8;
    cfg->batch_entries_max = 64;
    cfg->batch_bytes_max = 256 * 1024;
    cfg->entry_bytes_max = 1024 * 1024;
    cfg->uncommitted_bytes_max = 8 * 1024 * 1024;
    cfg->read_pending_max = 1024;
    cfg->promote_lag_max = 1024;
}

static bool config_valid(const struct consensus_config *c)
{
    return c->node_count <= CONSENSUS_VOTERS_MAX && c->id != CONSENSUS_NONE &&
           c->election_ticks >= 2 &&
           c->heartbeat_ticks >= 1 && c->heartbeat_ticks < c->election_ticks &&
           c->inflight_max >= 1 && c->inflight_max <= CONSENSUS_INFLIGHT_MAX &&
           c->batch_entries_max >= 1 && c->batch_bytes_max >= 1 && c->entry_bytes_max >= 1 &&
           c->uncommitted_bytes_max >= c->entry_bytes_max && c->read_pending_max >= 1 &&
           c->read_pending_max <= CONSENSUS_READ_PENDING_MAX && c->rand_u64 != NULL;
}

/* The restored snapshot lies in the log: at its start, or on an entry of its term. */
static bool applied_valid(const struct consensus_restore *r)
{
    if (r->applied_index == 0 || r->applied_index == r->snapshot_index)
        return r->applied_index == 0 || r->applied_term == r->snapshot_term;
    if (r->applied_index < r->snapshot_index ||
        r->applied_index > r->snapshot_index + r->entry_count)
        return false;
    return r->entries[r->applied_index - r->snapshot_index - 1].term == r->applied_term;
}

/* A payload the core takes in a log entry: within entry_bytes_max, or a config entry. */
bool cons_entry_ok(uint32_t entry_bytes_max, const uint8_t *data, uint32_t len)
{
    if (len > 0 && data == NULL)
        return false;
    if (consensus_membership_is_config(data, len)) {
        struct consensus_membership m;
        return consensus_membership_decode(data, len, &m) == 0;
    }
    return len <= entry_bytes_max;
}

static bool restore_valid(const struct consensus_config *c, const struct consensus_restore *r)
{
    if (r->membership == NULL ? c->node_count == 0
                              : consensus_membership_check(r->membership) != 0)
        return false;
    if (r->snapshot_term > r->hard_state.term)
        return false;
    uint64_t prev_term = r->snapshot_term;
    for (size_t i = 0; i < r->entry_count; i++) {
        const struct consensus_entry *e = &r->entries[i];
        if (e->index != r->snapshot_index + 1 + i || e->term < prev_term ||
            e->term > r->hard_state.term || !cons_entry_ok(c->entry_bytes_max, e->data, e->len))
            return false;
        prev_term = e->term;
    }
    return applied_valid(r);
}

int consensus_new(const struct consensus_config *cfg, const struct consensus_restore *restore,
                  struct consensus_node **out)
{
    if (!config_valid(cfg) || !restore_valid(cfg, restore))
        return CONSENSUS_ERR_INVALID;
    struct consensus_node *node = calloc(1, sizeof *node);
    assert(node != NULL);
    if (node == NULL)
        abort();
    node->cfg = *cfg;
    node->term = restore->hard_state.term;
    node->vote = restore->hard_state.vote;
    node->hs_sent = restore->hard_state;
    cons_clog_init(&node->log, restore->snapshot_index, restore->snapshot_term);
    for (size_t i = 0; i < restore->entry_count; i++) {
        const struct consensus_entry *e = &restore->entries[i];
        cons_clog_append(&node->log, e->term, e->data, e->len);
    }
    /* What we restored is durable already; what the snapshot holds is applied. */
    node->log.persisted = cons_clog_last_index(&node->log);
    node->log.unstable = node->log.persisted + 1;
    node->snapshot_index = restore->snapshot_index;
    node->snapshot_term = restore->snapshot_term;
    if (restore->applied_index > restore->snapshot_index) {
        node->snapshot_index = restore->applied_index;
        node->snapshot_term = restore->applied_term;
        node->log.commit = node->log.applied = restore->applied_index;
    }
    struct consensus_membership boot;
    if (restore->membership == NULL)
        consensus_membership_bootstrap(&boot, cfg->node_count);
    uint64_t base = restore->applied_index > restore->snapshot_index ? restore->applied_index
                                                                     : restore->snapshot_index;
    cons_conf_init(node, restore->membership ? restore->membership : &boot, base);
    node->conf_gen_sent = node->conf_gen;
    node->read_queue = calloc(cfg->read_pending_max, sizeof *node->read_queue);
    node->fwd_queue = calloc(cfg->read_pending_max, sizeof *node->fwd_queue);
    assert(node->read_queue != NULL);
    assert(node->fwd_queue != NULL);
    if (node->read_queue == NULL || node->fwd_queue == NULL)
        abort();
    cons_role_become_follower(node, node->term, CONSENSUS_NONE);
    node->role_sent = node->role;
    node->term_sent = node->term;
    node->leader_sent = node->leader;
    cons_ident_after_input(node); /* a restored membership may bind our id elsewhere */
    *out = node;
    return 0;
}

void consensus_free(struct consensus_node *node)
{
    if (node == NULL)
        return;
    cons_clog_free(&node->log);
    free(node->read_queue);
    free(node->fwd_queue);
    free(node->msgs);
    free(node->reads);
    free(node);
}

/* The end of every input: a leader whose removal committed steps down, then every check. */
static void invariants(struct consensus_node *node)
{
    cons_conf_maybe_step_down(node);
    cons_ident_after_input(node);
    assert(node->cfg.id != CONSENSUS_NONE);
    cons_clog_invariants(&node->log, node->term);
    cons_conf_invariants(node);
    cons_election_invariants(node);
    cons_replication_invariants(node);
    cons_read_index_invariants(node);
    cons_snapshot_invariants(node);
    cons_transfer_invariants(node);
    cons_ident_invariants(node);
    for (size_t i = 0; i < node->msg_count; i++) {
        assert(node->msgs[i].from == node->cfg.id);
        assert(node->msgs[i].to != CONSENSUS_NONE);
        assert(node->msgs[i].to != node->cfg.id);
    }
}

void consensus_tick(struct consensus_node *node)
{
    assert(!node->ready_outstanding);
    cons_read_index_tick(node);
    node->tick_role(node);
    invariants(node);
}

static int validate(const struct consensus_node *node, const struct consensus_msg *msg)
{
    if ((unsigned)msg->type >= CONSENSUS_MSG_TYPE_COUNT)
        return CONSENSUS_ERR_INVALID;
    /* Any id but ours: a node learns of members from its log, so a new node hears from a
       leader it does not know yet; each role ignores what non-members cannot ask. */
    if (msg->from == CONSENSUS_NONE || node_is_self(node, msg->from))
        return CONSENSUS_ERR_INVALID;
    if (msg->membership != NULL && consensus_membership_check(msg->membership) != 0)
        return CONSENSUS_ERR_INVALID;
    if (msg->to != node->cfg.id)
        return CONSENSUS_ERR_INVALID;
    if (msg->type == CONSENSUS_MSG_APPEND)
        return cons_follow_validate_append(node, msg);
    if (msg->entry_count != 0)
        return CONSENSUS_ERR_INVALID;
    return 0;
}

int consensus_step(struct consensus_node *node, const struct consensus_msg *msg)
{
    assert(!node->ready_outstanding);
    int err = validate(node, msg);
    if (err != 0)
        return err;
    if (cons_ident_drop(node, msg)) {
        /* identity.c: a stale member's, another cluster's, or we are the stale one */
    } else if (msg->type == CONSENSUS_MSG_READ_INDEX || msg->type == CONSENSUS_MSG_READ_INDEX_RESP) {
        cons_read_index_handle(node, msg);
    } else if (cons_election_step_term(node, msg) == 0) {
        err = node->step_role(node, msg);
    }
    invariants(node);
    return err;
}

int consensus_propose(struct consensus_node *node, const void *data, uint32_t len,
                      uint64_t *index_out)
{
    assert(!node->ready_outstanding);
    if (node->role != CONSENSUS_LEADER)
        return CONSENSUS_ERR_NOT_LEADER;
    if (node->transfer_target != CONSENSUS_NONE)
        return CONSENSUS_ERR_TRANSFERRING; /* transfer.c says why */
    if (len == 0 || data == NULL || consensus_membership_is_config(data, len))
        return CONSENSUS_ERR_INVALID; /* config entries come from consensus_propose_change */
    if (len > node->cfg.entry_bytes_max)
        return CONSENSUS_ERR_TOO_LARGE;
    if (node->uncommitted_bytes + len > node->cfg.uncommitted_bytes_max)
        return CONSENSUS_ERR_BUSY;
    cons_clog_append(&node->log, node->term, data, len);
    node->uncommitted_bytes += len;
    node->send_pending = true;
    *index_out = cons_clog_last_index(&node->log);
    invariants(node);
    return 0;
}

int consensus_read_index(struct consensus_node *node, uint64_t ctx)
{
    assert(!node->ready_outstanding);
    int err = cons_read_index_request(node, node->cfg.id, ctx);
    invariants(node);
    return err;
}

int consensus_compact(struct consensus_node *node, uint64_t index, uint64_t term)
{
    assert(!node->ready_outstanding);
    if (index <= node->snapshot_index)
        return CONSENSUS_ERR_STALE;
    if (index > node->log.applied)
        return CONSENSUS_ERR_INVALID;
    uint64_t have = 0;
    if (!cons_clog_term(&node->log, index, &have) || have != term)
        return CONSENSUS_ERR_INVALID;
    node->snapshot_index = index;
    node->snapshot_term = term;
    /* Keep a tail, so a follower a little behind is fed from the log. */
    uint64_t keep = node->cfg.snapshot_catchup_entries;
    uint64_t to = index > keep ? index - keep : 0;
    if (to > node->log.snap_index) {
        cons_conf_compacting(node, to);
        bool ok = cons_clog_term(&node->log, to, &have);
        assert(ok);
        (void)ok;
        cons_clog_compact(&node->log, to, have);
    }
    invariants(node);
    return 0;
}

void consensus_release(struct consensus_node *node, uint64_t index)
{
    assert(!node->ready_outstanding);
    assert(index <= node->log.applied);
    cons_conf_compacting(node, index); /* a config entry's payload is about to go */
    cons_clog_release(&node->log, index);
    invariants(node);
}

void consensus_snapshot_progress(struct consensus_node *node, uint32_t peer, uint64_t index)
{
    assert(!node->ready_outstanding);
    int slot = cons_conf_slot(&node->conf, peer);
    if (node->role != CONSENSUS_LEADER || slot < 0 || node_is_self(node, peer))
        return;
    struct progress *pr = &node->prs[slot];
    if (pr->state != PROGRESS_SNAPSHOT || pr->pending_snapshot != index)
        return;
    /* The transfer moves: it is not stalled, and the follower is alive. */
    pr->stall_ticks = 0;
    pr->recent_active = true;
}

bool consensus_snapshot_accepted(const struct consensus_node *node)
{
    return node->snapshot_apply;
}

void consensus_persisted(struct consensus_node *node, uint64_t index)
{
    assert(!node->ready_outstanding);
    struct clog *log = &node->log;
    /* Past what we handed out, storage may still hold a suffix we have since truncated (its
       own cut comes with the next batch): only our prefix below unstable is the same. */
    uint64_t handed_out = log->unstable - 1;
    uint64_t durable = index < handed_out ? index : handed_out;
    if (durable <= log->persisted)
        return; /* stale or repeated */
    log->persisted = durable;
    if (node->role == CONSENSUS_LEADER)
        cons_replication_maybe_commit(node); /* our own log counts now (§10.2.1) */
    invariants(node);
}

uint32_t consensus_id(const struct consensus_node *node) { return node->cfg.id; }
enum consensus_role consensus_role(const struct consensus_node *node) { return node->role; }
uint64_t consensus_term(const struct consensus_node *node) { return node->term; }
uint32_t consensus_leader(const struct consensus_node *node) { return node->leader; }
uint64_t consensus_commit_index(const struct consensus_node *node) { return node->log.commit; }
uint64_t consensus_applied_index(const struct consensus_node *node) { return node->log.applied; }
uint64_t consensus_last_index(const struct consensus_node *node)
{
    return cons_clog_last_index(&node->log);
}
uint64_t consensus_first_index(const struct consensus_node *node)
{
    return node->log.snap_index + 1;
}

uint64_t consensus_term_at(const struct consensus_node *node, uint64_t index)
{
    uint64_t term = 0;
    if (!cons_clog_term(&node->log, index, &term))
        return 0;
    return term;
}

uint64_t consensus_match_index(const struct consensus_node *node, uint32_t peer)
{
    int slot = cons_conf_slot(&node->conf, peer);
    if (node->role != CONSENSUS_LEADER || slot < 0)
        return 0;
    if (node_is_self(node, peer))
        return node->log.persisted;
    return node->prs[slot].match;
}

uint64_t consensus_snapshot_index(const struct consensus_node *node)
{
    return node->snapshot_index;
}

_Static_assert((int)CONSENSUS_PROGRESS_PROBE == (int)PROGRESS_PROBE &&
                   (int)CONSENSUS_PROGRESS_REPLICATE == (int)PROGRESS_REPLICATE &&
                   (int)CONSENSUS_PROGRESS_SNAPSHOT == (int)PROGRESS_SNAPSHOT,
               "progress states are numbered alike");

bool consensus_peer_progress(const struct consensus_node *node, uint32_t peer,
                             struct consensus_peer_progress *out)
{
    int slot = cons_conf_slot(&node->conf, peer);
    if (node->role != CONSENSUS_LEADER || slot < 0 || node_is_self(node, peer))
        return false;
    const struct progress *pr = &node->prs[slot];
    *out = (struct consensus_peer_progress){.state = (enum consensus_progress_state)pr->state,
                                            .match = pr->match, .next = pr->next,
                                            .snapshot = pr->pending_snapshot};
    return true;
}
