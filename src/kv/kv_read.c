/* kv_read.c: point reads, range scans and conflict checks at a version. */
#include <assert.h>

#include "kv_store_impl.h"

static void fill_read(const struct kv_ver *v, struct kv_read *out)
{
    out->value = v->value;
    out->value_len = kv_ver_len(v);
    out->version = v->version;
}

int kv_store_get(const kv_store *s, const uint8_t *key, size_t klen, uint64_t version,
                 struct kv_read *out)
{
    if (klen > s->cfg.key_max)
        return KV_ERR_KEY_TOO_LARGE;
    int err = kv_store_check_read_version(s, version);
    if (err != 0)
        return err;
    const struct kv_node *n = kv_index_find(s->index, key, klen);
    const struct kv_ver *v = n == NULL ? NULL : kv_node_at(n, version);
    if (v == NULL || kv_ver_is_tombstone(v))
        return KV_ERR_NOT_FOUND;
    fill_read(v, out);
    return 0;
}

/* Where a scan starts; its node is NULL for an empty range. */
static struct kv_cursor range_start(const kv_store *s, const struct kv_range *r)
{
    if (!r->reverse)
        return kv_index_ge(s->index, r->begin, r->begin_len);
    if (r->end_unbounded)
        return kv_index_last(s->index);
    return kv_index_lt(s->index, r->end, r->end_len);
}

static bool in_range(const struct kv_range *r, const struct kv_node *n)
{
    if (r->reverse)
        return kv_key_cmp(kv_node_key(n), n->klen, r->begin, r->begin_len) >= 0;
    return r->end_unbounded || kv_key_cmp(kv_node_key(n), n->klen, r->end, r->end_len) < 0;
}

int kv_store_range(const kv_store *s, const struct kv_range *r, kv_range_fn fn, void *ctx,
                   uint32_t *count, bool *has_more)
{
    *count = 0;
    *has_more = false;
    if (r->begin_len > s->cfg.key_max)
        return KV_ERR_KEY_TOO_LARGE;
    if (!r->end_unbounded && r->end_len > (size_t)s->cfg.key_max + 1)
        return KV_ERR_KEY_TOO_LARGE;
    int err = kv_store_check_read_version(s, r->version);
    if (err != 0)
        return err;
    if (!r->end_unbounded && kv_key_cmp(r->begin, r->begin_len, r->end, r->end_len) >= 0)
        return 0;
    for (struct kv_cursor c = range_start(s, r); c.node != NULL && in_range(r, c.node);
         r->reverse ? kv_index_prev(&c) : kv_index_next(&c)) {
        const struct kv_node *n = c.node;
        const struct kv_ver *v = kv_node_at(n, r->version);
        if (v == NULL || kv_ver_is_tombstone(v))
            continue;
        if (r->limit != 0 && *count == r->limit) {
            *has_more = true;
            break;
        }
        struct kv_read out;
        fill_read(v, &out);
        int rc = fn(ctx, kv_node_key(n), n->klen, &out);
        if (rc != 0)
            return rc;
        (*count)++;
    }
    return 0;
}

static int node_changes(const struct kv_node *n, uint64_t after, kv_change_fn fn, void *ctx)
{
    for (const struct kv_ver *v = n->newest; v != NULL && v->version > after; v = v->older) {
        bool gone = kv_ver_is_tombstone(v);
        int rc = fn(ctx, kv_node_key(n), n->klen, v->version, gone ? NULL : v->value,
                    gone ? 0 : kv_ver_len(v));
        if (rc != 0)
            return rc;
    }
    return 0;
}

int kv_store_changes(const kv_store *s, const struct kv_range *r, bool single_key,
                     kv_change_fn fn, void *ctx)
{
    assert(r->version >= s->floor_version);
    if (single_key) {
        const struct kv_node *n = kv_index_find(s->index, r->begin, r->begin_len);
        return n == NULL ? 0 : node_changes(n, r->version, fn, ctx);
    }
    for (struct kv_cursor c = kv_index_ge(s->index, r->begin, r->begin_len);
         c.node != NULL && (r->end_unbounded ||
                            kv_key_cmp(kv_node_key(c.node), c.node->klen, r->end, r->end_len) < 0);
         kv_index_next(&c)) {
        int rc = node_changes(c.node, r->version, fn, ctx);
        if (rc != 0)
            return rc;
    }
    return 0;
}

bool kv_store_key_written_after(const kv_store *s, const uint8_t *key, size_t klen,
                                uint64_t version)
{
    assert(version >= s->floor_version);
    const struct kv_node *n = kv_index_find(s->index, key, klen);
    return n != NULL && n->newest->version > version;
}

bool kv_store_range_written_after(const kv_store *s, const uint8_t *begin, size_t blen,
                                  const uint8_t *end, size_t elen, bool end_unbounded,
                                  uint64_t version)
{
    assert(version >= s->floor_version);
    for (struct kv_cursor c = kv_index_ge(s->index, begin, blen); c.node != NULL;
         kv_index_next(&c)) {
        const struct kv_node *n = c.node;
        if (!end_unbounded && kv_key_cmp(kv_node_key(n), n->klen, end, elen) >= 0)
            break;
        if (n->newest->version > version)
            return true;
    }
    return false;
}
