/* test_store.c: every store operation, its edges and limits, and the MVCC window. */
#include <criterion/criterion.h>
#include <string.h>

#include "kv_store.h"

#define K(s) (const uint8_t *)(s), (sizeof(s) - 1)

static kv_store *store_with(uint64_t window_versions, int64_t window_us)
{
    struct kv_config cfg;
    kv_config_default(&cfg);
    cfg.window_versions = window_versions;
    cfg.window_us = window_us;
    kv_store *s = kv_store_new(&cfg);
    cr_assert_not_null(s);
    return s;
}

static void set_at(kv_store *s, const char *key, size_t klen, const char *val, uint64_t v)
{
    cr_assert_eq(kv_store_set(s, (const uint8_t *)key, klen, (const uint8_t *)val,
                              strlen(val), v), 0);
    kv_store_advance(s, v, 0);
}

static void expect_value(kv_store *s, const char *key, size_t klen, uint64_t at,
                         const char *want)
{
    struct kv_read r;
    int rc = kv_store_get(s, (const uint8_t *)key, klen, at, &r);
    if (want == NULL) {
        cr_assert_eq(rc, KV_ERR_NOT_FOUND, "key at %llu: rc %d", (unsigned long long)at, rc);
        return;
    }
    cr_assert_eq(rc, 0, "key at %llu: rc %d", (unsigned long long)at, rc);
    cr_assert_eq(r.value_len, strlen(want));
    cr_assert(memcmp(r.value, want, r.value_len) == 0);
}

Test(kv_store, empty_store_reads)
{
    kv_store *s = store_with(0, 0);
    struct kv_read r;
    cr_assert_eq(kv_store_get(s, K("a"), 0, &r), KV_ERR_NOT_FOUND);
    cr_assert_eq(kv_store_get(s, K("a"), 1, &r), KV_ERR_FUTURE_VERSION);
    kv_store_free(s);
}

Test(kv_store, set_get_versions)
{
    kv_store *s = store_with(0, 0);
    set_at(s, "k", 1, "one", 1);
    set_at(s, "k", 1, "two", 2);
    kv_store_advance(s, 3, 0);
    expect_value(s, "k", 1, 0, NULL);
    expect_value(s, "k", 1, 1, "one");
    expect_value(s, "k", 1, 2, "two");
    expect_value(s, "k", 1, 3, "two");
    struct kv_read r;
    cr_assert_eq(kv_store_get(s, K("k"), 2, &r), 0);
    cr_assert_eq(r.version, 2);
    kv_store_free(s);
}

Test(kv_store, binary_keys_order_and_edges)
{
    kv_store *s = store_with(0, 0);
    /* empty key, 0x00, 0x00 0x00, 0xFF, 0xFF 0x00, "a" */
    const char *keys[] = {"", "\x00", "\x00\x00", "a", "\xFF", "\xFF\x00"};
    size_t lens[] = {0, 1, 2, 1, 1, 2};
    for (int i = 5; i >= 0; i--)
        cr_assert_eq(kv_store_set(s, (const uint8_t *)keys[i], lens[i], (const uint8_t *)"v",
                                  1, 1), 0);
    kv_store_advance(s, 1, 0);
    expect_value(s, "", 0, 1, "v");
    expect_value(s, "\x00", 1, 1, "v");
    expect_value(s, "\x00\x00\x00", 3, 1, NULL);
    struct kv_stats st;
    kv_store_stats(s, &st);
    cr_assert_eq(st.live_keys, 6);
    kv_store_free(s);
}

Test(kv_store, set_twice_in_one_version_keeps_last)
{
    kv_store *s = store_with(0, 0);
    cr_assert_eq(kv_store_set(s, K("k"), K("first"), 1), 0);
    cr_assert_eq(kv_store_set(s, K("k"), K("second"), 1), 0);
    kv_store_advance(s, 1, 0);
    expect_value(s, "k", 1, 1, "second");
    struct kv_stats st;
    kv_store_stats(s, &st);
    cr_assert_eq(st.versions, 1);
    kv_store_free(s);
}

