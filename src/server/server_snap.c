/* server_snap.c: standalone snapshots: write the newest, drop older ones and the log below. */
#include "server_snap.h"

#include "log.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Messages from kv_sm's snapshot calls name the file and the offset. */
#define SERVER_SNAP_ERR_MAX 512u
/* The standalone log's only term. */
#define SERVER_TERM 1u

bool server_snap_name_parse(const char *name, uint64_t *index)
{
    size_t plen = strlen(SERVER_SNAP_PREFIX), slen = strlen(SERVER_SNAP_SUFFIX);
    if (strlen(name) != plen + SERVER_SNAP_DIGITS + slen ||
        strncmp(name, SERVER_SNAP_PREFIX, plen) != 0 ||
        strcmp(name + plen + SERVER_SNAP_DIGITS, SERVER_SNAP_SUFFIX) != 0)
        return false;
    uint64_t v = 0;
    for (size_t i = plen; i < plen + SERVER_SNAP_DIGITS; i++) {
        if (name[i] < '0' || name[i] > '9')
            return false;
        uint64_t d = (uint64_t)(name[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *index = v;
    return true;
}

static int snap_path(const struct server_node *n, uint64_t index, char *out, size_t size)
{
    int len = snprintf(out, size, "%s/" SERVER_SNAP_PREFIX "%020llu" SERVER_SNAP_SUFFIX,
                       n->cfg->data_dir, (unsigned long long)index);
    return len < 0 || (size_t)len >= size ? -1 : 0;
}

/* Finds the newest snapshot (0 when none) and, when remove_below is set, deletes the
   snapshots older than it and temp files left by a crash. -1 when data_dir cannot be read. */
static int snap_scan(const struct server_node *n, uint64_t remove_below, uint64_t *newest)
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
        size_t len = strlen(de->d_name);
        bool tmp = len > 4 && strcmp(de->d_name + len - 4, ".tmp") == 0 &&
                   strncmp(de->d_name, SERVER_SNAP_PREFIX, strlen(SERVER_SNAP_PREFIX)) == 0;
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
    uint64_t newest;
    if (snap_scan(n, 0, &newest) != 0)
        return -1;
    n->snapshot_index = 0;
    if (newest == 0)
        return 0;
    char path[PATH_MAX], err[SERVER_SNAP_ERR_MAX];
    if (snap_path(n, newest, path, sizeof path) != 0)
        return -1;
    int rc = kv_sm_restore_file(n->sm, path, err, sizeof err);
    if (rc != 0) {
        log_error("cannot restore snapshot %s: %s (%s); refusing to start", path,
                  kv_strerror(rc), err);
        return -1;
    }
    if (kv_sm_applied_version(n->sm) != newest) {
        log_error("snapshot %s holds version %llu, not the %llu its name says; refusing to "
                  "start", path, (unsigned long long)kv_sm_applied_version(n->sm),
                  (unsigned long long)newest);
        return -1;
    }
    n->snapshot_index = newest;
    log_info("restored snapshot %s at version %llu", path, (unsigned long long)newest);
    return 0;
}

/* The log no longer needs entries up to index: the snapshot holds them. */
static void compact_log(struct server_node *n, uint64_t index)
{
    if (wal_sync(n->wal) != 0 || wal_compact(n->wal, index, SERVER_TERM) != 0)
        log_warn("log not compacted below snapshot %llu: %s", (unsigned long long)index,
                 wal_last_error(n->wal));
}

int server_snap_save(struct server_node *n, uint64_t keep_from)
{
    uint64_t applied = kv_sm_applied_version(n->sm);
    char path[PATH_MAX], err[SERVER_SNAP_ERR_MAX] = "";
    int64_t t0 = server_now_ms();
    int rc = snap_path(n, applied, path, sizeof path) != 0
                 ? KV_ERR_IO
                 : kv_sm_save_file(n->sm, path, err, sizeof err);
    if (rc != 0) {
        log_error("snapshot at %llu failed: %s (%s)", (unsigned long long)applied,
                  kv_strerror(rc), err);
        return -1;
    }
    n->snapshot_index = applied;
    uint64_t newest;
    snap_scan(n, keep_from, &newest);
    log_info("snapshot %s written in %lld ms", path, (long long)(server_now_ms() - t0));
    return 0;
}

void server_snap_maybe(struct server_node *n)
{
    uint64_t every = n->cfg->snapshot_every_entries;
    uint64_t applied = kv_sm_applied_version(n->sm);
    if (every == 0 || n->failed || applied - n->snapshot_attempt_index < every)
        return;
    assert(applied > n->snapshot_index);
    n->snapshot_attempt_index = applied;
    if (server_snap_save(n, applied) != 0)
        return;
    compact_log(n, applied);
    log_info("log now %llu..%llu", (unsigned long long)wal_first_index(n->wal),
             (unsigned long long)wal_last_index(n->wal));
}
