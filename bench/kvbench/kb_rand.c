/* kb_rand.c: seeded PRNG (xoshiro256** fed by splitmix64) and the zipfian key chooser. */
#include "kb_rand.h"

#include <assert.h>
#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void kb_rand_seed(struct kb_rand *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t kb_rand_next(struct kb_rand *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t kb_rand_below(struct kb_rand *r, uint64_t n)
{
    assert(n > 0);
    /* Lemire's multiply-shift; the bias is below 2^-32 for our key spaces. */
    return (uint64_t)(((unsigned __int128)kb_rand_next(r) * n) >> 64);
}

double kb_rand_unit(struct kb_rand *r)
{
    return (double)(kb_rand_next(r) >> 11) * 0x1.0p-53;
}

static double zeta(uint64_t n, double theta)
{
    double sum = 0;
    for (uint64_t i = 1; i <= n; i++)
        sum += 1.0 / pow((double)i, theta);
    return sum;
}

void kb_zipf_init(struct kb_zipf *z, uint64_t n, double theta)
{
    assert(n > 0);
    assert(theta > 0 && theta < 1);
    z->n = n;
    z->theta = theta;
    z->alpha = 1.0 / (1.0 - theta);
    z->zetan = zeta(n, theta);
    double zeta2 = zeta(2, theta);
    z->eta = (1.0 - pow(2.0 / (double)n, 1.0 - theta)) / (1.0 - zeta2 / z->zetan);
    z->half_pow_theta = 1.0 + pow(0.5, theta);
}

uint64_t kb_zipf_next(const struct kb_zipf *z, struct kb_rand *r)
{
    double u = kb_rand_unit(r);
    double uz = u * z->zetan;
    if (uz < 1.0)
        return 0;
    if (uz < z->half_pow_theta)
        return z->n > 1 ? 1 : 0;
    uint64_t v = (uint64_t)((double)z->n * pow(z->eta * u - z->eta + 1.0, z->alpha));
    return v < z->n ? v : z->n - 1;
}
