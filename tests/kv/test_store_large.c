/* test_store_large.c (suite slow): the store at the size target 5 names, 2M keys of 16 bytes
 * with 100-byte values, overwritten once through a window of 200,000 versions: what it costs
 * per key, and every key read at a version inside the window sees exactly that version. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "kv_store.h"

#define KEYS 2000000ull
#define WINDOW 200000ull
#define VLEN 100

static size_t key_of(uint64_t i, uint8_t key[16])
{
    char buf[17];
    snprintf(buf, sizeof buf, "key%013" PRIu64, i);
    memcpy(key, buf, 16);
    return 16;
}

/* The value written at version v: v in decimal, padded to VLEN. */
static void value_of(uint64_t v, uint8_t val[VLEN])
{
    memset(val, '.', VLEN);
    char buf[24];
    int n = snprintf(buf, sizeof buf, "%020" PRIu64, v);
    memcpy(val, buf, (size_t)n);
}

static void write_pass(kv_store *s, uint64_t base)
{
    uint8_t key[16], val[VLEN];
    for (uint64_t i = 0; i < KEYS; i++) {
        uint64_t v = base + i + 1;
        value_of(v, val);
        cr_assert_eq(kv_store_set(s, key, key_of(i, key), val, VLEN, v), 0);
        kv_store_advance(s, v, 0);
    }
}

Test(kv_store_large, two_million_keys_cost_what_they_hold_and_the_window_reads_exactly,
     .timeout = 600)
{
    struct kv_config cfg;
    kv_config_default(&cfg);
    cfg.window_versions = WINDOW;
    cfg.window_us = 0;
    kv_store *s = kv_store_new(&cfg);
    cr_assert_not_null(s);
    write_pass(s, 0);
    struct kv_stats st;
    kv_store_stats(s, &st);
    double per_key = (double)st.bytes / KEYS;
    fprintf(stderr, "kv_store_large: %llu keys, %.1f bytes a key at rest\n",
            (unsigned long long)KEYS, per_key);
    /* node 32 + version 120 + a full leaf's slot ~17 + hash slots 32 = ~201 (with malloc's
     * chunks: 48 + 128 + ... = ~225) */
    cr_assert_leq(per_key, 210.0, "%.1f bytes a key", per_key);
    cr_assert_eq(st.live_keys, KEYS);

    write_pass(s, KEYS); /* every key again: versions KEYS + 1 .. 2 * KEYS */
    kv_store_stats(s, &st);
    cr_assert_eq(st.live_keys, KEYS);
    cr_assert_leq(st.versions, KEYS + WINDOW + 1, "%llu versions: the window's old ones only",
                  (unsigned long long)st.versions);
    cr_assert_geq(st.versions, KEYS + WINDOW - 1, "%llu versions: the window keeps its own",
                  (unsigned long long)st.versions);

    /* At read version r every key i shows the newest of its writes (i + 1, KEYS + i + 1) at or
     * below r. */
    uint64_t r = 2 * KEYS - WINDOW / 2;
    cr_assert_eq(kv_store_check_read_version(s, r), 0);
    uint8_t key[16], want[VLEN];
    for (uint64_t i = 0; i < KEYS; i += 7) {
        uint64_t v = KEYS + i + 1 <= r ? KEYS + i + 1 : i + 1;
        struct kv_read rd;
        cr_assert_eq(kv_store_get(s, key, key_of(i, key), r, &rd), 0, "key %" PRIu64, i);
        value_of(v, want);
        cr_assert_eq(rd.version, v, "key %" PRIu64 " at %" PRIu64, i, r);
        cr_assert_eq(rd.value_len, VLEN);
        cr_assert(memcmp(rd.value, want, VLEN) == 0, "key %" PRIu64 " at %" PRIu64
                  ": not the value of version %" PRIu64, i, r, v);
    }
    kv_store_free(s);
}
