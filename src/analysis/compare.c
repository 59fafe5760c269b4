/* Two-sample comparison of replicate outcomes (compare.h): Welch's interval, Hedges' g, a
 * percentile bootstrap, and reading one metric at one tick out of an output file.
 *
 * For the statistics of `trustsim compare` and for tools and tests. Not for printing (the
 * command line does that) and not for writing files (output.c). Reading uses the HDF5 API
 * directly on the layout documented in output.h and keeps HDF5 quiet: the library never
 * prints. */
#include "trustsim/compare.h"

#include "io/h5util.h"

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
#include <hdf5.h>

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

/* Everything one read holds open, closed in one place. */
typedef struct reader {
    const char *path;
    hid_t file, dset, space, mem;
} reader;

static void reader_close(reader *rd)
{
    if (rd->mem >= 0)
        H5Sclose(rd->mem);
    if (rd->space >= 0)
        H5Sclose(rd->space);
    if (rd->dset >= 0)
        H5Dclose(rd->dset);
    if (rd->file >= 0)
        H5Fclose(rd->file);
    rd->mem = rd->space = rd->dset = rd->file = H5I_INVALID_HID;
}

static bool link_exists(hid_t loc, const char *name)
{
    return H5Lexists(loc, name, H5P_DEFAULT) > 0;
}

/* Collects the names in /series as "a, b, c" for an error message, truncated with "...". */
typedef struct name_list {
    char text[640];
    size_t len;
    bool truncated;
} name_list;

static herr_t add_name(hid_t group, const char *name, const H5L_info_t *info, void *data)
{
    (void)info;
    name_list *l = data;
    /* /series also links the dimension scales (point, replicate, time): list only series */
    hid_t d = H5Dopen2(group, name, H5P_DEFAULT);
    hid_t sp = d >= 0 ? H5Dget_space(d) : H5I_INVALID_HID;
    int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    if (sp >= 0)
        H5Sclose(sp);
    if (d >= 0)
        H5Dclose(d);
    if (rank != 3)
        return 0;
    size_t need = strlen(name) + (l->len ? 2 : 0);
    if (l->len + need + 4 >= sizeof l->text) {
        l->truncated = true;
        return 1; /* stop iterating */
    }
    l->len += (size_t)snprintf(l->text + l->len, sizeof l->text - l->len, "%s%s",
                               l->len ? ", " : "", name);
    return 0;
}

static ts_status no_such_metric(reader *rd, const char *metric, ts_error *err)
{
    name_list l = {.len = 0};
    hid_t g = H5Gopen2(rd->file, "/series", H5P_DEFAULT);
    if (g >= 0) {
        H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, NULL, add_name, &l);
        H5Gclose(g);
    }
    return ts_error_set(err, TS_EINPUT, "%s: no metric '%s' (no dataset /series/%s); stored: %s%s",
                        rd->path, metric, metric, l.len ? l.text : "none",
                        l.truncated ? ", ..." : "");
}

static void read_u64_attr(hid_t loc, const char *name, uint64_t *v)
{
    if (H5Aexists(loc, name) <= 0)
        return;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a >= 0) {
        if (H5Aread(a, H5T_NATIVE_UINT64, v) < 0)
            *v = 0;
        H5Aclose(a);
    }
}

