/* buffer.c: growable output buffer, owned byte strings, error names and frame headers. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "thrift.h"

/* The smallest allocation a buffer makes, so that small messages grow at most once. */
#define TP_BUF_CAP_MIN 256u

const char *tp_strerror(int code)
{
    switch (code) {
    case 0:
        return "ok";
#define TP_ERR_CASE_(name, value, text) \
    case value:                         \
        return text;
        TP_ERRORS(TP_ERR_CASE_)
#undef TP_ERR_CASE_
    default:
        return "unknown thrift error";
    }
}

int tp_bytes_set(tp_bytes *b, const void *data, size_t len)
{
    assert(len == 0 || data != NULL);
    if (len > INT32_MAX)
        return TP_ERR_SIZE_LIMIT;
    uint8_t *copy = malloc(len + 1);
    if (copy == NULL)
        return TP_ERR_NOMEM;
    if (len > 0)
        memcpy(copy, data, len);
    copy[len] = 0;
    free(b->data);
    b->data = copy;
    b->len = (uint32_t)len;
    return 0;
}

int tp_bytes_set_arena(tp_bytes *b, tp_arena *a, const void *data, size_t len)
{
    assert(len == 0 || data != NULL);
    if (len > INT32_MAX)
        return TP_ERR_SIZE_LIMIT;
    if (len == 0) {
        b->data = NULL;
        b->len = 0;
        return 0;
    }
    uint8_t *copy = tp_arena_alloc(a, len + 1, 1);
    if (copy == NULL)
        return TP_ERR_NOMEM;
    memcpy(copy, data, len);
    copy[len] = 0;
    b->data = copy;
    b->len = (uint32_t)len;
    return 0;
}

int tp_bytes_set_str(tp_bytes *b, const char *text)
{
    assert(text != NULL);
    return tp_bytes_set(b, text, strlen(text));
}

void tp_bytes_free(tp_bytes *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
}

bool tp_bytes_equal(const tp_bytes *a, const tp_bytes *b)
{
    if (a->len != b->len)
        return false;
    return a->len == 0 || memcmp(a->data, b->data, a->len) == 0;
}

void tp_buf_init(tp_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->failed = false;
}

void tp_buf_reset(tp_buf *b)
{
    b->len = 0;
    b->failed = false;
}

void tp_buf_free(tp_buf *b)
{
    free(b->data);
    tp_buf_init(b);
}

bool tp_buf_grow(tp_buf *b, size_t need)
{
    assert(b->len <= b->cap);
    if (b->failed)
        return false;
    if (b->cap - b->len >= need)
        return true;
    if (need > SIZE_MAX / 2 - b->len) {
        b->failed = true;
        return false;
    }
    size_t cap = b->cap < TP_BUF_CAP_MIN ? TP_BUF_CAP_MIN : b->cap;
    while (cap - b->len < need)
        cap *= 2;
    uint8_t *data = realloc(b->data, cap);
    if (data == NULL) {
        b->failed = true;
        return false;
    }
    b->data = data;
    b->cap = cap;
    return true;
}

void tp_frame_put_len(uint8_t out[4], uint32_t len) { tp_put_u32_(out, len); }

uint32_t tp_frame_get_len(const uint8_t in[4]) { return tp_get_u32_(in); }

size_t tp_frame_begin(tp_buf *b)
{
    size_t offset = b->len;
    tp_write_i32(b, 0);
    return offset;
}

void tp_frame_end(tp_buf *b, size_t header_offset)
{
    if (b->failed)
        return;
    assert(header_offset + TP_FRAME_HEADER_SIZE <= b->len);
    size_t body = b->len - header_offset - TP_FRAME_HEADER_SIZE;
    assert(body <= UINT32_MAX);
    tp_frame_put_len(b->data + header_offset, (uint32_t)body);
}
