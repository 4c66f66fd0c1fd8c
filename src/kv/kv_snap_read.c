/* kv_snap_read.c: decodes a snapshot into a new store, trusting no byte of it. */
#include <stdlib.h>
#include <string.h>

#include "kv_snap_codec.h"
#include "kv_member_snap.h"
#include "kv_session_impl.h"
#include "kv_snapshot.h"
#include "kv_store_impl.h"

#define CLOCK_ENTRY_BYTES 16u
#define KEY_HEADER_BYTES 8u
#define VERSION_HEADER_BYTES 12u
#define SECTION_HEADER_BYTES 16u

struct snap_header {
    uint64_t applied, applied_ts, floor, window_versions, window_us;
    uint64_t keys, versions, clock;
    struct kv_digest digest;
    uint64_t log_term; /* format 2; 0 in format 1 */
};

struct decoder {
    struct kv_snap_in *in;
    kv_store *s;
    struct snap_header h;
    uint8_t *key;             /* scratch for one key, cfg.key_max bytes */
    struct kv_node *last;     /* the previous key: keys must strictly increase */
    uint64_t versions_read;
    uint64_t reclaimable;
};

static int fail(struct decoder *d, const char *what)
{
    return kv_snap_in_fail(d->in, KV_ERR_CORRUPT, what);
}

/* Bytes left for records: everything but the trailer (0 once a read ran into it). */
static uint64_t body_left(const struct decoder *d)
{
    uint64_t left = kv_snap_in_left(d->in);
    return left > KV_SNAPSHOT_TRAILER_BYTES ? left - KV_SNAPSHOT_TRAILER_BYTES : 0;
}

static int read_header(struct decoder *d)
{
    struct snap_header *h = &d->h;
    if (d->in->size < KV_SNAPSHOT_HEADER_V1_BYTES + KV_SNAPSHOT_TRAILER_BYTES)
        return fail(d, "shorter than a header and trailer");
    char magic[8];
    uint32_t format, crc;
    int err = kv_snap_in_bytes(d->in, magic, sizeof magic);
    if (err == 0 && memcmp(magic, kv_snapshot_magic, sizeof magic) != 0)
        return fail(d, "bad magic");
    if (err == 0)
        err = kv_snap_in_u32(d->in, &format);
    if (err == 0 && format != KV_SNAPSHOT_FORMAT && format != 1)
        return fail(d, "unsupported format version");
    uint64_t *fields[] = {&h->applied, &h->applied_ts, &h->floor, &h->window_versions,
                          &h->window_us, &h->keys, &h->versions, &h->clock,
                          &h->digest.lane[0], &h->digest.lane[1], &h->log_term};
    size_t count = sizeof fields / sizeof fields[0] - (format == 1); /* 1: no log_term */
    for (size_t i = 0; err == 0 && i < count; i++)
        err = kv_snap_in_u64(d->in, fields[i]);
    uint32_t want = d->in->crc;
    if (err == 0)
        err = kv_snap_in_u32(d->in, &crc);
    if (err != 0)
        return err;
    if (crc != want)
        return fail(d, "header checksum mismatch");
    return 0;
}

static int check_header(struct decoder *d)
{
    const struct snap_header *h = &d->h;
    const struct kv_config *cfg = kv_store_config(d->s);
    if (h->floor > h->applied || (int64_t)h->applied_ts < 0)
        return fail(d, "header floor or timestamp out of order");
    if (h->window_versions != cfg->window_versions || (int64_t)h->window_us != cfg->window_us)
        return kv_snap_in_fail(d->in, KV_ERR_CONFIG_MISMATCH, "MVCC window differs from ours");
    uint64_t left = body_left(d);
    if (h->clock > left / CLOCK_ENTRY_BYTES || h->keys > left / KEY_HEADER_BYTES ||
        h->versions > left / VERSION_HEADER_BYTES || h->keys > h->versions)
        return fail(d, "header counts exceed the file");
    if (cfg->window_us == 0 && h->clock != 0)
        return fail(d, "clock entries without a time window");
    return 0;
}

