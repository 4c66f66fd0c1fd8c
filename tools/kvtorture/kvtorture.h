/* kvtorture.h: what the torture tool's files share: options, nodes, clients, workers. */
#ifndef KVTORTURE_H
#define KVTORTURE_H

#include "history.h"
#include "hlog.h"
#include "txn.h"
#include "net_sync.h"
#include "thrift.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Verdicts, told apart: a safety violation (1) is never reported as a liveness failure (5), a
   node that crashed on its own (6) or a history the checker could not decide (4), and none of
   those is ever CLEAN. When several hold, the lowest nonzero code wins, except that 1 always
   wins. */
enum kvt_exit {
    KVT_EXIT_CLEAN = 0,
    KVT_EXIT_VIOLATION = 1,
    KVT_EXIT_USAGE = 2,
    KVT_EXIT_SETUP = 3,
    KVT_EXIT_UNKNOWN = 4,
    KVT_EXIT_LIVENESS = 5,
    KVT_EXIT_NODE_FAILED = 6,
};

#define KVT_NODES_MAX 7
#define KVT_WORKERS_MAX 64
#define KVT_KEYS_MAX 100000
/* The append workload reads its whole window at the end in one txn. */
#define KVT_APPEND_KEYS_MAX 1000
#define KVT_DURATION_S_MAX (24 * 3600)
/* Ops stream to disk (hlog.h): this bounds only a worker's count, not memory. */
#define KVT_OPS_PER_WORKER_MAX 1000000000
#define KVT_PATH_MAX 512
/* A list-append txn reads 1..3 keys and appends to the first 1..2 of them. */
#define KVT_TXN_READS_MAX 3
#define KVT_TXN_APPENDS_MAX 2
/* A register workload's read-only transaction reads 1..3 keys at one read version. */
#define KVT_ROTXN_READS_MAX 3
/* The append workload moves its window of active keys on every this many txns, so lists stay
   short (about 1.5 appends per txn over the window). */
#define KVT_APPEND_TXNS_PER_KEY_STEP 64

enum kvt_workload { KVT_WORKLOAD_REGISTER, KVT_WORKLOAD_APPEND, KVT_WORKLOAD_COUNTER };
/* How a register op picks its key: uniformly, or Zipf-skewed (key k with weight 1/(k+1)^s). */
enum kvt_key_dist { KVT_KEYS_UNIFORM, KVT_KEYS_ZIPF };

enum kvt_fault { KVT_FAULT_KILL, KVT_FAULT_PAUSE, KVT_FAULT_WIPE, KVT_FAULT_PARTITION,
                 KVT_FAULT_POWER, KVT_FAULT_ISOLATE_LEADER, KVT_FAULT_DISK_ERROR,
                 KVT_FAULT_DISK_FULL, KVT_FAULT_CLOCK_JUMP, KVT_FAULT_SLOW_LINK,
                 KVT_FAULT_MEMBERSHIP, KVT_FAULTS };

struct kvt_options {
    double duration_s;
    uint64_t seed;
    unsigned workers, keys;
    enum kvt_key_dist key_dist;
    double zipf_s;
    bool faults[KVT_FAULTS];
    enum kvt_workload workload;
    bool single;
    int timeout_ms;              /* per request */
    double nemesis_interval_s;   /* between the start of one fault and the next */
    double catch_up_s;           /* bound for every node to apply one index after the heal */
    const char *history;         /* NULL: written only on a violation, to a temp path */
    const char *config_dir;
    const char *kvnode;
    bool keep;                   /* keep the temp dir (logs, data) */
    const char *check;           /* re-check a saved history instead of running */
    const char *summary;         /* a directory for the one-page summary (summary.h), or NULL */
    uint64_t search_steps_max;   /* the fallback search's bound per key (tests lower it) */
};

/* Parses argv; KVT_EXIT_CLEAN, or KVT_EXIT_USAGE (message printed). */
int kvt_options_parse(struct kvt_options *o, int argc, char **argv);
const char *kvt_fault_name(enum kvt_fault f);

