/* Variance-based sensitivity analysis of a Saltelli sweep: first-order and total Sobol indices
 * of each swept parameter, with bootstrap intervals, and reading their inputs from (and writing
 * them into) an output file.
 *
 * For: `trustsim sensitivity` and tests. The estimators work on plain arrays laid out as
 * design.h lays out a Saltelli design (base samples N, k parameters; point j*(k+2) is A_j, +1 is
 * B_j, +2+i is A_j with column i taken from B_j), so any function can be checked against its
 * analytic indices. Not for: running the design (ensemble.h) or printing (the command line).
 *
 * With f_A, f_B, f_ABi the outputs at A_j, B_j and A_j-with-column-i-from-B_j, j = 1..N, and
 * m and V the mean and variance (divisor 2N) of the 2N values f_A and f_B together:
 *   first order (Saltelli et al. 2010, Comput. Phys. Commun. 181:259-270)
 *       S_i  = (1/N) sum_j (f_B,j - m) (f_ABi,j - f_A,j) / V
 *   total effect (Jansen 1999, Comput. Phys. Commun. 117:35-43)
 *       ST_i = (1/(2N)) sum_j (f_A,j - f_ABi,j)^2 / V
 * Centring f_B on m leaves the estimator's expectation as it is and keeps its variance from
 * growing with the square of the mean output. Intervals: percentile bootstrap over the base rows j
 * (each row keeps its k+2 outputs together), drawn with the project's generator (rng.h) from a
 * given seed, so they are reproducible. */
#ifndef TRUSTSIM_SENSITIVITY_H
#define TRUSTSIM_SENSITIVITY_H

#include <stddef.h>
#include <stdint.h>

#include "trustsim/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The indices of one parameter; *_lo and *_hi bound the bootstrap interval (NaN without
 * bootstrap). */
typedef struct ts_sobol_index {
    double first, first_lo, first_hi;
    double total, total_lo, total_hi;
} ts_sobol_index;

typedef struct ts_sobol_options {
    int bootstrap; /* resamples of the base rows; 0: no intervals */
    double level;  /* interval level in (0, 1), e.g. 0.95 */
    uint64_t seed; /* seed of the resampling generator */
} ts_sobol_options;

/* Indices of the k parameters from the n * (k + 2) outputs y in design order, into out[k].
 * Base rows holding a non-finite output are left out; *n_used (may be NULL) says how many rows
 * were used. TS_EINPUT when fewer than 2 rows are usable, when the used outputs do not vary
 * (the indices are undefined), or for bad arguments; TS_ERUNTIME when out of memory. */
ts_status ts_sobol_estimate(const double *y, int n, int k, const ts_sobol_options *opt,
                            ts_sobol_index *out, int *n_used, ts_error *err);

/* The seed of the bootstrap of an output file's indices: ts_seed_hash(master_seed,
 * UINT64_MAX, 1). Point UINT64_MAX is reserved for design-level draws (design.h uses
 * replicate 0 of it for Latin hypercubes); replicate 1 of it is this bootstrap. */
uint64_t ts_sensitivity_seed(uint64_t master_seed);

/* What an output file gives a sensitivity analysis of one metric at one tick. */
typedef struct ts_sensitivity_input {
    int n;               /* base samples N */
    int k;               /* swept parameters */
    char (*names)[256];  /* their paths, [k] */
    double *y;           /* [n * (k + 2)]: per point, the mean over its done replicates of the
                          * metric's finite values at the tick (NaN when there are none) */
    size_t n_replicates; /* replicates per point in the file */
    size_t runs_done;    /* done runs over all points */
    long tick;           /* the tick read */
    long last_tick;
    uint64_t master_seed; /* the file's master_seed attribute */
} ts_sensitivity_input;

/* Read /series/<metric> at `tick` (tick < 0: the last) of every point of the output at path,
 * whose /scenario/resolved must describe a saltelli sweep matching its /points. Errors name the
 * file and the fault: not a trustsim output, not a Saltelli design, no such metric, tick out of
 * range (TS_EINPUT); HDF5 or memory failure (TS_ERUNTIME). On failure in holds nothing. */
ts_status ts_sensitivity_read(ts_sensitivity_input *in, const char *path, const char *metric,
                              long tick, ts_error *err);
void ts_sensitivity_input_destroy(ts_sensitivity_input *in);

/* Store the indices of `metric` in the output at path (opened read-write: the one change made
 * to an output after its run) as /sensitivity/<metric>/{first, first_lo, first_hi, total,
 * total_lo, total_hi}, float64 [parameter], with the parameter paths as the dimension scale
 * /sensitivity/<metric>/parameter and attributes tick, n_base, n_used, bootstrap, level,
 * bootstrap_seed, estimator_first, estimator_total. A previous analysis of the same metric is
 * replaced. */
ts_status ts_sensitivity_write(const char *path, const char *metric, const ts_sensitivity_input *in,
                               const ts_sobol_options *opt, const ts_sobol_index *idx, int n_used,
                               ts_error *err);

#ifdef __cplusplus
}
#endif
#endif
