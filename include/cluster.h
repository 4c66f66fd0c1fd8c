/* cluster.h: replicated mode: drives the consensus core on an event loop (WAL, peers, apply). */
#ifndef CLUSTER_H
#define CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "consensus.h"

struct event_base;
struct wal;
struct cluster_transport;

/*
 * A cluster_node owns one consensus core on an event_base. Inputs (ticks, peer calls,
 * proposals, reads) only step the core and schedule one deferred "ready" turn; that turn runs
 * consensus.h's batch protocol: send the leader's messages at once, persist hard state and
 * entries to the WAL with ONE wal_sync for the whole batch (group commit), then send the
 * acknowledgements, apply committed entries through the server's apply callback, answer reads,
 * and advance. With sync_background, a batch that needs nothing durable first (a leader's new
 * entries) is written but synced by the node's sync thread while the loop goes on; the end of
 * that sync tells the core (consensus_persisted), and entries written meanwhile get the next
 * sync at once.
 *
 * Node ids are member ids in the core and on the wire (the decimal id, the same number as
 * deployment.instance_id): 0..n-1 bootstrap a new cluster, later members get ids that only
 * grow; the node's peers follow the newest membership in its log (cluster_peers.c). Entries are the server's bytes (its 8-byte clock
 * header and an encoded KvCommand); an empty entry is a new leader's no-op.
 */

#define CLUSTER_ERRORS(X)                                                       \
    X(CLUSTER_OK, 0, "ok")                                                      \
    X(CLUSTER_ERR_INVALID, 1, "invalid argument or malformed peer message")    \
    X(CLUSTER_ERR_NOT_LEADER, 2, "not the leader (retryable: see leader)")     \
    X(CLUSTER_ERR_NO_LEADER, 3, "no leader known (retryable)")                 \
    X(CLUSTER_ERR_BUSY, 4, "too much in flight (retryable)")                   \
    X(CLUSTER_ERR_LOST, 5, "leadership lost: the entry was overwritten")       \
    X(CLUSTER_ERR_TOO_LARGE, 6, "entry larger than the limit")                 \
    X(CLUSTER_ERR_TIMEOUT, 7, "peer call timed out")                           \
    X(CLUSTER_ERR_UNREACHABLE, 8, "peer not connected")                        \
    X(CLUSTER_ERR_CLOSED, 9, "node or transport closed")                       \
    X(CLUSTER_ERR_NOMEM, 10, "out of memory")                                  \
    X(CLUSTER_ERR_IO, 11, "log or snapshot storage failed")                    \
    X(CLUSTER_ERR_UNAUTHORIZED, 12, "peer not authenticated")                  \
    X(CLUSTER_ERR_IGNORED, 13, "the core had no answer for this message")                  \
    X(CLUSTER_ERR_CHANGE_PENDING, 14, "a membership change is in flight, or the leader has "  \
      "not committed an entry of its term yet: retry once it commits")                     \
    X(CLUSTER_ERR_NOT_MEMBER, 15, "no such member (or, to promote, not a learner)")         \
    X(CLUSTER_ERR_LAST_VOTER, 16, "the only voter cannot be removed")                       \
    X(CLUSTER_ERR_LEARNER_BEHIND, 17, "the learner is far behind the leader (or not yet "    \
      "streaming entries): promote it once it caught up")                                  \
    X(CLUSTER_ERR_FULL, 18, "the membership is full (7 voters or 16 members)")

enum cluster_err {
#define CLUSTER_ERR_ENUM(name, value, text) name = value,
    CLUSTER_ERRORS(CLUSTER_ERR_ENUM)
#undef CLUSTER_ERR_ENUM
};

const char *cluster_strerror(int err);
/* The IDL ErrorCode for a cluster error, the one mapping for clients and peers alike
 * (NOT_LEADER for NOT_LEADER and LOST: never applied; TIMEOUT: the outcome is unknown). */
int cluster_err_to_error_code(int err);

/* Snapshot chunks: at most this many bytes of data per InstallSnapshot call. */
#define CLUSTER_SNAPSHOT_CHUNK_BYTES (256u * 1024)
/* A received snapshot larger than this is refused (the server also wants the disk space). */
#define CLUSTER_SNAPSHOT_BYTES_MAX (1ull << 40)
/* Pending proposals and reads per node. */
#define CLUSTER_WAITERS_MAX 65536u

