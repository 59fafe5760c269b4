/* Comparing replicates (compare.h and `trustsim compare`): the Welch interval and Hedges' g
 * agree with textbook formulas computed here independently and with published worked examples;
 * the bootstrap is reproducible; and the command, run on outputs written by the library, prints
 * the difference of the means of the done, finite replicates read back with the HDF5 API, and
 * refuses bad input with exit status 2 and a message naming the file and key. */
#include "support.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <hdf5.h>

#include "trustsim/compare.h"
#include "trustsim/output.h"
#include "trustsim/rng.h"

#define N_OF(x) (sizeof(x) / sizeof((x)[0]))

/* |a - b| <= tol in double precision (cmocka's assert_float_equal works in float). */
#define assert_near(a, b, tol) check_near((a), (b), (tol), #a, __FILE__, __LINE__)

static void check_near(double a, double b, double tol, const char *what, const char *file, int line)
{
    if (!(fabs(a - b) <= tol))
        fail_msg("%s:%d: %s = %.17g, expected %.17g within %g (off by %.3g)", file, line, what, a,
                 b, tol, fabs(a - b));
}

/* ---- textbook formulas, computed here without the library -------------------------------- */

static double mean_of(const double *x, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    return s / (double)n;
}

static double var_of(const double *x, size_t n)
{
    double m = mean_of(x, n), s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (x[i] - m) * (x[i] - m);
    return s / (double)(n - 1);
}

static void welch_interval_matches_textbook_formulas(void **state)
{
    (void)state;
    /* equal sizes and variances: Welch's df is exactly 2(n - 1) = 8, and the t table gives
     * t_{0.975, 8} = 2.306004 */
    const double a[] = {1, 2, 3, 4, 5}, b[] = {3, 4, 5, 6, 7};
    ts_compare_stats s;
    ts_error err;
    assert_int_equal(ts_compare_welch(a, N_OF(a), b, N_OF(b), 0.95, &s, &err), TS_OK);
    assert_near(s.diff, 2.0, 1e-15);
    assert_near(s.se, 1.0, 1e-15); /* sqrt(2.5/5 + 2.5/5) */
    assert_near(s.df, 8.0, 1e-12);
    assert_near(s.t_crit, 2.306004, 1e-6);
    assert_near(s.ci_low, 2.0 - 2.306004, 1e-6);
    assert_near(s.ci_high, 2.0 + 2.306004, 1e-6);

    /* unequal sizes and variances: every quantity from its formula */
    const double c[] = {0.52, 0.61, 0.47, 0.58}, d[] = {0.71, 0.64, 0.80, 0.69, 0.77, 0.73};
    const size_t nc = N_OF(c), nd = N_OF(d);
    assert_int_equal(ts_compare_welch(c, nc, d, nd, 0.95, &s, &err), TS_OK);
    const double qc = var_of(c, nc) / nc, qd = var_of(d, nd) / nd;
    const double df = (qc + qd) * (qc + qd) / (qc * qc / (nc - 1) + qd * qd / (nd - 1));
    assert_int_equal(s.n_a, nc);
    assert_int_equal(s.n_b, nd);
    assert_near(s.mean_a, mean_of(c, nc), 1e-15);
    assert_near(s.mean_b, mean_of(d, nd), 1e-15);
    assert_near(s.sd_a, sqrt(var_of(c, nc)), 1e-14);
    assert_near(s.sd_b, sqrt(var_of(d, nd)), 1e-14);
    assert_near(s.diff, mean_of(d, nd) - mean_of(c, nc), 1e-15);
    assert_near(s.se, sqrt(qc + qd), 1e-15);
    assert_near(s.df, df, 1e-10);
    /* the quantile is the one whose upper tail holds 2.5% */
    assert_near(gsl_cdf_tdist_Q(s.t_crit, df), 0.025, 1e-12);
    assert_near(s.ci_low, s.diff - s.t_crit * sqrt(qc + qd), 1e-14);
    assert_near(s.ci_high, s.diff + s.t_crit * sqrt(qc + qd), 1e-14);
    /* Welch's df lies between min(n) - 1 and n_a + n_b - 2 */
    assert_true(s.df >= 3.0 && s.df <= 8.0);
}

