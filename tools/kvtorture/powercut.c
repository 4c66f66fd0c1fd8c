/* powercut.c: an LD_PRELOAD shim kvtorture puts in its nodes for the power-cut nemesis: undo
   logs of every write not yet made durable by fsync or fdatasync (format in powercut.h). It
   changes nothing the node sees, except that a sync takes up to KVT_POWERCUT_SYNC_US longer,
   at random.
   Unset KVT_POWERCUT_DIR: every call passes straight through. */
/* Both names of each call are defined here (open and open64, ...): no redirection. */
#undef _FILE_OFFSET_BITS
#include "powercut.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define FILES_MAX 1024
#define CTL_READ_NS (20 * 1000 * 1000)
#define COPY_CHUNK 65536

/* One file written since the node started: its undo log and what the log holds. */
struct tracked {
    dev_t dev;
    ino_t ino;
    int read_fd;          /* our own view of the file: the bytes a write is about to replace */
    int undo_fd;          /* -1 until the first write */
    uint64_t undo_len;
    uint64_t synced_upto; /* records before this offset are durable */
    uint64_t base_size;
    unsigned syncs;       /* syncs in flight: the log is not cut short while one runs */
};

static struct {
    bool on;
    char dir[PATH_MAX];
    size_t dir_len;
    char undo[PATH_MAX];
    long sync_us;         /* the most a sync is slowed by: the control file's, else the env's */
    long env_sync_us;
    char ctl[PATH_MAX + 32]; /* <undo dir>/sync_us: kvtorture slows one disk and not another */
    int64_t ctl_read_ns;
    pthread_mutex_t mu;
    struct tracked files[FILES_MAX];
    unsigned count;
    int (*open)(const char *, int, ...);
    int (*openat)(int, const char *, int, ...);
    ssize_t (*write)(int, const void *, size_t);
    ssize_t (*pwrite)(int, const void *, size_t, off_t);
    ssize_t (*writev)(int, const struct iovec *, int);
    ssize_t (*pwritev)(int, const struct iovec *, int, off_t);
    int (*ftruncate)(int, off_t);
    int (*fsync)(int);
    int (*fdatasync)(int);
} pc = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void lock(void) { pthread_mutex_lock(&pc.mu); }
static void unlock(void) { pthread_mutex_unlock(&pc.mu); }


