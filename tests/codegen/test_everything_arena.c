/* test_everything_arena.c: decoding into an arena: the same values as with malloc, limits,
 * reset, defaults from the arena, the dispatch table, and misuse caught under ASan. */
#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>

#include "everything_fixture.h"

/* Decodes data into a malloc'ed and an arena Holder; both must equal in and each other. */
static void assert_same_both_ways(const Holder *in, const tp_buf *b, tp_arena *a, uint64_t seed)
{
    Holder heap, arena;
    Holder_init(&heap);
    Holder_init_arena(&arena, a);
    tp_reader r;
    tp_reader_init(&r, b->data, b->len, NULL);
    cr_assert_eq(Holder_read(&heap, &r), 0, "seed %llu", (unsigned long long)seed);
    tp_reader_init_arena(&r, b->data, b->len, NULL, a);
    cr_assert_eq(Holder_read(&arena, &r), 0, "seed %llu", (unsigned long long)seed);
    cr_assert_eq(tp_reader_remaining(&r), 0);
    cr_assert(Holder_equal(&heap, &arena), "seed %llu", (unsigned long long)seed);
    cr_assert(Holder_equal(&arena, &heap), "seed %llu", (unsigned long long)seed);
    cr_assert(Holder_equal(in, &arena), "seed %llu", (unsigned long long)seed);
    /* Arena strings keep the tp_bytes guarantee: len + 1 bytes ending in 0. */
    if (arena.scalars.str.data != NULL)
        cr_assert_eq(arena.scalars.str.data[arena.scalars.str.len], 0);
    tp_buf again;
    FIXTURE_ENCODE(Holder, &arena, &again);
    cr_assert_eq(again.len, b->len);
    cr_assert_eq(memcmp(again.data, b->data, b->len), 0, "seed %llu", (unsigned long long)seed);
    tp_buf_free(&again);
    Holder_free(&heap);
    tp_arena_reset(a); /* releases the arena Holder: never Holder_free */
}

Test(codegen_arena, arena_and_malloc_decodes_are_equal)
{
    uint64_t seed = fixture_seed();
    tp_arena a;
    tp_arena_init(&a, 0, TP_ARENA_LIMIT_DEFAULT);
    for (int round = 0; round < 50; round++) {
        Holder in;
        Holder_init(&in);
        fixture_holder(&in);
        tp_buf b;
        FIXTURE_ENCODE(Holder, &in, &b);
        assert_same_both_ways(&in, &b, &a, seed);
        Holder_free(&in);
        tp_buf_free(&b);
    }
    tp_arena_free(&a);
    cr_assert_eq(tp_arena_held(&a), 0);
}

Test(codegen_arena, every_limit_fails_cleanly_or_decodes_fully)
{
    uint64_t seed = fixture_seed();
    Holder in;
    Holder_init(&in);
    fixture_holder(&in);
    tp_buf b;
    FIXTURE_ENCODE(Holder, &in, &b);
    bool decoded = false;
    for (size_t limit = 0; !decoded; limit += 16) {
        cr_assert_lt(limit, 64 * b.len, "seed %llu: no limit decodes", (unsigned long long)seed);
        tp_arena a;
        tp_arena_init(&a, 0, limit);
        Holder out;
        Holder_init_arena(&out, &a);
        tp_reader r;
        tp_reader_init_arena(&r, b.data, b.len, NULL, &a);
        int rc = Holder_read(&out, &r);
        cr_assert(rc == 0 || rc == TP_ERR_NOMEM, "seed %llu limit %zu: %s",
                  (unsigned long long)seed, limit, tp_strerror(rc));
        cr_assert_leq(tp_arena_held(&a), limit);
        decoded = rc == 0;
        if (decoded)
            cr_assert(Holder_equal(&in, &out), "seed %llu", (unsigned long long)seed);
        else
            cr_assert_null(out.nested.grid.items);
        tp_arena_free(&a); /* LSan: the failed decodes left nothing behind */
    }
    Holder_free(&in);
    tp_buf_free(&b);
}

Test(codegen_arena, reset_keeps_one_chunk_and_free_releases_it)
{
    Tree in;
    Tree_init(&in);
    fixture_tree(&in, 6, 3);
    tp_buf b;
    FIXTURE_ENCODE(Tree, &in, &b);
    tp_arena a;
    tp_arena_init(&a, 64, TP_ARENA_LIMIT_DEFAULT); /* small: the first decode grows it */
    size_t held_after_first = 0;
    for (int round = 0; round < 20; round++) {
        Tree out;
        Tree_init_arena(&out, &a);
        tp_reader r;
        tp_reader_init_arena(&r, b.data, b.len, NULL, &a);
        cr_assert_eq(Tree_read(&out, &r), 0);
        cr_assert(Tree_equal(&in, &out));
        tp_arena_reset(&a);
        if (round == 0)
            held_after_first = tp_arena_held(&a);
        /* One chunk big enough for a whole decode: later decodes never allocate again. */
        cr_assert_eq(tp_arena_held(&a), held_after_first, "round %d", round);
    }
    tp_arena_free(&a);
    cr_assert_eq(tp_arena_held(&a), 0);
    Tree_free(&in);
    tp_buf_free(&b);
}

