/* kv_skip.c: skip list over binary keys; nodes carry links and key in one allocation. */
#include "kv_skip.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "kv_err.h"
#include "kv_mem.h"

#define KV_SKIP_SEED 0x9E3779B97F4A7C15ull

int kv_key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n == 0 ? 0 : memcmp(a, b, n);
    if (c != 0)
        return c;
    return alen < blen ? -1 : (alen > blen ? 1 : 0);
}

static size_t node_size(uint32_t height, size_t klen)
{
    return offsetof(struct kv_node, next) + (size_t)height * sizeof(struct kv_node *) + klen;
}

int kv_skip_init(struct kv_skip *s)
{
    assert(s != NULL);
    size_t size = node_size(KV_SKIP_HEIGHT_MAX, 0);
    s->head = calloc(1, size);
    if (s->head == NULL)
        return KV_ERR_NOMEM;
    s->head->height = KV_SKIP_HEIGHT_MAX;
    s->height = 1;
    s->rng = KV_SKIP_SEED;
    s->count = 0;
    s->bytes = kv_mem_charge(size);
    return 0;
}

void kv_skip_free(struct kv_skip *s)
{
    struct kv_node *n = s->head->next[0];
    while (n != NULL) {
        struct kv_node *next = n->next[0];
        assert(n->newest == NULL);
        free(n);
        n = next;
    }
    free(s->head);
    s->head = NULL;
    s->count = 0;
}

/* Fills preds[level] with the last node whose key is < key on every level in use; returns the
 * level-0 successor, the first node >= key. */
static struct kv_node *find_preds(const struct kv_skip *s, const uint8_t *key, size_t klen,
                                  struct kv_node **preds)
{
    struct kv_node *x = s->head;
    for (int level = (int)s->height - 1; level >= 0; level--) {
        struct kv_node *n = x->next[level];
        while (n != NULL && kv_key_cmp(kv_node_key(n), n->klen, key, klen) < 0) {
            x = n;
            n = x->next[level];
        }
        if (preds != NULL)
            preds[level] = x;
    }
    return x->next[0];
}

struct kv_node *kv_skip_first(const struct kv_skip *s) { return s->head->next[0]; }

struct kv_node *kv_skip_last(const struct kv_skip *s)
{
    struct kv_node *x = s->head;
    for (int level = (int)s->height - 1; level >= 0; level--)
        while (x->next[level] != NULL)
            x = x->next[level];
    return x == s->head ? NULL : x;
}

struct kv_node *kv_skip_ge(const struct kv_skip *s, const uint8_t *key, size_t klen)
{
    return find_preds(s, key, klen, NULL);
}

struct kv_node *kv_skip_find(const struct kv_skip *s, const uint8_t *key, size_t klen)
{
    struct kv_node *n = find_preds(s, key, klen, NULL);
    if (n != NULL && kv_key_cmp(kv_node_key(n), n->klen, key, klen) == 0)
        return n;
    return NULL;
}

struct kv_node *kv_skip_lt(const struct kv_skip *s, const uint8_t *key, size_t klen)
{
    struct kv_node *n = find_preds(s, key, klen, NULL);
    if (n != NULL)
        return n->prev;
    return kv_skip_last(s);
}

static uint32_t random_height(struct kv_skip *s)
{
    uint64_t x = s->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    s->rng = x;
    uint32_t height = 1;
    while (height < KV_SKIP_HEIGHT_MAX && (x & 3) == 0) {
        height++;
        x >>= 2;
    }
    return height;
}

struct kv_node *kv_skip_insert(struct kv_skip *s, const uint8_t *key, size_t klen, bool *created)
{
    assert(klen <= UINT32_MAX);
    struct kv_node *preds[KV_SKIP_HEIGHT_MAX];
    struct kv_node *succ = find_preds(s, key, klen, preds);
    *created = false;
    if (succ != NULL && kv_key_cmp(kv_node_key(succ), succ->klen, key, klen) == 0)
        return succ;
    uint32_t height = random_height(s);
    size_t size = node_size(height, klen);
    struct kv_node *n = malloc(size);
    if (n == NULL)
        return NULL;
    n->newest = NULL;
    n->klen = (uint32_t)klen;
    n->height = (uint8_t)height;
    n->queued = 0;
    if (klen > 0)
        memcpy((uint8_t *)kv_node_key(n), key, klen);
    for (uint32_t level = s->height; level < height; level++)
        preds[level] = s->head;
    if (height > s->height)
        s->height = height;
    for (uint32_t level = 0; level < height; level++) {
        n->next[level] = preds[level]->next[level];
        preds[level]->next[level] = n;
    }
    n->prev = preds[0] == s->head ? NULL : preds[0];
    if (n->next[0] != NULL)
        n->next[0]->prev = n;
    s->count++;
    s->bytes += kv_mem_charge(size);
    *created = true;
    return n;
}

void kv_skip_remove(struct kv_skip *s, struct kv_node *node)
{
    assert(node != NULL);
    assert(node->newest == NULL);
    struct kv_node *preds[KV_SKIP_HEIGHT_MAX];
    struct kv_node *found = find_preds(s, kv_node_key(node), node->klen, preds);
    assert(found == node);
    for (uint32_t level = 0; level < node->height; level++) {
        assert(preds[level]->next[level] == node);
        preds[level]->next[level] = node->next[level];
    }
    if (node->next[0] != NULL)
        node->next[0]->prev = node->prev;
    while (s->height > 1 && s->head->next[s->height - 1] == NULL)
        s->height--;
    assert(s->count > 0);
    s->count--;
    s->bytes -= kv_mem_charge(node_size(node->height, node->klen));
    free(node);
}
