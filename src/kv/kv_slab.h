/* kv_slab.h: the store's small objects (key nodes, version records) packed by size class in
 * 64 KiB blocks. malloc adds an 8-byte header to every chunk and rounds it to 16 bytes: a node
 * of a 16-byte key (29 bytes) took 48, a version of a 100-byte value (120 bytes) took 128, so
 * at 1M keys a quarter of the heap was headers and rounding. Here an object takes its size
 * rounded to 8 bytes; a freed one goes on its class's list and is the next one handed out, so
 * the store's churn (the MVCC window's old versions) reuses its own slots and never scatters
 * through the heap the rest of the process shares. New objects of every class are cut from one
 * block in turn, so a key's node and its first version sit side by side as malloc put them
 * (a block per class cost random gets 15 % in kvstorebench: two pages a read instead of one).
 * Blocks are returned only with the slab, as malloc keeps freed chunks. Objects above
 * KV_SLAB_OBJ_MAX go to malloc. */
#ifndef KV_SLAB_H
#define KV_SLAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KV_SLAB_GRAIN 8u
#define KV_SLAB_OBJ_MAX 256u
#define KV_SLAB_CLASSES (KV_SLAB_OBJ_MAX / KV_SLAB_GRAIN)
#define KV_SLAB_BLOCK_BYTES (64u * 1024u)

struct kv_slab_block;

struct kv_slab {
    void *free[KV_SLAB_CLASSES]; /* freed objects of each class, linked by their first word */
    uint8_t *next, *end;         /* the unused rest of the newest block */
    struct kv_slab_block *blocks;   /* every block, for kv_slab_destroy */
    uint64_t block_count;
    uint64_t live; /* objects handed out and not freed, large ones too */
};

void kv_slab_init(struct kv_slab *s);
/* Frees every block; every object must have been freed. */
void kv_slab_destroy(struct kv_slab *s);
/* An object of size bytes (> 0), 8-byte aligned; NULL when out of memory. */
void *kv_slab_alloc(struct kv_slab *s, size_t size);
/* Frees p, from kv_slab_alloc on s with the same size. */
void kv_slab_free(struct kv_slab *s, void *p, size_t size);
/* What an object of size bytes costs: its class's size, or malloc's chunk (kv_mem_charge) for
 * one above KV_SLAB_OBJ_MAX. The store's byte counts use it. */
size_t kv_slab_charge(size_t size);
/* Bytes of the blocks held, used or free. */
uint64_t kv_slab_block_bytes(const struct kv_slab *s);
uint64_t kv_slab_live(const struct kv_slab *s);

#endif
