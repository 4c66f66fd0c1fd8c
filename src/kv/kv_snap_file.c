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

#define KV_PATH_MAX 4096

static void set_err(char *err, size_t err_len, const char *path, const char *what)
{
    if (err != NULL && err_len > 0)
        snprintf(err, err_len, "snapshot %s: %s: %s", path, what, strerror(errno));
}

static int fd_flush(void *ctx, const uint8_t *data, size_t len)
{
    int fd = *(int *)ctx;
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return KV_ERR_IO;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static int fsync_dir_of(const char *path)
{
    char copy[KV_PATH_MAX];
    snprintf(copy, sizeof copy, "%s", path);
    int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return KV_ERR_IO;
    int rc = fsync(dfd);
    close(dfd);
    return rc == 0 ? 0 : KV_ERR_IO;
}

/* Encodes into fd and makes the bytes durable. */
static int write_fd(const kv_store *s, int fd)
{
    struct kv_snap_out *o = malloc(sizeof *o);
    if (o == NULL)
        return KV_ERR_NOMEM;
    o->flush = fd_flush;
    o->ctx = &fd;
    int err = kv_snapshot_encode(s, o);
    free(o);
    if (err == 0 && fsync(fd) != 0)
        err = KV_ERR_IO;
    return err;
}

int kv_snapshot_save_file(const kv_store *s, const char *path, char *err, size_t err_len)
{
    char tmp[KV_PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) {
        errno = ENAMETOOLONG;
        set_err(err, err_len, path, "path too long");
        return KV_ERR_IO;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        set_err(err, err_len, tmp, "cannot create");
        return KV_ERR_IO;
    }
    int rc = write_fd(s, fd);
    if (close(fd) != 0 && rc == 0)
        rc = KV_ERR_IO;
    if (rc != 0) {
        set_err(err, err_len, tmp, "cannot write");
        unlink(tmp);
        return rc;
    }
    if (rename(tmp, path) != 0) {
        set_err(err, err_len, path, "cannot rename into place");
        unlink(tmp);
        return KV_ERR_IO;
    }
    if (fsync_dir_of(path) != 0) {
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
