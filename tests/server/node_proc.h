/* node_proc.h: run a real kvnode process for a test: temp data dir, free port, a client. */
#ifndef TESTS_NODE_PROC_H
#define TESTS_NODE_PROC_H

#include "kvstore.h"
#include "net_client.h"
#include "test_call.h"
#include "thrift.h"

#include <stdbool.h>
#include <sys/types.h>

struct node_proc {
    pid_t pid;
    char dir[256];        /* temp dir: config.json, data/, log */
    char config[300];
    char log[300];
    char addr[64];        /* 127.0.0.1:PORT */
    uint16_t port;
};

/* The nodes' log level ("warn" unless this names another), for tests that read their logs. */
#define NODE_LOG_LEVEL_ENV "NODE_PROC_LOG_LEVEL"
/* Set: node_cleanup keeps each node's temp dir (config, data, log) and prints its path. */
#define NODE_KEEP_ENV "NODE_PROC_KEEP"

/* Picks a free port, writes a config (extra is more JSON members, may be ""), starts kvnode
   and waits until it accepts connections. */
void node_start(struct node_proc *p, const char *extra);
/* The same on a port chosen before (a cluster's configs name every node's port). */
void node_start_at(struct node_proc *p, uint16_t port, const char *extra);
/* Starts again with the same dir, port and config. */
void node_restart(struct node_proc *p);
/* Sends sig and waits for the exit; returns the exit status (128 + signal if killed). */
int node_stop(struct node_proc *p, int sig);
/* Waits up to timeout_s for the node to exit by itself: its exit status as node_stop's, or
   -1 when it is still running then. */
int node_wait_exit(struct node_proc *p, double timeout_s);
/* Removes the temp dir. */
void node_cleanup(struct node_proc *p);
/* Runs kvnode with args and returns its exit code; its stderr goes to err (NUL-ended). */
int node_run_once(const char *const *args, char *err, size_t err_size);

/* Whether the node's log (its first MiB) holds the text. */
bool node_log_contains(const struct node_proc *p, const char *what);

/* A connected client (framed unless said otherwise). */
void node_connect(const struct node_proc *p, struct net_client *c, bool framed);

/* Typed helpers over the generated send/recv; each asserts the transport worked. */
void node_set(struct net_client *c, const char *key, const char *value, SetResponse *out);
/* Sets keys PREFIX-00000 .. (from to to-1), each to its own name, and asserts key i is written
   at version i + 1 (a fresh node's writes, in order). */
void node_set_keys(struct net_client *c, const char *prefix, int from, int to);
bool node_get(struct net_client *c, const char *key, char *value, size_t size);
void node_info(struct net_client *c, NodeInfo *out);
/* node_info's snapshot_index: the newest snapshot's index, 0 when none. */
int64_t node_snapshot_index(struct net_client *c);
/* Replaces the node's fault file (debug.fault_injection; src/server/server_faults.c)
   atomically. */
void node_write_faults(const struct node_proc *p, const char *text);
/* The node's wall clock (ping's timestamp_us). */
int64_t node_ping_us(struct net_client *c);
/* A linearizable read version (asserts it is given). */
int64_t node_read_version(struct net_client *c);
/* snapshotRead of key at version: 0 with the value in value ("" when not found), or the
   error code. */
int node_snapshot_read(struct net_client *c, const char *key, int64_t version, char *value,
                       size_t size);

uint16_t node_free_port(void);
double node_now(void);

#endif
