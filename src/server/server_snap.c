/* server_snap.c: snapshot files in data_dir: names, listing, restore at start, reads. */
#include "server_snap.h"

#include "server_snap_internal.h"

#include "digits.h"
#include "log.h"
#include "sio.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool server_snap_name_parse(const char *name, uint64_t *index)
{
    size_t plen = strlen(SERVER_SNAP_PREFIX), slen = strlen(SERVER_SNAP_SUFFIX);
    if (strlen(name) != plen + SERVER_SNAP_DIGITS + slen ||
        strncmp(name, SERVER_SNAP_PREFIX, plen) != 0 ||
        strcmp(name + plen + SERVER_SNAP_DIGITS, SERVER_SNAP_SUFFIX) != 0)
        return false;
    return digits_parse_u64(name + plen, SERVER_SNAP_DIGITS, index);
}

int server_snap_path(const struct server_node *n, uint64_t index, char *out, size_t size)
{
    int len = snprintf(out, size, "%s/" SERVER_SNAP_PREFIX "%020llu" SERVER_SNAP_SUFFIX,
                       n->cfg->data_dir, (unsigned long long)index);
    return len < 0 || (size_t)len >= size ? -1 : 0;
}

static bool has_suffix(const char *name, const char *suffix)
{
    size_t len = strlen(name), slen = strlen(suffix);
    return len > slen && strcmp(name + len - slen, suffix) == 0 &&
           strncmp(name, SERVER_SNAP_PREFIX, strlen(SERVER_SNAP_PREFIX)) == 0;
}

/* Finds the newest snapshot (0 when none) and deletes the snapshots older than remove_below,
   temp files a snapshot left, and with partial the received ones a crash left. -1 when
   data_dir cannot be read. */
int server_snap_scan(const struct server_node *n, uint64_t remove_below, bool partial,
                     uint64_t *newest)
{
    DIR *d = opendir(n->cfg->data_dir);
    if (!d) {
        log_error("cannot list %s: %s", n->cfg->data_dir, strerror(errno));
        return -1;
    }
    *newest = 0;
    struct dirent *de;
    char path[PATH_MAX];
    while ((de = readdir(d)) != NULL) {
        uint64_t index;
        bool tmp = has_suffix(de->d_name, ".tmp") ||
                   (partial && has_suffix(de->d_name, SERVER_SNAP_RECV_SUFFIX));
        bool snap = server_snap_name_parse(de->d_name, &index);
        if (snap && index > *newest)
            *newest = index;
        if (!(tmp || (snap && index < remove_below)))
            continue;
        if (snprintf(path, sizeof path, "%s/%s", n->cfg->data_dir, de->d_name) <
                (int)sizeof path &&
            unlink(path) != 0)
            log_warn("cannot remove %s: %s", path, strerror(errno));
    }
    closedir(d);
    return 0;
}

int server_snap_restore(struct server_node *n)
{
    assert(!n->snap);
    n->snap = calloc(1, sizeof *n->snap);
    if (!n->snap)
        return -1;
    n->snap->fd = n->snap->wfd = -1;
    n->snap->checked_ms = -1;
    uint64_t newest;
    if (server_snap_scan(n, 0, true, &newest) != 0)
        return -1;
    n->snapshot_index = 0;
    if (newest == 0)
        return 0;
    char path[PATH_MAX], err[SERVER_SNAP_ERR_MAX];
    if (server_snap_path(n, newest, path, sizeof path) != 0)
        return -1;
    int rc = kv_sm_restore_file(n->sm, path, err, sizeof err);
    if (rc != 0) {
        log_error("cannot restore snapshot %s: %s (%s); refusing to start", path,
                  kv_strerror(rc), err);
        if (rc == KV_ERR_CORRUPT)
            server_node_damaged(n, "newest snapshot", NULL);
        return -1;
    }
    if (kv_sm_applied_version(n->sm) != newest) {
        log_error("snapshot %s holds version %llu, not the %llu its name says; refusing to "
                  "start", path, (unsigned long long)kv_sm_applied_version(n->sm),
                  (unsigned long long)newest);
        server_node_damaged(n, "newest snapshot", NULL);
        return -1;
    }
    n->snapshot_index = newest;
    n->snap->snapshot_bytes = server_snap_file_bytes(n, newest);
    /* A crash after a new snapshot was renamed into place and before the older one was
       removed leaves both: the restored newest is whole, so the older goes now. */
    uint64_t still_newest;
    if (server_snap_scan(n, newest, false, &still_newest) != 0)
        return -1;
    assert(still_newest == newest);
    log_info("restored snapshot %s at version %llu (log term %llu)", path,
             (unsigned long long)newest, (unsigned long long)kv_sm_log_term(n->sm));
    return 0;
}

uint64_t server_snap_file_bytes(const struct server_node *n, uint64_t index)
{
    char path[PATH_MAX];
    struct stat st;
    if (server_snap_path(n, index, path, sizeof path) != 0 || stat(path, &st) != 0)
        return 0;
    return (uint64_t)st.st_size;
}

uint64_t server_snap_wal_bytes(const struct server_node *n)
{
    return n->wal ? wal_log_bytes(n->wal) : 0;
}

int server_snap_sync_dir(const struct server_node *n)
{
    int fd = sio_openat(n->io, AT_FDCWD, n->cfg->data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int rc = sio_fsync(n->io, fd);
    sio_close(n->io, fd);
    return rc == 0 ? 0 : -1;
}
