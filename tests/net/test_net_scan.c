/* test_net_scan.c: the unframed message scanner against messages the runtime writes. */
#include "net_scan.h"
#include "test_seed.h"
#include "thrift.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t rng_state;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

static uint64_t seed_rng(const char *who)
{
    uint64_t seed = test_seed_for(who);
    rng_state = seed ? seed : 1;
    return seed;
}

static void write_value(tp_buf *b, uint8_t t, int depth);

static uint8_t random_type(int depth)
{
    static const uint8_t leaf[] = {TP_T_BOOL, TP_T_BYTE, TP_T_DOUBLE, TP_T_I16, TP_T_I32,
                                   TP_T_I64, TP_T_STRING};
    static const uint8_t nested[] = {TP_T_STRUCT, TP_T_MAP, TP_T_SET, TP_T_LIST};
    if (depth < 4 && rng() % 3 == 0)
        return nested[rng() % 4];
    return leaf[rng() % 7];
}

static void write_struct(tp_buf *b, int depth)
{
    uint32_t fields = rng() % 5;
    for (uint32_t i = 0; i < fields; i++) {
        uint8_t t = random_type(depth);
        tp_write_field_begin(b, t, (int16_t)(rng() % 100));
        write_value(b, t, depth + 1);
    }
    tp_write_field_stop(b);
}

static void write_value(tp_buf *b, uint8_t t, int depth)
{
    uint32_t n = rng() % 4;
    switch (t) {
    case TP_T_BOOL: tp_write_bool(b, rng() & 1); break;
    case TP_T_BYTE: tp_write_byte(b, (int8_t)rng()); break;
    case TP_T_DOUBLE: tp_write_double(b, (double)rng()); break;
    case TP_T_I16: tp_write_i16(b, (int16_t)rng()); break;
    case TP_T_I32: tp_write_i32(b, (int32_t)rng()); break;
    case TP_T_I64: tp_write_i64(b, (int64_t)rng()); break;
    case TP_T_STRING: {
        uint8_t s[40];
        uint32_t len = rng() % sizeof s;
        for (uint32_t i = 0; i < len; i++)
            s[i] = (uint8_t)rng();
        tp_write_binary(b, s, len);
        break;
    }
    case TP_T_STRUCT: write_struct(b, depth); break;
    case TP_T_MAP: {
        uint8_t k = random_type(depth), v = random_type(depth);
        tp_write_map_begin(b, k, v, n);
        for (uint32_t i = 0; i < n; i++) {
            write_value(b, k, depth + 1);
            write_value(b, v, depth + 1);
        }
        break;
    }
    default: {
        uint8_t e = random_type(depth);
        tp_write_list_begin(b, e, n);
        for (uint32_t i = 0; i < n; i++)
            write_value(b, e, depth + 1);
    }
    }
}

static void random_message(tp_buf *b)
{
    tp_buf_reset(b);
    tp_write_message_begin(b, "someMethod", 10, TP_CALL, (int32_t)rng());
    write_struct(b, 0);
    cr_assert(!b->failed);
}

static enum net_scan_result scan_all(const uint8_t *p, size_t len, size_t chunk, uint64_t *end)
{
    struct net_scan s;
    net_scan_init(&s, 1u << 20);
    size_t off = 0;
    while (off < len) {
        size_t n = len - off < chunk ? len - off : chunk, used;
        enum net_scan_result r = net_scan_feed(&s, p + off, n, &used);
        cr_assert_leq(used, n);
        off += used;
        if (r != NET_SCAN_MORE) {
            *end = s.consumed;
            cr_assert_eq(s.consumed, off);
            return r;
        }
        cr_assert_eq(used, n, "MORE must consume everything it was given");
    }
    return NET_SCAN_MORE;
}

