/* internal.h: the node's state and the functions the core's files share (not for callers). */
#ifndef CONSENSUS_INTERNAL_H
#define CONSENSUS_INTERNAL_H

#include "clog.h"
#include "consensus.h"
#include "progress.h"
#include "quorum.h"

#define CONSENSUS_READ_PENDING_MAX 4096u

/* A read waiting for its heartbeat round: from is the node to answer (maybe ourselves). */
struct read_req {
    uint64_t ctx;
    uint64_t seq;
    uint32_t from;
};

/* A read a follower sent to its leader, waiting for the answer. All of them went to the
   leader of this term: any change of leader or term fails them (cons_read_index_fwd_fail_all). */
struct read_fwd {
    uint64_t ctx;
    uint64_t sent_tick;
    bool answered;      /* answered out of order: popped once it reaches the head */
};

typedef int (*role_step_fn)(struct consensus_node *node, const struct consensus_msg *msg);
typedef void (*role_tick_fn)(struct consensus_node *node);

struct consensus_node {
    struct consensus_config cfg;
    /* Durable: handed out in a ready's hard state before anything depends on it. */
    uint64_t term;
    uint32_t vote;
    /* Volatile. */
    enum consensus_role role;
    uint32_t leader;
    role_step_fn step_role;
    role_tick_fn tick_role;
    struct clog log;
    uint64_t snapshot_index; /* the newest durable snapshot, what lagging followers get; */
    uint64_t snapshot_term;  /* at or after log.snap_index (the log keeps a tail below it) */
    uint32_t election_elapsed;
    uint32_t heartbeat_elapsed;
    uint32_t randomized_timeout;
    /* Membership (membership.c): conf is in effect, from the entry at conf_index (0: from
       conf_base); conf_base holds as of conf_base_index, at or below the commit. */
    struct consensus_membership conf;
    uint64_t conf_index;
    struct consensus_membership conf_base;
    uint64_t conf_base_index;
    uint64_t conf_gen;      /* bumped at every change of conf */
    uint64_t conf_gen_sent;
    uint8_t votes[CONSENSUS_MEMBERS_MAX]; /* by slot in conf */
    /* Leader only. */
    struct progress prs[CONSENSUS_MEMBERS_MAX]; /* by slot in conf */
    uint64_t uncommitted_bytes;
    bool committed_in_term;
    uint64_t hb_seq;
    bool send_pending;   /* new entries or acks: try appends at the next ready */
    bool hb_pending;     /* a heartbeat round is due at the next ready */
    bool commit_changed; /* followers may need a commit notification */
    uint32_t transfer_target;    /* leadership transfer under way to it (transfer.c) */
    uint32_t transfer_elapsed;   /* ticks since it began: aborted at election_ticks */
    bool timeout_now_sent;
    struct read_req *read_queue; /* ring of read_pending_max */
    uint32_t read_head;
    uint32_t read_count;
    /* Follower only. */
    struct read_fwd *fwd_queue;  /* ring of read_pending_max */
    uint32_t fwd_head;
    uint32_t fwd_count;
    uint64_t ticks;              /* consensus_tick calls: the core's clock */
    /* Identity (identity.c). */
    bool self_refused;           /* our id is bound to another incarnation: we stop */
    uint64_t self_bound;         /* that incarnation */
    bool self_refused_sent;      /* handed out in a ready */
    struct consensus_stale_member stale_seen[CONSENSUS_MEMBERS_MAX]; /* reported, a ring */
    uint32_t stale_seen_next;
    struct consensus_stale_member stale_out[CONSENSUS_MEMBERS_MAX]; /* to report */
    uint32_t stale_out_count;
    /* Output, until the next consensus_advance(). */
    struct consensus_msg *msgs;
    size_t msg_count;
    size_t msg_cap;
    struct consensus_read_state *reads;
    size_t read_out_count;
    size_t read_out_cap;
    bool snapshot_apply;
    struct consensus_hard_state hs_sent;
    enum consensus_role role_sent;
    uint64_t term_sent;
    uint32_t leader_sent;
    bool ready_outstanding;
    uint64_t ready_entries_last;
    uint64_t ready_committed_last;
    bool ready_may_defer;
};

/* ready.c */
struct consensus_msg *cons_outbox_push(struct consensus_node *node, enum consensus_msg_type type,
                                       uint32_t to);
void cons_outbox_read_state(struct consensus_node *node, uint64_t ctx, uint64_t index, int err);

/* role.c */
void cons_role_become_follower(struct consensus_node *node, uint64_t term, uint32_t leader);
void cons_role_become_pre_candidate(struct consensus_node *node);
void cons_role_become_candidate(struct consensus_node *node);
void cons_role_become_leader(struct consensus_node *node);
void cons_role_reset_election_timer(struct consensus_node *node);

