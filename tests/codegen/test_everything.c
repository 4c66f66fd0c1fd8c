/* test_everything.c: everything.thrift round-trips: every type, nesting, defaults, consts;
 * each decoded with malloc and into an arena (fixture_mode). */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "everything_fixture.h"

Test(codegen_everything, holder_round_trips_every_type_and_nesting)
{
    uint64_t seed = fixture_seed();
    for (int round = 0; round < 2 * 50; round++) {
        fixture_mode(round % FIXTURE_MODES);
        Holder in, out;
        Holder_init(&in);
        FIXTURE_INIT(Holder, &out);
        fixture_holder(&in);
        tp_buf b, again;
        FIXTURE_ENCODE(Holder, &in, &b);
        tp_reader r;
        fixture_reader(&r, b.data, b.len, NULL);
        cr_assert_eq(Holder_read(&out, &r), 0, "seed %llu round %d %s", (unsigned long long)seed,
                     round, FIXTURE_MODE_NAME);
        cr_assert_eq(tp_reader_remaining(&r), 0, "seed %llu", (unsigned long long)seed);
        cr_assert(Holder_equal(&in, &out), "seed %llu round %d %s", (unsigned long long)seed,
                  round, FIXTURE_MODE_NAME);
        FIXTURE_ENCODE(Holder, &out, &again);
        cr_assert_eq(again.len, b.len, "seed %llu", (unsigned long long)seed);
        cr_assert_eq(memcmp(again.data, b.data, b.len), 0, "seed %llu", (unsigned long long)seed);
        out.scalars.l ^= 1;
        cr_assert_not(Holder_equal(&in, &out), "seed %llu", (unsigned long long)seed);
        Holder_free(&in);
        FIXTURE_RELEASE(Holder, &out);
        tp_buf_free(&b);
        tp_buf_free(&again);
    }
    fixture_mode_end();
}

Test(codegen_everything, doubles_and_extreme_scalars_survive)
{
    Scalars in, out;
    Scalars_init(&in);
    in.d = NAN;
    in.l = INT64_MIN;
    in.i = INT32_MIN;
    in.s = INT16_MIN;
    in.y = INT8_MIN;
    tp_buf b;
    FIXTURE_ENCODE(Scalars, &in, &b);
    for (int mode = 0; mode < FIXTURE_MODES; mode++) {
        fixture_mode(mode);
        FIXTURE_INIT(Scalars, &out);
        tp_reader r;
        fixture_reader(&r, b.data, b.len, NULL);
        cr_assert_eq(Scalars_read(&out, &r), 0, "%s", FIXTURE_MODE_NAME);
        cr_assert(isnan(out.d));
        cr_assert_eq(out.l, INT64_MIN);
        cr_assert_eq(out.i, INT32_MIN);
        cr_assert(Scalars_equal(&in, &out));
        FIXTURE_RELEASE(Scalars, &out);
    }
    fixture_mode_end();
    tp_buf_free(&b);
}

Test(codegen_everything, defaults_and_constants)
{
    Defaults d;
    Defaults_init(&d);
    cr_assert_eq(d.count, 7);
    cr_assert_not(d.has_count);
    cr_assert_str_eq((char *)d.name.data, "anon");
    cr_assert_eq(d.mode, Mode_AUTO);
    cr_assert_eq(d.ratio, 1.25);
    cr_assert_eq(d.primes.count, 3);
    cr_assert_eq(d.primes.items[2], 5);
    cr_assert_eq(d.weights.count, 2);
    cr_assert_str_eq((char *)d.weights.keys[1].data, "b");
    cr_assert_eq(d.weights.values[1], 2);
    cr_assert(d.flag);
    cr_assert_eq(d.negative, -3);
    cr_assert_eq(d.color, Color_BLUE);
    Defaults_free(&d);
    /* Free restores scalar defaults without allocating. */
    cr_assert_eq(d.count, 7);
    cr_assert_null(d.name.data);
    cr_assert_eq(d.primes.count, 0);

    cr_assert_eq(ANSWER, 42);
    cr_assert_eq(SAME_ANSWER, 42);
    cr_assert_eq(BIG, 0x7fffffffffffLL);
    cr_assert_eq(HALF, 0.5);
    cr_assert_eq(TWO / 4, 0.5); /* a double, not an int */
    cr_assert_str_eq(GREETING, "hello \"world\"\n");
    cr_assert(YES);
    cr_assert_eq(SMALL, -8);
    cr_assert_eq(FAVORITE, Color_GREEN);
    cr_assert_eq(Color_BLUE, 10);
    cr_assert_eq(Color_GREEN, 2);
    cr_assert_eq(Mode_AUTO, 6);
    cr_assert_str_eq(Mode_name(Mode_ON), "ON");
    Version v = 5;
    Names names = {0};
    Where w = {.x = 1, .y = 2};
    cr_assert_eq(v + (int64_t)names.count + w.y, 7);
}