/* Snapshots are the server's: it takes them, opens them for streaming, and stores what
 * arrives. All of these are set, or begin is NULL (no snapshots: a follower behind a compacted
 * log cannot be fed). `snap` and `recv` are the server's handles. */
struct cluster_snapshot_ops {
    /* Starts writing a durable snapshot of the state at the applied index (whose entry has
     * term) in the background, then calls cluster_snapshot_done (maybe before returning).
     * Returns 0 when started, non-zero when not now (one is running, it is not worth it yet,
     * it failed: the driver asks again after a later turn). force: a peer needs a snapshot
     * and there is none, so the server's own size rule does not apply. */
    int (*begin)(void *ctx, uint64_t index, uint64_t term, bool force);
    /* Streaming to a lagging peer: the durable snapshot at index, which stays readable until
     * closed even once a newer one replaces it; NULL when it is gone. *size: its bytes. */
    void *(*open)(void *ctx, uint64_t index, uint64_t *size);
    /* Exactly len bytes at offset; non-zero when they cannot be read. */
    int (*read)(void *ctx, void *snap, uint64_t offset, uint8_t *buf, size_t len);
    void (*close)(void *ctx, void *snap);
    /* Receiving the leader's snapshot (index, term) of size bytes: storage beside the current
     * state (a temp file), or NULL to refuse it (no room). Writes come in order. */
    void *(*recv_begin)(void *ctx, uint64_t index, uint64_t term, uint64_t size);
    int (*recv_write)(void *ctx, void *recv, uint64_t offset, const uint8_t *data, size_t len);
    /* Every byte was written and checked: make them durable. */
    int (*recv_sync)(void *ctx, void *recv);
    /* Drops what was received (takes recv). */
    void (*recv_abort)(void *ctx, void *recv);
    /* Optional: the membership a whole received snapshot holds (what `membership` reported
     * up to its index); 0, or non-zero to refuse the snapshot. Unset: the node keeps its own,
     * which only a cluster whose membership never changed may do. */
    int (*recv_membership)(void *ctx, void *recv, struct consensus_membership *out);
    /* Ready step 1: replaces the state with the received snapshot, durably, so that a restart
     * comes back with it (takes recv, whatever the outcome). Non-zero: the node fails. */
    int (*install)(void *ctx, void *recv, uint64_t index, uint64_t term);
    /* Optional: the install is whole (the log restarts after index): older snapshots may go. */
    void (*installed)(void *ctx, uint64_t index, uint64_t term);
};

/* The server's side of the driver. Every callback runs on the loop thread. */
struct cluster_callbacks {
    /* Applies committed entry index (term) to the state machine; data may be empty (no-op).
     * proposal: the ctx given to this node's cluster_propose of this very entry while it waits
     * (NULL for any other entry): what applying it did goes to that proposal from here, and
     * its done then runs with err 0. Returns 0, or non-zero when the entry cannot be applied
     * (the node then stops). */
    int (*apply)(void *ctx, uint64_t index, uint64_t term, const uint8_t *data, uint32_t len,
                 void *proposal);
    /* Optional: a committed membership change at index, called just before apply(index),
     * which then sees an empty entry (a no-op) with no proposal. The server keeps the newest
     * with its state, in every snapshot (recv_membership, cluster_config.membership). */
    void (*membership)(void *ctx, uint64_t index, const struct consensus_membership *m);
    struct cluster_snapshot_ops snap;
    /* Optional: role, term or leader changed (for logs and routing). */
    void (*role_changed)(void *ctx, enum consensus_role role, uint64_t term, uint32_t leader);
    void *ctx;
};

struct cluster_config {
    uint32_t id;
    uint32_t node_count;            /* bootstrap members, ids 0..node_count-1 (the transport
                                       starts with their links); 0 with membership set (a
                                       node waiting to be added) */
    uint32_t voters;                /* a new cluster's voters: 0..voters-1 (0: node_count);
                                       the others wait to be added (cluster_member_change) */
    /* The membership the server's restored state holds (its newest snapshot's, the last
       `membership` callback before it), NULL when it holds none: the bootstrap one. */
    const struct consensus_membership *membership;
    uint32_t election_timeout_ms;   /* consensus.election_timeout_ms */
    uint32_t heartbeat_interval_ms; /* consensus.heartbeat_interval_ms, < election timeout */
    uint64_t seed;                  /* the core's randomness; print it when a test fails */
    uint64_t snapshot_every;        /* applied entries between snapshots; 0: never */
    uint64_t snapshot_catchup_entries; /* log entries kept below each snapshot */
    /* The state the server restored before opening (its newest snapshot, which records its
       term), index 0 when none. A log that does not hold it restarts after it. */
    uint64_t applied_index;
    uint64_t applied_term;
    uint32_t entry_bytes_max;       /* largest proposal */
    /* storage.fsync "always": a batch that may (consensus.h, sync_may_defer: a leader's new
       entries) is written and synced on a thread of the node's while the loop goes on. */
    bool sync_background;
    /* This data dir's incarnation (consensus.h, Member identity): the core binds and checks
       identities; 0: off (this node binds nothing and refuses nobody). */
    uint64_t incarnation;
    /* consensus_config.cluster_id: the only cluster this node takes part in; 0: any. */
    uint64_t cluster_id;
};