Test(kv_store, delete_and_found)
{
    kv_store *s = store_with(0, 0);
    bool found = true;
    cr_assert_eq(kv_store_delete(s, K("k"), 1, &found), 0);
    cr_assert(!found);
    kv_store_advance(s, 1, 0);
    set_at(s, "k", 1, "v", 2);
    cr_assert_eq(kv_store_delete(s, K("k"), 3, &found), 0);
    cr_assert(found);
    kv_store_advance(s, 3, 0);
    cr_assert_eq(kv_store_delete(s, K("k"), 4, &found), 0);
    cr_assert(!found);
    kv_store_advance(s, 4, 0);
    expect_value(s, "k", 1, 2, "v");
    expect_value(s, "k", 1, 3, NULL);
    /* Deleting a deleted key wrote nothing, so it conflicts with nobody. */
    cr_assert(!kv_store_key_written_after(s, K("k"), 3));
    cr_assert(kv_store_key_written_after(s, K("k"), 2));
    kv_store_free(s);
}

Test(kv_store, limits_reject_and_change_nothing)
{
    kv_store *s = store_with(0, 0);
    static uint8_t big[KV_VALUE_MAX_DEFAULT + 1];
    cr_assert_eq(kv_store_set(s, big, KV_KEY_MAX_DEFAULT + 1, K("v"), 1), KV_ERR_KEY_TOO_LARGE);
    cr_assert_eq(kv_store_set(s, K("k"), big, KV_VALUE_MAX_DEFAULT + 1, 1),
                 KV_ERR_VALUE_TOO_LARGE);
    cr_assert_eq(kv_store_set(s, big, KV_KEY_MAX_DEFAULT, big, KV_VALUE_MAX_DEFAULT, 1), 0);
    kv_store_advance(s, 1, 0);
    struct kv_stats st;
    kv_store_stats(s, &st);
    cr_assert_eq(st.live_keys, 1);
    struct kv_read r;
    cr_assert_eq(kv_store_get(s, big, KV_KEY_MAX_DEFAULT + 1, 1, &r), KV_ERR_KEY_TOO_LARGE);
    cr_assert_eq(kv_store_delete(s, big, KV_KEY_MAX_DEFAULT + 1, 2, NULL), KV_ERR_KEY_TOO_LARGE);
    cr_assert_eq(kv_store_clear_range(s, K("b"), K("a"), 2, NULL), KV_ERR_INVALID_ARGUMENT);
    kv_store_free(s);
}

struct collected {
    char keys[64][8];
    uint32_t n;
};

static int collect(void *ctx, const uint8_t *key, size_t klen, const struct kv_read *r)
{
    (void)r;
    struct collected *c = ctx;
    cr_assert_lt(klen, 8);
    memcpy(c->keys[c->n], key, klen);
    c->keys[c->n][klen] = 0;
    c->n++;
    return 0;
}

static void fill_abcde(kv_store *s)
{
    const char *keys = "abcde";
    for (int i = 0; i < 5; i++)
        cr_assert_eq(kv_store_set(s, (const uint8_t *)&keys[i], 1, K("v"), 1), 0);
    kv_store_advance(s, 1, 0);
    cr_assert_eq(kv_store_delete(s, K("c"), 2, NULL), 0);
    kv_store_advance(s, 2, 0);
}

static void scan(kv_store *s, const char *b, const char *e, uint64_t at, uint32_t limit,
                 bool reverse, const char *want, bool want_more)
{
    struct kv_range r = {.begin = (const uint8_t *)b, .begin_len = strlen(b),
                         .end = (const uint8_t *)e, .end_len = e ? strlen(e) : 0,
                         .end_unbounded = e == NULL, .version = at, .limit = limit,
                         .reverse = reverse};
    struct collected c = {.n = 0};
    uint32_t count;
    bool more;
    cr_assert_eq(kv_store_range(s, &r, collect, &c, &count, &more), 0);
    char got[65] = {0};
    for (uint32_t i = 0; i < c.n; i++)
        got[i] = c.keys[i][0];
    cr_assert_str_eq(got, want, "range [%s, %s) at %llu limit %u rev %d", b, e ? e : "inf",
                     (unsigned long long)at, limit, reverse);
    cr_assert_eq(count, c.n);
    cr_assert_eq(more, want_more, "has_more for [%s, %s) limit %u rev %d", b, e ? e : "inf",
                 limit, reverse);
}

