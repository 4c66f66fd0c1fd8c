/* test_thrift.c: the binary-protocol runtime: values, limits, skip, headers, exceptions. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "thrift.h"

static tp_buf out;

static void setup(void) { tp_buf_init(&out); }
static void teardown(void) { tp_buf_free(&out); }

TestSuite(thrift, .init = setup, .fini = teardown);

Test(thrift, scalars_round_trip_big_endian)
{
    tp_write_bool(&out, true);
    tp_write_byte(&out, -2);
    tp_write_i16(&out, -12345);
    tp_write_i32(&out, INT32_MIN);
    tp_write_i64(&out, 0x0102030405060708);
    tp_write_double(&out, -1.5);
    cr_assert_eq(out.len, 1 + 1 + 2 + 4 + 8 + 8);
    cr_assert_eq(out.data[2], 0xCF);
    cr_assert_eq(out.data[3], 0xC7);
    cr_assert_eq(out.data[8], 0x01);
    cr_assert_eq(out.data[15], 0x08);

    tp_reader r;
    tp_reader_init(&r, out.data, out.len, NULL);
    bool b;
    int8_t i8;
    int16_t i16;
    int32_t i32;
    int64_t i64;
    double d;
    cr_assert_eq(tp_read_bool(&r, &b), 0);
    cr_assert_eq(tp_read_byte(&r, &i8), 0);
    cr_assert_eq(tp_read_i16(&r, &i16), 0);
    cr_assert_eq(tp_read_i32(&r, &i32), 0);
    cr_assert_eq(tp_read_i64(&r, &i64), 0);
    cr_assert_eq(tp_read_double(&r, &d), 0);
    cr_assert(b);
    cr_assert_eq(i8, -2);
    cr_assert_eq(i16, -12345);
    cr_assert_eq(i32, INT32_MIN);
    cr_assert_eq(i64, 0x0102030405060708);
    cr_assert_eq(d, -1.5);
    cr_assert_eq(tp_reader_remaining(&r), 0);
    cr_assert_eq(tp_read_byte(&r, &i8), TP_ERR_TRUNCATED);
}

Test(thrift, empty_input_is_truncated)
{
    tp_reader r;
    tp_reader_init(&r, NULL, 0, NULL);
    uint8_t type;
    int16_t id;
    cr_assert_eq(tp_read_field_begin(&r, &type, &id), TP_ERR_TRUNCATED);
    cr_assert_eq(tp_skip(&r, TP_T_STRUCT), TP_ERR_TRUNCATED);
    tp_message m;
    cr_assert_eq(tp_read_message_begin(&r, &m), TP_ERR_TRUNCATED);
}

Test(thrift, bytes_round_trip_and_nul_terminated)
{
    tp_write_binary(&out, "hello", 5);
    tp_write_binary(&out, NULL, 0);
    tp_reader r;
    tp_reader_init(&r, out.data, out.len, NULL);
    tp_bytes s = {0}, e = {0};
    cr_assert_eq(tp_read_bytes(&r, &s), 0);
    cr_assert_eq(tp_read_bytes(&r, &e), 0);
    cr_assert_eq(s.len, 5);
    cr_assert_str_eq((char *)s.data, "hello");
    cr_assert_eq(e.len, 0);
    tp_bytes_free(&s);
    tp_bytes_free(&e);
}

Test(thrift, bytes_negative_huge_and_truncated_lengths)
{
    static const uint8_t negative[] = {0xFF, 0xFF, 0xFF, 0xFE, 'a'};
    static const uint8_t huge[] = {0x7F, 0xFF, 0xFF, 0xFF, 'a'};
    static const uint8_t short_body[] = {0, 0, 0, 3, 'a', 'b'};
    tp_limits small = {.string_max = 4, .container_max = 4, .depth_max = 4};
    static const uint8_t over_limit[] = {0, 0, 0, 5, 'a', 'b', 'c', 'd', 'e'};
    tp_bytes s = {0};
    tp_reader r;
    tp_reader_init(&r, negative, sizeof negative, NULL);
    cr_assert_eq(tp_read_bytes(&r, &s), TP_ERR_NEGATIVE_SIZE);
    tp_reader_init(&r, huge, sizeof huge, NULL);
    cr_assert_eq(tp_read_bytes(&r, &s), TP_ERR_SIZE_LIMIT);
    tp_reader_init(&r, short_body, sizeof short_body, NULL);
    cr_assert_eq(tp_read_bytes(&r, &s), TP_ERR_TRUNCATED);
    tp_reader_init(&r, over_limit, sizeof over_limit, &small);
    cr_assert_eq(tp_read_bytes(&r, &s), TP_ERR_SIZE_LIMIT);
    cr_assert_null(s.data);
}

Test(thrift, list_header_checks_count_against_remaining_bytes)
{
    tp_write_list_begin(&out, TP_T_I64, 3);
    tp_write_i64(&out, 1);
    tp_write_i64(&out, 2);
    tp_reader r;
    uint32_t n;
    tp_reader_init(&r, out.data, out.len, NULL);
    cr_assert_eq(tp_read_list_begin(&r, TP_T_I64, &n), TP_ERR_TRUNCATED);
    tp_write_i64(&out, 3);
    tp_reader_init(&r, out.data, out.len, NULL);
    cr_assert_eq(tp_read_list_begin(&r, TP_T_I64, &n), 0);
    cr_assert_eq(n, 3);
    tp_reader_init(&r, out.data, out.len, NULL);
    cr_assert_eq(tp_read_list_begin(&r, TP_T_I32, &n), TP_ERR_BAD_TYPE);
}

Test(thrift, empty_container_of_any_element_type_is_accepted)
{
    tp_write_list_begin(&out, TP_T_STOP, 0);
    tp_write_map_begin(&out, TP_T_STOP, TP_T_STOP, 0);
    tp_reader r;
    uint32_t n = 99;
    tp_reader_init(&r, out.data, out.len, NULL);
    cr_assert_eq(tp_read_list_begin(&r, TP_T_STRING, &n), 0);
    cr_assert_eq(n, 0);
    cr_assert_eq(tp_read_map_begin(&r, TP_T_I32, TP_T_STRUCT, &n), 0);
    cr_assert_eq(n, 0);
}

Test(thrift, container_count_limits)
{
    tp_limits small = {.string_max = 100, .container_max = 2, .depth_max = 4};
    tp_write_map_begin(&out, TP_T_BYTE, TP_T_BYTE, 3);
    for (int i = 0; i < 6; i++)
        tp_write_byte(&out, 1);
    tp_reader r;
    uint32_t n;
    tp_reader_init(&r, out.data, out.len, &small);
    cr_assert_eq(tp_read_map_begin(&r, TP_T_BYTE, TP_T_BYTE, &n), TP_ERR_SIZE_LIMIT);
    tp_reader_init(&r, out.data, out.len, NULL);
    cr_assert_eq(tp_read_map_begin(&r, TP_T_BYTE, TP_T_BYTE, &n), 0);
    cr_assert_eq(n, 3);
    tp_buf_reset(&out);
    tp_write_list_begin(&out, TP_T_STRING, (uint32_t)INT32_MAX);
    out.data[1] = 0x80; /* count -2^31 + ... : negative */
    tp_reader_init(&r, out.data, out.len, NULL);
    cr_assert_eq(tp_read_list_begin(&r, TP_T_STRING, &n), TP_ERR_NEGATIVE_SIZE);
}