/* Timeouts 1000/100 ms, no snapshots, 1 MiB entries, every batch synced on the loop; id,
   node_count and seed are zero. */
void cluster_config_default(struct cluster_config *cfg);

struct cluster_node;

/* Recovers hard state and entries from wal (which the node then uses but does not own), binds
 * the transport's replies to the node and starts ticking. 0 or a CLUSTER_ERR_* (logged). */
int cluster_node_open(const struct cluster_config *cfg, struct event_base *base, struct wal *wal,
                      struct cluster_transport *transport, const struct cluster_callbacks *cb,
                      struct cluster_node **out);
/* The same on any cluster_io (cluster_io.h; the simulator's): the node binds it and uses it
 * until closed, but does not own it. */
struct cluster_io;
int cluster_node_open_io(const struct cluster_config *cfg, struct cluster_io *io,
                         struct cluster_transport *transport, const struct cluster_callbacks *cb,
                         struct cluster_node **out);
/* Waits for the background log sync in flight, if any, and ends it: the WAL allows one sync
 * at a time, so call it before syncing the WAL yourself. 0 or CLUSTER_ERR_IO (the node then
 * refuses everything, as after any storage failure). */
int cluster_node_sync_idle(struct cluster_node *n);
/* Stops ticking and fails every waiter: a proposal the core holds (it may be in some log)
 * with CLUSTER_ERR_TIMEOUT, the rest with CLUSTER_ERR_CLOSED. Free the transport after. */
void cluster_node_close(struct cluster_node *n);

/* Proposal outcome: err 0 with the entry's index once it is applied (done runs right after
 * apply(index, ..., proposal = ctx) returned: that call carried what applying it did), or an
 * error:
 * NOT_LEADER (leader: the id, or CONSENSUS_NONE), BUSY, TOO_LARGE, LOST (a different entry
 * was applied at its index: it never will be), TIMEOUT (the outcome is unknown: this node
 * stopped leading before the entry committed, answered in the turn it learns it, with the
 * new leader when known; a received snapshot covered it; or storage failed or the node
 * closed while the core held it), CLOSED and IO (closed or failed before the core took it:
 * it is in no log). */
typedef void (*cluster_propose_fn)(void *ctx, int err, uint64_t index, uint32_t leader);
/* done always runs exactly once, never before this returns. */
void cluster_propose(struct cluster_node *n, const void *data, uint32_t len,
                     cluster_propose_fn done, void *ctx);

/* Linearizable read: err 0 once applied >= a read index confirmed by the leader (index is
 * that read index), or NOT_LEADER/NO_LEADER/BUSY/TIMEOUT/CLOSED. Runs once, never inline. */
typedef void (*cluster_read_fn)(void *ctx, int err, uint64_t index);

/* A membership change (consensus.h, Membership) on the leader: returns 0, with change->id set
 * for an add, and later runs done as for a proposal (err 0 once the change is applied here);
 * or the core's refusal as a CLUSTER_ERR_* (NOT_LEADER, also while a leadership transfer
 * runs; CHANGE_PENDING, NOT_MEMBER, LAST_VOTER, LEARNER_BEHIND, FULL, INVALID, BUSY), and
 * done never runs. BUSY also while a turn runs or the node is closing or failed. An added
 * member's link is made from change->addr as soon as the change is in the log. */
int cluster_member_change(struct cluster_node *n, struct consensus_change *change,
                          cluster_propose_fn done, void *ctx);
void cluster_read_index(struct cluster_node *n, cluster_read_fn done, void *ctx);
/* The membership in effect: the newest in the log (consensus_membership). */
const struct consensus_membership *cluster_membership(const struct cluster_node *n);

