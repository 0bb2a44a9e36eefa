/* The simulator's only source of randomness: xoshiro256** seeded through
 * splitmix64, and the distributions the model draws from. Nothing here
 * reads a clock, so a seed fixes every draw on a given build. */
#ifndef SIM_RNG_H
#define SIM_RNG_H

#include "kic.h"

typedef struct SimRng {
    uint64_t s[4];
} SimRng;

void rng_seed(SimRng *r, uint64_t seed);
uint64_t rng_u64(SimRng *r);
/* Uniform in [0, 1). */
double rng_unit(SimRng *r);
/* Uniform integer in [0, n); n > 0. */
uint64_t rng_below(SimRng *r, uint64_t n);
/* Uniform in [lo, hi). */
double rng_uniform(SimRng *r, double lo, double hi);
bool rng_chance(SimRng *r, double p);
/* Standard normal (Box-Muller, one value per call). */
double rng_normal(SimRng *r);
/* Lognormal with the given median and shape (sigma of the log). */
double rng_lognormal(SimRng *r, double median, double sigma);
/* Exponential with the given mean. */
double rng_exponential(SimRng *r, double mean);
/* Poisson count with mean lambda (exact below 60, normal beyond). */
uint64_t rng_poisson(SimRng *r, double lambda);
/* Index drawn with probability weights[i] / sum; n > 0, sum > 0. */
size_t rng_weighted(SimRng *r, const double *weights, size_t n);

#endif
