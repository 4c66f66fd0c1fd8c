/* sim.h: the deterministic cluster simulator: disks, the message bus, checkers, the world. */
#ifndef CONSENSUS_SIM_H
#define CONSENSUS_SIM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "consensus.h"

/* Nodes in one world: bootstrap voters (up to CONSENSUS_VOTERS_MAX) and spare nodes that
   membership changes may add (their ids are their slots: a member id is never reused). */
#define SIM_NODES_MAX 9u

/* ---------------------------------------------------------------- randomness */

struct sim_rng {
    uint64_t state;
};

uint64_t sim_rng_next(struct sim_rng *rng);
uint64_t sim_rng_below(struct sim_rng *rng, uint64_t n); /* uniform in [0, n) */
bool sim_rng_chance(struct sim_rng *rng, uint32_t per_million);
uint64_t sim_rng_u64(void *rng); /* adapter for consensus_config.rand_u64 */

/* ------------------------------------------------------------ state machine */

/* A KV-ish state machine reduced to what checking needs: a digest of applied payloads, and
   the membership the config entries it applied carry (what a snapshot holds). */
struct sim_sm {
    uint64_t applied;
    uint64_t digest;
    struct consensus_membership conf;
};

void sim_sm_apply(struct sim_sm *sm, const struct consensus_entry *e);

/* ---------------------------------------------------------------------- disk */

/*
 * A node's disk: the synced state (hard state, snapshot, entries after it) and the writes not
 * yet synced, an ordered record stream (hard state, snapshot, entries) that may hold several
 * batches while a node syncs in the background. A crash keeps a random prefix of the stream
 * (a torn tail); a sync makes a prefix of it durable.
 */
enum sim_record_kind { SIM_RECORD_HS, SIM_RECORD_SNAP, SIM_RECORD_ENTRY };

struct sim_record {
    enum sim_record_kind kind;
    struct consensus_hard_state hs;
    uint64_t snap_index;
    uint64_t snap_term;
    struct sim_sm snap_sm;
    struct consensus_entry e; /* owns e.data */
};

struct sim_disk {
    struct consensus_hard_state hs;
    uint64_t snap_index; /* the newest snapshot */
    uint64_t snap_term;
    struct sim_sm snap_sm;
    uint64_t base_index; /* where the log starts (<= snap_index: a tail kept below it) */
    uint64_t base_term;
    struct consensus_entry *ents; /* ents[i].index == base_index + 1 + i */
    size_t count;
    size_t cap;
    struct sim_record *pend; /* unsynced, oldest first */
    size_t pend_count;
    size_t pend_cap;
};

void sim_disk_init(struct sim_disk *d);
void sim_disk_free(struct sim_disk *d);
void sim_disk_write(struct sim_disk *d, const struct consensus_ready *rd, const struct sim_sm *snap);
void sim_disk_sync(struct sim_disk *d);
/* A background sync that covered the first `records` unsynced records finished. */
void sim_disk_sync_records(struct sim_disk *d, size_t records);
/* A crash: keeps `keep` unsynced records and drops the rest. */
void sim_disk_crash(struct sim_disk *d, size_t keep);
size_t sim_disk_pending_records(const struct sim_disk *d);
uint64_t sim_disk_last_index(const struct sim_disk *d);
/* What the WAL's durable index says: the synced log's end, below any unsynced cut. */
uint64_t sim_disk_durable_index(const struct sim_disk *d);
/* True if index is covered: by the snapshot, or by an entry of that term. */
bool sim_disk_holds(const struct sim_disk *d, uint64_t index, uint64_t term);
/* Named tests: replaces the synced state with a log of the given terms (index 1..n). */
void sim_disk_load(struct sim_disk *d, uint64_t term, const uint64_t *terms, size_t n);
/* A snapshot at (index, term) holding sm; the log keeps `keep` entries below it. */
void sim_disk_compact(struct sim_disk *d, uint64_t index, uint64_t term, const struct sim_sm *sm,
                      uint64_t keep);

/* ------------------------------------------------------------------- the bus */

/*
 * A snapshot travels as the server streams it: numbered chunks (InstallSnapshot calls) and
 * their acknowledgements, next to the core's messages. m.from, m.to and m.term say who sends
 * and in which term; every chunk carries the snapshot's content (`snap`), which the receiver
 * checks is the same throughout (the transfer's checksum).
 */
