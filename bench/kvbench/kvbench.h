/* kvbench.h: what kvbench's files share: options, operations, counters, the run's state. */
#ifndef KVBENCH_H
#define KVBENCH_H

#include "kb_hist.h"
#include "kb_rand.h"
#include "net_pipe.h"
#include "net_tls.h"
#include "thrift.h"

#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct event;
struct bufferevent;

/* Operations of the mix. A txn is getReadVersion, N snapshotReads, then atomicCommit. */
#define KB_OPS(X)                                     \
    X(KB_OP_SET, "set", "setKey")                     \
    X(KB_OP_GET, "get", "get, linearizable")          \
    X(KB_OP_SGET, "sget", "get, serializable")        \
    X(KB_OP_RANGE, "range", "getRange, linearizable") \
    X(KB_OP_TXN, "txn", "read-version, reads, atomicCommit") \
    X(KB_OP_PING, "ping", "ping")

enum kb_op {
#define KB_OP_ENUM_(name, text, what) name,
    KB_OPS(KB_OP_ENUM_)
#undef KB_OP_ENUM_
    KB_OP_COUNT
};

const char *kb_op_name(enum kb_op op);

/* Outcomes counted per op: ErrorCode values 0..17, then the client's own. */
#define KB_CODE_ERRORCODES 18
#define KB_CODE_PROTOCOL 18   /* undecodable reply or TApplicationException */
#define KB_CODE_TRANSPORT 19  /* connection lost, retries exhausted */
#define KB_CODE_COUNT 20

const char *kb_code_name(int code);

#define KB_ENDPOINTS_MAX 16
#define KB_ENDPOINT_LEN_MAX 256
#define KB_TXN_KEYS_MAX 64
#define KB_KEY_SIZE_MAX 4096
#define KB_VALUE_SIZE_MAX (1u << 20)
#define KB_CONNECTIONS_MAX 4096
#define KB_DEPTH_MAX 4096
#define KB_TIMELINE_BUCKETS_MAX (1u << 22)

struct kb_options {
    char endpoints[KB_ENDPOINTS_MAX][KB_ENDPOINT_LEN_MAX];
    uint32_t endpoint_count;
    uint32_t connections;
    uint32_t depth;             /* requests in flight per connection */
    uint32_t mix[KB_OP_COUNT];  /* weights */
    uint64_t keys;
    double zipf_theta;          /* 0: uniform */
    uint32_t key_size, value_size;
    uint32_t range_len;
    uint32_t txn_reads, txn_writes;
    double duration_s, warmup_s;
    uint64_t ops;               /* 0: run for duration_s */
    double rate;                /* ops/s, open loop; 0: closed loop */
    uint64_t seed;
    bool framed;
    bool preload;
    bool json;
    bool quiet;
    uint32_t retries_max;
    uint32_t timeout_ms;
    const char *csv_path, *plot_path, *timeline_path;
    uint32_t timeline_ms;
    const char *label;
    bool tls;                   /* --tls (or --cacert, --cert, --key): connections speak TLS */
    const char *cacert, *cert, *key;
    bool session;               /* --session: writes in a client session per connection */
};

/* Parses argv into o (defaults first). 0 to run, 1 to exit 0 (help, self-test), 2 on bad usage. */
int kb_options_parse(struct kb_options *o, int argc, char **argv);

struct kb_op_stats {
    struct kb_hist hist;        /* every measured completion, ok or not */
    uint64_t ok, not_found;
    uint64_t codes[KB_CODE_COUNT];
};

struct kb_stats {
    struct kb_op_stats op[KB_OP_COUNT];
    uint64_t retries, reconnects;
    uint64_t bad_replies;       /* unframeable input or a reply nobody asked for */
    uint64_t bytes_sent, bytes_received;
    uint64_t measured_ns;       /* from the end of the warmup to the last measured completion */
};

/* One request (or transaction) in flight on a connection. */
struct kb_slot {
    struct kb_conn *conn;
    enum kb_op op;
    uint8_t phase;              /* txn: 0 read version, 1 reads, 2 commit */
    bool busy, queued, measured;
    uint32_t awaiting;          /* replies still due for this phase */
    int phase_code;             /* worst code seen in this phase */
    uint32_t attempts;
    uint64_t start_ns;          /* intended send time (open loop) or first send (closed) */
    int64_t read_version;
    uint32_t key_count;
    uint64_t keys[KB_TXN_KEYS_MAX];
    uint64_t session_seq;       /* --session: this write's number (0: none), kept by retries */
};

struct kb_conn {
    struct kb_bench *b;
    uint32_t id;
    struct net_pipe pipe;       /* each call's tag is its enum kb_call, its ptr the slot */
    bool connected;             /* up, and not going down */
    bool was_up;                /* the current connection came up */
    char endpoint[KB_ENDPOINT_LEN_MAX];
    uint32_t endpoint_index;
    char redirect[KB_ENDPOINT_LEN_MAX]; /* leader hint to move to once the pipe drains */
    struct event *timer;        /* reconnect backoff */
    struct kb_slot *slots;
    struct kb_slot **retry;     /* slots to send again once connected */
    uint32_t retry_count;
    int64_t session_id;         /* --session (kb_session.c) */
    uint64_t session_next;      /* the last write number given out */
};

