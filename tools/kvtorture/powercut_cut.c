/* powercut_cut.c: a node's power cut, after it was SIGKILLed: every write its files took since
   their last sync is put back from the undo logs its shim wrote (powercut.h). */
#include "powercut.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* nftw() passes no context: the cut in progress (one thread at a time). */
static struct {
    const char *undo_dir;
    struct kvt_powercut_stats *st;
    FILE *err;
    int failed;
} cut;

/* The undo log's live records, read whole (it holds one sync's worth of writes). */
static uint8_t *read_live(int fd, const struct kvt_undo_header *h, size_t *len)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || (uint64_t)st.st_size < h->synced_upto)
        return NULL;
    *len = (size_t)((uint64_t)st.st_size - h->synced_upto);
    uint8_t *buf = malloc(*len ? *len : 1);
    if (buf && pread(fd, buf, *len, (off_t)h->synced_upto) != (ssize_t)*len) {
        free(buf);
        buf = NULL;
    }
    return buf;
}

/* Puts the records back newest first; 0, or -1 when the log is damaged. */
static int put_back(int file_fd, const uint8_t *buf, size_t len)
{
    size_t starts_max = len / sizeof(struct kvt_undo_record) + 1, n = 0;
    size_t *starts = malloc(starts_max * sizeof *starts);
    if (!starts)
        return -1;
    for (size_t at = 0; at < len; n++) {
        struct kvt_undo_record r;
        if (len - at < sizeof r)
            break;   /* a record cut short by the kill: its write never happened */
        memcpy(&r, buf + at, sizeof r);
        if (len - at - sizeof r < r.len)
            break;
        starts[n] = at;
        at += sizeof r + r.len;
    }
    int rc = 0;
    while (rc == 0 && n-- > 0) {
        struct kvt_undo_record r;
        memcpy(&r, buf + starts[n], sizeof r);
        if (pwrite(file_fd, buf + starts[n] + sizeof r, r.len, (off_t)r.offset) != (ssize_t)r.len)
            rc = -1;
        cut.st->bytes += r.len;
    }
    free(starts);
    return rc;
}

/* Puts the file at path back to its state at its last sync; 0 or -1. */
static int undo_into(const char *path, const struct stat *sb, int ufd,
                     const struct kvt_undo_header *h)
{
    size_t len = 0;
    uint8_t *buf = read_live(ufd, h, &len);
    int fd = buf ? open(path, O_WRONLY | O_CLOEXEC) : -1;
    int rc = fd >= 0 ? put_back(fd, buf, len) : -1;
    if (rc == 0 && (uint64_t)sb->st_size > h->base_size) {
        cut.st->bytes += (uint64_t)sb->st_size - h->base_size;
        rc = ftruncate(fd, (off_t)h->base_size);
    }
    cut.st->files += rc == 0 && (len > 0 || (uint64_t)sb->st_size > h->base_size);
    if (fd >= 0)
        close(fd);
    free(buf);
    return rc;
}

static int undo_file(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)ftw;
    if (flag != FTW_F || !S_ISREG(sb->st_mode))
        return 0;
    char undo[4096];
    snprintf(undo, sizeof undo, "%s/%llu.undo", cut.undo_dir, (unsigned long long)sb->st_ino);
    int ufd = open(undo, O_RDONLY | O_CLOEXEC);
    if (ufd < 0)
        return 0;   /* not written since it was last synced */
    struct kvt_undo_header h;
    ssize_t got = pread(ufd, &h, sizeof h, 0);
    int rc = got == 0 ? 0 : -1;   /* empty: created, and killed before its header */
    if (got == (ssize_t)sizeof h && memcmp(h.magic, KVT_POWERCUT_MAGIC, sizeof h.magic) == 0)
        rc = undo_into(path, sb, ufd, &h);
    if (rc != 0) {
        fprintf(cut.err, "power cut: cannot undo %s with %s\n", path, undo);
        cut.failed = -1;
    }
    close(ufd);
    return 0;
}

int kvt_powercut_slow_disk(const char *undo_dir, long sync_us)
{
    char path[4096], tmp[4096 + 8];
    snprintf(path, sizeof path, "%s/%s", undo_dir, KVT_POWERCUT_CTL_FILE);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%ld\n", sync_us) < 0 || fclose(f) != 0 || rename(tmp, path) != 0)
        return -1;
    return 0;
}

void kvt_powercut_clear(const char *undo_dir)
{
    DIR *d = opendir(undo_dir);
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (e->d_name[0] != '.')
            unlinkat(dirfd(d), e->d_name, 0);
    closedir(d);
}

int kvt_powercut_undo(const char *data_dir, const char *undo_dir, struct kvt_powercut_stats *st,
                      FILE *err)
{
    cut.undo_dir = undo_dir;
    cut.st = st;
    cut.err = err;
    cut.failed = 0;
    if (access(data_dir, F_OK) == 0 && nftw(data_dir, undo_file, 16, FTW_PHYS) != 0)
        cut.failed = -1;
    kvt_powercut_clear(undo_dir);
    return cut.failed;
}
