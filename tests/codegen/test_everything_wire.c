/* test_everything_wire.c: hostile and unusual encodings: truncation, bad sizes and types,
 * nesting bombs, field order, unknown and repeated fields. */
#include <criterion/criterion.h>
#include <string.h>

#include "everything_fixture.h"

static int read_holder(const uint8_t *data, size_t len, Holder *out)
{
    tp_reader r;
    tp_reader_init(&r, data, len, NULL);
    return Holder_read(out, &r);
}

Test(codegen_wire, truncation_at_every_offset_fails_without_leaks)
{
    uint64_t seed = fixture_seed();
    Holder in;
    Holder_init(&in);
    fixture_holder(&in);
    tp_buf b;
    FIXTURE_ENCODE(Holder, &in, &b);
    for (size_t cut = 0; cut < b.len; cut++) {
        Holder part;
        Holder_init(&part);
        int rc = read_holder(b.data, cut, &part);
        cr_assert_eq(rc, TP_ERR_TRUNCATED, "seed %llu cut %zu of %zu: %s",
                     (unsigned long long)seed, cut, b.len, tp_strerror(rc));
        Holder_free(&part); /* must be safe after an error; LSan checks nothing leaked */
    }
    Holder_free(&in);
    tp_buf_free(&b);
}

Test(codegen_wire, random_corruption_never_crashes_or_leaks)
{
    uint64_t seed = fixture_seed();
    Holder in;
    Holder_init(&in);
    fixture_holder(&in);
    tp_buf b;
    FIXTURE_ENCODE(Holder, &in, &b);
    uint8_t *copy = malloc(b.len);
    cr_assert_not_null(copy);
    int failures = 0;
    for (int round = 0; round < 3000; round++) {
        memcpy(copy, b.data, b.len);
        for (int flips = 1 + (int)(fixture_rand() % 4); flips > 0; flips--)
            copy[fixture_rand() % b.len] = (uint8_t)fixture_rand();
        Holder out;
        Holder_init(&out);
        failures += read_holder(copy, b.len, &out) != 0;
        Holder_free(&out);
    }
    cr_assert_gt(failures, 0, "seed %llu", (unsigned long long)seed);
    free(copy);
    Holder_free(&in);
    tp_buf_free(&b);
}

/* A Scalars struct whose field 8 (string) has the given length prefix and `body` bytes. */
static void write_string_field(tp_buf *b, int32_t len, uint32_t body)
{
    tp_write_field_begin(b, TP_T_STRING, 8);
    tp_write_i32(b, len);
    for (uint32_t i = 0; i < body; i++)
        tp_write_byte(b, 'x');
    tp_write_field_stop(b);
}

