/* tp_inline.h: inline single-value writers and bounds-checked readers (included by thrift.h). */
#ifndef THRIFT_TP_INLINE_H
#define THRIFT_TP_INLINE_H

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Small enough that a call would cost more than the body: always inline. */
#define TP_INLINE static inline __attribute__((always_inline))

/* ---------------------------------------------------------------- writers
 * Writers return nothing: a failed allocation sets b->failed, later writes do nothing, and
 * the caller checks b->failed once at the end (generated *_write functions do). */

TP_INLINE bool tp_buf_reserve(tp_buf *b, size_t need)
{
    if (b->cap - b->len >= need)
        return !b->failed;
    return tp_buf_grow(b, need);
}

TP_INLINE void tp_put_u16_(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

TP_INLINE void tp_put_u32_(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

TP_INLINE void tp_put_u64_(uint8_t *p, uint64_t v)
{
    tp_put_u32_(p, (uint32_t)(v >> 32));
    tp_put_u32_(p + 4, (uint32_t)v);
}

TP_INLINE void tp_write_byte(tp_buf *b, int8_t v)
{
    if (!tp_buf_reserve(b, 1))
        return;
    b->data[b->len++] = (uint8_t)v;
}

TP_INLINE void tp_write_bool(tp_buf *b, bool v) { tp_write_byte(b, v ? 1 : 0); }

TP_INLINE void tp_write_i16(tp_buf *b, int16_t v)
{
    if (!tp_buf_reserve(b, 2))
        return;
    tp_put_u16_(b->data + b->len, (uint16_t)v);
    b->len += 2;
}

TP_INLINE void tp_write_i32(tp_buf *b, int32_t v)
{
    if (!tp_buf_reserve(b, 4))
        return;
    tp_put_u32_(b->data + b->len, (uint32_t)v);
    b->len += 4;
}

TP_INLINE void tp_write_i64(tp_buf *b, int64_t v)
{
    if (!tp_buf_reserve(b, 8))
        return;
    tp_put_u64_(b->data + b->len, (uint64_t)v);
    b->len += 8;
}

TP_INLINE void tp_write_double(tp_buf *b, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    tp_write_i64(b, (int64_t)bits);
}

TP_INLINE void tp_write_binary(tp_buf *b, const void *data, uint32_t len)
{
    assert(len <= INT32_MAX);
    if (!tp_buf_reserve(b, 4 + (size_t)len))
        return;
    tp_put_u32_(b->data + b->len, len);
    if (len > 0)
        memcpy(b->data + b->len + 4, data, len);
    b->len += 4 + (size_t)len;
}

TP_INLINE void tp_write_bytes(tp_buf *b, const tp_bytes *v)
{
    tp_write_binary(b, v->data, v->len);
}

TP_INLINE void tp_write_field_begin(tp_buf *b, uint8_t type, int16_t id)
{
    if (!tp_buf_reserve(b, 3))
        return;
    b->data[b->len] = type;
    tp_put_u16_(b->data + b->len + 1, (uint16_t)id);
    b->len += 3;
}

TP_INLINE void tp_write_field_stop(tp_buf *b) { tp_write_byte(b, TP_T_STOP); }

/* Lists and sets share one header: element type, then count. */
TP_INLINE void tp_write_list_begin(tp_buf *b, uint8_t elem_type, uint32_t count)
{
    assert(count <= INT32_MAX);
    if (!tp_buf_reserve(b, 5))
        return;
    b->data[b->len] = elem_type;
    tp_put_u32_(b->data + b->len + 1, count);
    b->len += 5;
}

TP_INLINE void tp_write_map_begin(tp_buf *b, uint8_t key_type, uint8_t value_type,
                                      uint32_t count)
{
    assert(count <= INT32_MAX);
    if (!tp_buf_reserve(b, 6))
        return;
    b->data[b->len] = key_type;
    b->data[b->len + 1] = value_type;
    tp_put_u32_(b->data + b->len + 2, count);
    b->len += 6;
}

/* Bitwise equality, so that a NaN read back equals the NaN written. */
TP_INLINE bool tp_double_equal(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

/* ---------------------------------------------------------------- readers
 * Each returns 0 or a TP_ERR_* code and never reads past r->end. */

TP_INLINE uint16_t tp_get_u16_(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }

TP_INLINE uint32_t tp_get_u32_(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

TP_INLINE uint64_t tp_get_u64_(const uint8_t *p)
{
    return ((uint64_t)tp_get_u32_(p) << 32) | tp_get_u32_(p + 4);
}

TP_INLINE size_t tp_reader_remaining(const tp_reader *r) { return (size_t)(r->end - r->pos); }

TP_INLINE int tp_read_byte(tp_reader *r, int8_t *out)
{
    if (r->pos == r->end)
        return TP_ERR_TRUNCATED;
    *out = (int8_t)*r->pos++;
    return 0;
}

TP_INLINE int tp_read_bool(tp_reader *r, bool *out)
{
    if (r->pos == r->end)
        return TP_ERR_TRUNCATED;
    *out = *r->pos++ != 0;
    return 0;
}

TP_INLINE int tp_read_i16(tp_reader *r, int16_t *out)
{
    if (tp_reader_remaining(r) < 2)
        return TP_ERR_TRUNCATED;
    *out = (int16_t)tp_get_u16_(r->pos);
    r->pos += 2;
    return 0;
}

TP_INLINE int tp_read_i32(tp_reader *r, int32_t *out)
{
    if (tp_reader_remaining(r) < 4)
        return TP_ERR_TRUNCATED;
    *out = (int32_t)tp_get_u32_(r->pos);
    r->pos += 4;
    return 0;
}

TP_INLINE int tp_read_i64(tp_reader *r, int64_t *out)
{
    if (tp_reader_remaining(r) < 8)
        return TP_ERR_TRUNCATED;
    *out = (int64_t)tp_get_u64_(r->pos);
    r->pos += 8;
    return 0;
}

TP_INLINE int tp_read_double(tp_reader *r, double *out)
{
    if (tp_reader_remaining(r) < 8)
        return TP_ERR_TRUNCATED;
    uint64_t bits = tp_get_u64_(r->pos);
    memcpy(out, &bits, sizeof bits);
    r->pos += 8;
    return 0;
}

/* Reads an enum's i32 into any enum lvalue's storage. */
TP_INLINE int tp_read_enum(tp_reader *r, void *out, size_t size)
{
    int32_t v;
    int rc = tp_read_i32(r, &v);
    if (rc != 0)
        return rc;
    assert(size == sizeof v);
    memcpy(out, &v, sizeof v);
    return 0;
}

/* Reads a field header; *type is TP_T_STOP (and *id 0) at the end of a struct. */
TP_INLINE int tp_read_field_begin(tp_reader *r, uint8_t *type, int16_t *id)
{
    if (r->pos == r->end)
        return TP_ERR_TRUNCATED;
    *type = *r->pos;
    if (*type == TP_T_STOP) {
        r->pos++;
        *id = 0;
        return 0;
    }
    if (tp_reader_remaining(r) < 3)
        return TP_ERR_TRUNCATED;
    *id = (int16_t)tp_get_u16_(r->pos + 1);
    r->pos += 3;
    return 0;
}

/* Enters a struct or container: fails past limits->depth_max. Pair with tp_reader_leave. */
TP_INLINE int tp_reader_enter(tp_reader *r)
{
    if (r->depth >= r->limits->depth_max)
        return TP_ERR_DEPTH_LIMIT;
    r->depth++;
    return 0;
}

TP_INLINE void tp_reader_leave(tp_reader *r)
{
    assert(r->depth > 0);
    r->depth--;
}

/* n > 0 elements of size bytes for a generated container: from the reader's arena (not
 * zeroed: the generated code writes each element before counting it), else calloc. */
TP_INLINE void *tp_reader_array(tp_reader *r, uint32_t n, size_t size)
{
    assert(n > 0);
    return r->arena != NULL ? tp_arena_array(r->arena, n, size) : calloc(n, size);
}

/* Out of line (reader.c): they allocate or check several limits. */
int tp_read_bytes(tp_reader *r, tp_bytes *out);
/* Reads a list or set header expecting elem_type; checks the count against the limit and
 * against the bytes left (each element needs at least its minimum encoded size). */
int tp_read_list_begin(tp_reader *r, uint8_t elem_type, uint32_t *count);
int tp_read_map_begin(tp_reader *r, uint8_t key_type, uint8_t value_type, uint32_t *count);
/* Minimum encoded size of one value of a wire type; 0 for an invalid type. */
uint32_t tp_type_size_min(uint8_t type);

#endif