Test(kv_store, ranges_forward_reverse_limits)
{
    kv_store *s = store_with(0, 0);
    fill_abcde(s);
    scan(s, "", NULL, 2, 0, false, "abde", false);
    scan(s, "", NULL, 1, 0, false, "abcde", false);
    scan(s, "b", "d", 1, 0, false, "bc", false);
    scan(s, "b", "d", 2, 0, false, "b", false);
    scan(s, "", NULL, 2, 2, false, "ab", true);
    scan(s, "", NULL, 2, 4, false, "abde", false);
    scan(s, "", NULL, 2, 0, true, "edba", false);
    scan(s, "", NULL, 2, 2, true, "ed", true);
    scan(s, "b", "e", 2, 0, true, "db", false);
    scan(s, "b", "e", 2, 1, true, "d", true);
    scan(s, "b", "e", 1, 2, true, "dc", true);
    /* has_more skips deleted keys: after "b" only "c" (deleted) remains before "d". */
    scan(s, "a", "d", 2, 2, false, "ab", false);
    scan(s, "c", "d", 2, 0, true, "", false);
    scan(s, "d", "b", 2, 0, false, "", false);
    scan(s, "b", "b", 2, 0, false, "", false);
    scan(s, "e", NULL, 2, 0, true, "e", false);
    scan(s, "f", NULL, 2, 0, true, "", false);
    kv_store_free(s);
}

Test(kv_store, clear_range_tombstones_and_conflicts)
{
    kv_store *s = store_with(0, 0);
    fill_abcde(s);
    uint64_t cleared = 0;
    cr_assert_eq(kv_store_clear_range(s, K("b"), K("e"), 3, &cleared), 0);
    kv_store_advance(s, 3, 0);
    cr_assert_eq(cleared, 2); /* b and d; c was already gone */
    scan(s, "", NULL, 3, 0, false, "ae", false);
    scan(s, "", NULL, 2, 0, false, "abde", false);
    cr_assert(kv_store_range_written_after(s, K("a"), K("c"), false, 2));
    cr_assert(!kv_store_range_written_after(s, K("c"), K("d"), false, 2));
    cr_assert(kv_store_range_written_after(s, K("c"), K("d"), false, 1));
    cr_assert(!kv_store_range_written_after(s, K("e"), NULL, 0, true, 2));
    cr_assert(kv_store_range_written_after(s, K(""), NULL, 0, true, 2));
    cr_assert(!kv_store_range_written_after(s, K(""), NULL, 0, true, 3));
    kv_store_free(s);
}

Test(kv_store, version_window_edge)
{
    kv_store *s = store_with(2, 0);
    for (uint64_t v = 1; v <= 5; v++) {
        char val[2] = {(char)('0' + v), 0};
        set_at(s, "k", 1, val, v);
    }
    cr_assert_eq(kv_store_floor_version(s), 3);
    expect_value(s, "k", 1, 3, "3");
    expect_value(s, "k", 1, 5, "5");
    struct kv_read r;
    cr_assert_eq(kv_store_get(s, K("k"), 2, &r), KV_ERR_TRANSACTION_TOO_OLD);
    cr_assert_eq(kv_store_get(s, K("k"), 6, &r), KV_ERR_FUTURE_VERSION);
    /* Reclaim ran: only versions 3..5 remain. */
    kv_store_advance(s, 6, 0);
    kv_store_advance(s, 7, 0);
    struct kv_stats st;
    kv_store_stats(s, &st);
    cr_assert_eq(kv_store_floor_version(s), 5);
    cr_assert_leq(st.versions, 3);
    expect_value(s, "k", 1, 5, "5");
    kv_store_free(s);
}