Test(net_scan, random_messages_end_exactly_where_written)
{
    uint64_t seed = seed_rng("net_scan random_messages_end_exactly_where_written");
    tp_buf b;
    tp_buf_init(&b);
    for (int i = 0; i < 500; i++) {
        random_message(&b);
        size_t chunks[] = {1, 3, 7, b.len};
        for (size_t c = 0; c < 4; c++) {
            uint64_t end = 0;
            enum net_scan_result r = scan_all(b.data, b.len, chunks[c], &end);
            cr_assert_eq(r, NET_SCAN_DONE, "seed %llu: %s", (unsigned long long)seed,
                         net_scan_strerror(r));
            cr_assert_eq(end, b.len, "seed %llu", (unsigned long long)seed);
        }
        for (size_t cut = 0; cut < b.len; cut++) {
            uint64_t end;
            cr_assert_eq(scan_all(b.data, cut, 5, &end), NET_SCAN_MORE,
                         "seed %llu: cut at %zu of %zu", (unsigned long long)seed, cut, b.len);
        }
    }
    tp_buf_free(&b);
}

Test(net_scan, two_messages_back_to_back_stop_at_the_first)
{
    tp_buf b;
    tp_buf_init(&b);
    rng_state = 7;
    random_message(&b);
    size_t first = b.len;
    write_struct(&b, 0);
    uint8_t *two = malloc(first * 2);
    memcpy(two, b.data, first);
    memcpy(two + first, b.data, first);
    struct net_scan s;
    net_scan_init(&s, 1u << 20);
    size_t used;
    cr_assert_eq(net_scan_feed(&s, two, first * 2, &used), NET_SCAN_DONE);
    cr_assert_eq(used, first);
    free(two);
    tp_buf_free(&b);
}

Test(net_scan, hostile_headers_are_refused)
{
    struct net_scan s;
    size_t used;
    const uint8_t no_name[] = {0x00, 0x00, 0x00, 0x00, 1, 0, 0, 0, 1};   /* old style */
    net_scan_init(&s, 1024);
    cr_assert_eq(net_scan_feed(&s, no_name, sizeof no_name, &used), NET_SCAN_BAD_NAME);
    const uint8_t old_long_name[] = {0x00, 0x00, 0x01, 0x01, 'p', 'i', 'n', 'g'};
    net_scan_init(&s, 1024);
    cr_assert_eq(net_scan_feed(&s, old_long_name, sizeof old_long_name, &used),
                 NET_SCAN_BAD_NAME);
    const uint8_t two_gib[] = {0x80, 0x00, 0x00, 0x00, 0, 0, 0, 0};
    net_scan_init(&s, 1024);
    cr_assert_eq(net_scan_feed(&s, two_gib, sizeof two_gib, &used), NET_SCAN_BAD_VERSION);
    const uint8_t long_name[] = {0x80, 0x01, 0x00, 0x01, 0x7f, 0xff, 0xff, 0xff};
    net_scan_init(&s, 1024);
    cr_assert_eq(net_scan_feed(&s, long_name, sizeof long_name, &used), NET_SCAN_BAD_NAME);
    /* header, name "m", seqid, then a string field claiming 2 GiB - 1 */
    const uint8_t big_string[] = {0x80, 0x01, 0x00, 0x01, 0, 0, 0, 1, 'm', 0, 0, 0, 1,
                                  11, 0, 1, 0x7f, 0xff, 0xff, 0xff};
    net_scan_init(&s, 1024);
    cr_assert_eq(net_scan_feed(&s, big_string, sizeof big_string, &used), NET_SCAN_SIZE_LIMIT);
    const uint8_t neg_list[] = {0x80, 0x01, 0x00, 0x01, 0, 0, 0, 1, 'm', 0, 0, 0, 1,
                                15, 0, 1, 8, 0xff, 0xff, 0xff, 0xff};
    net_scan_init(&s, 1024);
    cr_assert_eq(net_scan_feed(&s, neg_list, sizeof neg_list, &used), NET_SCAN_NEGATIVE_SIZE);
    const uint8_t bad_type[] = {0x80, 0x01, 0x00, 0x01, 0, 0, 0, 1, 'm', 0, 0, 0, 1, 99};
    net_scan_init(&s, 1024);
    cr_assert_eq(net_scan_feed(&s, bad_type, sizeof bad_type, &used), NET_SCAN_BAD_TYPE);
}

