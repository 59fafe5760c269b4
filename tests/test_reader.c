/* The reader of output files (include/trustsim/reader.h) as the commands meet it: everything
 * the writer stored reads back (series, summaries, final state through its pairs, swept values
 * in the order of the sweep block, texts, attributes); files that are missing, not HDF5, not
 * trustsim outputs, of a newer format or inconsistent in shape are refused with a message
 * naming the file and the fault; and verification finds flipped bytes in every dataset of a
 * finished file, naming that dataset. */
#include "support.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>

#include "trustsim/metrics.h"
#include "trustsim/output.h"
#include "trustsim/reader.h"

enum { P = 2, R = 3, T = 5, M = 4, O = 3, K = 2, NP = 4 };

/* written in this order; the reader gives the model's metrics in its order, others after */
static const char *const metrics[M] = {"zz_custom", "faith", "trust_interorg", "coop_rate"};
static const char *const orgs[O] = {"Hôpital Nord", "Care, Co", "Council"};
/* stored by name (HDF5's order); the sweep block lists reciprocity.q0 first */
static const char *const params[K] = {"faith.initial", "reciprocity.q0"};
static const double point_values[P * K] = {0.3, 0.1, 0.6, 0.2};
/* the pairs with a state, in the model's order: Care, Co and the Council share nothing */
static const int pair_org[NP] = {0, 0, 1, 2}, pair_partner[NP] = {1, 2, 0, 0};
static const char *const given = "name: reader_case\n# as given\n";
static const char *const resolved = "name: reader_case\n"
                                    "ticks: 4\n"
                                    "organisations:\n"
                                    "  - {id: a, kind: acute_trust}\n"
                                    "sweep:\n"
                                    "  design: list\n"
                                    "  parameters:\n"
                                    "    reciprocity.q0: {values: [0.1, 0.2]}\n"
                                    "    faith.initial: {values: [0.3, 0.6]}\n";

static bool written(int p, int r)
{
    return !(p == 1 && r == 2);
}

static double series_value(int p, int r, int m, int t)
{
    if (p == 0 && r == 1 && m == 1 && t == 2)
        return NAN;
    return 100.0 * p + 10.0 * m + t + 0.125 * r * (t + 1);
}

static double trust_value(int p, int r, int o, int q)
{
    return o == q ? NAN : p + 0.1 * r + 0.01 * o + 0.001 * q;
}

static int8_t stage_value(int p, int r, int o, int q)
{
    return o == q ? -1 : (int8_t)((p + r + o + q) % 4);
}

static char h5[256];

static int setup(void **state)
{
    (void)state;
    snprintf(h5, sizeof h5, "reader-%ld.h5", (long)getpid());
    ts_output_spec spec = {.scenario_name = "reader_case",
                           .master_seed = 987654321,
                           .rng_type = "mt19937",
                           .tick_unit = "month",
                           .scenario_text = given,
                           .resolved_text = resolved,
                           .n_points = P,
                           .n_replicates = R,
                           .n_times = T,
                           .metric_names = metrics,
                           .n_metrics = M,
                           .org_names = orgs,
                           .n_orgs = O,
                           .n_pairs = NP,
                           .pair_org = pair_org,
                           .pair_partner = pair_partner,
                           .n_point_params = K,
                           .point_param_names = params,
                           .point_values = point_values,
                           .force = true};
    ts_output *out;
    ts_error err;
    if (ts_output_create(&out, h5, &spec, &err) != TS_OK)
        return -1;
    for (int p = 0; p < P; p++)
        for (int r = 0; r < R; r++) {
            if (!written(p, r))
                continue;
            double series[M * T], trust[NP], faith[O];
            int8_t stage[NP];
            uint8_t active[O];
            for (int m = 0; m < M; m++)
                for (int t = 0; t < T; t++)
                    series[m * T + t] = series_value(p, r, m, t);
            for (int k = 0; k < NP; k++) {
                trust[k] = trust_value(p, r, pair_org[k], pair_partner[k]);
                stage[k] = stage_value(p, r, pair_org[k], pair_partner[k]);
            }
            for (int o = 0; o < O; o++) {
                faith[o] = 0.5 + 0.01 * (p + r + o);
                active[o] = (uint8_t)((p + r + o) % 2);
            }
            ts_run_result res = {M, T, series, O, NP, trust, stage, faith, active};
            if (ts_output_write_run(out, (size_t)p, (size_t)r, &res, &err) != TS_OK)
                return -1;
        }
    return ts_output_close(out, &err) == TS_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return remove(h5);
}