static void welch_interval_matches_published_examples(void **state)
{
    (void)state;
    ts_compare_stats s;
    ts_error err;
    /* R, t.test(ts1, ts2) (Welch by default), as printed in a worked answer on Welch intervals:
     * "t = -1.8325, df = 17.9, p-value = 0.08356; 95 percent confidence interval: -2.1469104
     * 0.1469104; mean of x 10.4, mean of y 11.4". R reports mean(x) - mean(y), so x is B here. */
    const double ts2[] = {11, 13, 10, 13, 12, 9, 11, 12, 12, 11};
    const double ts1[] = {11, 9, 10, 11, 10, 12, 9, 11, 12, 9};
    assert_int_equal(ts_compare_welch(ts2, N_OF(ts2), ts1, N_OF(ts1), 0.95, &s, &err), TS_OK);
    assert_near(s.mean_b, 10.4, 1e-12);
    assert_near(s.mean_a, 11.4, 1e-12);
    assert_near(s.diff / s.se, -1.8325, 5e-5);
    assert_near(s.df, 17.9, 0.05);
    assert_near(2.0 * gsl_cdf_tdist_Q(fabs(s.diff / s.se), s.df), 0.08356, 5e-6);
    assert_near(s.ci_low, -2.1469104, 5e-7);
    assert_near(s.ci_high, 0.1469104, 5e-7);

    /* Rosetta Code, "Welch's t-test": x = {3.0, 4.0, 1.0, 2.1}, y = {490.2, 340.0, 433.9},
     * two-sided p-value 0.010751561149784 */
    const double x[] = {3.0, 4.0, 1.0, 2.1}, y[] = {490.2, 340.0, 433.9};
    assert_int_equal(ts_compare_welch(x, N_OF(x), y, N_OF(y), 0.95, &s, &err), TS_OK);
    assert_near(2.0 * gsl_cdf_tdist_Q(fabs(s.diff / s.se), s.df), 0.010751561149784, 1e-9);
    /* a significant difference: the interval excludes 0 */
    assert_true(s.ci_low > 0.0);
}

static void hedges_g_matches_textbook_formula(void **state)
{
    (void)state;
    ts_compare_stats s;
    ts_error err;
    const double c[] = {0.52, 0.61, 0.47, 0.58}, d[] = {0.71, 0.64, 0.80, 0.69, 0.77, 0.73};
    const size_t nc = N_OF(c), nd = N_OF(d);
    assert_int_equal(ts_compare_welch(c, nc, d, nd, 0.95, &s, &err), TS_OK);
    const double m = (double)(nc + nd - 2);
    const double sp = sqrt(((nc - 1) * var_of(c, nc) + (nd - 1) * var_of(d, nd)) / m);
    const double cohen = (mean_of(d, nd) - mean_of(c, nc)) / sp;
    /* Hedges (1981): J(m) = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2)), here with the C library */
    const double j = exp(lgamma(m / 2.0) - lgamma((m - 1.0) / 2.0)) / sqrt(m / 2.0);
    assert_near(s.cohens_d, cohen, 1e-12);
    assert_near(s.hedges_g, j * cohen, 1e-12);
    /* the usual approximation 1 - 3/(4m - 1) agrees to a few parts in 10^4 at m = 8 */
    assert_near(ts_compare_hedges_correction(m), 1.0 - 3.0 / (4.0 * m - 1.0), 1e-3);
    /* closed forms J(2) = 1/sqrt(pi) and J(4) = 1/(sqrt(2) Gamma(3/2)); J -> 1 as m grows */
    assert_near(ts_compare_hedges_correction(2.0), 1.0 / sqrt(M_PI), 1e-12);
    assert_near(ts_compare_hedges_correction(4.0), 1.0 / (sqrt(2.0) * 0.5 * sqrt(M_PI)), 1e-12);
    assert_near(ts_compare_hedges_correction(1e6), 1.0, 1e-6);
    /* the correction shrinks the effect towards 0 */
    assert_true(fabs(s.hedges_g) < fabs(s.cohens_d));
    /* textbook example of equal samples: d = 2 / sqrt(2.5), g = J(8) d */
    const double a[] = {1, 2, 3, 4, 5}, b[] = {3, 4, 5, 6, 7};
    assert_int_equal(ts_compare_welch(a, 5, b, 5, 0.95, &s, &err), TS_OK);
    assert_near(s.cohens_d, 2.0 / sqrt(2.5), 1e-12);
    assert_near(s.hedges_g, 6.0 / (2.0 * 3.3233509704478426) * 2.0 / sqrt(2.5), 1e-12);
}

