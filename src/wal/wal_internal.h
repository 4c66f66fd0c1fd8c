/* wal_internal.h: the state of an open WAL, shared by the files of src/wal only. */
#ifndef WAL_INTERNAL_H
#define WAL_INTERNAL_H

#include <pthread.h>
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

/*
 * The zero-filler: a thread that keeps the active segment written with zeros (and those zeros
 * and the file size durable) ahead of the owner's write position, so the owner's fdatasync
 * overwrites allocated blocks and commits no metadata. It writes only past owner_end, and the
 * owner publishes a new owner_end before each write; an owner write that would reach a range
 * the filler is writing at that moment waits for that one piece (only when the fill is behind).
 * The filler has its own open file description of the segment, never a dup: its fdatasync
 * must not consume a writeback error the owner's fdatasync has to see.
 */
struct wal_fill {
    bool running;           /* the thread exists (owner-only) */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t wake;    /* the filler waits here for work */
    pthread_cond_t piece_done; /* the owner waits here for an in-flight piece */
    uint8_t *zeros;         /* one piece of zeros, read by the filler only */
    /* Everything below is guarded by mu. */
    bool stop;
    uint64_t gen;           /* bumped by pause and resume; a piece of an older gen is void */
    int fd_next;            /* the active segment for the filler to take at a new gen, or -1 */
    uint64_t owner_end;     /* the owner has written, or is writing, nothing past here */
    uint64_t filled_end;    /* zeros (or the owner's data) reach here in the file */
    uint64_t limit;         /* no zeros past here: segment_size_max */
    uint64_t ahead;         /* target: owner_end + ahead */
    bool idle;              /* the filler waits on wake */
    bool in_flight;         /* the filler is writing [piece_start, piece_end) without mu */
    uint64_t piece_start;
    int sys_errno;          /* the filler's first failure; it fills no more (appends fall back) */
    bool error_logged;      /* owner-only */
    uint64_t bytes_zeroed;  /* counters, for tests and benchmarks */
    uint64_t syncs;
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
    struct wal_fill fill;
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

/* wal_fill.c: the zero-filler's lifecycle; every call is the owner's. */
/* Below this a segment rolls (a journal commit of its own) every few syncs: zeros ahead would
   only add a sync per segment. */
enum { wal_fill_segment_size_min = 64 << 10 };
static inline bool wal_fill_wanted(const struct wal_config *cfg)
{
    return cfg->zero_ahead_bytes != 0 && cfg->fsync != WAL_FSYNC_NEVER &&
           cfg->segment_size_max >= wal_fill_segment_size_min;
}
void wal_fill_init(struct wal *w); /* no thread yet; pause/resume/publish are no-ops */
void wal_fill_start(struct wal *w); /* after recovery; failing to start only logs */
void wal_fill_stop(struct wal *w);  /* joins the thread */
/* Before the active segment is cut, closed or replaced: returns with no piece in flight and
   the filler idle until wal_fill_resume(). */
void wal_fill_pause(struct wal *w);
/* The active segment is ready again; bytes past active_written up to the file's size are
   zeros (recovery verified them, or the file is new or was just cut). */
void wal_fill_resume(struct wal *w);
/* The owner is about to write the active segment up to end. */
void wal_fill_publish(struct wal *w, uint64_t end);

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
