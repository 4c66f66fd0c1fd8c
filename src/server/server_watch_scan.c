/* server_watch_scan.c: a watch's answer: the changes after its version, from the MVCC history,
   in version order, cut at a version boundary to fit one reply. */
#include "server_watch.h"

#include "server_request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct change {
    const uint8_t *key, *value;   /* into the store: valid until the next apply */
    size_t klen, vlen;
    uint64_t version;
};

struct changes {
    struct change *items;
    size_t count, cap;
    bool nomem;
};

static int add_change(void *ctx, const uint8_t *key, size_t klen, uint64_t version,
                      const uint8_t *value, size_t vlen)
{
    struct changes *c = ctx;
    if (c->count == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        struct change *items = realloc(c->items, cap * sizeof *items);
        if (!items) {
            c->nomem = true;
            return 1;
        }
        c->items = items;
        c->cap = cap;
    }
    c->items[c->count++] = (struct change){key, value, klen, vlen, version};
    return 0;
}

static int by_version_then_key(const void *pa, const void *pb)
{
    const struct change *a = pa, *b = pb;
    if (a->version != b->version)
        return a->version < b->version ? -1 : 1;
    size_t n = a->klen < b->klen ? a->klen : b->klen;
    int c = memcmp(a->key, b->key, n);
    return c ? c : (a->klen > b->klen) - (a->klen < b->klen);
}

/* How many of the sorted changes one answer holds: whole versions that fit the limits, or
   (when the first version alone does not) the first of its changes, *truncated set. */
static size_t fitting(const struct server_config *cfg, const struct changes *c, bool *truncated)
{
    uint64_t budget = cfg->max_reply_bytes - SERVER_REPLY_ENVELOPE_BYTES, bytes = 0;
    size_t whole = 0;   /* changes up to the end of the last version that fit */
    *truncated = false;
    for (size_t i = 0; i < c->count; i++) {
        bytes += SERVER_WATCH_EVENT_OVERHEAD_BYTES + c->items[i].klen + c->items[i].vlen;
        if (i >= cfg->max_range_results || (i > 0 && bytes > budget)) {
            *truncated = whole == 0;
            return whole ? whole : i;
        }
        if (i + 1 == c->count || c->items[i + 1].version != c->items[i].version)
            whole = i + 1;
    }
    return c->count;
}

static int fill_events(WatchResponse *out, const struct changes *c, size_t n)
{
    out->events.items = calloc(n ? n : 1, sizeof *out->events.items);
    if (!out->events.items)
        return ErrorCode_INTERNAL;
    for (size_t i = 0; i < n; i++) {
        WatchEvent *e = &out->events.items[i];
        WatchEvent_init(e);
        out->events.count++;
        e->version = (int64_t)c->items[i].version;
        e->has_value = c->items[i].value != NULL;
        if (tp_bytes_set(&e->key, c->items[i].key, (uint32_t)c->items[i].klen) != 0 ||
            (e->has_value &&
             tp_bytes_set(&e->value, c->items[i].value, (uint32_t)c->items[i].vlen) != 0))
            return ErrorCode_INTERNAL;
    }
    return 0;
}

static void too_old(WatchResponse *out, uint64_t after, uint64_t floor)
{
    char text[200];
    snprintf(text, sizeof text,
             "after_version %llu is below the MVCC window (the oldest version kept is %llu): "
             "read the key or range again and watch from the version read",
             (unsigned long long)after, (unsigned long long)floor);
    SERVER_SET_ERROR(out, ErrorCode_TRANSACTION_TOO_OLD);
    tp_bytes_set_str(&out->error, text);
}

/* The changes found, in order and cut to fit; the answer's version says how far they go. */
static int answer(const struct server_node *n, struct changes *c, uint64_t applied,
                  WatchResponse *out)
{
    qsort(c->items, c->count, sizeof *c->items, by_version_then_key);
    bool truncated;
    size_t keep = fitting(n->cfg, c, &truncated);
    out->version = (int64_t)(keep == c->count ? applied
                             : truncated      ? c->items[0].version
                                              : c->items[keep].version - 1);
    out->has_truncated = truncated;
    out->truncated = truncated;
    return fill_events(out, c, keep);
}

enum watch_outcome server_watch_scan(const struct server_node *n, const struct watch_query *q,
                                     bool final, WatchResponse *out)
{
    const kv_store *s = server_store(n);
    uint64_t applied = kv_store_applied_version(s), floor = kv_store_floor_version(s);
    out->success = true;
    out->version = (int64_t)(q->after > applied ? q->after : applied);
    if (q->after < floor) {
        too_old(out, q->after, floor);
        return WATCH_ANSWERED;
    }
    struct changes c = {0};
    if (q->after < applied) {
        struct kv_range r = {.begin = q->begin, .begin_len = q->begin_len, .end = q->end,
                             .end_len = q->end_len, .end_unbounded = q->end == NULL,
                             .version = q->after};
        kv_store_changes(s, &r, q->single, add_change, &c);
    }
    int rc = c.nomem ? ErrorCode_INTERNAL : c.count > 0 ? answer(n, &c, applied, out) : 0;
    free(c.items);
    if (rc != 0)
        SERVER_SET_ERROR(out, rc);
    return rc != 0 || out->events.count > 0 || final ? WATCH_ANSWERED : WATCH_WAIT;
}