struct kvt_node {
    pid_t pid;                   /* 0 when not running */
    bool paused;
    char addr[64];               /* 127.0.0.1:PORT */
    char id[32];                 /* deployment.instance_id in the shipped config */
    /* The member id the slot's process runs under now: the bootstrap id at first, the id the
       leader gave it when the membership nemesis added it again (nemesis_member.c). Workers
       read it (leader hints) while the nemesis sets it. */
    atomic_uint member;
    char config[KVT_PATH_MAX + 64];
    char data_dir[KVT_PATH_MAX + 64];
    char log[KVT_PATH_MAX + 64];
    char undo_dir[KVT_PATH_MAX + 64];   /* the power-cut shim's undo logs (powercut.h) */
    /* watch.c */
    bool errors_expected;        /* a disk nemesis is on: its ERROR lines are no failure */
    bool refusal_expected;       /* restart-wipe: its ERROR saying it is refused is none */
    long long log_scanned;       /* bytes of the log already scanned */
    char failure[200];           /* the first sign the node broke; "" while none */
    int64_t failure_ns;
};

struct kvt_cluster {
    struct kvt_node nodes[KVT_NODES_MAX];
    unsigned count;
    bool replicated;
    unsigned election_timeout_ms;
    char dir[KVT_PATH_MAX];      /* temp dir holding configs, data and logs */
    const char *kvnode;
    int64_t up_ns;               /* when the nodes were started */
    const char *powercut_lib;    /* the shim preloaded into every node; NULL: none */
};

/* Copies the configs (node*.json, or single.json) into a temp dir with free ports and temp
   data dirs, and starts every node. 0, or -1 (message printed; what started is stopped). */
int kvt_cluster_up(struct kvt_cluster *c, const struct kvt_options *o);
/* Stops every node (SIGCONT first if paused, then SIGKILL) and removes the temp dir. */
void kvt_cluster_down(struct kvt_cluster *c, bool keep);
/* Stops every node (SIGKILL, paused or not) and reports the nodes that failed (watch.c);
   returns how many failed. */
unsigned kvt_cluster_stop(struct kvt_cluster *c);
/* Removes the temp dir (configs, data, logs), or says where it stays (keep). */
void kvt_cluster_remove(struct kvt_cluster *c, bool keep);
/* watch.c: a node that exited (unless we SIGKILLed it: killed_by_us) is marked failed. */
void kvt_watch_exited(struct kvt_node *n, int status, bool killed_by_us);
/* Reaps nodes that exited on their own and scans their logs' new lines for an assertion, a
   sanitizer report or an ERROR line; such a node is marked failed. */
void kvt_watch_poll(struct kvt_cluster *c);
/* The size of node n's log now (0 when none), and whether it holds text past byte from. */
long long kvt_log_size(const struct kvt_node *n);
bool kvt_log_has(const struct kvt_node *n, long long from, const char *text);
/* Prints each failed node (why, when, its last log lines); returns how many failed. */
unsigned kvt_watch_report(const struct kvt_cluster *c);
int kvt_node_start(struct kvt_cluster *c, unsigned i);
void kvt_node_kill(struct kvt_node *n);
void kvt_node_pause(struct kvt_node *n, bool pause);
int kvt_node_wipe(struct kvt_node *n);
/* Partitions through the nodes' fault files: `target` cut off from every other node both
   ways, or only its sends (mute), or only what it receives (deaf). */
enum kvt_partition { KVT_PARTITION_ISOLATE, KVT_PARTITION_MUTE, KVT_PARTITION_DEAF,
                     KVT_PARTITIONS };
const char *kvt_partition_name(enum kvt_partition p);
/* 0, or -1 (message printed; what was written stays until the heal). */
int kvt_partition_apply(const struct kvt_cluster *c, enum kvt_partition p, unsigned target);
/* Writes node n's fault file atomically (temp file + rename): text is its whole content.
   0, or -1 (message printed). */
int kvt_fault_file_write(const struct kvt_node *n, const char *text);
/* nemesis_disk.c: node i's storage calls fail (disk-error: every log sync with EIO;
   disk-full: every write that grows a file with ENOSPC) through its fault file, until the
   heal removes the rule and restarts the node if its storage failed. 0, or -1. */
