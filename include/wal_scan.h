/* wal_scan.h: recovery's verdict on one segment file's bytes (a pure function, fuzzed). */
#ifndef WAL_SCAN_H
#define WAL_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wal_error.h"
#include "wal_format.h"
#include "wal_seg.h"

enum wal_scan_result {
    WAL_SCAN_CLEAN,       /* keep the file as it is (zeros after the records stay) */
    WAL_SCAN_CUT,         /* a torn tail: keep stream_end bytes of records, cut the rest */
    WAL_SCAN_TORN_HEADER, /* the last segment's creation never finished: remove the file */
};

struct wal_scan {
    /* In: for messages, the limit, and whether the file is the log's last segment. */
    const char *dir;
    const char *name;
    uint32_t payload_max;
    bool is_last;
    struct wal_errmsg *err; /* may be NULL */
    /* In and out: the term of the last record before this segment, then of its last one. */
    uint64_t prev_term;
    /* Out, when the scan returns 0. */
    enum wal_scan_result result;
    uint64_t stream_end; /* stream bytes of whole, verified records */
    uint64_t durable;    /* stream bytes a block proves a completed sync covered */
    uint32_t epoch;      /* for the segment's next blocks */
};

/*
 * Verifies a segment file's bytes data[0..size) and fills seg (first_index set by the caller)
 * with its records. The data is rewritten in place: afterwards data[0..stream_end) is the
 * record stream. 0, or WAL_ERR_CORRUPT / WAL_ERR_FORMAT / WAL_ERR_NOMEM with a message naming
 * the file, the offset and the index.
 */
int wal_scan_segment(struct wal_scan *sc, uint8_t *data, size_t size, struct wal_seg *seg);

#endif
