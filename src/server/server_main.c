/* server_main.c: kvnode: parse arguments, load the config, run one node until a signal. */
#include "server_node.h"

#include "log.h"

#include <event2/event.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_USAGE 2

static void usage(FILE *out)
{
    fprintf(out,
            "usage: kvnode --config FILE\n"
            "       kvnode --help | --version\n"
            "Serves TransactionalKV (Apache Thrift binary protocol, framed or unframed) as\n"
            "the config says. SIGTERM or SIGINT stops it gracefully.\n"
            "Exit codes: 0 stopped cleanly, 1 runtime failure, 2 usage or config error.\n"
            "\n"
            "storage.fsync (durability of acknowledged writes):\n"
            "  \"always\"  (default) a write is acknowledged only after the log is fsynced;\n"
            "            writes arriving together share one fsync (group commit).\n"
            "  N (ms)    like Redis 'appendfsync everysec' with N ms: writes are acknowledged\n"
            "            before their fsync, which follows within N ms, so a machine crash or\n"
            "            power loss can lose up to the last N ms of acknowledged writes (a\n"
            "            crash of kvnode alone loses nothing: the kernel holds the data).\n"
            "  \"never\"   no fsync at all (benchmarks only).\n"
            "storage.snapshot_every_entries (default 10000; 0: never),\n"
            "storage.snapshot_log_min_bytes (default 67108864, 64 MiB; 0: no minimum) and\n"
            "storage.snapshot_log_growth_percent (default 100; 0: no growth rule):\n"
            "  a snapshot is written when at least snapshot_every_entries writes were applied\n"
            "  since the last one AND the log written since then is at least\n"
            "  snapshot_log_min_bytes (like Redis' auto-aof-rewrite-min-size; a compaction\n"
            "  removes whole log segments only, storage.wal_segment_bytes, default 64 MiB)\n"
            "  AND at least that percent of the last snapshot's size (like Redis'\n"
            "  auto-aof-rewrite-percentage), so a big store is not rewritten after a few\n"
            "  small writes. A start restores the newest snapshot, then replays the log after\n"
            "  it: up to about the larger of the two sizes (64 MiB: ~400,000 small writes,\n"
            "  ~2 s). The node writes a snapshot to data_dir in small steps while it keeps\n"
            "  serving; then the log below it is removed. A failed snapshot is logged and\n"
            "  retried after 1 s.\n"
            "storage.min_free_bytes (default 67108864, 64 MiB): with less free space on\n"
            "  data_dir's file system, or after the disk filled up, writes are refused with\n"
            "  NO_SPACE (reads are served) until space is freed (like etcd's NOSPACE alarm).\n"
            "  A log or snapshot I/O error, or a corrupt log, stops the node from taking\n"
            "  writes: kvctl status shows storage_failure; see HACKING.md for what to do.\n"
            "\n"
            "deployment.instance_id is the node's member id, a decimal number: the node_id and\n"
            "  leader_id of every answer (a standalone node is 0 unless it is given).\n"
            "deployment.mode \"replicated\": deployment.instance_id is this node's index in\n"
            "  deployment.replica_endpoints (HOST:PORT, an odd count); cluster_secret (16 to\n"
            "  256 bytes) or cluster_secret_file authenticates peers; consensus.\n"
            "  election_timeout_ms, heartbeat_interval_ms, request_timeout_ms (how long a request\n"
            "  waits for a leader and its commit; default 2000) and peer_call_timeout_ms.\n"
            "  Writes on a follower are forwarded to the leader; reads are LINEARIZABLE (read\n"
            "  index) unless the request asks for SERIALIZABLE (local state). The log keeps\n"
            "  storage.snapshot_catchup_entries (5000) entries below each snapshot, so a\n"
            "  follower briefly behind catches up from it (memory holds that many applied\n"
            "  entries; older ones are read back from disk); one further behind gets the\n"
            "  leader's snapshot, streamed from its file (resumed after any failure) into\n"
            "  data_dir/snapshot-INDEX.kvsnap.recv, then installed.\n"
            "http.listen (HOST:PORT; off when absent): GET /metrics (Prometheus), /health and\n"
            "  /ready (200, or 503 with the reason; http.health_max_apply_lag, default 1000:\n"
            "  applied this many entries behind commit is unhealthy) and a live dashboard at /.\n"
            "tls.cert and tls.key (PEM): the port speaks only TLS (1.2 or later), to clients\n"
            "  and peers; tls.ca (PEM bundle) verifies client certificates, tls.client_auth\n"
            "  \"none\" (default), \"optional\" or \"require\". A refused handshake is logged\n"
            "  with its reason. peer_tls.ca (the cluster CA), peer_tls.cert, peer_tls.key\n"
            "  (default: tls.*): mutual TLS between nodes (replicated mode).\n"
            "sessions.timeout_ms (default 120000) and sessions.max_timeout_ms (3600000):\n"
            "  the idle timeout of a client session (openSession) when it asks for none, and\n"
            "  the most it may ask for (at least 1000). Sessions make retried writes apply at\n"
            "  most once; they expire in log time, alike on every replica.\n"
            "debug.fault_injection true: the node obeys data_dir/faults (lines drop_to=1,2,\n"
            "  drop_from=2, delay_ms=1:20, rate_kbps=1:8000, disk_fail=sync:3:EIO; see\n"
            "  src/server/server_faults.c). Tests only.\n"
            "\nAlso listen (HOST:PORT), data_dir, log_level, and limits (defaults):\n"
            "  max_frame_bytes (16 MiB), max_connections (1024), max_connections_per_address\n"
            "  (512 per source IP; 0: no bound of its own), idle_timeout_ms (300000),\n"
            "  per connection max_pending_requests (256) and output_high_water_bytes (4 MiB)\n"
            "  before its reads stop, max_key_bytes (10000), max_value_bytes (100000),\n"
            "  max_txn_bytes (10 MB), max_txn_operations (10000), max_range_results (10000),\n"
            "  max_reply_bytes (16000000: no reply is longer; a range stops early, has_more),\n"
            "  mvcc_window_ms (5000) and mvcc_window_versions (0: no bound in versions),\n"
            "  max_watches (10000 waiting at once; BUSY past it) and watch_timeout_ms (30000:\n"
            "  a watch's default and longest wait; also under half of idle_timeout_ms).\n"
            "At a connection limit the least recently active idle connection (a silent one\n"
            "  first) is closed to make room, never an authenticated peer's; when all are busy\n"
            "  the newcomer is refused, except that a replicated node keeps 32 more slots a\n"
            "  newcomer holds only by authenticating as a peer: clients cannot stop elections.\n"
            "Lines any client can cause (connections closed, refused, bad input) are written\n"
            "  20 per 10 s at most, then one summary line counts the rest.\n"
            "Unknown keys and wrong types are errors naming the file, line and key.\n");
}

