/* Two-sample comparison of replicate outcomes (compare.h): Welch's interval, Hedges' g, a
 * percentile bootstrap, and reading one metric at one tick out of an output file.
 *
 * For the statistics of `trustsim compare` and for tools and tests. Not for printing (the
 * command line does that) and not for writing files (output.c). Files are read through the
 * one reader (reader.h). */
#include "trustsim/compare.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "trustsim/reader.h"
#include "trustsim/rng.h"

/* ---- statistics -------------------------------------------------------------------------- */

static bool all_finite(const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return false;
    return true;
}

static ts_status check_samples(const double *a, size_t n_a, const double *b, size_t n_b,
                               double level, ts_error *err)
{
    if (n_a < 2 || n_b < 2)
        return ts_error_set(err, TS_EINPUT,
                            "too few values to compare: %zu and %zu (need at least 2 in each)", n_a,
                            n_b);
    if (!a || !b || !all_finite(a, n_a) || !all_finite(b, n_b))
        return ts_error_set(err, TS_EINPUT, "values to compare must be finite");
    if (!(level > 0.0 && level < 1.0))
        return ts_error_set(err, TS_EINPUT, "confidence level %g is not between 0 and 1", level);
    return TS_OK;
}

double ts_compare_hedges_correction(double m)
{
    if (!(m > 1.0))
        return NAN;
    return exp(gsl_sf_lngamma(m / 2.0) - 0.5 * log(m / 2.0) - gsl_sf_lngamma((m - 1.0) / 2.0));
}

ts_status ts_compare_welch(const double *a, size_t n_a, const double *b, size_t n_b, double level,
                           ts_compare_stats *out, ts_error *err)
{
    ts_status st = check_samples(a, n_a, b, n_b, level, err);
    if (st != TS_OK)
        return st;
    const double na = (double)n_a, nb = (double)n_b;
    const double ma = gsl_stats_mean(a, 1, n_a), mb = gsl_stats_mean(b, 1, n_b);
    const double va = gsl_stats_variance_m(a, 1, n_a, ma);
    const double vb = gsl_stats_variance_m(b, 1, n_b, mb);
    const double qa = va / na, qb = vb / nb; /* squared standard errors of the two means */
    ts_compare_stats s = {
        .n_a = n_a,
        .n_b = n_b,
        .mean_a = ma,
        .mean_b = mb,
        .sd_a = sqrt(va),
        .sd_b = sqrt(vb),
        .diff = mb - ma,
        .se = sqrt(qa + qb),
        .level = level,
    };
    if (s.se > 0.0) {
        s.df = (qa + qb) * (qa + qb) / (qa * qa / (na - 1.0) + qb * qb / (nb - 1.0));
        s.t_crit = gsl_cdf_tdist_Pinv(0.5 + level / 2.0, s.df);
        s.ci_low = s.diff - s.t_crit * s.se;
        s.ci_high = s.diff + s.t_crit * s.se;
    } else { /* neither sample varies: the difference is known exactly */
        s.df = NAN;
        s.t_crit = NAN;
        s.ci_low = s.ci_high = s.diff;
    }
    const double m = na + nb - 2.0;
    const double sp = sqrt(((na - 1.0) * va + (nb - 1.0) * vb) / m);
    s.cohens_d = sp > 0.0 ? s.diff / sp : NAN;
    s.hedges_g = sp > 0.0 ? ts_compare_hedges_correction(m) * s.cohens_d : NAN;
    *out = s;
    return TS_OK;
}

/* Mean of n values drawn with replacement from x. */
static double resampled_mean(const gsl_rng *r, const double *x, size_t n)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += x[gsl_rng_uniform_int(r, n)];
    return sum / (double)n;
}

ts_status ts_compare_bootstrap(const double *a, size_t n_a, const double *b, size_t n_b,
                               size_t resamples, double level, uint64_t seed, double *low,
                               double *high, ts_error *err)
{
    ts_status st = check_samples(a, n_a, b, n_b, level, err);
    if (st != TS_OK)
        return st;
    if (resamples < 2)
        return ts_error_set(err, TS_EINPUT, "a bootstrap needs at least 2 resamples, got %zu",
                            resamples);
    if (resamples > SIZE_MAX / sizeof(double))
        return ts_error_set(err, TS_EINPUT, "too many bootstrap resamples: %zu", resamples);
    double *diffs = malloc(resamples * sizeof *diffs);
    gsl_rng *r = ts_rng_alloc();
    if (!diffs || !r) {
        free(diffs);
        if (r)
            gsl_rng_free(r);
        return ts_error_set(err, TS_ERUNTIME, "out of memory for %zu bootstrap resamples",
                            resamples);
    }
    ts_rng_seed(r, seed);
    for (size_t k = 0; k < resamples; k++)
        diffs[k] = resampled_mean(r, b, n_b) - resampled_mean(r, a, n_a);
    gsl_sort(diffs, 1, resamples);
    *low = gsl_stats_quantile_from_sorted_data(diffs, 1, resamples, 0.5 - level / 2.0);
    *high = gsl_stats_quantile_from_sorted_data(diffs, 1, resamples, 0.5 + level / 2.0);
    gsl_rng_free(r);
    free(diffs);
    return TS_OK;
}

