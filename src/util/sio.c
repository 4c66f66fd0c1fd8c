/* sio.c: the storage I/O seam's real system calls, and the loops every caller needs. */
#include "sio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static int real_openat(const struct sio *io, int dir_fd, const char *name, int flags, mode_t mode)
{
    (void)io;
    return openat(dir_fd, name, flags, mode);
}

static int real_close(const struct sio *io, int fd)
{
    (void)io;
    return close(fd);
}

static ssize_t real_pread(const struct sio *io, int fd, void *buf, size_t len, off_t off)
{
    (void)io;
    return pread(fd, buf, len, off);
}

static ssize_t real_pwrite(const struct sio *io, int fd, const void *buf, size_t len, off_t off)
{
    (void)io;
    return pwrite(fd, buf, len, off);
}

static int real_fdatasync(const struct sio *io, int fd)
{
    (void)io;
    return fdatasync(fd);
}

static int real_fsync(const struct sio *io, int fd)
{
    (void)io;
    return fsync(fd);
}

static int real_ftruncate(const struct sio *io, int fd, off_t len)
{
    (void)io;
    return ftruncate(fd, len);
}

static int real_fsize(const struct sio *io, int fd, uint64_t *size)
{
    (void)io;
    struct stat st;
    if (fstat(fd, &st) != 0)
        return -1;
    *size = (uint64_t)st.st_size;
    return 0;
}

static int real_renameat(const struct sio *io, int from_dir, const char *from, int to_dir,
                         const char *to)
{
    (void)io;
    return renameat(from_dir, from, to_dir, to);
}

static int real_unlinkat(const struct sio *io, int dir_fd, const char *name)
{
    (void)io;
    return unlinkat(dir_fd, name, 0);
}

static const struct sio_ops real_ops = {
    .openat = real_openat,
    .close = real_close,
    .pread = real_pread,
    .pwrite = real_pwrite,
    .fdatasync = real_fdatasync,
    .fsync = real_fsync,
    .ftruncate = real_ftruncate,
    .fsize = real_fsize,
    .renameat = real_renameat,
    .unlinkat = real_unlinkat,
};

static const struct sio real_sio = {.ops = &real_ops, .ctx = NULL};

const struct sio *sio_default(void) { return &real_sio; }

int sio_pwrite_all(const struct sio *io, int fd, const void *buf, size_t len, off_t off)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = sio_pwrite(io, fd, p, len, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0) {
            errno = EIO;
            return -1;
        }
        p += n;
        len -= (size_t)n;
        off += n;
    }
    return 0;
}

int sio_pread_all(const struct sio *io, int fd, void *buf, size_t len, off_t off)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = sio_pread(io, fd, p, len, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0) {
            errno = EIO;
            return -1;
        }
        p += n;
        len -= (size_t)n;
        off += n;
    }
    return 0;
}
