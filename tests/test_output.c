/* The HDF5 writer: what it stores reads back exactly, with its layout, dimension scales and
 * summaries, and a target file is either complete or untouched. */
#include "support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>
#include <hdf5_hl.h>
#include <libdeflate.h>

#include "trustsim/output.h"

enum { P = 2, R = 3, T = 5, M = 3, O = 3, K = 2, NP = 4 };

static const char *const metrics[M] = {"coop_rate", "trust_interorg", "faith"};
static const char *const descriptions[M] = {"share of cooperative acts", NULL, "mean faith"};
static const char *const orgs[O] = {"Hôpital Nord", "Care Co", "Council"};
static const char *const params[K] = {"reciprocity.q0", "faith.decay"};
static const double point_values[P * K] = {0.1, 0.01, 0.2, 0.02};
/* the pairs with a state: Care Co and the Council share no collaboration */
static const int pair_org[NP] = {0, 0, 1, 2}, pair_partner[NP] = {1, 2, 0, 0};

/* Point 1 replicate 1 is never written; one value is NaN to be left out of the summaries. */
static bool written(int p, int r)
{
    return !(p == 1 && r == 1);
}

static double series_value(int p, int r, int m, int t)
{
    if (p == 0 && r == 1 && m == 2 && t == 0)
        return NAN;
    const double spread[R] = {0.25, 3.5, 1.0};
    return 100.0 * p + 10.0 * m + t + spread[r] * (t + 1) * (m + 1);
}

static double trust_value(int p, int r, int k)
{
    return k == 3 && p == 1 ? NAN : p + 0.1 * r + 0.01 * pair_org[k] + 0.001 * pair_partner[k];
}

static int8_t stage_value(int p, int r, int k)
{
    return (int8_t)((p + r + pair_org[k] + pair_partner[k]) % 4);
}

static double faith_value(int p, int r, int o)
{
    return 0.5 + p + 0.1 * r + 0.01 * o;
}

static uint8_t active_value(int p, int r, int o)
{
    return (uint8_t)((p + r + o) % 2);
}

static ts_output_spec make_spec(void)
{
    return (ts_output_spec){.scenario_name = "pomponi_case",
                            .master_seed = 18446744073709551557ULL,
                            .rng_type = "mt19937",
                            .tick_unit = "week",
                            .scenario_text = "name: pomponi_case\nticks: 4\n",
                            .resolved_text = "name: pomponi_case\nticks: 4\nseed: 1\n",
                            .n_points = P,
                            .n_replicates = R,
                            .n_times = T,
                            .metric_names = metrics,
                            .n_metrics = M,
                            .metric_descriptions = descriptions,
                            .org_names = orgs,
                            .n_orgs = O,
                            .n_pairs = NP,
                            .pair_org = pair_org,
                            .pair_partner = pair_partner,
                            .n_point_params = K,
                            .point_param_names = params,
                            .point_values = point_values};
}

/* The spec of make_spec for another shape: no swept parameters, no metric descriptions, and
 * replacing any file already there. */
static ts_output_spec plain_spec(size_t points, size_t replicates, int times,
                                 const char *const *metric_names, int n_metrics)
{
    ts_output_spec spec = make_spec();
    spec.n_points = points;
    spec.n_replicates = replicates;
    spec.n_times = times;
    spec.metric_names = metric_names;
    spec.metric_descriptions = NULL;
    spec.n_metrics = n_metrics;
    spec.n_point_params = 0;
    spec.point_param_names = NULL;
    spec.point_values = NULL;
    spec.force = true;
    return spec;
}

typedef struct run_buffers {
    double series[M * T];
    double trust[NP];
    int8_t stage[NP];
    double faith[O];
    uint8_t active[O];
    ts_run_result res;
} run_buffers;

static void fill_run(run_buffers *b, int p, int r)
{
    for (int m = 0; m < M; m++)
        for (int t = 0; t < T; t++)
            b->series[m * T + t] = series_value(p, r, m, t);
    for (int k = 0; k < NP; k++) {
        b->trust[k] = trust_value(p, r, k);
        b->stage[k] = stage_value(p, r, k);
    }
    for (int o = 0; o < O; o++) {
        b->faith[o] = faith_value(p, r, o);
        b->active[o] = active_value(p, r, o);
    }
    b->res = (ts_run_result){M, T, b->series, O, NP, b->trust, b->stage, b->faith, b->active};
}