int kvt_disk_fault_apply(struct kvt_cluster *c, unsigned i, enum kvt_fault f);
/* 0, or -1 when a node it restarted did not come back. */
int kvt_disk_fault_heal(struct kvt_cluster *c, unsigned i, int timeout_ms);
/* nemesis_clock.c: node i's wall clock set offset_ms off through its fault file, and true
   again; each waits until ping's timestamp shows it. 0, or -1 (said). */
int kvt_clock_jump_apply(struct kvt_cluster *c, unsigned i, int offset_ms, int timeout_ms);
int kvt_clock_jump_heal(struct kvt_cluster *c, unsigned i, int timeout_ms);
/* nemesis_link.c: every call node i sends a peer or a peer sends it delayed delay_ms and
   capped at rate_kbps, through the fault files; 0 once every node's log says it shapes its
   links, or -1 (said). The heal empties the files. */
int kvt_slow_link_apply(struct kvt_cluster *c, unsigned i, unsigned delay_ms, unsigned rate_kbps);
void kvt_slow_link_heal(const struct kvt_cluster *c);
/* The member id the fault files name node i by (its current one). */
unsigned kvt_fault_id(const struct kvt_cluster *c, unsigned i);
/* Removes every node's fault file: nothing is dropped any more. */
void kvt_partition_heal(const struct kvt_cluster *c);
/* The leader's node index from any node's getClusterHealth; -1 when unknown. */
int kvt_cluster_leader(const struct kvt_cluster *c, int timeout_ms);
/* Node index for a leader hint (an instance id or an address); -1 when unknown. */
int kvt_cluster_node_of(const struct kvt_cluster *c, const char *hint, size_t len);

/* One worker's connection; calls go to node `node`. */
struct kvt_conn {
    const struct kvt_cluster *cluster;
    struct net_sync client;
    bool connected;
    int node;
    int timeout_ms;
    int32_t seqid;
    tp_buf out;
    int leader_hint;             /* node a NOT_LEADER pointed at, or -1 */
    int64_t version;             /* the version the last op's answer named, or -1 */
};

void kvt_conn_init(struct kvt_conn *k, const struct kvt_cluster *c, int node, int timeout_ms);
void kvt_conn_free(struct kvt_conn *k);
/* Closes the connection (the next call reconnects). */
void kvt_conn_drop(struct kvt_conn *k);
/* Each fills op->outcome (and op->value for a read) and op->node. */
void kvt_op_read(struct kvt_conn *k, struct kvt_op *op);
void kvt_op_write(struct kvt_conn *k, struct kvt_op *op);
void kvt_op_cas(struct kvt_conn *k, struct kvt_op *op);
/* A list-append txn: reads keys reads[0..nreads) at one read version, appends elements[i] to
   reads[i] for i < nappends, commits with every read key as a read conflict; fills t (reads,
   appends, node, outcome). 0, or -1 (memory). */
int kvt_op_append(struct kvt_conn *k, struct kvt_txn *t, const uint32_t *reads, uint32_t nreads,
                  const int64_t *elements, uint32_t nappends);
/* A read-only txn of keys [0, keys) at one linearizable read version; t->outcome ok when
   every read answered. 0, or -1 (memory). */
int kvt_read_all(struct kvt_conn *k, struct kvt_txn *t, uint32_t keys);
/* Serializable read on the connection's node; 0 with *value, or -1. */
int kvt_read_local(struct kvt_conn *k, uint32_t key, int64_t *value);
struct kvt_run;
/* A read-only txn (rotxn.c): a read version from a random one of conns[0, count), then
   snapshot reads of 1..KVT_ROTXN_READS_MAX keys on random nodes, each into log as a read
   (processes base, base + 1, ...). */
void kvt_op_rotxn(const struct kvt_run *run, struct kvt_conn *conns, uint64_t *rng,
                  uint32_t base, struct kvt_hlog *log);
/* The node's applied index; -1 when it does not answer. */
int64_t kvt_applied_index(struct kvt_conn *k);

int64_t kvt_now_ns(void);
uint64_t kvt_rand(uint64_t *state);