static int read_clock(struct decoder *d)
{
    kv_store *s = d->s;
    while (s->clock.len > 0) /* the new store's own start entry: the snapshot's clock replaces it */
        kv_ring_pop(&s->clock);
    if (kv_ring_reserve(&s->clock, d->h.clock) != 0)
        return kv_snap_in_fail(d->in, KV_ERR_NOMEM, "no memory for the clock");
    uint64_t prev_version = 0, prev_ts = 0;
    for (uint64_t i = 0; i < d->h.clock; i++) {
        uint64_t version, ts;
        int err = kv_snap_in_u64(d->in, &version);
        if (err == 0)
            err = kv_snap_in_u64(d->in, &ts);
        if (err != 0)
            return err;
        if (version < prev_version || version > d->h.applied || ts < prev_ts ||
            ts > d->h.applied_ts)
            return fail(d, "clock entry out of order");
        kv_ring_push(&s->clock, (struct kv_ring_entry){.version = version, .ts_us = (int64_t)ts});
        prev_version = version;
        prev_ts = ts;
    }
    const struct kv_ring_entry *last = s->clock.len ? kv_ring_at(&s->clock, s->clock.len - 1) : NULL;
    if (s->cfg.window_us > 0 && d->h.applied > 0 &&
        (last == NULL || last->version != d->h.applied || (uint64_t)last->ts_us != d->h.applied_ts))
        return fail(d, "clock does not end at the applied version");
    return 0;
}

/* One version record, appended below *tail (the chain is written newest first). */
static int read_version(struct decoder *d, struct kv_ver ***tail, uint64_t *prev, bool last)
{
    uint64_t version;
    uint32_t meta;
    int err = kv_snap_in_u64(d->in, &version);
    if (err == 0)
        err = kv_snap_in_u32(d->in, &meta);
    if (err != 0)
        return err;
    bool tombstone = meta & KV_VER_TOMBSTONE;
    uint32_t len = meta & KV_VER_LEN_MASK;
    if (version >= *prev || version > d->h.applied)
        return fail(d, "versions out of order");
    if (version <= d->h.floor && (!last || tombstone))
        return fail(d, "history below the floor");
    if (tombstone && len != 0)
        return fail(d, "tombstone with a value");
    if (len > d->s->cfg.value_max || len > body_left(d))
        return fail(d, "value length over the limit or the file");
    struct kv_ver *v = kv_ver_new(d->s, NULL, len, tombstone, version);
    if (v == NULL)
        return kv_snap_in_fail(d->in, KV_ERR_NOMEM, "no memory for a value");
    **tail = v;
    *tail = &v->older;
    *prev = version;
    d->versions_read++;
    return kv_snap_in_bytes(d->in, v->value, len);
}

static void account_key(struct decoder *d, struct kv_node *n)
{
    const struct kv_ver *v = n->newest;
    if (!kv_ver_is_tombstone(v)) {
        d->s->live_keys++;
        kv_digest_add(&d->s->digest, kv_node_key(n), n->klen, v->value, kv_ver_len(v),
                      v->version);
    }
    d->reclaimable += kv_node_reclaimable(n);
}

static int read_key(struct decoder *d)
{
    uint32_t klen, count;
    int err = kv_snap_in_u32(d->in, &klen);
    if (err == 0)
        err = kv_snap_in_u32(d->in, &count);
    if (err != 0)
        return err;
    if (klen > d->s->cfg.key_max || klen > body_left(d))
        return fail(d, "key length over the limit or the file");
    if (count == 0 || count > d->h.versions - d->versions_read)
        return fail(d, "version count out of range");
    err = kv_snap_in_bytes(d->in, d->key, klen);
    if (err != 0)
        return err;
    if (d->last != NULL && kv_key_cmp(kv_node_key(d->last), d->last->klen, d->key, klen) >= 0)
        return fail(d, "keys out of order");
    bool created;
    struct kv_node *n = kv_index_insert(d->s->index, d->key, klen, &created);
    if (n == NULL)
        return kv_snap_in_fail(d->in, KV_ERR_NOMEM, "no memory for a key");
    d->last = n;
    struct kv_ver **tail = &n->newest;
    uint64_t prev = UINT64_MAX;
    for (uint32_t i = 0; err == 0 && i < count; i++)
        err = read_version(d, &tail, &prev, i + 1 == count);
    if (err == 0)
        account_key(d, n);
    return err;
}