/* A string attribute (variable or fixed length) into buf; left empty when absent or odd. */
static void read_string_attr(hid_t loc, const char *name, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (H5Aexists(loc, name) <= 0)
        return;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    hid_t ftype = a >= 0 ? H5Aget_type(a) : H5I_INVALID_HID;
    if (ftype >= 0 && H5Tget_class(ftype) == H5T_STRING) {
        hid_t mtype = H5Tcopy(H5T_C_S1);
        H5Tset_cset(mtype, H5Tget_cset(ftype)); /* HDF5 converts no ASCII <-> UTF-8 */
        if (H5Tis_variable_str(ftype) > 0) {
            char *s = NULL;
            if (H5Tset_size(mtype, H5T_VARIABLE) >= 0 && H5Aread(a, mtype, &s) >= 0 && s) {
                snprintf(buf, cap, "%s", s);
                H5free_memory(s);
            }
        } else if (H5Tset_size(mtype, cap) >= 0 && H5Tset_strpad(mtype, H5T_STR_NULLTERM) >= 0) {
            if (H5Aread(a, mtype, buf) < 0)
                buf[0] = '\0';
            buf[cap - 1] = '\0';
        }
        H5Tclose(mtype);
    }
    if (ftype >= 0)
        H5Tclose(ftype);
    if (a >= 0)
        H5Aclose(a);
}

/* Appends "path=value" of one swept parameter (a dataset /points/<path> of [point]). */
typedef struct point_values {
    size_t point;
    char *label;
    size_t cap;
} point_values;

static herr_t add_point_value(hid_t group, const char *name, const H5L_info_t *info, void *data)
{
    (void)info;
    point_values *pv = data;
    if (strcmp(name, "point") == 0) /* the dimension scale, linked beside the values */
        return 0;
    hid_t d = H5Dopen2(group, name, H5P_DEFAULT);
    hid_t sp = d >= 0 ? H5Dget_space(d) : H5I_INVALID_HID;
    hsize_t n = 0, start = pv->point, count = 1, one = 1;
    hid_t mem = H5Screate_simple(1, &one, NULL);
    double v = NAN;
    if (sp >= 0 && mem >= 0 && H5Sget_simple_extent_ndims(sp) == 1 &&
        H5Sget_simple_extent_dims(sp, &n, NULL) == 1 && pv->point < n &&
        H5Sselect_hyperslab(sp, H5S_SELECT_SET, &start, NULL, &count, NULL) >= 0 &&
        H5Dread(d, H5T_NATIVE_DOUBLE, mem, sp, H5P_DEFAULT, &v) >= 0) {
        size_t len = strlen(pv->label);
        snprintf(pv->label + len, pv->cap - len, "%s%s=%g", len ? ", " : "", name, v);
    }
    if (mem >= 0)
        H5Sclose(mem);
    if (sp >= 0)
        H5Sclose(sp);
    if (d >= 0)
        H5Dclose(d);
    return 0;
}

static void read_point_label(hid_t file, size_t point, char *label, size_t cap)
{
    label[0] = '\0';
    if (!link_exists(file, "/points"))
        return;
    hid_t g = H5Gopen2(file, "/points", H5P_DEFAULT);
    point_values pv = {point, label, cap};
    if (g >= 0) {
        H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, NULL, add_point_value, &pv);
        H5Gclose(g);
    }
}

/* The tick numbers of the time axis: /time when present, else 0 .. n_times - 1. */
static ts_status read_ticks(reader *rd, size_t n_times, long *ticks, ts_error *err)
{
    if (!link_exists(rd->file, "/time")) {
        for (size_t i = 0; i < n_times; i++)
            ticks[i] = (long)i;
        return TS_OK;
    }
    hid_t d = H5Dopen2(rd->file, "/time", H5P_DEFAULT);
    hid_t sp = d >= 0 ? H5Dget_space(d) : H5I_INVALID_HID;
    hsize_t n = 0;
    bool ok = sp >= 0 && H5Sget_simple_extent_ndims(sp) == 1 &&
              H5Sget_simple_extent_dims(sp, &n, NULL) == 1 && n == n_times;
    int64_t *buf = ok ? malloc(n_times * sizeof *buf) : NULL;
    ok = ok && buf && H5Dread(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0;
    for (size_t i = 0; ok && i < n_times; i++)
        ticks[i] = (long)buf[i];
    free(buf);
    if (sp >= 0)
        H5Sclose(sp);
    if (d >= 0)
        H5Dclose(d);
    return ok ? TS_OK
              : ts_error_set(err, TS_EINPUT, "%s: /time does not match the time axis of /series",
                             rd->path);
}

/* Select [point, 0 .. n_reps - 1, t] of a [point, replicate, time] dataset, or [point, 0 ..
 * n_reps - 1] of a [point, replicate] one (t < 0). */
static bool select_row(hid_t space, size_t point, size_t n_reps, long t)
{
    hsize_t start[3] = {point, 0, t < 0 ? 0 : (hsize_t)t}, count[3] = {1, n_reps, 1};
    return H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, count, NULL) >= 0;
}