/* Set by SIGINT/SIGTERM and at the end of the run: workers and nemesis stop. */
extern atomic_bool kvt_stop;

/* The counter workload (counter.c): one acknowledged increment, and what all workers saw. */
struct kvt_counter_ack {
    int64_t version;             /* the commit's */
    int64_t value;               /* the count it wrote */
};
struct kvt_counter_totals {
    pthread_mutex_t lock;
    struct kvt_counter_ack *acks;
    uint64_t acked, cap, lost_acks;
    atomic_ullong unknown;       /* increments whose outcome stayed open */
    atomic_ullong settled;       /* ... that a retry in their session settled */
};
/* A worker's client session. */
struct kvt_counter {
    int64_t session;             /* 0: none open */
    int64_t seq;
};

/* One fault the nemesis injected, from its start to its heal. */
struct kvt_fault_event {
    enum kvt_fault kind;
    int shape;                   /* partition: enum kvt_partition; clock-jump: the step in ms;
                                    slow-link: the delay in ms; else 0 */
    unsigned node;
    int64_t start_ns, end_ns;
};

struct kvt_run {
    const struct kvt_options *o;
    struct kvt_cluster *cluster;
    int64_t start_ns, end_ns;
    atomic_llong next_value;
    atomic_llong next_txn;       /* append workload: txns begun (moves the key window) */
    const char *log_dir;         /* register workload: each worker's ops stream here */
    const double *key_cdf;       /* KVT_KEYS_ZIPF: cumulative weights of the keys */
    struct kvt_fault_event *faults;   /* the nemesis's record (main thread only) */
    size_t fault_count, fault_cap;
    atomic_bool workers_hold;    /* set by the nemesis: workers start no new op */
    struct kvt_hlog nemesis_log; /* the nemesis's own reads (main thread only) */
    bool live_failed;            /* a node did not catch up after the last heal */
    unsigned nodes_failed;       /* nodes the watch saw fail (watch.c) */
    unsigned faults_missed;      /* faults the nemesis could not inject, confirm or heal */
    struct kvt_member_stats {    /* membership changes asked of the leader (nemesis_member.c) */
        unsigned attempted;      /* changes asked (each once, however often retried) */
        unsigned committed;      /* answered success: applied on the leader */
        unsigned refused;        /* a definite refusal (NOT_MEMBER, LAST_VOTER, ...) */
        unsigned gave_up;        /* still retryable at their deadline */
        unsigned wipes_refused;  /* wiped nodes restarted under their old id and refused */
        unsigned wipes_unaware;  /* ... of those, refused by the leader but never told so */
        bool short_at_end;       /* the heal could not bring back every slot as a voter */
    } members;
    struct kvt_counter_totals counter;
};

/* The next key for a register op. */
uint32_t kvt_key_pick(const struct kvt_run *run, uint64_t *rng);
/* KVT_KEYS_ZIPF's table (NULL for uniform, or on no memory: check o->key_dist). */
double *kvt_key_cdf(const struct kvt_options *o);

struct kvt_workers;
/* Starts the worker threads; they stop at end_ns or on kvt_stop. NULL when none started. */
struct kvt_workers *kvt_workers_start(struct kvt_run *run);
/* Joins them; their register ops are in the logs of run->log_dir (check_logs.h), their txns
   land in t (sorted). 0, or -1 (memory, or a log could not be written). */
int kvt_workers_join(struct kvt_workers *ws, struct kvt_txns *t);
/* One random list-append txn by worker `process` on the run's active keys, into out. 0, or
   -1 (memory). */
int kvt_append_one(struct kvt_run *run, struct kvt_conn *k, uint64_t *rng, uint32_t process,
                   struct kvt_txns *out, enum kvt_outcome *outcome);
/* After the run: one read-only txn of every key the append workload used, from the first
   node that answers (retried until a deadline), added to out. 0, 1 (none answered), -1. */
int kvt_append_final(struct kvt_run *run, struct kvt_txns *out);
/* Checks a run's txns, prints the verdict, saves the history (always with --history, else on
   a violation); the exit code. Without the final read (final_read false) a clean check is
   unknown. */
