/* Sobol sensitivity indices: the estimators recover the analytic indices of the Ishigami
 * function and of a linear model within their bootstrap intervals, a parameter the output
 * ignores gets exactly zero, unusable rows are left out, the bootstrap is reproducible, and
 * `trustsim sensitivity` stores in the output file the indices of the replicate means it
 * holds. */
#include "support.h"

#include <hdf5.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trustsim/design.h"
#include "trustsim/rng.h"
#include "trustsim/scenario.h"
#include "trustsim/sensitivity.h"

/* A Saltelli design of three parameters on [-pi, pi]^3 with N base samples: the scenario's
 * swept keys are merely three unbounded real parameters; only their values are used. */
static void saltelli_points(int n, ts_points *pts)
{
    char text[1024];
    snprintf(text, sizeof text,
             "name: design\nticks: 1\norganisations: [{id: a, kind: council}]\n"
             "sweep:\n  design: saltelli\n  n: %d\n  parameters:\n"
             "    decision.beta_trust: {min: -3.141592653589793, max: 3.141592653589793}\n"
             "    decision.beta_faith: {min: -3.141592653589793, max: 3.141592653589793}\n"
             "    decision.beta_benevolence: {min: -3.141592653589793, max: 3.141592653589793}\n",
             n);
    ts_scenario sc;
    ts_error err;
    assert_int_equal(ts_scenario_load_string(&sc, text, "design.yaml", &err), TS_OK);
    assert_int_equal(ts_points_build(&sc.params, pts, &err), TS_OK);
    ts_scenario_destroy(&sc);
    assert_int_equal(pts->saltelli_n, n);
    assert_int_equal(pts->n_params, 3);
    assert_int_equal(pts->n_points, n * 5);
}

static double ishigami(const double *x)
{
    const double a = 7.0, b = 0.1;
    return sin(x[0]) + a * sin(x[1]) * sin(x[1]) + b * pow(x[2], 4) * sin(x[0]);
}

/* The Ishigami function's indices from its variance decomposition (Ishigami and Homma 1990):
 * V1 = (1 + b pi^4 / 5)^2 / 2, V2 = a^2 / 8, V13 = b^2 pi^8 (1/18 - 1/50), V = V1 + V2 + V13. */
static void ishigami_indices(double s[3], double st[3])
{
    const double a = 7.0, b = 0.1, pi4 = pow(M_PI, 4), pi8 = pow(M_PI, 8);
    const double v1 = 0.5 * pow(1.0 + b * pi4 / 5.0, 2), v2 = a * a / 8.0;
    const double v13 = b * b * pi8 * (1.0 / 18.0 - 1.0 / 50.0), v = v1 + v2 + v13;
    s[0] = v1 / v, s[1] = v2 / v, s[2] = 0.0;
    st[0] = (v1 + v13) / v, st[1] = v2 / v, st[2] = v13 / v;
}

static double *evaluate(const ts_points *pts, double (*f)(const double *))
{
    double *y = malloc((size_t)pts->n_points * sizeof *y);
    assert_non_null(y);
    for (int p = 0; p < pts->n_points; p++)
        y[p] = f(pts->values + (size_t)p * pts->n_params);
    return y;
}

static void ishigami_indices_lie_within_their_bootstrap_intervals(void **state)
{
    (void)state;
    double s[3], st[3];
    ishigami_indices(s, st);
    /* the published values, as a check on the formulas above */
    const double s_pub[3] = {0.3139, 0.4424, 0.0}, st_pub[3] = {0.5576, 0.4424, 0.2437};
    for (int i = 0; i < 3; i++) {
        assert_true(fabs(s[i] - s_pub[i]) < 1e-4);
        assert_true(fabs(st[i] - st_pub[i]) < 1e-4);
    }

    ts_points pts;
    saltelli_points(4096, &pts);
    double *y = evaluate(&pts, ishigami);
    ts_sobol_options opt = {500, 0.95, 12345};
    ts_sobol_index idx[3];
    int used = 0;
    ts_error err;
    assert_int_equal(ts_sobol_estimate(y, pts.saltelli_n, 3, &opt, idx, &used, &err), TS_OK);
    assert_int_equal(used, 4096);
    for (int i = 0; i < 3; i++) {
        print_message("x%d: S %.4f [%.4f, %.4f] (%.4f)  ST %.4f [%.4f, %.4f] (%.4f)\n", i + 1,
                      idx[i].first, idx[i].first_lo, idx[i].first_hi, s[i], idx[i].total,
                      idx[i].total_lo, idx[i].total_hi, st[i]);
        assert_true(idx[i].first_lo <= s[i] && s[i] <= idx[i].first_hi);
        assert_true(idx[i].total_lo <= st[i] && st[i] <= idx[i].total_hi);
        assert_true(idx[i].first_lo <= idx[i].first && idx[i].first <= idx[i].first_hi);
        /* informative intervals, not merely wide ones */
        assert_true(idx[i].first_hi - idx[i].first_lo < 0.15);
        assert_true(idx[i].total_hi - idx[i].total_lo < 0.15);
    }
    free(y);
    ts_points_destroy(&pts);
}

