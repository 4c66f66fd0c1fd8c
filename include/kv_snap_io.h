/* kv_snap_io.h: byte streams under the snapshot codec: buffered, checksummed, little-endian. */
#ifndef KV_SNAP_IO_H
#define KV_SNAP_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KV_SNAP_IO_BUF_BYTES (64u * 1024u)

/* Output: bytes collect in buf and go to flush() when it fills. The first error sticks. */
struct kv_snap_out {
    int (*flush)(void *ctx, const uint8_t *data, size_t len);
    void *ctx;
    uint32_t crc;
    uint64_t offset;
    int err;
    size_t used;
    uint8_t buf[KV_SNAP_IO_BUF_BYTES];
};

void kv_snap_out_bytes(struct kv_snap_out *o, const void *data, size_t len);
void kv_snap_out_u32(struct kv_snap_out *o, uint32_t v);
void kv_snap_out_u64(struct kv_snap_out *o, uint64_t v);
/* Flushes what is buffered; returns the sticky error (0 if none). */
int kv_snap_out_finish(struct kv_snap_out *o);

/* Input: exact reads from a source of known size; a read past the end is corruption. */
struct kv_snap_in {
    int (*read)(void *ctx, uint8_t *data, size_t len); /* all len bytes, or KV_ERR_IO */
    void *ctx;
    uint32_t crc;
    uint64_t offset;
    uint64_t size;
    const char *name;
    char *err;
    size_t err_len;
};

static inline uint64_t kv_snap_in_left(const struct kv_snap_in *in) { return in->size - in->offset; }
/* Reads len bytes; KV_ERR_CORRUPT (with a message) when fewer remain. */
int kv_snap_in_bytes(struct kv_snap_in *in, void *data, size_t len);
int kv_snap_in_u32(struct kv_snap_in *in, uint32_t *v);
int kv_snap_in_u64(struct kv_snap_in *in, uint64_t *v);
/* Formats "snapshot NAME: WHAT at offset N" into in->err and returns code. */
int kv_snap_in_fail(struct kv_snap_in *in, int code, const char *what);

#endif
