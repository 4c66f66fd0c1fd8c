/* cluster_internal.h: the cluster_node's state, shared by the driver's files. */
#ifndef CLUSTER_INTERNAL_H
#define CLUSTER_INTERNAL_H

#include "cluster.h"
#include "cluster_io.h"
#include "cluster_transport.h"
#include "cluster_wire.h"

#include <stdbool.h>
#include <stdint.h>

struct cluster_snap_out; /* cluster_snap_out.c */

/* A saved vote that is no member id (cluster_io_wal.c): recovery refuses the log. */
#define CLUSTER_VOTE_BAD (CONSENSUS_NONE - 1u)

/* A member this node talks to (not itself); id CONSENSUS_NONE: a free entry. */
struct cluster_peer {
    uint32_t id;
    int64_t last_heard_ms;              /* the last reply or call from it; -1: never */
    struct cluster_snap_out *snap_out;  /* a snapshot transfer to it (cluster_snap_out.c) */
    bool lost;                          /* its connection was reset (cluster_peer_lost) */
};

/* A proposal or a local read waiting for its outcome. */
struct cluster_waiter {
    struct cluster_waiter *next;
    uint64_t id;        /* reads: the ctx given to the core */
    uint64_t index;     /* proposals: the entry's index; reads: the read index once known */
    uint64_t term;      /* proposals: the term it was proposed in */
    int64_t deadline_ms;
    bool index_known;   /* reads: the core answered */
    bool submitted;     /* reads: handed to the core */
    int err;            /* finished with this error (delivered in the next turn) */
    uint32_t leader;
    cluster_propose_fn propose_done;
    cluster_read_fn read_done;
    void *ctx;
    uint8_t *data;      /* proposals made during a ready turn, submitted in the next */
    uint32_t len;
};

/* A peer's call waiting for the core's answer. */
struct cluster_inbound {
    struct cluster_inbound *next;
    uint32_t from;
    int method;
    uint64_t seq;       /* readIndex: the ctx the core echoes */
    uint64_t gen;       /* the step that carried it */
    int64_t deadline_ms;
    void *response;
    cluster_done_fn done;
    void *ctx;
    bool answered;      /* response filled (by the core, or a snapshot chunk): flush sends it */
    int err;            /* answered: 0, or why the response could not be filled */
};

/* Counters for the debug-level summary the tick logs once a second (where a write's time goes). */
struct cluster_stats {
    uint64_t turns;          /* ready batches handled */
    uint64_t persist_turns;  /* batches with entries to persist */
    uint64_t bg_syncs;       /* background syncs finished (the rest synced in their batch) */
    uint64_t entries;        /* entries persisted */
    uint64_t appends;        /* append calls sent (heartbeats included) */
    uint64_t append_entries; /* entries in them */
    uint64_t commits;        /* commit notifications sent */
    uint64_t responses;      /* answers to peer calls */
    uint64_t applied;        /* entries applied */
    int64_t since_ms;
};

/* The caller of cluster_transfer_leader waiting for another node to lead (done: NULL: none). */
struct cluster_transfer_wait {
    cluster_transfer_fn done;
    void *ctx;
    uint32_t target;
    int64_t deadline_ms;
};

struct cluster_snap_in;

struct cluster_node {
    bool identity_bound_logged; /* "this data dir is bound as member N" was logged */
    struct cluster_config cfg;
    struct cluster_callbacks cb;
    struct cluster_io *io;
    bool io_owned;                    /* cluster_node_open made it: closing frees it */
    struct cluster_transport *tp;
    struct consensus_node *core;
    uint64_t rng;
    uint32_t tick_ms;
    uint32_t election_ticks;
    bool in_ready;
    bool failed;
    const char *failure;              /* what failed: cluster_fail's `what` */
    bool closing;
    struct cluster_waiter *proposals; /* by index */
    struct cluster_waiter *proposals_last; /* its last one (NULL when empty): O(1) appends */
    struct cluster_waiter *reads;
    struct cluster_waiter *finished;  /* outcomes to deliver in the next turn */
    struct cluster_waiter *deferred;  /* proposals made during a ready turn */
    struct cluster_waiter **deferred_tail;
    uint32_t waiter_count;
    struct cluster_inbound *inbound;
    struct cluster_held *held;        /* peer calls that arrived inside a ready batch */
    uint64_t step_gen;
    uint64_t next_id;
    struct cluster_peer peers[CONSENSUS_MEMBERS_MAX]; /* by lookup (cluster_peer_of) */
    uint64_t snapshot_index;          /* the newest durable snapshot */
    uint64_t snapshot_term;
    bool snap_taking;                 /* one is being written, at: */
    uint64_t snap_taking_index, snap_taking_term;
    uint8_t *snap_chunk;              /* the buffer a chunk is read into */
    struct cluster_snap_in *snap_in;
    struct cluster_transfer_wait transfer;
    struct cluster_stats stats;
    uint64_t bg_syncs_total;          /* background syncs reported to the core (tests) */
    uint64_t held_total;              /* peer calls held past a ready batch (tests) */
};