Test(codegen_everything, optional_fields_are_sent_only_when_set)
{
    Defaults d;
    Defaults_init(&d);
    tp_buf b;
    FIXTURE_ENCODE(Defaults, &d, &b);
    for (int mode = 0; mode < FIXTURE_MODES; mode++) {
        fixture_mode(mode);
        Defaults back;
        FIXTURE_INIT(Defaults, &back);
        FIXTURE_RELEASE(Defaults, &back); /* empty string and containers */
        tp_reader r;
        fixture_reader(&r, b.data, b.len, NULL);
        cr_assert_eq(Defaults_read(&back, &r), 0, "%s", FIXTURE_MODE_NAME);
        cr_assert_not(back.has_count);
        cr_assert_not(back.has_mode);
        cr_assert_not(back.has_flag);
        cr_assert(back.has_name); /* default requiredness: always sent */
        cr_assert(back.has_primes);
        cr_assert(Defaults_equal(&d, &back), "%s", FIXTURE_MODE_NAME);
        FIXTURE_RELEASE(Defaults, &back);
    }
    fixture_mode_end();
    Defaults_free(&d);
    tp_buf_free(&b);
}

static void union_wire_in_current_mode(const Choice *c, tp_buf *b)
{
    Choice back;
    FIXTURE_INIT(Choice, &back);
    tp_buf_reset(b);
    cr_assert_eq(Choice_write(c, b), 0);
    tp_reader r;
    fixture_reader(&r, b->data, b->len, NULL);
    cr_assert_eq(Choice_read(&back, &r), 0, "%s", FIXTURE_MODE_NAME);
    cr_assert(Choice_equal(c, &back));
    cr_assert_not(back.has_number);
    FIXTURE_RELEASE(Choice, &back);

    /* On the wire: two members, or none, are errors (and leak nothing). */
    FIXTURE_INIT(Choice, &back);
    tp_buf_reset(b);
    tp_write_field_begin(b, TP_T_STRING, 2);
    tp_write_binary(b, "x", 1);
    tp_write_field_begin(b, TP_T_I32, 1);
    tp_write_i32(b, 3);
    tp_write_field_stop(b);
    fixture_reader(&r, b->data, b->len, NULL);
    cr_assert_eq(Choice_read(&back, &r), TP_ERR_UNION, "%s", FIXTURE_MODE_NAME);
    cr_assert_null(back.text.data);
    tp_buf_reset(b);
    tp_write_field_stop(b);
    fixture_reader(&r, b->data, b->len, NULL);
    cr_assert_eq(Choice_read(&back, &r), TP_ERR_UNION, "%s", FIXTURE_MODE_NAME);
    FIXTURE_RELEASE(Choice, &back);
}

Test(codegen_everything, union_needs_exactly_one_field)
{
    Choice c;
    Choice_init(&c);
    tp_buf b;
    tp_buf_init(&b);
    cr_assert_eq(Choice_write(&c, &b), TP_ERR_UNION);
    c.has_number = c.has_text = true;
    cr_assert_eq(Choice_write(&c, &b), TP_ERR_UNION);
    c.has_number = false;
    cr_assert_eq(tp_bytes_set_str(&c.text, "t"), 0);
    for (int mode = 0; mode < FIXTURE_MODES; mode++) {
        fixture_mode(mode);
        union_wire_in_current_mode(&c, &b);
    }
    fixture_mode_end();
    Choice_free(&c);
    tp_buf_free(&b);
}

Test(codegen_everything, recursive_tree_round_trips)
{
    Tree in, out;
    Tree_init(&in);
    fixture_tree(&in, 6, 3);
    tp_buf b;
    FIXTURE_ENCODE(Tree, &in, &b);
    for (int mode = 0; mode < FIXTURE_MODES; mode++) {
        fixture_mode(mode);
        FIXTURE_INIT(Tree, &out);
        tp_reader r;
        fixture_reader(&r, b.data, b.len, NULL);
        cr_assert_eq(Tree_read(&out, &r), 0, "%s", FIXTURE_MODE_NAME);
        cr_assert(Tree_equal(&in, &out));
        cr_assert_eq(out.children.items[2].children.items[1].value, 4);
        FIXTURE_RELEASE(Tree, &out);
    }
    fixture_mode_end();
    Tree_free(&in);
    tp_buf_free(&b);
}
