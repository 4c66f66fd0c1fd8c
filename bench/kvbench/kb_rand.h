/* kb_rand.h: seeded PRNG (xoshiro256**) and key choosers: uniform and zipfian. */
#ifndef KB_RAND_H
#define KB_RAND_H

#include <stdint.h>

struct kb_rand {
    uint64_t s[4];
};

void kb_rand_seed(struct kb_rand *r, uint64_t seed);
uint64_t kb_rand_next(struct kb_rand *r);
/* Uniform in [0, n), n > 0. */
uint64_t kb_rand_below(struct kb_rand *r, uint64_t n);
/* Uniform in [0, 1). */
double kb_rand_unit(struct kb_rand *r);

/* Zipfian over [0, n): rank 0 is the hottest (Gray et al., "Quickly generating billion-record
   synthetic databases", as YCSB does it). theta in (0, 1); setup is O(n). */
struct kb_zipf {
    uint64_t n;
    double theta, alpha, zetan, eta, half_pow_theta;
};

void kb_zipf_init(struct kb_zipf *z, uint64_t n, double theta);
uint64_t kb_zipf_next(const struct kb_zipf *z, struct kb_rand *r);

#endif
