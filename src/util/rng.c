/* Seeding of per-run random streams (see include/trustsim/rng.h). Not a generator: every draw
 * goes through GSL. */
#include "trustsim/rng.h"

#include <string.h>

#define GOLDEN 0x9E3779B97F4A7C15ULL

static uint64_t splitmix64_next(uint64_t *state)
{
    uint64_t z = (*state += GOLDEN);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint64_t mix(uint64_t z)
{
    return splitmix64_next(&z);
}

uint64_t ts_seed_hash(uint64_t master, uint64_t point, uint64_t replicate)
{
    return mix(mix(mix(master) ^ (point + GOLDEN)) ^ (replicate + 2 * GOLDEN));
}

gsl_rng *ts_rng_alloc(void)
{
    return gsl_rng_alloc(gsl_rng_mt19937);
}

const char *ts_rng_name(void)
{
    return gsl_rng_mt19937->name;
}

/* Layout of GSL's mt19937 state (gsl/rng/mt.c). Checked against gsl_rng_size before use. */
typedef struct {
    unsigned long mt[624];
    int mti;
} mt_state;

void ts_rng_seed(gsl_rng *r, uint64_t seed)
{
    if (gsl_rng_size(r) != sizeof(mt_state)) {
        /* Unknown layout: fall back to the generator's own 32-bit seeding. */
        gsl_rng_set(r, (unsigned long)(seed ^ (seed >> 32)));
        return;
    }
    gsl_rng_set(r, 1); /* puts the generator in a defined state */
    mt_state *st = gsl_rng_state(r);
    uint64_t sm = seed;
    unsigned long any = 0;
    for (int i = 0; i < 624; i++) {
        st->mt[i] = (unsigned long)(splitmix64_next(&sm) & 0xffffffffULL);
        any |= st->mt[i];
    }
    if (!any)
        st->mt[0] = 0x80000000UL; /* the all-zero state is the one forbidden state */
    st->mti = 624;                /* regenerate the block before the first output */
}
