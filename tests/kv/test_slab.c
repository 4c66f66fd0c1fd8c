/* test_slab.c: the store's size-class allocator: rounding, reuse, no overlap under churn, the
 * malloc fallback, and what it charges. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv_mem.h"
#include "kv_slab.h"
#include "test_rng.h"

Test(kv_slab, charges_sizes_rounded_to_8_and_large_ones_as_malloc_does)
{
    cr_assert_eq(kv_slab_charge(1), 8);
    cr_assert_eq(kv_slab_charge(8), 8);
    cr_assert_eq(kv_slab_charge(29), 32, "a node of a 16-byte key: 32, malloc's chunk was 48");
    cr_assert_eq(kv_slab_charge(120), 120, "a version of a 100-byte value: 120, not 128");
    cr_assert_eq(kv_slab_charge(KV_SLAB_OBJ_MAX), KV_SLAB_OBJ_MAX);
    cr_assert_eq(kv_slab_charge(KV_SLAB_OBJ_MAX + 1), kv_mem_charge(KV_SLAB_OBJ_MAX + 1));
}

Test(kv_slab, a_freed_object_is_the_next_one_of_its_class)
{
    struct kv_slab s;
    kv_slab_init(&s);
    uint8_t *a = kv_slab_alloc(&s, 120), *b = kv_slab_alloc(&s, 120);
    cr_assert_not_null(a);
    cr_assert_not_null(b);
    cr_assert_eq(b - a, 120, "packed: no header between objects");
    cr_assert_eq((uintptr_t)a % 8, 0);
    kv_slab_free(&s, a, 120);
    uint8_t *other = kv_slab_alloc(&s, 32);
    cr_assert_neq(other, a, "another class does not take it");
    uint8_t *again = kv_slab_alloc(&s, 117);
    cr_assert_eq(again, a, "117 bytes is the 120 class: the freed one, reused");
    cr_assert_eq(kv_slab_live(&s), 3);
    cr_assert_eq(other - b, 120, "new objects of every class from one block, in turn");
    cr_assert_eq(kv_slab_block_bytes(&s), KV_SLAB_BLOCK_BYTES);
    kv_slab_free(&s, again, 117);
    kv_slab_free(&s, b, 120);
    kv_slab_free(&s, other, 32);
    cr_assert_eq(kv_slab_live(&s), 0);
    kv_slab_destroy(&s);
    cr_assert_eq(kv_slab_block_bytes(&s), 0);
}

Test(kv_slab, large_objects_go_to_malloc_and_count_as_live)
{
    struct kv_slab s;
    kv_slab_init(&s);
    uint8_t *p = kv_slab_alloc(&s, KV_SLAB_OBJ_MAX + 1);
    cr_assert_not_null(p);
    memset(p, 0xab, KV_SLAB_OBJ_MAX + 1);
    cr_assert_eq(kv_slab_live(&s), 1);
    cr_assert_eq(kv_slab_block_bytes(&s), 0, "no block for a large object");
    kv_slab_free(&s, p, KV_SLAB_OBJ_MAX + 1);
    kv_slab_destroy(&s);
}

/* Objects of random sizes in every class (and above), each filled with a pattern of its own;
 * random frees and allocations; every live object must still hold its pattern (no two
 * overlap, a free list never hands out a live one), and the blocks hold no more than each
 * class's most live objects at once: a new object is cut only when its class has none free. */
#define CHURN_SLOTS 20000
#define CHURN_ROUNDS 200000

struct obj {
    uint8_t *p;
    size_t size;
};

static void fill(const struct obj *o, size_t id) { memset(o->p, (int)(id * 131 % 251), o->size); }

static void expect_pattern(const struct obj *o, size_t id, uint64_t seed)
{
    uint8_t want = (uint8_t)(id * 131 % 251);
    for (size_t i = 0; i < o->size; i++)
        cr_assert_eq(o->p[i], want, "slot %zu byte %zu of %zu overwritten (seed %llu)", id, i,
                     o->size, (unsigned long long)seed);
}

Test(kv_slab, churn_keeps_every_object_intact_and_the_blocks_bounded)
{
    uint64_t seed = test_seed();
    struct test_rng rng = {seed};
    struct kv_slab s;
    kv_slab_init(&s);
    struct obj *objs = calloc(CHURN_SLOTS, sizeof *objs);
    cr_assert_not_null(objs);
    size_t live_of[KV_SLAB_CLASSES] = {0}, most_of[KV_SLAB_CLASSES] = {0};
    for (size_t round = 0; round < CHURN_ROUNDS; round++) {
        size_t id = test_rng_below(&rng, CHURN_SLOTS);
        struct obj *o = &objs[id];
        if (o->p != NULL) {
            expect_pattern(o, id, seed);
            kv_slab_free(&s, o->p, o->size);
            if (o->size <= KV_SLAB_OBJ_MAX)
                live_of[(o->size - 1) / KV_SLAB_GRAIN]--;
            o->p = NULL;
            continue;
        }
        o->size = 1 + test_rng_below(&rng, KV_SLAB_OBJ_MAX + 64);
        o->p = kv_slab_alloc(&s, o->size);
        cr_assert_not_null(o->p);
        cr_assert_eq((uintptr_t)o->p % 8, 0);
        fill(o, id);
        if (o->size <= KV_SLAB_OBJ_MAX) {
            size_t c = (o->size - 1) / KV_SLAB_GRAIN;
            if (++live_of[c] > most_of[c])
                most_of[c] = live_of[c];
        }
    }
    size_t live = 0;
    for (size_t id = 0; id < CHURN_SLOTS; id++) {
        if (objs[id].p == NULL)
            continue;
        expect_pattern(&objs[id], id, seed);
        kv_slab_free(&s, objs[id].p, objs[id].size);
        live++;
    }
    cr_assert_gt(live, CHURN_SLOTS / 4, "the churn left objects to check (seed %llu)",
                 (unsigned long long)seed);
    uint64_t cut = 0, data = KV_SLAB_BLOCK_BYTES - 16;
    for (size_t c = 0; c < KV_SLAB_CLASSES; c++)
        cut += most_of[c] * (c + 1) * KV_SLAB_GRAIN;
    /* Each block but the last is full to within one object (< KV_SLAB_OBJ_MAX bytes). */
    uint64_t most = cut / (data - KV_SLAB_OBJ_MAX) + 1;
    uint64_t least = (cut + data - 1) / data;
    uint64_t blocks = kv_slab_block_bytes(&s) / KV_SLAB_BLOCK_BYTES;
    cr_assert(blocks >= least && blocks <= most,
              "%llu blocks for %llu bytes cut: %llu - %llu expected (seed %llu)",
              (unsigned long long)blocks, (unsigned long long)cut, (unsigned long long)least,
              (unsigned long long)most, (unsigned long long)seed);
    cr_assert_eq(kv_slab_live(&s), 0);
    kv_slab_destroy(&s);
    free(objs);
}
