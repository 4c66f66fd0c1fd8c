/* wal_open.c: configuration, opening (lock, load, recover) and closing a WAL directory. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wal_internal.h"

enum {
    wal_segment_size_min = 4096,
    wal_write_buffer_size_min = 4096,
    wal_write_buffer_size_max = 1 << 30,
    wal_zero_ahead_min = 4096,
    wal_zero_ahead_max = 1 << 30,
};
#define wal_segment_size_max (UINT64_C(2) << 30)
/* A segment's stream (its size, and one record past it at most) stays below 4 GiB. */
_Static_assert(wal_segment_size_max + WAL_RECORD_PAYLOAD_LIMIT + wal_record_header_size <
               WAL_SEGMENT_SIZE_LIMIT, "block durable offsets fit in 32 bits");
_Static_assert((int)wal_write_buffer_size_min >= 2 * (int)wal_block_size,
               "the write buffer holds the tail block and at least one more");

void wal_config_default(struct wal_config *cfg, const char *dir)
{
    *cfg = (struct wal_config){
        .dir = dir,
        .fsync = WAL_FSYNC_ALWAYS,
        .fsync_interval_ms = 10,
        .segment_size_max = UINT64_C(64) << 20,
        .record_payload_max = UINT32_C(16) << 20,
        .write_buffer_size = UINT32_C(256) << 10,
        .zero_ahead_bytes = UINT32_C(4) << 20,
    };
}

int wal_fsync_policy_parse(const char *name, enum wal_fsync_policy *out)
{
    static const char *const names[] = {"always", "interval", "never"};
    for (int i = 0; i < 3; i++) {
        if (strcmp(name, names[i]) == 0) {
            *out = (enum wal_fsync_policy)i;
            return 0;
        }
    }
    return WAL_ERR_CONFIG;
}

static int wal_config_check(const struct wal_config *cfg, struct wal_errmsg *err)
{
    if (!cfg->dir || cfg->dir[0] == '\0')
        return wal_fail(err, WAL_ERR_CONFIG, "dir is empty");
    if (cfg->fsync > WAL_FSYNC_NEVER)
        return wal_fail(err, WAL_ERR_CONFIG, "fsync policy %d", (int)cfg->fsync);
    if (cfg->fsync == WAL_FSYNC_INTERVAL && cfg->fsync_interval_ms == 0)
        return wal_fail(err, WAL_ERR_CONFIG, "fsync_interval_ms is 0");
    if (cfg->segment_size_max < wal_segment_size_min || cfg->segment_size_max > wal_segment_size_max)
        return wal_fail(err, WAL_ERR_CONFIG, "segment_size_max outside [4 KiB, 2 GiB]");
    if (cfg->record_payload_max == 0 || cfg->record_payload_max > WAL_RECORD_PAYLOAD_LIMIT)
        return wal_fail(err, WAL_ERR_CONFIG, "record_payload_max outside [1, 1 GiB]");
    if (cfg->write_buffer_size < wal_write_buffer_size_min ||
        cfg->write_buffer_size > wal_write_buffer_size_max)
        return wal_fail(err, WAL_ERR_CONFIG, "write_buffer_size outside [4 KiB, 1 GiB]");
    if (cfg->zero_ahead_bytes != 0 && (cfg->zero_ahead_bytes < wal_zero_ahead_min ||
                                       cfg->zero_ahead_bytes > wal_zero_ahead_max))
        return wal_fail(err, WAL_ERR_CONFIG, "zero_ahead_bytes neither 0 nor in [4 KiB, 1 GiB]");
    return 0;
}

/* One process per directory: two writers would interleave records. */
static int wal_lock_dir(struct wal *w)
{
    if (mkdir(w->dir, 0755) != 0 && errno != EEXIST)
        return wal_fail_sys(&w->err, errno, "mkdir %s", w->dir);
    w->dir_fd = open(w->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (w->dir_fd < 0)
        return wal_fail_sys(&w->err, errno, "open directory %s", w->dir);
    w->sync_dir_fd = open(w->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (w->sync_dir_fd < 0)
        return wal_fail_sys(&w->err, errno, "open directory %s", w->dir);
    w->lock_fd = openat(w->dir_fd, "LOCK", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (w->lock_fd < 0)
        return wal_fail_sys(&w->err, errno, "open %s/LOCK", w->dir);
    if (flock(w->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            return wal_fail(&w->err, WAL_ERR_LOCKED, "%s", w->dir);
        return wal_fail_sys(&w->err, errno, "lock %s/LOCK", w->dir);
    }
    return 0;
}

static void wal_free(struct wal *w)
{
    wal_fill_stop(w);
    pthread_mutex_destroy(&w->fill.mu);
    pthread_cond_destroy(&w->fill.wake);
    pthread_cond_destroy(&w->fill.piece_done);
    for (size_t i = 0; i < w->nsegs; i++)
        wal_seg_free(&w->segs[i]);
    free(w->segs);
    wal_seg_close_active(w);
    if (w->lock_fd >= 0)
        close(w->lock_fd);
    if (w->dir_fd >= 0)
        close(w->dir_fd);
    if (w->sync_dir_fd >= 0)
        close(w->sync_dir_fd);
    free(w->buf);
    free(w->rbuf);
    free(w->dir);
    free(w);
}

int wal_open(const struct wal_config *cfg, struct wal **out, struct wal_errmsg *err)
{
    *out = NULL;
    int rc = wal_config_check(cfg, err);
    if (rc)
        return rc;
    struct wal *w = calloc(1, sizeof *w);
    if (!w)
        return wal_fail(err, WAL_ERR_NOMEM, "wal");
    w->cfg = *cfg;
    w->io = cfg->io ? cfg->io : sio_default();
    wal_fill_init(w);
    w->dir_fd = w->sync_dir_fd = w->lock_fd = w->active_fd = w->sync_fd = -1;
    w->dir = strdup(cfg->dir);
    w->buf_blocks = cfg->write_buffer_size / wal_block_size;
    w->buf = malloc(w->buf_blocks * wal_block_size);
    w->rbuf = malloc(wal_read_window);
    if (!w->dir || !w->buf || !w->rbuf)
        rc = wal_fail(&w->err, WAL_ERR_NOMEM, "wal buffers");
    w->cfg.dir = w->dir;
    if (rc == 0)
        rc = wal_lock_dir(w);
    if (rc == 0)
        rc = wal_meta_load(w);
    if (rc == 0)
        rc = wal_recover(w);
    if (rc) {
        if (err)
            *err = w->err;
        wal_free(w);
        return rc;
    }
    assert(w->nsegs > 0);
    assert(w->durable_index == wal_last_index(w));
    wal_fill_start(w);
    *out = w;
    return 0;
}

void wal_close(struct wal *w)
{
    if (!w)
        return;
    assert(!w->sync_in_flight);
    wal_fill_stop(w);
    if (!w->failed && !w->spilled && w->nsegs > 0)
        (void)wal_flush(w); /* not synced: close is not a durability point */
    wal_free(w);
}
