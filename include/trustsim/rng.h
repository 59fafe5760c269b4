/* Random streams. Every run owns one gsl_rng (Mersenne Twister, gsl_rng_mt19937), seeded from
 * (master seed, sweep point, replicate) by ts_seed_hash, so a run's numbers depend on nothing
 * else: not on threads, ranks or the order runs are scheduled in. */
#ifndef TRUSTSIM_RNG_H
#define TRUSTSIM_RNG_H

#include <stdint.h>

#include <gsl/gsl_rng.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The documented seed hash: SplitMix64 finalisers chained over the three inputs,
 *   h = mix(mix(mix(master) ^ (point + G)) ^ (replicate + 2G)),  G = 0x9E3779B97F4A7C15,
 *   mix(z) = SplitMix64's output function of z + G.
 * Distinct (point, replicate) give distinct 64-bit seeds with overwhelming probability. */
uint64_t ts_seed_hash(uint64_t master, uint64_t point, uint64_t replicate);

/* Allocate the generator type used by every run; NULL when out of memory. */
gsl_rng *ts_rng_alloc(void);
/* Seed r with all 64 bits of seed: the 624-word Mersenne Twister state is filled from a
 * SplitMix64 stream started at seed (the 32-bit gsl_rng_set would let 100,000 runs collide). */
void ts_rng_seed(gsl_rng *r, uint64_t seed);
/* Name of the generator, for output metadata. */
const char *ts_rng_name(void);

#ifdef __cplusplus
}
#endif
#endif
