/* kv_snap_write.c: encodes the store as a snapshot, to a file (atomically) or to memory. */
#include <stdlib.h>
#include <string.h>

#include "kv_member_snap.h"
#include "kv_snap_codec.h"
#include "kv_session_impl.h"
#include "kv_snapshot.h"
#include "kv_store_impl.h"

const char kv_snapshot_magic[8] = {'K', 'V', 'S', 'N', 'A', 'P', '\r', '\n'};
const char kv_snapshot_end_magic[8] = {'K', 'V', 'S', 'N', 'A', 'P', 'N', 'D'};

/* Versions a read or a conflict check can still see: all above the floor, and the newest at
 * or below it unless that is a tombstone. */
static uint32_t observable_versions(const struct kv_node *n, uint64_t floor)
{
    uint32_t count = 0;
    for (const struct kv_ver *v = n->newest; v != NULL; v = v->older) {
        if (v->version <= floor) {
            count += !kv_ver_is_tombstone(v);
            break;
        }
        count++;
    }
    return count;
}

static void encode_header(const kv_store *s, struct kv_snap_out *o)
{
    uint64_t keys = 0, versions = 0;
    for (struct kv_cursor c = kv_index_first(s->index); c.node != NULL; kv_index_next(&c)) {
        const struct kv_node *n = c.node;
        uint32_t observable = observable_versions(n, s->floor_version);
        keys += observable > 0;
        versions += observable;
    }
    kv_snap_out_bytes(o, kv_snapshot_magic, sizeof kv_snapshot_magic);
    kv_snap_out_u32(o, KV_SNAPSHOT_FORMAT);
    kv_snap_out_u64(o, s->applied_version);
    kv_snap_out_u64(o, (uint64_t)s->applied_ts_us);
    kv_snap_out_u64(o, s->floor_version);
    kv_snap_out_u64(o, s->cfg.window_versions);
    kv_snap_out_u64(o, (uint64_t)s->cfg.window_us);
    kv_snap_out_u64(o, keys);
    kv_snap_out_u64(o, versions);
    kv_snap_out_u64(o, s->clock.len);
    kv_snap_out_u64(o, s->digest.lane[0]);
    kv_snap_out_u64(o, s->digest.lane[1]);
    kv_snap_out_u64(o, s->log_term);
    kv_snap_out_u32(o, o->crc);
}

static void encode_key(const struct kv_node *n, uint32_t count, struct kv_snap_out *o)
{
    kv_snap_out_u32(o, n->klen);
    kv_snap_out_u32(o, count);
    kv_snap_out_bytes(o, kv_node_key(n), n->klen);
    const struct kv_ver *v = n->newest;
    for (uint32_t i = 0; i < count; i++, v = v->older) {
        kv_snap_out_u64(o, v->version);
        kv_snap_out_u32(o, v->meta);
        kv_snap_out_bytes(o, v->value, kv_ver_len(v));
    }
}

int kv_snapshot_encode(const kv_store *s, struct kv_snap_out *o)
{
    o->crc = 0;
    o->offset = 0;
    o->err = 0;
    o->used = 0;
    encode_header(s, o);
    for (size_t i = 0; i < s->clock.len; i++) {
        kv_snap_out_u64(o, kv_ring_at(&s->clock, i)->version);
        kv_snap_out_u64(o, (uint64_t)kv_ring_at(&s->clock, i)->ts_us);
    }
    for (struct kv_cursor c = kv_index_first(s->index); c.node != NULL; kv_index_next(&c)) {
        const struct kv_node *n = c.node;
        uint32_t count = observable_versions(n, s->floor_version);
        if (count > 0)
            encode_key(n, count, o);
    }
    const struct kv_sessions *t = s->sessions;
    if (kv_sessions_count(t) > 0) {
        kv_snap_out_u32(o, KV_SESSIONS_SECTION_TAG);
        kv_snap_out_u32(o, KV_SESSIONS_SECTION_FORMAT);
        kv_snap_out_u64(o, kv_sessions_encoded_bytes(t));
        kv_sessions_encode(t, o);
    }
    kv_member_section_encode(s, o); /* the last section: a received file gives it from its tail */
    kv_snap_out_u32(o, o->crc);
    kv_snap_out_bytes(o, kv_snapshot_end_magic, sizeof kv_snapshot_end_magic);
    return kv_snap_out_finish(o);
}

struct mem_sink {
    uint8_t *data;
    size_t len, cap;
};

static int mem_flush(void *ctx, const uint8_t *data, size_t len)
{
    struct mem_sink *m = ctx;
    if (m->cap - m->len < len) {
        size_t cap = m->cap ? m->cap : KV_SNAP_IO_BUF_BYTES;
        while (cap - m->len < len)
            cap *= 2;
        uint8_t *p = realloc(m->data, cap);
        if (p == NULL)
            return KV_ERR_NOMEM;
        m->data = p;
        m->cap = cap;
    }
    memcpy(m->data + m->len, data, len);
    m->len += len;
    return 0;
}

int kv_snapshot_save_mem(const kv_store *s, uint8_t **data, size_t *len)
{
    struct mem_sink m = {NULL, 0, 0};
    struct kv_snap_out *o = malloc(sizeof *o);
    if (o == NULL)
        return KV_ERR_NOMEM;
    o->flush = mem_flush;
    o->ctx = &m;
    int err = kv_snapshot_encode(s, o);
    free(o);
    if (err != 0) {
        free(m.data);
        return err;
    }
    *data = m.data;
    *len = m.len;
    return 0;
}