/* y = x1 + 2 x2 with x3 unused: S_i = ST_i = c_i^2 / sum c^2 = 1/5, 4/5, 0 for independent
 * uniform inputs of equal range. */
static double linear(const double *x)
{
    return x[0] + 2.0 * x[1];
}

static void an_ignored_parameter_has_zero_indices_and_a_linear_model_its_shares(void **state)
{
    (void)state;
    ts_points pts;
    saltelli_points(1024, &pts);
    double *y = evaluate(&pts, linear);
    ts_sobol_options opt = {400, 0.95, 7};
    ts_sobol_index idx[3];
    ts_error err;
    assert_int_equal(ts_sobol_estimate(y, 1024, 3, &opt, idx, NULL, &err), TS_OK);
    const double share[3] = {0.2, 0.8, 0.0};
    for (int i = 0; i < 2; i++) {
        assert_true(idx[i].first_lo <= share[i] && share[i] <= idx[i].first_hi);
        assert_true(idx[i].total_lo <= share[i] && share[i] <= idx[i].total_hi);
    }
    /* f(A with column 3 from B) = f(A) exactly, so both estimators give exactly zero */
    assert_true(idx[2].first == 0.0 && idx[2].first_lo == 0.0 && idx[2].first_hi == 0.0);
    assert_true(idx[2].total == 0.0 && idx[2].total_lo == 0.0 && idx[2].total_hi == 0.0);
    free(y);
    ts_points_destroy(&pts);
}

static void rows_with_unusable_outputs_are_left_out(void **state)
{
    (void)state;
    const int n = 256, k = 3, stride = k + 2;
    ts_points pts;
    saltelli_points(n, &pts);
    double *y = evaluate(&pts, ishigami);
    /* spoil three base rows in different columns */
    y[(size_t)10 * stride + 0] = NAN;
    y[(size_t)77 * stride + 3] = INFINITY;
    y[(size_t)200 * stride + 1] = NAN;
    /* the same design with those rows removed */
    double *kept = malloc((size_t)n * stride * sizeof *kept);
    assert_non_null(kept);
    int m = 0;
    for (int j = 0; j < n; j++)
        if (j != 10 && j != 77 && j != 200)
            memcpy(kept + (size_t)m++ * stride, y + (size_t)j * stride, stride * sizeof *y);
    ts_sobol_options none = {0, 0.95, 0};
    ts_sobol_index a[3], b[3];
    int used = -1;
    ts_error err;
    assert_int_equal(ts_sobol_estimate(y, n, k, &none, a, &used, &err), TS_OK);
    assert_int_equal(used, n - 3);
    assert_int_equal(ts_sobol_estimate(kept, m, k, &none, b, NULL, &err), TS_OK);
    for (int i = 0; i < k; i++) {
        assert_true(fabs(a[i].first - b[i].first) < 1e-12);
        assert_true(fabs(a[i].total - b[i].total) < 1e-12);
        assert_true(isnan(a[i].first_lo) && isnan(a[i].total_hi)); /* no bootstrap asked */
    }
    free(kept);
    free(y);
    ts_points_destroy(&pts);
}

static void the_bootstrap_is_fixed_by_its_seed(void **state)
{
    (void)state;
    ts_points pts;
    saltelli_points(128, &pts);
    double *y = evaluate(&pts, ishigami);
    ts_sobol_options opt = {200, 0.9, 99};
    ts_sobol_index a[3], b[3], c[3];
    ts_error err;
    assert_int_equal(ts_sobol_estimate(y, 128, 3, &opt, a, NULL, &err), TS_OK);
    assert_int_equal(ts_sobol_estimate(y, 128, 3, &opt, b, NULL, &err), TS_OK);
    opt.seed = 100;
    assert_int_equal(ts_sobol_estimate(y, 128, 3, &opt, c, NULL, &err), TS_OK);
    assert_memory_equal(a, b, sizeof a);
    assert_true(a[0].first == c[0].first);       /* the estimate does not depend on the seed */
    assert_true(a[0].first_lo != c[0].first_lo); /* the interval does */
    free(y);
    ts_points_destroy(&pts);
}

