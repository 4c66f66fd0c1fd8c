/* kv_hash.c: the exact-key hash table: lookups, insertion, removal and incremental resizing.
 *
 * Why a resize finishes in time: each insertion and removal drains at least
 * KV_HASH_DRAIN_SLOTS slots of the old table, which has `old` slots. A grow starts with at most
 * old - 1 nodes in a table of 2 * old slots, which needs more than old / 2 insertions to pass
 * 3/4 full; a shrink starts with fewer than new / 4 nodes, which need more than
 * new / 2 = old / 8 insertions. Either way old / KV_HASH_DRAIN_SLOTS <= old / 8 operations
 * empty the old table first, so at most two tables exist, and no operation visits more than
 * KV_HASH_DRAIN_VISITS slots or moves more than KV_HASH_DRAIN_MOVES nodes. A shrink left
 * half-drained by operations that stop holds the old table until they resume. */
#include "kv_hash.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>

#include "kv_mem.h"
#include "kv_siphash.h"

_Static_assert(KV_HASH_DRAIN_SLOTS >= 8, "a resize must drain before the next one is due");
_Static_assert(KV_HASH_DRAIN_MOVES >= KV_HASH_DRAIN_SLOTS, "moves happen in visited slots");
_Static_assert(KV_HASH_DRAIN_VISITS >= KV_HASH_DRAIN_SLOTS, "visits bound the slots");
_Static_assert((KV_HASH_SLOTS_MIN & (KV_HASH_SLOTS_MIN - 1)) == 0, "slots are a power of two");
_Static_assert(KV_HASH_MAP_BYTES_MIN % KV_HASH_UNMAP_BYTES == 0, "whole pieces");
_Static_assert(KV_HASH_UNMAP_BYTES % 4096 == 0, "whole pages");

struct kv_node kv_hash_gone;

static uint64_t slots_of(const struct kv_hash_table *t) { return t->mask + 1; }

static uint64_t table_size(const struct kv_hash_table *t)
{
    return slots_of(t) * sizeof t->slot[0];
}

