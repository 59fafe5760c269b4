/* Sobol sensitivity indices of a Saltelli sweep (see include/trustsim/sensitivity.h): the
 * estimators with their bootstrap, and the reading of their inputs from an output file and the
 * writing of the results into it. Not for printing: the command line formats the table. */
#include "trustsim/sensitivity.h"

#include "io/h5util.h"

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
#include <hdf5.h>
#include <hdf5_hl.h>

#include "trustsim/design.h"
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


static bool link_exists(hid_t loc, const char *name)
{
    return H5Lexists(loc, name, H5P_DEFAULT) > 0;
}

/* Open path for reading (or read-write) after checking it is a trustsim output. */
static ts_status open_output(const char *path, bool write, hid_t *file, ts_error *err)
{
    ts_status st = ts_h5_open(path, write, file, err);
    if (st != TS_OK)
        return st;
    if (!link_exists(*file, "/series") || !link_exists(*file, "/done") ||
        !link_exists(*file, "/scenario"))
        return ts_error_set(err, TS_EINPUT,
                            "%s: not a trustsim output (no /series, /done or "
                            "/scenario)",
                            path);
    return TS_OK;
}

static uint64_t read_u64_attr(hid_t loc, const char *name)
{
    uint64_t v = 0;
    if (H5Aexists(loc, name) > 0) {
        hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
        if (a < 0 || H5Aread(a, H5T_NATIVE_UINT64, &v) < 0)
            v = 0;
        ts_h5_close(&a);
    }
    return v;
}

/* The design of the file: its resolved scenario must describe a saltelli sweep whose points are
 * the file's /points. Fills n, k and names. */