static void unusable_inputs_are_refused(void **state)
{
    (void)state;
    double flat[4 * 5];
    for (int i = 0; i < 20; i++)
        flat[i] = 0.5;
    ts_sobol_options opt = {10, 0.95, 1};
    ts_sobol_index idx[3];
    ts_error err;
    assert_int_equal(ts_sobol_estimate(flat, 4, 3, &opt, idx, NULL, &err), TS_EINPUT);
    assert_non_null(strstr(err.msg, "does not vary"));
    flat[0] = NAN, flat[5] = NAN, flat[10] = NAN; /* one usable row left */
    flat[15] = 1.0;
    assert_int_equal(ts_sobol_estimate(flat, 4, 3, &opt, idx, NULL, &err), TS_EINPUT);
    assert_non_null(strstr(err.msg, "at least 2"));
    assert_int_equal(ts_sobol_estimate(flat, 0, 3, &opt, idx, NULL, &err), TS_EINPUT);
    opt.level = 1.5;
    assert_int_equal(ts_sobol_estimate(flat, 4, 3, &opt, idx, NULL, &err), TS_EINPUT);
}

/* ---- the command on a real output ---------------------------------------------------------- */

static const char *write_scenario(const char *design)
{
    static char path[256];
    snprintf(path, sizeof path, "sens-%s-%ld.yaml", design, (long)getpid());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "name: sens\nseed: 31\nticks: 12\nreplicates: 3\n"
            "organisations:\n  - {id: a, kind: acute_trust}\n  - {id: b, kind: council}\n"
            "  - {id: c, kind: gp_federation}\n"
            "sweep:\n  design: %s\n  n: 6\n  parameters:\n"
            "    reciprocity.q0: {min: 0.05, max: 0.6}\n"
            "    faith.initial: {min: 0.2, max: 0.9}\n",
            design);
    fclose(f);
    return path;
}

