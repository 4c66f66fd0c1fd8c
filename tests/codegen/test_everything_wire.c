/* test_everything_wire.c: hostile and unusual encodings: truncation, bad sizes and types,
 * nesting bombs, field order, unknown and repeated fields; each decoded with malloc and into
 * an arena (fixture_mode). */
#include <criterion/criterion.h>
#include <string.h>

#include "everything_fixture.h"

static int read_holder(const uint8_t *data, size_t len, Holder *out)
{
    tp_reader r;
    fixture_reader(&r, data, len, NULL);
    return Holder_read(out, &r);
}

/* After an error a struct holds nothing, in either mode: every pointer in it is NULL. */
static void assert_holder_empty(const Holder *h)
{
    cr_assert_null(h->scalars.str.data);
    cr_assert_null(h->scalars.bin.data);
    cr_assert_null(h->defaults.name.data);
    cr_assert_null(h->nested.grid.items);
    cr_assert_null(h->nested.paths.keys);
    cr_assert_null(h->nested.deep.values);
    cr_assert_null(h->nested.names.items);
}

Test(codegen_wire, truncation_at_every_offset_fails_without_leaks)
{
    uint64_t seed = fixture_seed();
    Holder in;
    Holder_init(&in);
    fixture_holder(&in);
    tp_buf b;
    FIXTURE_ENCODE(Holder, &in, &b);
    for (int mode = 0; mode < FIXTURE_MODES; mode++) {
        fixture_mode(mode);
        for (size_t cut = 0; cut < b.len; cut++) {
            Holder part;
            FIXTURE_INIT(Holder, &part);
            int rc = read_holder(b.data, cut, &part);
            cr_assert_eq(rc, TP_ERR_TRUNCATED, "seed %llu %s cut %zu of %zu: %s",
                         (unsigned long long)seed, FIXTURE_MODE_NAME, cut, b.len,
                         tp_strerror(rc));
            assert_holder_empty(&part);
            Holder_free(&part); /* safe after an error in both modes: it holds nothing */
            if (fixture_arena_ != NULL)
                tp_arena_reset(fixture_arena_);
        }
    }
    fixture_mode_end(); /* LSan checks that neither mode leaked */
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
    for (int mode = 0; mode < FIXTURE_MODES; mode++) {
        fixture_mode(mode);
        int failures = 0;
        for (int round = 0; round < 3000; round++) {
            memcpy(copy, b.data, b.len);
            for (int flips = 1 + (int)(fixture_rand() % 4); flips > 0; flips--)
                copy[fixture_rand() % b.len] = (uint8_t)fixture_rand();
            Holder out;
            FIXTURE_INIT(Holder, &out);
            failures += read_holder(copy, b.len, &out) != 0;
            FIXTURE_RELEASE(Holder, &out);
        }
        cr_assert_gt(failures, 0, "seed %llu %s", (unsigned long long)seed, FIXTURE_MODE_NAME);
    }
    fixture_mode_end();
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
    for (int mode = 0; mode < FIXTURE_MODES; mode++) {
        fixture_mode(mode);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            tp_buf b;
            tp_buf_init(&b);
            write_string_field(&b, cases[i].len, cases[i].body);
            Scalars s;
            FIXTURE_INIT(Scalars, &s);
            tp_reader r;
            fixture_reader(&r, b.data, b.len, NULL);
            cr_assert_eq(Scalars_read(&s, &r), cases[i].rc, "%s case %zu", FIXTURE_MODE_NAME, i);
            if (cases[i].rc == 0)
                cr_assert_str_eq((char *)s.str.data, "xxx");
            FIXTURE_RELEASE(Scalars, &s);
            tp_buf_free(&b);
        }
    }
    fixture_mode_end();
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
    tp_limits roomy = {.string_max = 100, .container_max = INT32_MAX, .depth_max = 64};
    for (int mode = 0; mode < FIXTURE_MODES; mode++) {
        tp_arena *a = fixture_mode(mode);
        Nested n;
        FIXTURE_INIT(Nested, &n);
        tp_reader r;
        fixture_reader(&r, b.data, b.len, NULL);
        cr_assert_eq(Nested_read(&n, &r), TP_ERR_SIZE_LIMIT, "%s", FIXTURE_MODE_NAME);
        fixture_reader(&r, b.data, b.len, &roomy);
        cr_assert_eq(Nested_read(&n, &r), TP_ERR_TRUNCATED, "%s", FIXTURE_MODE_NAME);
        b.data[4] = 0xFF; /* count becomes negative */
        fixture_reader(&r, b.data, b.len, &roomy);
        cr_assert_eq(Nested_read(&n, &r), TP_ERR_NEGATIVE_SIZE, "%s", FIXTURE_MODE_NAME);
        b.data[4] = 0x7F;
        if (a != NULL) /* nothing was allocated: the counts failed first */
            cr_assert_eq(tp_arena_held(a), 0);
        FIXTURE_RELEASE(Nested, &n);
    }
    fixture_mode_end();
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
    for (int mode = 0; mode < FIXTURE_MODES; mode++) {
        fixture_mode(mode);
        Nested n;
        FIXTURE_INIT(Nested, &n);
        tp_reader r;
        fixture_reader(&r, b.data, b.len, NULL);
        cr_assert_eq(Nested_read(&n, &r), TP_ERR_BAD_TYPE, "%s", FIXTURE_MODE_NAME);
        FIXTURE_RELEASE(Nested, &n);
    }
    fixture_mode_end();
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

