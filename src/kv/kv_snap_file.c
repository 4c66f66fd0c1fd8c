/* kv_snap_file.c: snapshot files: atomic save (temp, fsync, rename, fsync dir) and load. */
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
        snprintf(err, err_len, "snapshot %s: %s: %s", path, what, strerror(errno));
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

/* Encodes into f and makes the bytes durable. */
static int write_fd(const kv_store *s, struct sio_file *f)
{
    struct kv_snap_out *o = malloc(sizeof *o);
    if (o == NULL)
        return KV_ERR_NOMEM;
    o->flush = fd_flush;
    o->ctx = f;
    int err = kv_snapshot_encode(s, o);
    free(o);
    if (err == 0 && sio_fsync(f->io, f->fd) != 0)
        err = KV_ERR_IO;
    return err;
}

int kv_snapshot_save_file(const kv_store *s, const char *path, char *err, size_t err_len)
{
    return kv_snapshot_save_file_io(s, path, NULL, err, err_len);
}

int kv_snapshot_save_file_io(const kv_store *s, const char *path, const struct sio *io,
                             char *err, size_t err_len)
{
    char tmp[KV_PATH_MAX];
    io = io ? io : sio_default();
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) {
        errno = ENAMETOOLONG;
        set_err(err, err_len, path, "path too long");
        return KV_ERR_IO;
    }
    struct sio_file f = {.io = io, .offset = 0};
    f.fd = sio_openat(io, AT_FDCWD, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (f.fd < 0) {
        set_err(err, err_len, tmp, "cannot create");
        return KV_ERR_IO;
    }
    int rc = write_fd(s, &f);
    int e = errno;
    if (sio_close(io, f.fd) != 0 && rc == 0) {
        rc = KV_ERR_IO;
        e = errno;
    }
    if (rc != 0) {
        errno = e;
        set_err(err, err_len, tmp, "cannot write");
        sio_unlinkat(io, AT_FDCWD, tmp);
        return rc;
    }
    if (sio_renameat(io, AT_FDCWD, tmp, AT_FDCWD, path) != 0) {
        set_err(err, err_len, path, "cannot rename into place");
        e = errno;
        sio_unlinkat(io, AT_FDCWD, tmp);
        errno = e;
        return KV_ERR_IO;
    }
    if (fsync_dir_of(io, path) != 0) {
        set_err(err, err_len, path, "cannot fsync directory");
        return KV_ERR_IO;
    }
    return 0;
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
