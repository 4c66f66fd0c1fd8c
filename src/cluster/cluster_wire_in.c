/* cluster_wire_in.c: peer requests and replies off the wire, checked, as consensus messages. */
#include "cluster_wire.h"

#include "cluster.h"

#include <stdlib.h>
#include <string.h>

int cluster_id_parse(const tp_bytes *s, uint32_t node_count, uint32_t *out)
{
    if (s->len == 0 || s->len > CLUSTER_ID_TEXT_MAX - 1 || !s->data)
        return CLUSTER_ERR_INVALID;
    uint64_t v = 0;
    for (uint32_t i = 0; i < s->len; i++) {
        if (s->data[i] < '0' || s->data[i] > '9')
            return CLUSTER_ERR_INVALID;
        v = v * 10 + (uint32_t)(s->data[i] - '0');
    }
    if ((s->len > 1 && s->data[0] == '0') || v >= node_count)
        return CLUSTER_ERR_INVALID;
    *out = (uint32_t)v;
    return 0;
}

/* A claimed sender id must be the authenticated one. */
static bool sender_ok(const tp_bytes *id, uint32_t from, uint32_t node_count)
{
    uint32_t v;
    return cluster_id_parse(id, node_count, &v) == 0 && v == from;
}

static bool nonneg(int64_t v) { return v >= 0; }

/* Member identity (consensus.h): any 64-bit pattern; unset is 0 (a peer with identity off). */
#define IDENT_IN(r, m)                                                                         \
    do {                                                                                       \
        (m)->incarnation = (r)->has_incarnation ? (uint64_t)(r)->incarnation : 0;              \
        (m)->cluster_id = (r)->has_cluster_id ? (uint64_t)(r)->cluster_id : 0;                 \
        (m)->to_incarnation = (r)->has_to_incarnation ? (uint64_t)(r)->to_incarnation : 0;     \
    } while (0)

static int check_entry(const ConsensusLogEntry *w, uint64_t want_index, uint64_t *prev_term,
                       uint64_t leader_term, uint32_t entry_bytes_max,
                       struct consensus_entry *out)
{
    if (w->index < 0 || (uint64_t)w->index != want_index || w->term < 1 ||
        (uint64_t)w->term < *prev_term || (uint64_t)w->term > leader_term ||
        (w->data.len > 0 && !w->data.data))
        return CLUSTER_ERR_INVALID;
    /* A config entry may pass the bound: the core decodes it (consensus.h, Membership). */
    if (w->data.len > entry_bytes_max &&
        (w->data.len > CONSENSUS_MEMBERSHIP_BYTES_MAX ||
         !consensus_membership_is_config(w->data.data, w->data.len)))
        return CLUSTER_ERR_INVALID;
    *prev_term = (uint64_t)w->term;
    out->index = want_index;
    out->term = (uint64_t)w->term;
    out->len = w->data.len;
    out->data = w->data.data;
    return 0;
}

static int append_in(const AppendEntryRequest *r, uint32_t entry_bytes_max,
                     struct cluster_wire_in *in)
{
    struct consensus_msg *m = &in->msg;
    if (r->leader_term < 1 || !nonneg(r->prev_log_index) || !nonneg(r->prev_log_term) ||
        r->prev_log_term > r->leader_term ||
        (r->has_leader_commit && !nonneg(r->leader_commit)) ||
        (r->has_heartbeat_seq && !nonneg(r->heartbeat_seq)))
        return CLUSTER_ERR_INVALID;
    uint64_t count = (r->has_entry ? 1u : 0u) + (r->has_entries ? r->entries.count : 0u);
    if (count > CLUSTER_WIRE_ENTRIES_MAX)
        return CLUSTER_ERR_INVALID;
    m->type = CONSENSUS_MSG_APPEND;
    m->term = (uint64_t)r->leader_term;
    m->prev_index = (uint64_t)r->prev_log_index;
    m->prev_term = (uint64_t)r->prev_log_term;
    m->commit = r->has_leader_commit ? (uint64_t)r->leader_commit : 0;
    m->seq = r->has_heartbeat_seq ? (uint64_t)r->heartbeat_seq : 0;
    IDENT_IN(r, m);
    if (count == 0)
        return 0;
    in->entries = calloc(count, sizeof *in->entries);
    if (!in->entries)
        return CLUSTER_ERR_NOMEM;
    uint64_t prev_term = m->prev_term;
    uint32_t k = 0;
    if (r->has_entry && check_entry(&r->entry, m->prev_index + 1, &prev_term, m->term,
                                    entry_bytes_max, &in->entries[k++]) != 0)
        return CLUSTER_ERR_INVALID;
    for (uint32_t i = 0; r->has_entries && i < r->entries.count; i++, k++)
        if (check_entry(&r->entries.items[i], m->prev_index + 1 + k, &prev_term, m->term,
                        entry_bytes_max, &in->entries[k]) != 0)
            return CLUSTER_ERR_INVALID;
    m->entries = in->entries;
    m->entry_count = (uint32_t)count;
    return 0;
}