int kvt_append_verdict(const struct kvt_run *run, const struct kvt_txns *t, bool final_read);
/* One increment of the counter workload in worker c's session (counter.c). */
enum kvt_outcome kvt_counter_one(struct kvt_run *run, struct kvt_conn *k, struct kvt_counter *c);
/* After the load: every node caught up, the final count read, the nodes stopped, the check
   printed; the exit code. */
int kvt_counter_verdict(struct kvt_run *run);
/* --check on a saved append history; the exit code. */
int kvt_append_check_saved(const char *path);
struct kvt_final;
/* Checks a register run's logs (every key, the final state f), prints the verdict, saves
   the history (every op with --history, else the keys not found clean) and the summary
   (--summary); the exit code. */
int kvt_register_verdict(const struct kvt_run *run, const struct kvt_final *f);
/* --check on a saved register history (o->check); the exit code. */
int kvt_register_check_saved(const struct kvt_options *o);
/* Faults on a schedule, each healed before the next, until end_ns. It runs on the main thread
   because nodes are children of the thread that forks them (PR_SET_PDEATHSIG). */
/* Starts node i again; one that does not come back counts as a fault missed. */
void kvt_nemesis_restart(struct kvt_run *run, unsigned i);
void kvt_nemesis_run(struct kvt_run *run);
/* Restarts or continues any node left down. */
void kvt_nemesis_heal(struct kvt_run *run);
/* Sleeps ns watching the nodes (watch.c); false when the run is stopping. */
bool kvt_nemesis_hold(struct kvt_run *run, int64_t ns);
/* Seconds since the load began, for the nemesis's lines. */
double kvt_since_start(const struct kvt_run *run);
/* nemesis_cluster.c: every node killed at once, its unsynced writes undone (powercut_cut.c),
   restarted with the old leader last, every key read before the load resumes; and the leader
   paused and cut off until another leads, then resumed still cut off for two election
   timeouts. Both heal before they return. */
void kvt_nemesis_power_cut(struct kvt_run *run);
void kvt_nemesis_isolate_leader(struct kvt_run *run);

/* nemesis_member.c: the membership nemesis, and restart-wipe as an operator does it. Slot i's
   member removed at the leader, the node stopped and wiped, added again as a learner under a
   new id at its address (deployment.join), started and promoted. */
void kvt_nemesis_membership(struct kvt_run *run, unsigned i);
/* Slot i killed and wiped, restarted under its old member id (checked refused: member
   identity), then removed and added again as a new member as above. */
void kvt_nemesis_wipe(struct kvt_run *run, unsigned i);
/* After the heal: every slot's member a voter and no other member; repairs what it can, else
   says so and marks run->members.short_at_end. */
void kvt_nemesis_members_check(struct kvt_run *run);
/* cluster.c: slot i's config rewritten to join the cluster as member_id (deployment.join at its
   own address), naming cluster_id (16 hex digits) when it is not "" (not bound yet). 0, or -1
   (said). */
int kvt_node_join_config(struct kvt_node *n, unsigned member_id, const char *cluster_id);

/* Waits until every node applied the same index, for a bound after the last heal. 0; or 1, a
   liveness failure: each node behind (or silent) is printed as one and marked in behind. */
int kvt_catch_up(const struct kvt_run *run, bool *behind);
/* kvt_catch_up(), then reads every key on every node that is not behind. 0; 1 when the nodes
   did not converge (a liveness failure, printed); -1 (memory). */
int kvt_final_reads(struct kvt_run *run, struct kvt_final *f);
/* verdict.c: a run's exit code from its safety verdict (0, 1 or 4) and the others it holds
   (run->live_failed: 5, run->nodes_failed: 6): a violation always wins, else the lowest. */
int kvt_verdict_combine(const struct kvt_run *run, int safety);
/* The word for an exit code on the verdict line: CLEAN, VIOLATION, LIVENESS FAILURE, ... */
const char *kvt_verdict_name(int rc);
/* "; also ..." for each verdict the run holds that rc does not name ("" when none). */
void kvt_verdict_also(const struct kvt_run *run, int rc, char *out, size_t size);
void kvt_final_free(struct kvt_final *f);

#endif