/* Leadership transfer (consensus_transfer_leader): target a member id, or CONSENSUS_NONE for
 * the most up-to-date follower. Returns 0 when started: done runs once, later (never inline),
 * with err 0 and the new leader once another node leads, or TIMEOUT when the core gave up
 * (after an election timeout: this node leads on) or no other leader was heard of within
 * two, IO or CLOSED.
 * Or returns at once, without calling done: NOT_LEADER, INVALID (itself, an unknown id, no
 * follower), BUSY (a transfer is under way), IO, CLOSED. While it runs, proposals here are
 * refused NOT_LEADER (nothing new is logged: the server's routes wait for the new leader). */
typedef void (*cluster_transfer_fn)(void *ctx, int err, uint32_t leader);
int cluster_transfer_leader(struct cluster_node *n, uint32_t target, cluster_transfer_fn done,
                            void *ctx);

/* A connection from peer was reset or closed by it (not a timeout: its process is likely
 * gone). A follower of it elects without waiting for the election timeout (pre-vote keeps
 * that safe: consensus_leader_lost). Takes effect at the next turn. */
void cluster_peer_lost(struct cluster_node *n, uint32_t peer);

struct cluster_peer_status {
    uint32_t id;             /* the member's id */
    bool learner;            /* a learner, not a voter */
    uint64_t match_index;    /* the leader's view; 0 elsewhere */
    int64_t last_contact_ms; /* since the last reply or call from it; -1: never */
    bool reachable;          /* heard from within the election timeout */
    bool has_progress;       /* this node leads: how it replicates to the peer */
    struct consensus_peer_progress progress;
    uint64_t lag;            /* entries: the leader's last index minus match */
    bool snapshot_sending;   /* a snapshot transfer is under way: */
    uint64_t snapshot_sent;  /* bytes the peer acknowledged */
    uint64_t snapshot_bytes; /* of the snapshot's size */
};

struct cluster_status {
    uint32_t id;
    uint32_t peer_count;     /* peers[]: every member of the newest membership, this node too
                                when it is one, in the membership's order */
    enum consensus_role role;
    uint64_t term;
    uint32_t leader; /* CONSENSUS_NONE when unknown */
    uint32_t transfer_target; /* leading: a transfer to it is under way (else CONSENSUS_NONE) */
    uint64_t commit_index;
    uint64_t applied_index;
    uint64_t last_index;
    uint64_t snapshot_index;
    bool failed; /* storage failed: the node refuses everything */
    const char *failure; /* what failed ("persisting to the log", ...), NULL when not failed */
    uint64_t incarnation; /* this data dir's (0: identity off) */
    uint64_t cluster_id;  /* the membership's (0: not bound yet) */
    bool refused;         /* our member id is bound to another data dir: we stopped */
    uint64_t refused_bound; /* that data dir's incarnation */
    struct cluster_peer_status peers[CONSENSUS_MEMBERS_MAX];
};
/* The entry of member id in st->peers, or NULL. */
const struct cluster_peer_status *cluster_status_peer(const struct cluster_status *st,
                                                      uint32_t id);

void cluster_status(const struct cluster_node *n, struct cluster_status *out);
/* What every routed write and read asks (cluster_status's leader, term and failed), without
   the peers' part and its clock read: three of those were 5 % of a write's CPU. */
uint32_t cluster_leader(const struct cluster_node *n, uint64_t *term);
bool cluster_failed(const struct cluster_node *n);
/* The log index of cluster_membership's entry (consensus_membership_index: 0 for the
   bootstrap one), for listMembers. */
uint64_t cluster_membership_index(const struct cluster_node *n);

/* The background snapshot snapshot_begin started at index finished: ok, it is durable (the
 * driver compacts its log below it); otherwise it failed and the driver asks again later. */
void cluster_snapshot_done(struct cluster_node *n, uint64_t index, bool ok);

/* An inbound peer call (method is TransactionalKV_METHOD_appendEntry, commitNotification,
 * requestVote, installSnapshot or readIndex; request and response point to that method's
 * Request and initialized Response structs) from peer `from`, as authenticated. Returns 0 and
 * later calls done(ctx, 0) once *response is filled (after the WAL sync that makes it true),
 * or done(ctx, err) with nothing to send; never before returning. A non-zero return (a bad
 * message, a wrong sender) means done will not run. */
typedef void (*cluster_done_fn)(void *ctx, int err);
int cluster_node_handle(struct cluster_node *n, uint32_t from, int method, const void *request,
                        void *response, cluster_done_fn done, void *ctx);

#endif
