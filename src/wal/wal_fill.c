/* wal_fill.c: keeps the active segment zero-filled ahead of the appends, on a thread of its own. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "wal_internal.h"

/*
 * Why: on ext4, an fdatasync after writes that extend a file (or fill fallocate'd, unwritten
 * extents) must commit the size and extent changes through the journal; one after overwriting
 * blocks that are already written and durable flushes only the data (measured here with dd:
 * 170-180 us against 110 us per 4 KiB sync, and 220-320 against 160 with two writers).
 */
enum {
    wal_fill_piece_size = 256 << 10, /* zeros per write(2) and per fdatasync */
    wal_fill_edge_piece_size = 16 << 10, /* when starting at the owner's offset: an owner write
                                            reaching it waits for this much only */
};

/* The next range to zero, [*start, *end), empty when the fill is far enough ahead. Under mu. */
static void wal_fill_next(const struct wal_fill *f, uint64_t *start, uint64_t *end, uint64_t *target)
{
    uint64_t s = f->filled_end > f->owner_end ? f->filled_end : f->owner_end;
    uint64_t t = f->owner_end + f->ahead;
    if (t > f->limit)
        t = f->limit;
    *target = t;
    *start = s;
    *end = s;
    if (s >= t)
        return;
    /* Pieces end on piece boundaries, so after the first one they are whole pages. */
    uint64_t boundary = (s / wal_fill_piece_size + 1) * wal_fill_piece_size;
    if (s == f->owner_end && boundary - s > wal_fill_edge_piece_size)
        boundary = s + wal_fill_edge_piece_size;
    *end = t < boundary ? t : boundary;
}

static int wal_fill_write(const struct sio *io, int fd, const uint8_t *zeros, uint64_t start,
                          uint64_t end)
{
    assert(end - start <= wal_fill_piece_size);
    return sio_pwrite_all(io, fd, zeros, (size_t)(end - start), (off_t)start) == 0 ? 0 : errno;
}

/* The thread: write one piece of zeros without mu, then make it durable, until stopped. */
static void *wal_fill_main(void *arg)
{
    struct wal_fill *f = arg;
    int fd = -1;
    uint64_t gen = UINT64_MAX;
    pthread_mutex_lock(&f->mu);
    while (!f->stop) {
        if (gen != f->gen) {
            int old = fd;
            fd = f->fd_next;
            f->fd_next = -1;
            gen = f->gen;
            if (old >= 0) {
                pthread_mutex_unlock(&f->mu);
                /* Maybe the last reference of an unlinked segment: not under mu. */
                sio_close(f->io, old);
                pthread_mutex_lock(&f->mu);
            }
            continue;
        }
        uint64_t start, end, target;
        wal_fill_next(f, &start, &end, &target);
        if (fd < 0 || f->sys_errno != 0 || start == end) {
            f->idle = true;
            pthread_cond_wait(&f->wake, &f->mu);
            f->idle = false;
            continue;
        }
        f->in_flight = true;
        f->piece_start = start;
        pthread_mutex_unlock(&f->mu);
        int e = wal_fill_write(f->io, fd, f->zeros, start, end);
        pthread_mutex_lock(&f->mu);
        f->in_flight = false;
        pthread_cond_broadcast(&f->piece_done);
        if (e == 0 && gen == f->gen && end > f->filled_end)
            f->filled_end = end;
        pthread_mutex_unlock(&f->mu);
        /* Durable zeros and file size are what make the owner's fdatasync cheap. Our own open
           file description, so an error seen here is still reported to the owner's. */
        if (e == 0 && sio_fdatasync(f->io, fd) != 0)
            e = errno;
        pthread_mutex_lock(&f->mu);
        if (e != 0 && f->sys_errno == 0)
            f->sys_errno = e;
        if (e == 0) {
            f->bytes_zeroed += end - start;
            f->syncs++;
        }
    }
    pthread_mutex_unlock(&f->mu);
    if (fd >= 0)
        sio_close(f->io, fd);
    return NULL;
}

void wal_fill_init(struct wal *w)
{
    struct wal_fill *f = &w->fill;
    *f = (struct wal_fill){.fd_next = -1, .io = w->io};
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->wake, NULL);
    pthread_cond_init(&f->piece_done, NULL);
}

