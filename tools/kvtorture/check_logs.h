/* check_logs.h: checking a history streamed to worker logs (hlog.h) in bounded memory: one
   pass counts ops per key and per second; keys are packed into shards of at most
   KVT_SHARD_OPS_MAX ops (a key never split); each shard is loaded, checked and freed. */
#ifndef KVT_CHECK_LOGS_H
#define KVT_CHECK_LOGS_H

#include "check.h"

#include <stdio.h>

/* About 110 MB of ops and some 120 MB of checker state at a time. */
#define KVT_SHARD_OPS_MAX (2u * 1000 * 1000)

struct kvt_logs {
    const char *dir;            /* holds worker-N.ops, and shard-N.ops while checking */
    unsigned workers;
    int64_t start_ns;           /* per-second bins count from the run's start */
    size_t seconds;             /* bins; later ops count in the last */
    size_t shard_ops_max;       /* 0: KVT_SHARD_OPS_MAX */
};

/* Ops invoked in one second: all of them, and the reads and writes by outcome (a cas fails
   by design when its expected value is stale, so availability leaves cas out). */
struct kvt_second {
    size_t ops, ok;
    size_t rw[KVT_OUTCOMES];
};

struct kvt_logs_stats {
    struct kvt_counts counts;
    size_t ops, shards;
    struct kvt_second *per_second;
};

/* Path of worker i's log in dir. */
void kvt_logs_worker_path(const char *dir, unsigned i, char *out, size_t size);
/* Checks every op in the logs with c (then kvt_check_finish); writes each op to history as
   text when it is not NULL; fills s. 0, -1 (memory or I/O: message printed). */
int kvt_logs_check(const struct kvt_logs *l, struct kvt_check *c, struct kvt_logs_stats *s,
                   FILE *history);
void kvt_logs_stats_free(struct kvt_logs_stats *s);

#endif
