/* wal_recover.c: rebuilds the in-memory log from the directory at open, cutting a torn tail. */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "wal_internal.h"
#include "wal_scan.h"

static int wal_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The first indexes of every segment file in the directory, sorted. */
static int wal_list_segments(struct wal *w, uint64_t **firsts, size_t *n)
{
    *firsts = NULL;
    *n = 0;
    int fd = dup(w->dir_fd);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    if (!d) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return wal_fail_sys(&w->err, e, "list %s", w->dir);
    }
    rewinddir(d);
    size_t cap = 0;
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        uint64_t first;
        if (!wal_segment_name_parse(de->d_name, &first))
            continue;
        if (first == 0) {
            rc = wal_fail(&w->err, WAL_ERR_CORRUPT, "%s/%s: indexes start at 1", w->dir, de->d_name);
            break;
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            uint64_t *grown = realloc(*firsts, cap * sizeof *grown);
            if (!grown) {
                rc = wal_fail(&w->err, WAL_ERR_NOMEM, "listing %s", w->dir);
                break;
            }
            *firsts = grown;
        }
        (*firsts)[(*n)++] = first;
    }
    closedir(d);
    if (rc == 0 && *n > 1)
        qsort(*firsts, *n, sizeof **firsts, wal_cmp_u64);
    return rc;
}

/* The whole file, read through the seam into a malloc'd buffer (the scan rewrites it). */
static int wal_read_segment(struct wal *w, int fd, const char *name, uint8_t **data, size_t *size)
{
    uint64_t n;
    *data = NULL;
    if (sio_fsize(w->io, fd, &n) != 0)
        return wal_fail_sys(&w->err, errno, "stat %s/%s", w->dir, name);
    if (n > SIZE_MAX / 2)
        return wal_fail(&w->err, WAL_ERR_NOMEM, "%s/%s: %" PRIu64 " bytes", w->dir, name, n);
    *size = (size_t)n;
    *data = malloc(n ? (size_t)n : 1);
    if (!*data)
        return wal_fail(&w->err, WAL_ERR_NOMEM, "reading %s/%s (%" PRIu64 " bytes)", w->dir, name,
                        n);
    if (n > 0 && sio_pread_all(w->io, fd, *data, (size_t)n, 0) != 0)
        return wal_fail_sys(&w->err, errno, "read %s/%s", w->dir, name);
    return 0;
}

