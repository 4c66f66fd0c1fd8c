/* wal_segment.c: the in-memory list of segments and the files behind them. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics.h"
#include "wal_internal.h"

int wal_seg_push_loc(struct wal *w, struct wal_seg *s, uint64_t offset, uint64_t term)
{
    assert(s->count <= s->cap);
    if (s->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        if (cap > SIZE_MAX / sizeof *s->locs)
            return wal_fail(&w->err, WAL_ERR_NOMEM, "segment index too large");
        struct wal_loc *locs = realloc(s->locs, cap * sizeof *locs);
        if (!locs)
            return wal_fail(&w->err, WAL_ERR_NOMEM, "segment index of %zu entries", cap);
        s->locs = locs;
        s->cap = cap;
    }
    s->locs[s->count].offset = offset;
    s->locs[s->count].term = term;
    s->count++;
    return 0;
}

void wal_seg_free(struct wal_seg *s)
{
    free(s->locs);
    memset(s, 0, sizeof *s);
}

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

int wal_seg_create(struct wal *w, uint64_t first_index)
{
    assert(w->buf_used == 0);
    assert(w->active_fd < 0);
    char name[wal_segment_name_size_max];
    wal_segment_name(name, first_index);
    int fd = openat(w->dir_fd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return wal_fail_sys(&w->err, errno, "create %s/%s", w->dir, name);
    struct wal_seg s = {.first_index = first_index, .size = wal_segment_header_size};
    int rc = wal_segs_push(w, &s);
    if (rc) {
        close(fd);
        return rc;
    }
    /* The header goes out with the first records; a crash before leaves an empty file,
       which recovery treats as a torn creation. */
    wal_segment_header_encode(w->buf, first_index);
    w->buf_used = wal_segment_header_size;
    w->active_fd = fd;
    w->active_written = 0;
    w->dir_dirty = true;
    metrics_count(METRIC_WAL_SEGMENTS_CREATED, 1);
    return 0;
}

int wal_seg_open_active(struct wal *w)
{
    assert(w->active_fd < 0);
    assert(w->buf_used == 0);
    char name[wal_segment_name_size_max];
    wal_segment_name(name, wal_active(w)->first_index);
    int fd = openat(w->dir_fd, name, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return wal_fail_sys(&w->err, errno, "open %s/%s", w->dir, name);
    w->active_fd = fd;
    w->active_written = wal_active(w)->size;
    return 0;
}

int wal_seg_unlink(struct wal *w, size_t i)
{
    assert(i < w->nsegs);
    char name[wal_segment_name_size_max];
    wal_segment_name(name, w->segs[i].first_index);
    if (unlinkat(w->dir_fd, name, 0) != 0 && errno != ENOENT)
        return wal_fail_sys(&w->err, errno, "unlink %s/%s", w->dir, name);
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
    if (fsync(w->dir_fd) != 0) {
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
    if (fdatasync(fd) != 0) {
        /* After a failed fdatasync the kernel may have dropped the dirty pages: stop. */
        w->failed = true;
        return wal_fail_sys(&w->err, errno, "fdatasync %s in %s", what, w->dir);
    }
    return 0;
}
