/* test_hash.c: the index's exact-key hash table against an array, through growth and shrinking,
 * with resizes that must finish within their bound; and its keyed hash against known values. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv_hash.h"
#include "kv_siphash.h"
#include "test_rng.h"
#include "test_seed.h"

/* Values of CPython 3.11's hash() of these bytes under PYTHONHASHSEED=0, which is SipHash-1-3
 * with a zero key (CPython maps the empty string to 0 itself, so it is left out). */
Test(kv_hash, siphash13_matches_known_values)
{
    const uint64_t zero[2] = {0, 0};
    struct {
        const char *s;
        int64_t want;
    } cases[] = {
        {"a", 4644417185603328019ll},
        {"abcdefgh", 4574395652268504554ll},
        {"k000000000012345", 5420126695763919531ll},
        {"hello world, a longer key here", 4228637378194640555ll},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const uint8_t *p = (const uint8_t *)cases[i].s;
        cr_assert_eq((int64_t)kv_siphash13(zero, p, strlen(cases[i].s)), cases[i].want, "%s",
                     cases[i].s);
    }
    const uint64_t other[2] = {1, 0};
    cr_assert_neq(kv_siphash13(zero, (const uint8_t *)"a", 1),
                  kv_siphash13(other, (const uint8_t *)"a", 1), "the key must matter");
    cr_assert_eq(kv_siphash13(zero, NULL, 0), kv_siphash13(zero, (const uint8_t *)"", 0));
}

#define MODEL_MAX 60000u

static struct kv_node *model[MODEL_MAX]; /* the linked nodes, in no order */
static uint32_t model_len;
static uint64_t seed_now;

static struct kv_node *node_new(uint64_t id)
{
    /* kvbench's key shape: 'k' and zero-padded digits, all sharing a long prefix. */
    struct kv_node *n = calloc(1, sizeof *n + 16);
    cr_assert_not_null(n);
    n->klen = (uint32_t)snprintf((char *)n->key, 17, "k%015llu", (unsigned long long)id);
    return n;
}

static uint64_t hash_of(const struct kv_hash *h, const struct kv_node *n)
{
    return kv_hash_key(h, n->key, n->klen);
}

/* A resize must be over after old slots / KV_HASH_DRAIN_SLOTS more operations. */
struct drain_watch {
    bool on;
    uint64_t ops, ops_max;
    uint32_t resizes;
};

static void watch_op(const struct kv_hash *h, struct drain_watch *w, uint64_t slots_before)
{
    if (!w->on && kv_hash_draining(h)) {
        *w = (struct drain_watch){.on = true, .ops_max = slots_before / KV_HASH_DRAIN_SLOTS,
                                  .resizes = w->resizes + 1};
        kv_hash_check(h);
    } else if (w->on && ++w->ops > w->ops_max) {
        cr_assert_fail("seed %llu: a resize took more than %llu operations",
                 (unsigned long long)seed_now, (unsigned long long)w->ops_max);
    }
    if (w->on && !kv_hash_draining(h)) {
        w->on = false;
        kv_hash_check(h);
    }
}

static void op_put(struct kv_hash *h, uint64_t id, struct drain_watch *w)
{
    struct kv_node *n = node_new(id);
    uint64_t hash = hash_of(h, n);
    if (kv_hash_find(h, hash, n->key, n->klen) != NULL || model_len == MODEL_MAX) {
        free(n);
        return;
    }
    uint64_t slots = h->cur.mask + 1;
    cr_assert(kv_hash_reserve(h));
    kv_hash_put(h, hash, n);
    model[model_len++] = n;
    watch_op(h, w, slots);
}

static void op_del(struct kv_hash *h, struct test_rng *r, struct drain_watch *w)
{
    if (model_len == 0)
        return;
    uint32_t i = (uint32_t)test_rng_below(r, model_len);
    struct kv_node *n = model[i];
    uint64_t slots = h->cur.mask + 1;
    kv_hash_del(h, hash_of(h, n), n);
    cr_assert_null(kv_hash_find(h, hash_of(h, n), n->key, n->klen), "seed %llu",
                   (unsigned long long)seed_now);
    free(n);
    model[i] = model[--model_len];
    watch_op(h, w, slots);
}

static void op_find(const struct kv_hash *h, struct test_rng *r, uint64_t id_max)
{
    if (model_len > 0) {
        struct kv_node *n = model[test_rng_below(r, model_len)];
        cr_assert_eq(kv_hash_find(h, hash_of(h, n), n->key, n->klen), n, "seed %llu",
                     (unsigned long long)seed_now);
    }
    /* A key that may or may not be there: found means linked, with that very key. */
    struct kv_node *probe = node_new(test_rng_below(r, id_max));
    struct kv_node *got = kv_hash_find(h, hash_of(h, probe), probe->key, probe->klen);
    cr_assert(got == NULL || memcmp(got->key, probe->key, 16) == 0);
    free(probe);
}

static void check_all(const struct kv_hash *h)
{
    kv_hash_check(h);
    cr_assert_eq(kv_hash_count(h), model_len, "seed %llu", (unsigned long long)seed_now);
    for (uint32_t i = 0; i < model_len; i++)
        cr_assert_eq(kv_hash_find(h, hash_of(h, model[i]), model[i]->key, model[i]->klen),
                     model[i], "seed %llu", (unsigned long long)seed_now);
}

/* Grows to tens of thousands of keys and back to none, three times: every resize in both
 * directions, removals from both the draining and the current table, probe runs that wrap. */
Test(kv_hash, random_operations_match_an_array, .timeout = 60)
{
    seed_now = test_seed_for("kv_hash");
    struct test_rng r = {seed_now};
    struct kv_hash h;
    cr_assert(kv_hash_init(&h));
    struct drain_watch w = {0};
    model_len = 0;
    uint64_t id_max = 200000;
    for (uint32_t round = 0; round < 3; round++) {
        while (model_len < 50000) {
            uint64_t op = test_rng_below(&r, 10);
            if (op < 6)
                op_put(&h, test_rng_below(&r, id_max), &w);
            else if (op < 7)
                op_del(&h, &r, &w);
            else
                op_find(&h, &r, id_max);
            if (test_rng_below(&r, 5000) == 0)
                check_all(&h);
        }
        check_all(&h);
        while (model_len > 0) {
            uint64_t op = test_rng_below(&r, 10);
            if (op < 2)
                op_put(&h, test_rng_below(&r, id_max), &w);
            else if (op < 7)
                op_del(&h, &r, &w);
            else
                op_find(&h, &r, id_max);
            if (test_rng_below(&r, 5000) == 0)
                check_all(&h);
        }
        check_all(&h);
        cr_assert_leq(h.cur.mask + 1, 4u * KV_HASH_SLOTS_MIN, "an empty table shrank back");
    }
    /* Up to 131072 slots by doublings and back down by quarters, three times. */
    cr_assert_geq(w.resizes, 40u, "seed %llu: %u resizes", (unsigned long long)seed_now, w.resizes);
    kv_hash_free(&h);
}