enum bus_kind { BUS_MSG = 0, BUS_CHUNK, BUS_CHUNK_ACK };

struct sim_chunk {
    uint64_t index;    /* the snapshot */
    uint64_t log_term;
    uint32_t offset;   /* chunk number */
    uint32_t total;    /* chunks in the snapshot */
    uint32_t epoch;    /* the sender's rewinds so far, echoed by the ack */
    uint32_t next;     /* ack: the chunks the receiver holds, in order */
    bool success;      /* ack */
};

/* What travels: the message, a deep copy of its entries, a chunk and its snapshot's data. */
struct bus_msg {
    uint64_t deliver_at;
    uint64_t order;
    enum bus_kind kind;
    struct consensus_msg m;
    struct consensus_entry *ents;
    struct sim_chunk chunk;
    struct sim_sm snap;
};

struct bus_faults {
    uint32_t drop_ppm; /* per million messages */
    uint32_t dup_ppm;
    uint32_t delay_min; /* time units */
    uint32_t delay_max;
    /* A few messages are held far longer (a stalled TCP stream, a paused process): a vote
       request or an append may land after elections have moved on. */
    uint32_t stall_ppm;
    uint32_t stall_max; /* time units */
};

/* ConsensusMessageBus: an in-process network with delay, drop, duplication, reordering
 * (random delays), and partitions of any shape: cut[from][to] drops one direction. */
struct bus {
    struct bus_msg *heap;
    size_t count;
    size_t cap;
    uint64_t order_next;
    struct bus_faults faults;
    bool cut[SIM_NODES_MAX][SIM_NODES_MAX];
    uint64_t sent;
    uint64_t dropped;
};

void bus_init(struct bus *b);
void bus_free(struct bus *b);
void bus_send(struct bus *b, struct sim_rng *rng, uint64_t now, const struct consensus_msg *m);
/* A chunk (kind BUS_CHUNK, with the snapshot's data) or its ack (BUS_CHUNK_ACK). */
void bus_send_chunk(struct bus *b, struct sim_rng *rng, uint64_t now, enum bus_kind kind,
                    const struct consensus_msg *m, const struct sim_chunk *c,
                    const struct sim_sm *snap);
/* Pops the next message due at or before now into *out (caller frees out->ents). */
bool bus_pop_due(struct bus *b, uint64_t now, struct bus_msg *out);
void bus_push_back(struct bus *b, struct bus_msg *msg, uint64_t deliver_at);
void bus_msg_free(struct bus_msg *msg);
void bus_heal(struct bus *b);
void bus_isolate(struct bus *b, uint32_t node, uint32_t node_count);

/* --------------------------------------------------------------------- trace */

#define SIM_TRACE_MAX 256u

struct sim_trace_event {
    uint64_t time;
    char text[160];
};

struct sim_trace {
    struct sim_trace_event ev[SIM_TRACE_MAX];
    uint32_t next;
    uint32_t count;
    bool verbose;  /* print each event as it happens */
    bool messages; /* record every delivery, not only role changes and faults */
};