static bool table_alloc(struct kv_hash_table *t, uint64_t slots)
{
    assert(slots >= KV_HASH_SLOTS_MIN);
    assert((slots & (slots - 1)) == 0);
    *t = (struct kv_hash_table){.mask = slots - 1};
    if (table_size(t) < KV_HASH_MAP_BYTES_MIN) {
        t->slot = calloc(slots, sizeof t->slot[0]);
    } else {
        void *p = mmap(NULL, table_size(t), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        t->slot = p == MAP_FAILED ? NULL : p;
    }
    return t->slot != NULL;
}

static void table_free_now(struct kv_hash_table *t)
{
    if (t->slot != NULL && table_size(t) >= KV_HASH_MAP_BYTES_MIN)
        munmap(t->slot, table_size(t));
    else
        free(t->slot);
    *t = (struct kv_hash_table){0};
}

/* Frees a drained table: a mapped one goes back to the kernel piece by piece (unmap_step). */
static void table_free(struct kv_hash *h, struct kv_hash_table *t)
{
    if (table_size(t) < KV_HASH_MAP_BYTES_MIN) {
        table_free_now(t);
        return;
    }
    if (h->dead != NULL) /* not seen: a resize takes far longer than the unmapping */
        munmap(h->dead, h->dead_bytes);
    h->dead = (uint8_t *)t->slot;
    h->dead_bytes = table_size(t);
    *t = (struct kv_hash_table){0};
}

static void unmap_step(struct kv_hash *h)
{
    if (h->dead == NULL)
        return;
    uint64_t piece = h->dead_bytes < KV_HASH_UNMAP_BYTES ? h->dead_bytes : KV_HASH_UNMAP_BYTES;
    h->dead_bytes -= piece;
    munmap(h->dead + h->dead_bytes, piece);
    if (h->dead_bytes == 0)
        h->dead = NULL;
}

static uint64_t table_bytes(const struct kv_hash_table *t)
{
    return t->slot == NULL ? 0 : kv_mem_charge(table_size(t));
}

/* A process-unique secret: outsiders choose the keys, so they must not know the hash. */
static void seed_init(uint64_t seed[2])
{
    if (getrandom(seed, 2 * sizeof seed[0], GRND_NONBLOCK) == (ssize_t)(2 * sizeof seed[0]))
        return;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    seed[0] = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ull ^ (uint64_t)(uintptr_t)seed;
    seed[1] = (uint64_t)ts.tv_sec * 0xC2B2AE3D27D4EB4Full ^ (uint64_t)(uintptr_t)&seed_init;
}

bool kv_hash_init(struct kv_hash *h)
{
    *h = (struct kv_hash){0};
    seed_init(h->seed);
    return table_alloc(&h->cur, KV_HASH_SLOTS_MIN);
}

void kv_hash_free(struct kv_hash *h)
{
    table_free_now(&h->cur);
    table_free_now(&h->old);
    if (h->dead != NULL)
        munmap(h->dead, h->dead_bytes);
    h->dead = NULL;
}

uint64_t kv_hash_count(const struct kv_hash *h) { return h->cur.count + h->old.count; }
uint64_t kv_hash_bytes(const struct kv_hash *h)
{
    return table_bytes(&h->cur) + table_bytes(&h->old) + h->dead_bytes;
}
bool kv_hash_draining(const struct kv_hash *h) { return h->old.slot != NULL; }

uint64_t kv_hash_key(const struct kv_hash *h, const uint8_t *key, size_t klen)
{
    return kv_siphash13(h->seed, key, klen);
}

static struct kv_node *table_find(const struct kv_hash_table *t, uint64_t hash,
                                  const uint8_t *key, size_t klen)
{
    for (uint64_t i = hash & t->mask;; i = (i + 1) & t->mask) {
        const struct kv_hash_slot *s = &t->slot[i];
        if (s->node == NULL)
            return NULL;
        if (s->hash == hash && s->node != KV_HASH_GONE && s->node->klen == klen &&
            (klen == 0 || memcmp(s->node->key, key, klen) == 0))
            return s->node;
    }
}

struct kv_node *kv_hash_find(const struct kv_hash *h, uint64_t hash, const uint8_t *key,
                             size_t klen)
{
    struct kv_node *n = table_find(&h->cur, hash, key, klen);
    if (n == NULL && h->old.slot != NULL)
        n = table_find(&h->old, hash, key, klen);
    return n;
}

/* Leaves at least one empty slot, so every probe run ends. */
static void table_put(struct kv_hash_table *t, uint64_t hash, struct kv_node *node)
{
    assert(t->count + 1 < slots_of(t));
    uint64_t i = hash & t->mask;
    while (t->slot[i].node != NULL)
        i = (i + 1) & t->mask;
    t->slot[i] = (struct kv_hash_slot){.hash = hash, .node = node};
    t->count++;
}

/* The slot holding node, or UINT64_MAX when t does not hold it. */
static uint64_t table_slot_of(const struct kv_hash_table *t, uint64_t hash,
                              const struct kv_node *node)
{
    for (uint64_t i = hash & t->mask; t->slot[i].node != NULL; i = (i + 1) & t->mask)
        if (t->slot[i].node == node)
            return i;
    return UINT64_MAX;
}

/* Removal without markers: later members of the probe run move back into the hole when their
 * home slot allows it, so the run stays unbroken. */
static void table_del_shift(struct kv_hash_table *t, uint64_t i)
{
    for (uint64_t j = (i + 1) & t->mask; t->slot[j].node != NULL; j = (j + 1) & t->mask) {
        uint64_t home = t->slot[j].hash & t->mask;
        if (((j - home) & t->mask) >= ((j - i) & t->mask)) {
            t->slot[i] = t->slot[j];
            i = j;
        }
    }
    t->slot[i].node = NULL;
    assert(t->count > 0);
    t->count--;
}

/* Moves nodes of the old table into the current one, slot by slot, until KV_HASH_DRAIN_MOVES
 * nodes moved or KV_HASH_DRAIN_VISITS slots were visited: a sparse table (after a shrink)
 * drains in fewer steps, and no step does more than a few hundred slots' work. */
static void drain_step(struct kv_hash *h)
{
    struct kv_hash_table *old = &h->old;
    if (old->slot == NULL)
        return;
    uint32_t moves = 0;
    for (uint32_t k = 0; k < KV_HASH_DRAIN_VISITS && moves < KV_HASH_DRAIN_MOVES &&
                         h->drain <= old->mask;
         k++, h->drain++) {
        struct kv_hash_slot *s = &old->slot[h->drain];
        if (s->node == NULL || s->node == KV_HASH_GONE)
            continue;
        moves++;
        table_put(&h->cur, s->hash, s->node);
        s->node = KV_HASH_GONE;
        old->count--;
    }
    if (old->count == 0)
        table_free(h, old);
}

/* Starts moving every node into a table of `slots`; false when out of memory. */
static bool resize_start(struct kv_hash *h, uint64_t slots)
{
    assert(h->old.slot == NULL);
    struct kv_hash_table t;
    if (!table_alloc(&t, slots))
        return false;
    h->old = h->cur;
    h->cur = t;
    h->drain = 0;
    drain_step(h);
    return true;
}

bool kv_hash_reserve(struct kv_hash *h)
{
    unmap_step(h);
    drain_step(h);
    uint64_t slots = slots_of(&h->cur);
    if (h->cur.count + 1 <= slots / 4 * 3)
        return true;
    /* Proven in the file comment: the last resize has finished. */
    assert(h->old.slot == NULL);
    if (resize_start(h, slots * 2))
        return true;
    return h->cur.count + 2 <= slots; /* over 3/4 full until memory allows a grow */
}

void kv_hash_put(struct kv_hash *h, uint64_t hash, struct kv_node *node)
{
    assert(node != NULL && node != KV_HASH_GONE);
    table_put(&h->cur, hash, node);
}

void kv_hash_del(struct kv_hash *h, uint64_t hash, const struct kv_node *node)
{
    assert(node != NULL && node != KV_HASH_GONE);
    uint64_t i = h->old.slot == NULL ? UINT64_MAX : table_slot_of(&h->old, hash, node);
    if (i != UINT64_MAX) {
        h->old.slot[i].node = KV_HASH_GONE;
        h->old.count--;
        if (h->old.count == 0)
            table_free(h, &h->old);
    } else {
        i = table_slot_of(&h->cur, hash, node);
        assert(i != UINT64_MAX);
        table_del_shift(&h->cur, i);
    }
    unmap_step(h);
    drain_step(h);
    uint64_t slots = slots_of(&h->cur);
    if (h->old.slot == NULL && slots > KV_HASH_SLOTS_MIN && h->cur.count < slots / 16)
        (void)resize_start(h, slots / 4 > KV_HASH_SLOTS_MIN ? slots / 4 : KV_HASH_SLOTS_MIN);
}
