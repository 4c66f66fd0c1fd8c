/* wal_sync.c: group commit: one fdatasync makes every record appended before it durable. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <unistd.h>

#include "metrics.h"
#include "wal_internal.h"

int wal_sync_begin(struct wal *w, struct wal_sync_job *job)
{
    assert(!w->sync_in_flight);
    *job = (struct wal_sync_job){.file_fd = -1, .dir_fd = -1, .io = w->io};
    int rc = wal_flush(w);
    if (rc)
        return rc;
    assert(wal_active_flushed(w) == wal_active(w)->size);
    job->index = wal_last_index(w);
    job->truncations = w->truncations;
    job->segment = wal_active(w)->first_index;
    job->stream_end = wal_active(w)->size;
    bool idle = job->index == w->durable_index && !w->dir_dirty; /* a timer found nothing */
    if (w->cfg.fsync != WAL_FSYNC_NEVER && !idle) {
        /* Dups of the jobs' own descriptions (never of the writer's: wal_internal.h) keep the
           files reachable even if the owner rolls or resets meanwhile. */
        job->file_fd = dup(w->sync_fd);
        if (job->file_fd < 0)
            return wal_fail_sys(&w->err, errno, "dup segment fd in %s", w->dir);
        if (w->dir_dirty) {
            job->dir_fd = dup(w->sync_dir_fd);
            if (job->dir_fd < 0) {
                int e = errno;
                close(job->file_fd);
                job->file_fd = -1;
                return wal_fail_sys(&w->err, e, "dup directory fd %s", w->dir);
            }
            w->dir_dirty = false;
        }
    }
    w->sync_in_flight = true;
    return 0;
}

int wal_sync_run(struct wal_sync_job *job)
{
#if PLANTED_BUG_skip_fsync /* planted bug (tools/mutants): the fdatasync is skipped, not the ack */
    return job->sys_errno = 0;
#endif
    job->sys_errno = 0;
    uint64_t t0 = metrics_now_ns();
    if (job->file_fd >= 0 && sio_fdatasync(job->io, job->file_fd) != 0)
        job->sys_errno = errno;
    else if (job->file_fd >= 0)
        metrics_observe_ns(METRIC_WAL_FSYNC, metrics_now_ns() - t0);
    /* The directory too (a segment was created or removed), whether or not the file was. */
    if (job->sys_errno == 0 && job->dir_fd >= 0 && sio_fsync(job->io, job->dir_fd) != 0)
        job->sys_errno = errno;
    return job->sys_errno ? WAL_ERR_IO : 0;
}

/*
 * The last block says at once what the sync covered (rewritten in place, not synced): after a
 * crash that kept it, a block the sync covered that reads as zeros is known for damage, not
 * taken for a tear. Only when nothing waits in the buffer (records written meanwhile carry
 * it with them); a rewrite in place needs no new space, so a full disk only leaves it undone.
 */
static void wal_refresh_tail(struct wal *w)
{
    if (w->cfg.fsync == WAL_FSYNC_NEVER || w->buf_used != w->buf_flushed || w->buf_used == 0)
        return;
    if (wal_flush(w) != 0 && !w->failed)
        w->spilled = false; /* nothing new was written: the blocks on disk are as they were */
}

int wal_sync_end(struct wal *w, struct wal_sync_job *job, int run_result)
{
    assert(w->sync_in_flight);
    w->sync_in_flight = false;
    if (job->file_fd >= 0)
        close(job->file_fd);
    if (job->dir_fd >= 0)
        close(job->dir_fd);
    job->file_fd = job->dir_fd = -1;
    if (run_result != 0) {
        /* The kernel may have dropped the pages that failed to write: trust nothing more. */
        w->failed = true;
        int e = job->sys_errno ? job->sys_errno : EIO;
        wal_fail_sys(&w->err, e, "fdatasync up to index %" PRIu64 " in %s", job->index, w->dir);
        return WAL_ERR_IO; /* even ENOSPC: the kernel dropped the pages it could not write */
    }
    /* A truncation during the job may have removed (and re-appended) indexes it covered. */
    if (job->truncations != w->truncations)
        return 0;
    if (job->index > w->durable_index) {
        assert(job->index <= wal_last_index(w));
        w->durable_index = job->index;
    }
    /* Under "never" nothing is durable: blocks must not claim it, or a crash would look like
       damage. */
    if (w->cfg.fsync != WAL_FSYNC_NEVER && job->segment == wal_active(w)->first_index &&
        job->stream_end > w->durable_stream) {
        w->durable_stream = job->stream_end;
        w->durable_dirty = true;
        wal_refresh_tail(w);
    }
    return w->failed ? WAL_ERR_FAILED : 0;
}

int wal_sync(struct wal *w)
{
    struct wal_sync_job job;
    int rc = wal_sync_begin(w, &job);
    if (rc)
        return rc;
    return wal_sync_end(w, &job, wal_sync_run(&job));
}

int wal_sync_due(struct wal *w, uint64_t now_ms)
{
    if (w->cfg.fsync != WAL_FSYNC_INTERVAL)
        return wal_sync(w);
    if (w->synced_once && now_ms - w->last_sync_ms < w->cfg.fsync_interval_ms)
        return wal_flush(w);
    int rc = wal_sync(w);
    if (rc == 0) {
        w->synced_once = true;
        w->last_sync_ms = now_ms;
    }
    return rc;
}