void sim_trace_add(struct sim_trace *t, uint64_t time, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void sim_trace_dump(const struct sim_trace *t, uint32_t last);

/* ------------------------------------------------------------------- checker */

struct sim_history_entry {
    uint64_t term;
    uint64_t payload_hash;
    uint64_t digest; /* the state machine's digest after applying it */
};

struct sim_checker {
    struct sim_history_entry *hist; /* hist[i-1] is index i */
    uint64_t len;
    uint64_t cap;
    uint32_t *leader_of_term; /* CONSENSUS_NONE or the leader */
    uint64_t terms_cap;
    uint64_t top_term; /* the highest term that had a leader */
    uint64_t acked;
    struct consensus_membership conf; /* as of the history's end */
    uint64_t configs; /* config entries in the history that changed voters or learners */
    uint64_t bindings; /* those that bound an identity (the cluster id, an incarnation) */
};

/* -------------------------------------------------------------------- world */

/* The leader's transfer of its snapshot to one follower (cluster_snap_out.c's model). */
struct sim_xfer {
    bool active;
    uint64_t term;          /* the leader's term when it was ordered */
    uint64_t index;
    uint64_t log_term;
    struct sim_sm snap;
    uint32_t total;         /* chunks */
    uint32_t acked;         /* the follower holds [0, acked) */
    uint32_t sent;          /* the next chunk to send */
    uint32_t epoch;         /* rewinds so far: acks of older epochs only ever move acked on */
    uint64_t progress_at;   /* when acked last moved (or the transfer began) */
    uint64_t send_at;       /* pacing: the next chunk leaves no earlier */
};

/* A follower's partial snapshot (its temp file, cluster_snap_in.c's model). */
struct sim_recv {
    bool active;
    uint32_t from;
    uint64_t term;
    uint64_t index;
    uint64_t log_term;
    uint32_t total;
    uint32_t have;
    struct sim_sm snap;
};

struct sim_node {
    uint32_t id;
    uint64_t incarnation; /* its data dir's (kept across restarts, new at a wipe) */
    uint32_t wipes;       /* times its data dir was wiped */
    struct consensus_node *core; /* NULL while crashed */
    struct sim_rng rng;
    struct sim_disk disk;
    struct sim_sm sm;
    bool syncing; /* blocked in a batch until sync_done_at */
    uint64_t sync_done_at;
    bool bg_syncing; /* a background sync of the first bg_records unsynced records */
    size_t bg_records;
    uint64_t bg_done_at;
    struct consensus_ready rd;
    uint32_t pending_ticks;
    struct sim_sm recv_snap; /* the last snapshot that arrived whole */
    uint64_t commit_checked; /* the commit index sim_check_step last saw */
    struct sim_xfer xfer[SIM_NODES_MAX];
    struct sim_recv recv;
};

/* Snapshot transfers (sim_snap.c). */
struct sim_snap_config {
    uint32_t chunks_min;    /* a snapshot is chunks_min..chunks_max chunks (fixed per index) */
    uint32_t chunks_max;
    uint32_t chunk_units;   /* a transfer sends at most one chunk per this many time units */
    uint32_t window;        /* chunks in flight per transfer */
    uint32_t resend_units;  /* no progress for this long: resend from the last ack */
};

struct sim_snap_stats {
    uint64_t started;   /* transfers begun (a new snapshot or term) */
    uint64_t resumed;   /* orders for a transfer already under way: it went on */
    uint64_t done;
    uint64_t chunks;    /* chunks sent, resends included */
    uint64_t rewinds;   /* resends from the last acknowledged chunk */
    uint64_t released;  /* whole snapshots the follower's core had no use for */
};

/*
 * Clients' pending requests. Each waits on one leadership: the leader it reached (maybe the
 * node it is on) in that leader's term. Once a leader of a later term exists, the request
 * can no longer complete through it, and it must be answered (whatever the answer) within
 * answer_bound_ticks (sim_client.c checks; 0: unchecked). That is what the driver needs from
 * the core's outputs: a leader that steps down knows at once (role_changed), a follower
 * learns within its election timeout, and pending reads come back as read states.
 */
struct sim_wait {
    uint32_t leader;
    uint64_t term;
    uint64_t changed_at; /* when a leader of a later term first existed; 0: not yet */
};

#define SIM_NO_FORWARD SIZE_MAX

struct sim_proposal {
    uint64_t index;
    uint64_t payload_hash;
    uint32_t node;
    bool pending; /* not yet applied at its index on its node */
    bool acked;   /* applied there with its payload: the client got "committed" */
    struct sim_wait wait;
    size_t forward; /* the forwarded write it serves, or SIM_NO_FORWARD */
};

struct sim_read {
    uint64_t ctx;
    uint64_t floor; /* the read must see at least this index */
    uint32_t node;
    struct sim_wait wait;
};

/* A client's write to a follower, which the server forwards to the leader it knows (over a
   link that loses nothing unless cut, like TCP) and answers with the leader's reply, or with
   TIMEOUT once its own view of (term, leader) changes. */
struct sim_forward {
    uint32_t node;
    bool pending;
    struct sim_wait wait;
};

struct sim_world {
    uint64_t seed;
    struct sim_rng rng;
    uint32_t node_count; /* nodes 0..node_count-1: bootstrap voters, then spares */
    uint32_t voters;     /* bootstrap voters: 0..voters-1 */
    uint64_t changes;    /* membership changes committed */
    bool identity;       /* cores get their incarnation (else 0: identity off) */
    uint64_t wipes;      /* data dirs wiped */
    uint64_t stale_reports; /* consensus_ready.stale_members seen */
    uint64_t self_refusals; /* consensus_ready.self_refused seen */
    struct consensus_config cfg;
    struct sim_node nodes[SIM_NODES_MAX];
    struct bus bus;
    struct sim_checker check;
    struct sim_trace trace;
    uint64_t now;
    uint32_t tick_units;
    uint32_t sync_delay_max;
    uint32_t torn_ppm; /* chance a crash tears the unsynced writes instead of dropping them */
    uint32_t defer_ppm; /* chance a deferrable batch is synced in the background */
    uint32_t bg_delay_max; /* a background sync takes 1..bg_delay_max time units */
    bool bg_hold[SIM_NODES_MAX]; /* named tests: this node's background syncs wait */
    struct sim_proposal *props;
    size_t prop_count;
    size_t prop_cap;
    struct sim_read *reads;
    size_t read_count;
    size_t read_cap;
    uint64_t read_ctx_next;
    uint64_t reads_done;
    struct sim_forward *fwds;
    size_t fwd_count;
    size_t fwd_cap;
    size_t props_done;    /* every proposal below it is answered */
    size_t fwds_done;     /* every forwarded write below it is answered */
    uint32_t answer_bound_ticks;  /* 0: pending requests are not checked */
    uint64_t answer_after_change_max; /* time units: the slowest answer after a change */
    uint64_t forwards_answered;
    uint64_t bg_syncs; /* background syncs reported to a core */
    uint64_t payload_next;
    uint64_t core_inputs;
    bool no_tick[SIM_NODES_MAX];           /* named tests: this node's clock stops */
    struct sim_snap_config snap;
    struct sim_snap_stats snap_stats;
    uint64_t delivered[CONSENSUS_MSG_TYPE_COUNT]; /* by message type */
    uint64_t rejects[SIM_NODES_MAX];        /* APPEND_RESP rejections, by sender */
    struct consensus_read_state answered[64];     /* the latest read states, any node */
    uint32_t answered_count;
    bool failed;
    char failure[256];
};

/* Builds a world of n nodes with cfg's bounds (id, node_count and rand are set per node). */
void sim_world_init(struct sim_world *w, uint64_t seed, uint32_t n,
                    const struct consensus_config *cfg);
/* The same with only the first `voters` nodes in the bootstrap membership; the others wait
   to be added (sim_world_change). */
void sim_world_init_members(struct sim_world *w, uint64_t seed, uint32_t n, uint32_t voters,
                            const struct consensus_config *cfg);
/* At time 0 only: member identity on; every core starts again with its incarnation. */
void sim_world_identity(struct sim_world *w);
/* Proposes a membership change at node; returns the core's result. */
int sim_world_change(struct sim_world *w, uint32_t node, enum consensus_change_type type,
                     uint32_t id, uint64_t *index_out);
/* True if node is in the membership of the world's leader (or there is no leader). */
bool sim_world_is_member(const struct sim_world *w, uint32_t node);
void sim_world_free(struct sim_world *w);
/* One time unit: deliveries, ticks, syncs, batches, then every check. */
void sim_world_step(struct sim_world *w);
void sim_world_run_ticks(struct sim_world *w, uint32_t ticks);
void sim_world_crash(struct sim_world *w, uint32_t node);
/* The node restarts with an empty data dir (a new incarnation) under the same id and its
   old (bootstrap) config. */
void sim_world_wipe(struct sim_world *w, uint32_t node);
/* True if wiping node now is outside the window identity cannot close (HACKING.md, Member
   identity): the committed membership binds it, every other voter's disk holds that binding
   and the cluster id, and enough voters stay unwiped to remove it. */
bool sim_world_may_wipe(const struct sim_world *w, uint32_t node);
void sim_world_restart(struct sim_world *w, uint32_t node);
/* Proposes a fresh payload at node; returns the core's result. */
int sim_world_propose(struct sim_world *w, uint32_t node, uint64_t *index_out);
int sim_world_read(struct sim_world *w, uint32_t node);
/* A client write to node, forwarded to the leader it knows; NOT_LEADER when it knows none
   (or leads: propose there). */
int sim_world_forward(struct sim_world *w, uint32_t node);
void sim_world_compact(struct sim_world *w, uint32_t node);
/* The leader of the highest term among live nodes, or CONSENSUS_NONE. */
uint32_t sim_world_leader(const struct sim_world *w);
/* True if a leader exists and every live node applied exactly its whole log. */
bool sim_world_converged(const struct sim_world *w);
void sim_world_fail(struct sim_world *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints the seed, the failure and the trace tail. */
void sim_world_report(const struct sim_world *w);
uint64_t sim_payload_hash(const uint8_t *data, uint32_t len);

/* sim_snap.c: the leader's order starts (or resumes) a transfer; each step moves transfers
   along; chunks and acks arrive; the core's SNAPSHOT_RESP ends a transfer it covers. */
void sim_snap_order(struct sim_world *w, uint32_t leader, const struct consensus_msg *m);
void sim_snap_pump(struct sim_world *w, uint32_t node);
void sim_snap_deliver(struct sim_world *w, struct bus_msg *bm);
void sim_snap_resp(struct sim_world *w, const struct consensus_msg *m);
/* A crash or restart: the node's transfers and its partial snapshot are gone. */
void sim_snap_reset(struct sim_node *n);

/* checker hooks, called by the world */
void sim_check_init(struct sim_checker *c);
void sim_check_free(struct sim_checker *c);
void sim_check_committed(struct sim_world *w, uint32_t node, const struct consensus_entry *e);
void sim_check_applied(struct sim_world *w, uint32_t node);
void sim_check_before_send(struct sim_world *w, uint32_t node, const struct consensus_msg *m);
void sim_check_read(struct sim_world *w, uint32_t node, const struct consensus_read_state *r);
void sim_check_step(struct sim_world *w);
void sim_check_final(struct sim_world *w);

/* sim_client.c: clients' pending requests, called by the world and the batches */
struct sim_wait sim_client_wait_on(const struct sim_world *w, uint32_t leader, uint64_t term);
/* Proposal p was answered (applied at its index, covered by a snapshot, or abandoned). */
void sim_client_proposal_done(struct sim_world *w, size_t p);
void sim_client_read_done(struct sim_world *w, size_t r);
/* Node i's batch rd was applied: a change of role, term or leader answers what it strands. */
void sim_client_batch(struct sim_world *w, uint32_t i, const struct consensus_ready *rd);
void sim_client_crash(struct sim_world *w, uint32_t i);
void sim_client_check(struct sim_world *w);

/* ------------------------------------------------------------- chaos runs */

struct sim_chaos_config {
    uint32_t nodes;
    uint32_t spares;  /* nodes beyond the bootstrap voters that changes may add */
    uint32_t change_ppm; /* chance per time unit of a random membership change */
    uint32_t chaos_ticks;
    uint32_t heal_ticks_max;
    uint32_t failover_ticks_max;
    uint32_t answer_bound_ticks; /* sim_world.answer_bound_ticks */
    bool identity;       /* incarnations and cluster id (sim_world.identity) */
    uint32_t wipe_ppm;   /* chance per time unit of wiping a node's data dir */
    bool verbose;
};

struct sim_chaos_result {
    bool ok;
    uint64_t steps;       /* world time units */
    uint64_t core_inputs; /* ticks, messages, proposals and reads fed to cores */
    uint64_t committed;
    uint64_t acked;
    uint64_t reads;
    uint64_t bg_syncs;
    struct sim_snap_stats snap;
    uint32_t heal_ticks;     /* from heal to convergence */
    uint32_t failover_ticks; /* from the leader's crash to a new leader */
    uint64_t forwards;       /* forwarded writes answered */
    uint32_t answer_ticks_max; /* the slowest answer to a request after its leader changed */
    uint64_t changes;          /* membership changes committed */
    uint64_t wipes;            /* data dirs wiped (their members refused, then removed) */
};

void sim_chaos_config_default(struct sim_chaos_config *cfg, uint32_t nodes);
/* The same with spare nodes and random membership changes (sim_chaos.c member_change). */
void sim_chaos_config_members(struct sim_chaos_config *cfg, uint32_t nodes);
/* Runs one seed; on failure reports (seed, failure, trace) on stderr and returns false. */
bool sim_chaos_run(uint64_t seed, const struct sim_chaos_config *cfg, struct sim_chaos_result *out);

#endif