static ts_reader *open_ok(const char *path)
{
    ts_reader *r;
    ts_error err;
    if (ts_reader_open(&r, path, &err) != TS_OK)
        fail_msg("%s", err.msg);
    return r;
}

/* Bit for bit, NaN as NaN. */
static void assert_same(double want, double got)
{
    if (isnan(want) ? !isnan(got) : memcmp(&want, &got, sizeof want) != 0)
        fail_msg("expected %.17g, got %.17g", want, got);
}

/* The index metric m of the file has among the names written. */
static int written_index(const char *name)
{
    for (int m = 0; m < M; m++)
        if (strcmp(metrics[m], name) == 0)
            return m;
    fail_msg("no metric %s was written", name);
    return -1;
}

static void everything_written_reads_back(void **state)
{
    (void)state;
    ts_reader *r = open_ok(h5);
    const ts_file_info *in = ts_reader_info(r);
    assert_int_equal(in->format_version, 2);
    assert_int_equal(in->n_points, P);
    assert_int_equal(in->n_replicates, R);
    assert_int_equal(in->n_times, T);
    assert_int_equal(in->n_orgs, O);
    assert_int_equal(in->n_pairs, NP);
    assert_int_equal(in->n_done, P * R - 1);
    assert_int_equal(in->n_metrics, M);
    assert_int_equal(in->n_params, K);
    assert_true(in->has_summary);
    assert_int_equal(in->master_seed, 987654321);
    assert_string_equal(in->scenario, "reader_case");
    assert_string_equal(in->tick_unit, "month");
    assert_string_equal(in->trustsim_version, TRUSTSIM_VERSION);
    assert_string_equal(ts_reader_scenario_text(r), given);
    assert_string_equal(ts_reader_scenario_resolved(r), resolved);
    for (int t = 0; t < T; t++)
        assert_int_equal(ts_reader_ticks(r)[t], t);
    for (int p = 0; p < P; p++)
        for (int q = 0; q < R; q++)
            assert_int_equal(ts_reader_run_done(r, (size_t)p, (size_t)q), written(p, q));
    for (int o = 0; o < O; o++)
        assert_string_equal(ts_reader_org(r, (size_t)o), orgs[o]);
    /* the model's metrics in the model's order, then the others */
    for (int m = 0; m + 1 < M; m++)
        assert_true(ts_metric_find(ts_reader_metric(r, m)) >= 0 &&
                    (m == 0 || ts_metric_find(ts_reader_metric(r, m - 1)) <
                                   ts_metric_find(ts_reader_metric(r, m))));
    assert_string_equal(ts_reader_metric(r, M - 1), "zz_custom");
    assert_int_equal(ts_reader_metric_index(r, "trust_interorg") >= 0, 1);
    assert_int_equal(ts_reader_metric_index(r, "no_such_metric"), -1);
    /* the sweep block's order */
    assert_string_equal(ts_reader_param(r, 0), "reciprocity.q0");
    assert_string_equal(ts_reader_param(r, 1), "faith.initial");

    ts_error err;
    double buf[P * R * T + O * O * R];
    for (int m = 0; m < M; m++) {
        const int w = written_index(ts_reader_metric(r, m));
        for (int p = 0; p < P; p++) {
            assert_int_equal(ts_reader_series(r, m, (size_t)p, buf, &err), TS_OK);
            for (int q = 0; q < R; q++)
                for (int t = 0; t < T; t++)
                    assert_same(written(p, q) ? series_value(p, q, w, t) : NAN, buf[q * T + t]);
        }
        assert_int_equal(ts_reader_series_at(r, m, 0, P, T - 1, buf, &err), TS_OK);
        for (int p = 0; p < P; p++)
            for (int q = 0; q < R; q++)
                assert_same(written(p, q) ? series_value(p, q, w, T - 1) : NAN, buf[p * R + q]);
        /* the mean over the done replicates with a value, from the values written */
        assert_int_equal(ts_reader_summary(r, m, "mean", buf, &err), TS_OK);
        for (int p = 0; p < P; p++)
            for (int t = 0; t < T; t++) {
                double sum = 0;
                int n = 0;
                for (int q = 0; q < R; q++)
                    if (written(p, q) && !isnan(series_value(p, q, w, t)))
                        sum += series_value(p, q, w, t), n++;
                assert_true(fabs(buf[p * T + t] - sum / n) < 1e-12);
            }
    }
    double col[P];
    assert_int_equal(ts_reader_points(r, 0, col, &err), TS_OK); /* reciprocity.q0 */
    assert_same(0.1, col[0]);
    assert_same(0.2, col[1]);
    assert_int_equal(ts_reader_points(r, 1, col, &err), TS_OK); /* faith.initial */
    assert_same(0.3, col[0]);
    assert_same(0.6, col[1]);

    /* final state: every pair with a state once, in order, with the value written for it */
    int8_t stages[R * O * O];
    bool seen[O * O] = {false};
    for (int p = 0; p < P; p++) {
        assert_int_equal(ts_reader_final_trust(r, (size_t)p, buf, &err), TS_OK);
        assert_int_equal(ts_reader_final_stage(r, (size_t)p, stages, &err), TS_OK);
        for (size_t k = 0; k < in->n_pairs; k++) {
            size_t o, q;
            ts_reader_pair(r, k, &o, &q);
            assert_int_equal(o, pair_org[k]);
            assert_int_equal(q, pair_partner[k]);
            assert_true(p > 0 || !seen[o * O + q]);
            seen[o * O + q] = true;
            for (int rep = 0; rep < R; rep++) {
                const size_t at = (size_t)rep * in->n_pairs + k;
                assert_same(written(p, rep) ? trust_value(p, rep, (int)o, (int)q) : NAN, buf[at]);
                assert_int_equal(stages[at],
                                 written(p, rep) ? stage_value(p, rep, (int)o, (int)q) : -1);
            }
        }
    }
    for (int k = 0; k < NP; k++)
        assert_true(seen[pair_org[k] * O + pair_partner[k]]);
    ts_reader_close(r);
}