Test(codegen_arena, init_arena_takes_defaults_from_the_arena)
{
    tp_arena a;
    tp_arena_init(&a, 0, TP_ARENA_LIMIT_DEFAULT);
    Defaults d;
    Defaults_init_arena(&d, &a);
    cr_assert_eq(d.count, 7);
    cr_assert_str_eq((char *)d.name.data, "anon");
    cr_assert_eq(d.primes.count, 3);
    cr_assert_eq(d.primes.items[2], 5);
    cr_assert_eq(d.weights.count, 2);
    cr_assert_str_eq((char *)d.weights.keys[1].data, "b");
    cr_assert_eq(d.weights.values[1], 2);
    cr_assert_gt(tp_arena_held(&a), 0);
    Defaults heap;
    Defaults_init(&heap);
    cr_assert(Defaults_equal(&d, &heap));
    Defaults_free(&heap);
    /* Without an arena: the values Defaults_free leaves, nothing allocated. */
    Defaults_init_arena(&d, NULL);
    cr_assert_eq(d.count, 7);
    cr_assert_null(d.name.data);
    cr_assert_eq(d.primes.count, 0);
    tp_arena_free(&a);
}

Test(codegen_arena, dispatch_table_reads_args_into_an_arena)
{
    Holder h;
    Holder_init(&h);
    fixture_holder(&h);
    tp_buf b;
    tp_buf_init(&b);
    cr_assert_eq(Everything_echo_send(&b, 9, &h, 1234), 0);
    tp_arena a;
    tp_arena_init(&a, b.len, TP_ARENA_LIMIT_DEFAULT);
    tp_reader r;
    tp_reader_init_arena(&r, b.data, b.len, NULL, &a);
    tp_message m;
    cr_assert_eq(tp_read_message_begin(&r, &m), 0);
    const tp_method *method = Everything_method_find(m.name, m.name_len);
    cr_assert_not_null(method);
    /* The server's way: the args struct itself comes from the arena too. */
    Everything_echo_args *args = tp_arena_alloc(&a, method->args_size, TP_ARENA_ALIGN);
    cr_assert_not_null(args);
    method->args_init_arena(args, &a);
    cr_assert_eq(method->args_read(args, &r), 0);
    cr_assert(Holder_equal(&args->h, &h));
    cr_assert_eq(args->stamp, 1234);
    tp_arena_free(&a);
    Holder_free(&h);
    tp_buf_free(&b);
}

Test(codegen_arena, app_exception_reads_into_an_arena)
{
    tp_buf b;
    tp_buf_init(&b);
    cr_assert_eq(tp_write_app_exception(&b, "add", 3, 5, TP_APPEX_INTERNAL_ERROR, "boom"), 0);
    tp_arena a;
    tp_arena_init(&a, 0, TP_ARENA_LIMIT_DEFAULT);
    Everything_add_result res;
    Everything_add_result_init_arena(&res, &a);
    tp_app_exception ex;
    tp_app_exception_init(&ex);
    tp_reader r;
    tp_reader_init_arena(&r, b.data, b.len, NULL, &a);
    cr_assert_eq(Everything_add_recv(&r, 5, &res, &ex), TP_ERR_APP_EXCEPTION);
    cr_assert_eq(ex.type, TP_APPEX_INTERNAL_ERROR);
    cr_assert_str_eq((char *)ex.message.data, "boom");
    /* Truncated: the error leaves the exception empty (never freed: arena memory). */
    tp_app_exception_init(&ex);
    tp_reader_init_arena(&r, b.data, b.len - 1, NULL, &a);
    cr_assert_eq(Everything_add_recv(&r, 5, &res, &ex), TP_ERR_TRUNCATED);
    cr_assert_null(ex.message.data);
    tp_arena_free(&a);
    tp_buf_free(&b);
}

#if defined(TP_ARENA_ASAN)
/* The misuse the contract forbids, caught: the tests run with abort_on_error. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "abort_on_error=1"; }

static void decode_holder_into(tp_arena *a, Holder *out, tp_buf *b)
{
    Holder in;
    Holder_init(&in);
    fixture_holder(&in);
    FIXTURE_ENCODE(Holder, &in, b);
    Holder_free(&in);
    Holder_init_arena(out, a);
    tp_reader r;
    tp_reader_init_arena(&r, b->data, b->len, NULL, a);
    cr_assert_eq(Holder_read(out, &r), 0);
}

Test(codegen_arena, free_of_arena_data_is_reported, .signal = SIGABRT)
{
    fixture_seed();
    tp_arena a;
    tp_arena_init(&a, 0, TP_ARENA_LIMIT_DEFAULT);
    Holder out;
    tp_buf b;
    decode_holder_into(&a, &out, &b);
    Holder_free(&out); /* a no-no: ASan reports a free of memory malloc never returned */
}

Test(codegen_arena, use_after_reset_is_reported, .signal = SIGABRT)
{
    fixture_seed();
    tp_arena a;
    tp_arena_init(&a, 0, TP_ARENA_LIMIT_DEFAULT);
    Holder out;
    tp_buf b;
    decode_holder_into(&a, &out, &b);
    tp_arena_reset(&a);
    volatile double x = out.nested.reals.items[0]; /* poisoned by the reset */
    (void)x;
}
#endif
