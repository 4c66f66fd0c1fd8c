/* sio_faults.c: a sio that fails chosen calls (the Nth write, sync, rename...) with an errno. */
#include "sio.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct sio_rule {
    uint64_t nth;   /* 0: no rule */
    uint64_t count; /* 0: every call from nth on */
    int err;
    uint64_t calls;
    uint64_t failed;
};

struct sio_faults {
    struct sio io; /* ops below, ctx = this */
    const struct sio *inner;
    pthread_mutex_t mu;
    struct sio_rule rules[SIO_CALL_KINDS];
};

static const char *const call_names[SIO_CALL_KINDS] = {
    [SIO_CALL_OPEN] = "open",         [SIO_CALL_WRITE] = "write",   [SIO_CALL_SYNC] = "sync",
    [SIO_CALL_RENAME] = "rename",     [SIO_CALL_TRUNCATE] = "truncate",
    [SIO_CALL_UNLINK] = "unlink",     [SIO_CALL_READ] = "read",
};

const char *sio_call_name(enum sio_call call)
{
    return call < SIO_CALL_KINDS ? call_names[call] : "?";
}

bool sio_call_parse(const char *name, enum sio_call *out)
{
    for (int i = 0; i < SIO_CALL_KINDS; i++) {
        if (strcmp(name, call_names[i]) == 0) {
            *out = (enum sio_call)i;
            return true;
        }
    }
    return false;
}

/* Counts one call of that kind; true (errno set) when the rule fails it. */
static bool fault_hit(const struct sio *io, enum sio_call call)
{
    struct sio_faults *f = io->ctx;
    pthread_mutex_lock(&f->mu);
    struct sio_rule *r = &f->rules[call];
    uint64_t k = ++r->calls;
    bool hit = r->nth != 0 && k >= r->nth && (r->count == 0 || k - r->nth < r->count);
    int err = r->err;
    if (hit)
        r->failed++;
    pthread_mutex_unlock(&f->mu);
    if (hit)
        errno = err;
    return hit;
}

static const struct sio *inner(const struct sio *io)
{
    return ((const struct sio_faults *)io->ctx)->inner;
}

static int f_openat(const struct sio *io, int dir_fd, const char *name, int flags, mode_t mode)
{
    return fault_hit(io, SIO_CALL_OPEN) ? -1 : sio_openat(inner(io), dir_fd, name, flags, mode);
}

static int f_close(const struct sio *io, int fd) { return sio_close(inner(io), fd); }

static ssize_t f_pread(const struct sio *io, int fd, void *buf, size_t len, off_t off)
{
    return fault_hit(io, SIO_CALL_READ) ? -1 : sio_pread(inner(io), fd, buf, len, off);
}

/* A full disk has no block to add, but writes over allocated bytes still work: an ENOSPC or
   EDQUOT rule only sees (counts and fails) writes that would make the file longer. */
static bool extends_only(const struct sio *io)
{
    struct sio_faults *f = io->ctx;
    pthread_mutex_lock(&f->mu);
    const struct sio_rule *r = &f->rules[SIO_CALL_WRITE];
    bool only = r->nth != 0 && (r->err == ENOSPC || r->err == EDQUOT);
    pthread_mutex_unlock(&f->mu);
    return only;
}

static ssize_t f_pwrite(const struct sio *io, int fd, const void *buf, size_t len, off_t off)
{
    uint64_t size;
    if (extends_only(io) && sio_fsize(inner(io), fd, &size) == 0 && (uint64_t)off + len <= size)
        return sio_pwrite(inner(io), fd, buf, len, off);
    return fault_hit(io, SIO_CALL_WRITE) ? -1 : sio_pwrite(inner(io), fd, buf, len, off);
}

static int f_fdatasync(const struct sio *io, int fd)
{
    return fault_hit(io, SIO_CALL_SYNC) ? -1 : sio_fdatasync(inner(io), fd);
}

static int f_fsync(const struct sio *io, int fd)
{
    return fault_hit(io, SIO_CALL_SYNC) ? -1 : sio_fsync(inner(io), fd);
}

static int f_ftruncate(const struct sio *io, int fd, off_t len)
{
    return fault_hit(io, SIO_CALL_TRUNCATE) ? -1 : sio_ftruncate(inner(io), fd, len);
}

static int f_fsize(const struct sio *io, int fd, uint64_t *size)
{
    return sio_fsize(inner(io), fd, size);
}

static int f_renameat(const struct sio *io, int from_dir, const char *from, int to_dir,
                      const char *to)
{
    return fault_hit(io, SIO_CALL_RENAME) ? -1 : sio_renameat(inner(io), from_dir, from, to_dir, to);
}

static int f_unlinkat(const struct sio *io, int dir_fd, const char *name)
{
    return fault_hit(io, SIO_CALL_UNLINK) ? -1 : sio_unlinkat(inner(io), dir_fd, name);
}

static const struct sio_ops fault_ops = {
    .openat = f_openat,
    .close = f_close,
    .pread = f_pread,
    .pwrite = f_pwrite,
    .fdatasync = f_fdatasync,
    .fsync = f_fsync,
    .ftruncate = f_ftruncate,
    .fsize = f_fsize,
    .renameat = f_renameat,
    .unlinkat = f_unlinkat,
};

struct sio_faults *sio_faults_new(const struct sio *in)
{
    struct sio_faults *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->io.ops = &fault_ops;
    f->io.ctx = f;
    f->inner = in;
    pthread_mutex_init(&f->mu, NULL);
    return f;
}

void sio_faults_free(struct sio_faults *f)
{
    if (!f)
        return;
    pthread_mutex_destroy(&f->mu);
    free(f);
}

const struct sio *sio_faults_io(struct sio_faults *f) { return &f->io; }

void sio_faults_set(struct sio_faults *f, enum sio_call call, uint64_t nth, uint64_t count,
                    int err)
{
    pthread_mutex_lock(&f->mu);
    f->rules[call] = (struct sio_rule){.nth = nth, .count = count, .err = err};
    pthread_mutex_unlock(&f->mu);
}

void sio_faults_clear(struct sio_faults *f, enum sio_call call)
{
    sio_faults_set(f, call, 0, 0, 0);
}

void sio_faults_clear_all(struct sio_faults *f)
{
    for (int i = 0; i < SIO_CALL_KINDS; i++)
        sio_faults_clear(f, (enum sio_call)i);
}

uint64_t sio_faults_calls(struct sio_faults *f, enum sio_call call)
{
    pthread_mutex_lock(&f->mu);
    uint64_t n = f->rules[call].calls;
    pthread_mutex_unlock(&f->mu);
    return n;
}

uint64_t sio_faults_failed(struct sio_faults *f, enum sio_call call)
{
    pthread_mutex_lock(&f->mu);
    uint64_t n = f->rules[call].failed;
    pthread_mutex_unlock(&f->mu);
    return n;
}