/* A file of format 1 (tests/data/format1.h5, written by trustsim 0.1.0 before the final state
 * was stored by pair: 4 organisations, 2 replicates) still reads: its pairs are every
 * (organisation, partner), and their values are those of its [organisation, partner]
 * datasets, read here with HDF5 itself. */
static void a_file_of_format_1_still_reads(void **state)
{
    (void)state;
    const char *path = ts_test_source_path("tests/data/format1.h5");
    ts_reader *r = open_ok(path);
    const ts_file_info *in = ts_reader_info(r);
    enum { N = 4, REPS = 2 };
    assert_int_equal(in->format_version, 1);
    assert_int_equal(in->n_orgs, N);
    assert_int_equal(in->n_replicates, REPS);
    assert_int_equal(in->n_pairs, N * N);
    double dense[REPS * N * N], trust[REPS * N * N];
    int8_t dense_stage[REPS * N * N], stage[REPS * N * N];
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    ts_test_h5_read(f, "/final/trust_interorg", H5T_NATIVE_DOUBLE, dense);
    ts_test_h5_read(f, "/final/stage", H5T_NATIVE_INT8, dense_stage);
    H5Fclose(f);
    ts_error err;
    assert_int_equal(ts_reader_final_trust(r, 0, trust, &err), TS_OK);
    assert_int_equal(ts_reader_final_stage(r, 0, stage, &err), TS_OK);
    int known = 0;
    for (size_t k = 0; k < in->n_pairs; k++) {
        size_t o, q;
        ts_reader_pair(r, k, &o, &q);
        assert_int_equal(o, k / N);
        assert_int_equal(q, k % N);
        for (int rep = 0; rep < REPS; rep++) {
            const size_t at = (size_t)rep * in->n_pairs + k;
            assert_same(dense[(size_t)rep * N * N + o * N + q], trust[at]);
            assert_int_equal(dense_stage[(size_t)rep * N * N + o * N + q], stage[at]);
            known += !isnan(trust[at]);
        }
    }
    assert_int_equal(known, REPS * N * (N - 1)); /* one collaboration: all but the diagonal */
    ts_reader_close(r);
}

