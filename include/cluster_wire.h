/* cluster_wire.h: consensus messages <-> the IDL's peer structs; everything inbound is checked. */
#ifndef CLUSTER_WIRE_H
#define CLUSTER_WIRE_H

#include <stdint.h>

#include "consensus.h"
#include "kvstore.h"

/* Entries in one AppendEntry call; the core's batch_entries_max must not exceed it. */
#define CLUSTER_WIRE_ENTRIES_MAX 4096u

/* Member ids on the wire are the id in decimal ("0", "17"): no sign, no leading zero. */
#define CLUSTER_ID_TEXT_MAX 11u /* a member id in decimal, NUL included */
void cluster_id_format(uint32_t id, char out[CLUSTER_ID_TEXT_MAX]);
int cluster_id_set(tp_bytes *b, uint32_t id);
/* 0 with *out, or CLUSTER_ERR_INVALID unless s is a canonical decimal id below node_count. */
int cluster_id_parse(const tp_bytes *s, uint32_t node_count, uint32_t *out);

/* ---------------------------------------------------------------- outbound */

union cluster_wire_request {
    AppendEntryRequest append;
    CommitNotificationRequest commit;
    RequestVoteRequest vote;
    ReadIndexRequest read;
    InstallSnapshotRequest snapshot;
    TimeoutNowRequest timeout_now;
};

/* Initializes and fills the Request for a request message (APPEND, COMMIT, VOTE,
 * READ_INDEX, TIMEOUT_NOW). APPEND entries borrow the message's payloads: always release with
 * cluster_wire_request_release (also after an error), never the Request's _free. */
int cluster_wire_request_out(const struct consensus_msg *m, int *method,
                             union cluster_wire_request *out);
void cluster_wire_request_release(int method, union cluster_wire_request *r);
/* The method a response message answers (APPEND_RESP -> appendEntry ...), or -1. */
int cluster_wire_response_method(enum consensus_msg_type type);
/* Fills the method's initialized Response from a response message the core sent. */
int cluster_wire_response_out(const struct consensus_msg *m, void *response);

/* ----------------------------------------------------------------- inbound */

struct cluster_wire_in {
    struct consensus_msg msg;
    struct consensus_entry *entries; /* malloc'd; payloads borrowed from the request */
};

/* Checks a peer's request (sent by `from`, as authenticated) and makes the message to step.
 * CLUSTER_ERR_INVALID for anything out of range; CLUSTER_ERR_NOMEM. */
int cluster_wire_request_in(int method, const void *request, uint32_t from, uint32_t self,
                            uint32_t node_count, uint32_t entry_bytes_max,
                            struct cluster_wire_in *out);
void cluster_wire_in_release(struct cluster_wire_in *in);
/* Checks a reply from `peer` and makes the response message (read index ctx from tag). */
int cluster_wire_response_in(int method, const void *response, uint32_t peer, uint32_t self,
                             uint32_t node_count, uint64_t tag, struct consensus_msg *out);

#endif