/* CLOCK_MONOTONIC in ms (the production io's clock); the driver asks its io (cluster_clock). */
int64_t cluster_now_ms(void);
static inline int64_t cluster_clock(const struct cluster_node *n)
{
    return n->io->ops->now_ms(n->io);
}
/* Background syncs: cluster_config.sync_background (else every batch syncs itself). */
static inline bool cluster_bg_sync(const struct cluster_node *n)
{
    return n->cfg.sync_background;
}
/* Asks the io for a turn (cluster_io_turn), never run inline. */
void cluster_schedule(struct cluster_node *n);
/* Storage failed: refuse everything from now on. */
void cluster_fail(struct cluster_node *n, const char *what);

/* cluster_invariants.c: NULL, or the first of the driver's invariants found broken. Cheap
   enough to run after every turn (the lists are walked only when short, unless `full`). */
const char *cluster_invariants(const struct cluster_node *n, bool full);

/* cluster_ready.c */
void cluster_ready_turn(struct cluster_node *n);

/* cluster_release.c: the core's payloads below its last snapshot_catchup_entries applied
   entries are dropped (consensus_release) after each turn, and read back from the log when
   an append needs them. */
void cluster_release(struct cluster_node *n);
struct cluster_reloaded {
    struct consensus_msg msg;
    struct consensus_entry *ents;
    uint8_t *buf;
};
/* m itself when all its entries have payloads; else a copy in out with the released ones read
   back from the log; NULL when that failed (the log could not be read: a storage failure).
   cluster_reloaded_free(out) after the send, whichever it returned. */
const struct consensus_msg *cluster_reload(struct cluster_node *n, const struct consensus_msg *m,
                                           struct cluster_reloaded *out);
void cluster_reloaded_free(struct cluster_reloaded *r);
/* Logs the counters (debug level) once a second and starts them again. */
void cluster_stats_maybe_log(struct cluster_node *n, int64_t now_ms);

/* The io's background sync: at most one in flight; its end (cluster_io_synced) reports
   consensus_persisted and starts the next one if entries were written meanwhile. */
static inline bool cluster_sync_in_flight(const struct cluster_node *n)
{
    return n->io->ops->sync_in_flight(n->io);
}
static inline int cluster_sync_wait(struct cluster_node *n) /* 0 or CLUSTER_ERR_IO */
{
    return n->io->ops->sync_wait(n->io);
}

/* cluster_member.c: a committed config entry goes to the server's membership callback (true:
   e is one; the server applies it as a no-op); the membership in effect changed: log it. */
bool cluster_member_applying(struct cluster_node *n, const struct consensus_entry *e);
void cluster_member_log(const struct cluster_node *n, const struct consensus_membership *m);
/* cluster_api.c: files a proposal's waiter by index (the core took it). */
void cluster_proposal_file(struct cluster_node *n, struct cluster_waiter *w, uint64_t index);

/* cluster_waiters.c */
void cluster_waiter_finish(struct cluster_node *n, struct cluster_waiter *w, int err);
void cluster_waiters_deliver(struct cluster_node *n);
void *cluster_proposal_of(const struct cluster_node *n, uint64_t index, uint64_t term);
void cluster_proposals_applied(struct cluster_node *n, uint64_t index, uint64_t term);
void cluster_proposals_stranded(struct cluster_node *n, enum consensus_role role, uint64_t term,
                                uint32_t leader);
void cluster_reads_state(struct cluster_node *n, const struct consensus_read_state *rs);
void cluster_reads_applied(struct cluster_node *n);
void cluster_read_failed(struct cluster_node *n, uint64_t id, int err);
void cluster_waiters_expire(struct cluster_node *n, int64_t now_ms);
/* Fails every waiter: proposals the core holds get in_core (they may be in a log), the rest
   (reads, proposals not yet submitted) get err. */