static bool exists(const char *path)
{
    return access(path, F_OK) == 0;
}

static char *part_of(const char *path)
{
    static char buf[1100];
    snprintf(buf, sizeof buf, "%s.part", path);
    return buf;
}

/* Write the test file at path: every run but (1, 1); with stream, the series go to the file
 * run by run instead of being kept until the close. */
static void write_sample_as(const char *path, bool force, bool stream)
{
    ts_output_spec spec = make_spec();
    spec.force = force;
    spec.row_memory = stream ? 1 : 0;
    ts_output *out = NULL;
    ts_error err = {{0}};
    assert_int_equal(ts_output_create(&out, path, &spec, &err), TS_OK);
    assert_true(exists(part_of(path)));
    run_buffers b;
    for (int p = 0; p < P; p++) {
        for (int r = R - 1; r >= 0; r--) { /* out of order, as parallel runs finish */
            if (!written(p, r))
                continue;
            fill_run(&b, p, r);
            assert_int_equal(ts_output_write_run(out, (size_t)p, (size_t)r, &b.res, &err), TS_OK);
        }
    }
    assert_int_equal(ts_output_flush(out, &err), TS_OK);
    assert_int_equal(ts_output_close(out, &err), TS_OK);
    assert_false(exists(part_of(path)));
}

static void write_sample(const char *path, bool force)
{
    write_sample_as(path, force, false);
}

/* ---- reading back ------------------------------------------------------------------------ */

/* cmocka's assert_float_equal compares in float and lets NaN through. */
static void assert_same(double expected, double got)
{
    bool same = isnan(expected) ? isnan(got) : fabs(expected - got) <= 1e-12 * (1 + fabs(expected));
    if (!same)
        fail_msg("expected %.17g, got %.17g", expected, got);
}

static void read_doubles(hid_t file, const char *name, double *buf)
{
    hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
    assert_true(d >= 0);
    assert_true(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    H5Dclose(d);
}

/* A scalar string attribute or dataset, as a malloc'd copy. */
static char *read_string(hid_t file, const char *object, const char *attr)
{
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    char *value = NULL;
    if (attr) {
        hid_t a = H5Aopen_by_name(file, object, attr, H5P_DEFAULT, H5P_DEFAULT);
        assert_true(a >= 0);
        assert_true(H5Aread(a, type, &value) >= 0);
        H5Aclose(a);
    } else {
        hid_t d = H5Dopen2(file, object, H5P_DEFAULT);
        assert_true(d >= 0);
        assert_true(H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, &value) >= 0);
        H5Dclose(d);
    }
    H5Tclose(type);
    assert_non_null(value);
    char *copy = strdup(value);
    H5free_memory(value);
    return copy;
}

static void assert_string(hid_t file, const char *object, const char *attr, const char *want)
{
    char *got = read_string(file, object, attr);
    assert_string_equal(got, want);
    free(got);
}

static uint64_t read_u64_attr(hid_t file, const char *name)
{
    uint64_t v = 0;
    hid_t a = H5Aopen(file, name, H5P_DEFAULT);
    assert_true(a >= 0);
    assert_true(H5Aread(a, H5T_NATIVE_UINT64, &v) >= 0);
    H5Aclose(a);
    return v;
}

static herr_t scale_name(hid_t did, unsigned dim, hid_t dsid, void *data)
{
    (void)did;
    (void)dim;
    return H5DSget_scale_name(dsid, data, 32) < 0 ? -1 : 1;
}

/* Each axis of the dataset has the named scale attached, and the group links it. */
static void assert_dims(hid_t file, const char *group, const char *name, int rank,
                        const char *const *dims)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", group, name);
    hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
    assert_true(d >= 0);
    hid_t space = H5Dget_space(d);
    assert_int_equal(H5Sget_simple_extent_ndims(space), rank);
    H5Sclose(space);
    for (int i = 0; i < rank; i++) {
        char got[32] = "";
        assert_int_equal(H5DSget_num_scales(d, (unsigned)i), 1);
        assert_int_equal(H5DSiterate_scales(d, (unsigned)i, NULL, scale_name, got), 1);
        assert_string_equal(got, dims[i]);
        char link[256];
        snprintf(link, sizeof link, "%s/%s", group, dims[i]);
        assert_true(H5Lexists(file, link, H5P_DEFAULT) > 0);
    }
    H5Dclose(d);
}