static int request_fields(int method, const void *request, uint32_t from, uint32_t node_count,
                          uint32_t entry_bytes_max, struct cluster_wire_in *in)
{
    struct consensus_msg *m = &in->msg;
    switch (method) {
    case TransactionalKV_METHOD_appendEntry: {
        const AppendEntryRequest *r = request;
        if (!sender_ok(&r->leader_id, from, node_count))
            return CLUSTER_ERR_INVALID;
        return append_in(r, entry_bytes_max, in);
    }
    case TransactionalKV_METHOD_commitNotification: {
        const CommitNotificationRequest *r = request;
        if (!sender_ok(&r->leader_id, from, node_count) || r->leader_term < 1 ||
            !nonneg(r->commit_index))
            return CLUSTER_ERR_INVALID;
        m->type = CONSENSUS_MSG_COMMIT;
        m->term = (uint64_t)r->leader_term;
        m->commit = (uint64_t)r->commit_index;
        IDENT_IN(r, m);
        return 0;
    }
    case TransactionalKV_METHOD_requestVote: {
        const RequestVoteRequest *r = request;
        if (!sender_ok(&r->candidate_id, from, node_count) || r->term < 1 ||
            !nonneg(r->last_log_index) || !nonneg(r->last_log_term) ||
            r->last_log_term > r->term)
            return CLUSTER_ERR_INVALID;
        m->type = CONSENSUS_MSG_VOTE;
        m->term = (uint64_t)r->term;
        m->index = (uint64_t)r->last_log_index;
        m->log_term = (uint64_t)r->last_log_term;
        m->pre_vote = r->has_pre_vote && r->pre_vote;
        m->transfer = r->has_leadership_transfer && r->leadership_transfer;
        IDENT_IN(r, m);
        return 0;
    }
    case TransactionalKV_METHOD_timeoutNow: {
        const TimeoutNowRequest *r = request;
        if (!sender_ok(&r->leader_id, from, node_count) || r->leader_term < 1)
            return CLUSTER_ERR_INVALID;
        m->type = CONSENSUS_MSG_TIMEOUT_NOW;
        m->term = (uint64_t)r->leader_term;
        IDENT_IN(r, m);
        return 0;
    }
    case TransactionalKV_METHOD_readIndex: {
        const ReadIndexRequest *r = request;
        if (!sender_ok(&r->node_id, from, node_count))
            return CLUSTER_ERR_INVALID;
        m->type = CONSENSUS_MSG_READ_INDEX;
        IDENT_IN(r, m);
        return 0;
    }
    default:
        return CLUSTER_ERR_INVALID;
    }
}

int cluster_wire_request_in(int method, const void *request, uint32_t from, uint32_t self,
                            uint32_t node_count, uint32_t entry_bytes_max,
                            struct cluster_wire_in *out)
{
    memset(out, 0, sizeof *out);
    if (from >= node_count || from == self)
        return CLUSTER_ERR_INVALID;
    out->msg.from = from;
    out->msg.to = self;
    int rc = request_fields(method, request, from, node_count, entry_bytes_max, out);
    if (rc != 0)
        cluster_wire_in_release(out);
    return rc;
}

