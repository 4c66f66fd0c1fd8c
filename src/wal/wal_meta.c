/* wal_meta.c: the hard state and snapshot point files: checksummed, replaced atomically. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32c.h"
#include "wal_internal.h"

#define WAL_HARD_STATE_FILE "hardstate"
#define WAL_SNAPSHOT_FILE "snapshot"
#define WAL_HARD_STATE_MAGIC 0x5348564bu /* "KVHS" */
#define WAL_SNAPSHOT_MAGIC 0x4e53564bu   /* "KVSN" */

/* magic, version, three u64 fields, crc */
enum { wal_meta_file_size = 4 + 4 + 3 * 8 + 4 };

/* temp file, fsync, rename over the old one, fsync the directory: all or nothing. */
static int wal_meta_write(struct wal *w, const char *name, uint32_t magic, const uint64_t v[3])
{
    uint8_t b[wal_meta_file_size];
    wal_put32(b, magic);
    wal_put32(b + 4, WAL_META_VERSION);
    for (int i = 0; i < 3; i++)
        wal_put64(b + 8 + 8 * i, v[i]);
    wal_put32(b + 32, crc32c(b, 32));
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%s.tmp", name);
    int fd = sio_openat(w->io, w->dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return wal_fail_sys(&w->err, errno, "create %s/%s", w->dir, tmp);
    if (sio_pwrite_all(w->io, fd, b, sizeof b, 0) != 0 || sio_fsync(w->io, fd) != 0) {
        int e = errno;
        sio_close(w->io, fd);
        sio_unlinkat(w->io, w->dir_fd, tmp);
        return wal_fail_sys(&w->err, e, "write %s/%s", w->dir, tmp);
    }
    if (sio_close(w->io, fd) != 0)
        return wal_fail_sys(&w->err, errno, "close %s/%s", w->dir, tmp);
    if (sio_renameat(w->io, w->dir_fd, tmp, w->dir_fd, name) != 0) {
        int e = errno;
        sio_unlinkat(w->io, w->dir_fd, tmp);
        return wal_fail_sys(&w->err, e, "rename %s/%s", w->dir, tmp);
    }
    /* Renamed but maybe not durable: the old and the new file are both possible after a
       crash now, and nothing must proceed on the new one. */
    if (sio_fsync(w->io, w->dir_fd) != 0) {
        w->failed = true;
        return wal_fail_sys(&w->err, errno, "fsync directory %s", w->dir);
    }
    return 0;
}

/* Reads name into v; *present is false when the file does not exist. */
static int wal_meta_read(struct wal *w, const char *name, uint32_t magic, uint64_t v[3],
                         bool *present)
{
    *present = false;
    int fd = sio_openat(w->io, w->dir_fd, name, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0 && errno == ENOENT)
        return 0;
    if (fd < 0)
        return wal_fail_sys(&w->err, errno, "open %s/%s", w->dir, name);
    uint8_t b[wal_meta_file_size];
    uint64_t size;
    if (sio_fsize(w->io, fd, &size) != 0) {
        int e = errno;
        sio_close(w->io, fd);
        return wal_fail_sys(&w->err, e, "stat %s/%s", w->dir, name);
    }
    if (size != sizeof b) {
        sio_close(w->io, fd);
        return wal_fail(&w->err, WAL_ERR_CORRUPT, "%s/%s offset 0: size %" PRIu64 ", expected %zu",
                        w->dir, name, size, sizeof b);
    }
    ssize_t n = sio_pread(w->io, fd, b, sizeof b, 0);
    int e = errno;
    sio_close(w->io, fd);
    if (n < 0)
        return wal_fail_sys(&w->err, e, "read %s/%s", w->dir, name);
    if ((size_t)n != sizeof b)
        return wal_fail(&w->err, WAL_ERR_CORRUPT, "%s/%s offset %zd: short read", w->dir, name, n);
    if (wal_get32(b + 32) != crc32c(b, 32))
        return wal_fail(&w->err, WAL_ERR_CORRUPT, "%s/%s offset 32: checksum mismatch", w->dir,
                        name);
    if (wal_get32(b) != magic || wal_get32(b + 4) != WAL_META_VERSION)
        return wal_fail(&w->err, WAL_ERR_CORRUPT, "%s/%s offset 0: bad magic or version", w->dir,
                        name);
    for (int i = 0; i < 3; i++)
        v[i] = wal_get64(b + 8 + 8 * i);
    *present = true;
    return 0;
}

int wal_meta_load(struct wal *w)
{
    /* A temp file left by a crash is an unfinished save; the old file still stands. */
    const char *const tmps[] = {WAL_HARD_STATE_FILE ".tmp", WAL_SNAPSHOT_FILE ".tmp"};
    for (size_t i = 0; i < 2; i++)
        if (sio_unlinkat(w->io, w->dir_fd, tmps[i]) != 0 && errno != ENOENT)
            return wal_fail_sys(&w->err, errno, "unlink %s/%s", w->dir, tmps[i]);
    uint64_t v[3];
    bool present;
    int rc = wal_meta_read(w, WAL_HARD_STATE_FILE, WAL_HARD_STATE_MAGIC, v, &present);
    if (rc)
        return rc;
    w->hard_state = (struct wal_hard_state){.term = 0, .voted_for = -1, .commit_index = 0};
    if (present) {
        if ((int64_t)v[1] < -1)
            return wal_fail(&w->err, WAL_ERR_CORRUPT, "%s/%s offset 16: voted_for %" PRId64,
                            w->dir, WAL_HARD_STATE_FILE, (int64_t)v[1]);
        w->hard_state = (struct wal_hard_state){v[0], (int64_t)v[1], v[2]};
    }
    rc = wal_meta_read(w, WAL_SNAPSHOT_FILE, WAL_SNAPSHOT_MAGIC, v, &present);
    if (rc)
        return rc;
    w->snapshot_index = present ? v[0] : 0;
    w->snapshot_term = present ? v[1] : 0;
    return 0;
}

int wal_snapshot_save(struct wal *w, uint64_t index, uint64_t term)
{
    const uint64_t v[3] = {index, term, 0};
    return wal_meta_write(w, WAL_SNAPSHOT_FILE, WAL_SNAPSHOT_MAGIC, v);
}

void wal_hard_state_get(const struct wal *w, struct wal_hard_state *out)
{
    *out = w->hard_state;
}

int wal_hard_state_save(struct wal *w, const struct wal_hard_state *hs)
{
    assert(hs->voted_for >= -1);
    if (hs->term < w->hard_state.term)
        return wal_fail(&w->err, WAL_ERR_TERM, "hard state term %" PRIu64 " below saved %" PRIu64,
                        hs->term, w->hard_state.term);
    const uint64_t v[3] = {hs->term, (uint64_t)hs->voted_for, hs->commit_index};
    int rc = wal_meta_write(w, WAL_HARD_STATE_FILE, WAL_HARD_STATE_MAGIC, v);
    if (rc)
        return rc;
    w->hard_state = *hs;
    return 0;
}
