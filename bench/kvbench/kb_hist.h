/* kb_hist.h: log-bucketed latency histogram, better than 1% precision from 1 ns to 60 s. */
#ifndef KB_HIST_H
#define KB_HIST_H

#include <stdbool.h>
#include <stdint.h>

/* Values below 2^KB_HIST_SUB_BITS ns are exact; above, each power of two is split into
   2^(KB_HIST_SUB_BITS - 1) buckets, so a bucket is at most 1/128 (0.78%) of its value wide. */
#define KB_HIST_SUB_BITS 8
#define KB_HIST_VALUE_MAX_NS 60000000000ull /* larger values are clamped (max stays exact) */
#define KB_HIST_BUCKETS 3808                 /* kb_hist_index(KB_HIST_VALUE_MAX_NS) + 1 */

struct kb_hist {
    uint64_t counts[KB_HIST_BUCKETS];
    uint64_t total;
    uint64_t min_ns, max_ns;
    double sum_ns;
};

void kb_hist_reset(struct kb_hist *h);
void kb_hist_record(struct kb_hist *h, uint64_t value_ns);
void kb_hist_merge(struct kb_hist *into, const struct kb_hist *from);
/* The value at quantile q in [0, 1]: the middle of its bucket, clamped to [min, max]. */
uint64_t kb_hist_quantile(const struct kb_hist *h, double q);
double kb_hist_mean(const struct kb_hist *h);

/* Bucket arithmetic, exposed for the self-test and the CSV writer. */
uint32_t kb_hist_index(uint64_t value_ns);
uint64_t kb_hist_lower(uint32_t index);
uint64_t kb_hist_width(uint32_t index);

#endif