Test(kv_store, time_window_uses_entry_timestamps)
{
    /* A version is readable until window_us after the version that replaced it. */
    kv_store *s = store_with(0, 1000);
    cr_assert_eq(kv_store_set(s, K("k"), K("a"), 1), 0);
    kv_store_advance(s, 1, 10000);      /* version 0 replaced at 10000 */
    cr_assert_eq(kv_store_set(s, K("k"), K("b"), 2), 0);
    kv_store_advance(s, 2, 10500);      /* version 1 replaced at 10500 */
    cr_assert_eq(kv_store_floor_version(s), 0);
    kv_store_advance(s, 3, 11000);      /* version 0 was replaced exactly 1000 us ago */
    cr_assert_eq(kv_store_floor_version(s), 0);
    kv_store_advance(s, 4, 5);          /* a leader clock stepping back does not move time */
    cr_assert_eq(kv_store_floor_version(s), 0);
    kv_store_advance(s, 5, 11001);
    cr_assert_eq(kv_store_floor_version(s), 1);
    struct kv_read r;
    cr_assert_eq(kv_store_get(s, K("k"), 0, &r), KV_ERR_TRANSACTION_TOO_OLD);
    expect_value(s, "k", 1, 1, "a");
    kv_store_advance(s, 6, 11501);
    cr_assert_eq(kv_store_floor_version(s), 2);
    cr_assert_eq(kv_store_get(s, K("k"), 1, &r), KV_ERR_TRANSACTION_TOO_OLD);
    expect_value(s, "k", 1, 2, "b");
    kv_store_free(s);
}

Test(kv_store, read_version_taken_while_idle_survives_the_next_write)
{
    /* FoundationDB's promise: a read version lasts the window from when it was handed out.
     * Taken on an idle store (even a fresh one, version 0), it must not expire at the next
     * write however long ago its own write was. */
    kv_store *s = store_with(0, 1000);
    cr_assert_eq(kv_store_check_read_version(s, 0), 0);
    cr_assert_eq(kv_store_set(s, K("k"), K("a"), 1), 0);
    kv_store_advance(s, 1, 5000000);    /* first write, long after time 0 */
    cr_assert_eq(kv_store_check_read_version(s, 0), 0);
    expect_value(s, "k", 1, 0, NULL);
    cr_assert_eq(kv_store_set(s, K("k"), K("b"), 2), 0);
    kv_store_advance(s, 2, 9000000);    /* idle for 4 s, then a write */
    cr_assert_eq(kv_store_check_read_version(s, 1), 0);
    expect_value(s, "k", 1, 1, "a");
    cr_assert_eq(kv_store_check_read_version(s, 0), KV_ERR_TRANSACTION_TOO_OLD);
    kv_store_free(s);
}

Test(kv_store, tombstones_below_floor_vanish)
{
    kv_store *s = store_with(1, 0);
    set_at(s, "k", 1, "v", 1);
    cr_assert_eq(kv_store_delete(s, K("k"), 2, NULL), 0);
    kv_store_advance(s, 2, 0);
    for (uint64_t v = 3; v <= 6; v++)
        kv_store_advance(s, v, 0);
    struct kv_stats st;
    kv_store_stats(s, &st);
    cr_assert_eq(st.indexed_keys, 0);
    cr_assert_eq(st.versions, 0);
    cr_assert_eq(st.reclaim_pending, 0);
    expect_value(s, "k", 1, 6, NULL);
    kv_store_free(s);
}

Test(kv_store, errors_have_idl_numbers_and_names)
{
    cr_assert_eq(KV_ERR_NOT_FOUND, 1);
    cr_assert_eq(KV_ERR_CONFLICT, 3);
    cr_assert_eq(KV_ERR_INTERNAL, 15);
    cr_assert_str_eq(kv_strerror(KV_ERR_TRANSACTION_TOO_OLD),
                     "read version is below the MVCC window");
    cr_assert_str_eq(kv_strerror(12345), "unknown error");
}

/* The digest is compared across replicas and stored in snapshot headers, so its values must
 * never change: these were computed by the first implementation (one pass per lane). */