static ts_status read_design(ts_sensitivity_input *in, hid_t file, const char *path,
                             size_t n_points, ts_error *err)
{
    char *text = ts_h5_read_string(file, "/scenario", "resolved");
    if (!text)
        return ts_error_set(err, TS_EINPUT, "%s: no readable /scenario/resolved", path);
    char name[300];
    snprintf(name, sizeof name, "%s:/scenario/resolved", path);
    ts_scenario sc;
    ts_status st = ts_scenario_load_string(&sc, text, name, err);
    free(text);
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
        st = ts_error_set(err, TS_ERUNTIME, "%s: out of memory", path);
    for (int c = 0; st == TS_OK && c < pts.n_params; c++) {
        char dname[300];
        snprintf(dname, sizeof dname, "/points/%s", pts.names[c]);
        hid_t d = link_exists(file, "/points") && link_exists(file, dname)
                      ? H5Dopen2(file, dname, H5P_DEFAULT)
                      : H5I_INVALID_HID;
        bool ok = d >= 0 && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, col) >= 0;
        ts_h5_close(&d);
        for (size_t p = 0; ok && p < n_points; p++) {
            double want = pts.values[p * (size_t)pts.n_params + c];
            ok = fabs(col[p] - want) <= 1e-12 * (1.0 + fabs(want));
        }
        if (!ok)
            st = ts_error_set(err, TS_EINPUT,
                              "%s: %s does not hold the saltelli design of /scenario/resolved",
                              path, dname);
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

/* The index of `tick` on the time axis /time (tick < 0: the last). */
static ts_status find_tick(hid_t file, const char *path, size_t n_times, long tick,
                           ts_sensitivity_input *in, size_t *index, ts_error *err)
{
    int64_t *ticks = malloc(n_times * sizeof *ticks);
    if (!ticks)
        return ts_error_set(err, TS_ERUNTIME, "%s: out of memory", path);
    hid_t d = link_exists(file, "/time") ? H5Dopen2(file, "/time", H5P_DEFAULT) : H5I_INVALID_HID;
    hid_t sp = d >= 0 ? H5Dget_space(d) : H5I_INVALID_HID;
    hssize_t n = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    bool ok = n == (hssize_t)n_times &&
              H5Dread(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, ticks) >= 0;
    ts_h5_close(&sp);
    ts_h5_close(&d);
    for (size_t i = 0; !ok && i < n_times; i++) /* no usable /time: ticks are the indices */
        ticks[i] = (int64_t)i;
    ts_status st = TS_OK;
    in->last_tick = (long)ticks[n_times - 1];
    *index = n_times;
    for (size_t i = 0; i < n_times; i++)
        if (tick < 0 ? i == n_times - 1 : ticks[i] == tick)
            *index = i;
    if (*index == n_times)
        st = ts_error_set(err, TS_EINPUT, "%s: tick %ld is outside the run (ticks %ld to %ld)",
                          path, tick, (long)ticks[0], (long)ticks[n_times - 1]);
    else
        in->tick = (long)ticks[*index];
    free(ticks);
    return st;
}

/* y[p] := mean over the done replicates of point p of the finite values at time index t. */
static ts_status read_outputs(ts_sensitivity_input *in, hid_t file, hid_t dset, const char *path,
                              const hsize_t dims[3], size_t t, ts_error *err)
{
    const size_t n_points = dims[0], n_reps = dims[1];
    double *vals = malloc(n_points * n_reps * sizeof *vals);
    uint8_t *done = malloc(n_points * n_reps);
    in->y = malloc(n_points * sizeof *in->y);
    if (!vals || !done || !in->y) {
        free(vals), free(done);
        return ts_error_set(err, TS_ERUNTIME, "%s: out of memory", path);
    }
    hsize_t start[3] = {0, 0, t}, count[3] = {n_points, n_reps, 1}, mdims[2] = {n_points, n_reps};
    hid_t space = H5Dget_space(dset), mem = H5Screate_simple(2, mdims, NULL);
    hid_t dd = H5Dopen2(file, "/done", H5P_DEFAULT);
    hid_t dsp = dd >= 0 ? H5Dget_space(dd) : H5I_INVALID_HID;
    hsize_t ddims[2] = {0, 0};
    bool shape = dsp >= 0 && H5Sget_simple_extent_ndims(dsp) == 2 &&
                 H5Sget_simple_extent_dims(dsp, ddims, NULL) == 2 && ddims[0] == n_points &&
                 ddims[1] == n_reps;
    bool ok = shape && space >= 0 && mem >= 0 &&
              H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, count, NULL) >= 0 &&
              H5Dread(dset, H5T_NATIVE_DOUBLE, mem, space, H5P_DEFAULT, vals) >= 0 &&
              H5Dread(dd, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, done) >= 0;
    ts_h5_close(&dsp), ts_h5_close(&dd), ts_h5_close(&mem), ts_h5_close(&space);
    in->runs_done = 0;
    for (size_t p = 0; ok && p < n_points; p++) {
        double sum = 0.0;
        size_t m = 0;
        for (size_t r = 0; r < n_reps; r++) {
            const double v = vals[p * n_reps + r];
            in->runs_done += done[p * n_reps + r] == 1;
            if (done[p * n_reps + r] == 1 && isfinite(v))
                sum += v, m++;
        }
        in->y[p] = m ? sum / (double)m : NAN;
    }
    free(vals), free(done);
    if (!shape)
        return ts_error_set(err, TS_EINPUT, "%s: /done is not shaped [point, replicate]", path);
    return ok ? TS_OK : ts_error_set(err, TS_ERUNTIME, "%s: cannot read the series", path);
}

