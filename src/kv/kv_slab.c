/* kv_slab.c: size classes of 8 bytes cut from 64 KiB blocks, a free list per class. */
#include "kv_slab.h"

#include <assert.h>
#include <stdlib.h>

#include "kv_mem.h"

/* Under AddressSanitizer a free object, and the unused rest of a block, are poisoned: a read
 * of a freed version or node still fails the sanitizer runs as it did with malloc. */
#if defined(__SANITIZE_ADDRESS__)
#define KV_SLAB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KV_SLAB_ASAN 1
#endif
#endif
#ifdef KV_SLAB_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

struct kv_slab_block {
    struct kv_slab_block *next;
    uint64_t pad; /* objects start 16 bytes in, as aligned as malloc's */
    uint8_t data[];
};

#define BLOCK_DATA (KV_SLAB_BLOCK_BYTES - offsetof(struct kv_slab_block, data))

static size_t class_of(size_t size) { return size == 0 ? 0 : (size - 1) / KV_SLAB_GRAIN; }
static size_t class_size(size_t c) { return (c + 1) * KV_SLAB_GRAIN; }

void kv_slab_init(struct kv_slab *s) { *s = (struct kv_slab){0}; }

void kv_slab_destroy(struct kv_slab *s)
{
    assert(s->live == 0);
    while (s->blocks != NULL) {
        struct kv_slab_block *b = s->blocks;
        UNPOISON(b->data, BLOCK_DATA);
        s->blocks = b->next;
        free(b);
    }
    kv_slab_init(s);
}

static bool refill(struct kv_slab *s)
{
    struct kv_slab_block *b = malloc(KV_SLAB_BLOCK_BYTES);
    if (b == NULL)
        return false;
    b->next = s->blocks;
    s->blocks = b;
    s->block_count++;
    POISON(b->data, BLOCK_DATA);
    s->next = b->data;
    s->end = b->data + BLOCK_DATA;
    return true;
}

void *kv_slab_alloc(struct kv_slab *s, size_t size)
{
    assert(size > 0);
    if (size > KV_SLAB_OBJ_MAX) {
        void *p = malloc(size);
        s->live += p != NULL;
        return p;
    }
    size_t c = class_of(size), n = class_size(c);
    void *p = s->free[c];
    if (p != NULL) {
        UNPOISON(p, n);
        s->free[c] = *(void **)p;
    } else {
        if ((size_t)(s->end - s->next) < n && !refill(s))
            return NULL; /* the old block's rest, under n bytes, stays unused */
        p = s->next;
        s->next += n;
        UNPOISON(p, n);
    }
    s->live++;
    return p;
}

void kv_slab_free(struct kv_slab *s, void *p, size_t size)
{
    if (p == NULL)
        return;
    assert(s->live > 0);
    s->live--;
    if (size > KV_SLAB_OBJ_MAX) {
        free(p);
        return;
    }
    size_t c = class_of(size);
    *(void **)p = s->free[c];
    s->free[c] = p;
    POISON(p, class_size(c));
}

size_t kv_slab_charge(size_t size)
{
    return size > KV_SLAB_OBJ_MAX ? kv_mem_charge(size) : class_size(class_of(size));
}

uint64_t kv_slab_block_bytes(const struct kv_slab *s)
{
    return s->block_count * KV_SLAB_BLOCK_BYTES;
}

uint64_t kv_slab_live(const struct kv_slab *s) { return s->live; }