void cluster_wire_in_release(struct cluster_wire_in *in)
{
    free(in->entries);
    memset(in, 0, sizeof *in);
}

static int read_index_err(const ReadIndexResponse *r)
{
    if (r->has_error_code && r->error_code == ErrorCode_BUSY)
        return CONSENSUS_ERR_BUSY;
    if (r->has_error_code && r->error_code == ErrorCode_NOT_LEADER)
        return CONSENSUS_ERR_NOT_LEADER;
    return CONSENSUS_ERR_NO_LEADER;
}

static int response_fields(int method, const void *response, uint32_t peer, uint32_t node_count,
                           struct consensus_msg *m)
{
    switch (method) {
    case TransactionalKV_METHOD_appendEntry: {
        const AppendEntryResponse *r = response;
        if (!sender_ok(&r->node_id, peer, node_count) || !r->has_term || !nonneg(r->term) ||
            !nonneg(r->index) || (r->has_reject_hint_index && !nonneg(r->reject_hint_index)) ||
            (r->has_reject_hint_term && !nonneg(r->reject_hint_term)) ||
            (r->has_heartbeat_seq && !nonneg(r->heartbeat_seq)))
            return CLUSTER_ERR_INVALID;
        m->type = CONSENSUS_MSG_APPEND_RESP;
        m->term = (uint64_t)r->term;
        m->success = r->success;
        m->index = (uint64_t)r->index;
        m->hint_index = r->has_reject_hint_index ? (uint64_t)r->reject_hint_index : 0;
        m->hint_term = r->has_reject_hint_term ? (uint64_t)r->reject_hint_term : 0;
        m->seq = r->has_heartbeat_seq ? (uint64_t)r->heartbeat_seq : 0;
        IDENT_IN(r, m);
        return 0;
    }
    case TransactionalKV_METHOD_commitNotification: {
        const CommitNotificationResponse *r = response;
        if (!r->has_term || !nonneg(r->term))
            return CLUSTER_ERR_INVALID;
        m->type = CONSENSUS_MSG_COMMIT_RESP;
        m->term = (uint64_t)r->term;
        m->success = r->success;
        IDENT_IN(r, m);
        return 0;
    }
    case TransactionalKV_METHOD_requestVote: {
        const RequestVoteResponse *r = response;
        if (!sender_ok(&r->node_id, peer, node_count) || !nonneg(r->term))
            return CLUSTER_ERR_INVALID;
        m->type = CONSENSUS_MSG_VOTE_RESP;
        m->term = (uint64_t)r->term;
        m->success = r->vote_granted;
        m->pre_vote = r->has_pre_vote && r->pre_vote;
        IDENT_IN(r, m);
        return 0;
    }
    case TransactionalKV_METHOD_readIndex: {
        const ReadIndexResponse *r = response;
        if (!nonneg(r->read_index))
            return CLUSTER_ERR_INVALID;
        m->type = CONSENSUS_MSG_READ_INDEX_RESP;
        m->success = r->success;
        m->index = (uint64_t)r->read_index;
        m->err = r->success ? 0 : read_index_err(r);
        IDENT_IN(r, m);
        return 0;
    }
    default:
        return CLUSTER_ERR_INVALID;
    }
}

int cluster_wire_response_in(int method, const void *response, uint32_t peer, uint32_t self,
                             uint32_t node_count, uint64_t tag, struct consensus_msg *out)
{
    memset(out, 0, sizeof *out);
    if (peer >= node_count || peer == self)
        return CLUSTER_ERR_INVALID;
    out->from = peer;
    out->to = self;
    int rc = response_fields(method, response, peer, node_count, out);
    if (rc == 0 && out->type == CONSENSUS_MSG_READ_INDEX_RESP)
        out->seq = tag;
    return rc;
}
