/* server_config.h: the node's JSON configuration: what it holds and how it is loaded. */
#ifndef SERVER_CONFIG_H
#define SERVER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SERVER_REPLICAS_MAX 7u
#define SERVER_CONFIG_ERR_MAX 512u
/* Operations (and read-conflict entries) of one transaction at most; a log entry's lists must
   also decode within the state machine's container bound (asserted in server_write.c). */
#define SERVER_TXN_OPERATIONS_CEILING 100000u

enum server_mode { SERVER_MODE_STANDALONE, SERVER_MODE_REPLICATED };

/* storage.fsync: "always" (the default) acknowledges a write only after the log is fsynced;
   a number N of ms is Redis' "appendfsync everysec" with N ms: writes are acknowledged at once
   and fsynced at most N ms later, so a machine crash (not a process crash: the page cache
   survives that) may lose the writes of the last N ms; "never" leaves syncing to the kernel
   (benchmarks only). */
enum server_fsync { SERVER_FSYNC_ALWAYS, SERVER_FSYNC_NEVER, SERVER_FSYNC_INTERVAL };

/* A snapshot is due when all three hold: storage.snapshot_every_entries entries were applied
   since the last one; the log written since then is at least storage.snapshot_log_min_bytes
   (Redis' auto-aof-rewrite-min-size; etcd's snapshot-count plays the same part in entries);
   and it is at least storage.snapshot_log_growth_percent of the last snapshot's size (Redis'
   auto-aof-rewrite-percentage: a big store is not encoded again after a few small writes; 0,
   or no snapshot yet: this part holds). The minimum defaults to one log segment, the least
   that a compaction can remove (it drops whole segments only); replaying that much log at a
   start takes about 2 s (~400,000 writes of 100-byte values at ~230,000 entries/s). */
#define SERVER_SNAPSHOT_EVERY_DEFAULT 10000u
#define SERVER_SNAPSHOT_LOG_GROWTH_PERCENT_DEFAULT 100u
#define SERVER_SNAPSHOT_LOG_MIN_BYTES_DEFAULT (64u * 1024 * 1024)
/* storage.snapshot_catchup_entries: log entries kept below each snapshot (replicated mode), so
   a follower briefly behind catches up from the log rather than from a snapshot (etcd's
   SnapshotCatchUpEntries, also 5,000). The consensus core keeps as many applied entries'
   payloads in memory; older ones (the log since the last snapshot) are read back from the log
   on disk when a follower needs them (src/cluster/cluster_release.c). */
#define SERVER_SNAPSHOT_CATCHUP_ENTRIES_DEFAULT 5000u
/* The cluster secret's length bounds (the HMAC key of peer authentication). */
#define SERVER_SECRET_BYTES_MIN 16u
#define SERVER_SECRET_BYTES_MAX 256u
#define SERVER_WAL_SEGMENT_BYTES_DEFAULT (64u * 1024 * 1024)
#define SERVER_WAL_SEGMENT_BYTES_MIN 4096u
#define SERVER_WAL_SEGMENT_BYTES_MAX (2u * 1024 * 1024 * 1024)
/* storage.min_free_bytes: below this much free space on data_dir's file system the node
   refuses writes with NO_SPACE (etcd's NOSPACE alarm; space for the log to finish what it has
   and for a snapshot to free it). One log segment by default; 0: only a full disk refuses. */
#define SERVER_MIN_FREE_BYTES_DEFAULT (64u * 1024 * 1024)
/* limits.max_reply_bytes: no reply (its frame header included) is longer; a range reply stops
   early with has_more set. The default stays below Apache Thrift's default maximum frame
   size, 16,384,000 bytes in the C++, Java, Go, C# and Python libraries, so stock clients
   with default settings read every reply. SERVER_REPLY_ENVELOPE_BYTES bounds everything of
   a reply but its key-value pairs (frame and message header, the response's other fields). */
#define SERVER_REPLY_BYTES_DEFAULT 16000000u
#define SERVER_REPLY_BYTES_MIN 4096u
#define SERVER_REPLY_ENVELOPE_BYTES 1024u
/* A KeyValue's encoding beyond its key and value bytes: two field headers, two lengths, stop. */
#define SERVER_REPLY_KV_OVERHEAD_BYTES 15u
#define SERVER_HEALTH_MAX_APPLY_LAG_DEFAULT 1000u
/* limits.max_watches and limits.watch_timeout_ms (server_watch.h) */
#define SERVER_WATCHES_DEFAULT 10000u
#define SERVER_WATCH_TIMEOUT_MS_DEFAULT 30000u
/* sessions.*: the idle timeout (log time) a client session gets when it asks for none, and
   the most it may ask for; the least is 1 s (KV_SESSION_TIMEOUT_US_MIN). */
#define SERVER_SESSION_TIMEOUT_MS_DEFAULT 120000u
#define SERVER_SESSION_TIMEOUT_MS_MAX_DEFAULT 3600000u

