/* server_identity.c: the data dir's incarnation (consensus.h, Member identity), kept in
 * data_dir/identity: made once, when a replicated node first starts on a data dir without
 * one, written atomically (a temp file, fsync, rename, fsync of the dir), read at every
 * start. A damaged one stops the start: it is never made again over existing data. */
#include "server_identity.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define IDENTITY_FILE "identity"
#define IDENTITY_MAGIC "kvstore-identity 1 incarnation "
#define IDENTITY_BYTES (sizeof IDENTITY_MAGIC - 1 + 16 + 1) /* magic, 16 hex digits, \n */

int server_identity_parse(const char *text, size_t len, uint64_t *incarnation)
{
    size_t magic = sizeof IDENTITY_MAGIC - 1;
    if (len != IDENTITY_BYTES || memcmp(text, IDENTITY_MAGIC, magic) != 0 ||
        text[len - 1] != '\n')
        return -1;
    uint64_t v = 0;
    for (size_t i = magic; i < magic + 16; i++) {
        char c = text[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return -1;
        v = v << 4 | (uint64_t)d;
    }
    if (v == 0)
        return -1;
    *incarnation = v;
    return 0;
}

static int read_identity(const char *path, uint64_t *incarnation)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 1 : -1;
    char buf[IDENTITY_BYTES + 1];
    ssize_t got = read(fd, buf, sizeof buf);
    int saved = errno;
    close(fd);
    if (got < 0) {
        log_error("cannot read %s: %s", path, strerror(saved));
        return -1;
    }
    if (server_identity_parse(buf, (size_t)got, incarnation) != 0) {
        log_error("%s is damaged (not one line 'kvstore-identity 1 incarnation <16 hex digits>'): "
                  "the node will not start on it. Restore it from a backup; if this data dir's "
                  "data is lost anyway, wipe the whole dir and add the node as a new member",
                  path);
        return -1;
    }
    return 0;
}

static int write_all_sync(int fd, const char *text, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, text, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        text += w;
        len -= (size_t)w;
    }
    return fsync(fd);
}

static int write_identity(const char *dir, const char *path, uint64_t incarnation)
{
    char tmp[PATH_MAX], text[IDENTITY_BYTES + 1];
    snprintf(text, sizeof text, IDENTITY_MAGIC "%016llx\n", (unsigned long long)incarnation);
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    int rc = write_all_sync(fd, text, IDENTITY_BYTES);
    if (close(fd) != 0)
        rc = -1;
    if (rc != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -1;
    rc = fsync(dfd);
    close(dfd);
    return rc;
}

int server_identity_open(const char *data_dir, uint64_t *incarnation)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/" IDENTITY_FILE, data_dir) >= (int)sizeof path) {
        log_error("data_dir too long: %s", data_dir);
        return -1;
    }
    int rc = read_identity(path, incarnation);
    if (rc <= 0)
        return rc;
    uint64_t v = 0;
    while (v == 0)
        if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v) {
            log_error("cannot draw this data dir's incarnation: %s", strerror(errno));
            return -1;
        }
    if (write_identity(data_dir, path, v) != 0) {
        log_error("cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    log_info("data dir %s: new incarnation %016llx (a data dir is one member's: once the "
             "cluster bound it, a wiped dir must join as a new member)",
             data_dir, (unsigned long long)v);
    *incarnation = v;
    return 0;
}