/* Maps and verifies one file; sc->result says what recovery does with it. */
static int wal_load_segment(struct wal *w, struct wal_seg *seg, struct wal_scan *sc,
                            const char *name)
{
    int fd = sio_openat(w->io, w->dir_fd, name, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return wal_fail_sys(&w->err, errno, "open %s/%s", w->dir, name);
    uint8_t *data;
    size_t size = 0;
    int rc = wal_read_segment(w, fd, name, &data, &size);
    sio_close(w->io, fd);
    if (rc == 0)
        rc = wal_scan_segment(sc, data, size, seg);
    free(data);
#if PLANTED_BUG_wal_cut_extra /* planted bug (tools/mutants): recovery cuts one more record */
    if (rc == 0 && sc->is_last && seg->count > 0 && (sc->result = WAL_SCAN_CUT)) seg->size = seg->locs[--seg->count].offset;
#endif
    if (rc == 0 && sc->result == WAL_SCAN_CLEAN && wal_stream_file_size(seg->size) < size &&
        !wal_fill_wanted(&w->cfg))
        sc->result = WAL_SCAN_CUT; /* a zero tail: the end of the log, kept only for the filler */
    if (rc == 0 && sc->result == WAL_SCAN_TORN_HEADER) {
        log_warn("wal: %s/%s: %zu bytes, no complete header; removing the unfinished segment",
                 w->dir, name, size);
        if (sio_unlinkat(w->io, w->dir_fd, name) != 0)
            rc = wal_fail_sys(&w->err, errno, "unlink %s/%s", w->dir, name);
    } else if (rc == 0 && sc->result == WAL_SCAN_CUT && seg->size < size) {
        log_warn("wal: %s/%s offset %" PRIu64 ": the log ends at index %" PRIu64 "; cutting the "
                 "torn tail after it (never acknowledged: no sync covered it)", w->dir, name,
                 wal_stream_to_file(seg->size), seg->first_index + seg->count - 1);
    }
    return rc;
}

/* *last gets the verdict on the last segment when it stays (*last_segment_found). */
static int wal_load_segments(struct wal *w, const uint64_t *firsts, size_t n,
                             struct wal_scan *last, bool *last_segment_found)
{
    uint64_t prev_term = 0;
    for (size_t i = 0; i < n; i++) {
        if (w->nsegs > 0) {
            const struct wal_seg *prev = wal_active(w);
            if (prev->first_index + prev->count != firsts[i])
                return wal_fail(&w->err, WAL_ERR_CORRUPT,
                                "%s: segment starting at %" PRIu64 " ends at %" PRIu64
                                " but the next starts at %" PRIu64, w->dir, prev->first_index,
                                wal_seg_last(prev), firsts[i]);
        }
        struct wal_seg seg = {.first_index = firsts[i]};
        char name[wal_segment_name_size_max];
        wal_segment_name(name, seg.first_index);
        struct wal_scan sc = {.dir = w->dir, .name = name, .err = &w->err,
                              .payload_max = w->cfg.record_payload_max, .is_last = i + 1 == n,
                              .prev_term = prev_term};
        int rc = wal_load_segment(w, &seg, &sc, name);
        bool torn_header = rc == 0 && sc.result == WAL_SCAN_TORN_HEADER;
        if (rc == 0 && !torn_header)
            rc = wal_segs_push(w, &seg);
        if (rc || torn_header)
            wal_seg_free(&seg);
        if (rc)
            return rc;
        prev_term = sc.prev_term;
        if (i + 1 == n && !torn_header) {
            *last = sc;
            *last_segment_found = true;
        }
    }
    return 0;
}

/* Segments wholly covered by the snapshot are leftovers of a compaction or reset cut short. */
static int wal_apply_snapshot(struct wal *w)
{
    uint64_t s = w->snapshot_index;
    while (w->nsegs > 0) {
        bool is_last = w->nsegs == 1;
        uint64_t last = wal_seg_last(&w->segs[0]);
        if (!(is_last ? last < s : last <= s))
            break;
        log_info("wal: %s: dropping segment %" PRIu64 "..%" PRIu64 ", below snapshot %" PRIu64,
                 w->dir, w->segs[0].first_index, last, s);
        int rc = wal_seg_unlink(w, 0);
        if (rc)
            return rc;
    }
    if (w->nsegs == 0)
        return 0;
    if (w->segs[0].first_index > s + 1)
        return wal_fail(&w->err, WAL_ERR_CORRUPT, "%s: log starts at %" PRIu64
                        " but the snapshot ends at %" PRIu64, w->dir, w->segs[0].first_index, s);
    if (s < w->segs[0].first_index)
        return 0;
    const struct wal_seg *seg = &w->segs[wal_seg_find(w, s)];
    assert(s - seg->first_index < seg->count);
    uint64_t term = seg->locs[s - seg->first_index].term;
    if (term == w->snapshot_term)
        return 0;
    /* A reset cut short: the old log disagrees with the snapshot, so none of it stands. */
    log_warn("wal: %s: entry %" PRIu64 " has term %" PRIu64 ", the snapshot says %" PRIu64
             "; discarding the log", w->dir, s, term, w->snapshot_term);
    while (w->nsegs > 0) {
        int rc = wal_seg_unlink(w, w->nsegs - 1);
        if (rc)
            return rc;
    }
    return 0;
}

/* Opens the last segment as the active one; a torn tail found in it is cut durably. When the
   scanned last segment was an unfinished creation (removed), the one before it is last: it was
   synced whole before its successor began. */
static int wal_open_last(struct wal *w, const struct wal_scan *last, bool found)
{
    bool cut = found && last->result == WAL_SCAN_CUT;
    /* A cut adds one to the epoch, which must end above every block on disk. */
    int rc = wal_seg_open_active(w, !found ? 0 : cut ? last->epoch - 1 : last->epoch);
    if (rc)
        return rc;
    w->durable_stream = found ? last->durable : wal_active(w)->size;
    return cut ? wal_cut_active(w, wal_active(w)->size) : 0;
}

int wal_recover(struct wal *w)
{
    uint64_t *firsts;
    size_t n;
    struct wal_scan last = {0};
    bool found = false;
    int rc = wal_list_segments(w, &firsts, &n);
    if (rc == 0)
        rc = wal_load_segments(w, firsts, n, &last, &found);
    free(firsts);
    if (rc == 0)
        rc = wal_apply_snapshot(w);
    if (rc)
        return rc;
    if (w->nsegs == 0)
        rc = wal_seg_create(w, w->snapshot_index + 1);
    else
        rc = wal_open_last(w, &last, found);
    if (rc)
        return rc;
    /* What recovery kept may sit only in the page cache (the process died, not the machine):
       make it durable before calling it durable. */
    w->dir_dirty = true;
    return wal_sync(w);
}
