/* kv_hash_check.c: walks the hash tables asserting their invariants (for tests). */
#include <assert.h>
#include <stdlib.h>

#include "kv_hash.h"

/* Every node is reachable from its home slot through a run of non-empty slots; hashes match
 * the keys; the counts are right. */
static void check_table(const struct kv_hash *h, const struct kv_hash_table *t, bool draining)
{
    assert(t->slot != NULL);
    uint64_t slots = t->mask + 1;
    assert(slots >= KV_HASH_SLOTS_MIN && (slots & t->mask) == 0);
    uint64_t nodes = 0, empty = 0;
    for (uint64_t i = 0; i < slots; i++) {
        const struct kv_hash_slot *s = &t->slot[i];
        if (s->node == NULL) {
            empty++;
            continue;
        }
        if (s->node == KV_HASH_GONE) {
            assert(draining);
            continue;
        }
        assert(!draining || i >= h->drain);
        assert(s->hash == kv_hash_key(h, s->node->key, s->node->klen));
        for (uint64_t j = s->hash & t->mask; j != i; j = (j + 1) & t->mask)
            assert(t->slot[j].node != NULL);
        nodes++;
    }
    assert(nodes == t->count);
    assert(empty > 0);
    (void)h, (void)draining, (void)nodes, (void)empty;
}

void kv_hash_check(const struct kv_hash *h)
{
    assert((h->dead == NULL) == (h->dead_bytes == 0));
    assert(h->dead_bytes % KV_HASH_UNMAP_BYTES == 0);
    check_table(h, &h->cur, false);
    if (h->old.slot != NULL) {
        check_table(h, &h->old, true);
        assert(h->old.count > 0);
        assert(h->drain <= h->old.mask);
    }
}