struct server_config {
    char *path;                  /* the file it came from */
    char *listen;                /* HOST:PORT */
    char *data_dir;
    int log_level;               /* enum log_level */
    enum server_mode mode;
    char *instance_id;           /* the member id as given; defaults to the listen address
                                    (a standalone node's log label) */
    char *replica_endpoints[SERVER_REPLICAS_MAX];
    uint32_t replica_count;      /* 0 for a node that joins (deployment.join) */
    bool join;                   /* deployment.join: added to a running cluster as */
    uint32_t join_member_id;     /* this member id, */
    char *join_endpoint;         /* reached by its peers at this HOST:PORT, */
    char *join_cluster_text;     /* in the cluster with this id (16 hex digits; optional) */
    uint64_t join_cluster_id;    /* join_cluster_text's value; 0: not given (any cluster) */
    uint32_t instance_index;     /* the member id (node_id in answers): instance_id as a
                                    number, < replica_count when replicated; 0 by default */
    char *cluster_secret;        /* replicated: from cluster_secret or cluster_secret_file */
    char *cluster_secret_file;
    uint32_t election_timeout_ms;
    uint32_t heartbeat_interval_ms;
    uint32_t request_timeout_ms; /* how long a request may wait for a leader and its commit */
    uint32_t peer_call_timeout_ms; /* a peer's reply later than this is lost */
    bool fault_injection;        /* debug.fault_injection: obey data_dir/faults */
    bool member_identity;        /* consensus.member_identity (default true): the data dir's
                                    incarnation is bound by the cluster; a wiped one is
                                    refused. false: the escape hatch (HACKING.md) */
    enum server_fsync fsync;
    uint32_t fsync_interval_ms;  /* SERVER_FSYNC_INTERVAL only */
    uint32_t snapshot_every_entries; /* applied entries between snapshots; 0: never */
    uint32_t snapshot_log_growth_percent; /* and log bytes since, in % of the last snapshot */
    uint32_t snapshot_log_min_bytes; /* and log bytes since, at least this many */
    uint32_t snapshot_catchup_entries; /* log kept below a snapshot (replicated) */
    uint32_t wal_segment_bytes;  /* a log segment rolls before growing past this */
    uint32_t min_free_bytes;     /* less free space on data_dir refuses writes (NO_SPACE) */
    /* limits */
    uint32_t max_frame_bytes;
    uint32_t max_connections;
    uint32_t max_connections_per_address; /* per source IP; 0: no bound of its own */
    uint32_t idle_timeout_ms;
    /* Per connection: unanswered requests, and reply bytes queued, before its reads stop.
       Together with max_connections they bound what clients that never read can pin. */
    uint32_t max_pending_requests;
    uint32_t output_high_water_bytes;
    uint32_t max_key_bytes;
    uint32_t max_value_bytes;
    uint32_t max_txn_bytes;
    uint32_t max_txn_operations;
    uint32_t max_range_results;  /* a getRange limit of 0 (or above this) means this many */
    uint32_t max_reply_bytes;    /* no reply is longer (SERVER_REPLY_BYTES_DEFAULT) */
    uint32_t mvcc_window_ms;
    uint32_t mvcc_window_versions;
    uint32_t max_watches;        /* watches waiting at once (server_watch.h) */
    uint32_t watch_timeout_ms;   /* a watch's default and longest wait */
    uint32_t session_timeout_ms;     /* sessions.timeout_ms: openSession's default */
    uint32_t session_timeout_ms_max; /* sessions.max_timeout_ms: the most one may ask for */
    /* http.listen: HOST:PORT of metrics, health and the dashboard; NULL: no HTTP. */
    char *http_listen;
    uint32_t http_health_max_apply_lag; /* applied this far behind commit: not healthy */
    /* tls.*: with a certificate the Thrift port speaks only TLS (clients and peers alike). */
    char *tls_cert, *tls_key;    /* PEM: the node's certificate chain and its key */
    char *tls_ca;                /* PEM bundle that client certificates must chain to */
    int tls_client_auth;         /* enum net_tls_client_auth */
    /* peer_tls.*: mutual TLS between nodes with a cluster CA. Outbound links present cert
       and key (default: tls.cert, tls.key) and verify the node they reach against ca; on
       this node's port, only connections whose certificate ca issued may authenticate as
       peers (the cluster secret's HMAC is still checked: both are needed). */
    char *peer_tls_cert, *peer_tls_key, *peer_tls_ca;
};

/* Every field at its default (and no strings). */
void server_config_default(struct server_config *cfg);

/* Loads path over the defaults. On error returns -1 with a one-line message in err naming
   the file, the line (when known) and the key; cfg is then freed. */
int server_config_load(struct server_config *cfg, const char *path, char *err, size_t err_size);

/* Same, from text in memory (path only names it in messages). */
int server_config_parse(struct server_config *cfg, const char *path, const char *text,
                        char *err, size_t err_size);

void server_config_free(struct server_config *cfg);

const char *server_mode_name(enum server_mode mode);

#endif