static ts_status read_input(ts_sensitivity_input *in, hid_t file, const char *path,
                            const char *metric, long tick, ts_error *err)
{
    char name[512];
    if (!*metric || strchr(metric, '/') || strcmp(metric, ".") == 0 ||
        (size_t)snprintf(name, sizeof name, "/series/%s", metric) >= sizeof name)
        return ts_error_set(err, TS_EINPUT, "%s: '%s' is not a metric name", path, metric);
    if (!link_exists(file, name))
        return ts_error_set(err, TS_EINPUT, "%s: no metric '%s' (no dataset %s)", path, metric,
                            name);
    hid_t dset = H5Dopen2(file, name, H5P_DEFAULT);
    hid_t space = dset >= 0 ? H5Dget_space(dset) : H5I_INVALID_HID;
    hsize_t dims[3] = {0, 0, 0};
    bool shaped = space >= 0 && H5Sget_simple_extent_ndims(space) == 3 &&
                  H5Sget_simple_extent_dims(space, dims, NULL) == 3 && dims[0] && dims[1] &&
                  dims[2];
    ts_h5_close(&space);
    ts_status st = shaped ? TS_OK
                          : ts_error_set(err, TS_EINPUT,
                                         "%s: %s is not a non-empty [point, replicate, time] array",
                                         path, name);
    size_t t = 0;
    if (st == TS_OK)
        st = read_design(in, file, path, (size_t)dims[0], err);
    if (st == TS_OK)
        st = find_tick(file, path, (size_t)dims[2], tick, in, &t, err);
    if (st == TS_OK)
        st = read_outputs(in, file, dset, path, dims, t, err);
    in->n_replicates = (size_t)dims[1];
    in->master_seed = read_u64_attr(file, "master_seed");
    ts_h5_close(&dset);
    return st;
}

ts_status ts_sensitivity_read(ts_sensitivity_input *in, const char *path, const char *metric,
                              long tick, ts_error *err)
{
    memset(in, 0, sizeof *in);
    ts_h5_quiet q = ts_h5_quiet_begin();
    hid_t file = H5I_INVALID_HID;
    ts_status st = open_output(path, false, &file, err);
    if (st == TS_OK)
        st = read_input(in, file, path, metric, tick, err);
    ts_h5_close(&file);
    ts_h5_quiet_end(q);
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

/* ---- writing the indices ------------------------------------------------------------------- */

static bool write_attr(hid_t loc, const char *name, hid_t ftype, hid_t mtype, const void *v)
{
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a =
        sp >= 0 ? H5Acreate2(loc, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT) : H5I_INVALID_HID;
    bool ok = a >= 0 && H5Awrite(a, mtype, v) >= 0;
    ts_h5_close(&a);
    ts_h5_close(&sp);
    return ok;
}

static bool write_string_attr(hid_t loc, const char *name, const char *value)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    bool ok = t >= 0 && H5Tset_size(t, H5T_VARIABLE) >= 0 && H5Tset_cset(t, H5T_CSET_UTF8) >= 0 &&
              write_attr(loc, name, t, t, &value);
    ts_h5_close(&t);
    return ok;
}