/* election.c */
int cons_election_step_term(struct consensus_node *node, const struct consensus_msg *msg);
void cons_election_handle_vote(struct consensus_node *node, const struct consensus_msg *msg);
void cons_election_handle_vote_resp(struct consensus_node *node, const struct consensus_msg *msg);
void cons_election_campaign(struct consensus_node *node, bool pre_vote);
void cons_election_campaign_transfer(struct consensus_node *node);
void cons_election_tick(struct consensus_node *node);
void cons_election_tick_check_quorum(struct consensus_node *node);
void cons_election_invariants(const struct consensus_node *node);

/* replication.c (leader) and follow.c (follower) */
void cons_replication_flush(struct consensus_node *node);
void cons_replication_handle_append_resp(struct consensus_node *node,
                                         const struct consensus_msg *msg);
void cons_replication_tick(struct consensus_node *node);
void cons_replication_maybe_commit(struct consensus_node *node);
void cons_replication_invariants(const struct consensus_node *node);
int cons_follow_handle_append(struct consensus_node *node, const struct consensus_msg *msg);
void cons_follow_handle_commit(struct consensus_node *node, const struct consensus_msg *msg);
int cons_follow_validate_append(const struct consensus_node *node, const struct consensus_msg *msg);

/* read_index.c */
int cons_read_index_request(struct consensus_node *node, uint32_t from, uint64_t ctx);
void cons_read_index_handle(struct consensus_node *node, const struct consensus_msg *msg);
void cons_read_index_release(struct consensus_node *node);
void cons_read_index_fail_all(struct consensus_node *node);
void cons_read_index_fwd_fail_all(struct consensus_node *node);
void cons_read_index_tick(struct consensus_node *node);
void cons_read_index_invariants(const struct consensus_node *node);

/* transfer.c */
void cons_transfer_reset(struct consensus_node *node);
bool cons_transfer_due(const struct consensus_node *node);
void cons_transfer_flush(struct consensus_node *node);
void cons_transfer_tick(struct consensus_node *node);
void cons_transfer_handle_timeout_now(struct consensus_node *node,
                                      const struct consensus_msg *msg);
void cons_transfer_invariants(const struct consensus_node *node);

/* node.c: a payload the core takes in an entry: within entry_bytes_max, or a config entry. */
bool cons_entry_ok(uint32_t entry_bytes_max, const uint8_t *data, uint32_t len);

/* membership.c */
int cons_conf_slot(const struct consensus_membership *m, uint32_t id); /* -1: not a member */
bool cons_conf_is_voter(const struct consensus_membership *m, uint32_t id);
bool cons_conf_may_campaign(const struct consensus_node *node);
void cons_conf_init(struct consensus_node *node, const struct consensus_membership *base,
                    uint64_t base_index);
/* Entries (from, last] were appended: the newest config among them takes effect. */
void cons_conf_appended(struct consensus_node *node, uint64_t from);
/* Entries from `from` on were cut: the newest config left takes effect. */
void cons_conf_truncated(struct consensus_node *node, uint64_t from);
/* The log is about to drop (or release the payloads of) entries up to `to` (<= commit):
   conf_base moves up to it. */
void cons_conf_compacting(struct consensus_node *node, uint64_t to);
/* A snapshot replaced the log: its membership (NULL: ours) holds as of index. */
void cons_conf_snapshot(struct consensus_node *node, const struct consensus_membership *m,
                        uint64_t index);
/* A leader whose removal committed steps down (called after each input). */
void cons_conf_maybe_step_down(struct consensus_node *node);
void cons_conf_invariants(const struct consensus_node *node);

/* A leader may append a change now: no transfer, the last change and its own no-op committed. */
bool cons_conf_may_change(const struct consensus_node *node);
/* Appends next as a config entry (the caller checked cons_conf_may_change): 0 or BUSY. */
int cons_conf_append(struct consensus_node *node, const struct consensus_membership *next);

/* identity.c */
void cons_ident_stamp(const struct consensus_node *node, struct consensus_msg *m);
/* True if msg must be dropped: from a member with another incarnation than its bound one, a
   leader of another cluster, or any message once we are refused ourselves (it reports a
   stale member once). */
bool cons_ident_drop(struct consensus_node *node, const struct consensus_msg *msg);
/* After each input: a leader binds what it can; a node whose id is bound elsewhere stops. */
void cons_ident_after_input(struct consensus_node *node);
void cons_ident_invariants(const struct consensus_node *node);

/* snapshot.c */
void cons_snapshot_send(struct consensus_node *node, uint32_t slot);
void cons_snapshot_handle(struct consensus_node *node, const struct consensus_msg *msg);
void cons_snapshot_handle_resp(struct consensus_node *node, const struct consensus_msg *msg);
void cons_snapshot_invariants(const struct consensus_node *node);

static inline bool node_is_self(const struct consensus_node *node, uint32_t id)
{
    return id == node->cfg.id;
}

#endif
