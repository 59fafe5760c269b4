/* Comparing two sets of replicates: the statistics behind `trustsim compare`, and reading one
 * metric at one tick out of an output file.
 *
 * For: the difference of two replicate means (B minus A) with a Welch t confidence interval, a
 * percentile bootstrap interval and a standardised effect size (Hedges' g), on plain arrays so
 * that tests and tools can call them directly; and ts_compare_read, which pulls the values of
 * /series/<metric> at one (point, tick) from a file laid out as output.h describes, keeping only
 * the replicates marked done whose value is finite. Not for: writing outputs (output.h), printing
 * (the command line formats the results), or tests of many metrics at once (no multiplicity
 * correction is made). */
#ifndef TRUSTSIM_COMPARE_H
#define TRUSTSIM_COMPARE_H

#include <stddef.h>
#include <stdint.h>

#include "trustsim/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Two independent samples a and b compared by the difference of their means, b minus a. */
typedef struct ts_compare_stats {
    size_t n_a, n_b;
    double mean_a, mean_b;
    double sd_a, sd_b; /* sample standard deviations (divisor n - 1) */
    double diff;       /* mean_b - mean_a */
    double se;         /* Welch's standard error sqrt(var_a / n_a + var_b / n_b) */
    /* Welch-Satterthwaite degrees of freedom
     *   df = (v_a/n_a + v_b/n_b)^2 / ((v_a/n_a)^2/(n_a-1) + (v_b/n_b)^2/(n_b-1));
     * NaN when neither sample varies (se = 0). */
    double df;
    double level;           /* confidence level of the interval, e.g. 0.95 */
    double t_crit;          /* the t quantile at (1 + level) / 2 with df degrees of freedom */
    double ci_low, ci_high; /* diff -/+ t_crit * se; both equal diff when se = 0 */
    /* Cohen's d = diff / s_p with the pooled standard deviation
     *   s_p = sqrt(((n_a-1) v_a + (n_b-1) v_b) / (n_a + n_b - 2)),
     * and Hedges' g = J(n_a + n_b - 2) * d with the exact small-sample correction
     *   J(m) = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2))   (Hedges 1981; about 1 - 3/(4m - 1)).
     * Both NaN when s_p = 0 (no spread to standardise by). */
    double cohens_d;
    double hedges_g;
} ts_compare_stats;

/* Welch's two-sample comparison. Needs at least 2 values in each sample, all finite, and
 * 0 < level < 1; otherwise TS_EINPUT. */
ts_status ts_compare_welch(const double *a, size_t n_a, const double *b, size_t n_b, double level,
                           ts_compare_stats *out, ts_error *err);

/* Hedges' exact small-sample correction factor J(m) for m degrees of freedom (m > 1). */
double ts_compare_hedges_correction(double m);

/* Percentile bootstrap interval of mean(b) - mean(a): `resamples` times, draw n_a values of a
 * and n_b values of b with replacement, and take the (1 - level)/2 and (1 + level)/2 quantiles
 * of the resampled differences. The draws come from the project's generator (rng.h) seeded
 * with `seed`, so the interval is reproducible. Needs at least 2 values per sample and at least
 * 2 resamples; TS_ERUNTIME when out of memory. */
ts_status ts_compare_bootstrap(const double *a, size_t n_a, const double *b, size_t n_b,
                               size_t resamples, double level, uint64_t seed, double *low,
                               double *high, ts_error *err);

/* One metric at one (point, tick) of one output file. */
typedef struct ts_compare_sample {
    double *values;      /* the counted replicates' values, in replicate order (malloc'd) */
    size_t n;            /* counted: done and finite */
    size_t n_replicates; /* replicates the file holds per point */
    size_t n_done;       /* of those, marked done at this point */
    size_t n_not_finite; /* done replicates whose value is NaN or infinite (left out) */
    size_t n_points;
    long tick; /* the tick read */
    long first_tick, last_tick;
    uint64_t master_seed; /* the file's master_seed attribute (0 if absent) */
    char tick_unit[16];   /* the file's tick_unit attribute ("" if absent) */
    /* the swept values at this point from /points, "path=value, ..." ("" without a sweep) */
    char point_label[256];
} ts_compare_sample;

/* Read /series/<metric>[point, :, tick] from the file at path (tick < 0: the last tick). Errors
 * name the file and what is wrong: a missing or unreadable file, a file that is not a trustsim
 * output, no such metric (the message lists those stored), a point or tick out of range
 * (TS_EINPUT); an HDF5 read failure (TS_ERUNTIME). On failure s holds nothing to free. */
ts_status ts_compare_read(ts_compare_sample *s, const char *path, const char *metric, long tick,
                          size_t point, ts_error *err);
void ts_compare_sample_destroy(ts_compare_sample *s);

#ifdef __cplusplus
}
#endif
#endif