/* /done[point, :] into done[n_reps]. */
static ts_status read_done(reader *rd, size_t point, size_t n_points, size_t n_reps, uint8_t *done,
                           ts_error *err)
{
    if (!link_exists(rd->file, "/done"))
        return ts_error_set(err, TS_EINPUT, "%s: no /done: not a complete trustsim output",
                            rd->path);
    hid_t d = H5Dopen2(rd->file, "/done", H5P_DEFAULT);
    hid_t sp = d >= 0 ? H5Dget_space(d) : H5I_INVALID_HID;
    hsize_t dims[2] = {0, 0};
    hsize_t mdim = n_reps;
    hid_t mem = H5Screate_simple(1, &mdim, NULL);
    bool shape = sp >= 0 && H5Sget_simple_extent_ndims(sp) == 2 &&
                 H5Sget_simple_extent_dims(sp, dims, NULL) == 2 && dims[0] == n_points &&
                 dims[1] == n_reps;
    bool ok = shape && mem >= 0 && select_row(sp, point, n_reps, -1) &&
              H5Dread(d, H5T_NATIVE_UINT8, mem, sp, H5P_DEFAULT, done) >= 0;
    if (mem >= 0)
        H5Sclose(mem);
    if (sp >= 0)
        H5Sclose(sp);
    if (d >= 0)
        H5Dclose(d);
    if (!shape)
        return ts_error_set(err, TS_EINPUT,
                            "%s: /done is not shaped [point, replicate] like /series", rd->path);
    return ok ? TS_OK : ts_error_set(err, TS_ERUNTIME, "%s: cannot read /done", rd->path);
}

/* Open the file and the metric's dataset, checking what a user can get wrong. */
static ts_status open_series(reader *rd, const char *metric, ts_error *err)
{
    ts_status st = ts_h5_open(rd->path, false, &rd->file, err);
    if (st != TS_OK)
        return st;
    if (!link_exists(rd->file, "/series"))
        return ts_error_set(err, TS_EINPUT, "%s: no /series group: not a trustsim output",
                            rd->path);
    if (!*metric || strchr(metric, '/') || strcmp(metric, ".") == 0)
        return ts_error_set(err, TS_EINPUT, "%s: '%s' is not a metric name", rd->path, metric);
    char name[512];
    if ((size_t)snprintf(name, sizeof name, "/series/%s", metric) >= sizeof name)
        return ts_error_set(err, TS_EINPUT, "%s: metric name too long", rd->path);
    if (!link_exists(rd->file, name))
        return no_such_metric(rd, metric, err);
    rd->dset = H5Dopen2(rd->file, name, H5P_DEFAULT);
    rd->space = rd->dset >= 0 ? H5Dget_space(rd->dset) : H5I_INVALID_HID;
    if (rd->space < 0 || H5Sget_simple_extent_ndims(rd->space) != 3)
        return ts_error_set(err, TS_EINPUT, "%s: /series/%s is not shaped [point, replicate, time]",
                            rd->path, metric);
    return TS_OK;
}

/* The time index of `tick` (< 0: the last), or an error naming the range. */
static ts_status find_tick(reader *rd, const char *metric, const long *ticks, size_t n_times,
                           long tick, size_t *index, ts_error *err)
{
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
    return ts_error_set(err, TS_EINPUT, "%s: tick %ld is outside /series/%s (ticks %ld to %ld)",
                        rd->path, tick, metric, ticks[0], ticks[n_times - 1]);
}

