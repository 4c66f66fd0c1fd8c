/* wal_recover.c: rebuilds the in-memory log from the directory at open, cutting a torn tail. */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "wal_internal.h"

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

/* Cuts the file at seg->size (torn tail) durably, so the cut bytes never come back. */
static int wal_cut_tail(struct wal *w, int fd, const char *name, const struct wal_seg *seg)
{
    if (ftruncate(fd, (off_t)seg->size) != 0)
        return wal_fail_sys(&w->err, errno, "truncate %s/%s", w->dir, name);
    return wal_data_sync(w, fd, name);
}

/* Maps and verifies one file; *torn_header says it was an empty, unfinished creation. */
static int wal_load_segment(struct wal *w, struct wal_seg *seg, bool is_last, uint64_t *prev_term,
                            bool *torn_header)
{
    *torn_header = false;
    char name[wal_segment_name_size_max];
    wal_segment_name(name, seg->first_index);
    int fd = openat(w->dir_fd, name, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return wal_fail_sys(&w->err, errno, "open %s/%s", w->dir, name);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return wal_fail_sys(&w->err, e, "stat %s/%s", w->dir, name);
    }
    size_t size = (size_t)st.st_size;
    const uint8_t *data = NULL;
    if (size > 0) {
        void *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            int e = errno;
            close(fd);
            return wal_fail_sys(&w->err, e, "mmap %s/%s", w->dir, name);
        }
        data = m;
    }
    enum wal_scan_result result;
    int rc = wal_scan_segment(w, name, data, size, is_last, prev_term, seg, &result);
#if PLANTED_BUG_wal_cut_extra /* planted bug (tools/mutants): recovery cuts one more record */
    if (rc == 0 && is_last && seg->count > 0 && (result = WAL_SCAN_TORN_TAIL)) seg->size = seg->locs[--seg->count].offset;
#endif
    if (size > 0)
        munmap((void *)data, size);
    if (rc == 0 && result == WAL_SCAN_TORN_TAIL)
        rc = wal_cut_tail(w, fd, name, seg);
    /* A zero tail is the end of the log; it stays when zeros are wanted ahead anyway. */
    if (rc == 0 && result == WAL_SCAN_CLEAN && seg->size < size && !wal_fill_wanted(&w->cfg))
        rc = wal_cut_tail(w, fd, name, seg);
    close(fd);
    *torn_header = rc == 0 && result == WAL_SCAN_TORN_HEADER;
    if (*torn_header) {
        log_warn("wal: %s/%s: %zu bytes, no complete header; removing the unfinished segment",
                 w->dir, name, size);
        if (unlinkat(w->dir_fd, name, 0) != 0)
            rc = wal_fail_sys(&w->err, errno, "unlink %s/%s", w->dir, name);
    }
    return rc;
}

static int wal_load_segments(struct wal *w, const uint64_t *firsts, size_t n)
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
        bool torn_header = false;
        int rc = wal_load_segment(w, &seg, i + 1 == n, &prev_term, &torn_header);
        if (rc == 0 && !torn_header)
            rc = wal_segs_push(w, &seg);
        if (rc || torn_header)
            wal_seg_free(&seg);
        if (rc)
            return rc;
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

int wal_recover(struct wal *w)
{
    uint64_t *firsts;
    size_t n;
    int rc = wal_list_segments(w, &firsts, &n);
    if (rc == 0)
        rc = wal_load_segments(w, firsts, n);
    free(firsts);
    if (rc == 0)
        rc = wal_apply_snapshot(w);
    if (rc)
        return rc;
    if (w->nsegs == 0)
        rc = wal_seg_create(w, w->snapshot_index + 1);
    else
        rc = wal_seg_open_active(w);
    if (rc)
        return rc;
    /* What recovery kept may sit only in the page cache (the process died, not the machine):
       make it durable before calling it durable. */
    w->dir_dirty = true;
    return wal_sync(w);
}