static void degenerate_and_bad_samples(void **state)
{
    (void)state;
    ts_compare_stats s;
    ts_error err;
    const double flat_a[] = {0.5, 0.5, 0.5}, flat_b[] = {0.7, 0.7};
    assert_int_equal(ts_compare_welch(flat_a, 3, flat_b, 2, 0.95, &s, &err), TS_OK);
    assert_near(s.diff, 0.2, 1e-15);
    assert_near(s.ci_low, s.diff, 0.0);
    assert_near(s.ci_high, s.diff, 0.0);
    assert_true(isnan(s.df));
    assert_true(isnan(s.hedges_g));
    const double one[] = {1.0}, two[] = {1.0, NAN};
    assert_int_equal(ts_compare_welch(one, 1, flat_b, 2, 0.95, &s, &err), TS_EINPUT);
    assert_non_null(strstr(err.msg, "at least 2"));
    assert_int_equal(ts_compare_welch(two, 2, flat_b, 2, 0.95, &s, &err), TS_EINPUT);
    assert_int_equal(ts_compare_welch(flat_a, 3, flat_b, 2, 1.0, &s, &err), TS_EINPUT);
    double lo, hi;
    assert_int_equal(ts_compare_bootstrap(flat_a, 3, flat_b, 2, 1, 0.95, 1, &lo, &hi, &err),
                     TS_EINPUT);
}

static void bootstrap_is_reproducible_and_close_to_welch(void **state)
{
    (void)state;
    enum { N = 200 };
    double a[N], b[N];
    gsl_rng *r = ts_rng_alloc();
    ts_rng_seed(r, 42);
    for (int i = 0; i < N; i++) {
        a[i] = 1.0 + gsl_ran_gaussian(r, 0.5);
        b[i] = 1.2 + gsl_ran_gaussian(r, 1.0);
    }
    gsl_rng_free(r);
    ts_error err;
    double lo1, hi1, lo2, hi2, lo3, hi3;
    assert_int_equal(ts_compare_bootstrap(a, N, b, N, 4000, 0.95, 7, &lo1, &hi1, &err), TS_OK);
    assert_int_equal(ts_compare_bootstrap(a, N, b, N, 4000, 0.95, 7, &lo2, &hi2, &err), TS_OK);
    assert_int_equal(ts_compare_bootstrap(a, N, b, N, 4000, 0.95, 8, &lo3, &hi3, &err), TS_OK);
    assert_true(lo1 == lo2 && hi1 == hi2); /* same seed, same interval, bit for bit */
    assert_true(lo1 != lo3 || hi1 != hi3);
    ts_compare_stats s;
    assert_int_equal(ts_compare_welch(a, N, b, N, 0.95, &s, &err), TS_OK);
    assert_true(lo1 < s.diff && s.diff < hi1);
    /* with 200 roughly normal values a side the two intervals nearly coincide: the ends
     * differ by well under a tenth of the Welch interval's width */
    const double width = s.ci_high - s.ci_low;
    assert_true(fabs(lo1 - s.ci_low) < 0.1 * width);
    assert_true(fabs(hi1 - s.ci_high) < 0.1 * width);
}

/* ---- the command on outputs written by the library --------------------------------------- */

enum { T = 6, M = 2, O = 2 };
static const char *const metric_names[M] = {"trust_interorg", "faith"};
static const char *const org_names[O] = {"hospital", "council"};