static void read_doubles(hid_t file, const char *name, double *buf)
{
    hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
    assert_true(d >= 0);
    assert_true(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    H5Dclose(d);
}

/* The replicate means at the last tick, straight from /series and /done: [n_points]. */
static void replicate_means(hid_t file, const char *metric, int n_points, int n_reps, int n_times,
                            double *y)
{
    char name[128];
    snprintf(name, sizeof name, "/series/%s", metric);
    double *all = malloc((size_t)n_points * n_reps * n_times * sizeof *all);
    uint8_t *done = malloc((size_t)n_points * n_reps);
    assert_non_null(all);
    assert_non_null(done);
    read_doubles(file, name, all);
    ts_test_h5_read(file, "/done", H5T_NATIVE_UINT8, done);
    for (int p = 0; p < n_points; p++) {
        double sum = 0;
        int m = 0;
        for (int r = 0; r < n_reps; r++) {
            double v = all[((size_t)p * n_reps + r) * n_times + n_times - 1];
            if (done[p * n_reps + r] && isfinite(v))
                sum += v, m++;
        }
        y[p] = m ? sum / m : NAN;
    }
    free(all);
    free(done);
}

static void the_command_stores_the_indices_of_the_replicate_means(void **state)
{
    (void)state;
    char out[16384], args[2048], h5[256];
    const char *scen = write_scenario("saltelli");
    snprintf(h5, sizeof h5, "sens-%ld.h5", (long)getpid());
    snprintf(args, sizeof args, "run %s -o %s -q --force -j 2", scen, h5);
    assert_int_equal(ts_test_cli(args, out, sizeof out), 0);

    snprintf(args, sizeof args, "sensitivity %s --metric coop_rate --bootstrap 200", h5);
    assert_int_equal(ts_test_cli(args, out, sizeof out), 0);
    assert_non_null(strstr(out, "reciprocity.q0"));
    assert_non_null(strstr(out, "faith.initial"));
    assert_non_null(strstr(out, "at tick 12"));
    /* a second analysis of the same metric replaces the first */
    assert_int_equal(ts_test_cli(args, out, sizeof out), 0);

    const int n = 6, k = 2, n_points = n * (k + 2), n_reps = 3, n_times = 13;
    hid_t file = H5Fopen(h5, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    double y[24], stored[6][2];
    replicate_means(file, "coop_rate", n_points, n_reps, n_times, y);
    uint64_t master = 0;
    hid_t a = H5Aopen(file, "master_seed", H5P_DEFAULT);
    assert_true(H5Aread(a, H5T_NATIVE_UINT64, &master) >= 0);
    H5Aclose(a);
    assert_int_equal(master, 31);

    ts_sobol_options opt = {200, 0.95, ts_seed_hash(31, UINT64_MAX, 1)};
    ts_sobol_index idx[2];
    ts_error err;
    assert_int_equal(ts_sobol_estimate(y, n, k, &opt, idx, NULL, &err), TS_OK);
    static const char *const names[] = {"first", "first_lo", "first_hi",
                                        "total", "total_lo", "total_hi"};
    for (int v = 0; v < 6; v++) {
        char name[128];
        snprintf(name, sizeof name, "/sensitivity/coop_rate/%s", names[v]);
        read_doubles(file, name, stored[v]);
    }
    for (int i = 0; i < k; i++) {
        assert_true(stored[0][i] == idx[i].first && stored[3][i] == idx[i].total);
        assert_true(stored[1][i] == idx[i].first_lo && stored[2][i] == idx[i].first_hi);
        assert_true(stored[4][i] == idx[i].total_lo && stored[5][i] == idx[i].total_hi);
    }
    /* the parameter names, as the dimension scale of the indices */
    hid_t d = H5Dopen2(file, "/sensitivity/coop_rate/parameter", H5P_DEFAULT);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    char *pnames[2] = {NULL, NULL};
    assert_true(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, pnames) >= 0);
    assert_string_equal(pnames[0], "reciprocity.q0");
    assert_string_equal(pnames[1], "faith.initial");
    for (int i = 0; i < 2; i++)
        H5free_memory(pnames[i]);
    H5Tclose(t);
    H5Dclose(d);
    int64_t tick = 0;
    hid_t g = H5Gopen2(file, "/sensitivity/coop_rate", H5P_DEFAULT);
    a = H5Aopen(g, "tick", H5P_DEFAULT);
    assert_true(H5Aread(a, H5T_NATIVE_INT64, &tick) >= 0);
    assert_int_equal(tick, 12);
    H5Aclose(a);
    H5Gclose(g);
    H5Fclose(file);

    /* mistakes a user can make: exit 2 and a message naming the fault */
    snprintf(args, sizeof args, "sensitivity %s --metric no_such_metric", h5);
    assert_int_equal(ts_test_cli(args, out, sizeof out), 2);
    assert_non_null(strstr(out, "no metric 'no_such_metric'"));
    snprintf(args, sizeof args, "sensitivity %s --metric coop_rate --at 13", h5);
    assert_int_equal(ts_test_cli(args, out, sizeof out), 2);
    assert_non_null(strstr(out, "tick 13 is outside"));
    snprintf(args, sizeof args, "sensitivity %s", h5);
    assert_int_equal(ts_test_cli(args, out, sizeof out), 2);
    assert_non_null(strstr(out, "missing --metric"));
    assert_int_equal(ts_test_cli("sensitivity no-such-file.h5 --metric coop_rate", out, sizeof out),
                     2);
    assert_int_equal(ts_test_cli("sensitivity --help", out, sizeof out), 0);
    remove(h5);

    /* a design that is not Saltelli's */
    scen = write_scenario("sobol");
    snprintf(args, sizeof args, "run %s -o %s -q --force -j 2", scen, h5);
    assert_int_equal(ts_test_cli(args, out, sizeof out), 0);
    snprintf(args, sizeof args, "sensitivity %s --metric coop_rate", h5);
    assert_int_equal(ts_test_cli(args, out, sizeof out), 2);
    assert_non_null(strstr(out, "need a saltelli sweep; this file's design is sobol"));
    remove(h5);
    remove(scen);
    remove(write_scenario("saltelli"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ishigami_indices_lie_within_their_bootstrap_intervals),
        cmocka_unit_test(an_ignored_parameter_has_zero_indices_and_a_linear_model_its_shares),
        cmocka_unit_test(rows_with_unusable_outputs_are_left_out),
        cmocka_unit_test(the_bootstrap_is_fixed_by_its_seed),
        cmocka_unit_test(unusable_inputs_are_refused),
        cmocka_unit_test(the_command_stores_the_indices_of_the_replicate_means),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