static void reads_out_of_the_file_s_range_are_refused(void **state)
{
    (void)state;
    ts_reader *r = open_ok(h5);
    ts_error err;
    double buf[R * T];
    assert_int_equal(ts_reader_series(r, 0, P, buf, &err), TS_EINPUT);
    assert_non_null(strstr(err.msg, "point 2 is out of range"));
    assert_int_equal(ts_reader_series(r, M, 0, buf, &err), TS_EINPUT);
    assert_int_equal(ts_reader_series_at(r, 0, 0, 1, T, buf, &err), TS_EINPUT);
    assert_int_equal(ts_reader_summary(r, 0, "median", buf, &err), TS_EINPUT);
    assert_int_equal(ts_reader_points(r, K, buf, &err), TS_EINPUT);
    ts_reader_close(r);
}

/* Open `path` expecting TS_EINPUT with `why` and the path in the message. */
static void assert_refused(const char *path, const char *why)
{
    ts_reader *r = (ts_reader *)1;
    ts_error err;
    assert_int_equal(ts_reader_open(&r, path, &err), TS_EINPUT);
    assert_null(r);
    if (!strstr(err.msg, path) || !strstr(err.msg, why))
        fail_msg("expected '%s' about %s, got: %s", why, path, err.msg);
}

static void copy_file(const char *from, const char *to)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", from, to);
    assert_int_equal(system(cmd), 0);
}

