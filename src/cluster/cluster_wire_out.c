/* cluster_wire_out.c: what the core sends, as the IDL's peer requests and responses. */
#include "cluster_wire.h"

#include "cluster.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cluster_id_format(uint32_t id, char out[CLUSTER_ID_TEXT_MAX])
{
    assert(id != CONSENSUS_NONE);
    snprintf(out, CLUSTER_ID_TEXT_MAX, "%u", id);
}

int cluster_id_set(tp_bytes *b, uint32_t id)
{
    char text[CLUSTER_ID_TEXT_MAX];
    cluster_id_format(id, text);
    return tp_bytes_set_str(b, text) == 0 ? 0 : CLUSTER_ERR_NOMEM;
}

/* Terms and indexes are uint64 in the core and i64 on the wire; the core never nears 2^63. */
static int64_t wire_u64(uint64_t v)
{
    assert(v <= (uint64_t)INT64_MAX);
    return (int64_t)v;
}

/* Member identity (consensus.h): set only when non-zero, so a node with identity off sends
   the bytes it always did. The values are bit patterns: i64 on the wire. */
#define IDENT_OUT(r, m)                                                                        \
    do {                                                                                       \
        (r)->has_incarnation = (m)->incarnation != 0;                                          \
        (r)->incarnation = (int64_t)(m)->incarnation;                                          \
        (r)->has_cluster_id = (m)->cluster_id != 0;                                            \
        (r)->cluster_id = (int64_t)(m)->cluster_id;                                            \
        (r)->has_to_incarnation = (m)->to_incarnation != 0;                                    \
        (r)->to_incarnation = (int64_t)(m)->to_incarnation;                                    \
    } while (0)

/* The server's entries start with its clock (8 bytes, big-endian microseconds). */
static int64_t entry_timestamp(const struct consensus_entry *e)
{
    if (e->len < 8)
        return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | e->data[i];
    return (int64_t)v;
}

static int append_out(const struct consensus_msg *m, AppendEntryRequest *r)
{
    if (cluster_id_set(&r->leader_id, m->from) != 0)
        return CLUSTER_ERR_NOMEM;
    r->prev_log_index = wire_u64(m->prev_index);
    r->prev_log_term = wire_u64(m->prev_term);
    r->leader_term = wire_u64(m->term);
    r->has_leader_commit = true;
    r->leader_commit = wire_u64(m->commit);
    r->has_heartbeat_seq = true;
    r->heartbeat_seq = wire_u64(m->seq);
    IDENT_OUT(r, m);
    r->has_entries = true;
    if (m->entry_count == 0)
        return 0;
    r->entries.items = calloc(m->entry_count, sizeof *r->entries.items);
    if (!r->entries.items)
        return CLUSTER_ERR_NOMEM;
    r->entries.count = m->entry_count;
    for (uint32_t i = 0; i < m->entry_count; i++) {
        const struct consensus_entry *e = &m->entries[i];
        ConsensusLogEntry *w = &r->entries.items[i];
        w->index = wire_u64(e->index);
        w->term = wire_u64(e->term);
        w->timestamp = entry_timestamp(e);
        w->data.data = e->data; /* borrowed: see cluster_wire_request_release */
        w->data.len = e->len;
    }
    return 0;
}

int cluster_wire_request_out(const struct consensus_msg *m, int *method,
                             union cluster_wire_request *out)
{
    switch (m->type) {
    case CONSENSUS_MSG_APPEND:
        *method = TransactionalKV_METHOD_appendEntry;
        AppendEntryRequest_init(&out->append);
        return append_out(m, &out->append);
    case CONSENSUS_MSG_COMMIT: {
        CommitNotificationRequest *r = &out->commit;
        *method = TransactionalKV_METHOD_commitNotification;
        CommitNotificationRequest_init(r);
        r->commit_index = wire_u64(m->commit);
        r->leader_term = wire_u64(m->term);
        IDENT_OUT(r, m);
        return cluster_id_set(&r->leader_id, m->from);
    }
    case CONSENSUS_MSG_VOTE: {
        RequestVoteRequest *r = &out->vote;
        *method = TransactionalKV_METHOD_requestVote;
        RequestVoteRequest_init(r);
        r->term = wire_u64(m->term);
        r->last_log_index = wire_u64(m->index);
        r->last_log_term = wire_u64(m->log_term);
        r->has_pre_vote = true;
        r->pre_vote = m->pre_vote;
        r->has_leadership_transfer = m->transfer; /* unset otherwise: the bytes stay as before */
        r->leadership_transfer = m->transfer;
        IDENT_OUT(r, m);
        return cluster_id_set(&r->candidate_id, m->from);
    }
    case CONSENSUS_MSG_TIMEOUT_NOW: {
        TimeoutNowRequest *r = &out->timeout_now;
        *method = TransactionalKV_METHOD_timeoutNow;
        TimeoutNowRequest_init(r);
        r->leader_term = wire_u64(m->term);
        IDENT_OUT(r, m);
        return cluster_id_set(&r->leader_id, m->from);
    }
    case CONSENSUS_MSG_READ_INDEX: {
        ReadIndexRequest *r = &out->read;
        *method = TransactionalKV_METHOD_readIndex;
        ReadIndexRequest_init(r);
        IDENT_OUT(r, m);
        return cluster_id_set(&r->node_id, m->from);
    }
    default:
        *method = -1;
        return CLUSTER_ERR_INVALID;
    }
}

