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
    *job = (struct wal_sync_job){.file_fd = -1, .dir_fd = -1};
    int rc = wal_flush(w);
    if (rc)
        return rc;
    assert(w->active_written == wal_active(w)->size);
    job->index = wal_last_index(w);
    job->truncations = w->truncations;
    bool idle = job->index == w->durable_index && !w->dir_dirty; /* a timer found nothing */
    if (w->cfg.fsync != WAL_FSYNC_NEVER && !idle) {
        /* Dups keep the files reachable even if the owner rolls or resets meanwhile. */
        job->file_fd = dup(w->active_fd);
        if (job->file_fd < 0)
            return wal_fail_sys(&w->err, errno, "dup segment fd in %s", w->dir);
        if (w->dir_dirty) {
            job->dir_fd = dup(w->dir_fd);
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
    if (job->file_fd >= 0 && fdatasync(job->file_fd) != 0)
        job->sys_errno = errno;
    else if (job->file_fd >= 0)
        metrics_observe_ns(METRIC_WAL_FSYNC, metrics_now_ns() - t0);
    else if (job->dir_fd >= 0 && fsync(job->dir_fd) != 0)
        job->sys_errno = errno;
    return job->sys_errno ? WAL_ERR_IO : 0;
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
        return wal_fail_sys(&w->err, job->sys_errno ? job->sys_errno : EIO,
                            "fdatasync up to index %" PRIu64 " in %s", job->index, w->dir);
    }
    /* A truncation during the job may have removed (and re-appended) indexes it covered. */
    if (job->truncations == w->truncations && job->index > w->durable_index) {
        assert(job->index <= wal_last_index(w));
        w->durable_index = job->index;
    }
    return 0;
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