/* Returns the config path, or NULL after printing why (exit code in *code). */
static const char *parse_args(int argc, char **argv, int *code)
{
    const char *path = NULL;
    *code = EXIT_USAGE;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            *code = 0;
            return NULL;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("kvnode %s\n", SERVER_VERSION);
            *code = 0;
            return NULL;
        }
        if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) && i + 1 < argc)
            path = argv[++i];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            path = argv[i] + 9;
        else {
            fprintf(stderr, "kvnode: unexpected argument '%s'\n", argv[i]);
            usage(stderr);
            return NULL;
        }
    }
    if (!path) {
        fprintf(stderr, "kvnode: --config FILE is required\n");
        usage(stderr);
    }
    return path;
}

static int run(const struct server_config *cfg)
{
    struct event_base *base = event_base_new();
    if (!base) {
        log_error("cannot create the event loop");
        return 1;
    }
    struct server_node node;
    int code = 1;
    if (server_node_open(&node, cfg, base) == 0) {
        event_base_dispatch(base);
        code = node.exit_code;
    }
    server_node_close(&node);
    event_base_free(base);
    return code;
}

int main(int argc, char **argv)
{
    int code;
    const char *path = parse_args(argc, argv, &code);
    if (!path)
        return code;
    struct server_config cfg;
    char err[SERVER_CONFIG_ERR_MAX];
    if (server_config_load(&cfg, path, err, sizeof err) != 0) {
        fprintf(stderr, "kvnode: %s\n", err);
        return EXIT_USAGE;
    }
    signal(SIGPIPE, SIG_IGN);
    log_set_level((enum log_level)cfg.log_level);
    log_set_node(cfg.instance_id);
    char abs_dir[PATH_MAX];
    log_info("kvnode %s starting: config %s, listen %s, data_dir %s", SERVER_VERSION, path,
             cfg.listen, realpath(cfg.data_dir, abs_dir) ? abs_dir : cfg.data_dir);
#ifdef PLANTED_BUG_NAME
    log_warn("this kvnode was built with the planted bug %s (tools/mutants): never use it",
             PLANTED_BUG_NAME);
#endif
    code = run(&cfg);
    server_config_free(&cfg);
    return code;
}
