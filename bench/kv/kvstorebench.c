/* kvstorebench.c: store throughput (set, get, 1,000-key scans both ways, update, delete) and
 * memory per key.
 * Usage: kvstorebench [KEYS [shared|digits]]. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kv_index.h"
#include "kv_store.h"

#define BENCH_KEY_BYTES 16
#define BENCH_VALUE_BYTES 100
#define BENCH_SCAN_KEYS 1000u
#define BENCH_SCANS 1000u

/* CPU time of the process: on a shared machine it moves less than wall time when other
 * processes take the cores (cache contention still shows). */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* The key shape, from the command line. */
enum key_shape {
    KEYS_RANDOM, /* 16 pseudo-random bytes */
    /* "shared": every key starts with the same 8 bytes, as keys with a common namespace do;
     * the worst case for an index that orders by an 8-byte prefix first. */
    KEYS_SHARED,
    /* "digits": kvbench's keys, 'k' and the key's number in 15 zero-padded decimal digits,
     * numbers 0 to KEYS - 1 (a permutation of them): at 1M keys the first 10 bytes agree. */
    KEYS_DIGITS,
};
static enum key_shape key_shape;
static uint64_t key_count;

/* Key i; insertion order is random with respect to key order in every shape. */
static void make_key(uint64_t i, uint8_t key[BENCH_KEY_BYTES])
{
    uint64_t a = mix(i), b = mix(i ^ 0xABCDEF);
    if (key_shape == KEYS_DIGITS) {
        /* A multiplier prime to KEYS (odd, not a multiple of 5: any 10^k * 2^j) permutes them. */
        uint64_t d = i % key_count * 2654435761u % key_count; /* KEYS < 2^32 */
        key[0] = 'k';
        for (int at = BENCH_KEY_BYTES - 1; at > 0; at--, d /= 10)
            key[at] = (uint8_t)('0' + d % 10);
        return;
    }
    memcpy(key, key_shape == KEYS_SHARED ? (const void *)"kvbench:" : (const void *)&a, 8);
    memcpy(key + 8, &b, 8);
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    if (f != NULL)
        fclose(f);
    return kib;
}

static int count_key(void *ctx, const uint8_t *key, size_t klen, const struct kv_read *r)
{
    (void)key;
    (void)klen;
    *(uint64_t *)ctx += r->value_len;
    return 0;
}

static void scan_bench(kv_store *s, uint64_t n, bool reverse)
{
    uint64_t total = 0;
    double t0 = now_s();
    for (uint64_t i = 0; i < BENCH_SCANS; i++) {
        uint8_t from[BENCH_KEY_BYTES];
        make_key(mix(i) % n, from);
        /* Forward: from a random key up; reverse: from a random key down. */
        struct kv_range r = {.begin = from, .begin_len = reverse ? 0 : sizeof from,
                             .end = from, .end_len = sizeof from, .end_unbounded = !reverse,
                             .version = kv_store_applied_version(s), .limit = BENCH_SCAN_KEYS,
                             .reverse = reverse};
        uint32_t count;
        bool more;
        if (kv_store_range(s, &r, count_key, &total, &count, &more) != 0)
            abort();
    }
    double dt = now_s() - t0;
    printf("scan %u keys %s: %.1f us per scan (%" PRIu64 " bytes read)\n", BENCH_SCAN_KEYS,
           reverse ? "reverse" : "forward", dt / BENCH_SCANS * 1e6, total);
}

/* Deletes every key, one version each, and lets reclaim drop them from the index. */
static void delete_bench(kv_store *s, uint64_t n, uint64_t *v)
{
    uint8_t key[BENCH_KEY_BYTES];
    double t0 = now_s();
    for (uint64_t i = 0; i < n; i++) {
        make_key(i, key);
        ++*v;
        if (kv_store_delete(s, key, sizeof key, *v, NULL) != 0)
            abort();
        kv_store_advance(s, *v, (int64_t)*v);
    }
    double dt = now_s() - t0;
    struct kv_stats st;
    kv_store_stats(s, &st);
    printf("delete:        %.0f per second, reclaim on; after: %" PRIu64 " keys indexed, %.1f MB "
           "accounted\n", (double)n / dt, st.indexed_keys, (double)st.bytes / 1e6);
}