/* A struct holding every kind of value, written by hand, for skip to step over. */
static void write_everything(tp_buf *b)
{
    tp_write_field_begin(b, TP_T_BOOL, 1);
    tp_write_bool(b, true);
    tp_write_field_begin(b, TP_T_DOUBLE, 2);
    tp_write_double(b, 2.5);
    tp_write_field_begin(b, TP_T_STRING, 3);
    tp_write_binary(b, "abc", 3);
    tp_write_field_begin(b, TP_T_MAP, 4);
    tp_write_map_begin(b, TP_T_STRING, TP_T_LIST, 1);
    tp_write_binary(b, "k", 1);
    tp_write_list_begin(b, TP_T_I16, 2);
    tp_write_i16(b, 1);
    tp_write_i16(b, 2);
    tp_write_field_begin(b, TP_T_SET, 5);
    tp_write_list_begin(b, TP_T_I32, 2);
    tp_write_i32(b, 7);
    tp_write_i32(b, 8);
    tp_write_field_begin(b, TP_T_STRUCT, 6);
    tp_write_field_begin(b, TP_T_I64, 1);
    tp_write_i64(b, 9);
    tp_write_field_stop(b);
    tp_write_field_stop(b);
}

Test(thrift, skip_steps_over_every_type_and_fails_on_every_truncation)
{
    write_everything(&out);
    tp_write_byte(&out, 0x42); /* a sentinel after the struct */
    tp_reader r;
    tp_reader_init(&r, out.data, out.len, NULL);
    cr_assert_eq(tp_skip(&r, TP_T_STRUCT), 0);
    cr_assert_eq(r.depth, 0);
    cr_assert_eq(tp_reader_remaining(&r), 1);
    for (size_t cut = 0; cut + 1 < out.len; cut++) {
        tp_reader_init(&r, out.data, cut, NULL);
        cr_assert_eq(tp_skip(&r, TP_T_STRUCT), TP_ERR_TRUNCATED, "cut at %zu", cut);
        cr_assert(r.pos <= r.end);
    }
}

