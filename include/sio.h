/* sio.h: the storage I/O seam: the WAL and the snapshot writers reach the disk through it. */
#ifndef UTIL_SIO_H
#define UTIL_SIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Every call that writes, syncs, renames, truncates or opens a file of the log or of a
 * snapshot goes through a struct sio, so a test (or a simulated disk) can stand in for the
 * kernel: sio_default() is the real system calls; sio_faults (below) wraps any sio and makes
 * the Nth call of one kind fail with an errno. Each call behaves as the system call it is
 * named after: -1 (or a short count) with errno set on failure. Calls may come from several
 * threads at once (a WAL's zero-filler and sync thread); implementations must allow that.
 * Directory listing, mkdir and flock stay outside the seam for now.
 */
struct sio;

struct sio_ops {
    int (*openat)(const struct sio *io, int dir_fd, const char *name, int flags, mode_t mode);
    int (*close)(const struct sio *io, int fd);
    ssize_t (*pread)(const struct sio *io, int fd, void *buf, size_t len, off_t off);
    ssize_t (*pwrite)(const struct sio *io, int fd, const void *buf, size_t len, off_t off);
    int (*fdatasync)(const struct sio *io, int fd);
    int (*fsync)(const struct sio *io, int fd);
    int (*ftruncate)(const struct sio *io, int fd, off_t len);
    int (*fsize)(const struct sio *io, int fd, uint64_t *size); /* fstat's st_size */
    int (*renameat)(const struct sio *io, int from_dir, const char *from, int to_dir,
                    const char *to);
    int (*unlinkat)(const struct sio *io, int dir_fd, const char *name);
};

struct sio {
    const struct sio_ops *ops;
    void *ctx; /* the implementation's own state */
};

/* The real system calls (EINTR is the caller's to retry, as with the calls themselves). */
const struct sio *sio_default(void);

static inline int sio_openat(const struct sio *io, int dir_fd, const char *name, int flags,
                             mode_t mode)
{
    return io->ops->openat(io, dir_fd, name, flags, mode);
}
static inline int sio_close(const struct sio *io, int fd) { return io->ops->close(io, fd); }
static inline ssize_t sio_pread(const struct sio *io, int fd, void *buf, size_t len, off_t off)
{
    return io->ops->pread(io, fd, buf, len, off);
}
static inline ssize_t sio_pwrite(const struct sio *io, int fd, const void *buf, size_t len,
                                 off_t off)
{
    return io->ops->pwrite(io, fd, buf, len, off);
}
static inline int sio_fdatasync(const struct sio *io, int fd) { return io->ops->fdatasync(io, fd); }
static inline int sio_fsync(const struct sio *io, int fd) { return io->ops->fsync(io, fd); }
static inline int sio_ftruncate(const struct sio *io, int fd, off_t len)
{
    return io->ops->ftruncate(io, fd, len);
}
static inline int sio_fsize(const struct sio *io, int fd, uint64_t *size)
{
    return io->ops->fsize(io, fd, size);
}
static inline int sio_renameat(const struct sio *io, int from_dir, const char *from, int to_dir,
                               const char *to)
{
    return io->ops->renameat(io, from_dir, from, to_dir, to);
}
static inline int sio_unlinkat(const struct sio *io, int dir_fd, const char *name)
{
    return io->ops->unlinkat(io, dir_fd, name);
}

/* Writes all of buf at off, retrying short writes and EINTR: 0, or -1 with errno (a short
   write that made no progress is EIO). Some bytes may be written when it fails. */
int sio_pwrite_all(const struct sio *io, int fd, const void *buf, size_t len, off_t off);
/* Reads exactly len bytes at off: 0, or -1 with errno (EIO for a file that ends first). */
int sio_pread_all(const struct sio *io, int fd, void *buf, size_t len, off_t off);

/*
 * Fault injection: a sio that passes every call to `inner` except the ones a rule fails.
 * A rule for one kind of call says: counting the calls of that kind from when the rule was
 * set (the first is 1), calls nth .. nth + count - 1 fail with err without reaching inner
 * (count 0: every call from nth on). Writes fail before writing anything. A write rule
 * with ENOSPC or EDQUOT is a full disk: it sees (counts and fails) only writes that would
 * make the file longer; writes over bytes the file has go through. Thread-safe.
 */
enum sio_call {
    SIO_CALL_OPEN,     /* openat */
    SIO_CALL_WRITE,    /* pwrite */
    SIO_CALL_SYNC,     /* fdatasync and fsync */
    SIO_CALL_RENAME,   /* renameat */
    SIO_CALL_TRUNCATE, /* ftruncate */
    SIO_CALL_UNLINK,   /* unlinkat */
    SIO_CALL_READ,     /* pread */
    SIO_CALL_KINDS,
};
/* "open", "write", "sync", "rename", "truncate", "unlink", "read". */
const char *sio_call_name(enum sio_call call);
bool sio_call_parse(const char *name, enum sio_call *out);

struct sio_faults; /* opaque: a mutex and the rules */

struct sio_faults *sio_faults_new(const struct sio *inner);
void sio_faults_free(struct sio_faults *f);
/* The sio to hand to the WAL and the snapshot writers; valid until sio_faults_free. */
const struct sio *sio_faults_io(struct sio_faults *f);
void sio_faults_set(struct sio_faults *f, enum sio_call call, uint64_t nth, uint64_t count,
                    int err);
void sio_faults_clear(struct sio_faults *f, enum sio_call call);
void sio_faults_clear_all(struct sio_faults *f);
/* Calls of that kind seen since its rule was last set or cleared, and how many failed. */
uint64_t sio_faults_calls(struct sio_faults *f, enum sio_call call);
uint64_t sio_faults_failed(struct sio_faults *f, enum sio_call call);

#endif