static void nesting_bomb_in_current_mode(tp_buf *b)
{
    tp_buf_reset(b);
    write_tree_bomb(b, 100);
    Tree t;
    FIXTURE_INIT(Tree, &t);
    tp_reader r;
    fixture_reader(&r, b->data, b->len, NULL);
    cr_assert_eq(Tree_read(&t, &r), TP_ERR_DEPTH_LIMIT, "%s", FIXTURE_MODE_NAME);
    cr_assert_null(t.children.items);
    FIXTURE_RELEASE(Tree, &t);
    /* The same bomb as an unknown field of another struct: skip is limited too. */
    tp_buf_reset(b);
    tp_write_field_begin(b, TP_T_STRUCT, 99);
    write_tree_bomb(b, 100);
    tp_write_field_stop(b);
    Scalars s;
    FIXTURE_INIT(Scalars, &s);
    fixture_reader(&r, b->data, b->len, NULL);
    cr_assert_eq(Scalars_read(&s, &r), TP_ERR_DEPTH_LIMIT, "%s", FIXTURE_MODE_NAME);
    FIXTURE_RELEASE(Scalars, &s);
    /* 31 levels (62 structs and lists) are fine. */
    tp_buf_reset(b);
    write_tree_bomb(b, 31);
    FIXTURE_INIT(Tree, &t);
    fixture_reader(&r, b->data, b->len, NULL);
    cr_assert_eq(Tree_read(&t, &r), 0, "%s", FIXTURE_MODE_NAME);
    cr_assert_eq(r.depth, 0);
    const Tree *leaf = &t;
    for (int level = 1; level < 31; level++)
        leaf = &leaf->children.items[0];
    cr_assert_eq(leaf->children.count, 1);
    cr_assert_eq(leaf->children.items[0].children.count, 0);
    FIXTURE_RELEASE(Tree, &t);
}

Test(codegen_wire, nesting_bomb_hits_the_depth_limit)
{
    tp_buf b;
    tp_buf_init(&b);
    for (int mode = 0; mode < FIXTURE_MODES; mode++) {
        fixture_mode(mode);
        nesting_bomb_in_current_mode(&b);
    }
    fixture_mode_end();
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
    for (int mode = 0; mode < FIXTURE_MODES; mode++) {
        fixture_mode(mode);
        Point p;
        FIXTURE_INIT(Point, &p);
        tp_reader r;
        fixture_reader(&r, b.data, b.len, NULL);
        cr_assert_eq(Point_read(&p, &r), 0, "%s", FIXTURE_MODE_NAME);
        cr_assert_eq(p.x, 10);
        cr_assert_eq(p.y, 20);
        cr_assert_eq(tp_reader_remaining(&r), 0);
        FIXTURE_RELEASE(Point, &p);
    }
    fixture_mode_end();
    tp_buf_free(&b);
}

