/* dsim.h: the driver simulator: real cluster_nodes on simulated disks, links and time. */
#ifndef DSIM_H
#define DSIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster_internal.h"

/*
 * N real cluster_nodes (src/cluster, the consensus core inside them) run in one thread on a
 * discrete-event clock: every tick, turn, background sync, snapshot and delivery is an event
 * at a simulated millisecond, drawn from one seeded generator, so a seed replays exactly.
 * Each node has a sim io (dsim_io.c: a disk whose unsynced tail a crash loses or tears, sync
 * latency, injected I/O errors), a sim transport (dsim_net.c: calls and replies encoded and
 * decoded as the network carries them, with delay, loss, duplication, partitions and a
 * bandwidth cap), and the server's side (dsim_server.c: a model state machine and an
 * in-memory snapshot store that streams real chunks). dsim_check.c checks every step.
 */

/* ------------------------------------------------------------------ events */

enum dsim_ev_kind {
    DSIM_EV_TICK,
    DSIM_EV_TURN,
    DSIM_EV_SYNC_DONE,
    DSIM_EV_SNAP_DONE,
    DSIM_EV_CALL,  /* a call arrives at its peer */
    DSIM_EV_REPLY, /* a reply (or a transport error) arrives at the caller */
    DSIM_EV_CALL_TIMEOUT,
};

struct dsim_event {
    uint64_t at;
    uint64_t order;
    enum dsim_ev_kind kind;
    uint32_t node;
    uint32_t life; /* the node's incarnation it belongs to: a crash voids the older ones */
    uint64_t arg;
    void *data;    /* CALL and REPLY: their struct dsim_msg */
};

struct dsim_queue {
    struct dsim_event *heap;
    size_t count, cap;
    uint64_t order;
};

void dsim_queue_push(struct dsim_queue *q, const struct dsim_event *ev);
bool dsim_queue_pop(struct dsim_queue *q, struct dsim_event *out);
void dsim_queue_free(struct dsim_queue *q, void (*free_data)(struct dsim_event *ev));

/* ------------------------------------------------------------------- rng */

uint64_t dsim_rand(uint64_t *state);
uint64_t dsim_below(uint64_t *state, uint64_t n);
bool dsim_chance(uint64_t *state, uint32_t per_million);

/* ------------------------------------------------------------- the disk */

struct dsim_entry {
    uint64_t term;
    uint8_t *data;
    uint32_t len;
};

/* What survives a crash: the hard state (saved durably at once), the log (synced up to
   `durable`), the server's snapshots and state. */
struct dsim_disk {
    struct consensus_hard_state hs;
    uint64_t start_index, start_term; /* the log starts after this */
    struct dsim_entry *ents;          /* ents[i] is index start_index + 1 + i */
    size_t count, cap;
    uint64_t durable;                 /* synced up to here */
};

/* ------------------------------------------------------------ the model */

/* Nodes in one world (ids 0..nodes-1): bootstrap voters and spares to add. */
#define DSIM_NODES_MAX 7u
#define DSIM_KEYS 8u

/* The server's state machine: a few registers, a digest of every entry applied. */
struct dsim_sm {
    uint64_t applied;
    uint64_t applied_term;
    uint64_t digest;
    uint64_t reg[DSIM_KEYS];
    struct consensus_membership conf; /* the newest committed membership (dsim_member.c) */
};

/* A snapshot's bytes (the model plus padding, so it streams in several chunks), shared. */
struct dsim_blob {
    uint32_t refs;
    uint64_t index, term;
    uint8_t *data;
    size_t len;
};

/* ------------------------------------------------------------ the nodes */

struct dsim_world;

struct dsim_node {
    uint32_t id;
    uint32_t life;              /* incarnation: bumped at every crash */
    bool up;
    struct cluster_node *node;  /* NULL while down */
    struct cluster_io io;       /* dsim_io.c's ops */
    struct cluster_transport *tp;
    struct dsim_world *w;
    struct dsim_disk disk;
    struct dsim_sm sm;          /* applied state (lost at a crash: rebuilt from the snapshot) */
    struct dsim_blob *snap;     /* the newest durable snapshot (survives crashes) */
    struct dsim_blob *taking;   /* being written in the background */
    bool turn_pending;
    bool ticking;
    uint32_t tick_ms;
    uint32_t tick_gen;          /* voids the ticks of a stopped timer */
    bool sync_flight;
    uint64_t sync_target;       /* the background sync makes the log durable up to here */
    uint32_t sync_gen;          /* voids a sync ended by sync_wait */
    bool io_error;              /* an I/O error was injected and reported */
    bool dying;                 /* crashed inside a sync: nothing more leaves it */
    uint64_t installs;          /* snapshots installed */
    uint64_t down_since;
    uint32_t busy;              /* calls into the node under way (checks wait for their end) */
    /* dsim_script.c: a background sync's or snapshot's end held until released */
    bool hold_sync, sync_parked, hold_snap, snap_parked;
    uint32_t parked_sync_gen;
    uint64_t parked_snap_index;
};

