/* kv_store.c: store lifecycle, version records and the write path (set, delete, clear range). */
#include "kv_store_impl.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "kv_mem.h"
#include "kv_slab.h"

kv_store *kv_store_new(const struct kv_config *cfg)
{
    struct kv_config defaults;
    if (cfg == NULL) {
        kv_config_default(&defaults);
        cfg = &defaults;
    }
    if (!kv_config_valid(cfg))
        return NULL;
    kv_store *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->cfg = *cfg;
    s->index = kv_index_new();
    if (s->index == NULL) {
        free(s);
        return NULL;
    }
    s->sessions = kv_sessions_new(cfg->sessions_max, cfg->session_results_max,
                                  cfg->session_results_total_max);
    if (s->sessions == NULL) {
        kv_index_free(s->index);
        free(s);
        return NULL;
    }
    kv_ring_init(&s->clock);
    kv_ring_init(&s->reclaim);
    /* Version 0 (the empty store) is the newest until the first write: it starts the clock,
     * so a read version of 0 lasts the window after that write like any other. */
    if (s->cfg.window_us > 0)
        kv_ring_push(&s->clock, (struct kv_ring_entry){.version = 0, .ts_us = 0});
    return s;
}

void kv_store_free(kv_store *s)
{
    if (s == NULL)
        return;
    assert(!s->reclaim_held); /* a snapshot job still reads it */
    for (struct kv_cursor c = kv_index_first(s->index); c.node != NULL; kv_index_next(&c)) {
        struct kv_node *n = c.node;
        while (n->newest != NULL) {
            struct kv_ver *older = n->newest->older;
            kv_ver_free(s, n->newest);
            n->newest = older;
        }
    }
    kv_index_free(s->index);
    kv_ring_free(&s->clock);
    kv_ring_free(&s->reclaim);
    kv_sessions_free(s->sessions);
    free(s->membership);
    free(s);
}

const struct kv_config *kv_store_config(const kv_store *s) { return &s->cfg; }
uint64_t kv_store_applied_version(const kv_store *s) { return s->applied_version; }
uint64_t kv_store_log_term(const kv_store *s) { return s->log_term; }
void kv_store_set_log_term(kv_store *s, uint64_t term) { s->log_term = term; }
int64_t kv_store_applied_timestamp_us(const kv_store *s) { return s->applied_ts_us; }
uint64_t kv_store_floor_version(const kv_store *s) { return s->floor_version; }
struct kv_digest kv_store_digest(const kv_store *s) { return s->digest; }
struct kv_sessions *kv_store_sessions(kv_store *s) { return s->sessions; }
const struct kv_sessions *kv_store_sessions_const(const kv_store *s) { return s->sessions; }

int kv_store_check_read_version(const kv_store *s, uint64_t version)
{
    if (version > s->applied_version)
        return KV_ERR_FUTURE_VERSION;
    if (version < s->floor_version)
        return KV_ERR_TRANSACTION_TOO_OLD;
    return 0;
}

static size_t ver_size(size_t vlen)
{
    size_t size = offsetof(struct kv_ver, value) + vlen;
    return size < sizeof(struct kv_ver) ? sizeof(struct kv_ver) : size;
}

struct kv_ver *kv_ver_new(kv_store *s, const uint8_t *val, size_t vlen, bool tombstone,
                          uint64_t version)
{
    assert(vlen <= KV_VER_LEN_MASK);
    assert(!tombstone || vlen == 0);
    struct kv_ver *v = kv_slab_alloc(kv_index_slab(s->index), ver_size(vlen));
    if (v == NULL)
        return NULL;
    v->older = NULL;
    v->version = version;
    v->meta = (uint32_t)vlen | (tombstone ? KV_VER_TOMBSTONE : 0);
    if (vlen > 0 && val != NULL)
        memcpy(v->value, val, vlen);
    s->versions++;
    s->version_bytes += kv_slab_charge(ver_size(vlen));
    return v;
}

void kv_ver_free(kv_store *s, struct kv_ver *v)
{
    assert(s->versions > 0);
    s->versions--;
    size_t size = ver_size(kv_ver_len(v));
    s->version_bytes -= kv_slab_charge(size);
    kv_slab_free(kv_index_slab(s->index), v, size);
}