/* The value of run (p, r) of a file at tick t: spread over replicates, shifted by `shift`. */
static double value(double shift, int p, int r, int m, int t)
{
    return shift + 0.1 * p + 0.01 * m + 0.001 * t + 0.037 * ((r * 7) % 5) + 0.003 * r * r;
}

/* Write an output with n_points x n_reps runs of ticks 0..T-1; runs listed in `skip` (pairs of
 * point, replicate; -1 ends) are left undone, and run (nan_p, nan_r) holds NaN at tick T-1. */
static void write_output(const char *path, double shift, uint64_t seed, size_t n_points,
                         size_t n_reps, const int *skip, int nan_p, int nan_r, int n_times)
{
    /* a sweep over one parameter when there are several points */
    static const char *const swept[] = {"reciprocity.q0"};
    static const double q0[] = {0.1, 0.2, 0.4, 0.8};
    assert_true(n_points <= 4);
    ts_output_spec spec = {.scenario_name = "compare_test",
                           .master_seed = seed,
                           .rng_type = "mt19937",
                           .tick_unit = "week",
                           .scenario_text = "name: compare_test\n",
                           .resolved_text = "name: compare_test\n",
                           .n_points = n_points,
                           .n_replicates = n_reps,
                           .n_times = n_times,
                           .metric_names = metric_names,
                           .n_metrics = M,
                           .org_names = org_names,
                           .n_orgs = O,
                           .n_pairs = 2,
                           .pair_org = (const int[]){0, 1},
                           .pair_partner = (const int[]){1, 0},
                           .n_point_params = n_points > 1 ? 1 : 0,
                           .point_param_names = swept,
                           .point_values = q0,
                           .force = true};
    ts_output *out = NULL;
    ts_error err;
    if (ts_output_create(&out, path, &spec, &err) != TS_OK)
        fail_msg("%s", err.msg);
    double series[M * T], trust[2] = {0.5, 0.5}, faith[O] = {0.6, 0.6};
    int8_t stage[2] = {1, 1};
    uint8_t active[O] = {1, 1};
    for (size_t p = 0; p < n_points; p++) {
        for (size_t r = 0; r < n_reps; r++) {
            bool skipped = false;
            for (int k = 0; skip && skip[k] >= 0; k += 2)
                skipped |= skip[k] == (int)p && skip[k + 1] == (int)r;
            if (skipped)
                continue;
            for (int m = 0; m < M; m++)
                for (int t = 0; t < n_times; t++)
                    series[m * n_times + t] = value(shift, (int)p, (int)r, m, t);
            if ((int)p == nan_p && (int)r == nan_r)
                series[0 * n_times + n_times - 1] = NAN;
            ts_run_result res = {M, n_times, series, O, 2, trust, stage, faith, active};
            if (ts_output_write_run(out, p, r, &res, &err) != TS_OK)
                fail_msg("%s", err.msg);
        }
    }
    if (ts_output_close(out, &err) != TS_OK)
        fail_msg("%s", err.msg);
}

/* The mean of /series/<metric>[point, :, t] over done, finite replicates, read with HDF5. */
static double direct_mean(const char *path, const char *metric, size_t point, int t, size_t *n)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    char name[128];
    snprintf(name, sizeof name, "/series/%s", metric);
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT), sp = H5Dget_space(d);
    hsize_t dims[3];
    assert_int_equal(H5Sget_simple_extent_dims(sp, dims, NULL), 3);
    double *all = malloc(dims[0] * dims[1] * dims[2] * sizeof *all);
    uint8_t *done = malloc(dims[0] * dims[1]);
    assert_true(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, all) >= 0);
    hid_t dd = H5Dopen2(f, "/done", H5P_DEFAULT);
    assert_true(H5Dread(dd, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, done) >= 0);
    double sum = 0.0;
    *n = 0;
    for (size_t r = 0; r < dims[1]; r++) {
        double v = all[(point * dims[1] + r) * dims[2] + (size_t)t];
        if (done[point * dims[1] + r] == 1 && isfinite(v)) {
            sum += v;
            (*n)++;
        }
    }
    free(all);
    free(done);
    H5Dclose(dd);
    H5Sclose(sp);
    H5Dclose(d);
    H5Fclose(f);
    return sum / (double)*n;
}

