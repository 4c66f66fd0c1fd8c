/* server_snap_ship.c: snapshot files to and from peers: streaming one out of an open file, and
   receiving one into a temp file that becomes the newest snapshot once installed. */
#include "server_snap_internal.h"

#include "log.h"
#include "server_vwait.h"
#include "server_watch.h"
#include "sio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

/*
 * Every file call goes through the node's storage seam (n->io, util/sio.h), so the fault
 * file's disk_fail rules reach a receive too.
 *
 * An install, step by step (a kill -9 at any of them recovers at start; the test hook below
 * stops the node at each):
 *   receiving  chunks written to data_dir/snapshot-<index>.kvsnap.recv (removed at start);
 *   written    every byte there, the leader's checksum matched, fsynced;
 *   restored   the state replaced from it (checked: a snapshot that does not load, say of
 *              another MVCC window, fails here and never takes the place of the last one);
 *   renamed    it is data_dir/snapshot-<index>.kvsnap, the directory synced: from now on a
 *              restart restores it, and the header's (index, term) tells the log where to
 *              restart if the next step did not happen;
 *   reset      the log restarts after it (the cluster's step), older snapshots are removed.
 */
#define SNAP_ENV_CRASH_AT "KVNODE_TEST_INSTALL_CRASH_AT"
/* Written bytes are handed to the disk every this many, so the final fsync is short. */
#define SNAP_RECV_WRITEBACK_BYTES (32ull * 1024 * 1024)
/* A snapshot is refused unless the disk keeps this much free beside it. */
#define SNAP_RECV_DISK_SLACK_BYTES (64ull * 1024 * 1024)

struct server_snap_src {
    const struct sio *io;
    int fd;
};

struct server_snap_recv {
    struct server_node *n;
    const struct sio *io;
    int fd;
    uint64_t index, term, size;
    uint64_t handed_to; /* bytes handed to the disk's writeback */
    char path[PATH_MAX];
};

/* Test hook: the node dies (as with kill -9) when it reaches the named install step. */
static void crash_at(const char *step)
{
    const char *at = getenv(SNAP_ENV_CRASH_AT);
    if (!at || strcmp(at, step) != 0)
        return;
    log_warn("test hook: dying at install step '%s'", step);
    raise(SIGKILL);
}

