/* net_addr.c: a seeded hash table of source addresses and the connections each holds. */
#include "net_addr.h"

#include <assert.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define NET_ADDR_BUCKETS_MIN 16u

void net_addr_from_sockaddr(struct net_addr *out, const struct sockaddr *addr)
{
    memset(out, 0, sizeof *out);
    if (addr && addr->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
        out->bytes[10] = out->bytes[11] = 0xff;
        memcpy(out->bytes + 12, &in->sin_addr, 4);
    } else if (addr && addr->sa_family == AF_INET6) {
        memcpy(out->bytes, &((const struct sockaddr_in6 *)addr)->sin6_addr, 16);
    } else {
        out->local = true;
    }
}

void net_addr_table_init(struct net_addr_table *t, uint64_t seed)
{
    memset(t, 0, sizeof *t);
    t->seed = seed;
}

void net_addr_table_free(struct net_addr_table *t)
{
    for (uint32_t i = 0; i < t->bucket_count; i++)
        while (t->buckets[i]) {
            struct net_addr_group *g = t->buckets[i];
            t->buckets[i] = g->next;
            free(g);
        }
    free(t->buckets);
    t->buckets = NULL;
    t->bucket_count = t->group_count = 0;
}

/* 64-bit mixing (splitmix64's finalizer) over the seed and the address bytes. */
static uint64_t mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint32_t bucket_of(const struct net_addr_table *t, const struct net_addr *a)
{
    uint64_t lo, hi;
    memcpy(&lo, a->bytes, 8);
    memcpy(&hi, a->bytes + 8, 8);
    uint64_t h = mix(mix(t->seed ^ lo) ^ hi ^ (uint64_t)a->local);
    return (uint32_t)(h & (t->bucket_count - 1));
}

static bool same(const struct net_addr *a, const struct net_addr *b)
{
    return a->local == b->local && memcmp(a->bytes, b->bytes, sizeof a->bytes) == 0;
}

/* Doubles the buckets (or makes the first ones); on no memory the table stays as it is. */
static void grow(struct net_addr_table *t)
{
    uint32_t count = t->bucket_count ? 2 * t->bucket_count : NET_ADDR_BUCKETS_MIN;
    struct net_addr_group **b = calloc(count, sizeof *b);
    if (!b)
        return;
    struct net_addr_table bigger = *t;
    bigger.buckets = b;
    bigger.bucket_count = count;
    for (uint32_t i = 0; i < t->bucket_count; i++)
        while (t->buckets[i]) {
            struct net_addr_group *g = t->buckets[i];
            t->buckets[i] = g->next;
            uint32_t at = bucket_of(&bigger, &g->addr);
            g->next = b[at];
            b[at] = g;
        }
    free(t->buckets);
    *t = bigger;
}

struct net_addr_group *net_addr_group_get(struct net_addr_table *t, const struct net_addr *a)
{
    if (t->group_count >= t->bucket_count)
        grow(t);
    if (t->bucket_count == 0)
        return NULL;
    uint32_t at = bucket_of(t, a);
    for (struct net_addr_group *g = t->buckets[at]; g; g = g->next)
        if (same(&g->addr, a))
            return g;
    struct net_addr_group *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->addr = *a;
    g->next = t->buckets[at];
    t->buckets[at] = g;
    t->group_count++;
    return g;
}

void net_addr_group_release(struct net_addr_table *t, struct net_addr_group *g)
{
    if (g->count > 0)
        return;
    struct net_addr_group **p = &t->buckets[bucket_of(t, &g->addr)];
    while (*p != g) {
        assert(*p);
        p = &(*p)->next;
    }
    *p = g->next;
    assert(t->group_count > 0);
    t->group_count--;
    free(g);
}