Test(codegen_wire, negative_and_huge_lengths_are_errors)
{
    static const struct {
        int32_t len;
        uint32_t body;
        int rc;
    } cases[] = {
        {-1, 0, TP_ERR_NEGATIVE_SIZE},
        {INT32_MIN, 0, TP_ERR_NEGATIVE_SIZE},
        {INT32_MAX, 8, TP_ERR_SIZE_LIMIT},
        {1000, 10, TP_ERR_TRUNCATED},
        {3, 3, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tp_buf b;
        tp_buf_init(&b);
        write_string_field(&b, cases[i].len, cases[i].body);
        Scalars s;
        Scalars_init(&s);
        tp_reader r;
        tp_reader_init(&r, b.data, b.len, NULL);
        cr_assert_eq(Scalars_read(&s, &r), cases[i].rc, "case %zu", i);
        Scalars_free(&s);
        tp_buf_free(&b);
    }
}

Test(codegen_wire, huge_container_counts_fail_before_allocating)
{
    /* Nested.grid claims 2^31-1 lists in a 20-byte message. */
    tp_buf b;
    tp_buf_init(&b);
    tp_write_field_begin(&b, TP_T_LIST, 1);
    tp_write_list_begin(&b, TP_T_LIST, (uint32_t)INT32_MAX);
    tp_write_list_begin(&b, TP_T_I32, 0);
    tp_write_field_stop(&b);
    Nested n;
    Nested_init(&n);
    tp_reader r;
    tp_reader_init(&r, b.data, b.len, NULL);
    cr_assert_eq(Nested_read(&n, &r), TP_ERR_SIZE_LIMIT);
    tp_limits roomy = {.string_max = 100, .container_max = INT32_MAX, .depth_max = 64};
    tp_reader_init(&r, b.data, b.len, &roomy);
    cr_assert_eq(Nested_read(&n, &r), TP_ERR_TRUNCATED);
    b.data[4] = 0xFF; /* count becomes negative */
    tp_reader_init(&r, b.data, b.len, &roomy);
    cr_assert_eq(Nested_read(&n, &r), TP_ERR_NEGATIVE_SIZE);
    Nested_free(&n);
    tp_buf_free(&b);
}

Test(codegen_wire, wrong_element_type_is_an_error)
{
    tp_buf b;
    tp_buf_init(&b);
    tp_write_field_begin(&b, TP_T_LIST, 1); /* grid: list<list<i32>> */
    tp_write_list_begin(&b, TP_T_STRING, 1);
    tp_write_binary(&b, "abc", 3);
    tp_write_field_stop(&b);
    Nested n;
    Nested_init(&n);
    tp_reader r;
    tp_reader_init(&r, b.data, b.len, NULL);
    cr_assert_eq(Nested_read(&n, &r), TP_ERR_BAD_TYPE);
    Nested_free(&n);
    tp_buf_free(&b);
}

static void write_tree_bomb(tp_buf *b, int depth)
{
    /* Tree { 2: [ Tree { 2: [ ... ] } ] }: each level is a struct and a list. */
    for (int i = 0; i < depth; i++) {
        tp_write_field_begin(b, TP_T_LIST, 2);
        tp_write_list_begin(b, TP_T_STRUCT, 1);
    }
    tp_write_field_stop(b);
    for (int i = 0; i < depth; i++)
        tp_write_field_stop(b);
}

Test(codegen_wire, nesting_bomb_hits_the_depth_limit)
{
    tp_buf b;
    tp_buf_init(&b);
    write_tree_bomb(&b, 100);
    Tree t;
    Tree_init(&t);
    tp_reader r;
    tp_reader_init(&r, b.data, b.len, NULL);
    cr_assert_eq(Tree_read(&t, &r), TP_ERR_DEPTH_LIMIT);
    Tree_free(&t);
    /* The same bomb as an unknown field of another struct: skip is limited too. */
    tp_buf_reset(&b);
    tp_write_field_begin(&b, TP_T_STRUCT, 99);
    write_tree_bomb(&b, 100);
    tp_write_field_stop(&b);
    Scalars s;
    Scalars_init(&s);
    tp_reader_init(&r, b.data, b.len, NULL);
    cr_assert_eq(Scalars_read(&s, &r), TP_ERR_DEPTH_LIMIT);
    /* 31 levels (62 structs and lists) are fine. */
    tp_buf_reset(&b);
    write_tree_bomb(&b, 31);
    tp_reader_init(&r, b.data, b.len, NULL);
    cr_assert_eq(Tree_read(&t, &r), 0);
    cr_assert_eq(r.depth, 0);
    Tree_free(&t);
    tp_buf_free(&b);
}

Test(codegen_wire, fields_in_any_order_unknown_skipped_wrong_type_skipped)
{
    tp_buf b;
    tp_buf_init(&b);
    tp_write_field_begin(&b, TP_T_I32, 2); /* Point.y first */
    tp_write_i32(&b, 20);
    tp_write_field_begin(&b, TP_T_MAP, 77); /* unknown: a map of lists */
    tp_write_map_begin(&b, TP_T_STRING, TP_T_LIST, 1);
    tp_write_binary(&b, "k", 1);
    tp_write_list_begin(&b, TP_T_DOUBLE, 2);
    tp_write_double(&b, 1);
    tp_write_double(&b, 2);
    tp_write_field_begin(&b, TP_T_STRING, 1); /* known id, wrong type: skipped */
    tp_write_binary(&b, "nope", 4);
    tp_write_field_begin(&b, TP_T_I32, 1);
    tp_write_i32(&b, 10);
    tp_write_field_stop(&b);
    Point p;
    Point_init(&p);
    tp_reader r;
    tp_reader_init(&r, b.data, b.len, NULL);
    cr_assert_eq(Point_read(&p, &r), 0);
    cr_assert_eq(p.x, 10);
    cr_assert_eq(p.y, 20);
    cr_assert_eq(tp_reader_remaining(&r), 0);
    tp_buf_free(&b);
}

Test(codegen_wire, missing_required_is_an_error_and_wrong_type_does_not_count)
{
    tp_buf b;
    tp_buf_init(&b);
    tp_write_field_begin(&b, TP_T_I32, 1);
    tp_write_i32(&b, 10);
    tp_write_field_begin(&b, TP_T_I64, 2); /* y with the wrong type */
    tp_write_i64(&b, 20);
    tp_write_field_stop(&b);
    Point p;
    Point_init(&p);
    tp_reader r;
    tp_reader_init(&r, b.data, b.len, NULL);
    cr_assert_eq(Point_read(&p, &r), TP_ERR_MISSING_REQUIRED);
    /* Holder with a required struct missing, after fields that allocated. */
    tp_buf_reset(&b);
    Scalars s;
    Scalars_init(&s);
    fixture_scalars(&s);
    tp_write_field_begin(&b, TP_T_STRUCT, 1);
    cr_assert_eq(Scalars_write(&s, &b), 0);
    tp_write_field_stop(&b);
    Holder h;
    Holder_init(&h);
    cr_assert_eq(read_holder(b.data, b.len, &h), TP_ERR_MISSING_REQUIRED);
    cr_assert_null(h.scalars.str.data);
    Holder_free(&h);
    Scalars_free(&s);
    tp_buf_free(&b);
}

Test(codegen_wire, repeated_ids_keep_the_last_value)
{
    tp_buf b;
    tp_buf_init(&b);
    tp_write_field_begin(&b, TP_T_STRING, 8);
    tp_write_binary(&b, "first", 5);
    tp_write_field_begin(&b, TP_T_I32, 5);
    tp_write_i32(&b, 1);
    tp_write_field_begin(&b, TP_T_STRING, 8);
    tp_write_binary(&b, "second", 6);
    tp_write_field_begin(&b, TP_T_I32, 5);
    tp_write_i32(&b, 2);
    tp_write_field_stop(&b);
    Scalars s;
    Scalars_init(&s);
    tp_reader r;
    tp_reader_init(&r, b.data, b.len, NULL);
    cr_assert_eq(Scalars_read(&s, &r), 0);
    cr_assert_str_eq((char *)s.str.data, "second");
    cr_assert_eq(s.i, 2);
    Scalars_free(&s);

    /* Repeated struct and container fields replace (and free) the earlier value. */
    Holder in;
    Holder_init(&in);
    fixture_holder(&in);
    tp_buf_reset(&b);
    cr_assert_eq(Holder_write(&in, &b), 0);
    b.len--; /* drop the stop byte and append the nested field again */
    in.nested.grid.items = realloc(in.nested.grid.items, sizeof(tp_list_i32) * (in.nested.grid.count + 1));
    cr_assert_not_null(in.nested.grid.items);
    in.nested.grid.items[in.nested.grid.count++] = (tp_list_i32){0};
    tp_write_field_begin(&b, TP_T_STRUCT, 3);
    cr_assert_eq(Nested_write(&in.nested, &b), 0);
    tp_write_field_stop(&b);
    Holder out;
    Holder_init(&out);
    cr_assert_eq(read_holder(b.data, b.len, &out), 0);
    cr_assert(Holder_equal(&in, &out));
    Holder_free(&in);
    Holder_free(&out);
    tp_buf_free(&b);
}
