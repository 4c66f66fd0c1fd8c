/* follow.c: the follower's side of replication: the log matching check, appends, commit. */
#include <assert.h>

#include "internal.h"

/* Caps what one message may carry, whatever the sender's config says. */
#define FOLLOW_ENTRIES_PER_MSG_MAX (1u << 20)

int cons_follow_validate_append(const struct consensus_node *node, const struct consensus_msg *msg)
{
    if (msg->entry_count > FOLLOW_ENTRIES_PER_MSG_MAX)
        return CONSENSUS_ERR_INVALID;
    if (msg->entry_count > 0 && msg->entries == NULL)
        return CONSENSUS_ERR_INVALID;
    if (msg->prev_term > msg->term)
        return CONSENSUS_ERR_INVALID;
    uint64_t prev_term = msg->prev_term;
    for (uint32_t i = 0; i < msg->entry_count; i++) {
        const struct consensus_entry *e = &msg->entries[i];
        if (e->index != msg->prev_index + 1 + i || e->term < prev_term || e->term > msg->term)
            return CONSENSUS_ERR_INVALID;
        if (!cons_entry_ok(node->cfg.entry_bytes_max, e->data, e->len))
            return CONSENSUS_ERR_INVALID;
        prev_term = e->term;
    }
    return 0;
}

static void reject(struct consensus_node *node, const struct consensus_msg *msg)
{
    struct consensus_msg *out = cons_outbox_push(node, CONSENSUS_MSG_APPEND_RESP, msg->from);
    out->success = false;
    out->seq = msg->seq;
    out->index = cons_clog_last_index(&node->log);
    out->hint_index = cons_clog_find_conflict(&node->log, msg->prev_index, msg->prev_term,
                                              &out->hint_term);
}

/* The first entry of msg that is not already in our log, or entry_count if none. */
static uint32_t first_new(const struct consensus_node *node, const struct consensus_msg *msg,
                          uint32_t from)
{
    uint64_t last = cons_clog_last_index(&node->log);
    for (uint32_t i = from; i < msg->entry_count; i++) {
        const struct consensus_entry *e = &msg->entries[i];
        if (e->index > last || cons_clog_entry(&node->log, e->index)->term != e->term)
            return i;
    }
    return msg->entry_count;
}

int cons_follow_handle_append(struct consensus_node *node, const struct consensus_msg *msg)
{
    assert(node->role == CONSENSUS_FOLLOWER);
    assert(msg->term == node->term);
    node->leader = msg->from;
    node->election_elapsed = 0;
    /* Entries at or below our commit are committed: the same everywhere. Skip them. */
    uint32_t skip = 0;
    uint64_t prev = msg->prev_index;
    uint64_t prev_term = msg->prev_term;
    if (prev < node->log.commit) {
        skip = node->log.commit - prev < msg->entry_count ? (uint32_t)(node->log.commit - prev)
                                                          : msg->entry_count;
        prev += skip;
        prev_term = skip > 0 ? msg->entries[skip - 1].term : prev_term;
        if (prev < node->log.commit) {
            prev = node->log.commit; /* the whole message is below our commit */
            bool ok = cons_clog_term(&node->log, prev, &prev_term);
            assert(ok);
            (void)ok;
        }
    }
    uint64_t have = 0;
#if PLANTED_BUG_match_off_by_one /* planted bug (tools/mutants): matches the entry before prev */
    prev -= prev > node->log.commit;
#endif
    /* "Reply false if log doesn't contain an entry at prevLogIndex whose term matches
     * prevLogTerm" (Figure 2). */
    if (!cons_clog_term(&node->log, prev, &have) || have != prev_term) {
        reject(node, msg);
        return 0;
    }
    uint32_t i = first_new(node, msg, skip);
    if (i < msg->entry_count && msg->entries[i].index <= node->log.commit)
        return CONSENSUS_ERR_INVALID; /* would rewrite a committed entry: a broken leader */
    if (i < msg->entry_count) {
        cons_clog_truncate(&node->log, msg->entries[i].index);
        cons_conf_truncated(node, msg->entries[i].index);
    }
    uint64_t appended_after = cons_clog_last_index(&node->log);
    for (; i < msg->entry_count; i++)
        cons_clog_append(&node->log, msg->entries[i].term, msg->entries[i].data,
                         msg->entries[i].len);
    cons_conf_appended(node, appended_after);
    uint64_t last_new = msg->prev_index + msg->entry_count;
    if (last_new < prev)
        last_new = prev;
    uint64_t commit = msg->commit < last_new ? msg->commit : last_new;
    if (commit > node->log.commit)
        node->log.commit = commit;
    struct consensus_msg *out = cons_outbox_push(node, CONSENSUS_MSG_APPEND_RESP, msg->from);
    out->success = true;
    out->seq = msg->seq;
    out->index = last_new;
    return 0;
}

void cons_follow_handle_commit(struct consensus_node *node, const struct consensus_msg *msg)
{
    assert(node->role == CONSENSUS_FOLLOWER);
    assert(msg->term == node->term);
    node->leader = msg->from;
    node->election_elapsed = 0;
    /* The leader sends at most what it knows we match, so our log holds it. */
    uint64_t last = cons_clog_last_index(&node->log);
    uint64_t commit = msg->commit < last ? msg->commit : last;
    if (commit > node->log.commit)
        node->log.commit = commit;
    struct consensus_msg *out = cons_outbox_push(node, CONSENSUS_MSG_COMMIT_RESP, msg->from);
    out->success = true;
}
