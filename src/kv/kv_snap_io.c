/* kv_snap_io.c: buffered, CRC-tracking writer and bounds-checked reader for snapshots. */
#include "kv_snap_io.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "crc32c.h"
#include "kv_err.h"

static void out_flush(struct kv_snap_out *o)
{
    if (o->err == 0 && o->used > 0)
        o->err = o->flush(o->ctx, o->buf, o->used);
    o->used = 0;
}

void kv_snap_out_bytes(struct kv_snap_out *o, const void *data, size_t len)
{
    const uint8_t *p = data;
    o->crc = crc32c_extend(o->crc, p, len);
    o->offset += len;
    while (len > 0) {
        if (o->used == sizeof o->buf)
            out_flush(o);
        size_t n = sizeof o->buf - o->used;
        if (n > len)
            n = len;
        memcpy(o->buf + o->used, p, n);
        o->used += n;
        p += n;
        len -= n;
    }
}

void kv_snap_out_u32(struct kv_snap_out *o, uint32_t v)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    kv_snap_out_bytes(o, b, sizeof b);
}

void kv_snap_out_u64(struct kv_snap_out *o, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    kv_snap_out_bytes(o, b, sizeof b);
}

int kv_snap_out_finish(struct kv_snap_out *o)
{
    out_flush(o);
    return o->err;
}

int kv_snap_in_fail(struct kv_snap_in *in, int code, const char *what)
{
    if (in->err != NULL && in->err_len > 0)
        snprintf(in->err, in->err_len, "snapshot %s: %s at offset %llu", in->name, what,
                 (unsigned long long)in->offset);
    return code;
}

int kv_snap_in_bytes(struct kv_snap_in *in, void *data, size_t len)
{
    assert(in->offset <= in->size);
    if (len > kv_snap_in_left(in))
        return kv_snap_in_fail(in, KV_ERR_CORRUPT, "truncated");
    if (len == 0)
        return 0;
    if (in->read(in->ctx, data, len) != 0)
        return kv_snap_in_fail(in, KV_ERR_IO, "read failed");
    in->crc = crc32c_extend(in->crc, data, len);
    in->offset += len;
    return 0;
}

int kv_snap_in_u32(struct kv_snap_in *in, uint32_t *v)
{
    uint8_t b[4];
    int err = kv_snap_in_bytes(in, b, sizeof b);
    if (err != 0)
        return err;
    *v = 0;
    for (int i = 0; i < 4; i++)
        *v |= (uint32_t)b[i] << (8 * i);
    return 0;
}

int kv_snap_in_u64(struct kv_snap_in *in, uint64_t *v)
{
    uint8_t b[8];
    int err = kv_snap_in_bytes(in, b, sizeof b);
    if (err != 0)
        return err;
    *v = 0;
    for (int i = 0; i < 8; i++)
        *v |= (uint64_t)b[i] << (8 * i);
    return 0;
}
