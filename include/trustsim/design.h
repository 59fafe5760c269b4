/* Sweep designs: the points a `sweep:` block asks for (grid, list, Latin hypercube, Sobol
 * quasi-random, Saltelli), and applying a point to a copy of the parameters.
 *
 * Randomised designs (lhs) draw from a generator seeded from the master seed by ts_seed_hash
 * with the reserved point index UINT64_MAX, so a design is fixed by its scenario. Sobol and
 * Saltelli points come from GSL's gsl_qrng_sobol. Not the runs themselves (ensemble.h). */
#ifndef TRUSTSIM_DESIGN_H
#define TRUSTSIM_DESIGN_H

#include "trustsim/error.h"
#include "trustsim/params.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ts_points {
    int n_points;
    int n_params;
    char (*names)[256]; /* parameter paths, [n_params] */
    double *values;     /* [n_points][n_params] */
    /* Saltelli designs: base samples N; point j*(k+2) is A_j, +1 is B_j, +2+i is A_j with
     * column i from B_j (k = n_params). 0 for other designs. */
    int saltelli_n;
} ts_points;

/* The points of p's sweep (one point with no parameters when there is no sweep). */
ts_status ts_points_build(const ts_params *p, ts_points *out, ts_error *err);
void ts_points_destroy(ts_points *pts);

/* dst := a deep copy of base with point i's values applied (integers rounded, booleans
 * thresholded at 1/2). dst must hold nothing; on failure it holds nothing. */
ts_status ts_points_apply(const ts_points *pts, int i, const ts_params *base, ts_params *dst,
                          ts_error *err);

const char *ts_design_name(ts_design d);

#ifdef __cplusplus
}
#endif
#endif
