/* server_identity.c: the data dir's incarnation (consensus.h, Member identity), kept in
 * data_dir/identity: made once, when a replicated node first starts on a data dir without
 * one, written atomically (a temp file, fsync, rename, fsync of the dir), read at every
 * start. A damaged one stops the start: it is never made again over existing data. Once the
 * cluster committed a cluster id, a second line names it ("cluster <16 hex digits>"), so a
 * start under a config naming another cluster stops before it opens anything else. */
#include "server_identity.h"

#include "log.h"

#include <assert.h>
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
#define CLUSTER_MAGIC "cluster "
#define CLUSTER_BYTES (sizeof CLUSTER_MAGIC - 1 + 16 + 1)
#define IDENTITY_BYTES_MAX (IDENTITY_BYTES + CLUSTER_BYTES)

/* magic, then 16 lower-case hex digits (not all zero) and a newline; 0 or -1. */
static int parse_line(const char *text, const char *magic, uint64_t *out)
{
    size_t m = strlen(magic);
    if (memcmp(text, magic, m) != 0 || text[m + 16] != '\n')
        return -1;
    uint64_t v = 0;
    for (size_t i = m; i < m + 16; i++) {
        char c = text[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return -1;
        v = v << 4 | (uint64_t)d;
    }
    *out = v;
    return v != 0 ? 0 : -1;
}

int server_identity_parse(const char *text, size_t len, uint64_t *incarnation,
                          uint64_t *cluster_id)
{
    uint64_t inc, cluster = 0;
    if ((len != IDENTITY_BYTES && len != IDENTITY_BYTES_MAX) ||
        parse_line(text, IDENTITY_MAGIC, &inc) != 0 ||
        (len == IDENTITY_BYTES_MAX && parse_line(text + IDENTITY_BYTES, CLUSTER_MAGIC, &cluster)))
        return -1;
    *incarnation = inc;
    *cluster_id = cluster;
    return 0;
}

static int read_identity(const char *path, uint64_t *incarnation, uint64_t *cluster_id)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 1 : -1;
    char buf[IDENTITY_BYTES_MAX + 1];
    ssize_t got = read(fd, buf, sizeof buf);
    int saved = errno;
    close(fd);
    if (got < 0) {
        log_error("cannot read %s: %s", path, strerror(saved));
        return -1;
    }
    if (server_identity_parse(buf, (size_t)got, incarnation, cluster_id) != 0) {
        log_error("%s is damaged (not one line 'kvstore-identity 1 incarnation <16 hex digits>', "
                  "then maybe one 'cluster <16 hex digits>'): "
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

static int write_identity(const char *dir, const char *path, uint64_t incarnation,
                          uint64_t cluster_id)
{
    char tmp[PATH_MAX], text[IDENTITY_BYTES_MAX + 1];
    int len = snprintf(text, sizeof text, IDENTITY_MAGIC "%016llx\n", (unsigned long long)incarnation);
    if (cluster_id != 0)
        len += snprintf(text + len, sizeof text - (size_t)len, CLUSTER_MAGIC "%016llx\n",
                        (unsigned long long)cluster_id);
    assert((size_t)len == (cluster_id ? IDENTITY_BYTES_MAX : IDENTITY_BYTES));
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    int rc = write_all_sync(fd, text, (size_t)len);
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

int server_identity_open(const char *data_dir, uint64_t *incarnation, uint64_t *cluster_id)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/" IDENTITY_FILE, data_dir) >= (int)sizeof path) {
        log_error("data_dir too long: %s", data_dir);
        return -1;
    }
    *cluster_id = 0;
    int rc = read_identity(path, incarnation, cluster_id);
    if (rc <= 0)
        return rc;
    uint64_t v = 0;
    while (v == 0)
        if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v) {
            log_error("cannot draw this data dir's incarnation: %s", strerror(errno));
            return -1;
        }
    if (write_identity(data_dir, path, v, 0) != 0) {
        log_error("cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    log_info("data dir %s: new incarnation %016llx (a data dir is one member's: once the "
             "cluster bound it, a wiped dir must join as a new member)",
             data_dir, (unsigned long long)v);
    *incarnation = v;
    return 0;
}

int server_identity_bind(const char *data_dir, uint64_t incarnation, uint64_t cluster_id)
{
    assert(incarnation != 0 && cluster_id != 0);
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/" IDENTITY_FILE, data_dir) >= (int)sizeof path ||
        write_identity(data_dir, path, incarnation, cluster_id) != 0) {
        log_warn("cannot write the cluster id %016llx into %s/" IDENTITY_FILE ": %s (a start "
                 "under a config naming another cluster is then refused only once the log is "
                 "open)", (unsigned long long)cluster_id, data_dir, strerror(errno));
        return -1;
    }
    return 0;
}
