/* test_arena.c: the per-message bump allocator: alignment, growth, limit, reserve, reset. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "thrift.h"

#define ALLOCS 2000

Test(arena, allocations_are_aligned_disjoint_and_writable)
{
    static uint8_t *got[ALLOCS];
    tp_arena a;
    tp_arena_init(&a, 100, TP_ARENA_LIMIT_DEFAULT);
    cr_assert_eq(tp_arena_held(&a), 0, "init allocates nothing");
    for (size_t i = 0; i < ALLOCS; i++) {
        size_t align = (size_t)1 << (i % 5); /* 1, 2, 4, 8, 16 */
        got[i] = tp_arena_alloc(&a, i % 37 + 1, align);
        cr_assert_not_null(got[i]);
        cr_assert_eq((uintptr_t)got[i] % align, 0, "alloc %zu align %zu", i, align);
        memset(got[i], (int)(i & 0xff), i % 37 + 1);
    }
    /* Disjoint: no later allocation overwrote an earlier one. */
    for (size_t i = 0; i < ALLOCS; i++)
        for (size_t j = 0; j < i % 37 + 1; j++)
            cr_assert_eq(got[i][j], (uint8_t)(i & 0xff), "alloc %zu byte %zu", i, j);
    cr_assert_gt(tp_arena_held(&a), 2000, "grew past the hint");
    tp_arena_free(&a);
    cr_assert_eq(tp_arena_held(&a), 0);
}

Test(arena, arrays_are_eight_byte_aligned_and_overflow_fails)
{
    tp_arena a;
    tp_arena_init(&a, 0, TP_ARENA_LIMIT_DEFAULT);
    cr_assert_not_null(tp_arena_alloc(&a, 3, 1));
    int64_t *v = tp_arena_array(&a, 5, sizeof *v);
    cr_assert_not_null(v);
    cr_assert_eq((uintptr_t)v % TP_ARENA_ARRAY_ALIGN, 0);
    v[4] = INT64_MIN;
    cr_assert_null(tp_arena_array(&a, UINT32_MAX, SIZE_MAX / 2), "size overflow");
    cr_assert_null(tp_arena_array(&a, UINT32_MAX, 16), "past the limit");
    tp_arena_free(&a);
}

Test(arena, limit_bounds_everything_the_arena_holds)
{
    tp_arena a;
    tp_arena_init(&a, 0, 4096);
    size_t got = 0;
    while (tp_arena_alloc(&a, 100, 8) != NULL)
        got += 100;
    cr_assert_leq(tp_arena_held(&a), 4096);
    cr_assert_gt(got, 2048, "most of the limit is usable: %zu", got);
    cr_assert_null(tp_arena_alloc(&a, 4096, 1));
    cr_assert_eq(tp_arena_reserve(&a, 5000), TP_ERR_NOMEM);
    tp_arena_free(&a);
}

Test(arena, reserve_then_allocations_fit_one_chunk)
{
    tp_arena a;
    tp_arena_init(&a, 0, TP_ARENA_LIMIT_DEFAULT);
    cr_assert_eq(tp_arena_reserve(&a, 100000), 0);
    size_t held = tp_arena_held(&a);
    for (int i = 0; i < 1000; i++)
        cr_assert_not_null(tp_arena_alloc(&a, 100, 1));
    cr_assert_eq(tp_arena_held(&a), held, "no chunk after the reserved one");
    cr_assert_eq(tp_arena_reserve(&a, 10), 0);
    tp_arena_free(&a);
}

Test(arena, reset_coalesces_chunks_so_the_next_message_fits_one)
{
    tp_arena a;
    tp_arena_init(&a, 0, TP_ARENA_LIMIT_DEFAULT);
    for (int i = 0; i < 100; i++)
        cr_assert_not_null(tp_arena_alloc(&a, 1000, 8));
    size_t first = tp_arena_held(&a);
    tp_arena_reset(&a);
    size_t held = tp_arena_held(&a);
    cr_assert_geq(held, first, "one chunk as big as all of them");
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < 100; i++)
            cr_assert_not_null(tp_arena_alloc(&a, 1000, 8));
        tp_arena_reset(&a);
        cr_assert_eq(tp_arena_held(&a), held, "round %d grew", round);
    }
    tp_arena_free(&a);
    cr_assert_eq(tp_arena_held(&a), 0);
    tp_arena_reset(&a); /* an empty arena resets and frees */
    tp_arena_free(&a);
}

Test(arena, read_bytes_into_an_arena_keeps_the_nul_and_never_frees)
{
    tp_buf out;
    tp_buf_init(&out);
    tp_write_binary(&out, "hello", 5);
    tp_write_binary(&out, NULL, 0);
    tp_write_binary(&out, "x", 1);
    tp_write_i32(&out, 10); /* a string claiming more than is left */
    tp_arena a;
    tp_arena_init(&a, 0, TP_ARENA_LIMIT_DEFAULT);
    tp_reader r;
    tp_reader_init_arena(&r, out.data, out.len, NULL, &a);
    tp_bytes s = {0};
    cr_assert_eq(tp_read_bytes(&r, &s), 0);
    cr_assert_eq(s.len, 5);
    cr_assert_str_eq((char *)s.data, "hello");
    cr_assert_eq(tp_read_bytes(&r, &s), 0); /* replaces without freeing the arena copy */
    cr_assert_eq(s.len, 0);
    cr_assert_null(s.data);
    cr_assert_eq(tp_read_bytes(&r, &s), 0);
    cr_assert_str_eq((char *)s.data, "x");
    cr_assert_eq(tp_read_bytes(&r, &s), TP_ERR_TRUNCATED);
    tp_bytes big = {0};
    cr_assert_eq(tp_bytes_set_arena(&big, &a, "abc", 3), 0);
    cr_assert_str_eq((char *)big.data, "abc");
    tp_arena_free(&a);
    tp_buf_free(&out);
}

Test(arena, read_bytes_past_the_arena_limit_is_nomem)
{
    uint8_t body[300];
    memset(body, 'y', sizeof body);
    tp_buf out;
    tp_buf_init(&out);
    tp_write_binary(&out, body, sizeof body);
    tp_arena a;
    tp_arena_init(&a, 0, 256);
    tp_reader r;
    tp_reader_init_arena(&r, out.data, out.len, NULL, &a);
    tp_bytes s = {0};
    cr_assert_eq(tp_read_bytes(&r, &s), TP_ERR_NOMEM);
    cr_assert_null(s.data);
    tp_reader_init(&r, out.data, out.len, NULL);
    cr_assert_null(r.arena, "plain readers have no arena");
    tp_arena_free(&a);
    tp_buf_free(&out);
}
