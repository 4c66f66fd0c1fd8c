/* cluster_sync.c: the WAL's fdatasync on a thread of its own, so the loop keeps running. */
#include "cluster_internal.h"

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
struct cluster_sync {
    pthread_t thread;
    bool thread_started;
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
    struct cluster_sync *s = arg;
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
static int sync_end(struct cluster_node *n, int result)
{
    struct cluster_sync *s = n->sync;
    assert(s->in_flight);
    s->in_flight = false;
    return wal_sync_end(n->wal, &s->job, result) == 0 ? 0 : CLUSTER_ERR_IO;
}

/* Takes the finished job's result, waiting for it if `wait`; false if it is still running. */
static bool sync_take(struct cluster_sync *s, bool wait, int *result)
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
    struct cluster_node *n = arg;
    (void)what;
    uint64_t count;
    ssize_t r = read(fd, &count, sizeof count);
    (void)r; /* EAGAIN: a waiting batch took the job already */
    assert(!n->in_ready);
    struct cluster_sync *s = n->sync;
    int result = 0;
    if (!s->in_flight || !sync_take(s, false, &result))
        return;
    int rc = sync_end(n, result);
    if (n->failed)
        return; /* the job is only closed */
    if (rc != 0) {
        cluster_fail(n, "syncing the log");
        return;
    }
    n->stats.bg_syncs++;
    n->bg_syncs_total++;
    consensus_persisted(n->core, wal_durable_index(n->wal));
    /* Entries appended while it ran get the next sync at once (group commit). */
    if (wal_durable_index(n->wal) < wal_last_index(n->wal) && cluster_sync_start(n) != 0)
        cluster_fail(n, "starting a log sync");
    cluster_schedule(n);
}

int cluster_sync_open(struct cluster_node *n)
{
    assert(n->sync == NULL);
    struct cluster_sync *s = calloc(1, sizeof *s);
    if (!s)
        return CLUSTER_ERR_NOMEM;
    n->sync = s;
    s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (s->wake_fd < 0) {
        log_error("cluster: eventfd: %s", strerror(errno));
        return CLUSTER_ERR_NOMEM;
    }
    s->wake_ev = event_new(n->base, s->wake_fd, EV_READ | EV_PERSIST, on_wake, n);
    if (!s->wake_ev || event_add(s->wake_ev, NULL) != 0)
        return CLUSTER_ERR_NOMEM;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->job_cv, NULL);
    pthread_cond_init(&s->done_cv, NULL);
    int rc = pthread_create(&s->thread, NULL, sync_main, s);
    if (rc != 0) {
        log_error("cluster: starting the sync thread: %s", strerror(rc));
        return CLUSTER_ERR_NOMEM;
    }
    s->thread_started = true;
    return 0;
}

bool cluster_sync_in_flight(const struct cluster_node *n)
{
    return n->sync && n->sync->in_flight;
}

int cluster_sync_start(struct cluster_node *n)
{
    struct cluster_sync *s = n->sync;
    assert(s && !s->in_flight);
    if (wal_sync_begin(n->wal, &s->job) != 0)
        return CLUSTER_ERR_IO;
    s->in_flight = true;
    pthread_mutex_lock(&s->mu);
    assert(!s->queued && !s->done);
    s->queued = true;
    pthread_cond_signal(&s->job_cv);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

int cluster_sync_wait(struct cluster_node *n)
{
    struct cluster_sync *s = n->sync;
    if (!s || !s->in_flight)
        return 0;
    int result = 0;
    bool done = sync_take(s, true, &result);
    assert(done);
    (void)done;
    return sync_end(n, result);
}

void cluster_sync_close(struct cluster_node *n)
{
    struct cluster_sync *s = n->sync;
    if (!s)
        return;
    if (cluster_sync_wait(n) != 0)
        log_error("cluster: the last log sync failed: %s", wal_last_error(n->wal));
    if (s->thread_started) {
        pthread_mutex_lock(&s->mu);
        s->stop = true;
        pthread_cond_signal(&s->job_cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->thread, NULL);
        pthread_cond_destroy(&s->job_cv);
        pthread_cond_destroy(&s->done_cv);
        pthread_mutex_destroy(&s->mu);
    }
    if (s->wake_ev)
        event_free(s->wake_ev);
    if (s->wake_fd >= 0)
        close(s->wake_fd);
    free(s);
    n->sync = NULL;
}