Test(thrift, skip_rejects_bad_types)
{
    static const uint8_t bad_field[] = {0x07, 0, 1, 0};
    static const uint8_t bad_elem[] = {0x10, 0, 0, 0, 1, 0};
    tp_reader r;
    tp_reader_init(&r, bad_field, sizeof bad_field, NULL);
    cr_assert_eq(tp_skip(&r, TP_T_STRUCT), TP_ERR_BAD_TYPE);
    tp_reader_init(&r, bad_elem, sizeof bad_elem, NULL);
    cr_assert_eq(tp_skip(&r, TP_T_LIST), TP_ERR_BAD_TYPE);
    tp_reader_init(&r, bad_elem, sizeof bad_elem, NULL);
    cr_assert_eq(tp_skip(&r, TP_T_VOID), TP_ERR_BAD_TYPE);
}

static void write_nesting(tp_buf *b, int depth)
{
    for (int i = 0; i < depth; i++)
        tp_write_field_begin(b, TP_T_STRUCT, 1);
    for (int i = 0; i <= depth; i++)
        tp_write_field_stop(b);
}

Test(thrift, skip_depth_limit_stops_a_nesting_bomb)
{
    write_nesting(&out, 100);
    tp_reader r;
    tp_reader_init(&r, out.data, out.len, NULL);
    cr_assert_eq(tp_skip(&r, TP_T_STRUCT), TP_ERR_DEPTH_LIMIT);
    tp_buf_reset(&out);
    write_nesting(&out, TP_DEPTH_MAX_DEFAULT - 1);
    tp_reader_init(&r, out.data, out.len, NULL);
    cr_assert_eq(tp_skip(&r, TP_T_STRUCT), 0);
    cr_assert_eq(tp_reader_remaining(&r), 0);
    tp_buf_reset(&out);
    write_nesting(&out, TP_DEPTH_MAX_DEFAULT);
    tp_reader_init(&r, out.data, out.len, NULL);
    cr_assert_eq(tp_skip(&r, TP_T_STRUCT), TP_ERR_DEPTH_LIMIT);
}

Test(thrift, skip_list_nesting_bomb)
{
    for (int i = 0; i < 100; i++)
        tp_write_list_begin(&out, TP_T_LIST, 1);
    tp_write_list_begin(&out, TP_T_I32, 0);
    tp_reader r;
    tp_reader_init(&r, out.data, out.len, NULL);
    cr_assert_eq(tp_skip(&r, TP_T_LIST), TP_ERR_DEPTH_LIMIT);
}

Test(thrift, message_header_strict_round_trip)
{
    cr_assert_eq(tp_write_message_begin(&out, "ping", 4, TP_CALL, 77), 0);
    cr_assert_eq(out.data[0], 0x80);
    cr_assert_eq(out.data[1], 0x01);
    cr_assert_eq(out.data[3], TP_CALL);
    tp_reader r;
    tp_message m;
    tp_reader_init(&r, out.data, out.len, NULL);
    cr_assert_eq(tp_read_message_begin(&r, &m), 0);
    cr_assert_eq(m.type, TP_CALL);
    cr_assert_eq(m.seqid, 77);
    cr_assert_eq(m.name_len, 4);
    cr_assert_eq(memcmp(m.name, "ping", 4), 0);
    for (size_t cut = 0; cut < out.len; cut++) {
        tp_reader_init(&r, out.data, cut, NULL);
        cr_assert_eq(tp_read_message_begin(&r, &m), TP_ERR_TRUNCATED, "cut %zu", cut);
    }
}