static void note_write(kv_store *s, uint64_t version)
{
    assert(version > s->applied_version);
    assert(version >= s->write_version);
    s->write_version = version;
    s->writes_pending++;
}

/* Makes (val | tombstone) the newest version of node. A second write at the same version
 * replaces the first, as the later operation of a transaction wins. */
static void write_node(kv_store *s, struct kv_node *n, const uint8_t *val, size_t vlen,
                       bool tombstone, uint64_t version)
{
    struct kv_ver *cur = n->newest;
    bool same = cur != NULL && cur->version == version;
    if (cur != NULL && !kv_ver_is_tombstone(cur)) {
        kv_digest_sub(&s->digest, kv_node_key(n), n->klen, cur->value, kv_ver_len(cur),
                      cur->version);
        s->live_keys--;
    }
    struct kv_ver *v = kv_ver_new(s, val, vlen, tombstone, version);
    if (v == NULL)
        kv_die_oom(vlen); /* a replica that cannot apply stops rather than diverge */
    if (same) {
        v->older = cur->older;
        kv_ver_free(s, cur);
    } else {
        v->older = cur;
    }
    n->newest = v;
    if (!tombstone) {
        kv_digest_add(&s->digest, kv_node_key(n), n->klen, val, vlen, version);
        s->live_keys++;
    }
    if (kv_node_reclaimable(n) && !n->queued) {
        kv_ring_push(&s->reclaim, (struct kv_ring_entry){.version = version, .node = n});
        n->queued = 1;
    }
    note_write(s, version);
}

int kv_store_set(kv_store *s, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                 uint64_t version)
{
    if (klen > s->cfg.key_max)
        return KV_ERR_KEY_TOO_LARGE;
    if (vlen > s->cfg.value_max)
        return KV_ERR_VALUE_TOO_LARGE;
    bool created;
    struct kv_node *n = kv_index_insert(s->index, key, klen, &created);
    if (n == NULL)
        kv_die_oom(klen);
    write_node(s, n, val, vlen, false, version);
    return 0;
}

int kv_store_delete(kv_store *s, const uint8_t *key, size_t klen, uint64_t version, bool *found)
{
    if (klen > s->cfg.key_max)
        return KV_ERR_KEY_TOO_LARGE;
    struct kv_node *n = kv_index_find(s->index, key, klen);
    bool live = n != NULL && !kv_ver_is_tombstone(n->newest);
    if (found != NULL)
        *found = live;
    if (live)
        write_node(s, n, NULL, 0, true, version);
    return 0;
}

int kv_store_clear_range(kv_store *s, const uint8_t *begin, size_t blen, const uint8_t *end,
                         size_t elen, uint64_t version, uint64_t *cleared)
{
    if (blen > s->cfg.key_max || elen > (size_t)s->cfg.key_max + 1)
        return KV_ERR_KEY_TOO_LARGE;
    if (kv_key_cmp(begin, blen, end, elen) > 0)
        return KV_ERR_INVALID_ARGUMENT;
    uint64_t n_cleared = 0;
    struct kv_cursor c = kv_index_ge(s->index, begin, blen);
    for (; c.node != NULL; kv_index_next(&c)) {
        struct kv_node *n = c.node;
        if (kv_key_cmp(kv_node_key(n), n->klen, end, elen) >= 0)
            break;
        if (kv_ver_is_tombstone(n->newest))
            continue;
        write_node(s, n, NULL, 0, true, version);
        n_cleared++;
    }
    if (cleared != NULL)
        *cleared = n_cleared;
    return 0;
}

void kv_store_stats(const kv_store *s, struct kv_stats *out)
{
    out->live_keys = s->live_keys;
    out->indexed_keys = kv_index_count(s->index);
    out->versions = s->versions;
    out->reclaim_pending = s->reclaim.len;
    out->bytes = kv_mem_charge(sizeof *s) + kv_index_bytes(s->index) + s->version_bytes +
                 kv_ring_bytes(&s->clock) + kv_ring_bytes(&s->reclaim);
}
