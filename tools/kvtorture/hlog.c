/* hlog.c: the binary op records of a streamed history: little-endian, fixed size. */
#include "hlog.h"

#include <string.h>

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

/* process u32, key u32, node i32, type u8, outcome u8, 2 zero bytes, then value, expected,
   invoke_ns, complete_ns, version as i64. */
static void encode(uint8_t *b, const struct kvt_op *op)
{
    memset(b, 0, KVT_HLOG_RECORD_BYTES);
    put_u32(b, op->process);
    put_u32(b + 4, op->key);
    put_u32(b + 8, (uint32_t)op->node);
    b[12] = (uint8_t)op->type;
    b[13] = (uint8_t)op->outcome;
    put_u64(b + 16, (uint64_t)op->value);
    put_u64(b + 24, (uint64_t)op->expected);
    put_u64(b + 32, (uint64_t)op->invoke_ns);
    put_u64(b + 40, (uint64_t)op->complete_ns);
    put_u64(b + 48, (uint64_t)op->version);
}

static bool decode(const uint8_t *b, struct kvt_op *op)
{
    if (b[12] >= KVT_OP_TYPES || b[13] >= KVT_OUTCOMES || b[14] || b[15])
        return false;
    *op = (struct kvt_op){.process = get_u32(b), .key = get_u32(b + 4),
                          .node = (int32_t)get_u32(b + 8),
                          .type = (enum kvt_op_type)b[12], .outcome = (enum kvt_outcome)b[13],
                          .value = (int64_t)get_u64(b + 16),
                          .expected = (int64_t)get_u64(b + 24),
                          .invoke_ns = (int64_t)get_u64(b + 32),
                          .complete_ns = (int64_t)get_u64(b + 40),
                          .version = (int64_t)get_u64(b + 48)};
    return true;
}

int kvt_hlog_create(struct kvt_hlog *l, const char *path)
{
    memset(l, 0, sizeof *l);
    l->f = fopen(path, "wb");
    return l->f ? 0 : -1;
}

int kvt_hlog_put(FILE *f, const struct kvt_op *op)
{
    uint8_t b[KVT_HLOG_RECORD_BYTES];
    encode(b, op);
    return fwrite(b, sizeof b, 1, f) == 1 ? 0 : -1;
}

void kvt_hlog_add(struct kvt_hlog *l, const struct kvt_op *op)
{
    if (kvt_hlog_put(l->f, op) != 0)
        l->failed = true;
    l->count++;
}

int kvt_hlog_close(struct kvt_hlog *l)
{
    if (!l->f)
        return -1;
    int rc = fclose(l->f);
    l->f = NULL;
    return l->failed || rc != 0 ? -1 : 0;
}

int kvt_hlog_next(FILE *f, struct kvt_op *op)
{
    uint8_t b[KVT_HLOG_RECORD_BYTES];
    size_t n = fread(b, 1, sizeof b, f);
    if (n == 0 && feof(f))
        return 0;
    return n == sizeof b && decode(b, op) ? 1 : -1;
}
