/* keys.c: which key a register op goes to: uniform, or Zipf-skewed through a table of
   cumulative weights (one binary search per op). */
#include "kvtorture.h"

#include <math.h>
#include <stdlib.h>

double *kvt_key_cdf(const struct kvt_options *o)
{
    if (o->key_dist != KVT_KEYS_ZIPF)
        return NULL;
    double *cdf = malloc(o->keys * sizeof *cdf), sum = 0;
    for (unsigned k = 0; cdf && k < o->keys; k++)
        cdf[k] = sum += 1.0 / pow((double)k + 1, o->zipf_s);
    for (unsigned k = 0; cdf && k < o->keys; k++)
        cdf[k] /= sum;
    return cdf;
}

uint32_t kvt_key_pick(const struct kvt_run *run, uint64_t *rng)
{
    uint32_t keys = run->o->keys;
    if (!run->key_cdf)
        return (uint32_t)(kvt_rand(rng) % keys);
    double u = (double)(kvt_rand(rng) >> 11) / 9007199254740992.0;   /* [0, 1), 53 bits */
    uint32_t lo = 0, hi = keys - 1;   /* the first key whose cumulative weight exceeds u */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (run->key_cdf[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}