/* ---------------------------------------------------------------- faults */

struct dsim_link {
    bool cut;
    uint32_t delay_min, delay_max; /* ms */
    uint32_t loss_ppm, dup_ppm;
    uint32_t rate_kbps;            /* 0: no cap */
    uint64_t free_at;              /* the link is busy sending until then */
};

/* A peer connection: calls from one node served at another (dsim_conn.c). */
struct dsim_conn {
    uint32_t from_life, to_life; /* the processes at either end */
    uint32_t gen;                /* this connection (0: none yet) */
    uint32_t serving;            /* calls let in and not yet answered */
    bool delivering;             /* inside its input loop */
    void **buf;                  /* calls buffered while full, a ring from head */
    size_t head, count, cap;
};

/* A named scenario's rule (dsim_script.c): peer messages it catches are dropped or held. */
enum dsim_act { DSIM_DROP, DSIM_HOLD };
#define DSIM_RULES_MAX 8u
#define DSIM_ANY_METHOD (-1)

struct dsim_rule {
    bool on;
    uint32_t from, to;
    int method;        /* a TransactionalKV_METHOD_* or DSIM_ANY_METHOD */
    bool reply;        /* replies (from `from` back to `to`), not calls */
    enum dsim_act act;
    uint32_t skip;     /* matching messages it lets through first */
    uint32_t left;     /* messages it still catches (UINT32_MAX: any number) */
    uint32_t caught;
};

struct dsim_held {
    uint32_t rule;
    enum dsim_ev_kind kind;
    uint32_t to;
    void *msg;
};

struct dsim_faults {
    uint32_t io_error_ppm;   /* per fallible log op */
    uint32_t sync_min, sync_max;   /* ms a background sync takes */
    uint32_t torn_ppm;       /* a crash keeps some unsynced entries, minus a torn last one */
    uint32_t crash_in_sync_ppm; /* the process dies inside a sync in a batch */
};

/* ---------------------------------------------------------------- clients */

struct dsim_op {
    struct dsim_world *w;
    uint32_t node;
    bool read;
    bool done;
    int err;
    uint64_t index;
    uint64_t payload_hash; /* proposals */
    uint64_t floor;        /* reads: the highest index acknowledged before it began */
    uint64_t started_at;
    bool forwarded;        /* a write forwarded from node `via` (dsim_script.c) */
    bool forward_answered; /* its reply went back on via's connection */
    uint32_t via;
    uint32_t conn_gen;
};

/* ---------------------------------------------------------------- checker */

struct dsim_hist {
    uint64_t term;
    uint64_t hash;
    uint64_t digest; /* the model's digest after applying it */
};

struct dsim_check {
    struct dsim_hist *hist; /* hist[i - 1]: index i as first applied anywhere */
    uint64_t len, cap;
    uint32_t *leader_of_term;
    uint64_t terms_cap;
    uint64_t acked;          /* proposals acknowledged */
    uint64_t acked_max;      /* the highest index acknowledged */
    uint64_t reads_ok;
    size_t ops_answered;     /* every client op below it was answered */
};

/* ---------------------------------------------------------------- world */

struct dsim_config {
    uint32_t nodes;
    uint32_t chaos_ms;       /* faults and load */
    uint32_t heal_ms_max;    /* after healing, every node catches up within this */
    bool background_sync;    /* cluster_config.sync_background */
    uint32_t spares;         /* nodes beyond the bootstrap voters, for changes to add */
    uint32_t change_ppm;     /* chance per 10 ms of chaos of a membership change */
    uint32_t pipeline_max;   /* calls a node serves at once per peer connection (0: any) */
    bool verbose;
};

