/* test_index.c: the ordered index against a sorted array, on seeded random operations. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "kv_index.h"
#include "test_rng.h"
#include "test_seed.h"

#define KEY_BYTES_MAX 48
#define MODEL_KEYS_MAX 40000

struct entry {
    uint8_t key[KEY_BYTES_MAX];
    size_t klen;
    struct kv_node *node; /* must stay the same pointer while the key is linked */
};

static struct entry model[MODEL_KEYS_MAX];
static size_t model_len;
static uint64_t seed_now;

enum key_shape {
    SHAPE_MIXED,  /* lengths around 8, half of them with a shared 8-byte head, zero bytes */
    SHAPE_DIGITS, /* kvbench's: 'k' and 15 zero-padded digits; the first 10 bytes agree */
    SHAPE_LONG,   /* a 40-byte common head, then 0 to 8 bytes of a 3-letter alphabet: keys that
                   * are proper prefixes of each other and differ only past byte 40; one in
                   * eight has a head that differs past byte 16, above or below */
};

static size_t random_key(struct test_rng *r, enum key_shape shape, uint8_t *key)
{
    if (shape == SHAPE_DIGITS) {
        char s[17];
        snprintf(s, sizeof s, "k%015llu", (unsigned long long)test_rng_below(r, 60000));
        memcpy(key, s, 16);
        return 16;
    }
    if (shape == SHAPE_LONG) {
        size_t klen = 40 + (size_t)test_rng_below(r, 9);
        for (size_t i = 0; i < klen; i++)
            key[i] = i < 40 ? (uint8_t)('a' + i % 26) : (uint8_t)test_rng_below(r, 3);
        if (test_rng_below(r, 8) == 0)
            key[16 + test_rng_below(r, 24)] = (uint8_t)"A~"[test_rng_below(r, 2)];
        return klen;
    }
    size_t klen = (size_t)test_rng_below(r, 20 + 1);
    bool shared = test_rng_below(r, 2) == 0;
    for (size_t i = 0; i < klen; i++)
        key[i] = shared && i < 8 ? (uint8_t)"prefix:\0"[i] : (uint8_t)test_rng_below(r, 4);
    return klen;
}