/* An optional section after the keys: its tag says what it holds, its format which layout. */
static int read_section(struct decoder *d)
{
    uint32_t tag, format;
    uint64_t len;
    if (body_left(d) < SECTION_HEADER_BYTES)
        return fail(d, "bytes after the keys that are not a section");
    int err = kv_snap_in_u32(d->in, &tag);
    if (err == 0)
        err = kv_snap_in_u32(d->in, &format);
    if (err == 0)
        err = kv_snap_in_u64(d->in, &len);
    if (err != 0)
        return err;
    if (len > body_left(d))
        return fail(d, "section longer than the file");
    if (tag == KV_MEMBERSHIP_SECTION_TAG && format == KV_MEMBERSHIP_SECTION_FORMAT)
        return kv_member_section_decode(d->s, d->in, len);
    if (tag != KV_SESSIONS_SECTION_TAG || format != KV_SESSIONS_SECTION_FORMAT)
        return fail(d, "unknown section (written by a newer kvstore?)");
    return kv_sessions_decode(d->s->sessions, d->in, len);
}

static int read_trailer(struct decoder *d)
{
    uint32_t want = d->in->crc, crc;
    char magic[8];
    int err = kv_snap_in_u32(d->in, &crc);
    if (err != 0)
        return err;
    if (crc != want)
        return fail(d, "checksum mismatch");
    err = kv_snap_in_bytes(d->in, magic, sizeof magic);
    if (err != 0)
        return err;
    if (memcmp(magic, kv_snapshot_end_magic, sizeof magic) != 0)
        return fail(d, "bad end marker");
    if (kv_snap_in_left(d->in) != 0)
        return fail(d, "bytes after the end marker");
    if (memcmp(&d->s->digest, &d->h.digest, sizeof d->h.digest) != 0)
        return fail(d, "state digest differs from the header's");
    return 0;
}

/* Applied state and the reclaim queue: each key with history waits for the window to pass
 * the applied version, as it would after a write at it. */
static int finish(struct decoder *d)
{
    kv_store *s = d->s;
    s->applied_version = d->h.applied;
    s->log_term = d->h.log_term;
    s->write_version = d->h.applied;
    s->applied_ts_us = (int64_t)d->h.applied_ts;
    s->floor_version = d->h.floor;
    if (kv_ring_reserve(&s->reclaim, d->reclaimable) != 0)
        return kv_snap_in_fail(d->in, KV_ERR_NOMEM, "no memory for the reclaim queue");
    for (struct kv_cursor c = kv_index_first(s->index); c.node != NULL; kv_index_next(&c)) {
        struct kv_node *n = c.node;
        if (!kv_node_reclaimable(n))
            continue;
        kv_ring_push(&s->reclaim, (struct kv_ring_entry){.version = s->applied_version, .node = n});
        n->queued = 1;
    }
    return 0;
}

static int decode(struct decoder *d)
{
    int err = read_header(d);
    if (err == 0)
        err = check_header(d);
    if (err == 0)
        err = read_clock(d);
    for (uint64_t i = 0; err == 0 && i < d->h.keys; i++)
        err = read_key(d);
    if (err == 0 && d->versions_read != d->h.versions)
        err = fail(d, "fewer versions than the header says");
    while (err == 0 && body_left(d) > 0)
        err = read_section(d);
    if (err == 0)
        err = read_trailer(d);
    if (err == 0)
        err = finish(d);
    return err;
}

int kv_snapshot_decode(struct kv_snap_in *in, const struct kv_config *cfg, kv_store **out)
{
    struct decoder d = {.in = in};
    d.s = kv_store_new(cfg);
    if (d.s == NULL)
        return kv_snap_in_fail(in, cfg && !kv_config_valid(cfg) ? KV_ERR_INVALID_ARGUMENT
                                                                 : KV_ERR_NOMEM, "cannot make a store");
    d.key = malloc((size_t)d.s->cfg.key_max + 1);
    int err = d.key == NULL ? kv_snap_in_fail(in, KV_ERR_NOMEM, "no memory") : decode(&d);
    free(d.key);
    if (err != 0) {
        kv_store_free(d.s);
        return err;
    }
    *out = d.s;
    return 0;
}