/* Owner thread, under mu: the filler's failure is logged once, by the owner. */
static void wal_fill_log_error(struct wal *w)
{
    struct wal_fill *f = &w->fill;
    if (f->sys_errno == 0 || f->error_logged)
        return;
    f->error_logged = true;
    log_warn("wal: %s: zero-filling ahead stopped (%s); appends extend the segment instead",
             w->dir, strerror(f->sys_errno));
}

void wal_fill_start(struct wal *w)
{
    struct wal_fill *f = &w->fill;
    assert(!f->running);
    if (!wal_fill_wanted(&w->cfg))
        return;
    f->ahead = w->cfg.zero_ahead_bytes;
    /* Allocated, not a static const array: that would put 256 KiB of zeros in the binary. */
    f->zeros = calloc(1, wal_fill_piece_size);
    int e = f->zeros ? pthread_create(&f->thread, NULL, wal_fill_main, f) : ENOMEM;
    if (e != 0) {
        log_warn("wal: %s: no zero-filling thread (%s)", w->dir, strerror(e));
        free(f->zeros);
        f->zeros = NULL;
        return;
    }
    f->running = true;
    wal_fill_resume(w);
}

void wal_fill_stop(struct wal *w)
{
    struct wal_fill *f = &w->fill;
    if (!f->running)
        return;
    pthread_mutex_lock(&f->mu);
    f->stop = true;
    pthread_cond_signal(&f->wake);
    pthread_mutex_unlock(&f->mu);
    pthread_join(f->thread, NULL);
    f->running = false;
    free(f->zeros);
    f->zeros = NULL;
    wal_fill_log_error(w);
    if (f->fd_next >= 0)
        sio_close(f->io, f->fd_next);
    f->fd_next = -1;
}

void wal_fill_pause(struct wal *w)
{
    struct wal_fill *f = &w->fill;
    if (!f->running)
        return;
    pthread_mutex_lock(&f->mu);
    while (f->in_flight)
        pthread_cond_wait(&f->piece_done, &f->mu);
    f->gen++;
    int old = f->fd_next;
    f->fd_next = -1;
    wal_fill_log_error(w);
    pthread_mutex_unlock(&f->mu);
    if (old >= 0)
        sio_close(f->io, old);
}

void wal_fill_resume(struct wal *w)
{
    struct wal_fill *f = &w->fill;
    if (!f->running)
        return;
    assert(w->active_fd >= 0);
    char name[wal_segment_name_size_max];
    wal_segment_name(name, wal_active(w)->first_index);
    int fd = sio_openat(f->io, w->dir_fd, name, O_WRONLY | O_CLOEXEC, 0);
    uint64_t size = 0;
    if (fd >= 0 && sio_fsize(f->io, fd, &size) != 0) {
        sio_close(f->io, fd);
        fd = -1;
    }
    if (fd < 0) {
        log_warn("wal: %s/%s: not zero-filling this segment (%s)", w->dir, name, strerror(errno));
        wal_fill_pause(w);
        return;
    }
    pthread_mutex_lock(&f->mu);
    while (f->in_flight)
        pthread_cond_wait(&f->piece_done, &f->mu);
    f->gen++;
    int old = f->fd_next;
    f->fd_next = fd;
    uint64_t written = wal_stream_file_size(wal_active_flushed(w));
    f->owner_end = written;
    f->filled_end = size > written ? size : written;
    /* Zeros end on a block boundary, so recovery never sees a short last piece. */
    f->limit = w->cfg.segment_size_max - w->cfg.segment_size_max % wal_block_size;
    pthread_cond_signal(&f->wake);
    pthread_mutex_unlock(&f->mu);
    if (old >= 0)
        sio_close(f->io, old);
}

void wal_fill_publish(struct wal *w, uint64_t end)
{
    struct wal_fill *f = &w->fill;
    if (!f->running)
        return;
    pthread_mutex_lock(&f->mu);
    /* Only when the fill is behind, and then for one piece: never for its fdatasync. */
    while (f->in_flight && end > f->piece_start)
        pthread_cond_wait(&f->piece_done, &f->mu);
    if (end > f->owner_end)
        f->owner_end = end;
    uint64_t start, stop, target;
    wal_fill_next(f, &start, &stop, &target);
    /* Wake the filler once a quarter of the distance is missing, not for every record. */
    if (f->idle && start < target && (target - start >= f->ahead / 4 || target == f->limit))
        pthread_cond_signal(&f->wake);
    pthread_mutex_unlock(&f->mu);
}
