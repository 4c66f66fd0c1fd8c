/* wal_segment.c: the in-memory list of segments and the files behind them. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics.h"
#include "wal_internal.h"

int wal_segs_push(struct wal *w, const struct wal_seg *s)
{
    if (w->nsegs == w->segs_cap) {
        size_t cap = w->segs_cap ? w->segs_cap * 2 : 8;
        struct wal_seg *segs = realloc(w->segs, cap * sizeof *segs);
        if (!segs)
            return wal_fail(&w->err, WAL_ERR_NOMEM, "segment list of %zu", cap);
        w->segs = segs;
        w->segs_cap = cap;
    }
    if (w->nsegs > 0) {
        const struct wal_seg *prev = &w->segs[w->nsegs - 1];
        assert(prev->first_index + prev->count == s->first_index);
    }
    w->segs[w->nsegs++] = *s;
    return 0;
}

size_t wal_seg_find(const struct wal *w, uint64_t index)
{
    assert(w->nsegs > 0);
    assert(index >= w->segs[0].first_index);
    size_t lo = 0, hi = w->nsegs; /* answer in [lo, hi) */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (w->segs[mid].first_index <= index)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* Opens the active segment twice: the writer's file description and the sync jobs'. */
static int wal_open_active_fds(struct wal *w, const char *name, int flags)
{
    assert(w->active_fd < 0 && w->sync_fd < 0);
    w->active_fd = sio_openat(w->io, w->dir_fd, name, flags | O_RDWR | O_CLOEXEC, 0644);
    if (w->active_fd < 0)
        return wal_fail_sys(&w->err, errno, "%s %s/%s", flags & O_CREAT ? "create" : "open",
                            w->dir, name);
    w->sync_fd = sio_openat(w->io, w->dir_fd, name, O_WRONLY | O_CLOEXEC, 0);
    if (w->sync_fd < 0)
        return wal_fail_sys(&w->err, errno, "open %s/%s for syncing", w->dir, name);
    return 0;
}

void wal_seg_close_active(struct wal *w)
{
    if (w->active_fd >= 0)
        sio_close(w->io, w->active_fd);
    if (w->sync_fd >= 0)
        sio_close(w->io, w->sync_fd);
    w->active_fd = w->sync_fd = -1;
    w->rbuf_seg = 0;
}

int wal_seg_create(struct wal *w, uint64_t first_index)
{
    char name[wal_segment_name_size_max];
    wal_segment_name(name, first_index);
    int rc = wal_open_active_fds(w, name, O_CREAT | O_EXCL);
    bool created = w->active_fd >= 0;
    if (rc == 0) {
        /* Not synced here: the first sync covers it. A crash before leaves an empty or zero
           header, which recovery takes for an unfinished creation (nothing in it was acked). */
        uint8_t header[wal_segment_header_size];
        wal_segment_header_encode(header, first_index);
        wal_fill_publish(w, wal_segment_header_size);
        if (sio_pwrite_all(w->io, w->active_fd, header, sizeof header, 0) != 0)
            rc = wal_fail_sys(&w->err, errno, "write the header of %s/%s", w->dir, name);
    }
    struct wal_seg seg = {.first_index = first_index};
    if (rc == 0)
        rc = wal_segs_push(w, &seg);
    if (rc) {
        wal_seg_close_active(w);
        if (created) /* nothing of ours is in it: no unfinished creation left behind */
            sio_unlinkat(w->io, w->dir_fd, name);
        return rc;
    }
    w->tail_block = 0;
    w->buf_used = w->buf_flushed = 0;
    w->epoch = 1;
    w->durable_stream = 0;
    w->durable_dirty = w->spilled = false;
    w->dir_dirty = true;
    metrics_count(METRIC_WAL_SEGMENTS_CREATED, 1);
    return 0;
}

int wal_load_tail(struct wal *w, uint64_t stream_end, uint32_t *epoch)
{
    struct wal_seg *s = wal_active(w);
    assert(stream_end <= s->size);
    w->tail_block = stream_end ? (stream_end - 1) / wal_block_data_size : 0;
    w->buf_used = w->buf_flushed = (size_t)(stream_end - w->tail_block * wal_block_data_size);
    w->durable_dirty = w->spilled = false;
    *epoch = 0;
    if (stream_end == 0)
        return 0;
    uint64_t off = wal_segment_header_size + w->tail_block * wal_block_size;
    if (sio_pread_all(w->io, w->active_fd, w->buf, wal_block_size, (off_t)off) != 0)
        return wal_fail_sys(&w->err, errno, "read segment %" PRIu64 " offset %" PRIu64 " in %s",
                            s->first_index, off, w->dir);
    struct wal_block_view v;
    if (wal_block_decode(w->buf, wal_block_size, &v) != WAL_BLOCK_VALID || v.used < w->buf_used) {
        char name[wal_segment_name_size_max];
        wal_segment_name(name, s->first_index);
        return wal_fail(&w->err, WAL_ERR_CORRUPT, "%s/%s offset %" PRIu64
                        ": block checksum mismatch (index %" PRIu64 ")", w->dir, name, off,
                        wal_seg_last(s));
    }
    *epoch = v.epoch;
    return 0;
}

int wal_seg_open_active(struct wal *w, uint32_t epoch)
{
    char name[wal_segment_name_size_max];
    wal_segment_name(name, wal_active(w)->first_index);
    int rc = wal_open_active_fds(w, name, 0);
    uint32_t found = 0;
    if (rc == 0)
        rc = wal_load_tail(w, wal_active(w)->size, &found);
    if (rc) {
        wal_seg_close_active(w);
        return rc;
    }
    w->epoch = epoch ? epoch : found ? found : 1;
    return 0;
}

int wal_seg_unlink(struct wal *w, size_t i)
{
    assert(i < w->nsegs);
    char name[wal_segment_name_size_max];
    wal_segment_name(name, w->segs[i].first_index);
    if (sio_unlinkat(w->io, w->dir_fd, name) != 0 && errno != ENOENT)
        return wal_fail_sys(&w->err, errno, "unlink %s/%s", w->dir, name);
    if (w->rbuf_seg == w->segs[i].first_index)
        w->rbuf_seg = 0;
    wal_seg_free(&w->segs[i]);
    memmove(&w->segs[i], &w->segs[i + 1], (w->nsegs - i - 1) * sizeof *w->segs);
    w->nsegs--;
    return 0;
}

int wal_dir_sync(struct wal *w)
{
    if (w->cfg.fsync == WAL_FSYNC_NEVER) {
        w->dir_dirty = false;
        return 0;
    }
    if (sio_fsync(w->io, w->dir_fd) != 0) {
        w->failed = true;
        return wal_fail_sys(&w->err, errno, "fsync directory %s", w->dir);
    }
    w->dir_dirty = false;
    return 0;
}

int wal_data_sync(struct wal *w, int fd, const char *what)
{
    if (w->cfg.fsync == WAL_FSYNC_NEVER)
        return 0;
    if (sio_fdatasync(w->io, fd) != 0) {
        /* After a failed fdatasync the kernel may have dropped the dirty pages: stop. */
        w->failed = true;
        return wal_fail_sys(&w->err, errno, "fdatasync %s in %s", what, w->dir);
    }
    return 0;
}