static void missing_required_in_current_mode(tp_buf *b)
{
    tp_buf_reset(b);
    tp_write_field_begin(b, TP_T_I32, 1);
    tp_write_i32(b, 10);
    tp_write_field_begin(b, TP_T_I64, 2); /* y with the wrong type */
    tp_write_i64(b, 20);
    tp_write_field_stop(b);
    Point p;
    FIXTURE_INIT(Point, &p);
    tp_reader r;
    fixture_reader(&r, b->data, b->len, NULL);
    cr_assert_eq(Point_read(&p, &r), TP_ERR_MISSING_REQUIRED, "%s", FIXTURE_MODE_NAME);
    /* Holder with a required struct missing, after fields that allocated. */
    tp_buf_reset(b);
    Scalars s;
    Scalars_init(&s);
    fixture_scalars(&s);
    tp_write_field_begin(b, TP_T_STRUCT, 1);
    cr_assert_eq(Scalars_write(&s, b), 0);
    tp_write_field_stop(b);
    Holder h;
    FIXTURE_INIT(Holder, &h);
    cr_assert_eq(read_holder(b->data, b->len, &h), TP_ERR_MISSING_REQUIRED, "%s",
                 FIXTURE_MODE_NAME);
    assert_holder_empty(&h);
    FIXTURE_RELEASE(Holder, &h);
    Scalars_free(&s);
}

Test(codegen_wire, missing_required_is_an_error_and_wrong_type_does_not_count)
{
    tp_buf b;
    tp_buf_init(&b);
    for (int mode = 0; mode < FIXTURE_MODES; mode++) {
        fixture_mode(mode);
        missing_required_in_current_mode(&b);
    }
    fixture_mode_end();
    tp_buf_free(&b);
}

static void repeated_scalars_in_current_mode(tp_buf *b)
{
    tp_buf_reset(b);
    tp_write_field_begin(b, TP_T_STRING, 8);
    tp_write_binary(b, "first", 5);
    tp_write_field_begin(b, TP_T_I32, 5);
    tp_write_i32(b, 1);
    tp_write_field_begin(b, TP_T_STRING, 8);
    tp_write_binary(b, "second", 6);
    tp_write_field_begin(b, TP_T_I32, 5);
    tp_write_i32(b, 2);
    tp_write_field_stop(b);
    Scalars s;
    FIXTURE_INIT(Scalars, &s);
    tp_reader r;
    fixture_reader(&r, b->data, b->len, NULL);
    cr_assert_eq(Scalars_read(&s, &r), 0, "%s", FIXTURE_MODE_NAME);
    cr_assert_str_eq((char *)s.str.data, "second");
    cr_assert_eq(s.i, 2);
    FIXTURE_RELEASE(Scalars, &s);
}

Test(codegen_wire, repeated_ids_keep_the_last_value)
{
    tp_buf b;
    tp_buf_init(&b);
    /* Repeated struct and container fields replace (and free) the earlier value. */
    Holder in;
    Holder_init(&in);
    fixture_holder(&in);
    tp_buf twice;
    tp_buf_init(&twice);
    cr_assert_eq(Holder_write(&in, &twice), 0);
    twice.len--; /* drop the stop byte and append the nested field again */
    in.nested.grid.items = realloc(in.nested.grid.items, sizeof(tp_list_i32) * (in.nested.grid.count + 1));
    cr_assert_not_null(in.nested.grid.items);
    in.nested.grid.items[in.nested.grid.count++] = (tp_list_i32){0};
    tp_write_field_begin(&twice, TP_T_STRUCT, 3);
    cr_assert_eq(Nested_write(&in.nested, &twice), 0);
    tp_write_field_stop(&twice);
    for (int mode = 0; mode < FIXTURE_MODES; mode++) {
        fixture_mode(mode);
        repeated_scalars_in_current_mode(&b);
        Holder out;
        FIXTURE_INIT(Holder, &out);
        cr_assert_eq(read_holder(twice.data, twice.len, &out), 0, "%s", FIXTURE_MODE_NAME);
        cr_assert(Holder_equal(&in, &out), "%s", FIXTURE_MODE_NAME);
        FIXTURE_RELEASE(Holder, &out);
    }
    fixture_mode_end();
    Holder_free(&in);
    tp_buf_free(&b);
    tp_buf_free(&twice);
}