int main(int argc, char **argv)
{
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    key_count = n;
    if (argc > 2 && strcmp(argv[2], "shared") == 0)
        key_shape = KEYS_SHARED;
    else if (argc > 2 && strcmp(argv[2], "digits") == 0)
        key_shape = KEYS_DIGITS;
    else if (argc > 2)
        return fprintf(stderr, "usage: kvstorebench [KEYS [shared|digits]]\n"), 2;
    struct kv_config cfg;
    kv_config_default(&cfg);
    cfg.window_us = 10000; /* entry timestamps advance 1 us per version: 10,000 versions kept */
    uint8_t key[BENCH_KEY_BYTES], value[BENCH_VALUE_BYTES];
    memset(value, 'v', sizeof value);
    long rss0 = rss_kib();
    kv_store *s = kv_store_new(&cfg);
    uint64_t v = 0;
    double t0 = now_s();
    for (uint64_t i = 0; i < n; i++) {
        make_key(i, key);
        v++;
        if (kv_store_set(s, key, sizeof key, value, sizeof value, v) != 0)
            abort();
        kv_store_advance(s, v, (int64_t)v);
    }
    double dt = now_s() - t0;
    printf("index %s, keys %" PRIu64 " (16-byte keys%s, 100-byte values, one version each; "
           "rates per CPU second)\n",
           kv_index_kind(), n,
           key_shape == KEYS_SHARED   ? " sharing their first 8 bytes"
           : key_shape == KEYS_DIGITS ? " shaped like kvbench's: 'k' and 15 digits"
                                      : "");
    printf("set (insert):  %.0f per second\n", (double)n / dt);
    struct kv_stats st;
    kv_store_stats(s, &st);
    double raw = (double)n * (BENCH_KEY_BYTES + BENCH_VALUE_BYTES);
    long rss = rss_kib() - rss0;
    printf("memory:        accounted %.1f MB (%.1f B/key, %.2fx raw), RSS growth %.1f MB "
           "(%.1f B/key, %.2fx raw), raw %.1f MB\n",
           (double)st.bytes / 1e6, (double)st.bytes / (double)n, (double)st.bytes / raw,
           (double)rss * 1024 / 1e6, (double)rss * 1024 / (double)n, (double)rss * 1024 / raw,
           raw / 1e6);
    t0 = now_s();
    uint64_t found = 0;
    for (uint64_t i = 0; i < n; i++) {
        make_key(mix(i) % n, key);
        struct kv_read r;
        found += kv_store_get(s, key, sizeof key, v, &r) == 0;
    }
    dt = now_s() - t0;
    printf("get (random):  %.0f per second (%" PRIu64 " found)\n", (double)n / dt, found);
    scan_bench(s, n, false);
    scan_bench(s, n, true);
    t0 = now_s();
    for (uint64_t i = 0; i < n; i++) {
        make_key(mix(i ^ 77) % n, key);
        v++;
        if (kv_store_set(s, key, sizeof key, value, sizeof value, v) != 0)
            abort();
        kv_store_advance(s, v, (int64_t)v);
    }
    dt = now_s() - t0;
    kv_store_stats(s, &st);
    printf("set (update):  %.0f per second, window of 10,000 versions; after: %" PRIu64
           " versions, %" PRIu64 " pending reclaim, %.1f MB accounted\n",
           (double)n / dt, st.versions, st.reclaim_pending, (double)st.bytes / 1e6);
    delete_bench(s, n, &v);
    kv_store_free(s);
    return 0;
}
