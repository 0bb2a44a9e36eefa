/* xoshiro256** (Blackman and Vigna, public domain) and the model's
 * distributions. Box-Muller takes two uniforms per normal and keeps no
 * spare, so a draw's cost in state never depends on earlier calls. */
#include "rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void rng_seed(SimRng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t rng_u64(SimRng *r)
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

double rng_unit(SimRng *r)
{
    return (double)(rng_u64(r) >> 11) * 0x1.0p-53;
}

uint64_t rng_below(SimRng *r, uint64_t n)
{
    /* Lemire's rejection keeps it unbiased. */
    uint64_t threshold = -n % n;
    for (;;) {
        uint64_t x = rng_u64(r);
        if (x >= threshold)
            return x % n;
    }
}

double rng_uniform(SimRng *r, double lo, double hi)
{
    return lo + (hi - lo) * rng_unit(r);
}

bool rng_chance(SimRng *r, double p)
{
    return rng_unit(r) < p;
}

double rng_normal(SimRng *r)
{
    double u1 = 1.0 - rng_unit(r); /* (0, 1]: log is finite */
    double u2 = rng_unit(r);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

double rng_lognormal(SimRng *r, double median, double sigma)
{
    return median * exp(sigma * rng_normal(r));
}

double rng_exponential(SimRng *r, double mean)
{
    return -mean * log(1.0 - rng_unit(r));
}

uint64_t rng_poisson(SimRng *r, double lambda)
{
    if (lambda <= 0)
        return 0;
    if (lambda >= 60) {
        double x = floor(lambda + sqrt(lambda) * rng_normal(r) + 0.5);
        return x < 0 ? 0 : (uint64_t)x;
    }
    double limit = exp(-lambda), p = 1.0;
    uint64_t k = 0;
    for (;;) {
        p *= rng_unit(r);
        if (p <= limit)
            return k;
        k++;
    }
}

size_t rng_weighted(SimRng *r, const double *weights, size_t n)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += weights[i];
    double x = rng_unit(r) * sum;
    for (size_t i = 0; i < n; i++) {
        if (x < weights[i])
            return i;
        x -= weights[i];
    }
    return n - 1; /* rounding at the top end */
}
