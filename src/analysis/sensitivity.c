/* Sobol sensitivity indices of a Saltelli sweep (see include/trustsim/sensitivity.h): the
 * estimators with their bootstrap, the reading of their inputs from an output file (through
 * reader.h) and the results handed to the writer (output.h) to store. Not for printing: the
 * command line formats the table. */
#include "trustsim/sensitivity.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "trustsim/design.h"
#include "trustsim/output.h"
#include "trustsim/reader.h"
#include "trustsim/rng.h"
#include "trustsim/scenario.h"

/* ---- estimators ---------------------------------------------------------------------------- */

/* The indices from the base rows rows[0..m) (indices into 0..n), without intervals. f_B is
 * centred on the mean of the f_A and f_B: the expectation of the first-order sum is unchanged
 * (f_ABi - f_A has mean zero) but its variance no longer grows with the square of the mean
 * output, which otherwise swamps indices of outputs far from zero (trust near 0.5, say). */
static void sobol_point(const double *y, int k, const int *rows, int m, double *first,
                        double *total)
{
    const int stride = k + 2;
    double sum = 0.0, sum_sq = 0.0;
    for (int r = 0; r < m; r++) {
        const double *row = y + (size_t)rows[r] * stride;
        sum += row[0] + row[1];
    }
    const double mean = sum / (2.0 * m);
    for (int r = 0; r < m; r++) {
        const double *row = y + (size_t)rows[r] * stride;
        sum_sq += (row[0] - mean) * (row[0] - mean) + (row[1] - mean) * (row[1] - mean);
    }
    const double var = sum_sq / (2.0 * m);
    for (int i = 0; i < k; i++) {
        double v_first = 0.0, v_total = 0.0;
        for (int r = 0; r < m; r++) {
            const double *row = y + (size_t)rows[r] * stride;
            const double fa = row[0], fb = row[1], fab = row[2 + i];
            v_first += (fb - mean) * (fab - fa);
            v_total += (fa - fab) * (fa - fab);
        }
        first[i] = var > 0.0 ? v_first / m / var : NAN;
        total[i] = var > 0.0 ? v_total / (2.0 * m) / var : NAN;
    }
}

/* The (1 -/+ level)/2 quantiles of the finite values among x[0..n) (sorted here). */
static void percentile_interval(double *x, int n, double level, double *lo, double *hi)
{
    int m = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(x[i]))
            x[m++] = x[i];
    if (m == 0) {
        *lo = *hi = NAN;
        return;
    }
    gsl_sort(x, 1, (size_t)m);
    *lo = gsl_stats_quantile_from_sorted_data(x, 1, (size_t)m, (1.0 - level) / 2.0);
    *hi = gsl_stats_quantile_from_sorted_data(x, 1, (size_t)m, (1.0 + level) / 2.0);
}

/* Bootstrap: resample the used rows with replacement, opt->bootstrap times. */
static ts_status sobol_bootstrap(const double *y, int k, const int *used, int m,
                                 const ts_sobol_options *opt, ts_sobol_index *out, ts_error *err)
{
    const int b = opt->bootstrap;
    int *rows = malloc((size_t)m * sizeof *rows);
    double *first = malloc((size_t)b * k * sizeof *first);
    double *total = malloc((size_t)b * k * sizeof *total);
    double *f1 = malloc((size_t)k * sizeof *f1), *t1 = malloc((size_t)k * sizeof *t1);
    gsl_rng *rng = ts_rng_alloc();
    ts_status st = TS_OK;
    if (!rows || !first || !total || !f1 || !t1 || !rng) {
        st = ts_error_set(err, TS_ERUNTIME, "out of memory for the bootstrap");
        goto done;
    }
    ts_rng_seed(rng, opt->seed);
    for (int s = 0; s < b; s++) {
        for (int r = 0; r < m; r++)
            rows[r] = used[gsl_rng_uniform_int(rng, (unsigned long)m)];
        sobol_point(y, k, rows, m, f1, t1);
        for (int i = 0; i < k; i++) { /* stored parameter-major: one parameter's draws together */
            first[(size_t)i * b + s] = f1[i];
            total[(size_t)i * b + s] = t1[i];
        }
    }
    for (int i = 0; i < k; i++) {
        percentile_interval(first + (size_t)i * b, b, opt->level, &out[i].first_lo,
                            &out[i].first_hi);
        percentile_interval(total + (size_t)i * b, b, opt->level, &out[i].total_lo,
                            &out[i].total_hi);
    }
done:
    gsl_rng_free(rng);
    free(rows), free(first), free(total), free(f1), free(t1);
    return st;
}

