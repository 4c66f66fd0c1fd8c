/* kv_snap_write.c: encodes the store as a snapshot, in bounded steps at a pinned version, to a
 * file (kv_snap_file.c) or to memory. */
#include <stdlib.h>
#include <string.h>

#include "kv_member_snap.h"
#include "kv_snap_codec.h"
#include "kv_session_impl.h"
#include "kv_snapshot.h"
#include "kv_store_impl.h"

const char kv_snapshot_magic[8] = {'K', 'V', 'S', 'N', 'A', 'P', '\r', '\n'};
const char kv_snapshot_end_magic[8] = {'K', 'V', 'S', 'N', 'A', 'P', 'N', 'D'};

enum { ENC_COUNT, ENC_KEYS, ENC_DONE };

/* The versions of n a read or conflict check at version `at` can see with the floor at
 * `floor`: all in (floor, at], and the newest at or below floor unless it is a tombstone.
 * *first gets the newest of them. Versions above `at` are writes after the pin. */
static uint32_t pinned_versions(const struct kv_node *n, uint64_t at, uint64_t floor,
                                const struct kv_ver **first)
{
    const struct kv_ver *v = kv_node_at(n, at);
    uint32_t count = 0;
    *first = v;
    for (; v != NULL; v = v->older) {
        if (v->version <= floor) {
            count += !kv_ver_is_tombstone(v);
            break;
        }
        count++;
    }
    return count;
}

/* The sections after the keys, as they are at the pin: the client session table, then the
 * cluster's membership (which a config entry applied after the pin may change). */
