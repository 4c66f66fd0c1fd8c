/* wal_truncate.c: removing a conflicting suffix, compaction below a snapshot, and reset. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <unistd.h>

#include "log.h"
#include "wal_internal.h"

/* Unlinks segments after keep (newest first, so a crash leaves a prefix) and syncs the dir. */
static int wal_unlink_after(struct wal *w, size_t keep)
{
    if (w->nsegs <= keep + 1)
        return 0;
    wal_fill_pause(w);
    wal_seg_close_active(w);
    w->buf_used = w->buf_flushed = 0;
    while (w->nsegs > keep + 1) {
        int rc = wal_seg_unlink(w, w->nsegs - 1);
        if (rc) {
            w->failed = true;
            return rc;
        }
    }
    int rc = wal_dir_sync(w);
    if (rc == 0)
        rc = wal_seg_open_active(w, 0);
    if (rc)
        w->failed = true;
    /* A finished segment was synced whole before the next one began. */
    w->durable_stream = wal_active(w)->size;
    return rc;
}

/*
 * Makes the active segment end at stream offset `cut` on disk, durably: the block holding the
 * cut is rewritten with a new epoch (so blocks a crash leaves past the cut read as stale), the
 * file is cut after it, and both are synced. The buffer then holds that block as the tail.
 */
int wal_cut_active(struct wal *w, uint64_t cut)
{
    struct wal_seg *s = wal_active(w);
    uint64_t buf_start = w->tail_block * wal_block_data_size;
    uint32_t epoch_on_disk;
    int rc = 0;
    if (cut >= buf_start && cut - buf_start <= w->buf_used) {
        w->buf_used = (size_t)(cut - buf_start); /* the block is in the buffer */
        if (w->buf_flushed > w->buf_used)
            w->buf_flushed = w->buf_used;
    } else {
        rc = wal_load_tail(w, cut, &epoch_on_disk);
    }
    if (rc == 0 && w->epoch == UINT32_MAX) {
        char name[wal_segment_name_size_max];
        wal_segment_name(name, s->first_index);
        rc = wal_fail(&w->err, WAL_ERR_CORRUPT, "%s/%s: its blocks reach epoch 4294967295: "
                      "no epoch is left to cut it with", w->dir, name);
    }
    if (rc) {
        w->failed = true;
        return rc;
    }
    w->epoch++;
    w->spilled = false;
    w->durable_dirty = true; /* rewrite the tail block even if it holds nothing new */
    if (w->durable_stream > cut)
        w->durable_stream = cut;
    wal_fill_pause(w);
    rc = wal_flush(w);
    if (rc == 0 && sio_ftruncate(w->io, w->active_fd, (off_t)wal_stream_file_size(cut)) != 0) {
        w->failed = true;
        rc = wal_fail_sys(&w->err, errno, "truncate segment %" PRIu64 " in %s", s->first_index,
                          w->dir);
    }
    if (rc == 0)
        rc = wal_data_sync(w, w->active_fd, "truncated segment");
    if (rc)
        return rc;
    w->durable_stream = cut;
    w->rbuf_seg = 0;
    wal_fill_resume(w);
    return 0;
}

/*
 * The cut is made durable at once: were it lost, records appended after it could end up next
 * to stale ones past it, a log no leader ever sent. Conflicts are rare; the cost is one sync.
 * After a write that ran out of space (spilled), this is how the log gets back to a state it
 * can write from: cutting back to what is durable drops what may be half written.
 */
int wal_truncate_suffix(struct wal *w, uint64_t from)
{
    if (w->failed)
        return wal_fail(&w->err, WAL_ERR_FAILED, "%s", w->dir);
    if (from > wal_last_index(w) + 1)
        return wal_fail(&w->err, WAL_ERR_RANGE, "truncate from %" PRIu64 ", log ends at %" PRIu64,
                        from, wal_last_index(w));
    if (from <= w->snapshot_index || from < wal_first_index(w))
        return wal_fail(&w->err, WAL_ERR_COMPACTED, "truncate from %" PRIu64 ", snapshot at %" PRIu64,
                        from, w->snapshot_index);
    if (from == wal_last_index(w) + 1 && !w->spilled)
        return 0;
    size_t k = from > wal_last_index(w) ? w->nsegs - 1 : wal_seg_find(w, from);
    int rc = wal_unlink_after(w, k);
    if (rc)
        return rc;
    struct wal_seg *s = wal_active(w);
    assert(from >= s->first_index);
    assert(from - s->first_index <= s->count);
    uint64_t cut = from - s->first_index < s->count ? s->locs[from - s->first_index].offset
                                                    : s->size;
    s->count = from - s->first_index;
    s->size = cut;
    w->truncations++;
    if (w->durable_index >= from)
        w->durable_index = from - 1;
    return wal_cut_active(w, cut);
}

int wal_compact(struct wal *w, uint64_t index, uint64_t term)
{
    if (w->failed)
        return wal_fail(&w->err, WAL_ERR_FAILED, "%s", w->dir);
    if (index <= w->snapshot_index)
        return index == w->snapshot_index && term != w->snapshot_term
                   ? wal_fail(&w->err, WAL_ERR_TERM, "compact at the snapshot with another term")
                   : 0;
    if (index > wal_last_index(w))
        return wal_fail(&w->err, WAL_ERR_RANGE, "compact to %" PRIu64 ", log ends at %" PRIu64,
                        index, wal_last_index(w));
    uint64_t have;
    int rc = wal_term_at(w, index, &have);
    assert(rc == 0);
    if (have != term)
        return wal_fail(&w->err, WAL_ERR_TERM, "compact to %" PRIu64 " term %" PRIu64
                        ", the log has term %" PRIu64, index, term, have);
    /* The snapshot point goes first: a crash after it leaves segments recovery drops. */
    rc = wal_snapshot_save(w, index, term);
    if (rc)
        return rc;
    w->snapshot_index = index;
    w->snapshot_term = term;
    bool dropped = false;
    while (w->nsegs > 1 && wal_seg_last(&w->segs[0]) <= index) {
        rc = wal_seg_unlink(w, 0);
        if (rc)
            return rc;
        dropped = true;
    }
    return dropped ? wal_dir_sync(w) : 0;
}

int wal_reset(struct wal *w, uint64_t index, uint64_t term)
{
    if (w->failed)
        return wal_fail(&w->err, WAL_ERR_FAILED, "%s", w->dir);
    if (index < w->snapshot_index || (index == w->snapshot_index && term != w->snapshot_term))
        return wal_fail(&w->err, WAL_ERR_RANGE, "reset to %" PRIu64 " below snapshot %" PRIu64,
                        index, w->snapshot_index);
    int rc = wal_snapshot_save(w, index, term);
    if (rc)
        return rc;
    w->snapshot_index = index;
    w->snapshot_term = term;
    /* Newest first: a crash leaves a prefix of the old log, which recovery checks against the
       snapshot's term and discards unless it matches. */
    rc = wal_unlink_after(w, 0);
    if (rc)
        return rc;
    wal_fill_pause(w);
    wal_seg_close_active(w);
    w->buf_used = w->buf_flushed = 0;
    w->truncations++;
    rc = wal_seg_unlink(w, 0);
    if (rc == 0)
        rc = wal_dir_sync(w);
    if (rc == 0)
        rc = wal_seg_create(w, index + 1);
    if (rc) {
        w->failed = true;
        return rc;
    }
    w->durable_index = index;
    wal_fill_resume(w);
    log_info("wal: %s: reset to snapshot %" PRIu64 " term %" PRIu64, w->dir, index, term);
    return 0;
}
