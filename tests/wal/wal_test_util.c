/* wal_test_util.c: helpers shared by the WAL's Criterion tests. */
#include "wal_test_util.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

char *wt_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[512];
    snprintf(tmpl, sizeof tmpl, "%s/waltest.XXXXXX", base && base[0] ? base : "/tmp");
    char *dir = mkdtemp(tmpl);
    cr_assert_not_null(dir, "mkdtemp %s", tmpl);
    char *copy = strdup(dir);
    cr_assert_not_null(copy);
    return copy;
}

void wt_rmdir(char *dir)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "opendir %s", dir);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        cr_assert_eq(unlink(path), 0, "unlink %s", path);
    }
    closedir(d);
    cr_assert_eq(rmdir(dir), 0, "rmdir %s", dir);
    free(dir);
}

uint64_t wt_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint32_t wt_payload(uint64_t seed, uint64_t index, uint8_t out[wt_payload_len_max])
{
    uint64_t st = seed * 1000003u + index;
    uint32_t len = (uint32_t)(wt_rand(&st) % (wt_payload_len_max + 1));
    for (uint32_t i = 0; i < len; i++)
        out[i] = (uint8_t)wt_rand(&st);
    return len;
}

int wt_try_open(const char *dir, uint64_t segment_size_max, struct wal **out, struct wal_errmsg *err)
{
    struct wal_config cfg;
    wal_config_default(&cfg, dir);
    cfg.segment_size_max = segment_size_max;
    cfg.record_payload_max = 4096;
    cfg.write_buffer_size = 4096;
    return wal_open(&cfg, out, err);
}

struct wal *wt_open(const char *dir, enum wal_fsync_policy fsync, uint64_t segment_size_max)
{
    struct wal_config cfg;
    wal_config_default(&cfg, dir);
    cfg.fsync = fsync;
    cfg.segment_size_max = segment_size_max;
    cfg.record_payload_max = 4096;
    cfg.write_buffer_size = 4096;
    struct wal *w;
    struct wal_errmsg err = {{0}};
    int rc = wal_open(&cfg, &w, &err);
    cr_assert_eq(rc, 0, "wal_open %s: %s", dir, err.text);
    return w;
}

void wt_append_range(struct wal *w, uint64_t from, uint64_t to, uint64_t seed)
{
    uint8_t p[wt_payload_len_max];
    for (uint64_t i = from; i <= to; i++) {
        uint32_t len = wt_payload(seed, i, p);
        int rc = wal_append(w, i, wt_term(i), p, len);
        cr_assert_eq(rc, 0, "append %" PRIu64 ": %s", i, wal_last_error(w));
    }
}

void wt_check_range(struct wal *w, uint64_t from, uint64_t to, uint64_t seed)
{
    struct wal_entry e[16];
    static uint8_t buf[16 * wt_payload_len_max];
    uint8_t want[wt_payload_len_max];
    uint64_t next = from;
    while (next <= to) {
        size_t n;
        int rc = wal_read(w, next, e, 16, buf, sizeof buf, &n);
        cr_assert_eq(rc, 0, "read from %" PRIu64 ": %s", next, wal_last_error(w));
        cr_assert_gt(n, 0, "read from %" PRIu64 " gave nothing", next);
        for (size_t i = 0; i < n && next <= to; i++, next++) {
            uint32_t len = wt_payload(seed, next, want);
            cr_assert_eq(e[i].index, next);
            cr_assert_eq(e[i].term, wt_term(next), "term at %" PRIu64, next);
            cr_assert_eq(e[i].len, len, "length at %" PRIu64, next);
            cr_assert(len == 0 || memcmp(e[i].data, want, len) == 0, "payload at %" PRIu64, next);
        }
    }
}

static int wt_cmp_names(const void *a, const void *b) { return strcmp(a, b); }

size_t wt_segments(const char *dir, char names[][64], size_t max)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len > 4 && strcmp(de->d_name + len - 4, ".wal") == 0 && n < max)
            snprintf(names[n++], 64, "%s", de->d_name);
    }
    closedir(d);
    qsort(names, n, 64, wt_cmp_names);
    return n;
}

uint8_t *wt_read_file(const char *dir, const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "open %s", path);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    cr_assert_geq(size, 0);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = malloc((size_t)size + 1);
    cr_assert_not_null(data);
    cr_assert_eq(fread(data, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    *len = (size_t)size;
    return data;
}

void wt_write_file(const char *dir, const char *name, const uint8_t *data, size_t len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "create %s", path);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
}


size_t wt_seg_records(const uint8_t *data, size_t len, uint64_t offs[], size_t max,
                      uint64_t *stream_end)
{
    /* The stream: the data of valid blocks from the first on, while each is full. */
    size_t cap = len > wal_segment_header_size ? len : 1;
    uint8_t *stream = malloc(cap);
    cr_assert_not_null(stream);
    uint64_t n = 0;
    for (uint64_t off = wal_segment_header_size; off < len; off += wal_block_size) {
        struct wal_block_view v;
        if (wal_block_decode(data + off, len - off, &v) != WAL_BLOCK_VALID)
            break;
        memcpy(stream + n, v.data, v.used);
        n += v.used;
        if (v.used < wal_block_data_size)
            break;
    }
    size_t count = 0;
    uint64_t at = 0;
    while (count < max) {
        struct wal_record_view r;
        if (wal_record_decode(stream + at, n - at, WAL_RECORD_PAYLOAD_LIMIT, &r) != WAL_DECODE_OK)
            break;
        offs[count++] = at;
        at += wal_record_size(r.len);
    }
    free(stream);
    *stream_end = at;
    return count;
}

void wt_flip_bit(const char *dir, const char *name, uint64_t file_off, unsigned bit)
{
    size_t len;
    uint8_t *data = wt_read_file(dir, name, &len);
    cr_assert_lt(file_off, len);
    data[file_off] ^= (uint8_t)(1u << (bit % 8));
    wt_write_file(dir, name, data, len);
    free(data);
}