/* ---- reading an output file -------------------------------------------------------------- */

/* "PATH: no metric 'x' (no dataset /series/x); stored: a, b, c", the list cut short with
 * "..." when long. */
static ts_status no_such_metric(const ts_reader *r, const char *metric, ts_error *err)
{
    char list[640] = "";
    size_t len = 0;
    bool cut = false;
    for (int m = 0; m < ts_reader_info(r)->n_metrics && !cut; m++) {
        const char *name = ts_reader_metric(r, m);
        if (len + strlen(name) + 6 >= sizeof list)
            cut = true;
        else
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", len ? ", " : "", name);
    }
    return ts_error_set(err, TS_EINPUT, "%s: no metric '%s' (no dataset /series/%s); stored: %s%s",
                        ts_reader_path(r), metric, metric, len ? list : "none",
                        cut ? ", ..." : "");
}

/* "path=value, ..." of the swept parameters at one point ("" without a sweep). */
static void read_point_label(const ts_reader *r, size_t point, char *label, size_t cap)
{
    const ts_file_info *in = ts_reader_info(r);
    label[0] = '\0';
    double *col = malloc(in->n_points * sizeof *col);
    ts_error ignored;
    for (int k = 0; col && k < in->n_params; k++) {
        if (ts_reader_points(r, k, col, &ignored) != TS_OK)
            continue;
        size_t len = strlen(label);
        snprintf(label + len, cap - len, "%s%s=%g", len ? ", " : "", ts_reader_param(r, k),
                 col[point]);
    }
    free(col);
}

/* The time index of `tick` (< 0: the last), or an error naming the range. */
static ts_status find_tick(const ts_reader *r, const char *metric, long tick, size_t *index,
                           ts_error *err)
{
    const int64_t *ticks = ts_reader_ticks(r);
    const size_t n_times = ts_reader_info(r)->n_times;
    if (tick < 0) {
        *index = n_times - 1;
        return TS_OK;
    }
    for (size_t i = 0; i < n_times; i++) {
        if (ticks[i] == tick) {
            *index = i;
            return TS_OK;
        }
    }
    return ts_error_set(err, TS_EINPUT, "%s: tick %ld is outside /series/%s (ticks %lld to %lld)",
                        ts_reader_path(r), tick, metric, (long long)ticks[0],
                        (long long)ticks[n_times - 1]);
}

static ts_status read_sample(const ts_reader *r, ts_compare_sample *s, const char *metric,
                             long tick, size_t point, ts_error *err)
{
    const ts_file_info *in = ts_reader_info(r);
    const int m = ts_reader_metric_index(r, metric);
    if (m < 0)
        return no_such_metric(r, metric, err);
    if (point >= in->n_points)
        return ts_error_set(err, TS_EINPUT,
                            "%s: point %zu is out of range: the file has %zu point%s (0 to %zu)",
                            ts_reader_path(r), point, in->n_points, in->n_points == 1 ? "" : "s",
                            in->n_points - 1);
    size_t t = 0;
    ts_status st = find_tick(r, metric, tick, &t, err);
    if (st != TS_OK)
        return st;
    const size_t n_reps = in->n_replicates;
    double *row = malloc(n_reps * sizeof *row);
    s->values = malloc(n_reps * sizeof *s->values);
    if (!row || !s->values)
        st = ts_error_set(err, TS_ERUNTIME, "%s: out of memory (%s)", ts_reader_path(r),
                          strerror(ENOMEM));
    if (st == TS_OK)
        st = ts_reader_series_at(r, m, point, 1, t, row, err);
    if (st == TS_OK) {
        const int64_t *ticks = ts_reader_ticks(r);
        s->n_points = in->n_points;
        s->n_replicates = n_reps;
        s->tick = (long)ticks[t];
        s->first_tick = (long)ticks[0];
        s->last_tick = (long)ticks[in->n_times - 1];
        for (size_t rep = 0; rep < n_reps; rep++) {
            if (!ts_reader_run_done(r, point, rep))
                continue;
            s->n_done++;
            if (isfinite(row[rep]))
                s->values[s->n++] = row[rep];
            else
                s->n_not_finite++;
        }
        s->master_seed = in->master_seed;
        snprintf(s->tick_unit, sizeof s->tick_unit, "%s", in->tick_unit);
        read_point_label(r, point, s->point_label, sizeof s->point_label);
    }
    free(row);
    return st;
}

ts_status ts_compare_read(ts_compare_sample *s, const char *path, const char *metric, long tick,
                          size_t point, ts_error *err)
{
    memset(s, 0, sizeof *s);
    ts_reader *r;
    ts_status st = ts_reader_open(&r, path, err);
    if (st == TS_OK) {
        st = read_sample(r, s, metric, tick, point, err);
        ts_reader_close(r);
    }
    if (st != TS_OK)
        ts_compare_sample_destroy(s);
    return st;
}

void ts_compare_sample_destroy(ts_compare_sample *s)
{
    free(s->values);
    memset(s, 0, sizeof *s);
}
