/* wal_seg.h: one segment's records in memory: where each sits in the stream, and its term. */
#ifndef WAL_SEG_H
#define WAL_SEG_H

#include <stddef.h>
#include <stdint.h>

#include "wal_error.h"

/* Where one record sits in its segment's stream, and its term, so reads and term lookups need
   no scan. */
struct wal_loc {
    uint64_t offset;
    uint64_t term;
};

/* One segment file; its records are first_index .. first_index + count - 1. */
struct wal_seg {
    uint64_t first_index;
    uint64_t size;   /* stream bytes (records), buffered ones included for the active one */
    size_t count;
    size_t cap;
    struct wal_loc *locs;
};

/* Appends a record's place; WAL_ERR_NOMEM (with a message in err, which may be NULL). */
int wal_seg_push_loc(struct wal_errmsg *err, struct wal_seg *s, uint64_t offset, uint64_t term);
void wal_seg_free(struct wal_seg *s);

#endif