/* Old-style (non-strict) messages, as TBinaryProtocol writes with strict_write off: the
   name's length, the name, a type byte, the seqid, the arguments. Fed a byte at a time. */
Test(net_scan, old_style_messages_end_where_they_end)
{
    const uint8_t ping[] = {0, 0, 0, 4, 'p', 'i', 'n', 'g', 1, 0, 0, 0, 7,
                            12, 0, 1, 11, 0, 1, 0, 0, 0, 2, 'h', 'i', 0, 0};
    struct net_scan s;
    net_scan_init(&s, 1024);
    size_t used = 0;
    enum net_scan_result r = NET_SCAN_MORE;
    size_t i = 0;
    for (; i < sizeof ping && r == NET_SCAN_MORE; i++)
        r = net_scan_feed(&s, ping + i, 1, &used);
    cr_assert_eq(r, NET_SCAN_DONE);
    cr_assert_eq(i, sizeof ping, "done at the last byte, not before");
    cr_assert_eq(s.consumed, sizeof ping);
}

Test(net_scan, nesting_deeper_than_the_limit_is_refused)
{
    tp_buf b;
    tp_buf_init(&b);
    tp_write_message_begin(&b, "m", 1, TP_CALL, 1);
    for (unsigned i = 0; i < NET_SCAN_DEPTH_MAX + 1; i++)
        tp_write_field_begin(&b, TP_T_STRUCT, 1);
    struct net_scan s;
    net_scan_init(&s, 1u << 20);
    size_t used;
    cr_assert_eq(net_scan_feed(&s, b.data, b.len, &used), NET_SCAN_DEPTH_LIMIT);
    tp_buf_free(&b);
}

Test(net_scan, a_message_over_the_size_limit_is_refused_while_arriving)
{
    tp_buf b;
    tp_buf_init(&b);
    tp_write_message_begin(&b, "m", 1, TP_CALL, 1);
    tp_write_field_begin(&b, TP_T_LIST, 1);
    tp_write_list_begin(&b, TP_T_I64, 1000);
    for (int i = 0; i < 1000; i++)
        tp_write_i64(&b, i);
    struct net_scan s;
    net_scan_init(&s, 4096);
    size_t used;
    cr_assert_eq(net_scan_feed(&s, b.data, b.len, &used), NET_SCAN_SIZE_LIMIT);
    cr_assert_leq(used, 4096 + 8, "stops within one value of the limit");
    tp_buf_free(&b);
}

Test(net_scan, random_bytes_never_overrun)
{
    uint64_t seed = seed_rng("net_scan random_bytes_never_overrun");
    uint8_t buf[256];
    for (int i = 0; i < 20000; i++) {
        size_t len = rng() % sizeof buf;
        for (size_t j = 0; j < len; j++)
            buf[j] = (uint8_t)rng();
        if (len > 4 && (rng() & 1)) {   /* often a valid header, so the body gets scanned */
            buf[0] = 0x80, buf[1] = 0x01, buf[2] = 0, buf[3] = 1;
            buf[4] = buf[5] = buf[6] = 0;
            buf[7] = 0;
        }
        struct net_scan s;
        net_scan_init(&s, 1u << 16);
        size_t used;
        enum net_scan_result r = net_scan_feed(&s, buf, len, &used);
        cr_assert_leq(used, len, "seed %llu", (unsigned long long)seed);
        if (r == NET_SCAN_MORE)
            cr_assert_eq(used, len, "seed %llu", (unsigned long long)seed);
    }
}