static void foreign_and_inconsistent_files_are_refused(void **state)
{
    (void)state;
    char other[300];
    snprintf(other, sizeof other, "reader-other-%ld.h5", (long)getpid());
    assert_refused("reader-no-such-file.h5", strerror(ENOENT));
    assert_refused(ts_test_source_path("README.md"), "not an HDF5 file");

    /* HDF5, but nothing of trustsim's */
    hid_t f = H5Fcreate(other, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    H5Fclose(f);
    assert_refused(other, "not a trustsim output");

    /* a newer format */
    copy_file(h5, other);
    f = H5Fopen(other, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t a = H5Aopen(f, "format_version", H5P_DEFAULT);
    const int newer = 99;
    assert_true(H5Awrite(a, H5T_NATIVE_INT, &newer) >= 0);
    H5Aclose(a), H5Fclose(f);
    assert_refused(other, "format version 99 by a newer trustsim");

    /* /done of another shape than the file's points and replicates */
    copy_file(h5, other);
    f = H5Fopen(other, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(H5Ldelete(f, "done", H5P_DEFAULT) >= 0);
    hsize_t dims[2] = {1, 1};
    hid_t sp = H5Screate_simple(2, dims, NULL);
    hid_t d = H5Dcreate2(f, "done", H5T_STD_U8LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dclose(d), H5Sclose(sp), H5Fclose(f);
    assert_refused(other, "/done is shaped [1, 1], not [2, 3]");

    /* a series of another type */
    copy_file(h5, other);
    f = H5Fopen(other, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(H5Ldelete(f, "series/faith", H5P_DEFAULT) >= 0);
    hsize_t sdims[3] = {P, R, T};
    sp = H5Screate_simple(3, sdims, NULL);
    d = H5Dcreate2(f, "series/faith", H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dclose(d), H5Sclose(sp), H5Fclose(f);
    assert_refused(other, "/series/faith does not hold numbers");
    remove(other);
}

/* ---- verification ------------------------------------------------------------------------- */

typedef struct findings {
    char names[64][128];
    int n;
} findings;

static void note(void *ctx, const char *dataset, const char *problem)
{
    findings *f = ctx;
    (void)problem;
    if (f->n < 64)
        snprintf(f->names[f->n++], sizeof f->names[0], "%s", dataset);
}

typedef struct dataset_list {
    char names[512][128];
    int n;
} dataset_list;

static herr_t list_dataset(hid_t loc, const char *name, const H5O_info_t *info, void *data)
{
    (void)loc;
    dataset_list *l = data;
    if (info->type == H5O_TYPE_DATASET && l->n < 512)
        snprintf(l->names[l->n++], sizeof l->names[0], "/%s", name);
    return 0;
}

/* Where a dataset's bytes are in the file: its first chunk, or its contiguous storage. */
static void storage_of(const char *path, const char *name, haddr_t *at, hsize_t *size)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT), dcpl = H5Dget_create_plist(d);
    if (H5Pget_layout(dcpl) == H5D_CHUNKED) {
        hid_t sp = H5Dget_space(d);
        hsize_t offset[4];
        unsigned mask;
        assert_true(H5Dget_chunk_info(d, sp, 0, offset, &mask, at, size) >= 0);
        H5Sclose(sp);
    } else {
        *at = H5Dget_offset(d);
        *size = H5Dget_storage_size(d);
    }
    H5Pclose(dcpl), H5Dclose(d), H5Fclose(f);
    assert_true(*at != HADDR_UNDEF && *size > 0);
}

static void flip_byte(const char *path, long at)
{
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, at, SEEK_SET);
    int c = fgetc(f);
    fseek(f, at, SEEK_SET);
    fputc(c ^ 0x5a, f);
    fclose(f);
}

static bool found(const findings *f, const char *name)
{
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->names[i], name) == 0)
            return true;
    return false;
}

static void a_clean_file_verifies(void **state)
{
    (void)state;
    findings f = {.n = 0};
    ts_verify_report rep;
    ts_error err;
    assert_int_equal(ts_reader_verify(h5, note, &f, &rep, &err), TS_OK);
    assert_int_equal(rep.damaged, 0);
    assert_int_equal(rep.unprotected, 0); /* every dataset carries a checksum */
    assert_int_equal(f.n, 0);
    assert_true(rep.datasets > 30);
    assert_true(rep.chunks >= rep.datasets);
}

/* A byte flipped in the stored values of any dataset of a finished file: verification names
 * that dataset. */
static void damage_to_any_dataset_is_found(void **state)
{
    (void)state;
    dataset_list l = {.n = 0};
    hid_t file = H5Fopen(h5, H5F_ACC_RDONLY, H5P_DEFAULT);
    H5Ovisit(file, H5_INDEX_NAME, H5_ITER_INC, list_dataset, &l);
    H5Fclose(file);
    assert_true(l.n > 30);
    char copy[300];
    snprintf(copy, sizeof copy, "reader-damaged-%ld.h5", (long)getpid());
    for (int i = 0; i < l.n; i++) {
        copy_file(h5, copy);
        haddr_t at;
        hsize_t size;
        storage_of(copy, l.names[i], &at, &size);
        flip_byte(copy, (long)(at + size / 2));
        findings f = {.n = 0};
        ts_verify_report rep;
        ts_error err;
        assert_int_equal(ts_reader_verify(copy, note, &f, &rep, &err), TS_OK);
        if (!found(&f, l.names[i]))
            fail_msg("a byte flipped in %s went unseen", l.names[i]);
        assert_true(rep.damaged >= 1);
    }
    /* the characters of a string, kept by HDF5 outside the dataset */
    copy_file(h5, copy);
    char *bytes = ts_test_read_file(copy);
    assert_non_null(bytes);
    struct stat sb;
    assert_int_equal(stat(copy, &sb), 0);
    long where = -1;
    for (long k = 0; where < 0 && k + 10 <= (long)sb.st_size; k++)
        if (memcmp(bytes + k, "# as given", 10) == 0)
            where = k;
    assert_true(where >= 0);
    flip_byte(copy, where + 3);
    free(bytes);
    findings f = {.n = 0};
    ts_verify_report rep;
    ts_error err;
    assert_int_equal(ts_reader_verify(copy, note, &f, &rep, &err), TS_OK);
    assert_true(found(&f, "/scenario/text"));
    remove(copy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(everything_written_reads_back),
        cmocka_unit_test(a_file_of_format_1_still_reads),
        cmocka_unit_test(reads_out_of_the_file_s_range_are_refused),
        cmocka_unit_test(foreign_and_inconsistent_files_are_refused),
        cmocka_unit_test(a_clean_file_verifies),
        cmocka_unit_test(damage_to_any_dataset_is_found),
    };
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    return cmocka_run_group_tests(tests, setup, teardown);
}