Test(thrift, message_header_legacy_and_bad_versions)
{
    static const uint8_t legacy[] = {0, 0, 0, 3, 'g', 'e', 't', TP_REPLY, 0, 0, 0, 5};
    static const uint8_t bad_version[] = {0x80, 0x02, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0};
    static const uint8_t bad_type[] = {0x80, 0x01, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0};
    tp_reader r;
    tp_message m;
    tp_reader_init(&r, legacy, sizeof legacy, NULL);
    cr_assert_eq(tp_read_message_begin(&r, &m), 0);
    cr_assert_eq(m.type, TP_REPLY);
    cr_assert_eq(m.seqid, 5);
    cr_assert_eq(m.name_len, 3);
    tp_reader_init(&r, bad_version, sizeof bad_version, NULL);
    cr_assert_eq(tp_read_message_begin(&r, &m), TP_ERR_BAD_VERSION);
    tp_reader_init(&r, bad_type, sizeof bad_type, NULL);
    cr_assert_eq(tp_read_message_begin(&r, &m), TP_ERR_BAD_MESSAGE_TYPE);
}

Test(thrift, app_exception_round_trip)
{
    cr_assert_eq(tp_write_app_exception(&out, "nope", 4, 3, TP_APPEX_UNKNOWN_METHOD,
                                        "unknown method nope"),
                 0);
    tp_reader r;
    tp_message m;
    tp_app_exception e;
    tp_app_exception_init(&e);
    tp_reader_init(&r, out.data, out.len, NULL);
    cr_assert_eq(tp_read_message_begin(&r, &m), 0);
    cr_assert_eq(m.type, TP_EXCEPTION);
    cr_assert_eq(tp_app_exception_read(&e, &r), 0);
    cr_assert_eq(e.type, TP_APPEX_UNKNOWN_METHOD);
    cr_assert_str_eq((char *)e.message.data, "unknown method nope");
    cr_assert_eq(tp_reader_remaining(&r), 0);
    tp_app_exception_free(&e);
    for (size_t cut = 0; cut < out.len; cut++) {
        tp_reader_init(&r, out.data, cut, NULL);
        int rc = tp_read_message_begin(&r, &m);
        if (rc == 0)
            rc = tp_app_exception_read(&e, &r);
        cr_assert_eq(rc, TP_ERR_TRUNCATED, "cut %zu", cut);
        cr_assert_null(e.message.data);
    }
}

Test(thrift, frames_and_strerror)
{
    size_t at = tp_frame_begin(&out);
    tp_write_i32(&out, 1);
    tp_write_i16(&out, 2);
    tp_frame_end(&out, at);
    cr_assert_eq(tp_frame_get_len(out.data), 6);
    uint8_t hdr[4];
    tp_frame_put_len(hdr, 0x01020304);
    cr_assert_eq(hdr[0], 1);
    cr_assert_eq(hdr[3], 4);
    cr_assert_str_eq(tp_strerror(TP_ERR_TRUNCATED), "input ends inside a value");
    cr_assert_str_eq(tp_strerror(0), "ok");
    cr_assert_str_eq(tp_strerror(-5), "unknown thrift error");
}

Test(thrift, buffer_grows_and_keeps_content)
{
    for (int i = 0; i < 100000; i++)
        tp_write_i32(&out, i);
    cr_assert_eq(out.len, 400000);
    cr_assert_not(out.failed);
    tp_reader r;
    tp_reader_init(&r, out.data, out.len, NULL);
    for (int i = 0; i < 100000; i++) {
        int32_t v;
        cr_assert_eq(tp_read_i32(&r, &v), 0);
        cr_assert_eq(v, i);
    }
    tp_buf_reset(&out);
    cr_assert_eq(out.len, 0);
    cr_assert_geq(out.cap, 400000);
}