/* A 1-D dataset of k values, named name in group g; returned open (or invalid). */
static hid_t write_vector(hid_t g, const char *name, hid_t ftype, hid_t mtype, hsize_t k,
                          const void *buf)
{
    hid_t sp = H5Screate_simple(1, &k, NULL);
    hid_t d = sp >= 0 ? H5Dcreate2(g, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)
                      : H5I_INVALID_HID;
    if (d >= 0 && H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
        ts_h5_close(&d);
    ts_h5_close(&sp);
    return d;
}

/* /sensitivity/<metric>: the parameter scale, the six index vectors and the attributes. */
static bool write_group(hid_t g, const ts_sensitivity_input *in, const ts_sobol_options *opt,
                        const ts_sobol_index *idx, int n_used)
{
    const hsize_t k = (hsize_t)in->k;
    const char **names = malloc(k * sizeof *names);
    double *col = malloc(k * sizeof *col);
    hid_t str = H5Tcopy(H5T_C_S1);
    bool ok = names && col && str >= 0 && H5Tset_size(str, H5T_VARIABLE) >= 0 &&
              H5Tset_cset(str, H5T_CSET_UTF8) >= 0;
    for (hsize_t i = 0; ok && i < k; i++)
        names[i] = in->names[i];
    hid_t scale = ok ? write_vector(g, "parameter", str, str, k, names) : H5I_INVALID_HID;
    ok = scale >= 0 && H5DSset_scale(scale, "parameter") >= 0 &&
         write_string_attr(scale, "long_name", "swept parameter (scenario path)");
    static const char *const vec_names[] = {"first", "first_lo", "first_hi",
                                            "total", "total_lo", "total_hi"};
    static const char *const long_names[] = {"first-order Sobol index (Saltelli 2010 estimator)",
                                             "lower end of the bootstrap interval of first",
                                             "upper end of the bootstrap interval of first",
                                             "total-effect Sobol index (Jansen 1999 estimator)",
                                             "lower end of the bootstrap interval of total",
                                             "upper end of the bootstrap interval of total"};
    for (int v = 0; ok && v < 6; v++) {
        for (hsize_t i = 0; i < k; i++) {
            const ts_sobol_index *x = &idx[i];
            const double vals[6] = {x->first, x->first_lo, x->first_hi,
                                    x->total, x->total_lo, x->total_hi};
            col[i] = vals[v];
        }
        hid_t d = write_vector(g, vec_names[v], H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, k, col);
        ok = d >= 0 && H5DSattach_scale(d, scale, 0) >= 0 &&
             write_string_attr(d, "long_name", long_names[v]);
        ts_h5_close(&d);
    }
    const int64_t tick = in->tick, n_base = in->n, used = n_used, boot = opt->bootstrap;
    const uint64_t seed = opt->seed;
    ok = ok && write_attr(g, "tick", H5T_STD_I64LE, H5T_NATIVE_INT64, &tick) &&
         write_attr(g, "n_base", H5T_STD_I64LE, H5T_NATIVE_INT64, &n_base) &&
         write_attr(g, "n_used", H5T_STD_I64LE, H5T_NATIVE_INT64, &used) &&
         write_attr(g, "bootstrap", H5T_STD_I64LE, H5T_NATIVE_INT64, &boot) &&
         write_attr(g, "level", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &opt->level) &&
         write_attr(g, "bootstrap_seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, &seed) &&
         write_string_attr(g, "estimator_first", "Saltelli et al. (2010)") &&
         write_string_attr(g, "estimator_total", "Jansen (1999)") &&
         write_string_attr(g, "output",
                           "mean over the done replicates of a point of the "
                           "metric's finite values at the tick");
    ts_h5_close(&scale);
    ts_h5_close(&str);
    free(names);
    free(col);
    return ok;
}

ts_status ts_sensitivity_write(const char *path, const char *metric, const ts_sensitivity_input *in,
                               const ts_sobol_options *opt, const ts_sobol_index *idx, int n_used,
                               ts_error *err)
{
    if (!*metric || strchr(metric, '/') || strcmp(metric, ".") == 0 || in->k < 1)
        return ts_error_set(err, TS_EINPUT, "%s: nothing to write for metric '%s'", path, metric);
    ts_h5_quiet q = ts_h5_quiet_begin();
    hid_t file = H5I_INVALID_HID, top = H5I_INVALID_HID, g = H5I_INVALID_HID;
    ts_status st = open_output(path, true, &file, err);
    if (st == TS_OK) {
        top = link_exists(file, "/sensitivity")
                  ? H5Gopen2(file, "/sensitivity", H5P_DEFAULT)
                  : H5Gcreate2(file, "/sensitivity", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (top >= 0 && link_exists(top, metric) && H5Ldelete(top, metric, H5P_DEFAULT) < 0)
            ts_h5_close(&top);
        g = top >= 0 ? H5Gcreate2(top, metric, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)
                     : H5I_INVALID_HID;
        if (g < 0 || !write_group(g, in, opt, idx, n_used))
            st = ts_error_set(err, TS_ERUNTIME, "%s: cannot write /sensitivity/%s", path, metric);
    }
    ts_h5_close(&g);
    ts_h5_close(&top);
    if (file >= 0 && H5Fclose(file) < 0 && st == TS_OK)
        st = ts_error_set(err, TS_ERUNTIME, "%s: cannot close after writing", path);
    ts_h5_quiet_end(q);
    return st;
}