static ts_status read_sample(reader *rd, ts_compare_sample *s, const char *metric, long tick,
                             size_t point, ts_error *err)
{
    ts_status st = open_series(rd, metric, err);
    if (st != TS_OK)
        return st;
    hsize_t dims[3];
    if (H5Sget_simple_extent_dims(rd->space, dims, NULL) != 3)
        return ts_error_set(err, TS_ERUNTIME, "%s: cannot read the shape of /series/%s", rd->path,
                            metric);
    const size_t n_points = (size_t)dims[0], n_reps = (size_t)dims[1], n_times = (size_t)dims[2];
    if (n_points == 0 || n_reps == 0 || n_times == 0)
        return ts_error_set(err, TS_EINPUT, "%s: /series/%s is empty", rd->path, metric);
    if (point >= n_points)
        return ts_error_set(err, TS_EINPUT,
                            "%s: point %zu is out of range: the file has %zu point%s"
                            " (0 to %zu)",
                            rd->path, point, n_points, n_points == 1 ? "" : "s", n_points - 1);
    long *ticks = malloc(n_times * sizeof *ticks);
    double *row = malloc(n_reps * sizeof *row);
    uint8_t *done = malloc(n_reps);
    s->values = malloc(n_reps * sizeof *s->values);
    size_t t = 0;
    if (!ticks || !row || !done || !s->values)
        st = ts_error_set(err, TS_ERUNTIME, "%s: out of memory", rd->path);
    if (st == TS_OK)
        st = read_ticks(rd, n_times, ticks, err);
    if (st == TS_OK)
        st = find_tick(rd, metric, ticks, n_times, tick, &t, err);
    if (st == TS_OK) {
        hsize_t mdim = n_reps;
        rd->mem = H5Screate_simple(1, &mdim, NULL);
        if (rd->mem < 0 || !select_row(rd->space, point, n_reps, (long)t) ||
            H5Dread(rd->dset, H5T_NATIVE_DOUBLE, rd->mem, rd->space, H5P_DEFAULT, row) < 0)
            st = ts_error_set(err, TS_ERUNTIME, "%s: cannot read /series/%s", rd->path, metric);
    }
    if (st == TS_OK)
        st = read_done(rd, point, n_points, n_reps, done, err);
    if (st == TS_OK) {
        s->n_points = n_points;
        s->n_replicates = n_reps;
        s->tick = ticks[t];
        s->first_tick = ticks[0];
        s->last_tick = ticks[n_times - 1];
        for (size_t r = 0; r < n_reps; r++) {
            if (done[r] != 1)
                continue;
            s->n_done++;
            if (isfinite(row[r]))
                s->values[s->n++] = row[r];
            else
                s->n_not_finite++;
        }
        read_u64_attr(rd->file, "master_seed", &s->master_seed);
        read_string_attr(rd->file, "tick_unit", s->tick_unit, sizeof s->tick_unit);
        read_point_label(rd->file, point, s->point_label, sizeof s->point_label);
    }
    free(ticks);
    free(row);
    free(done);
    return st;
}

ts_status ts_compare_read(ts_compare_sample *s, const char *path, const char *metric, long tick,
                          size_t point, ts_error *err)
{
    memset(s, 0, sizeof *s);
    reader rd = {path, H5I_INVALID_HID, H5I_INVALID_HID, H5I_INVALID_HID, H5I_INVALID_HID};
    ts_h5_quiet q = ts_h5_quiet_begin();
    ts_status st = read_sample(&rd, s, metric, tick, point, err);
    reader_close(&rd);
    ts_h5_quiet_end(q);
    if (st != TS_OK)
        ts_compare_sample_destroy(s);
    return st;
}

void ts_compare_sample_destroy(ts_compare_sample *s)
{
    free(s->values);
    memset(s, 0, sizeof *s);
}