/* The first model index whose key is >= key. */
static size_t model_lower(const uint8_t *key, size_t klen)
{
    size_t lo = 0, hi = model_len;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (kv_key_cmp(model[mid].key, model[mid].klen, key, klen) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static struct kv_node *model_node(size_t i) { return i < model_len ? model[i].node : NULL; }

static void do_insert(struct kv_index *x, const uint8_t *key, size_t klen)
{
    size_t i = model_lower(key, klen);
    bool exists = i < model_len && kv_key_cmp(model[i].key, model[i].klen, key, klen) == 0;
    if (!exists && model_len == MODEL_KEYS_MAX)
        return;
    bool created;
    struct kv_node *n = kv_index_insert(x, key, klen, &created);
    cr_assert_not_null(n, "seed %llu", (unsigned long long)seed_now);
    cr_assert_eq(created, !exists, "seed %llu", (unsigned long long)seed_now);
    cr_assert_eq(n->klen, klen);
    cr_assert(klen == 0 || memcmp(kv_node_key(n), key, klen) == 0);
    if (exists) {
        cr_assert_eq(n, model[i].node, "seed %llu: a node moved", (unsigned long long)seed_now);
        return;
    }
    memmove(&model[i + 1], &model[i], (model_len - i) * sizeof model[0]);
    if (klen > 0)
        memcpy(model[i].key, key, klen);
    model[i].klen = klen;
    model[i].node = n;
    model_len++;
}

static void do_remove(struct kv_index *x, struct test_rng *r)
{
    if (model_len == 0)
        return;
    size_t i = (size_t)test_rng_below(r, model_len);
    kv_index_remove(x, model[i].node);
    memmove(&model[i], &model[i + 1], (model_len - i - 1) * sizeof model[0]);
    model_len--;
}

static void do_lookups(const struct kv_index *x, const uint8_t *key, size_t klen)
{
    size_t i = model_lower(key, klen);
    bool exists = i < model_len && kv_key_cmp(model[i].key, model[i].klen, key, klen) == 0;
    unsigned long long seed = (unsigned long long)seed_now;
    cr_assert_eq(kv_index_find(x, key, klen), exists ? model[i].node : NULL, "seed %llu", seed);
    struct kv_cursor c = kv_index_ge(x, key, klen);
    cr_assert_eq(c.node, model_node(i), "seed %llu", seed);
    if (c.node != NULL) {
        kv_index_next(&c);
        cr_assert_eq(c.node, model_node(i + 1), "seed %llu", seed);
    }
    c = kv_index_lt(x, key, klen);
    cr_assert_eq(c.node, i == 0 ? NULL : model[i - 1].node, "seed %llu", seed);
    if (c.node != NULL) {
        kv_index_prev(&c);
        cr_assert_eq(c.node, i < 2 ? NULL : model[i - 2].node, "seed %llu", seed);
    }
}

/* Whole walks both ways, the counts and the implementation's own invariant checks. */
static void check_all(const struct kv_index *x)
{
    kv_index_check(x);
    cr_assert_eq(kv_index_count(x), model_len, "seed %llu", (unsigned long long)seed_now);
    size_t i = 0;
    for (struct kv_cursor c = kv_index_first(x); c.node != NULL; kv_index_next(&c), i++)
        cr_assert_eq(c.node, model_node(i), "seed %llu", (unsigned long long)seed_now);
    cr_assert_eq(i, model_len);
    for (struct kv_cursor c = kv_index_last(x); c.node != NULL; kv_index_prev(&c))
        cr_assert_eq(c.node, model[--i].node, "seed %llu", (unsigned long long)seed_now);
    cr_assert_eq(i, 0);
}

static void free_all(struct kv_index *x)
{
    kv_index_free(x);
    model_len = 0;
}

Test(kv_index, empty_index_has_no_keys)
{
    struct kv_index *x = kv_index_new();
    cr_assert_not_null(x);
    model_len = 0;
    check_all(x);
    cr_assert_null(kv_index_first(x).node);
    cr_assert_null(kv_index_last(x).node);
    cr_assert_null(kv_index_ge(x, (const uint8_t *)"", 0).node);
    cr_assert_null(kv_index_lt(x, (const uint8_t *)"\xff", 1).node);
    cr_assert_null(kv_index_find(x, (const uint8_t *)"", 0));
    do_insert(x, NULL, 0); /* the empty key, as a decoder may pass it */
    do_lookups(x, NULL, 0);
    check_all(x);
    free_all(x);
}

/* Ordered loads (snapshot restore) and ordered removal, both directions. */
Test(kv_index, ordered_insert_then_remove_from_both_ends)
{
    struct kv_index *x = kv_index_new();
    model_len = 0;
    for (uint32_t i = 0; i < 30000; i++) {
        uint8_t key[4] = {(uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
        do_insert(x, key, sizeof key);
    }
    check_all(x);
    while (model_len > 0) {
        kv_index_remove(x, model[0].node);
        memmove(&model[0], &model[1], (model_len - 1) * sizeof model[0]);
        model_len--;
        if (model_len > 0)
            kv_index_remove(x, model[--model_len].node);
        if (model_len % 4096 == 0)
            check_all(x);
    }
    check_all(x);
    free_all(x);
}

/* Grows to tens of thousands of keys (several levels) and shrinks back, twice, so splits and
 * merges happen at every level, and the hash table beside the tree resizes both ways. */
static void random_operations(enum key_shape shape)
{
    char who[64];
    snprintf(who, sizeof who, "kv_index (%s, shape %d)", kv_index_kind(), (int)shape);
    seed_now = test_seed_for(who);
    struct test_rng r = {seed_now};
    struct kv_index *x = kv_index_new();
    model_len = 0;
    uint8_t key[KEY_BYTES_MAX];
    for (uint32_t step = 0; step < 400000; step++) {
        bool growing = (step / 100000) % 2 == 0;
        uint64_t op = test_rng_below(&r, 10);
        size_t klen = random_key(&r, shape, key);
        if (op < (growing ? 6u : 2u))
            do_insert(x, key, klen);
        else if (op < 8)
            do_remove(x, &r);
        else
            do_lookups(x, key, klen);
        if (step % 5000 == 0)
            check_all(x);
    }
    check_all(x);
    free_all(x);
}

Test(kv_index, random_operations_match_a_sorted_array) { random_operations(SHAPE_MIXED); }
Test(kv_index, random_operations_with_kvbench_keys) { random_operations(SHAPE_DIGITS); }
Test(kv_index, random_operations_with_a_40_byte_common_prefix) { random_operations(SHAPE_LONG); }
