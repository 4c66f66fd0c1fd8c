/* server_snap_write.c: the snapshot written by the loop in bounded steps at a pinned version,
   then synced and renamed on a thread. No fork: no page of the store is copied; what a
   snapshot costs in memory is the history the pin keeps (the old versions of keys written
   while it runs) and a 64 KiB buffer. */
#include "server_snap_internal.h"

#include "log.h"

#include <assert.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Test hooks, read when a snapshot starts: the first step waits this many ms after the pin,
   and the snapshot fails while the file named by the other exists. */
#define SNAP_ENV_DELAY_MS "KVNODE_TEST_SNAPSHOT_DELAY_MS"
#define SNAP_ENV_FAIL_FILE "KVNODE_TEST_SNAPSHOT_FAIL_FILE"

/* One loop turn's share: steps of this many keys or bytes until this much time went. */
#define STEP_KEYS 1024u
#define STEP_BYTES (128u * 1024u)
#define TURN_NS 1000000

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void report(struct server_snap_state *s, const char *what, int rc)
{
    s->report_len = (size_t)snprintf(s->report, sizeof s->report, "%s (%s)", kv_strerror(rc),
                                     what);
    if (s->report_len >= sizeof s->report)
        s->report_len = sizeof s->report - 1;
}

static void unwatch(struct server_snap_state *s)
{
    if (s->step_ev)
        event_free(s->step_ev);
    s->step_ev = NULL;
    if (s->ev)
        event_free(s->ev);
    s->ev = NULL;
    if (s->fd >= 0)
        close(s->fd);
    if (s->wfd >= 0)
        close(s->wfd);
    s->fd = s->wfd = -1;
}

/* Ends the snapshot: the job goes (with its temp file unless it was renamed into place). */
static void end(struct server_node *n, bool ok, bool cancelled)
{
    struct server_snap_state *s = n->snap;
    unwatch(s);
    kv_snapshot_job_free(s->job);
    s->job = NULL;
    server_snap_finished(n, ok, cancelled);
}

static void *sync_main(void *arg)
{
    struct server_snap_state *s = arg;
    s->sync_rc = kv_snapshot_job_finish(s->job);
    char byte = 1;
    while (write(s->wfd, &byte, 1) < 0 && errno == EINTR)
        continue;
    return NULL;
}

static void on_synced(evutil_socket_t fd, short what, void *arg)
{
    struct server_node *n = arg;
    struct server_snap_state *s = n->snap;
    (void)fd;
    (void)what;
    pthread_join(s->thread, NULL);
    s->syncing = false;
    if (s->sync_rc != 0)
        report(s, kv_snapshot_job_error(s->job), s->sync_rc);
    end(n, s->sync_rc == 0, false);
}

/* Every byte is in the temp file: fsync, rename and the directory's fsync go to a thread. */
static void start_sync(struct server_node *n)
{
    struct server_snap_state *s = n->snap;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        report(s, strerror(errno), KV_ERR_IO);
        end(n, false, false);
        return;
    }
    s->fd = fds[0];
    s->wfd = fds[1];
    s->ev = event_new(n->base, s->fd, EV_READ, on_synced, n);
    if (!s->ev || event_add(s->ev, NULL) != 0 ||
        pthread_create(&s->thread, NULL, sync_main, s) != 0) {
        report(s, "cannot start the sync thread", KV_ERR_IO);
        end(n, false, false);
        return;
    }
    s->syncing = true;
}

static void on_step(evutil_socket_t fd, short what, void *arg)
{
    struct server_node *n = arg;
    struct server_snap_state *s = n->snap;
    (void)fd;
    (void)what;
    const char *fail = getenv(SNAP_ENV_FAIL_FILE);
    if (fail && access(fail, F_OK) == 0) {
        s->report_len = (size_t)snprintf(s->report, sizeof s->report, "test hook: %s exists",
                                         fail);
        end(n, false, false);
        return;
    }
    int64_t until = mono_ns() + TURN_NS;
    int rc;
    do
        rc = kv_snapshot_job_step(s->job, STEP_KEYS, STEP_BYTES);
    while (rc == 1 && mono_ns() < until);
    if (rc == 1) {
        struct timeval now = {0, 0};
        if (event_add(s->step_ev, &now) == 0)
            return; /* the loop serves what came, then the next step */
        rc = KV_ERR_IO;
        report(s, "cannot schedule the next step", rc);
    } else if (rc != 0) {
        report(s, kv_snapshot_job_error(s->job), rc);
    }
    if (rc != 0)
        end(n, false, false);
    else
        start_sync(n);
}

int server_snap_begin(struct server_node *n, uint64_t index, uint64_t term)
{
    struct server_snap_state *s = n->snap;
    assert(!s->job && s->fd < 0);
    assert(index == kv_sm_applied_version(n->sm));
    s->index = index;
    s->term = term;
    s->report_len = 0;
    s->report[0] = '\0';
    char path[PATH_MAX], err[SERVER_SNAP_ERR_MAX];
    const char *delay = getenv(SNAP_ENV_DELAY_MS);
    long ms = delay ? strtol(delay, NULL, 10) : 0;
    struct timeval wait = {ms / 1000, (ms % 1000) * 1000};
    int rc = KV_ERR_IO;
    if (server_snap_path(n, index, path, sizeof path) != 0)
        snprintf(err, sizeof err, "path too long");
    else
        rc = kv_sm_snapshot_job_begin(n->sm, path, n->io, &s->job, err, sizeof err);
    if (rc == 0) {
        s->step_ev = evtimer_new(n->base, on_step, n);
        /* The lowest priority, beside the end of turn (net_turn.c): at a higher one the step,
           active again at every iteration, kept libevent from ever running the lower queue,
           and no write was synced or answered until the snapshot was written (310 - 410 ms
           gaps at 1M keys). */
        if (!s->step_ev ||
            event_priority_set(s->step_ev, event_base_get_npriorities(n->base) - 1) != 0 ||
            evtimer_add(s->step_ev, &wait) != 0) {
            rc = KV_ERR_NOMEM;
            snprintf(err, sizeof err, "no event for its steps");
        }
    }
    if (rc != 0) {
        log_error("snapshot at %llu: cannot start: %s (%s)", (unsigned long long)index,
                  kv_strerror(rc), err);
        unwatch(s);
        kv_snapshot_job_free(s->job);
        s->job = NULL;
        s->retry_at_ms = server_now_ms() + SERVER_SNAP_RETRY_MS;
        return -1;
    }
    s->started_ms = server_now_ms();
    log_info("snapshot at %llu: writing %s", (unsigned long long)index, path);
    return 0;
}

bool server_snap_running(const struct server_node *n)
{
    return n->snap && n->snap->job != NULL;
}

void server_snap_cancel(struct server_node *n)
{
    struct server_snap_state *s = n->snap;
    if (!s || !s->job)
        return;
    if (s->syncing) /* an fsync cannot be interrupted: wait for it */
        pthread_join(s->thread, NULL);
    s->syncing = false;
    log_info("snapshot at %llu: stopped", (unsigned long long)s->index);
    end(n, false, true);
}

void server_snap_close(struct server_node *n)
{
    if (!n->snap)
        return;
    server_snap_cancel(n);
    if (n->snap->retry_ev)
        event_free(n->snap->retry_ev);
    free(n->snap);
    n->snap = NULL;
}