/* Run `trustsim compare ARGS`; returns the exit status, stdout+stderr in out. */
static int run_compare(const char *args, char *out, size_t cap)
{
    char all[4096];
    snprintf(all, sizeof all, "compare %s", args);
    return ts_test_cli(all, out, cap);
}

/* The number after `"key": ` in a JSON text (the first occurrence after `from`). */
static double json_field(const char *json, const char *from, const char *key)
{
    const char *p = from ? strstr(json, from) : json;
    assert_non_null(p);
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    p = strstr(p, pat);
    if (!p)
        fail_msg("no %s in %s", key, json);
    return strtod(p + strlen(pat), NULL);
}

typedef struct files {
    char a[256], b[256], sweep[256], short_run[256], sparse[256];
} files;

static int make_files(void **state)
{
    static files f;
    snprintf(f.a, sizeof f.a, "%s", ts_test_temp_path("compare-a", ".h5"));
    snprintf(f.b, sizeof f.b, "%s", ts_test_temp_path("compare-b", ".h5"));
    snprintf(f.sweep, sizeof f.sweep, "%s", ts_test_temp_path("compare-sweep", ".h5"));
    snprintf(f.short_run, sizeof f.short_run, "%s", ts_test_temp_path("compare-short", ".h5"));
    snprintf(f.sparse, sizeof f.sparse, "%s", ts_test_temp_path("compare-sparse", ".h5"));
    /* A: 7 replicates, replicate 2 never finished, replicate 4 NaN at the last tick */
    const int skip_a[] = {0, 2, -1};
    write_output(f.a, 0.40, 11, 1, 7, skip_a, 0, 4, T);
    /* B: 5 replicates, all done, means higher by about 0.05 */
    write_output(f.b, 0.45, 12, 1, 5, NULL, -1, -1, T);
    /* a sweep of 3 points in one file (point p adds 0.1 p) */
    const int skip_s[] = {1, 0, -1};
    write_output(f.sweep, 0.30, 13, 3, 4, skip_s, -1, -1, T);
    /* a shorter horizon, and a file with one usable replicate */
    write_output(f.short_run, 0.40, 14, 1, 3, NULL, -1, -1, T - 2);
    const int skip_p[] = {0, 0, 0, 2, -1};
    write_output(f.sparse, 0.40, 15, 1, 3, skip_p, -1, -1, T);
    *state = &f;
    return 0;
}

static int remove_files(void **state)
{
    files *f = *state;
    remove(f->a);
    remove(f->b);
    remove(f->sweep);
    remove(f->short_run);
    remove(f->sparse);
    return 0;
}