struct dsim_stats {
    uint64_t events, turns, calls, lost, dups, crashes, io_errors, installs, snapshots;
    uint64_t let_in;         /* buffered calls a freed slot let in */
    uint64_t let_in_batch;   /* ... of them inside the node's ready batch */
    uint64_t forwards;       /* writes forwarded to a leader */
    uint64_t calls_of[TransactionalKV_METHOD_COUNT]; /* calls sent, by method */
    uint64_t proposals, acked, reads, reads_ok;
    uint64_t heal_ms;        /* from heal to every node caught up */
    uint64_t changes, changes_done, changes_applied; /* membership changes proposed, answered,
                                                       applied */
    uint64_t transfers, transferred; /* leadership transfers asked for; another node led */
};

struct dsim_world {
    uint64_t seed;
    uint64_t rng;
    uint64_t now;
    struct dsim_config cfg;
    struct cluster_config ccfg;
    struct dsim_queue q;
    struct dsim_node nodes[DSIM_NODES_MAX];
    struct dsim_link links[DSIM_NODES_MAX][DSIM_NODES_MAX];
    struct dsim_rule rules[DSIM_RULES_MAX];
    struct dsim_held *held;
    size_t held_count, held_cap;
    struct dsim_conn conns[DSIM_NODES_MAX][DSIM_NODES_MAX];
    uint32_t conn_gen;
    uint32_t snap_pad;       /* named scenarios: each snapshot's padding in bytes (0: random) */
    struct dsim_faults faults;
    struct dsim_check check;
    struct dsim_stats stats;
    struct dsim_op **ops;
    size_t op_count, op_cap;
    int32_t seqid;
    uint64_t payload_next;
    bool failed;
    char failure[512];
};

