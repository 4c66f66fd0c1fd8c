/* snapshot.c: sending a follower to the snapshot, and installing one that arrived. */
#include <assert.h>

#include "internal.h"

/*
 * "the leader must occasionally send snapshots to followers that lag behind" (§7). The core
 * only orders the transfer: CONSENSUS_MSG_SNAPSHOT names the snapshot (index, term); the
 * server streams its data and steps the same message into the receiver when it is whole.
 */

void cons_snapshot_send(struct consensus_node *node, uint32_t slot)
{
    assert(node->role == CONSENSUS_LEADER);
    struct progress *pr = &node->prs[slot];
    uint32_t peer = node->conf.members[slot].id;
    assert(pr->state != PROGRESS_SNAPSHOT);
    /* The newest snapshot: at or after the log's start, so the entries after it follow. */
    assert(node->snapshot_index >= node->log.snap_index);
    struct consensus_msg *out = cons_outbox_push(node, CONSENSUS_MSG_SNAPSHOT, peer);
    out->index = node->snapshot_index;
    out->log_term = node->snapshot_term;
    cons_progress_become_snapshot(pr, node->snapshot_index);
}

static void respond(struct consensus_node *node, uint32_t to, bool success)
{
    struct consensus_msg *out = cons_outbox_push(node, CONSENSUS_MSG_SNAPSHOT_RESP, to);
    out->success = success;
    out->index = node->log.commit;
}

void cons_snapshot_handle(struct consensus_node *node, const struct consensus_msg *msg)
{
    assert(node->role == CONSENSUS_FOLLOWER);
    assert(msg->term == node->term);
    node->leader = msg->from;
    node->election_elapsed = 0;
    if (msg->log_term > msg->term) {
        respond(node, msg->from, false);
        return;
    }
    if (msg->index <= node->log.commit) {
        respond(node, msg->from, true); /* we already have it: report how far we are */
        return;
    }
    uint64_t have = 0;
    if (cons_clog_term(&node->log, msg->index, &have) && have == msg->log_term) {
        /* Log matching: our prefix up to index is the snapshot's; just commit it. */
        node->log.commit = msg->index;
        respond(node, msg->from, true);
        return;
    }
    cons_clog_reset(&node->log, msg->index, msg->log_term);
    cons_conf_snapshot(node, msg->membership, msg->index);
    node->snapshot_index = msg->index;
    node->snapshot_term = msg->log_term;
    node->snapshot_apply = true;
    respond(node, msg->from, true);
}

void cons_snapshot_handle_resp(struct consensus_node *node, const struct consensus_msg *msg)
{
    assert(node->role == CONSENSUS_LEADER);
    int slot = cons_conf_slot(&node->conf, msg->from);
    if (slot < 0)
        return;
    struct progress *pr = &node->prs[slot];
    if (!msg->success || msg->index > cons_clog_last_index(&node->log))
        return;
    if (cons_progress_update(pr, msg->index)) {
        cons_progress_inflight_free_to(pr, msg->index);
        cons_replication_maybe_commit(node);
    }
    if (pr->state == PROGRESS_SNAPSHOT && pr->match >= pr->pending_snapshot)
        cons_progress_become_probe(pr);
    node->send_pending = true;
}

void cons_snapshot_invariants(const struct consensus_node *node)
{
    assert(node->log.snap_index <= node->log.commit);
    assert(node->log.snap_term <= node->term);
    assert(node->snapshot_index >= node->log.snap_index);
    assert(node->snapshot_index <= node->log.applied);
    assert(node->snapshot_term <= node->term);
    if (node->snapshot_apply)
        assert(node->log.applied == node->log.snap_index);
    if (node->role == CONSENSUS_LEADER) {
        for (uint32_t i = 0; i < node->conf.count; i++) {
            if (node_is_self(node, node->conf.members[i].id))
                continue;
            const struct progress *pr = &node->prs[i];
            assert(pr->state != PROGRESS_SNAPSHOT || pr->pending_snapshot <= node->snapshot_index);
        }
    }
}