ts_status ts_sobol_estimate(const double *y, int n, int k, const ts_sobol_options *opt,
                            ts_sobol_index *out, int *n_used, ts_error *err)
{
    if (!y || !out || !opt || n < 1 || k < 1 || opt->bootstrap < 0 ||
        (opt->bootstrap > 0 && !(opt->level > 0.0 && opt->level < 1.0)))
        return ts_error_set(err, TS_EINPUT, "Sobol indices: bad arguments (n %d, k %d)", n, k);
    int *used = malloc((size_t)n * sizeof *used);
    double *first = malloc((size_t)k * sizeof *first), *total = malloc((size_t)k * sizeof *total);
    ts_status st = TS_OK;
    int m = 0;
    if (!used || !first || !total) {
        st = ts_error_set(err, TS_ERUNTIME, "out of memory for the Sobol indices");
        goto done;
    }
    for (int j = 0; j < n; j++) {
        bool finite = true;
        for (int c = 0; c < k + 2; c++)
            finite = finite && isfinite(y[(size_t)j * (k + 2) + c]);
        if (finite)
            used[m++] = j;
    }
    if (n_used)
        *n_used = m;
    if (m < 2) {
        st = ts_error_set(err, TS_EINPUT,
                          "Sobol indices need at least 2 base samples with finite outputs, "
                          "%d of %d have them",
                          m, n);
        goto done;
    }
    sobol_point(y, k, used, m, first, total);
    if (!isfinite(first[0])) {
        st = ts_error_set(err, TS_EINPUT,
                          "the output does not vary over the design: Sobol indices are undefined");
        goto done;
    }
    for (int i = 0; i < k; i++)
        out[i] = (ts_sobol_index){first[i], NAN, NAN, total[i], NAN, NAN};
    if (opt->bootstrap > 0)
        st = sobol_bootstrap(y, k, used, m, opt, out, err);
done:
    free(used), free(first), free(total);
    return st;
}

uint64_t ts_sensitivity_seed(uint64_t master_seed)
{
    return ts_seed_hash(master_seed, UINT64_MAX, 1);
}

/* ---- reading an output file ---------------------------------------------------------------- */

/* The design of the file: its resolved scenario must describe a saltelli sweep whose points are
 * the file's /points. Fills n, k and names. */
static ts_status read_design(ts_sensitivity_input *in, const ts_reader *r, ts_error *err)
{
    const char *path = ts_reader_path(r);
    const size_t n_points = ts_reader_info(r)->n_points;
    const char *text = ts_reader_scenario_resolved(r);
    if (!text[0])
        return ts_error_set(err, TS_EINPUT, "%s: no /scenario/resolved", path);
    char name[300];
    snprintf(name, sizeof name, "%s:/scenario/resolved", path);
    ts_scenario sc;
    ts_status st = ts_scenario_load_string(&sc, text, name, err);
    if (st != TS_OK)
        return st;
    ts_points pts = {0};
    if (sc.params.sweep.design != TS_DESIGN_SALTELLI)
        st = ts_error_set(err, TS_EINPUT,
                          "%s: Sobol indices need a saltelli sweep; this file's design is %s", path,
                          ts_design_name(sc.params.sweep.design));
    if (st == TS_OK)
        st = ts_points_build(&sc.params, &pts, err);
    ts_scenario_destroy(&sc);
    if (st != TS_OK)
        return st;
    if ((size_t)pts.n_points != n_points)
        st = ts_error_set(err, TS_EINPUT,
                          "%s: the saltelli design has %d points but /series holds %zu", path,
                          pts.n_points, n_points);
    double *col = st == TS_OK ? malloc(n_points * sizeof *col) : NULL;
    if (st == TS_OK && !col)
        st = ts_error_set(err, TS_ERUNTIME, "%s: out of memory (%s)", path, strerror(ENOMEM));
    for (int c = 0; st == TS_OK && c < pts.n_params; c++) {
        int k = 0;
        while (k < ts_reader_info(r)->n_params && strcmp(ts_reader_param(r, k), pts.names[c]) != 0)
            k++;
        ts_error ignored;
        bool ok = k < ts_reader_info(r)->n_params && ts_reader_points(r, k, col, &ignored) == TS_OK;
        for (size_t p = 0; ok && p < n_points; p++) {
            double want = pts.values[p * (size_t)pts.n_params + c];
            ok = fabs(col[p] - want) <= 1e-12 * (1.0 + fabs(want));
        }
        if (!ok)
            st = ts_error_set(err, TS_EINPUT,
                              "%s: /points/%s does not hold the saltelli design of "
                              "/scenario/resolved",
                              path, pts.names[c]);
    }
    free(col);
    if (st == TS_OK) {
        in->n = pts.saltelli_n;
        in->k = pts.n_params;
        in->names = pts.names; /* taken over */
        pts.names = NULL;
    }
    ts_points_destroy(&pts);
    return st;
}

/* The index of `tick` on the time axis (tick < 0: the last). */
static ts_status find_tick(const ts_reader *r, long tick, ts_sensitivity_input *in, size_t *index,
                           ts_error *err)
{
    const int64_t *ticks = ts_reader_ticks(r);
    const size_t n_times = ts_reader_info(r)->n_times;
    in->last_tick = (long)ticks[n_times - 1];
    *index = n_times;
    for (size_t i = 0; i < n_times; i++)
        if (tick < 0 ? i == n_times - 1 : ticks[i] == tick)
            *index = i;
    if (*index == n_times)
        return ts_error_set(err, TS_EINPUT, "%s: tick %ld is outside the run (ticks %ld to %ld)",
                            ts_reader_path(r), tick, (long)ticks[0], (long)ticks[n_times - 1]);
    in->tick = (long)ticks[*index];
    return TS_OK;
}