static void check_header(hid_t file)
{
    assert_string(file, "/", "format", "trustsim");
    assert_string(file, "/", "trustsim_version", TRUSTSIM_VERSION);
    assert_string(file, "/", "scenario", "pomponi_case");
    assert_string(file, "/", "rng_type", "mt19937");
    assert_string(file, "/", "tick_unit", "week");
    assert_int_equal(read_u64_attr(file, "format_version"), 2);
    assert_true(read_u64_attr(file, "master_seed") == 18446744073709551557ULL);
    assert_int_equal(read_u64_attr(file, "n_points"), P);
    assert_int_equal(read_u64_attr(file, "n_replicates"), R);
    char *created = read_string(file, "/", "created");
    int y, mo, d, h, mi, s;
    char z = 0;
    assert_int_equal(strlen(created), 20);
    assert_int_equal(sscanf(created, "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &s, &z), 7);
    assert_int_equal(z, 'Z');
    assert_true(y >= 2024);
    free(created);
    assert_string(file, "/scenario/text", NULL, "name: pomponi_case\nticks: 4\n");
    assert_string(file, "/scenario/resolved", NULL, "name: pomponi_case\nticks: 4\nseed: 1\n");
    assert_string(file, "/series/coop_rate", "long_name", "share of cooperative acts");
    assert_false(H5Aexists_by_name(file, "/series/trust_interorg", "long_name", H5P_DEFAULT));
    assert_string(file, "/time", "tick_unit", "week");
}

static void check_scales(hid_t file)
{
    int64_t ticks[T], points[P], reps[R];
    ts_test_h5_read(file, "/time", H5T_NATIVE_INT64, ticks);
    ts_test_h5_read(file, "/point", H5T_NATIVE_INT64, points);
    ts_test_h5_read(file, "/replicate", H5T_NATIVE_INT64, reps);
    for (int t = 0; t < T; t++)
        assert_int_equal(ticks[t], t);
    for (int p = 0; p < P; p++)
        assert_int_equal(points[p], p);
    for (int r = 0; r < R; r++)
        assert_int_equal(reps[r], r);

    /* the organisations by name, and each pair's two by index, at the root and in /final */
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    char *names[O];
    ts_test_h5_read(file, "/organisation", type, names);
    for (int o = 0; o < O; o++) {
        assert_string_equal(names[o], orgs[o]);
        H5free_memory(names[o]);
    }
    H5Tclose(type);
    const char *pair_coords[] = {"/pair_organisation", "/pair_partner", "/final/pair_organisation",
                                 "/final/pair_partner"};
    for (int c = 0; c < 4; c++) {
        int index[NP];
        ts_test_h5_read(file, pair_coords[c], H5T_NATIVE_INT, index);
        for (int k = 0; k < NP; k++)
            assert_int_equal(index[k], c % 2 ? pair_partner[k] : pair_org[k]);
    }
    int64_t pair_index[NP];
    ts_test_h5_read(file, "/pair", H5T_NATIVE_INT64, pair_index);
    for (int k = 0; k < NP; k++)
        assert_int_equal(pair_index[k], k);
    /* netCDF readers take the pairs' organisations as coordinates of the final state */
    for (int s = 0; s < 2; s++) {
        hid_t ds = H5Dopen2(file, s ? "/final/stage" : "/final/trust_interorg", H5P_DEFAULT);
        assert_true(H5Aexists(ds, "coordinates") > 0);
        hid_t a = H5Aopen(ds, "coordinates", H5P_DEFAULT), atype = H5Aget_type(a);
        char *value = NULL;
        assert_true(H5Aread(a, atype, &value) >= 0);
        assert_string_equal(value, "pair_organisation pair_partner");
        H5free_memory(value);
        H5Tclose(atype);
        H5Aclose(a);
        H5Dclose(ds);
    }

    static const char *const series[] = {"point", "replicate", "time"};
    static const char *const pairs[] = {"point", "replicate", "pair"};
    static const char *const orgs_axes[] = {"point", "replicate", "organisation"};
    static const char *const runs[] = {"point", "replicate"};
    static const char *const summary[] = {"point", "time"};
    for (int m = 0; m < M; m++) {
        assert_dims(file, "/series", metrics[m], 3, series);
        char group[64];
        snprintf(group, sizeof group, "/summary/%s", metrics[m]);
        assert_dims(file, group, "mean", 2, summary);
        assert_dims(file, group, "q95", 2, summary);
    }
    assert_dims(file, "/final", "trust_interorg", 3, pairs);
    assert_dims(file, "/final", "stage", 3, pairs);
    assert_dims(file, "/final", "faith", 3, orgs_axes);
    assert_dims(file, "/final", "active", 3, orgs_axes);
    assert_dims(file, "", "done", 2, runs);
    assert_dims(file, "/points", "reciprocity.q0", 1, runs);
}

static void check_runs(hid_t file)
{
    double series[P * R * T], trust[P * R * NP], faith[P * R * O];
    int8_t stage[P * R * NP];
    uint8_t active[P * R * O], done[P * R];
    for (int m = 0; m < M; m++) {
        char name[64];
        snprintf(name, sizeof name, "/series/%s", metrics[m]);
        read_doubles(file, name, series);
        for (int p = 0; p < P; p++)
            for (int r = 0; r < R; r++)
                for (int t = 0; t < T; t++)
                    assert_same(written(p, r) ? series_value(p, r, m, t) : NAN,
                                series[(p * R + r) * T + t]);
    }
    read_doubles(file, "/final/trust_interorg", trust);
    read_doubles(file, "/final/faith", faith);
    ts_test_h5_read(file, "/final/stage", H5T_NATIVE_INT8, stage);
    ts_test_h5_read(file, "/final/active", H5T_NATIVE_UINT8, active);
    ts_test_h5_read(file, "/done", H5T_NATIVE_UINT8, done);
    for (int p = 0; p < P; p++) {
        for (int r = 0; r < R; r++) {
            const bool w = written(p, r);
            assert_int_equal(done[p * R + r], w);
            for (int k = 0; k < NP; k++) {
                int i = (p * R + r) * NP + k;
                assert_same(w ? trust_value(p, r, k) : NAN, trust[i]);
                assert_int_equal(stage[i], w ? stage_value(p, r, k) : -1);
            }
            for (int o = 0; o < O; o++) {
                assert_same(w ? faith_value(p, r, o) : NAN, faith[(p * R + r) * O + o]);
                assert_int_equal(active[(p * R + r) * O + o], w ? active_value(p, r, o) : 0);
            }
        }
    }
    for (int k = 0; k < K; k++) {
        double values[P];
        char name[64];
        snprintf(name, sizeof name, "/points/%s", params[k]);
        read_doubles(file, name, values);
        for (int p = 0; p < P; p++)
            assert_same(point_values[p * K + k], values[p]);
    }
}

/* Sample statistics written out longhand: the sd divides by n - 1, quantile f interpolates
 * linearly between the sorted values at ranks floor and ceil of f * (n - 1). */
enum { BY_HAND_MAX = 256 };

static double by_hand(const double *v, int n, const char *stat)
{
    assert_true(n <= BY_HAND_MAX);
    if (n == 0 || (n == 1 && strcmp(stat, "sd") == 0))
        return NAN;
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += v[i];
    double mean = sum / n;
    if (strcmp(stat, "mean") == 0)
        return mean;
    if (strcmp(stat, "sd") == 0) {
        double ss = 0;
        for (int i = 0; i < n; i++)
            ss += (v[i] - mean) * (v[i] - mean);
        return sqrt(ss / (n - 1));
    }
    double s[BY_HAND_MAX];
    for (int i = 0; i < n; i++) {
        int j = i;
        for (; j > 0 && s[j - 1] > v[i]; j--)
            s[j] = s[j - 1];
        s[j] = v[i];
    }
    double f = strcmp(stat, "q05") == 0 ? 0.05 : strcmp(stat, "q50") == 0 ? 0.5 : 0.95;
    double h = f * (n - 1);
    int lo = (int)floor(h);
    return lo + 1 < n ? s[lo] + (h - lo) * (s[lo + 1] - s[lo]) : s[lo];
}

static void check_summaries(hid_t file)
{
    static const char *const stats[] = {"mean", "sd", "q05", "q50", "q95"};
    double got[P * T];
    for (int m = 0; m < M; m++) {
        for (int s = 0; s < 5; s++) {
            char name[64];
            snprintf(name, sizeof name, "/summary/%s/%s", metrics[m], stats[s]);
            read_doubles(file, name, got);
            for (int p = 0; p < P; p++) {
                for (int t = 0; t < T; t++) {
                    double v[R];
                    int n = 0;
                    for (int r = 0; r < R; r++)
                        if (written(p, r) && !isnan(series_value(p, r, m, t)))
                            v[n++] = series_value(p, r, m, t);
                    assert_same(by_hand(v, n, stats[s]), got[p * T + t]);
                }
            }
        }
    }
}

/* Every array of numbers is chunked and checksummed: its last filter is Fletcher-32. */
static herr_t check_checksum(hid_t loc, const char *name, const H5O_info_t *info, void *data)
{
    if (info->type != H5O_TYPE_DATASET)
        return 0;
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT), type = H5Dget_type(d);
    hid_t dcpl = H5Dget_create_plist(d);
    if (H5Tget_class(type) != H5T_STRING) {
        if (H5Pget_layout(dcpl) != H5D_CHUNKED)
            fail_msg("/%s is not chunked", name);
        int n = H5Pget_nfilters(dcpl);
        unsigned flags;
        size_t nv = 0;
        if (n < 1 || H5Pget_filter2(dcpl, (unsigned)n - 1, &flags, &nv, NULL, 0, NULL, NULL) !=
                         H5Z_FILTER_FLETCHER32)
            fail_msg("/%s has no Fletcher-32 checksum last", name);
        ++*(int *)data;
    }
    H5Pclose(dcpl), H5Tclose(type), H5Dclose(d);
    return 0;
}

/* Every series is chunked and stored through shuffle, then deflate, then the checksum; every
 * other array is checksummed too; strings carry the CRC-32 of their characters. */
static void check_filters(hid_t file)
{
    for (int m = 0; m < M; m++) {
        char name[64];
        snprintf(name, sizeof name, "/series/%s", metrics[m]);
        hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
        assert_true(d >= 0);
        hid_t dcpl = H5Dget_create_plist(d);
        assert_int_equal(H5Pget_layout(dcpl), H5D_CHUNKED);
        assert_int_equal(H5Pget_nfilters(dcpl), 3);
        const H5Z_filter_t order[3] = {H5Z_FILTER_SHUFFLE, H5Z_FILTER_DEFLATE,
                                       H5Z_FILTER_FLETCHER32};
        for (unsigned k = 0; k < 3; k++) {
            unsigned flags;
            size_t n = 0;
            assert_int_equal(H5Pget_filter2(dcpl, k, &flags, &n, NULL, 0, NULL, NULL), order[k]);
        }
        H5Pclose(dcpl);
        H5Dclose(d);
    }
    int arrays = 0;
    H5Ovisit(file, H5_INDEX_NAME, H5_ITER_INC, check_checksum, &arrays);
    assert_true(arrays > 20);
    /* the organisation names' checksum, computed here from the names the test gave */
    hid_t d = H5Dopen2(file, "/organisation", H5P_DEFAULT);
    hid_t a = H5Aopen(d, "crc32", H5P_DEFAULT);
    uint32_t stored = 0;
    assert_true(H5Aread(a, H5T_NATIVE_UINT32, &stored) >= 0);
    uint32_t want = 0;
    for (int o = 0; o < O; o++)
        want = libdeflate_crc32(want, orgs[o], strlen(orgs[o]) + 1);
    assert_int_equal(stored, want);
    H5Aclose(a), H5Dclose(d);
}

/* Quantiles are found three ways depending on where they fall (the few smallest values, the
 * few largest, a selection in between): enough replicates to use all three, with many ties,
 * with none, and with gaps (NaN) left out of the count. And a metric every replicate gives
 * the same value (as at tick 0), whose statistics must be that value exactly and an sd of 0:
 * 150 copies of 0.6, 0.7 or 0.3 summed and divided by 150 are a few ulps off. */
enum { QR = 150, QT = 3, QM = 4 };
static const char *const q_metrics[QM] = {"ties", "distinct", "gaps", "constant"};
static const double q_constant[QT] = {0.6, 0.7, 0.3};

static double q_value(int r, int m, int t)
{
    switch (m) {
    case 0:
        return (double)((r * 7 + t) % 5);
    case 1:
        return (double)((r * 7919 + t * 104729) % 1009) / 7.0;
    case 2:
        return r % 3 == 0 ? NAN : (double)((r + t) % 11);
    default:
        return q_constant[t];
    }
}

static void test_summaries_of_many_replicates(void **state)
{
    (void)state;
    ts_output_spec spec = plain_spec(1, QR, QT, q_metrics, QM);
    char path[1024];
    snprintf(path, sizeof path, "%s", ts_test_temp_path("quantiles", ".h5"));
    ts_output *out = NULL;
    ts_error err = {{0}};
    assert_int_equal(ts_output_create(&out, path, &spec, &err), TS_OK);
    run_buffers b;
    memset(&b, 0, sizeof b);
    double series[QM * QT];
    b.res = (ts_run_result){QM, QT, series, O, NP, b.trust, b.stage, b.faith, b.active};
    for (int r = QR - 1; r >= 0; r--) {
        for (int m = 0; m < QM; m++)
            for (int t = 0; t < QT; t++)
                series[m * QT + t] = q_value(r, m, t);
        assert_int_equal(ts_output_write_run(out, 0, (size_t)r, &b.res, &err), TS_OK);
    }
    assert_int_equal(ts_output_close(out, &err), TS_OK);

    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    static const char *const stats[] = {"mean", "sd", "q05", "q50", "q95"};
    for (int m = 0; m < QM; m++)
        for (int k = 0; k < 5; k++) {
            char name[64];
            double got[QT];
            snprintf(name, sizeof name, "/summary/%s/%s", q_metrics[m], stats[k]);
            read_doubles(file, name, got);
            for (int t = 0; t < QT; t++) {
                double v[QR];
                int n = 0;
                for (int r = 0; r < QR; r++)
                    if (!isnan(q_value(r, m, t)))
                        v[n++] = q_value(r, m, t);
                assert_same(by_hand(v, n, stats[k]), got[t]);
                if (m == 3) /* exactly: the value itself, and no spread at all */
                    assert_true(got[t] == (k == 1 ? 0.0 : q_constant[t]));
            }
        }
    H5Fclose(file);
    unlink(path);
}

/* ---- series gathered by rows of chunks ---------------------------------------------------- */

/* 3 points x 40 replicates: chunks of 20 replicates, so 6 rows of 20 runs. */
enum { RP = 3, RR = 40, RT = 7, RM = 8, RO = 2, ROW_RUNS = 20 };
static const char *const row_metrics[RM] = {"m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7"};

static double row_value(int p, int r, int m, int t)
{
    return 1000.0 * p + 10.0 * r + m + 0.01 * t;
}

static bool row_written(int p, int r)
{
    return !(p == 1 && r == 5); /* one run missing: its row is never full */
}

/* Write every run but (1, 5) in one of three orders: point by point, the reverse, or
 * replicate by replicate (rows interleaved, the worst case for memory). */
static void write_rows_file(const char *path, size_t memory, int order)
{
    ts_output_spec spec = plain_spec(RP, RR, RT, row_metrics, RM);
    static const int row_pair_org[RO] = {0, 1}, row_pair_partner[RO] = {1, 0};
    spec.n_orgs = RO;
    spec.n_pairs = RO; /* two organisations: two ordered pairs */
    spec.pair_org = row_pair_org;
    spec.pair_partner = row_pair_partner;
    spec.row_memory = memory;
    ts_output *out = NULL;
    ts_error err = {{0}};
    assert_int_equal(ts_output_create(&out, path, &spec, &err), TS_OK);
    double series[RM * RT], trust[RO] = {0}, faith[RO] = {0};
    int8_t stage[RO] = {0};
    uint8_t active[RO] = {1, 1};
    ts_run_result res = {RM, RT, series, RO, RO, trust, stage, faith, active};
    for (int i = 0; i < RP * RR; i++) {
        int p = order == 2 ? i % RP : (order == 1 ? RP * RR - 1 - i : i) / RR;
        int r = order == 2 ? i / RP : (order == 1 ? RP * RR - 1 - i : i) % RR;
        if (!row_written(p, r))
            continue;
        for (int m = 0; m < RM; m++)
            for (int t = 0; t < RT; t++)
                series[m * RT + t] = row_value(p, r, m, t);
        for (int j = 0; j < RO; j++) {
            trust[j] = p + 0.01 * r + 0.001 * j;
            stage[j] = (int8_t)((p + r + j) % 4);
        }
        for (int j = 0; j < RO; j++) {
            faith[j] = 0.5 * p + 0.001 * r + j;
            active[j] = (uint8_t)((p + r + j) % 2);
        }
        assert_int_equal(ts_output_write_run(out, (size_t)p, (size_t)r, &res, &err), TS_OK);
    }
    assert_int_equal(ts_output_close(out, &err), TS_OK);
}

/* The same file whatever the memory for rows (every row, three, one, none: run by run through
 * HDF5) and whatever the order the runs arrive in; and the series are the ones written, NaN for
 * the missing run. */
static void test_series_rows_whatever_the_memory_and_order(void **state)
{
    (void)state;
    /* memory is shared in proportion to what a run holds: this much gives the series k rows
     * and a half */
    const size_t run_bytes = RM * RT * 8 + RO * 9 + RO * 9 + 1;
#define ROWS(k) ((size_t)(2 * (k) + 1) * ROW_RUNS * run_bytes / 2)
    char ref[1024], other[1024];
    snprintf(ref, sizeof ref, "%s", ts_test_temp_path("rows-ref", ".h5"));
    write_rows_file(ref, 1, 0); /* no row fits: every run on its own */

    hid_t f = H5Fopen(ref, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    static double got[RP * RR * RT];
    for (int m = 0; m < RM; m++) {
        char name[32];
        snprintf(name, sizeof name, "/series/%s", row_metrics[m]);
        read_doubles(f, name, got);
        for (int p = 0; p < RP; p++)
            for (int r = 0; r < RR; r++)
                for (int t = 0; t < RT; t++)
                    assert_same(row_written(p, r) ? row_value(p, r, m, t) : NAN,
                                got[(p * RR + r) * RT + t]);
    }
    H5Fclose(f);

    const size_t memory[] = {0, ROWS(3), ROWS(1), 1};
#undef ROWS
    for (size_t k = 0; k < sizeof memory / sizeof memory[0]; k++)
        for (int order = 0; order < 3; order++) {
            snprintf(other, sizeof other, "%s", ts_test_temp_path("rows", ".h5"));
            write_rows_file(other, memory[k], order);
            ts_test_assert_same_datasets(ref, other);
            unlink(other);
        }
    unlink(ref);
}

/* ---- tests ------------------------------------------------------------------------------- */

/* Series held in memory (compressed by trustsim, chunk by chunk) and series streamed through
 * HDF5's own filters must read back the same, through the standard shuffle and deflate. */
static void test_everything_written_reads_back(void **state)
{
    (void)state;
    for (int stream = 0; stream <= 1; stream++) {
        const char *path = ts_test_temp_path(stream ? "output-streamed" : "output", ".h5");
        char file_name[1024];
        snprintf(file_name, sizeof file_name, "%s", path);
        write_sample_as(file_name, false, stream);

        hid_t file = H5Fopen(file_name, H5F_ACC_RDONLY, H5P_DEFAULT);
        assert_true(file >= 0);
        check_header(file);
        check_scales(file);
        check_runs(file);
        check_summaries(file);
        check_filters(file);
        H5Fclose(file);
        unlink(file_name);
    }
}

static void test_existing_file_is_kept_without_force(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s", ts_test_temp_path("output-exists", ".h5"));
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("precious", f);
    fclose(f);

    ts_output_spec spec = make_spec();
    ts_output *out = NULL;
    ts_error err = {{0}};
    assert_int_equal(ts_output_create(&out, path, &spec, &err), TS_EINPUT);
    assert_null(out);
    char want[1200];
    snprintf(want, sizeof want, "%s: exists (use --force to replace it)", path);
    assert_string_equal(err.msg, want);
    assert_false(exists(part_of(path)));
    char *text = ts_test_read_file(path);
    assert_string_equal(text, "precious");
    free(text);

    /* With force the old file stays until the new one is complete, then is replaced. */
    spec.force = true;
    assert_int_equal(ts_output_create(&out, path, &spec, &err), TS_OK);
    text = ts_test_read_file(path);
    assert_string_equal(text, "precious");
    free(text);
    ts_output_abort(out);
    text = ts_test_read_file(path);
    assert_string_equal(text, "precious");
    free(text);

    write_sample(path, true);
    assert_true(H5Fis_hdf5(path) > 0);
    unlink(path);
}

static void test_abort_leaves_nothing(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s", ts_test_temp_path("output-abort", ".h5"));
    /* A stale temporary file from a crashed run does not get in the way. */
    FILE *f = fopen(part_of(path), "w");
    assert_non_null(f);
    fclose(f);

    ts_output_spec spec = make_spec();
    ts_output *out = NULL;
    ts_error err = {{0}};
    assert_int_equal(ts_output_create(&out, path, &spec, &err), TS_OK);
    run_buffers b;
    fill_run(&b, 0, 0);
    assert_int_equal(ts_output_write_run(out, 0, 0, &b.res, &err), TS_OK);
    ts_output_abort(out);
    assert_false(exists(path));
    assert_false(exists(part_of(path)));
}

static void test_mismatched_run_is_refused(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s", ts_test_temp_path("output-mismatch", ".h5"));
    ts_output_spec spec = make_spec();
    ts_output *out = NULL;
    ts_error err = {{0}};
    assert_int_equal(ts_output_create(&out, path, &spec, &err), TS_OK);
    run_buffers b;
    fill_run(&b, 0, 0);
    b.res.n_times = T + 1;
    assert_int_equal(ts_output_write_run(out, 0, 0, &b.res, &err), TS_ERUNTIME);
    assert_non_null(strstr(err.msg, "6 times"));
    b.res.n_times = T;
    assert_int_equal(ts_output_write_run(out, P, 0, &b.res, &err), TS_ERUNTIME);
    assert_non_null(strstr(err.msg, "outside"));
    ts_output_abort(out);
    assert_false(exists(part_of(path)));
}

static void test_unwritable_place_is_reported(void **state)
{
    (void)state;
    ts_output_spec spec = make_spec();
    ts_output *out = NULL;
    ts_error err = {{0}};
    assert_int_equal(ts_output_create(&out, "no-such-dir/x.h5", &spec, &err), TS_ERUNTIME);
    assert_null(out);
    assert_non_null(strstr(err.msg, "no-such-dir/x.h5"));
    assert_non_null(strstr(err.msg, "No such file or directory"));
}

static void test_failed_close_keeps_the_runs(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s", ts_test_temp_path("output-dir", ".h5"));
    assert_int_equal(mkdir(path, 0700), 0); /* a directory cannot be replaced by a file */
    ts_output_spec spec = make_spec();
    spec.force = true;
    ts_output *out = NULL;
    ts_error err = {{0}};
    assert_int_equal(ts_output_create(&out, path, &spec, &err), TS_OK);
    run_buffers b;
    fill_run(&b, 0, 0);
    assert_int_equal(ts_output_write_run(out, 0, 0, &b.res, &err), TS_OK);
    assert_int_equal(ts_output_close(out, &err), TS_ERUNTIME);
    assert_non_null(strstr(err.msg, part_of(path)));
    assert_true(H5Fis_hdf5(part_of(path)) > 0);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    unlink(part_of(path));
    rmdir(path);
}

static void test_single_replicate_has_no_summary(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s", ts_test_temp_path("output-single", ".h5"));
    ts_output_spec spec = make_spec();
    spec.n_replicates = 1;
    ts_output *out = NULL;
    ts_error err = {{0}};
    assert_int_equal(ts_output_create(&out, path, &spec, &err), TS_OK);
    run_buffers b;
    fill_run(&b, 1, 0);
    assert_int_equal(ts_output_write_run(out, 1, 0, &b.res, &err), TS_OK);
    assert_int_equal(ts_output_close(out, &err), TS_OK);

    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    assert_true(H5Lexists(file, "/series/faith", H5P_DEFAULT) > 0);
    assert_true(H5Lexists(file, "/summary", H5P_DEFAULT) == 0);
    double series[P * T];
    read_doubles(file, "/series/faith", series);
    for (int t = 0; t < T; t++) {
        assert_same(NAN, series[t]);
        assert_same(series_value(1, 0, 2, t), series[T + t]);
    }
    H5Fclose(file);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_everything_written_reads_back),
        cmocka_unit_test(test_existing_file_is_kept_without_force),
        cmocka_unit_test(test_abort_leaves_nothing),
        cmocka_unit_test(test_mismatched_run_is_refused),
        cmocka_unit_test(test_unwritable_place_is_reported),
        cmocka_unit_test(test_failed_close_keeps_the_runs),
        cmocka_unit_test(test_single_replicate_has_no_summary),
        cmocka_unit_test(test_summaries_of_many_replicates),
        cmocka_unit_test(test_series_rows_whatever_the_memory_and_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
