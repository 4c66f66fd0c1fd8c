/* kb_hist.c: log-bucketed latency histogram (HdrHistogram's idea, sized for our range). */
#include "kb_hist.h"

#include <assert.h>
#include <string.h>

#define SUB_COUNT (1u << KB_HIST_SUB_BITS)  /* 256: exact values below this */
#define HALF_COUNT (SUB_COUNT / 2)          /* 128 buckets per power of two above */

_Static_assert(KB_HIST_SUB_BITS >= 8, "buckets must stay under 1% wide");

uint32_t kb_hist_index(uint64_t v)
{
    if (v > KB_HIST_VALUE_MAX_NS)
        v = KB_HIST_VALUE_MAX_NS;
    if (v < SUB_COUNT)
        return (uint32_t)v;
    uint32_t msb = 63u - (uint32_t)__builtin_clzll(v);
    uint32_t shift = msb - (KB_HIST_SUB_BITS - 1);
    uint32_t index = SUB_COUNT + (shift - 1) * HALF_COUNT + (uint32_t)(v >> shift) - HALF_COUNT;
    assert(index < KB_HIST_BUCKETS);
    return index;
}

uint64_t kb_hist_lower(uint32_t index)
{
    assert(index < KB_HIST_BUCKETS);
    if (index < SUB_COUNT)
        return index;
    uint32_t shift = (index - SUB_COUNT) / HALF_COUNT + 1;
    uint64_t sub = (index - SUB_COUNT) % HALF_COUNT + HALF_COUNT;
    return sub << shift;
}

uint64_t kb_hist_width(uint32_t index)
{
    assert(index < KB_HIST_BUCKETS);
    if (index < SUB_COUNT)
        return 1;
    return 1ull << ((index - SUB_COUNT) / HALF_COUNT + 1);
}

void kb_hist_reset(struct kb_hist *h)
{
    memset(h, 0, sizeof *h);
    h->min_ns = UINT64_MAX;
}

void kb_hist_record(struct kb_hist *h, uint64_t v)
{
    h->counts[kb_hist_index(v)]++;
    h->total++;
    h->sum_ns += (double)v;
    if (v < h->min_ns)
        h->min_ns = v;
    if (v > h->max_ns)
        h->max_ns = v;
}

void kb_hist_merge(struct kb_hist *into, const struct kb_hist *from)
{
    for (uint32_t i = 0; i < KB_HIST_BUCKETS; i++)
        into->counts[i] += from->counts[i];
    into->total += from->total;
    into->sum_ns += from->sum_ns;
    if (from->min_ns < into->min_ns)
        into->min_ns = from->min_ns;
    if (from->max_ns > into->max_ns)
        into->max_ns = from->max_ns;
}

uint64_t kb_hist_quantile(const struct kb_hist *h, double q)
{
    if (h->total == 0)
        return 0;
    if (q >= 1.0)
        return h->max_ns;
    uint64_t rank = (uint64_t)(q * (double)h->total) + 1;
    if (rank > h->total)
        rank = h->total;
    uint64_t seen = 0;
    for (uint32_t i = 0; i < KB_HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen < rank)
            continue;
        uint64_t v = kb_hist_lower(i) + kb_hist_width(i) / 2;
        return v < h->min_ns ? h->min_ns : v > h->max_ns ? h->max_ns : v;
    }
    return h->max_ns;
}

double kb_hist_mean(const struct kb_hist *h)
{
    return h->total ? h->sum_ns / (double)h->total : 0.0;
}
