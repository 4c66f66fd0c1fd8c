/* wal_internal.h: the state of an open WAL, shared by the files of src/wal only. */
#ifndef WAL_INTERNAL_H
#define WAL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wal.h"
#include "wal_format.h"

/* Where one record sits in its segment, and its term, so reads and term lookups need no scan. */
struct wal_loc {
    uint64_t offset;
    uint64_t term;
};

/* One segment file; its records are first_index .. first_index + count - 1. */
struct wal_seg {
    uint64_t first_index;
    uint64_t size;   /* bytes, header included, buffered bytes included for the active one */
    size_t count;
    size_t cap;
    struct wal_loc *locs;
};

struct wal {
    struct wal_config cfg;
    char *dir;
    int dir_fd;
    int lock_fd;

    /* Sorted, contiguous; never empty once open. The last one is the active segment. */
    struct wal_seg *segs;
    size_t nsegs;
    size_t segs_cap;
    int active_fd;
    uint64_t active_written; /* bytes of the active segment handed to write(2) */

    uint8_t *buf; /* records not yet written, destined for the active segment's end */
    size_t buf_used;

    uint64_t snapshot_index;
    uint64_t snapshot_term;
    uint64_t durable_index;
    uint64_t truncations; /* bumped by every suffix removal; a sync job started before one
                             must not advance the durable index */
    bool dir_dirty;       /* a segment was created since the directory was last synced */
    bool failed;          /* a write or sync failed: nothing more is trusted until reopen */
    bool sync_in_flight;
    bool synced_once;
    uint64_t last_sync_ms;

    struct wal_hard_state hard_state;
    struct wal_errmsg err;
};

static inline struct wal_seg *wal_active(struct wal *w)
{
    return &w->segs[w->nsegs - 1];
}

static inline uint64_t wal_seg_last(const struct wal_seg *s)
{
    return s->first_index + s->count - 1;
}

/* wal_segment.c */
int wal_seg_push_loc(struct wal *w, struct wal_seg *s, uint64_t offset, uint64_t term);
void wal_seg_free(struct wal_seg *s);
int wal_segs_push(struct wal *w, const struct wal_seg *s);
size_t wal_seg_find(const struct wal *w, uint64_t index); /* the segment holding index */
int wal_seg_create(struct wal *w, uint64_t first_index); /* appends it as the active one */
int wal_seg_open_active(struct wal *w);
int wal_seg_unlink(struct wal *w, size_t i);
int wal_dir_sync(struct wal *w);
int wal_data_sync(struct wal *w, int fd, const char *what);

/* wal_append.c */
int wal_flush(struct wal *w);

/* wal_scan.c: verifies one segment's bytes; fills seg->locs. */
enum wal_scan_result { WAL_SCAN_CLEAN, WAL_SCAN_TORN_TAIL, WAL_SCAN_TORN_HEADER };
int wal_scan_segment(struct wal *w, const char *name, const uint8_t *data, size_t size,
                     bool is_last, uint64_t *prev_term, struct wal_seg *seg,
                     enum wal_scan_result *result);

/* wal_meta.c: small checksummed files written atomically. */
int wal_meta_load(struct wal *w);
int wal_snapshot_save(struct wal *w, uint64_t index, uint64_t term);

/* wal_recover.c */
int wal_recover(struct wal *w);

#endif
