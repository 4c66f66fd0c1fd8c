/* cluster_io_sync.c: the WAL's fdatasync on a thread of its own, so the loop keeps running. */
#include "cluster_io_wal.h"

#include "cluster.h"

#include "log.h"
#include "wal.h"

#include <assert.h>
#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/*
 * One job at a time (wal.h: at most one sync job in flight per wal): the loop begins it
 * (wal_sync_begin writes the buffer out), the thread runs the fdatasync (wal_sync_run), and
 * the loop ends it (wal_sync_end) when the eventfd wakes it, or at once when a batch must
 * wait for it. The job struct belongs to the thread from `queued` until `done`.
 */
struct cluster_io_sync {
    struct wal *wal;
    cluster_io_sync_done_fn done_fn;
    void *done_ctx;
    pthread_t thread;
    bool thread_started;
    bool sync_objects; /* mu and the condition variables exist */
    pthread_mutex_t mu;
    pthread_cond_t job_cv;  /* the thread waits for queued or stop */
    pthread_cond_t done_cv; /* the loop waits for done */
    bool queued;
    bool done;
    bool stop;
    int result;
    struct wal_sync_job job;
    int wake_fd;
    struct event *wake_ev;
    bool in_flight; /* loop side: begun and not yet ended */
};

static void *sync_main(void *arg)
{
    struct cluster_io_sync *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->queued && !s->stop)
            pthread_cond_wait(&s->job_cv, &s->mu);
        if (s->stop)
            break;
        s->queued = false;
        pthread_mutex_unlock(&s->mu);
        int rc = wal_sync_run(&s->job);
        pthread_mutex_lock(&s->mu);
        s->result = rc;
        s->done = true;
        pthread_cond_signal(&s->done_cv);
        uint64_t one = 1;
        /* A full counter still wakes the loop; nothing else can fail here. */
        ssize_t w = write(s->wake_fd, &one, sizeof one);
        (void)w;
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Ends the job whose run finished: 0, or CLUSTER_ERR_IO when storage failed. */
static int sync_end(struct cluster_io_sync *s, int result)
{
    assert(s->in_flight);
    s->in_flight = false;
    return wal_sync_end(s->wal, &s->job, result) == 0 ? 0 : CLUSTER_ERR_IO;
}

/* Takes the finished job's result, waiting for it if `wait`; false if it is still running. */
static bool sync_take(struct cluster_io_sync *s, bool wait, int *result)
{
    pthread_mutex_lock(&s->mu);
    while (wait && !s->done)
        pthread_cond_wait(&s->done_cv, &s->mu);
    bool done = s->done;
    s->done = false;
    *result = s->result;
    pthread_mutex_unlock(&s->mu);
    return done;
}

static void on_wake(int fd, short what, void *arg)
{
    struct cluster_io_sync *s = arg;
    (void)what;
    uint64_t count;
    ssize_t r = read(fd, &count, sizeof count);
    (void)r; /* EAGAIN: a waiting batch took the job already */
    int result = 0;
    if (!s->in_flight || !sync_take(s, false, &result))
        return;
    s->done_fn(s->done_ctx, sync_end(s, result));
}

int cluster_io_sync_open(struct event_base *base, struct wal *wal, cluster_io_sync_done_fn done,
                         void *ctx, struct cluster_io_sync **out)
{
    struct cluster_io_sync *s = calloc(1, sizeof *s);
    if (!s)
        return CLUSTER_ERR_NOMEM;
    *out = s;
    s->wal = wal;
    s->done_fn = done;
    s->done_ctx = ctx;
    s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (s->wake_fd < 0) {
        log_error("cluster: eventfd: %s", strerror(errno));
        return CLUSTER_ERR_NOMEM;
    }
    s->wake_ev = event_new(base, s->wake_fd, EV_READ | EV_PERSIST, on_wake, s);
    if (!s->wake_ev || event_add(s->wake_ev, NULL) != 0)
        return CLUSTER_ERR_NOMEM;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->job_cv, NULL);
    pthread_cond_init(&s->done_cv, NULL);
    s->sync_objects = true;
    int rc = pthread_create(&s->thread, NULL, sync_main, s);
    if (rc != 0) {
        log_error("cluster: starting the sync thread: %s", strerror(rc));
        return CLUSTER_ERR_NOMEM;
    }
    s->thread_started = true;
    return 0;
}

bool cluster_io_sync_in_flight(const struct cluster_io_sync *s)
{
    return s->in_flight;
}

int cluster_io_sync_start(struct cluster_io_sync *s)
{
    assert(!s->in_flight);
    if (wal_sync_begin(s->wal, &s->job) != 0)
        return CLUSTER_ERR_IO;
    s->in_flight = true;
    pthread_mutex_lock(&s->mu);
    assert(!s->queued && !s->done);
    s->queued = true;
    pthread_cond_signal(&s->job_cv);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

int cluster_io_sync_wait(struct cluster_io_sync *s)
{
    if (!s->in_flight)
        return 0;
    int result = 0;
    bool done = sync_take(s, true, &result);
    assert(done);
    (void)done;
    return sync_end(s, result);
}

void cluster_io_sync_close(struct cluster_io_sync *s)
{
    if (!s)
        return;
    if (cluster_io_sync_wait(s) != 0)
        log_error("cluster: the last log sync failed: %s", wal_last_error(s->wal));
    if (s->thread_started) {
        pthread_mutex_lock(&s->mu);
        s->stop = true;
        pthread_cond_signal(&s->job_cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->thread, NULL);
    }
    if (s->sync_objects) {
        pthread_cond_destroy(&s->job_cv);
        pthread_cond_destroy(&s->done_cv);
        pthread_mutex_destroy(&s->mu);
    }
    if (s->wake_ev)
        event_free(s->wake_ev);
    if (s->wake_fd >= 0)
        close(s->wake_fd);
    free(s);
}