Test(kv_store, digest_values_are_pinned)
{
    static const struct {
        size_t klen, vlen;
        uint64_t lane0, lane1;
    } want[] = {
        {0, 100, 0x9c0dbcf2a5276091ull, 0x7ba4ea664e138fd1ull},
        {1, 100, 0xac4a756b8197e2ceull, 0x093b513fa7936e11ull},
        {7, 100, 0x8aae1dc1adf90575ull, 0x2b99bc733d1d31bdull},
        {8, 100, 0xb73f8158ec18dac6ull, 0x53633725810d1453ull},
        {9, 100, 0x13c7ff79e225a71eull, 0xd1e6792a15e03188ull},
        {16, 100, 0x63caa2e94dd724f5ull, 0x924b57fd5f78e1baull},
        {17, 100, 0xa394d625f0115978ull, 0x23d5b42b8dfd7846ull},
        {40, 100, 0x78766043ba6d1efeull, 0x654770be1d85a0a1ull},
    };
    static const size_t klens[] = {0, 1, 7, 8, 9, 16, 17, 40};
    static const size_t vlens[] = {0, 3, 8, 15, 100, 257};
    uint8_t buf[400];
    for (int i = 0; i < 400; i++)
        buf[i] = (uint8_t)(i * 37 + 11);
    struct kv_digest total = {{0, 0}};
    for (size_t a = 0; a < 8; a++) {
        for (size_t b = 0; b < 6; b++) {
            struct kv_digest one = {{0, 0}};
            uint64_t version = 1000003u * a + b;
            kv_digest_add(&one, buf + a, klens[a], buf + 40 + b, vlens[b], version);
            kv_digest_add(&total, buf + a, klens[a], buf + 40 + b, vlens[b], version);
            if (vlens[b] != 100)
                continue;
            cr_assert_eq(want[a].klen, klens[a]);
            cr_assert_eq(one.lane[0], want[a].lane0, "key length %zu", klens[a]);
            cr_assert_eq(one.lane[1], want[a].lane1, "key length %zu", klens[a]);
        }
    }
    kv_digest_sub(&total, buf, 16, buf + 40, 100, 77);
    cr_assert_eq(total.lane[0], 0x6a4113e12bb67cc3ull);
    cr_assert_eq(total.lane[1], 0x72918a332a5d599aull);
    kv_digest_sub(&total, NULL, 0, NULL, 0, 5); /* an empty key and value may come as NULL */
    kv_digest_add(&total, NULL, 0, NULL, 0, 5);
    cr_assert_eq(total.lane[0], 0x6a4113e12bb67cc3ull);
}

Test(kv_store, held_reclaim_frees_nothing_and_catches_up_once_released)
{
    kv_store *s = store_with(1, 0);
    for (uint64_t v = 1; v <= 4; v++) {
        set_at(s, "k", 1, "value", v);
    }
    struct kv_stats st;
    kv_store_stats(s, &st);
    uint64_t settled = st.versions;
    cr_assert_leq(settled, 2, "%llu versions", (unsigned long long)settled);
    kv_store_hold_reclaim(s, true);
    for (uint64_t v = 5; v <= 104; v++) {
        set_at(s, "k", 1, "value", v);
    }
    kv_store_stats(s, &st);
    cr_assert_eq(st.versions, settled + 100, "nothing freed while held");
    cr_assert_eq(kv_store_check_read_version(s, 50), KV_ERR_TRANSACTION_TOO_OLD,
                 "the window moved on all the same");
    expect_value(s, "k", 1, 104, "value");
    kv_store_hold_reclaim(s, false);
    set_at(s, "k", 1, "value", 105);
    kv_store_stats(s, &st);
    cr_assert_leq(st.versions, 2, "the backlog went in one advance: %llu left",
                  (unsigned long long)st.versions);
    kv_store_free(s);
}

/* Versions and key nodes come from the index's slab (kv_slab.c): the store's count is what
 * they take there, their size rounded to 8 bytes (malloc's chunks were 128 and 48). */
Test(kv_store, a_version_costs_its_size_rounded_to_8_bytes)
{
    kv_store *s = store_with(1000, 0);
    char val[101];
    memset(val, 'v', 100);
    val[100] = '\0';
    set_at(s, "k0", 2, val, 1);
    set_at(s, "k0", 2, val, 2); /* k0 is in the reclaim queue now: no push below */
    struct kv_stats before, after;
    kv_store_stats(s, &before);
    cr_assert_eq(kv_store_set(s, K("k0"), (const uint8_t *)val, 100, 3), 0);
    kv_store_stats(s, &after);
    cr_assert_eq(after.versions, before.versions + 1);
    cr_assert_eq(after.bytes - before.bytes, 120, "20-byte header + 100: %llu bytes",
                 (unsigned long long)(after.bytes - before.bytes));
    kv_store_advance(s, 3, 0);
    expect_value(s, "k0", 2, 1, val);
    kv_store_free(s);
}