static int encode_sections(const kv_store *s, struct kv_snap_out *o)
{
    const struct kv_sessions *t = s->sessions;
    if (kv_sessions_count(t) > 0) {
        kv_snap_out_u32(o, KV_SESSIONS_SECTION_TAG);
        kv_snap_out_u32(o, KV_SESSIONS_SECTION_FORMAT);
        kv_snap_out_u64(o, kv_sessions_encoded_bytes(t));
        kv_sessions_encode(t, o);
    }
    kv_member_section_encode(s, o); /* the last section: a received file gives it from its tail */
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

int kv_snap_enc_begin(struct kv_snap_enc *e, const kv_store *s)
{
    memset(e, 0, sizeof *e);
    e->s = s;
    e->at = s->applied_version;
    e->floor = s->floor_version;
    e->ts_us = s->applied_ts_us;
    e->log_term = s->log_term;
    e->digest = s->digest;
    e->clock_len = s->clock.len;
    e->clock = calloc(e->clock_len ? e->clock_len : 1, sizeof *e->clock);
    e->next = malloc((size_t)s->cfg.key_max + 1);
    struct kv_snap_out *o = malloc(sizeof *o);
    struct mem_sink m = {NULL, 0, 0};
    int err = e->clock && e->next && o ? 0 : KV_ERR_NOMEM;
    if (err == 0) {
        for (size_t i = 0; i < e->clock_len; i++)
            e->clock[i] = *kv_ring_at(&s->clock, i);
        *o = (struct kv_snap_out){.flush = mem_flush, .ctx = &m};
        err = encode_sections(s, o);
    }
    free(o);
    e->tail = m.data;
    e->tail_len = m.len;
    if (err != 0)
        kv_snap_enc_free(e);
    return err;
}

void kv_snap_enc_free(struct kv_snap_enc *e)
{
    free(e->clock);
    free(e->next);
    free(e->tail);
    e->clock = NULL;
    e->next = NULL;
    e->tail = NULL;
}

static void encode_header(const struct kv_snap_enc *e, struct kv_snap_out *o)
{
    const struct kv_config *cfg = &e->s->cfg;
    kv_snap_out_bytes(o, kv_snapshot_magic, sizeof kv_snapshot_magic);
    kv_snap_out_u32(o, KV_SNAPSHOT_FORMAT);
    kv_snap_out_u64(o, e->at);
    kv_snap_out_u64(o, (uint64_t)e->ts_us);
    kv_snap_out_u64(o, e->floor);
    kv_snap_out_u64(o, cfg->window_versions);
    kv_snap_out_u64(o, (uint64_t)cfg->window_us);
    kv_snap_out_u64(o, e->keys);
    kv_snap_out_u64(o, e->versions);
    kv_snap_out_u64(o, e->clock_len);
    kv_snap_out_u64(o, e->digest.lane[0]);
    kv_snap_out_u64(o, e->digest.lane[1]);
    kv_snap_out_u64(o, e->log_term);
    kv_snap_out_u32(o, o->crc);
    for (size_t i = 0; i < e->clock_len; i++) {
        kv_snap_out_u64(o, e->clock[i].version);
        kv_snap_out_u64(o, (uint64_t)e->clock[i].ts_us);
    }
}

static void encode_key(const struct kv_node *n, const struct kv_ver *v, uint32_t count,
                       struct kv_snap_out *o)
{
    kv_snap_out_u32(o, n->klen);
    kv_snap_out_u32(o, count);
    kv_snap_out_bytes(o, kv_node_key(n), n->klen);
    for (uint32_t i = 0; i < count; i++, v = v->older) {
        kv_snap_out_u64(o, v->version);
        kv_snap_out_u32(o, v->meta);
        kv_snap_out_bytes(o, v->value, kv_ver_len(v));
    }
}

/* One pass over the keys from e->next (the first key not yet visited), counting (ENC_COUNT) or
 * encoding (ENC_KEYS) until the budget is spent. Keys inserted after the pin have no version at
 * it and count for nothing; none is removed while the pin holds reclaim. True when the pass
 * reached the end. */
static bool walk(struct kv_snap_enc *e, struct kv_snap_out *o, size_t *keys, size_t *bytes)
{
    const struct kv_index *x = e->s->index;
    struct kv_cursor c = e->resume ? kv_index_ge(x, e->next, e->next_len) : kv_index_first(x);
    uint64_t start = o->offset;
    for (; c.node != NULL; kv_index_next(&c)) {
        const struct kv_node *n = c.node;
        if (*keys == 0 || (size_t)(o->offset - start) >= *bytes) {
            memcpy(e->next, kv_node_key(n), n->klen);
            e->next_len = n->klen;
            e->resume = true;
            *bytes = 0;
            return false;
        }
        (*keys)--;
        const struct kv_ver *v;
        uint32_t count = pinned_versions(n, e->at, e->floor, &v);
        if (count == 0)
            continue;
        if (e->phase == ENC_COUNT) {
            e->keys++;
            e->versions += count;
        } else {
            encode_key(n, v, count, o);
        }
    }
    uint64_t used = o->offset - start;
    *bytes = used >= *bytes ? 0 : *bytes - (size_t)used;
    e->resume = false;
    return true;
}

int kv_snap_enc_step(struct kv_snap_enc *e, struct kv_snap_out *o, size_t keys, size_t bytes)
{
    if (e->phase == ENC_COUNT && walk(e, o, &keys, &bytes)) {
        o->crc = 0;
        o->offset = 0;
        encode_header(e, o);
        e->phase = ENC_KEYS;
    }
    if (e->phase == ENC_KEYS && walk(e, o, &keys, &bytes)) {
        kv_snap_out_bytes(o, e->tail, e->tail_len);
        kv_snap_out_u32(o, o->crc);
        kv_snap_out_bytes(o, kv_snapshot_end_magic, sizeof kv_snapshot_end_magic);
        e->phase = ENC_DONE;
        return kv_snap_out_finish(o);
    }
    return o->err != 0 ? o->err : 1;
}

int kv_snapshot_encode(const kv_store *s, struct kv_snap_out *o)
{
    struct kv_snap_enc e;
    o->crc = 0;
    o->offset = 0;
    o->err = 0;
    o->used = 0;
    int rc = kv_snap_enc_begin(&e, s);
    if (rc != 0)
        return rc;
    do
        rc = kv_snap_enc_step(&e, o, SIZE_MAX, SIZE_MAX);
    while (rc == 1);
    kv_snap_enc_free(&e);
    return rc;
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
