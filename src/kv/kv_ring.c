/* kv_ring.c: power-of-two ring buffer that doubles when full. */
#include "kv_ring.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "kv_err.h"
#include "kv_mem.h"

#define KV_RING_CAP_MIN 16

void kv_ring_init(struct kv_ring *r)
{
    memset(r, 0, sizeof *r);
}

void kv_ring_free(struct kv_ring *r)
{
    free(r->items);
    kv_ring_init(r);
}

/* Moves the entries to a new array of new_cap, front first. */
static void relocate(struct kv_ring *r, struct kv_ring_entry *items, size_t new_cap)
{
    for (size_t i = 0; i < r->len; i++)
        items[i] = *kv_ring_at(r, i);
    free(r->items);
    r->items = items;
    r->cap = new_cap;
    r->head = 0;
}

int kv_ring_reserve(struct kv_ring *r, size_t n)
{
    if (n <= r->cap)
        return 0;
    size_t cap = r->cap == 0 ? KV_RING_CAP_MIN : r->cap;
    while (cap < n) {
        if (cap > SIZE_MAX / 2 / sizeof(struct kv_ring_entry))
            return KV_ERR_NOMEM;
        cap *= 2;
    }
    struct kv_ring_entry *items = malloc(cap * sizeof *items);
    if (items == NULL)
        return KV_ERR_NOMEM;
    relocate(r, items, cap);
    return 0;
}

void kv_ring_push(struct kv_ring *r, struct kv_ring_entry e)
{
    if (r->len == r->cap) {
        size_t cap = r->cap == 0 ? KV_RING_CAP_MIN : r->cap * 2;
        relocate(r, kv_xmalloc(cap * sizeof(struct kv_ring_entry)), cap);
    }
    assert(r->len == 0 || kv_ring_at(r, r->len - 1)->version <= e.version);
    r->items[(r->head + r->len) & (r->cap - 1)] = e;
    r->len++;
}

void kv_ring_pop(struct kv_ring *r)
{
    assert(r->len > 0);
    r->head = (r->head + 1) & (r->cap - 1);
    r->len--;
}
