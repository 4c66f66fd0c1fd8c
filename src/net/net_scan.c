/* net_scan.c: finds where an unframed binary-protocol message ends, without decoding it. */
#include "net_scan.h"

#include <assert.h>
#include <string.h>

/* Thrift binary-protocol type codes (the runtime's TP_* values; the scanner stands alone). */
enum {
    T_STOP = 0, T_BOOL = 2, T_BYTE = 3, T_DOUBLE = 4, T_I16 = 6, T_I32 = 8, T_I64 = 10,
    T_STRING = 11, T_STRUCT = 12, T_MAP = 13, T_SET = 14, T_LIST = 15, T_UUID = 16,
};

enum step {
    STEP_VERSION, STEP_NAME_LEN, STEP_NAME_DONE, STEP_OLD_TYPE, STEP_SEQID, STEP_FIELD_TYPE,
    STEP_FIELD_ID, STEP_STRING_LEN, STEP_LIST_HEADER, STEP_MAP_HEADER, STEP_VALUE_DONE,
};

/* Internal: the step ran and the loop goes on. Never returned to callers. */
#define SCAN_CONTINUE ((enum net_scan_result) - 1)

const char *net_scan_strerror(enum net_scan_result r)
{
    switch (r) {
#define NET_SCAN_TEXT(name, text) case name: return text;
        NET_SCAN_RESULTS(NET_SCAN_TEXT)
#undef NET_SCAN_TEXT
    }
    return "unknown scan result";
}

