/* Forgetting (docs/model.md 7.2, 7.5): every count of evidence is multiplied by keep = 1 -
 * forget each tick. Beliefs and group images fade lazily: their counts are stored in units of
 * a common factor, which alone is multiplied each tick; new evidence is added divided by it,
 * and when the factor gets small it is folded into the counts and reset to 1. Evidence taken
 * back later (conflict resolution) is faded eagerly by the same law. */
#ifndef TS_ENGINE_FADING_H
#define TS_ENGINE_FADING_H

#include <math.h>
#include <stdbool.h>

/* What remains of a count after `ticks` ticks of forgetting. */
static inline double ts_fading_over(double forget, int ticks)
{
    return pow(1.0 - forget, ticks);
}

/* One tick of lazy fading of the common factor *unit; true when the caller must now fold
 * *unit into its counts and set it to 1 (before stored counts grow large). */
static inline bool ts_fading_step(double *unit, double forget)
{
    *unit *= 1.0 - forget;
    return *unit < 1e-6;
}

#endif
