/* metrics.c: the process's registry: relaxed atomic counters and fixed-bucket histograms. */
#include "metrics.h"

#include <time.h>

const uint64_t metrics_bucket_ns[METRICS_BUCKETS] = {
    25000,     50000,     100000,    250000,     500000,     1000000,
    2500000,   5000000,   10000000,  25000000,   50000000,   100000000,
    250000000, 500000000, 1000000000, 2500000000, 5000000000, 10000000000,
};

static _Atomic uint64_t counters[METRIC_COUNTER_COUNT];
static struct metrics_hist histograms[METRIC_HISTOGRAM_COUNT];

void metrics_count(enum metric_counter c, uint64_t n)
{
    atomic_fetch_add_explicit(&counters[c], n, memory_order_relaxed);
}

uint64_t metrics_counter_get(enum metric_counter c)
{
    return atomic_load_explicit(&counters[c], memory_order_relaxed);
}

void metrics_hist_observe(struct metrics_hist *h, uint64_t ns)
{
    int i = 0;
    while (i < METRICS_BUCKETS && ns > metrics_bucket_ns[i])
        i++;
    if (i < METRICS_BUCKETS)
        atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_ns, ns, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
}

void metrics_hist_read(const struct metrics_hist *h, struct metrics_hist_snap *out)
{
    /* The count is read first and each bucket after it, so +Inf (the count) never falls
       below the last bucket even while another thread observes. */
    out->count = atomic_load_explicit(&h->count, memory_order_relaxed);
    out->sum_ns = atomic_load_explicit(&h->sum_ns, memory_order_relaxed);
    uint64_t run = 0;
    for (int i = 0; i < METRICS_BUCKETS; i++) {
        run += atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
        out->cumulative[i] = run;
    }
    if (run > out->count)
        out->count = run;
}

void metrics_observe_ns(enum metric_histogram h, uint64_t ns)
{
    metrics_hist_observe(&histograms[h], ns);
}

void metrics_histogram_get(enum metric_histogram h, struct metrics_hist_snap *out)
{
    metrics_hist_read(&histograms[h], out);
}

uint64_t metrics_hist_quantile_ns(const struct metrics_hist_snap *later,
                                  const struct metrics_hist_snap *earlier, double q)
{
    uint64_t total = later->count - earlier->count;
    if (total == 0)
        return 0;
    /* The rank-th observation (1-based), rank = ceil(q * total). */
    double want = q * (double)total;
    uint64_t rank = (uint64_t)want;
    rank += (double)rank < want;
    rank = rank == 0 ? 1 : rank > total ? total : rank;
    for (int i = 0; i < METRICS_BUCKETS; i++)
        if (later->cumulative[i] - earlier->cumulative[i] >= rank)
            return metrics_bucket_ns[i];
    return metrics_bucket_ns[METRICS_BUCKETS - 1] * 2; /* past the last bound */
}

uint64_t metrics_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