static void command_prints_the_difference_of_stored_means(void **state)
{
    files *f = *state;
    char args[1024], out[8192];
    size_t na, nb;
    const double ma = direct_mean(f->a, "trust_interorg", 0, T - 1, &na);
    const double mb = direct_mean(f->b, "trust_interorg", 0, T - 1, &nb);
    assert_int_equal(na, 5); /* 7 replicates, one undone, one NaN */
    assert_int_equal(nb, 5);

    snprintf(args, sizeof args, "'%s' '%s' --metric trust_interorg --json", f->a, f->b);
    assert_int_equal(run_compare(args, out, sizeof out), 0);
    assert_near(json_field(out, NULL, "difference"), mb - ma, 1e-12);
    assert_near(json_field(out, "\"a\"", "mean"), ma, 1e-12);
    assert_near(json_field(out, "\"a\"", "n"), 5, 0);
    assert_near(json_field(out, "\"a\"", "n_done"), 6, 0);
    assert_near(json_field(out, "\"a\"", "n_not_finite"), 1, 0);
    assert_near(json_field(out, "\"a\"", "n_replicates"), 7, 0);
    assert_near(json_field(out, "\"b\"", "n"), 5, 0);
    assert_near(json_field(out, NULL, "tick"), T - 1, 0);
    assert_non_null(strstr(out, "\"difference_of\": \"B - A\""));
    assert_non_null(strstr(out, "\"bootstrap\": null"));
    /* one object on one line */
    assert_true(out[0] == '{' && strcmp(out + strlen(out) - 2, "}\n") == 0);
    assert_true(strchr(out, '\n') == out + strlen(out) - 1);

    /* the same in text, and at an earlier tick */
    snprintf(args, sizeof args, "'%s' '%s' -m trust_interorg --at 2", f->a, f->b);
    assert_int_equal(run_compare(args, out, sizeof out), 0);
    const double ma2 = direct_mean(f->a, "trust_interorg", 0, 2, &na);
    const double mb2 = direct_mean(f->b, "trust_interorg", 0, 2, &nb);
    assert_int_equal(na, 6); /* the NaN is at the last tick only */
    const char *line = strstr(out, "difference, B - A");
    assert_non_null(line);
    double printed = strtod(line + strlen("difference, B - A"), NULL);
    assert_near(printed, mb2 - ma2, 1e-6 * fabs(mb2 - ma2) + 1e-12);
    assert_non_null(strstr(out, "at tick 2 (week)"));
    assert_non_null(strstr(out, "95% CI, Welch t"));
    assert_non_null(strstr(out, "Hedges' g"));
}

static void command_compares_two_points_of_a_sweep(void **state)
{
    files *f = *state;
    char args[1024], out[8192];
    size_t n0, n2;
    const double m0 = direct_mean(f->sweep, "faith", 0, T - 1, &n0);
    const double m2 = direct_mean(f->sweep, "faith", 2, T - 1, &n2);
    snprintf(args, sizeof args, "'%s' --point-a 0 --point-b 2 --metric faith --json", f->sweep);
    assert_int_equal(run_compare(args, out, sizeof out), 0);
    assert_near(json_field(out, NULL, "difference"), m2 - m0, 1e-12);
    assert_near(json_field(out, "\"b\"", "point"), 2, 0);
    assert_non_null(strstr(out, "\"point_values\": \"reciprocity.q0=0.4\""));
    /* point 1 lost a replicate */
    snprintf(args, sizeof args, "'%s' --point-a 1 --point-b 2 --metric faith --json", f->sweep);
    assert_int_equal(run_compare(args, out, sizeof out), 0);
    assert_near(json_field(out, "\"a\"", "n"), 3, 0);
}

static void bootstrap_from_the_command_is_reproducible(void **state)
{
    files *f = *state;
    char args[1024], out1[8192], out2[8192];
    snprintf(args, sizeof args, "'%s' '%s' -m faith --bootstrap 500 --json", f->a, f->b);
    assert_int_equal(run_compare(args, out1, sizeof out1), 0);
    assert_int_equal(run_compare(args, out2, sizeof out2), 0);
    assert_string_equal(out1, out2);
    /* seeded from both files' master seeds (11 and 12) and the points through ts_seed_hash */
    char seed[64];
    snprintf(seed, sizeof seed, "\"seed\": %llu", (unsigned long long)ts_seed_hash(11, 12, 0));
    assert_non_null(strstr(out1, seed));
    const char *ci = strstr(strstr(out1, "\"bootstrap\""), "\"ci\": [");
    assert_non_null(ci);
    double blo = strtod(ci + 7, NULL), bhi = strtod(strchr(ci, ',') + 1, NULL);
    double diff = json_field(out1, NULL, "difference");
    assert_true(blo <= diff && diff <= bhi);
}

static void json_escapes_file_names(void **state)
{
    files *f = *state;
    char odd[300], args[1024], out[8192];
    snprintf(odd, sizeof odd, "%s", ts_test_temp_path("compare-\"odd\\name\t", ".h5"));
    assert_int_equal(link(f->b, odd), 0);
    snprintf(args, sizeof args, "'%s' '%s' -m faith --json", f->a, odd);
    assert_int_equal(run_compare(args, out, sizeof out), 0);
    remove(odd);
    /* the quote, backslash and tab arrive escaped, and nothing else breaks the string */
    assert_non_null(strstr(out, "compare-\\\"odd\\\\name\\t-"));
    assert_null(strchr(out, '\t'));
}