void net_scan_init(struct net_scan *s, uint64_t size_max)
{
    memset(s, 0, sizeof *s);
    s->size_max = size_max;
    s->step = STEP_VERSION;
    s->need = 4;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int type_valid(uint8_t t)
{
    switch (t) {
    case T_BOOL: case T_BYTE: case T_DOUBLE: case T_I16: case T_I32: case T_I64:
    case T_STRING: case T_STRUCT: case T_MAP: case T_SET: case T_LIST: case T_UUID:
        return 1;
    default:
        return 0;
    }
}

static void expect(struct net_scan *s, enum step step, uint32_t need)
{
    assert(need <= sizeof s->acc);
    s->step = (uint8_t)step;
    s->need = need;
    s->have = 0;
}

static enum net_scan_result push(struct net_scan *s, uint8_t kind, uint8_t k, uint8_t v,
                                 uint32_t remaining)
{
    if (s->depth == NET_SCAN_DEPTH_MAX)
        return NET_SCAN_DEPTH_LIMIT;
    s->stack[s->depth++] = (struct net_scan_frame){kind, {k, v}, remaining};
    return SCAN_CONTINUE;
}

/* Sets up reading one value of type t. */
static enum net_scan_result begin_value(struct net_scan *s, uint8_t t)
{
    assert(type_valid(t));
    switch (t) {
    case T_BOOL: case T_BYTE: expect(s, STEP_VALUE_DONE, 1); break;
    case T_I16: expect(s, STEP_VALUE_DONE, 2); break;
    case T_I32: expect(s, STEP_VALUE_DONE, 4); break;
    case T_I64: case T_DOUBLE: expect(s, STEP_VALUE_DONE, 8); break;
    case T_UUID: expect(s, STEP_VALUE_DONE, 8); s->skip = 8; break;
    case T_STRING: expect(s, STEP_STRING_LEN, 4); break;
    case T_LIST: case T_SET: expect(s, STEP_LIST_HEADER, 5); break;
    case T_MAP: expect(s, STEP_MAP_HEADER, 6); break;
    case T_STRUCT:
        expect(s, STEP_FIELD_TYPE, 1);
        return push(s, T_STRUCT, 0, 0, 0);
    }
    return SCAN_CONTINUE;
}

/* A value ended: decide what the enclosing container expects next. */
static enum net_scan_result value_done(struct net_scan *s)
{
    while (s->depth > 0) {
        struct net_scan_frame *f = &s->stack[s->depth - 1];
        if (f->kind == T_STRUCT) {
            expect(s, STEP_FIELD_TYPE, 1);
            return SCAN_CONTINUE;
        }
        if (f->remaining > 0) {
            uint8_t t = f->kind == T_MAP ? f->elem_type[f->remaining % 2] : f->elem_type[0];
            f->remaining--;
            return begin_value(s, t);
        }
        s->depth--;
    }
    return NET_SCAN_DONE;
}

static enum net_scan_result set_skip(struct net_scan *s, uint32_t len, enum step next)
{
    if (len > s->size_max - s->consumed)
        return NET_SCAN_SIZE_LIMIT;
    expect(s, next, 0);
    s->skip = len;
    return SCAN_CONTINUE;
}

static enum net_scan_result container_header(struct net_scan *s, uint8_t kind, uint8_t k,
                                             uint8_t v, int32_t count)
{
    if (count < 0)
        return NET_SCAN_NEGATIVE_SIZE;
    /* Empty containers may carry any element types (some writers send zeros). */
    if (count > 0 && (!type_valid(k) || !type_valid(v)))
        return NET_SCAN_BAD_TYPE;
    uint32_t remaining = kind == T_MAP ? 2u * (uint32_t)count : (uint32_t)count;
    enum net_scan_result r = push(s, kind, k, v, remaining);
    if (r != SCAN_CONTINUE)
        return r;
    return value_done(s);
}

static enum net_scan_result run_step(struct net_scan *s)
{
    const uint8_t *a = s->acc;
    switch ((enum step)s->step) {
    case STEP_VERSION: {
        uint32_t v = be32(a);
        if ((v & 0x80000000u) == 0) {   /* old style (non-strict): the name's length first */
            if (v == 0 || v > NET_SCAN_NAME_MAX)
                return NET_SCAN_BAD_NAME;
            return set_skip(s, v, STEP_OLD_TYPE);
        }
        if ((v & 0xffff0000u) != 0x80010000u || (v & 0xffu) < 1 || (v & 0xffu) > 4)
            return NET_SCAN_BAD_VERSION;
        expect(s, STEP_NAME_LEN, 4);
        return SCAN_CONTINUE;
    }
    case STEP_OLD_TYPE: expect(s, STEP_NAME_DONE, 1); return SCAN_CONTINUE;   /* its type byte */
    case STEP_NAME_LEN: {
        uint32_t n = be32(a);
        if (n > NET_SCAN_NAME_MAX)
            return NET_SCAN_BAD_NAME;
        return set_skip(s, n, STEP_NAME_DONE);
    }
    case STEP_NAME_DONE: expect(s, STEP_SEQID, 4); return SCAN_CONTINUE;
    case STEP_SEQID: return begin_value(s, T_STRUCT);
    case STEP_FIELD_TYPE:
        if (a[0] == T_STOP) {
            assert(s->depth > 0);
            s->depth--;
            return value_done(s);
        }
        if (!type_valid(a[0]))
            return NET_SCAN_BAD_TYPE;
        s->value_type = a[0];
        expect(s, STEP_FIELD_ID, 2);
        return SCAN_CONTINUE;
    case STEP_FIELD_ID: return begin_value(s, s->value_type);
    case STEP_STRING_LEN: {
        int32_t n = (int32_t)be32(a);
        if (n < 0)
            return NET_SCAN_NEGATIVE_SIZE;
        return set_skip(s, (uint32_t)n, STEP_VALUE_DONE);
    }
    case STEP_LIST_HEADER: return container_header(s, T_LIST, a[0], a[0], (int32_t)be32(a + 1));
    case STEP_MAP_HEADER: return container_header(s, T_MAP, a[0], a[1], (int32_t)be32(a + 2));
    case STEP_VALUE_DONE: return value_done(s);
    }
    assert(0 && "unknown scan step");
    return NET_SCAN_BAD_TYPE;
}

enum net_scan_result net_scan_feed(struct net_scan *s, const uint8_t *data, size_t len,
                                   size_t *used)
{
    size_t i = 0;
    for (;;) {
        if (s->have < s->need || s->skip > 0) {
            if (i == len) {
                *used = i;
                return NET_SCAN_MORE;
            }
            size_t take;
            if (s->have < s->need) {
                take = s->need - s->have;
                take = take < len - i ? take : len - i;
                memcpy(s->acc + s->have, data + i, take);
                s->have += (uint32_t)take;
            } else {
                take = s->skip < len - i ? (size_t)s->skip : len - i;
                s->skip -= take;
            }
            i += take;
            s->consumed += take;
            if (s->consumed > s->size_max) {
                *used = i;
                return NET_SCAN_SIZE_LIMIT;
            }
            continue;
        }
        enum net_scan_result r = run_step(s);
        if (r != SCAN_CONTINUE) {
            *used = i;
            return r;
        }
    }
}
