/* consensus.h: the pure replication core (Raft): config, messages, the ready batch, inputs. */
#ifndef CONSENSUS_H
#define CONSENSUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The core is pure: no sockets, no clock, no files, no rand(). It is driven by four inputs
 * (consensus_tick, consensus_step, consensus_propose, consensus_read_index) and hands back
 * its effects in one batch, struct consensus_ready (etcd-io/raft's Ready idea).
 *
 * Handling a batch, in this order:
 *   0. messages with send_before_persist set may be sent at once (a leader's appends,
 *      heartbeats, commit notifications and snapshot orders: Raft paper §10.2.1, the
 *      leader writes its own log in parallel with replicating it; read-index requests and
 *      answers, which state nothing about this node's log);
 *   1. persist: the hard state if hard_state_changed; if snapshot_apply, the received
 *      snapshot (and drop every log entry); then the entries: the first one may have an
 *      index at or below the WAL's last index, in which case the WAL drops everything from
 *      that index on before appending. Then sync;
 *   2. send every other message: they acknowledge what step 1 made durable (append and
 *      vote responses), so they must never leave before it;
 *   3. apply: the snapshot if snapshot_apply, then the committed entries in order;
 *   4. answer the read states (ctx, index) once applied index >= index;
 *   5. consensus_advance(). No other input may reach the core between consensus_ready()
 *      and consensus_advance(): the batch's pointers stay valid until then.
 *
 * consensus_advance() says "everything handed out so far is durable": this batch's writes
 * and any earlier ones handed over with consensus_advance_unsynced().
 *
 * Asynchronous persistence (etcd-io/raft's async storage writes): when sync_may_defer is
 * set, nothing in the batch depends on its writes being durable (every message may be sent
 * early, no hard state, no snapshot), and its committed entries are all durable here already.
 * The caller may then do 0, write the entries in order after every earlier write (without
 * syncing), 3, 4, and call consensus_advance_unsynced(): the entries count as handed out but
 * not durable, so a leader does not count itself for them. Once storage has made everything
 * up to some index durable, consensus_persisted(index) says so (stale or repeated reports are
 * no-ops; the core ignores the part past what it handed out). A later batch without
 * sync_may_defer still follows steps 0-5 above, so before its step 2 every outstanding write
 * must be durable, earlier unsynced ones included. While writes are unsynced, committed
 * entries are handed out for applying only up to the durable index: applied state (and so
 * any snapshot) never runs ahead of the node's own durable log.
 *
 * Entries are opaque bytes; an entry with an empty payload is a leader's no-op (the server
 * maps it to KvCommand.noop) and consensus_propose() refuses empty payloads.
 *
 * Snapshots: the server owns snapshot data and its transfer. consensus_compact() tells the
 * core a durable snapshot exists at (index, term); the core drops its log up to
 * snapshot_catchup_entries below it (etcd's SnapshotCatchUpEntries: a follower a little behind
 * catches up from the log, not from a snapshot). When a follower needs entries below the
 * leader's first index, the core emits CONSENSUS_MSG_SNAPSHOT (index, log_term) naming its
 * newest snapshot: "send your snapshot at this index to `to`". The server streams it in
 * InstallSnapshot chunks (offset/done/crc are the transport's business; a receiver checks
 * chunk terms against consensus_term()) and reports each acknowledged chunk with
 * consensus_snapshot_progress(), which keeps the follower from being given up on while the
 * transfer moves however many election timeouts it takes. A transfer that stalls for an
 * election timeout sends the follower back to probing, and then to the same order again:
 * the server resumes the transfer it has for that (index, term) rather than starting over.
 * Once the last chunk arrived, the server steps the same CONSENSUS_MSG_SNAPSHOT into the
 * receiving core. The core answers with CONSENSUS_MSG_SNAPSHOT_RESP and, if it accepts, sets
 * snapshot_apply (consensus_snapshot_accepted() tells at once; if not, the server drops
 * what it received).
 *
 * Reads (Raft thesis §6.4): consensus_read_index(ctx) on the leader confirms leadership
 * with a heartbeat round sent after the read arrived, then outputs (ctx, commit index).
 * On a follower it emits CONSENSUS_MSG_READ_INDEX to the leader (ctx travels in `seq`,
 * which the server maps to the readIndex RPC's seqid); the leader's READ_INDEX_RESP
 * turns into a read state on the follower. A read that cannot complete comes back as a read
 * state with err set, promptly, so no caller waits out a timeout: on a leader that steps
 * down (NOT_LEADER); on a follower as soon as its leader or term changes (it timed out, saw
 * a newer term or won an election: NOT_LEADER), or when the leader has not answered within
 * two election timeouts (NO_LEADER). Each side holds at most read_pending_max reads (BUSY).
 *
 * Heartbeat rounds: every APPEND carries `seq`, the leader's current round, and the
 * response echoes it. The IDL's AppendEntry structs have no such field yet; until they
 * do, the server fills the response's seq from the request it matched by RPC seqid.
 */

#define CONSENSUS_VOTERS_MAX 7u   /* voters in one membership: any size 1..7, odd or even */
#define CONSENSUS_MEMBERS_MAX 16u  /* voters and learners */
#define CONSENSUS_NONE UINT32_MAX

/* Error codes: 0 or one of these. Retryable ones say so. */
#define CONSENSUS_ERRORS(X)                                                                    \
    X(CONSENSUS_OK, 0, "ok")                                                                   \
    X(CONSENSUS_ERR_NOT_LEADER, 1, "not the leader (retryable: ask consensus_leader())")       \
    X(CONSENSUS_ERR_NO_LEADER, 2, "no leader known (retryable)")                               \
    X(CONSENSUS_ERR_BUSY, 3, "uncommitted bytes or pending reads over their bound (retryable)") \
    X(CONSENSUS_ERR_TOO_LARGE, 4, "entry larger than entry_bytes_max")                         \
    X(CONSENSUS_ERR_INVALID, 5, "invalid argument or malformed message")                       \
    X(CONSENSUS_ERR_STALE, 6, "argument refers to state the core has already moved past")    \
    X(CONSENSUS_ERR_TRANSFERRING, 7, "leadership transfer in progress (retryable: new leader soon)") \
    X(CONSENSUS_ERR_CHANGE_PENDING, 8,                                                         \
      "a membership change is in flight, or the leader has not committed in its term yet "     \
      "(retryable)")                                                                           \
    X(CONSENSUS_ERR_NOT_MEMBER, 9, "no such member (or not a learner, for a promotion)")        \
    X(CONSENSUS_ERR_LAST_VOTER, 10, "the last voter cannot be removed")                         \
    X(CONSENSUS_ERR_LEARNER_BEHIND, 11,                                                        \
      "the learner is far behind the leader (retryable once it caught up)")                    \
    X(CONSENSUS_ERR_FULL, 12, "voters or members at their maximum")

enum consensus_err {
#define CONSENSUS_ERR_ENUM(name, value, text) name = value,
    CONSENSUS_ERRORS(CONSENSUS_ERR_ENUM)
#undef CONSENSUS_ERR_ENUM
};

const char *consensus_strerror(int err);

enum consensus_role {
    CONSENSUS_FOLLOWER = 0, /* numbered like the IDL's NodeRole */
    CONSENSUS_CANDIDATE = 1,
    CONSENSUS_LEADER = 2,
    CONSENSUS_PRE_CANDIDATE = 3,
};

const char *consensus_role_name(enum consensus_role role);

struct consensus_entry {
    uint64_t index;
    uint64_t term;
    uint32_t len; /* 0: a leader's no-op */
    uint8_t *data;
};

/*
 * Membership (Raft dissertation §4.1, single-server changes): the voters and learners, each
 * with a member id the cluster allocated (next_id, never reused: a member removed, or whose
 * data was wiped, comes back only as a new member) and an address the core only carries.
 * A change is a log entry (consensus_propose_change) holding the whole new membership; every
 * node uses the newest one in its log from the moment it is appended, committed or not, and
 * goes back to the one before if that entry is cut. The leader takes one change at a time,
 * only after the last one committed and after it committed an entry of its own term (the
 * 2015 raft-dev fix). Learners are replicated to but never counted in a quorum or an
 * election, and never campaign; a node that is not a voter in its membership never
 * campaigns. A leader that removes itself leads (without counting itself) until the change
 * commits, then steps down.
 *
 * Config entries are told apart by their payload: CONSENSUS_MEMBERSHIP_MAGIC first (its first
 * byte 0xff, which no server entry starts with: those start with a big-endian clock), and
 * consensus_propose() refuses payloads that start so. The state machine applies them as
 * no-ops; whoever applies entries tracks the membership they carry
 * (consensus_membership_decode) to store it with each snapshot, and gives it back in
 * consensus_restore.membership and in the received CONSENSUS_MSG_SNAPSHOT.
 */
#define CONSENSUS_ADDR_MAX 64u /* a member's address, NUL included */
/* Format 1: no identity; format 2 adds the cluster id and each member's incarnation. Both
   decode; a membership without identity (cluster id 0, incarnations 0) is written as 1, so
   a cluster that never bound one writes the bytes it always did. */
#define CONSENSUS_MEMBERSHIP_MAGIC "\xffKVMEMB\x01"
#define CONSENSUS_MEMBERSHIP_MAGIC_V2 "\xffKVMEMB\x02"
#define CONSENSUS_MEMBERSHIP_MAGIC_LEN 8u
#define CONSENSUS_MEMBERSHIP_BYTES_MAX                                                         \
    (CONSENSUS_MEMBERSHIP_MAGIC_LEN + 13u + CONSENSUS_MEMBERS_MAX * (14u + CONSENSUS_ADDR_MAX))

enum consensus_member_role { CONSENSUS_MEMBER_VOTER = 0, CONSENSUS_MEMBER_LEARNER = 1 };

/*
 * Member identity: each data dir has an incarnation, a random non-zero 64-bit value made when
 * a node first opens it empty (consensus_config.incarnation); a wiped dir gets a new one.
 * Every message carries its sender's incarnation, the cluster id it knows, and the
 * incarnation it has bound for the receiver. A leader binds, through the log (a membership
 * entry, one change at a time like any other), a random cluster id when there is none and
 * each member it hears from to that member's incarnation; a bound value never changes. Then:
 * a message from a member whose incarnation differs from its bound one is dropped (never
 * counted towards a vote, a commit, a read round or check-quorum) and reported
 * (consensus_ready.stale_members); a leader whose committed cluster id differs from ours is
 * refused; a node told that its id is bound to another incarnation stops: it neither
 * campaigns nor votes nor takes entries again (consensus_self_refused). It must be removed
 * and added again as a new member.
 * HACKING.md ("Member identity") names the window this leaves.
 */
struct consensus_member {
    uint32_t id; /* < next_id, never CONSENSUS_NONE */
    enum consensus_member_role role;
    uint64_t incarnation; /* 0: not bound yet */
    char addr[CONSENSUS_ADDR_MAX]; /* NUL-terminated; may be empty */
};

struct consensus_membership {
    uint32_t count;   /* 0: none known yet (a node waiting to be added) */
    uint32_t next_id; /* the id the next added member gets */
    uint64_t cluster_id; /* 0: not bound yet */
    struct consensus_member members[CONSENSUS_MEMBERS_MAX];
};

/* Voters 0..voters-1 with empty addresses, next id `voters`: a new cluster's bootstrap. */
void consensus_membership_bootstrap(struct consensus_membership *m, uint32_t voters);
/* The member with id, or NULL. */
const struct consensus_member *consensus_membership_find(const struct consensus_membership *m,
                                                         uint32_t id);
uint32_t consensus_membership_voters(const struct consensus_membership *m);
/* 0, or CONSENSUS_ERR_INVALID: ids unique, below next_id; 1..VOTERS_MAX voters unless empty. */
int consensus_membership_check(const struct consensus_membership *m);
/* Writes m as a config entry's payload; returns its length (<= MEMBERSHIP_BYTES_MAX). */
uint32_t consensus_membership_encode(const struct consensus_membership *m, uint8_t *buf);
/* True if the payload starts with the magic (a config entry, well formed or not). */
bool consensus_membership_is_config(const void *data, uint32_t len);
/* 0, or CONSENSUS_ERR_INVALID for a payload that is not a well formed, valid membership. */
int consensus_membership_decode(const void *data, uint32_t len, struct consensus_membership *out);

enum consensus_change_type {
    CONSENSUS_CHANGE_ADD_VOTER = 0,
    CONSENSUS_CHANGE_ADD_LEARNER,
    CONSENSUS_CHANGE_PROMOTE, /* a learner that caught up becomes a voter */
    CONSENSUS_CHANGE_REMOVE,
};

struct consensus_change {
    enum consensus_change_type type;
    uint32_t id;      /* PROMOTE, REMOVE: the member; ADD_*: set to the id allocated */
    const char *addr; /* ADD_*: the new member's address (shorter than CONSENSUS_ADDR_MAX) */
};

/* Message types and their IDL counterparts. from/to are node ids; term is the sender's. */
enum consensus_msg_type {
    CONSENSUS_MSG_APPEND = 0,      /* AppendEntryRequest */
    CONSENSUS_MSG_APPEND_RESP,     /* AppendEntryResponse */
    CONSENSUS_MSG_COMMIT,          /* CommitNotificationRequest */
    CONSENSUS_MSG_COMMIT_RESP,     /* CommitNotificationResponse */
    CONSENSUS_MSG_VOTE,            /* RequestVoteRequest (pre_vote flag) */
    CONSENSUS_MSG_VOTE_RESP,       /* RequestVoteResponse */
    CONSENSUS_MSG_SNAPSHOT,        /* InstallSnapshotRequest: order out, whole snapshot in */
    CONSENSUS_MSG_SNAPSHOT_RESP,   /* InstallSnapshotResponse */
    CONSENSUS_MSG_READ_INDEX,      /* ReadIndexRequest (term 0: not term-scoped) */
    CONSENSUS_MSG_READ_INDEX_RESP, /* ReadIndexResponse (term 0) */
    CONSENSUS_MSG_TIMEOUT_NOW,     /* TimeoutNowRequest: "start an election at once" */
    CONSENSUS_MSG_TYPE_COUNT,
};

const char *consensus_msg_type_name(enum consensus_msg_type type);

/*
 * One flat struct for every message; each type uses the fields listed here.
 *   APPEND:          term=leader_term, prev_index, prev_term, commit=leader_commit,
 *                    entries/entry_count, seq (heartbeat round)
 *   APPEND_RESP:     term, success, index (success: last index matched; else the
 *                    follower's last index), hint_index/hint_term (reject: the largest
 *                    index <= prev_index whose term is <= prev_term, and that term:
 *                    the leader backs up past every term it does not share in one trip),
 *                    seq (echo)
 *   COMMIT:          term=leader_term, commit=commit_index
 *   COMMIT_RESP:     term, success
 *   VOTE:            term, index=last_log_index, log_term=last_log_term, pre_vote,
 *                    transfer (the leader asked for this election: TIMEOUT_NOW)
 *   VOTE_RESP:       term, success=vote_granted, pre_vote
 *   SNAPSHOT:        term=leader_term, index=last_included_index, log_term=last_included_term
 *   SNAPSHOT_RESP:   term, success, index (the receiver's commit index after it)
 *   READ_INDEX:      seq=the follower's ctx
 *   READ_INDEX_RESP: success, index=read_index, seq=ctx, err (NOT_LEADER or BUSY)
 *   TIMEOUT_NOW:     term=leader_term (no response: the election it starts is the answer)
 */
struct consensus_msg {
    enum consensus_msg_type type;
    uint32_t from;
    uint32_t to;
    uint64_t term;
    uint64_t prev_index;
    uint64_t prev_term;
    uint64_t commit;
    uint64_t index;
    uint64_t log_term;
    uint64_t hint_index;
    uint64_t hint_term;
    uint64_t seq;
    const struct consensus_entry *entries;
    uint32_t entry_count;
    /* SNAPSHOT stepped into a receiver: the membership the snapshot holds (NULL: keep ours,
       only for a cluster whose membership never changed). */
    const struct consensus_membership *membership;
    /* Identity, set by the core on every message it sends (see Member identity above): the
       sender's incarnation, the cluster id it knows, and the incarnation it has bound for the
       receiver (0: none). A driver carries them; 0 where the wire has none. */
    uint64_t incarnation;
    uint64_t cluster_id;
    uint64_t to_incarnation;
    int err;
    bool success;
    bool pre_vote;
    bool transfer;
    bool send_before_persist; /* set by the core on output; ignored on input */
};

/* Writes a one-line description (etcd's DescribeMessage); returns what snprintf returns. */
int consensus_describe_msg(const struct consensus_msg *msg, char *buf, size_t cap);

struct consensus_config {
    uint32_t id;                /* this node's member id (not CONSENSUS_NONE) */
    uint32_t node_count;        /* consensus_restore.membership NULL: bootstrap voters
                                   0..node_count-1, 1..CONSENSUS_VOTERS_MAX */
    uint32_t election_ticks;    /* a follower's timeout is random in [e, 2e) */
    uint32_t heartbeat_ticks;   /* < election_ticks */
    uint32_t inflight_max;      /* append batches in flight per follower */
    uint32_t batch_entries_max; /* entries per append message */
    uint32_t batch_bytes_max;   /* payload bytes per append message (one entry may exceed) */
    uint32_t entry_bytes_max;   /* largest proposal */
    uint64_t uncommitted_bytes_max;
    uint32_t read_pending_max;  /* reads waiting for their heartbeat round on the leader */
    uint64_t snapshot_catchup_entries; /* log kept below a snapshot at consensus_compact() */
    uint64_t promote_lag_max;   /* a learner further behind the commit cannot be promoted */
    uint64_t incarnation;       /* this data dir's (see Member identity); 0: identity off:
                                   this node binds nothing and refuses nobody */
    uint64_t cluster_id;        /* the only cluster this node takes part in (a joining node's
                                   config names it); 0: any. Every message stating another
                                   (or none, but the transport's snapshot messages), and a
                                   snapshot whose membership holds another, is dropped and
                                   reported: it neither votes nor takes entries from it */
    uint64_t (*rand_u64)(void *ctx); /* the caller's seeded generator */
    void *rand_ctx;
};

/* A config with sensible bounds for everything but id, node_count and rand. */
void consensus_config_default(struct consensus_config *cfg);

struct consensus_hard_state {
    uint64_t term;
    uint32_t vote; /* CONSENSUS_NONE when none in this term */
};

/* The durable state a node restarts from: the log starts after (snapshot_index,
 * snapshot_term), its compaction point, with entries[i].index == snapshot_index + 1 + i. The
 * state machine restarts from its newest snapshot at applied_index (0: snapshot_index), which
 * lies in [snapshot_index, last entry] and whose entry has applied_term: the entries up to it
 * count as committed and applied, and it is the snapshot lagging followers get. */
struct consensus_restore {
    struct consensus_hard_state hard_state;
    uint64_t snapshot_index;
    uint64_t snapshot_term;
    const struct consensus_entry *entries;
    size_t entry_count;
    uint64_t applied_index;
    uint64_t applied_term;
    /* The membership as of max(snapshot_index, applied_index): the one the restored snapshot
       holds (config entries after it are read from entries). NULL: bootstrap (node_count). */
    const struct consensus_membership *membership;
};

struct consensus_read_state {
    uint64_t ctx;
    uint64_t index;
    int err; /* 0, or why the read failed (retryable) */
};

/* A member heard with an incarnation other than its bound one, or from another cluster: it
   came back with a new data dir (or is another node using its id) and must be removed and
   added again as a new member. Reported once per (id, incarnation). */
struct consensus_stale_member {
    uint32_t id;
    uint64_t incarnation; /* what it sent */
    uint64_t bound;       /* what the membership binds it to */
    uint64_t cluster_id;  /* the cluster id it sent */
};

struct consensus_ready {
    bool hard_state_changed;
    struct consensus_hard_state hard_state;
    bool snapshot_apply;
    uint64_t snapshot_index;
    uint64_t snapshot_term;
    const struct consensus_entry *entries; /* to persist */
    size_t entry_count;
    const struct consensus_msg *msgs;
    size_t msg_count;
    const struct consensus_entry *committed; /* to apply */
    size_t committed_count;
    const struct consensus_read_state *reads;
    size_t read_count;
    bool role_changed;
    enum consensus_role role;
    uint64_t term;
    uint32_t leader;
    bool membership_changed; /* the membership in effect changed: */
    const struct consensus_membership *membership; /* always set: the one in effect now */
    bool sync_may_defer; /* consensus_advance_unsynced() is allowed (see the top) */
    const struct consensus_stale_member *stale_members; /* to report (log) */
    size_t stale_member_count;
    bool self_refused; /* this batch: the node learned its id is bound to another incarnation */
};

struct consensus_node;

/* Returns 0 or CONSENSUS_ERR_INVALID (config or restored state inconsistent). */
int consensus_new(const struct consensus_config *cfg, const struct consensus_restore *restore,
                  struct consensus_node **out);
void consensus_free(struct consensus_node *node);

void consensus_tick(struct consensus_node *node);
/* Returns 0, or CONSENSUS_ERR_INVALID for a malformed message (which changes nothing). */
int consensus_step(struct consensus_node *node, const struct consensus_msg *msg);
/* Appends data on the leader; *index_out is its log index. NOT_LEADER, BUSY, TOO_LARGE. */
int consensus_propose(struct consensus_node *node, const void *data, uint32_t len,
                      uint64_t *index_out);
/* Leadership transfer (Raft thesis §3.10): the leader brings target up to date, waits until
 * everything in its log is committed, then sends it TIMEOUT_NOW; the target campaigns at once,
 * without pre-vote, and voters grant it despite their leader lease. Meanwhile proposals are
 * refused with TRANSFERRING (the server retries them at the new leader: nothing new would
 * let the target catch up, and nothing would be lost to a term change). A transfer that has
 * not made the target leader within an election timeout is aborted, and proposals flow again.
 * target CONSENSUS_NONE: the most up-to-date follower heard from lately. 0 when started (or
 * already under way to that target); NOT_LEADER; INVALID (ourselves, an unknown id, or no
 * follower to pick); BUSY (a transfer to another node is under way). */
int consensus_transfer_leader(struct consensus_node *node, uint32_t target);
/* The connection from peer was reset (its process died): a follower of it forgets it and
 * starts a pre-vote now, or a few heartbeats later by its rank (leader_lost.c). Else no-op. */
void consensus_leader_lost(struct consensus_node *node, uint32_t peer);
/* The node a transfer from this leader goes to, CONSENSUS_NONE when none is under way. */
uint32_t consensus_transfer_target(const struct consensus_node *node);
/* Appends a membership change on the leader (see Membership above): NOT_LEADER, TRANSFERRING,
 * CHANGE_PENDING, NOT_MEMBER, LAST_VOTER, LEARNER_BEHIND (match more than promote_lag_max below
 * the commit, or not streaming entries), FULL, INVALID (bad address), BUSY. */
int consensus_propose_change(struct consensus_node *node, struct consensus_change *change,
                             uint64_t *index_out);
/* A read state for ctx comes out later (exactly one). NO_LEADER, BUSY. */
int consensus_read_index(struct consensus_node *node, uint64_t ctx);
/* A durable snapshot exists at (index, term) with index <= applied: it is the one lagging
 * followers get from now on, and the log is dropped up to snapshot_catchup_entries below it
 * (consensus_first_index() says where it starts now). STALE when not newer than the last. */
int consensus_compact(struct consensus_node *node, uint64_t index, uint64_t term);
/* The caller's log storage can give back every entry from the core's first index up to index
 * (<= applied): the core frees those payloads and keeps their index, term and length. An
 * append it sends later may then hold entries without payload (data NULL, len > 0), always a
 * prefix of its entries: the caller reads them back before it sends (cluster_ready.c). This
 * bounds the core's memory by what the caller keeps unreleased, not by the snapshot spacing. */
void consensus_release(struct consensus_node *node, uint64_t index);
/* The leader heard that the snapshot transfer it ordered to peer at index moved (a chunk was
 * acknowledged): the follower stays in the snapshot state. Ignored for any other transfer. */
void consensus_snapshot_progress(struct consensus_node *node, uint32_t peer, uint64_t index);
/* True from stepping a received snapshot the core accepted until the ready that hands it out
 * (snapshot_apply). False right after such a step: the core has no use for it. */
bool consensus_snapshot_accepted(const struct consensus_node *node);

bool consensus_has_ready(struct consensus_node *node);
void consensus_ready(struct consensus_node *node, struct consensus_ready *out);
void consensus_advance(struct consensus_node *node, const struct consensus_ready *rd);
/* rd->sync_may_defer only: the batch's entries were written, not yet synced. */
void consensus_advance_unsynced(struct consensus_node *node, const struct consensus_ready *rd);
/* Storage made every write up to index durable (index: the storage's durable last index). */
void consensus_persisted(struct consensus_node *node, uint64_t index);

uint32_t consensus_id(const struct consensus_node *node);
/* The membership in effect (the newest in the log) and the index of its entry (or, once the
   log no longer holds that entry, the snapshot or compaction point it holds as of). */
const struct consensus_membership *consensus_membership(const struct consensus_node *node);
uint64_t consensus_membership_index(const struct consensus_node *node);
enum consensus_role consensus_role(const struct consensus_node *node);
uint64_t consensus_term(const struct consensus_node *node);
uint32_t consensus_leader(const struct consensus_node *node);
uint64_t consensus_commit_index(const struct consensus_node *node);
uint64_t consensus_applied_index(const struct consensus_node *node);
uint64_t consensus_last_index(const struct consensus_node *node);
uint64_t consensus_first_index(const struct consensus_node *node);
/* The term of the entry at index, or 0 if the log no longer (or not yet) holds it. */
uint64_t consensus_term_at(const struct consensus_node *node, uint64_t index);
/* The leader's view of a follower, for getClusterHealth; 0 when not the leader. */
uint64_t consensus_match_index(const struct consensus_node *node, uint32_t peer);
/* True once this node learned that its member id is bound to another incarnation (its data
 * dir was wiped, or another node has its id): it no longer campaigns, votes or takes entries.
 * *bound (may be NULL) gets that incarnation. */
bool consensus_self_refused(const struct consensus_node *node, uint64_t *bound);

/* The newest snapshot the core knows (consensus_compact, a received one, the restored one). */
uint64_t consensus_snapshot_index(const struct consensus_node *node);

enum consensus_progress_state {
    CONSENSUS_PROGRESS_PROBE = 0,   /* finding where the follower's log matches */
    CONSENSUS_PROGRESS_REPLICATE,   /* streaming entries */
    CONSENSUS_PROGRESS_SNAPSHOT,    /* waiting for the snapshot transfer it ordered */
};

const char *consensus_progress_state_name(enum consensus_progress_state state);

struct consensus_peer_progress {
    enum consensus_progress_state state;
    uint64_t match;
    uint64_t next;
    uint64_t snapshot; /* SNAPSHOT: the index of the snapshot ordered */
};

/* The leader's view of peer; false (out untouched) when not the leader or peer is itself. */
bool consensus_peer_progress(const struct consensus_node *node, uint32_t peer,
                             struct consensus_peer_progress *out);

#endif