static void bad_input_exits_2_naming_file_and_key(void **state)
{
    files *f = *state;
    char args[1024], out[8192];
    snprintf(args, sizeof args, "no-such-file.h5 '%s' -m faith", f->b);
    assert_int_equal(run_compare(args, out, sizeof out), 2);
    assert_non_null(strstr(out, "no-such-file.h5"));

    snprintf(args, sizeof args, "'%s' '%s' -m trust_of_strangers", f->a, f->b);
    assert_int_equal(run_compare(args, out, sizeof out), 2);
    assert_non_null(strstr(out, "trust_of_strangers"));
    assert_non_null(strstr(out, f->a));
    assert_non_null(strstr(out, "trust_interorg")); /* lists what is stored */

    snprintf(args, sizeof args, "'%s' '%s' -m faith --at 99", f->a, f->b);
    assert_int_equal(run_compare(args, out, sizeof out), 2);
    assert_non_null(strstr(out, "tick 99"));

    snprintf(args, sizeof args, "'%s' '%s' -m faith", f->a, f->short_run);
    assert_int_equal(run_compare(args, out, sizeof out), 2);
    assert_non_null(strstr(out, "--at"));
    snprintf(args, sizeof args, "'%s' '%s' -m faith --at 3", f->a, f->short_run);
    assert_int_equal(run_compare(args, out, sizeof out), 0);

    snprintf(args, sizeof args, "'%s' '%s' -m faith", f->a, f->sparse);
    assert_int_equal(run_compare(args, out, sizeof out), 2);
    assert_non_null(strstr(out, f->sparse));
    assert_non_null(strstr(out, "at least 2"));

    snprintf(args, sizeof args, "'%s' --point-a 0 --point-b 3 -m faith", f->sweep);
    assert_int_equal(run_compare(args, out, sizeof out), 2);
    assert_non_null(strstr(out, "point 3"));

    snprintf(args, sizeof args, "'%s' -m faith", f->sweep);
    assert_int_equal(run_compare(args, out, sizeof out), 2);
    snprintf(args, sizeof args, "'%s' '%s'", f->a, f->b);
    assert_int_equal(run_compare(args, out, sizeof out), 2);
    assert_non_null(strstr(out, "--metric"));
    snprintf(args, sizeof args, "'%s' '%s' -m faith --bootstrap 5", f->a, f->b);
    assert_int_equal(run_compare(args, out, sizeof out), 2);
    snprintf(args, sizeof args, "'%s' '%s' -m faith", f->a, ts_test_source_path("README.md"));
    assert_int_equal(run_compare(args, out, sizeof out), 2);
    assert_non_null(strstr(out, "not an HDF5 file"));
    assert_int_equal(run_compare("--help", out, sizeof out), 0);
    assert_non_null(strstr(out, "Usage: trustsim compare"));
}

int main(void)
{
    const struct CMUnitTest stats_tests[] = {
        cmocka_unit_test(welch_interval_matches_textbook_formulas),
        cmocka_unit_test(welch_interval_matches_published_examples),
        cmocka_unit_test(hedges_g_matches_textbook_formula),
        cmocka_unit_test(degenerate_and_bad_samples),
        cmocka_unit_test(bootstrap_is_reproducible_and_close_to_welch),
    };
    const struct CMUnitTest command_tests[] = {
        cmocka_unit_test(command_prints_the_difference_of_stored_means),
        cmocka_unit_test(command_compares_two_points_of_a_sweep),
        cmocka_unit_test(bootstrap_from_the_command_is_reproducible),
        cmocka_unit_test(json_escapes_file_names),
        cmocka_unit_test(bad_input_exits_2_naming_file_and_key),
    };
    int failed = cmocka_run_group_tests_name("statistics", stats_tests, NULL, NULL);
    failed += cmocka_run_group_tests_name("command", command_tests, make_files, remove_files);
    return failed;
}