/* dsim_world.c */
void dsim_world_init(struct dsim_world *w, uint64_t seed, const struct dsim_config *cfg);
void dsim_world_free(struct dsim_world *w);
/* Runs events up to time `until` (or until a check fails). */
void dsim_world_run(struct dsim_world *w, uint64_t until);
void dsim_world_fail(struct dsim_world *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void dsim_world_schedule(struct dsim_world *w, uint64_t at, enum dsim_ev_kind kind,
                         uint32_t node, uint64_t arg, void *data);
void dsim_node_start(struct dsim_world *w, uint32_t i);
/* Drops the node with no clean close: the unsynced tail is lost (or torn), queued work void. */
void dsim_node_crash(struct dsim_world *w, uint32_t i);
/* The client's op (NULL when node i is down). */
struct dsim_op *dsim_propose(struct dsim_world *w, uint32_t i, uint32_t key);
void dsim_read(struct dsim_world *w, uint32_t i);
uint32_t dsim_leader(const struct dsim_world *w); /* the live leader of the highest term */

/* dsim_io.c */
void dsim_io_init(struct dsim_node *n);
void dsim_disk_free(struct dsim_disk *d);
/* A crash: keeps the synced log, and maybe some unsynced entries but the last. */
void dsim_disk_crash(struct dsim_world *w, struct dsim_disk *d);
void dsim_io_sync_done(struct dsim_node *n, uint32_t gen);
void dsim_io_tick(struct dsim_node *n, uint32_t gen);

/* dsim_net.c */
struct cluster_transport *dsim_net_transport(struct dsim_world *w, uint32_t id);
void dsim_net_deliver(struct dsim_world *w, struct dsim_event *ev);
void dsim_net_free_event(struct dsim_event *ev);
void dsim_net_heal(struct dsim_world *w);
/* A call let in on its connection is served (its reply frees the connection's slot gen). */
void dsim_net_serve(struct dsim_world *w, void *msg, uint32_t conn_gen);
void dsim_net_drop(void *msg);

/* dsim_conn.c: a call arrives on its connection (from, in from's life `from_life`, to to):
   served now, or buffered until a reply frees a slot; its reply frees it. */
void dsim_conn_arrive(struct dsim_world *w, uint32_t from, uint32_t from_life, uint32_t to,
                      void *msg);
void dsim_conn_answered(struct dsim_world *w, uint32_t from, uint32_t to, uint32_t gen);
void dsim_conn_free_all(struct dsim_world *w);
/* A call let in now whatever the limit (a forwarded write): its slot's connection. */
uint32_t dsim_conn_take(struct dsim_world *w, uint32_t from, uint32_t from_life, uint32_t to);

/* dsim_server.c: the server's callbacks */
void dsim_server_callbacks(struct dsim_node *n, struct cluster_callbacks *cb);
void dsim_server_snap_done(struct dsim_node *n, uint64_t index);
void dsim_server_restore(struct dsim_node *n);
void dsim_blob_unref(struct dsim_blob *b);
uint64_t dsim_hash(const uint8_t *data, size_t len);

/* dsim_script.c: controls for the named scenarios (test_dsim_scripted.c). */
/* A client's write at `via`, forwarded to `leader` on via's connection, where it holds a slot
   until the leader answers it: from apply, inside the ready batch, as the server answers a
   forwarded write (or, not applied, when the proposal fails). NULL when a node is down. */
struct dsim_op *dsim_forward(struct dsim_world *w, uint32_t via, uint32_t leader, uint32_t key);
/* The forwarded write's reply (at most once): its slot lets the next buffered call in. */
void dsim_forward_answer(struct dsim_op *op);
/* From now on, after letting `skip` of them through, the next `count` (UINT32_MAX: every)
   calls of `method` (DSIM_ANY_METHOD: any) from `from` to `to`, or their replies (reply: sent
   by `from` back to `to`), are dropped or held; a rule ends when it has caught `count`, or by
   dsim_rule_end. Returns its id. */
uint32_t dsim_rule_add(struct dsim_world *w, uint32_t from, uint32_t to, int method, bool reply,
                       enum dsim_act act, uint32_t skip, uint32_t count);
void dsim_rule_end(struct dsim_world *w, uint32_t rule);
/* The rule's held messages leave now, in the order caught (they arrive 1 ms later), or are
   lost (deliver false: the stream broke); how many. */
size_t dsim_rule_release(struct dsim_world *w, uint32_t rule, bool deliver);
/* dsim_net.c's hook for every message it sends: true when a rule took it. */
bool dsim_rule_catch(struct dsim_world *w, enum dsim_ev_kind kind, uint32_t from, uint32_t to,
                     int method, void *msg);
void dsim_rules_free(struct dsim_world *w);
/* Node i's background syncs (or snapshots taken) end only when released; a sync a batch
   waits for (sync_wait) still ends there, as the thread's fsync would. */
void dsim_hold_syncs(struct dsim_world *w, uint32_t i, bool hold);
void dsim_hold_snapshots(struct dsim_world *w, uint32_t i, bool hold);

/* dsim_check.c */
void dsim_check_free(struct dsim_check *c);
void dsim_check_applied(struct dsim_world *w, uint32_t node, uint64_t index, uint64_t term,
                        const uint8_t *data, uint32_t len);
void dsim_check_state(struct dsim_world *w, uint32_t node); /* after an install */
void dsim_check_role(struct dsim_world *w, uint32_t node, enum consensus_role role,
                     uint64_t term);
void dsim_check_turn(struct dsim_world *w, uint32_t node);
void dsim_check_op_done(struct dsim_op *op);
/* Every client is answered within DSIM_ANSWER_MS of asking, chaos or not. */
#define DSIM_ANSWER_MS 2000u
void dsim_check_answers(struct dsim_world *w);

/* dsim_member.c: membership changes and the server's side of them */
void dsim_member_applied(struct dsim_node *n, uint64_t index, const struct consensus_membership *m);
void dsim_member_bootstrap(const struct dsim_world *w, struct dsim_sm *sm);
/* True if node i is in the membership of the leader (or no leader is known). */
bool dsim_member_is(const struct dsim_world *w, uint32_t i);
void dsim_member_step(struct dsim_world *w);
/* v, or the next member after it, other than the leader l, whose stop leaves a majority of
   the voters up (a learner, or a voter of 3 or more); CONSENSUS_NONE if none. */
uint32_t dsim_member_may_stop(const struct dsim_world *w, uint32_t l, uint32_t v);

/* dsim_run.c: one seed: chaos, then heal and catch up (a snapshot for one node) */
bool dsim_run(uint64_t seed, const struct dsim_config *cfg, struct dsim_stats *out);
void dsim_config_default(struct dsim_config *cfg, uint64_t seed);
/* The same with random membership changes: 5 or 7 nodes, 2 or 3 of them spares. */
void dsim_config_members(struct dsim_config *cfg, uint64_t seed);

#endif