struct kb_bench {
    struct kb_options opt;
    struct event_base *base;
    SSL_CTX *tls;               /* opt.tls: the client context every connection uses */
    struct kb_conn *conns;
    struct kb_rand rand;
    struct kb_zipf zipf;
    uint8_t *values;            /* random bytes values are cut from */
    uint32_t mix_total;
    uint64_t t0_ns, measure_ns, stop_ns, end_ns;
    bool stopping, warm;
    uint64_t issued_measured, in_flight;
    uint64_t next_intended_ns;  /* open loop: the next op's intended start */
    struct event *tick;         /* stop time, drain deadline, progress line */
    struct event *pace;         /* open loop: fires at the next intended start */
    struct kb_slot **free_slots;
    uint32_t free_count;
    bool preloading;
    uint64_t preload_next;
    uint64_t last_done_ns;
    struct kb_stats stats;
    struct kb_hist progress;    /* since the last progress line */
    uint64_t progress_ops, progress_at_ns;
    bool tty;
    uint32_t *timeline_ok, *timeline_err;
    uint32_t timeline_len;
};

uint64_t kb_now_ns(void);

/* The calls kvbench makes; a pending entry remembers which, to decode its reply. */
enum kb_call { KB_CALL_PING, KB_CALL_GET, KB_CALL_SET, KB_CALL_RANGE, KB_CALL_GRV,
               KB_CALL_SREAD, KB_CALL_COMMIT };

/* Values are cut at a random offset from a buffer this much longer than one value. */
#define KB_VALUE_SLACK 4096u

/* kb_wire.c: encodes a phase's calls for a slot into out; decodes one reply. */
struct kb_reply {
    int code;                   /* ErrorCode, KB_CODE_PROTOCOL */
    bool found;
    int64_t version;
    char hint[KB_ENDPOINT_LEN_MAX];
};
void kb_key(const struct kb_bench *b, uint64_t index, uint8_t *out);
int kb_wire_encode(struct kb_bench *b, struct kb_slot *s, struct kb_conn *c);
void kb_wire_decode(enum kb_call call, int32_t seqid, const uint8_t *msg, size_t len,
                    struct kb_reply *r);

/* kb_session.c (--session): opens a session per connection before the run; 0 or -1. */
int kb_sessions_open(struct kb_bench *b);
/* The SessionRef of slot s's write: its number, and every answer below its connection's
   oldest write in flight acknowledged. */
struct SessionRef;
void kb_session_ref(const struct kb_slot *s, struct SessionRef *ref);

/* kb_conn.c: connections, pipelining, replies, retries, leader hints. */
int kb_conn_open(struct kb_bench *b, struct kb_conn *c, uint32_t id);
void kb_conn_close(struct kb_conn *c);
/* Sends the slot's current phase, or queues it until the connection is up. */
void kb_conn_issue(struct kb_conn *c, struct kb_slot *s);
/* Sends the slot again after a short backoff (or once the connection is back). */
void kb_conn_requeue(struct kb_conn *c, struct kb_slot *s, bool backoff);
/* Where a reply moves the connection once its pipe drains: the leader a HOST:PORT hint names
   (after NOT_LEADER, or TIMEOUT and UNAVAILABLE from a node that knows the new leader), `next`
   after NOT_LEADER without a usable hint; NULL to stay (or when that is where it is). */
const char *kb_redirect_to(int code, const char *hint, const char *current, const char *next);
/* Whether a retry after code waits for the backoff: not when it goes to a hinted leader, nor
   after TIMEOUT (a node answers it once the leader the call waited on is gone, and holds the
   retry until it knows the next one). */
bool kb_retry_waits(int code, bool redirected);

/* kb_run.c: the load: starting ops, completion, timers, progress. */
int kb_run(struct kb_bench *b);
void kb_slot_done(struct kb_bench *b, struct kb_slot *s, int code, bool found);
/* A retryable failure: the op starts over (a txn from its read version) after a backoff. */
bool kb_slot_may_retry(struct kb_bench *b, struct kb_slot *s, int code);
int kb_preload(struct kb_bench *b);

/* kb_report.c */
void kb_report_table(const struct kb_bench *b);
void kb_report_json(const struct kb_bench *b);
int kb_report_csv(const struct kb_bench *b, const char *path);
int kb_report_timeline(const struct kb_bench *b, const char *path);
int kb_report_plot(const struct kb_bench *b, const char *png_path);
void kb_total_hist(const struct kb_stats *s, struct kb_hist *into);

/* kb_probe.c: the floors: loopback TCP round trip and one fdatasync. */
int kb_probe_rtt(uint32_t count, bool json);
int kb_probe_fsync(const char *dir, uint32_t count, bool json);

int kb_self_test(void);

#endif