__attribute__((constructor)) static void powercut_init(void)
{
    if (pc.fdatasync)
        return;
    pc.open = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open64");
    pc.openat = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat64");
    pc.write = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    pc.pwrite = (ssize_t(*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite64");
    pc.writev = (ssize_t(*)(int, const struct iovec *, int))dlsym(RTLD_NEXT, "writev");
    pc.pwritev = (ssize_t(*)(int, const struct iovec *, int, off_t))dlsym(RTLD_NEXT, "pwritev64");
    pc.ftruncate = (int (*)(int, off_t))dlsym(RTLD_NEXT, "ftruncate64");
    pc.fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    pc.fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    const char *dir = getenv(KVT_POWERCUT_ENV_DIR), *undo = getenv(KVT_POWERCUT_ENV_UNDO);
    const char *us = getenv(KVT_POWERCUT_ENV_SYNC_US);
    if (!dir || !undo || !realpath(dir, pc.dir) || snprintf(pc.undo, sizeof pc.undo, "%s", undo) < 0)
        return;
    pc.dir_len = strlen(pc.dir);
    pc.sync_us = pc.env_sync_us = us ? atol(us) : 0;
    snprintf(pc.ctl, sizeof pc.ctl, "%s/%s", pc.undo, KVT_POWERCUT_CTL_FILE);
    /* A fork (the snapshot child) waits for any write in progress: the child gets the files
       table whole and the lock free. */
    pthread_atfork(lock, unlock, unlock);
    pc.on = true;
}

/* Another library's constructor may write before ours ran. */
static void ensure(void)
{
    if (!pc.fdatasync)
        powercut_init();
}

static struct tracked *find(dev_t dev, ino_t ino)
{
    for (unsigned i = 0; i < pc.count; i++)
        if (pc.files[i].ino == ino && pc.files[i].dev == dev)
            return &pc.files[i];
    return NULL;
}

static void undo_path(char *out, size_t size, ino_t ino)
{
    snprintf(out, size, "%s/%llu.undo", pc.undo, (unsigned long long)ino);
}

static void forget(struct tracked *t)
{
    char path[PATH_MAX + 32];
    undo_path(path, sizeof path, t->ino);
    close(t->read_fd);
    if (t->undo_fd >= 0)
        close(t->undo_fd);
    unlink(path);
    *t = pc.files[--pc.count];
}

/* Drops files that were unlinked (an inode number may come back as another file). */
static void collect(void)
{
    for (unsigned i = 0; i < pc.count;) {
        struct stat st;
        if (fstat(pc.files[i].read_fd, &st) == 0 && st.st_nlink == 0)
            forget(&pc.files[i]);
        else
            i++;
    }
}

static void put_header(struct tracked *t)
{
    struct kvt_undo_header h = {.base_size = t->base_size, .synced_upto = t->synced_upto};
    memcpy(h.magic, KVT_POWERCUT_MAGIC, sizeof h.magic);
    ssize_t w = pc.pwrite(t->undo_fd, &h, sizeof h, 0);
    (void)w;
}

/* After a successful open for writing: a regular file under the data dir is tracked. */
static void maybe_track(int fd, int flags)
{
    if (!pc.on || fd < 0 || (flags & (O_WRONLY | O_RDWR)) == 0)
        return;
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    struct stat st;
    if (n <= 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return;
    path[n] = '\0';
    if ((size_t)n < pc.dir_len || strncmp(path, pc.dir, pc.dir_len) != 0 ||
        (path[pc.dir_len] != '/' && path[pc.dir_len] != '\0'))
        return;
    lock();
    struct tracked *t = find(st.st_dev, st.st_ino);
    if (t && fstat(t->read_fd, &st) == 0 && st.st_nlink == 0)
        forget(t), t = NULL;   /* an old file's inode number, reused */
    if (t && (flags & O_TRUNC) && t->undo_fd >= 0) {
        t->base_size = 0;   /* like ftruncate: durable at once */
        put_header(t);
    }
    if (!t && pc.count == FILES_MAX)
        collect();
    int rfd = t || pc.count == FILES_MAX ? -1 : pc.open(link, O_RDONLY | O_CLOEXEC);
    if (rfd >= 0 && fstat(fd, &st) == 0)
        pc.files[pc.count++] = (struct tracked){.dev = st.st_dev, .ino = st.st_ino,
                                                .read_fd = rfd, .undo_fd = -1};
    unlock();
}

/* A tracked file's entry, with the lock held (the caller unlocks after its write); NULL, the
   lock not held, for any other fd (sockets, the log, files outside the data dir). */
static struct tracked *lock_tracked(int fd, struct stat *st)
{
    if (!pc.on || fstat(fd, st) != 0 || !S_ISREG(st->st_mode))
        return NULL;
    lock();
    struct tracked *t = find(st->st_dev, st->st_ino);
    if (t && fstat(fd, st) == 0)   /* the size under the lock: another thread may extend it */
        return t;
    unlock();
    return NULL;
}

/* Saves what [off, off + len) holds now (the part inside the file) before a write there. */
static void save(struct tracked *t, const struct stat *st, uint64_t off, uint64_t len)
{
    if (t->undo_fd < 0) {
        char path[PATH_MAX + 32];
        undo_path(path, sizeof path, t->ino);
        t->undo_fd = pc.open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (t->undo_fd < 0)
            return;
        t->base_size = (uint64_t)st->st_size;
        t->undo_len = t->synced_upto = sizeof(struct kvt_undo_header);
        put_header(t);
    }
    uint64_t size = (uint64_t)st->st_size;
    if (off >= size || len == 0)
        return;   /* beyond the end: cutting to base_size undoes it */
    if (off + len > size)
        len = size - off;
    struct kvt_undo_record r = {.offset = off, .len = (uint32_t)len};
    ssize_t w = pc.pwrite(t->undo_fd, &r, sizeof r, (off_t)t->undo_len);
    (void)w;
    t->undo_len += sizeof r;
    static char buf[COPY_CHUNK];   /* under the lock */
    for (uint64_t done = 0; done < len;) {
        size_t chunk = len - done < COPY_CHUNK ? (size_t)(len - done) : COPY_CHUNK;
        ssize_t got = pread(t->read_fd, buf, chunk, (off_t)(off + done));
        if (got <= 0)
            memset(buf, 0, chunk), got = (ssize_t)chunk;
        w = pc.pwrite(t->undo_fd, buf, (size_t)got, (off_t)t->undo_len);
        t->undo_len += (uint64_t)got;
        done += (uint64_t)got;
    }
}

/* Where a write(2) on fd lands. */
static uint64_t write_offset(int fd, const struct stat *st)
{
    int fl = fcntl(fd, F_GETFL);
    return fl >= 0 && (fl & O_APPEND) ? (uint64_t)st->st_size : (uint64_t)lseek(fd, 0, SEEK_CUR);
}

static size_t iov_len(const struct iovec *iov, int n)
{
    size_t len = 0;
    for (int i = 0; i < n; i++)
        len += iov[i].iov_len;
    return len;
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off)
{
    ensure();
    struct stat st;
    struct tracked *t = lock_tracked(fd, &st);
    if (!t)
        return pc.pwrite(fd, buf, len, off);
    save(t, &st, (uint64_t)off, len);
    ssize_t n = pc.pwrite(fd, buf, len, off);
    unlock();
    return n;
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
    return pwrite64(fd, buf, len, off);
}

ssize_t write(int fd, const void *buf, size_t len)
{
    ensure();
    struct stat st;
    struct tracked *t = lock_tracked(fd, &st);
    if (!t)
        return pc.write(fd, buf, len);
    save(t, &st, write_offset(fd, &st), len);
    ssize_t n = pc.write(fd, buf, len);
    unlock();
    return n;
}

ssize_t writev(int fd, const struct iovec *iov, int count)
{
    ensure();
    struct stat st;
    struct tracked *t = lock_tracked(fd, &st);
    if (!t)
        return pc.writev(fd, iov, count);
    save(t, &st, write_offset(fd, &st), iov_len(iov, count));
    ssize_t n = pc.writev(fd, iov, count);
    unlock();
    return n;
}

ssize_t pwritev64(int fd, const struct iovec *iov, int count, off_t off)
{
    ensure();
    struct stat st;
    struct tracked *t = lock_tracked(fd, &st);
    if (!t)
        return pc.pwritev(fd, iov, count, off);
    save(t, &st, (uint64_t)off, iov_len(iov, count));
    ssize_t n = pc.pwritev(fd, iov, count, off);
    unlock();
    return n;
}

ssize_t pwritev(int fd, const struct iovec *iov, int count, off_t off)
{
    return pwritev64(fd, iov, count, off);
}

/* A truncation counts as durable at once: a shorter file stays shorter. */
int ftruncate64(int fd, off_t len)
{
    ensure();
    struct stat st;
    struct tracked *t = lock_tracked(fd, &st);
    int rc = pc.ftruncate(fd, len);
    if (t && rc == 0 && t->undo_fd >= 0 && (uint64_t)len < t->base_size) {
        t->base_size = (uint64_t)len;
        put_header(t);
    }
    if (t)
        unlock();
    return rc;
}

int ftruncate(int fd, off_t len) { return ftruncate64(fd, len); }

/* The control file, read at most every CTL_READ_NS: a number of microseconds, or missing. */
static long sync_delay_max(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
    lock();
    if (ns - pc.ctl_read_ns >= CTL_READ_NS) {
        pc.ctl_read_ns = ns;
        char text[32];
        int fd = pc.open(pc.ctl, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, text, sizeof text - 1) : -1;
        if (fd >= 0)
            close(fd);
        text[n > 0 ? n : 0] = '\0';
        pc.sync_us = n > 0 ? atol(text) : pc.env_sync_us;
    }
    long us = pc.sync_us;
    unlock();
    return us;
}

/* Everything the undo log holds when the sync begins is durable once it returns. */
static int sync_with(int fd, int (*real)(int))
{
    struct stat st;
    struct tracked *t = lock_tracked(fd, &st);
    uint64_t upto = 0, size = 0;
    if (t) {
        upto = t->undo_len;
        size = (uint64_t)st.st_size;
        t->syncs++;
        unlock();
    }
    long max = pc.on ? sync_delay_max() : 0;
    if (max > 0) {   /* a slow, noisy disk */
        static __thread unsigned seed;
        seed = seed ? seed : (unsigned)getpid() ^ (unsigned)(uintptr_t)&seed;
        long us = (long)((unsigned long)rand_r(&seed) % (unsigned long)(max + 1));
        struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
        nanosleep(&ts, NULL);
    }
    int rc = real(fd);
    t = upto > 0 ? lock_tracked(fd, &st) : NULL;
    if (t) {
        t->syncs--;
        if (rc == 0 && t->undo_fd >= 0 && upto >= t->synced_upto) {
            t->synced_upto = upto;
            t->base_size = size;
            if (t->syncs == 0 && upto == t->undo_len) {   /* nothing left to undo */
                t->undo_len = t->synced_upto = sizeof(struct kvt_undo_header);
                int r = pc.ftruncate(t->undo_fd, (off_t)t->undo_len);
                (void)r;
            }
            put_header(t);
        }
        unlock();
    }
    return rc;
}

int fsync(int fd)
{
    ensure();
    return sync_with(fd, pc.fsync);
}

int fdatasync(int fd)
{
    ensure();
    return sync_with(fd, pc.fdatasync);
}

static int open_mode(int flags, va_list ap)
{
    return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(ap, int) : 0;
}

int open64(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    int mode = open_mode(flags, ap);
    va_end(ap);
    ensure();
    int fd = pc.open(path, flags, mode);
    int e = errno;
    maybe_track(fd, flags);
    errno = e;
    return fd;
}

int openat64(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    int mode = open_mode(flags, ap);
    va_end(ap);
    ensure();
    int fd = pc.openat(dirfd, path, flags, mode);
    int e = errno;
    maybe_track(fd, flags);
    errno = e;
    return fd;
}

int open(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    int mode = open_mode(flags, ap);
    va_end(ap);
    return open64(path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    int mode = open_mode(flags, ap);
    va_end(ap);
    return openat64(dirfd, path, flags, mode);
}