void cluster_wire_request_release(int method, union cluster_wire_request *request)
{
    if (method == TransactionalKV_METHOD_appendEntry) {
        AppendEntryRequest *r = &request->append;
        for (uint32_t i = 0; i < r->entries.count; i++) {
            r->entries.items[i].data.data = NULL; /* borrowed from the core */
            r->entries.items[i].data.len = 0;
        }
        AppendEntryRequest_free(r);
        return;
    }
    switch (method) {
    case TransactionalKV_METHOD_commitNotification:
        CommitNotificationRequest_free(&request->commit);
        break;
    case TransactionalKV_METHOD_requestVote:
        RequestVoteRequest_free(&request->vote);
        break;
    case TransactionalKV_METHOD_readIndex:
        ReadIndexRequest_free(&request->read);
        break;
    case TransactionalKV_METHOD_installSnapshot:
        InstallSnapshotRequest_free(&request->snapshot);
        break;
    case TransactionalKV_METHOD_timeoutNow:
        TimeoutNowRequest_free(&request->timeout_now);
        break;
    default:
        break; /* nothing was initialized */
    }
}

int cluster_wire_response_method(enum consensus_msg_type type)
{
    switch (type) {
    case CONSENSUS_MSG_APPEND_RESP: return TransactionalKV_METHOD_appendEntry;
    case CONSENSUS_MSG_COMMIT_RESP: return TransactionalKV_METHOD_commitNotification;
    case CONSENSUS_MSG_VOTE_RESP: return TransactionalKV_METHOD_requestVote;
    case CONSENSUS_MSG_SNAPSHOT_RESP: return TransactionalKV_METHOD_installSnapshot;
    case CONSENSUS_MSG_READ_INDEX_RESP: return TransactionalKV_METHOD_readIndex;
    default: return -1;
    }
}

static ErrorCode read_error_code(int consensus_err)
{
    if (consensus_err == CONSENSUS_ERR_NOT_LEADER)
        return ErrorCode_NOT_LEADER;
    if (consensus_err == CONSENSUS_ERR_BUSY)
        return ErrorCode_BUSY;
    return ErrorCode_UNAVAILABLE;
}

int cluster_wire_response_out(const struct consensus_msg *m, void *response)
{
    switch (m->type) {
    case CONSENSUS_MSG_APPEND_RESP: {
        AppendEntryResponse *r = response;
        r->success = m->success;
        r->index = wire_u64(m->index);
        r->has_term = true;
        r->term = wire_u64(m->term);
        r->has_reject_hint_index = r->has_reject_hint_term = !m->success;
        r->reject_hint_index = wire_u64(m->hint_index);
        r->reject_hint_term = wire_u64(m->hint_term);
        r->has_heartbeat_seq = true;
        r->heartbeat_seq = wire_u64(m->seq);
        IDENT_OUT(r, m);
        return cluster_id_set(&r->node_id, m->from);
    }
    case CONSENSUS_MSG_COMMIT_RESP: {
        CommitNotificationResponse *r = response;
        r->success = m->success;
        r->has_term = true;
        r->term = wire_u64(m->term);
        IDENT_OUT(r, m);
        return 0;
    }
    case CONSENSUS_MSG_VOTE_RESP: {
        RequestVoteResponse *r = response;
        r->term = wire_u64(m->term);
        r->vote_granted = m->success;
        r->has_pre_vote = true;
        r->pre_vote = m->pre_vote;
        IDENT_OUT(r, m);
        return cluster_id_set(&r->node_id, m->from);
    }
    case CONSENSUS_MSG_SNAPSHOT_RESP: {
        InstallSnapshotResponse *r = response;
        r->term = wire_u64(m->term);
        r->success = m->success;
        r->has_next_offset = false;
        return cluster_id_set(&r->node_id, m->from);
    }
    case CONSENSUS_MSG_READ_INDEX_RESP: {
        ReadIndexResponse *r = response;
        r->success = m->success && m->err == 0;
        r->read_index = wire_u64(m->index);
        if (!r->success) {
            r->has_error_code = true;
            r->error_code = read_error_code(m->err);
        }
        IDENT_OUT(r, m);
        return 0;
    }
    default:
        return CLUSTER_ERR_INVALID;
    }
}
