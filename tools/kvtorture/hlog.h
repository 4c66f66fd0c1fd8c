/* hlog.h: a history streamed to disk as it happens: each worker appends its ops to its own
   file of fixed-size binary records, so a run of any length holds no history in memory. */
#ifndef KVT_HLOG_H
#define KVT_HLOG_H

#include "history.h"

#include <stdio.h>

#define KVT_HLOG_RECORD_BYTES 56

struct kvt_hlog {
    FILE *f;
    size_t count;
    bool failed;               /* a write failed: the log is incomplete */
};

/* 0, or -1 (errno set). */
int kvt_hlog_create(struct kvt_hlog *l, const char *path);
/* Buffered; a failure is remembered for close. */
void kvt_hlog_add(struct kvt_hlog *l, const struct kvt_op *op);
/* 0, or -1 when any write failed. */
int kvt_hlog_close(struct kvt_hlog *l);

/* The next record of f: 1, 0 at a clean end, -1 on a torn or foreign record. */
int kvt_hlog_next(FILE *f, struct kvt_op *op);
/* Appends op to f (the same format, for shard files). 0 or -1. */
int kvt_hlog_put(FILE *f, const struct kvt_op *op);

#endif