/* y[p] := mean over the done replicates of point p of the finite values at time index t. */
static ts_status read_outputs(ts_sensitivity_input *in, const ts_reader *r, int m, size_t t,
                              ts_error *err)
{
    const size_t n_points = ts_reader_info(r)->n_points, n_reps = ts_reader_info(r)->n_replicates;
    double *vals = malloc(n_points * n_reps * sizeof *vals);
    in->y = malloc(n_points * sizeof *in->y);
    ts_status st = vals && in->y ? TS_OK
                                 : ts_error_set(err, TS_ERUNTIME, "%s: out of memory (%s)",
                                                ts_reader_path(r), strerror(ENOMEM));
    if (st == TS_OK)
        st = ts_reader_series_at(r, m, 0, n_points, t, vals, err);
    in->runs_done = 0;
    for (size_t p = 0; st == TS_OK && p < n_points; p++) {
        double sum = 0.0;
        size_t used = 0;
        for (size_t rep = 0; rep < n_reps; rep++) {
            const double v = vals[p * n_reps + rep];
            const bool done = ts_reader_run_done(r, p, rep);
            in->runs_done += done;
            if (done && isfinite(v))
                sum += v, used++;
        }
        in->y[p] = used ? sum / (double)used : NAN;
    }
    free(vals);
    return st;
}

static ts_status read_input(ts_sensitivity_input *in, const ts_reader *r, const char *metric,
                            long tick, ts_error *err)
{
    const int m = ts_reader_metric_index(r, metric);
    if (m < 0)
        return ts_error_set(err, TS_EINPUT, "%s: no metric '%s' (no dataset /series/%s)",
                            ts_reader_path(r), metric, metric);
    size_t t = 0;
    ts_status st = read_design(in, r, err);
    if (st == TS_OK)
        st = find_tick(r, tick, in, &t, err);
    if (st == TS_OK)
        st = read_outputs(in, r, m, t, err);
    in->n_replicates = ts_reader_info(r)->n_replicates;
    in->master_seed = ts_reader_info(r)->master_seed;
    return st;
}

ts_status ts_sensitivity_read(ts_sensitivity_input *in, const char *path, const char *metric,
                              long tick, ts_error *err)
{
    memset(in, 0, sizeof *in);
    ts_reader *r;
    ts_status st = ts_reader_open(&r, path, err);
    if (st == TS_OK) {
        st = read_input(in, r, metric, tick, err);
        ts_reader_close(r);
    }
    if (st != TS_OK)
        ts_sensitivity_input_destroy(in);
    return st;
}

void ts_sensitivity_input_destroy(ts_sensitivity_input *in)
{
    free(in->names);
    free(in->y);
    memset(in, 0, sizeof *in);
}

/* ---- storing the indices ------------------------------------------------------------------- */

ts_status ts_sensitivity_write(const char *path, const char *metric, const ts_sensitivity_input *in,
                               const ts_sobol_options *opt, const ts_sobol_index *idx, int n_used,
                               ts_error *err)
{
    if (!*metric || strchr(metric, '/') || strcmp(metric, ".") == 0 || in->k < 1)
        return ts_error_set(err, TS_EINPUT, "%s: nothing to write for metric '%s'", path, metric);
    const size_t k = (size_t)in->k;
    const char **names = malloc(k * sizeof *names);
    double *v = malloc(6 * k * sizeof *v);
    ts_status st = names && v ? TS_OK
                              : ts_error_set(err, TS_ERUNTIME, "%s: out of memory (%s)", path,
                                             strerror(ENOMEM));
    for (size_t i = 0; st == TS_OK && i < k; i++) {
        names[i] = in->names[i];
        const ts_sobol_index *x = &idx[i];
        const double vals[6] = {x->first, x->first_lo, x->first_hi,
                                x->total, x->total_lo, x->total_hi};
        for (int c = 0; c < 6; c++)
            v[(size_t)c * k + i] = vals[c];
    }
    ts_output_indices ix = {
        .metric = metric,
        .k = in->k,
        .names = names,
        .first = v,
        .first_lo = v + k,
        .first_hi = v + 2 * k,
        .total = v + 3 * k,
        .total_lo = v + 4 * k,
        .total_hi = v + 5 * k,
        .tick = in->tick,
        .n_base = in->n,
        .n_used = n_used,
        .bootstrap = opt->bootstrap,
        .level = opt->level,
        .bootstrap_seed = opt->seed,
        .estimator_first = "Saltelli et al. (2010)",
        .estimator_total = "Jansen (1999)",
        .output = "mean over the done replicates of a point of the metric's finite values at "
                  "the tick",
    };
    if (st == TS_OK)
        st = ts_output_add_indices(path, &ix, err);
    free(names);
    free(v);
    return st;
}
