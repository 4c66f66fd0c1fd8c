/* kv_ring.h: a growable FIFO of (version, word) pairs: the window's clock and reclaim queues. */
#ifndef KV_RING_H
#define KV_RING_H

#include <stddef.h>
#include <stdint.h>

struct kv_node;

struct kv_ring_entry {
    uint64_t version;
    union {
        int64_t ts_us;        /* clock queue: the entry's leader timestamp */
        struct kv_node *node; /* reclaim queue: the key to trim once the floor reaches version */
    };
};

struct kv_ring {
    struct kv_ring_entry *items;
    size_t cap; /* 0 or a power of two */
    size_t head;
    size_t len;
};

void kv_ring_init(struct kv_ring *r);
void kv_ring_free(struct kv_ring *r);
/* Appends; versions must not decrease. Grows (stopping the process when out of memory). */
void kv_ring_push(struct kv_ring *r, struct kv_ring_entry e);
/* Pre-sizes for n entries; KV_ERR_NOMEM instead of stopping (restore path). */
int kv_ring_reserve(struct kv_ring *r, size_t n);
static inline const struct kv_ring_entry *kv_ring_front(const struct kv_ring *r)
{
    return r->len == 0 ? NULL : &r->items[r->head];
}
static inline const struct kv_ring_entry *kv_ring_at(const struct kv_ring *r, size_t i)
{
    return &r->items[(r->head + i) & (r->cap - 1)];
}
void kv_ring_pop(struct kv_ring *r);
static inline size_t kv_ring_bytes(const struct kv_ring *r)
{
    return r->cap * sizeof(struct kv_ring_entry);
}

#endif