void *server_snap_open(struct server_node *n, uint64_t index, uint64_t *size)
{
    char path[PATH_MAX];
    if (server_snap_path(n, index, path, sizeof path) != 0)
        return NULL;
    int fd = sio_openat(n->io, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
    struct server_snap_src *src = fd >= 0 ? malloc(sizeof *src) : NULL;
    if (!src || sio_fsize(n->io, fd, size) != 0) {
        if (fd >= 0)
            sio_close(n->io, fd);
        free(src);
        return NULL;
    }
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    *src = (struct server_snap_src){n->io, fd};
    return src;
}

int server_snap_pread(void *snap, uint64_t offset, uint8_t *buf, size_t len)
{
    struct server_snap_src *src = snap;
    return sio_pread_all(src->io, src->fd, buf, len, (off_t)offset);
}

void server_snap_close_src(void *snap)
{
    struct server_snap_src *src = snap;
    if (!src)
        return;
    sio_close(src->io, src->fd);
    free(src);
}

static bool disk_has_room(const struct server_node *n, uint64_t size)
{
    struct statvfs vfs;
    if (statvfs(n->cfg->data_dir, &vfs) != 0)
        return true; /* cannot tell: the writes will say */
    uint64_t free_bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize;
    if (free_bytes >= size + SNAP_RECV_DISK_SLACK_BYTES)
        return true;
    log_error("snapshot of %llu bytes refused: %llu bytes free in %s",
              (unsigned long long)size, (unsigned long long)free_bytes, n->cfg->data_dir);
    return false;
}

void *server_snap_recv_begin(struct server_node *n, uint64_t index, uint64_t term, uint64_t size)
{
    if (!disk_has_room(n, size))
        return NULL;
    struct server_snap_recv *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    *r = (struct server_snap_recv){.n = n, .io = n->io, .index = index, .term = term,
                                   .size = size};
    if (server_snap_path(n, index, r->path, sizeof r->path - strlen(SERVER_SNAP_RECV_SUFFIX)) !=
        0) {
        free(r);
        return NULL;
    }
    strcat(r->path, SERVER_SNAP_RECV_SUFFIX);
    r->fd = sio_openat(r->io, AT_FDCWD, r->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (r->fd < 0) {
        log_error("cannot create %s: %s", r->path, strerror(errno));
        free(r);
        return NULL;
    }
    return r;
}

int server_snap_recv_write(void *recv, uint64_t offset, const uint8_t *data, size_t len)
{
    struct server_snap_recv *r = recv;
    if (offset + len > r->size || sio_pwrite_all(r->io, r->fd, data, len, (off_t)offset) != 0) {
        log_error("writing %s at %llu: %s", r->path, (unsigned long long)offset,
                  strerror(errno));
        return -1;
    }
    uint64_t end = offset + len;
    if (end - r->handed_to >= SNAP_RECV_WRITEBACK_BYTES) {
        /* Start the writeback now, so the final fsync does not wait for gigabytes. */
        (void)sync_file_range(r->fd, (off_t)r->handed_to, (off_t)(end - r->handed_to),
                              SYNC_FILE_RANGE_WRITE);
        r->handed_to = end;
    }
    if (end * 2 >= r->size && offset * 2 < r->size)
        crash_at("receiving");
    return 0;
}

int server_snap_recv_sync(void *recv)
{
    struct server_snap_recv *r = recv;
    if (sio_fsync(r->io, r->fd) != 0) {
        log_error("fsync %s: %s", r->path, strerror(errno));
        return -1;
    }
    crash_at("written");
    return 0;
}

int server_snap_recv_tail(void *recv, uint8_t *buf, size_t cap, size_t *len)
{
    struct server_snap_recv *r = recv;
    *len = r->size < cap ? (size_t)r->size : cap;
    int fd = sio_openat(r->io, AT_FDCWD, r->path, O_RDONLY | O_CLOEXEC, 0); /* r->fd writes */
    int rc = fd >= 0 ? sio_pread_all(r->io, fd, buf, *len, (off_t)(r->size - *len)) : -1;
    if (rc != 0)
        log_error("reading the end of %s: %s", r->path, strerror(errno));
    if (fd >= 0)
        sio_close(r->io, fd);
    return rc;
}

void server_snap_recv_abort(void *recv)
{
    struct server_snap_recv *r = recv;
    if (!r)
        return;
    if (r->fd >= 0)
        sio_close(r->io, r->fd);
    if (sio_unlinkat(r->io, AT_FDCWD, r->path) != 0 && errno != ENOENT)
        log_warn("cannot remove %s: %s", r->path, strerror(errno));
    free(r);
}

/* Replaces the state with the received file, then puts the file in place (see the top). */
static int install(struct server_snap_recv *r)
{
    struct server_node *n = r->n;
    char path[PATH_MAX], err[SERVER_SNAP_ERR_MAX] = "";
    server_snap_cancel(n); /* a snapshot of the state we replace is moot, and it reads it */
    int rc = kv_sm_restore_file(n->sm, r->path, err, sizeof err);
    if (rc != 0 || kv_sm_applied_version(n->sm) != r->index) {
        log_error("cannot install the leader's snapshot %llu (term %llu): %s",
                  (unsigned long long)r->index, (unsigned long long)r->term,
                  rc ? err : "it holds another version");
        return -1;
    }
    kv_sm_set_log_term(n->sm, r->term); /* a format 1 file carries none */
    server_vwait_applied(n);
    server_watch_restored(n);
    crash_at("restored");
    if (server_snap_path(n, r->index, path, sizeof path) != 0 ||
        sio_renameat(r->io, AT_FDCWD, r->path, AT_FDCWD, path) != 0 ||
        server_snap_sync_dir(n) != 0) {
        log_error("cannot put snapshot %llu in place: %s", (unsigned long long)r->index,
                  strerror(errno));
        return -1;
    }
    crash_at("renamed");
    n->snapshot_index = r->index;
    n->snap->snapshot_bytes = r->size;
    return 0;
}

int server_snap_install(void *recv)
{
    struct server_snap_recv *r = recv;
    sio_close(r->io, r->fd);
    r->fd = -1;
    int rc = install(r);
    server_snap_recv_abort(r); /* the temp file, if it is still there */
    return rc;
}

void server_snap_installed(struct server_node *n, uint64_t index)
{
    uint64_t newest;
    server_snap_scan(n, index, false, &newest); /* only the newest snapshot stays */
    n->snap->wal_base_bytes = server_snap_wal_bytes(n);
    crash_at("reset");
}
