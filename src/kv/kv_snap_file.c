/* kv_snap_file.c: snapshot files: atomic save (temp, fsync, rename, fsync dir) and load. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kv_snap_codec.h"
#include "kv_snapshot.h"
#include "sio.h"

#define KV_PATH_MAX 4096

static void set_err(char *err, size_t err_len, const char *path, const char *what)
{
    if (err != NULL && err_len > 0)
        if (snprintf(err, err_len, "snapshot %s: %s: %s", path, what, strerror(errno)) < 0)
            err[0] = '\0'; /* a long path is cut short: the message says what failed */
}

/* A file written through the storage seam, at a growing offset. */
struct sio_file {
    const struct sio *io;
    int fd;
    uint64_t offset;
};

static int fd_flush(void *ctx, const uint8_t *data, size_t len)
{
    struct sio_file *f = ctx;
    if (sio_pwrite_all(f->io, f->fd, data, len, (off_t)f->offset) != 0)
        return KV_ERR_IO;
    f->offset += len;
    return 0;
}

static int fsync_dir_of(const struct sio *io, const char *path)
{
    char copy[KV_PATH_MAX];
    snprintf(copy, sizeof copy, "%s", path);
    int dfd = sio_openat(io, AT_FDCWD, dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (dfd < 0)
        return KV_ERR_IO;
    int rc = sio_fsync(io, dfd);
    int e = errno;
    sio_close(io, dfd);
    errno = e;
    return rc == 0 ? 0 : KV_ERR_IO;
}

/* A snapshot on its way to path: written to path.tmp in steps, then synced and renamed. */
struct kv_snap_job {
    kv_store *pinned;         /* the store whose reclaim the job holds; NULL once released */
    struct kv_snap_enc enc;
    bool encoding;            /* enc holds what it allocated */
    struct sio_file f;
    struct kv_snap_out *o;
    bool written, done;       /* every byte is in the temp file; it is in place */
    char err[KV_SNAPSHOT_JOB_ERR_MAX];
    char path[KV_PATH_MAX], tmp[KV_PATH_MAX + 8];
};

static void job_err(struct kv_snap_job *j, const char *path, const char *what)
{
    set_err(j->err, sizeof j->err, path, what);
}

/* The temp file and the encoder at s's applied version; NULL (with *rc and err) on failure. */
static struct kv_snap_job *job_open(const kv_store *s, const char *path, const struct sio *io,
                                    int *rc, char *err, size_t err_len)
{
    struct kv_snap_job *j = calloc(1, sizeof *j);
    struct kv_snap_out *o = malloc(sizeof *o);
    *rc = j && o ? 0 : KV_ERR_NOMEM;
    if (*rc == 0 && ((size_t)snprintf(j->path, sizeof j->path, "%s", path) >= sizeof j->path)) {
        errno = ENAMETOOLONG;
        set_err(err, err_len, path, "path too long");
        *rc = KV_ERR_IO;
    }
    if (*rc == 0) {
        snprintf(j->tmp, sizeof j->tmp, "%s.tmp", path);
        j->f = (struct sio_file){.io = io ? io : sio_default(), .offset = 0};
        j->f.fd = sio_openat(j->f.io, AT_FDCWD, j->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                             0644);
        if (j->f.fd < 0) {
            set_err(err, err_len, j->tmp, "cannot create");
            *rc = KV_ERR_IO;
        }
    }
    if (*rc == 0 && (*rc = kv_snap_enc_begin(&j->enc, s)) != 0) {
        set_err(err, err_len, j->tmp, "cannot write");
        sio_close(j->f.io, j->f.fd);
        sio_unlinkat(j->f.io, AT_FDCWD, j->tmp);
    }
    if (*rc != 0) {
        free(o);
        free(j);
        return NULL;
    }
    *o = (struct kv_snap_out){.flush = fd_flush, .ctx = &j->f};
    j->o = o;
    j->encoding = true;
    return j;
}

static void job_release(struct kv_snap_job *j)
{
    if (j->pinned)
        kv_store_hold_reclaim(j->pinned, false);
    j->pinned = NULL;
    if (j->encoding)
        kv_snap_enc_free(&j->enc);
    j->encoding = false;
}

int kv_snapshot_job_begin(kv_store *s, const char *path, const struct sio *io,
                          struct kv_snap_job **out, char *err, size_t err_len)
{
    assert(!kv_store_reclaim_held(s));
    int rc;
    struct kv_snap_job *j = job_open(s, path, io, &rc, err, err_len);
    if (j == NULL)
        return rc;
    kv_store_hold_reclaim(s, true);
    j->pinned = s;
    *out = j;
    return 0;
}

int kv_snapshot_job_step(struct kv_snap_job *j, size_t keys, size_t bytes)
{
    assert(!j->written && j->encoding);
    int rc = kv_snap_enc_step(&j->enc, j->o, keys, bytes);
    if (rc == 1)
        return 1;
    if (rc != 0)
        job_err(j, j->tmp, "cannot write");
    job_release(j); /* done with the store */
    j->written = rc == 0;
    return rc;
}

int kv_snapshot_job_finish(struct kv_snap_job *j)
{
    assert(j->written && !j->done);
    const struct sio *io = j->f.io;
    int rc = sio_fsync(io, j->f.fd) == 0 ? 0 : KV_ERR_IO;
    int e = errno;
    if (sio_close(io, j->f.fd) != 0 && rc == 0) {
        rc = KV_ERR_IO;
        e = errno;
    }
    j->f.fd = -1;
    if (rc != 0) {
        errno = e;
        job_err(j, j->tmp, "cannot write");
        return rc;
    }
    if (sio_renameat(io, AT_FDCWD, j->tmp, AT_FDCWD, j->path) != 0) {
        job_err(j, j->path, "cannot rename into place");
        return KV_ERR_IO;
    }
    j->done = true; /* in place: a failed directory sync leaves it there */
    if (fsync_dir_of(io, j->path) != 0) {
        job_err(j, j->path, "cannot fsync directory");
        return KV_ERR_IO;
    }
    return 0;
}

const char *kv_snapshot_job_error(const struct kv_snap_job *j) { return j->err; }

void kv_snapshot_job_free(struct kv_snap_job *j)
{
    if (j == NULL)
        return;
    job_release(j);
    int e = errno;
    if (j->f.fd >= 0)
        sio_close(j->f.io, j->f.fd);
    if (!j->done)
        sio_unlinkat(j->f.io, AT_FDCWD, j->tmp);
    errno = e;
    free(j->o);
    free(j);
}

int kv_snapshot_save_file(const kv_store *s, const char *path, char *err, size_t err_len)
{
    return kv_snapshot_save_file_io(s, path, NULL, err, err_len);
}

int kv_snapshot_save_file_io(const kv_store *s, const char *path, const struct sio *io,
                             char *err, size_t err_len)
{
    int rc;
    struct kv_snap_job *j = job_open(s, path, io, &rc, err, err_len);
    if (j == NULL)
        return rc;
    do
        rc = kv_snapshot_job_step(j, SIZE_MAX, SIZE_MAX);
    while (rc == 1);
    if (rc == 0)
        rc = kv_snapshot_job_finish(j);
    if (rc != 0 && err != NULL && err_len > 0)
        snprintf(err, err_len, "%s", j->err);
    kv_snapshot_job_free(j);
    return rc;
}

static int file_read(void *ctx, uint8_t *data, size_t len)
{
    return fread(data, 1, len, ctx) == len ? 0 : KV_ERR_IO;
}

int kv_snapshot_load_file(const char *path, const struct kv_config *cfg, kv_store **out,
                          char *err, size_t err_len)
{
    FILE *f = fopen(path, "rbe");
    if (f == NULL) {
        set_err(err, err_len, path, "cannot open");
        return KV_ERR_IO;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        set_err(err, err_len, path, "not a regular file");
        fclose(f);
        return KV_ERR_IO;
    }
    setvbuf(f, NULL, _IOFBF, KV_SNAP_IO_BUF_BYTES);
    struct kv_snap_in in = {.read = file_read, .ctx = f, .size = (uint64_t)st.st_size,
                            .name = path, .err = err, .err_len = err_len};
    int rc = kv_snapshot_decode(&in, cfg, out);
    fclose(f);
    return rc;
}

struct mem_source {
    const uint8_t *pos;
};

static int mem_read(void *ctx, uint8_t *data, size_t len)
{
    struct mem_source *m = ctx;
    memcpy(data, m->pos, len);
    m->pos += len;
    return 0;
}

int kv_snapshot_load_mem(const uint8_t *data, size_t len, const char *name,
                         const struct kv_config *cfg, kv_store **out, char *err, size_t err_len)
{
    struct mem_source m = {data};
    struct kv_snap_in in = {.read = mem_read, .ctx = &m, .size = len,
                            .name = name ? name : "<memory>", .err = err, .err_len = err_len};
    return kv_snapshot_decode(&in, cfg, out);
}
