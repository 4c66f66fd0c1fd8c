/* server_node.h: one kvnode: its config, store, log, network, and the write path. */
#ifndef SERVER_NODE_H
#define SERVER_NODE_H

#include "kv_sm.h"
#include "kvstore.h"
#include "net.h"
#include "net_turn.h"
#include "server_entry.h"
#include "server_config.h"
#include "thrift.h"
#include "wal.h"

#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct event;
struct server_rep;
struct server_snap_state;
struct server_vwaits;
struct server_watches;
struct server_stats;
struct server_http;
struct server_faults;
struct sio;

#define SERVER_VERSION "0.1.0"
/* Graceful stop gives in-flight requests this long before exiting anyway. */
#define SERVER_STOP_DEADLINE_MS 10000u
/* Connections past limits.max_connections that only a peer can keep (replicated mode). */
#define SERVER_PEER_RESERVED_CONNECTIONS 32u
/* An entry is a frame's command plus the clock header; leave room for that. */
#define SERVER_ENTRY_SLACK 64u

/* Called once the write is durable and applied (or failed); res->code is an ErrorCode. */
typedef void (*server_commit_cb)(void *ctx, const struct server_apply_result *res);

struct server_pending {
    struct server_pending *next;
    uint64_t index;
    uint8_t *data;                  /* the encoded entry, applied once durable */
    size_t len;
    server_commit_cb cb;
    void *ctx;
};

struct server_node {
    const struct server_config *cfg;
    uint64_t incarnation;           /* data_dir/identity's (consensus.member_identity), else 0 */
    uint64_t identity_cluster;      /* the cluster id data_dir/identity names, 0: none yet */
    struct event_base *base;
    struct net_server *net;
    kv_sm *sm;                      /* the KV state machine: every write goes through it */
    struct wal *wal;
    tp_limits wire_limits;          /* for decoding requests */
    uint32_t txn_operations_max;    /* admission limit, checked before proposing */
    struct net_turn_part commit;    /* group commit: the end of turn's commit step (net_turn.h) */
    struct event *sync_ev;          /* fsync N ms: syncs what the last writes left unsynced */
    struct event *stop_ev;          /* deadline of a graceful stop */
    struct event *sig_term, *sig_int;
    struct server_pending *pending_head, *pending_tail;
    tp_buf entry_buf;               /* one encoded entry at a time */
    tp_buf reply_buf;               /* one encoded reply at a time */
    uint64_t snapshot_index;        /* of the newest snapshot file; 0: none */
    struct server_snap_state *snap; /* background snapshots (server_snap_internal.h) */
    int64_t start_ms;
    int64_t start_wall_s;           /* since the Unix epoch (process_start_time_seconds) */
    struct server_rep *rep;         /* replicated mode; NULL when standalone */
    struct server_vwaits *vwaits;   /* reads waiting for a version (server_vwait.h) */
    struct server_watches *watches; /* watches waiting for a change (server_watch.h) */
    struct server_stats *stats;     /* requests by method and code, the last second's rates */
    struct event *stats_ev;         /* samples stats once a second */
    struct server_http *http;       /* http.listen: metrics, health, dashboard; NULL: off */
    SSL_CTX *tls;                   /* tls.cert: the port's TLS context; NULL: plain */
    const struct sio *io;           /* storage seam of the log and snapshots (util/sio.h) */
    struct server_faults *faults;   /* debug.fault_injection: data_dir/faults */
    struct event *space_ev;         /* measures data_dir's free space (server_disk.c) */
    bool space_low;                 /* below storage.min_free_bytes */
    bool space_full;                /* a write found the disk full; writes tried again at: */
    int64_t space_retry_ms;
    bool failed;                    /* storage failed: writes are refused (why: failure) */
    char failure[256];
    bool stopping;
    bool stop_transferring;         /* a stopping leader hands over first (server_transfer.c) */
    int exit_code;
};

/* Opens the data dir, recovers the log into the store, listens. 0 or -1 (logged). */
int server_node_open(struct server_node *n, const struct server_config *cfg,
                     struct event_base *base);
/* Stops taking requests, finishes those in flight, syncs the log, then ends the loop. */
void server_node_stop(struct server_node *n);
/* A leader of a replicated cluster asked to stop hands over first: true when a transfer
   started (its end calls server_node_stop again, which then stops). server_transfer.c */
bool server_transfer_before_stop(struct server_node *n);
void server_node_close(struct server_node *n);

/* The write path, the one door consensus will stand behind: checks, logs and (in standalone
   mode) commits cmd at the end of this loop turn, or (replicated) routes it to the leader's
   log (server_rep.h); cb runs exactly once, maybe with an error code. from_peer: the call
   was forwarded by a peer (it is never forwarded again). */
void server_propose(struct server_node *n, const KvCommand *cmd, bool from_peer,
                    server_commit_cb cb, void *ctx);

/* Called by net for each whole request (server_dispatch.c). */
/* The group commit (server_write.c): the end of turn's commit step runs it. */
void server_commit_turn(int fd, short what, void *arg);
/* The fsync-interval timer's callback (server_write.c). */
void server_sync_due(int fd, short what, void *arg);

void server_on_message(void *ctx, struct net_reply *reply, const uint8_t *msg, size_t len);

/* Storage state (server_disk.c). A failed node's storage returned an I/O error (or its log
   or a snapshot cannot be trusted): it refuses writes and linearizable reads until restarted.
   why (may be NULL) gets the reason. For kvctl status and /health. */
bool server_node_failed(const struct server_node *n, char *why, size_t why_len);
/* The disk is full or below storage.min_free_bytes: writes are refused with NO_SPACE. */
bool server_node_no_space(const struct server_node *n);
/* Standalone: storage failed doing `what`; logs it once with detail (the WAL's last error). */
void server_node_fail(struct server_node *n, const char *what, const char *detail);
/* At a start: data_dir's `what` ("log", "newest snapshot") failed its checks. Logs what an
   operator does about it (server_disk.c): rebuild a replica from the others, restore a
   standalone node from a backup (standalone_hint: more it can do, may be NULL). */
void server_node_damaged(const struct server_node *n, const char *what,
                         const char *standalone_hint);
/* Writes refused right now for lack of space; a write that found the disk full (the log cut
   back: nothing of it is anywhere); a write that went through. */
bool server_disk_refuses(struct server_node *n);
void server_disk_full(struct server_node *n);
void server_disk_wrote(struct server_node *n);
int server_disk_start(struct server_node *n); /* the free-space check: first now, then 1/s */
void server_disk_stop(struct server_node *n);

/* The fault file (server_faults.c), with debug.fault_injection: open sets n->io (before the
   log opens) and applies disk faults at once; start polls the file on the loop. */
int server_faults_open(struct server_node *n);
int server_faults_start(struct server_node *n);
void server_faults_close(struct server_node *n);

/* The store behind the state machine, for reads; valid until the next apply or restore. */
static inline const kv_store *server_store(const struct server_node *n)
{
    return kv_sm_store(n->sm);
}

int64_t server_now_ms(void);
/* The wall clock in µs since the Unix epoch: the leader clock entries carry (the MVCC window's
   time edge), ping's timestamp. Timers run on server_now_ms, which no clock step moves. */
int64_t server_wall_us(void);
/* Sets the wall clock that many µs off, as an NTP step would (the fault file's
   clock_offset_ms). */
void server_wall_offset_set(int64_t us);

#endif
