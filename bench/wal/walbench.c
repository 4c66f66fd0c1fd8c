/* walbench.c: WAL appends per second under group commit, without fsync, and fdatasync latency.
   Usage: walbench [DIR [MS_PER_CASE [ZERO_AHEAD_BYTES]]]; ZERO_AHEAD_BYTES 0 turns the
   zero-filling ahead off, to compare against the default in one binary. */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wal.h"

enum { record_size = 128, latency_samples_max = 1 << 20 };

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char path[4096];
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            if (snprintf(path, sizeof path, "%s/%s", dir, de->d_name) < (int)sizeof path)
                unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

struct result {
    uint64_t appends;
    uint64_t syncs;
    double seconds;
};

/* Appends batches of `batch` records, one wal_sync per batch, for duration_ms. */
static long long zero_ahead_bytes = -1; /* -1: the default */

static int run_case(const char *dir, enum wal_fsync_policy policy, int batch, uint64_t duration_ms,
                    uint64_t *lat, size_t *nlat, struct result *r)
{
    remove_dir(dir);
    struct wal_config cfg;
    wal_config_default(&cfg, dir);
    cfg.fsync = policy;
    if (zero_ahead_bytes >= 0)
        cfg.zero_ahead_bytes = (uint32_t)zero_ahead_bytes;
    struct wal *w;
    struct wal_errmsg err;
    if (wal_open(&cfg, &w, &err) != 0) {
        fprintf(stderr, "walbench: %s\n", err.text);
        return 1;
    }
    uint8_t payload[record_size];
    memset(payload, 0xab, sizeof payload);
    *r = (struct result){0};
    uint64_t start = now_ns(), end = start + duration_ms * 1000000u, index = 1;
    while (now_ns() < end) {
        for (int k = 0; k < batch; k++, index++) {
            if (wal_append(w, index, 1, payload, sizeof payload) != 0) {
                fprintf(stderr, "walbench: %s\n", wal_last_error(w));
                wal_close(w);
                return 1;
            }
        }
        uint64_t t0 = now_ns();
        if (wal_sync(w) != 0) {
            fprintf(stderr, "walbench: %s\n", wal_last_error(w));
            wal_close(w);
            return 1;
        }
        if (lat && *nlat < latency_samples_max)
            lat[(*nlat)++] = now_ns() - t0;
        r->appends += (uint64_t)batch;
        r->syncs++;
    }
    r->seconds = (double)(now_ns() - start) / 1e9;
    wal_close(w);
    remove_dir(dir);
    return 0;
}

static void print_latency(uint64_t *lat, size_t n)
{
    if (n == 0)
        return;
    qsort(lat, n, sizeof *lat, cmp_u64);
    printf("wal_sync latency (flush + fdatasync of one 128 B record), %zu samples: "
           "p50 %.1f us, p90 %.1f us, p99 %.1f us, max %.1f us\n",
           n, lat[n / 2] / 1e3, lat[n * 9 / 10] / 1e3, lat[n * 99 / 100] / 1e3, lat[n - 1] / 1e3);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "walbench.d";
    uint64_t duration_ms = argc > 2 ? strtoull(argv[2], NULL, 10) : 2000;
    if (argc > 3)
        zero_ahead_bytes = strtoll(argv[3], NULL, 10);
    struct wal_config def;
    wal_config_default(&def, dir);
    printf("walbench: dir %s, %" PRIu64 " ms per case, %d-byte records, zeros %lld bytes ahead\n",
           dir, duration_ms, record_size,
           zero_ahead_bytes >= 0 ? zero_ahead_bytes : (long long)def.zero_ahead_bytes);
    uint64_t *lat = malloc(latency_samples_max * sizeof *lat);
    if (!lat)
        return 1;
    static const int batches[] = {1, 8, 64};
    for (size_t i = 0; i < sizeof batches / sizeof batches[0]; i++) {
        struct result r;
        size_t nlat = 0;
        if (run_case(dir, WAL_FSYNC_ALWAYS, batches[i], duration_ms, batches[i] == 1 ? lat : NULL,
                     &nlat, &r) != 0)
            return 1;
        printf("fsync=always batch %2d: %9.0f appends/s, %7.0f syncs/s\n", batches[i],
               (double)r.appends / r.seconds, (double)r.syncs / r.seconds);
        print_latency(lat, nlat);
    }
    struct result r;
    if (run_case(dir, WAL_FSYNC_NEVER, 64, duration_ms, NULL, NULL, &r) != 0)
        return 1;
    printf("fsync=never  batch 64: %9.0f appends/s (%.1f MB/s of records)\n",
           (double)r.appends / r.seconds, (double)r.appends * (24 + record_size) / r.seconds / 1e6);
    free(lat);
    return 0;
}
