/* kv_member_snap.c: the cluster's membership, opaque bytes the store keeps for the server, as a
 * snapshot section of its own: the last one, so a received file gives it from its tail. */
#include <stdlib.h>
#include <string.h>

#include "kv_err.h"
#include "kv_member_snap.h"
#include "kv_snapshot.h"
#include "kv_store_impl.h"

/* Section (little-endian): u32 tag, u32 format, u64 len = bytes + 4; body: the bytes, then u32
 * bytes again, so the section can be found from the end of the file (the trailer follows:
 * u32 crc, 8 bytes of end magic). */
#define SECTION_HEADER_BYTES 16u
#define TRAILER_BYTES 12u

int kv_store_set_membership(kv_store *s, const uint8_t *data, uint32_t len)
{
    if (len > KV_MEMBERSHIP_BYTES_MAX)
        return KV_ERR_INVALID_ARGUMENT;
    uint8_t *copy = NULL;
    if (len > 0) {
        copy = malloc(len);
        if (copy == NULL)
            return KV_ERR_NOMEM;
        memcpy(copy, data, len);
    }
    free(s->membership);
    s->membership = copy;
    s->membership_len = len;
    return 0;
}

const uint8_t *kv_store_membership(const kv_store *s, uint32_t *len)
{
    *len = s->membership_len;
    return s->membership;
}

void kv_member_section_encode(const kv_store *s, struct kv_snap_out *o)
{
    if (s->membership_len == 0)
        return;
    kv_snap_out_u32(o, KV_MEMBERSHIP_SECTION_TAG);
    kv_snap_out_u32(o, KV_MEMBERSHIP_SECTION_FORMAT);
    kv_snap_out_u64(o, (uint64_t)s->membership_len + 4);
    kv_snap_out_bytes(o, s->membership, s->membership_len);
    kv_snap_out_u32(o, s->membership_len);
}

int kv_member_section_decode(kv_store *s, struct kv_snap_in *in, uint64_t len)
{
    if (s->membership_len != 0)
        return kv_snap_in_fail(in, KV_ERR_CORRUPT, "a second membership section");
    if (len < 5 || len - 4 > KV_MEMBERSHIP_BYTES_MAX)
        return kv_snap_in_fail(in, KV_ERR_CORRUPT, "membership section of a bad length");
    uint32_t bytes = (uint32_t)(len - 4), again;
    uint8_t *data = malloc(bytes);
    if (data == NULL)
        return kv_snap_in_fail(in, KV_ERR_NOMEM, "no memory for the membership");
    int err = kv_snap_in_bytes(in, data, bytes);
    if (err == 0)
        err = kv_snap_in_u32(in, &again);
    if (err == 0 && again != bytes)
        err = kv_snap_in_fail(in, KV_ERR_CORRUPT, "membership section's lengths differ");
    if (err != 0) {
        free(data);
        return err;
    }
    s->membership = data;
    s->membership_len = bytes;
    return 0;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

int kv_snapshot_tail_membership(const uint8_t *tail, size_t tail_len, const uint8_t **data,
                                uint32_t *len)
{
    if (tail_len < TRAILER_BYTES + SECTION_HEADER_BYTES + 5)
        return KV_ERR_NOT_FOUND;
    const uint8_t *end = tail + tail_len - TRAILER_BYTES; /* the body's end */
    uint32_t bytes = le32(end - 4);
    if (bytes == 0 || bytes > KV_MEMBERSHIP_BYTES_MAX ||
        (size_t)(end - tail) < SECTION_HEADER_BYTES + 4 + (size_t)bytes)
        return KV_ERR_NOT_FOUND;
    const uint8_t *body = end - 4 - bytes, *h = body - SECTION_HEADER_BYTES;
    if (le32(h) != KV_MEMBERSHIP_SECTION_TAG || le32(h + 4) != KV_MEMBERSHIP_SECTION_FORMAT ||
        le64(h + 8) != (uint64_t)bytes + 4)
        return KV_ERR_NOT_FOUND;
    *data = body;
    *len = bytes;
    return 0;
}