void cluster_waiters_fail_all(struct cluster_node *n, int in_core, int err);
void cluster_submit_deferred(struct cluster_node *n);

/* cluster_api.c */
void cluster_propose_submit(struct cluster_node *n, struct cluster_waiter *w);
void cluster_read_submit(struct cluster_node *n, struct cluster_waiter *w);
void cluster_peers_lost_apply(struct cluster_node *n);
/* cluster_peers.c: the peers are the members of the newest membership in the log (the core
   uses it from the moment it is appended): after each change the node has a peer, and the
   transport a link, for each of them but itself, and none for anyone else. */
struct cluster_peer *cluster_peer_of(const struct cluster_node *n, uint32_t id);
void cluster_peers_sync(struct cluster_node *n, const struct consensus_membership *m);
/* A reply or a call from id arrived now (nothing when id is no peer). */
void cluster_heard(struct cluster_node *n, uint32_t id);
/* A peer that authenticated as id may talk to this node: a member of its newest membership,
   or anyone while it knows none (a node waiting to be added hears first from the leader). */
bool cluster_member_may_connect(const struct cluster_node *n, uint32_t id);

/* cluster_inbound.c */
void cluster_inbound_add(struct cluster_node *n, struct cluster_inbound *ib);
/* A response message from the core: the waiting call it answers gets it. */
void cluster_inbound_answer(struct cluster_node *n, const struct consensus_msg *m);
/* Calls stepped up to gen that the core did not answer get CLUSTER_ERR_IGNORED. */
void cluster_inbound_flush(struct cluster_node *n, uint64_t gen);
void cluster_inbound_expire(struct cluster_node *n, int64_t now_ms);
void cluster_inbound_fail_all(struct cluster_node *n, int err);

/* Steps a checked call (msg's entries borrowed for the call) into the core: 0, or an error
   and done will not run. */
int cluster_inbound_step(struct cluster_node *n, uint32_t from, int method,
                         struct consensus_msg *msg, void *response, cluster_done_fn done,
                         void *ctx);

/* cluster_held.c: a peer call that arrives inside a ready batch (msg for a checked one, snap
   for installSnapshot) is copied and held; run steps them after the batch's advance (done
   gets any error then); fail_all answers them err. */
struct cluster_held;
int cluster_held_add(struct cluster_node *n, uint32_t from, int method,
                     const struct consensus_msg *msg, const InstallSnapshotRequest *snap,
                     void *response, cluster_done_fn done, void *ctx);
void cluster_held_run(struct cluster_node *n);
void cluster_held_fail_all(struct cluster_node *n, int err);

/* cluster_transfer.c: finishes the waiting transfer once another node leads, or at its
   deadline (or when the node failed or closes). */
void cluster_transfer_check(struct cluster_node *n, int64_t now_ms);

/* cluster_recover.c */
int cluster_recover(struct cluster_node *n, struct consensus_config *ccfg);

/* cluster_snap_take.c: after each ready turn, a snapshot when due, then the pump. */
void cluster_snap_maybe_take(struct cluster_node *n);

/* cluster_snap_out.c: the core's order (in a ready turn), the pump that starts transfers and
   fills their windows (after it), the replies. */
void cluster_snap_send_start(struct cluster_node *n, const struct consensus_msg *m);
void cluster_snap_pump(struct cluster_node *n);
void cluster_snap_on_reply(struct cluster_node *n, uint32_t peer, uint64_t tag, int err,
                           const InstallSnapshotResponse *resp);
void cluster_snap_out_free_all(struct cluster_node *n);
void cluster_snap_out_drop(struct cluster_node *n, struct cluster_peer *p);
/* NULL, or which of the transfers' invariants is broken (cluster_invariants). */
const char *cluster_snap_out_check(const struct cluster_node *n);
/* A transfer to peer is under way: *sent bytes acknowledged of *total. */
bool cluster_snap_out_status(const struct cluster_node *n, uint32_t peer, uint64_t *sent,
                             uint64_t *total);

/* cluster_snap_in.c */
int cluster_snap_receive(struct cluster_node *n, uint32_t from,
                         const InstallSnapshotRequest *req, InstallSnapshotResponse *resp,
                         cluster_done_fn done, void *ctx);
/* Persists an accepted snapshot (ready step 1): the server's install, then the WAL reset. */
int cluster_snap_persist(struct cluster_node *n, uint64_t index, uint64_t term);
void cluster_snap_free_all(struct cluster_node *n);
const char *cluster_snap_in_check(const struct cluster_node *n);

#endif
