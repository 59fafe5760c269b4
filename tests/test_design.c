/* Sweep designs (design.h): each design has the number of points its scenario asks for, every
 * value inside its parameter's range, and the structure that makes it that design: a grid holds
 * every combination of levels once, the first parameter varying slowest; a list pairs the i-th
 * values; a Latin hypercube puts one point in each of n strata of every parameter and is fixed
 * by the master seed; Sobol points are GSL's low-discrepancy sequence; a Saltelli design is
 * made of blocks A, B and A with one column from B. Applying a point rounds integers and
 * thresholds booleans. Expected values are worked out here, not read back from the code. */
#include "support.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trustsim/design.h"
#include "trustsim/scenario.h"

/* A scenario with this sweep block (and a seed), loaded; fails the test on any error. */
static void load_sweep(ts_scenario *sc, const char *sweep, unsigned long long seed)
{
    char yaml[8192];
    snprintf(yaml, sizeof yaml,
             "name: design\nticks: 4\nseed: %llu\n"
             "organisations:\n  - {id: a, kind: k}\n  - {id: b, kind: k}\n"
             "collaborations:\n  - {id: x, members: [a, b]}\n%s",
             seed, sweep);
    ts_error err;
    if (ts_scenario_load_string(sc, yaml, "design.yaml", &err) != TS_OK)
        fail_msg("%s", err.msg);
}

static void build_points(const char *sweep, unsigned long long seed, ts_points *pts)
{
    ts_scenario sc;
    load_sweep(&sc, sweep, seed);
    ts_error err;
    if (ts_points_build(&sc.params, pts, &err) != TS_OK)
        fail_msg("%s", err.msg);
    ts_scenario_destroy(&sc);
}

/* The parameters of the sampled designs below, with their ranges. */
static const struct {
    const char *path;
    double lo, hi;
} sampled[3] = {{"relations.default.competition", 0.0, 0.8},
                {"decision.tau0", 0.2, 1.0},
                {"reciprocity.q0", 0.1, 0.3}};

/* A lhs, sobol or saltelli design of n base samples over the first k parameters of sampled. */
static void build_sampled(const char *design, int n, int k, unsigned long long seed, ts_points *pts)
{
    char sweep[1024];
    int len =
        snprintf(sweep, sizeof sweep, "sweep:\n  design: %s\n  n: %d\n  parameters:\n", design, n);
    for (int c = 0; c < k; c++)
        len += snprintf(sweep + len, sizeof sweep - (size_t)len, "    %s: {min: %g, max: %g}\n",
                        sampled[c].path, sampled[c].lo, sampled[c].hi);
    build_points(sweep, seed, pts);
}

static double value(const ts_points *pts, int i, int c)
{
    return pts->values[(size_t)i * pts->n_params + c];
}

static void no_sweep_is_one_point_without_parameters(void **state)
{
    (void)state;
    ts_points pts;
    build_points("", 1, &pts);
    assert_int_equal(pts.n_points, 1);
    assert_int_equal(pts.n_params, 0);
    assert_int_equal(pts.saltelli_n, 0);
    ts_points_destroy(&pts);
}

static void a_grid_holds_every_combination_of_levels_once_the_first_varying_slowest(void **state)
{
    (void)state;
    ts_points pts;
    build_points("sweep:\n  design: grid\n  parameters:\n"
                 "    reciprocity.q0: {values: [0.05, 0.1, 0.2]}\n"
                 "    collaborations.x.agreement.formalisation: {min: 0.2, max: 1.0, n: 5}\n"
                 "    relations.default.proximity: {min: 0.3, max: 0.9, n: 1}\n",
                 1, &pts);
    const double q0[3] = {0.05, 0.1, 0.2};
    const double formalisation[5] = {0.2, 0.4, 0.6, 0.8, 1.0}; /* 5 evenly spaced levels */
    assert_int_equal(pts.n_params, 3);
    assert_int_equal(pts.n_points, 3 * 5 * 1);
    assert_string_equal(pts.names[0], "reciprocity.q0");
    assert_string_equal(pts.names[1], "collaborations.x.agreement.formalisation");
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 5; j++) {
            int point = i * 5 + j;
            assert_true(value(&pts, point, 0) == q0[i]);
            assert_true(fabs(value(&pts, point, 1) - formalisation[j]) < 1e-15);
            assert_true(value(&pts, point, 2) == 0.3); /* one level: the minimum */
        }
    assert_true(value(&pts, 4, 1) == 1.0); /* the last level is the maximum exactly */
    ts_points_destroy(&pts);
}

static void a_list_pairs_the_ith_values_of_every_parameter(void **state)
{
    (void)state;
    ts_points pts;
    build_points("sweep:\n  design: list\n  parameters:\n"
                 "    organisations.a.leaders: {values: [2, 3, 5, 8]}\n"
                 "    reciprocity.q0: {values: [0.4, 0.3, 0.2, 0.1]}\n",
                 1, &pts);
    const double leaders[4] = {2, 3, 5, 8}, q0[4] = {0.4, 0.3, 0.2, 0.1};
    assert_int_equal(pts.n_points, 4);
    for (int i = 0; i < 4; i++) {
        assert_true(value(&pts, i, 0) == leaders[i]);
        assert_true(value(&pts, i, 1) == q0[i]);
    }
    ts_points_destroy(&pts);
}

static void a_latin_hypercube_puts_one_point_in_each_stratum_of_every_parameter(void **state)
{
    (void)state;
    ts_points pts;
    enum { N = 200 };
    build_sampled("lhs", N, 3, 7, &pts);
    assert_int_equal(pts.n_points, N);
    for (int c = 0; c < 3; c++) {
        int count[N] = {0};
        const double lo = sampled[c].lo, hi = sampled[c].hi;
        for (int i = 0; i < N; i++) {
            double v = value(&pts, i, c);
            assert_true(v >= lo && v < hi);
            int s = (int)floor((v - lo) / (hi - lo) * N);
            assert_true(s >= 0 && s < N);
            count[s]++;
        }
        for (int s = 0; s < N; s++)
            assert_int_equal(count[s], 1);
    }
    /* the strata are matched at random across parameters: no parameter takes its strata in
     * order (a random permutation of N rises at about half of its steps, within a few times
     * sqrt(N / 12)), and the first two do not take them in step */
    for (int c = 0; c < 3; c++) {
        int rises = 0;
        for (int i = 0; i + 1 < N; i++)
            rises += value(&pts, i + 1, c) > value(&pts, i, c);
        assert_true(rises > N / 4 && rises < 3 * N / 4);
    }
    int same = 0;
    for (int i = 0; i < N; i++)
        same += (int)floor(value(&pts, i, 0) / 0.8 * N) ==
                (int)floor((value(&pts, i, 1) - 0.2) / 0.8 * N);
    assert_true(same < N / 10);
    ts_points_destroy(&pts);
}

static void a_latin_hypercube_is_fixed_by_the_master_seed(void **state)
{
    (void)state;
    ts_points a, b, c;
    build_sampled("lhs", 200, 3, 7, &a);
    build_sampled("lhs", 200, 3, 7, &b);
    build_sampled("lhs", 200, 3, 8, &c);
    size_t bytes = (size_t)a.n_points * a.n_params * sizeof *a.values;
    assert_memory_equal(a.values, b.values, bytes);
    assert_memory_not_equal(a.values, c.values, bytes);
    ts_points_destroy(&a);
    ts_points_destroy(&b);
    ts_points_destroy(&c);
}

static void sobol_points_are_gsl_sobol_points_scaled_to_the_ranges(void **state)
{
    (void)state;
    ts_points pts;
    enum { N = 62 }; /* 2^6 - 2 */
    build_sampled("sobol", N, 2, 1, &pts);
    assert_int_equal(pts.n_points, N);
    /* The two-dimensional Sobol sequence runs (0.5, 0.5), (0.75, 0.25), (0.25, 0.75),
     * (0.375, 0.375), ...; the design skips its first point. */
    const double u[3][2] = {{0.75, 0.25}, {0.25, 0.75}, {0.375, 0.375}};
    for (int i = 0; i < 3; i++) {
        assert_true(fabs(value(&pts, i, 0) - 0.8 * u[i][0]) < 1e-15);
        assert_true(fabs(value(&pts, i, 1) - (0.2 + 0.8 * u[i][1])) < 1e-15);
    }
    /* low discrepancy: each coordinate of a Sobol sequence is a (0, 1)-sequence in base 2,
     * so these 2^6 - 2 points hold at most one point in each interval of width 2^-6 */
    for (int c = 0; c < 2; c++) {
        int count[64] = {0};
        double lo = c ? 0.2 : 0.0;
        for (int i = 0; i < N; i++) {
            double v = (value(&pts, i, c) - lo) / 0.8;
            assert_true(v >= 0 && v < 1);
            /* the points are multiples of 2^-6: read them back without a rounding below */
            count[(int)floor(v * 64 + 1e-6)]++;
        }
        for (int s = 0; s < 64; s++)
            assert_true(count[s] <= 1);
    }
    ts_points_destroy(&pts);
}

static void a_saltelli_design_is_blocks_of_a_b_and_a_with_one_column_of_b(void **state)
{
    (void)state;
    ts_points pts;
    enum { N = 16, K = 3 };
    build_sampled("saltelli", N, K, 1, &pts);
    assert_int_equal(pts.saltelli_n, N);
    assert_int_equal(pts.n_points, N * (K + 2));
    const double lo[K] = {0.0, 0.2, 0.1}, hi[K] = {0.8, 1.0, 0.3};
    int a_differs_from_b = 0;
    for (int j = 0; j < N; j++) {
        int a = j * (K + 2), b = a + 1;
        for (int c = 0; c < K; c++) {
            assert_true(value(&pts, a, c) >= lo[c] && value(&pts, a, c) <= hi[c]);
            assert_true(value(&pts, b, c) >= lo[c] && value(&pts, b, c) <= hi[c]);
            a_differs_from_b += value(&pts, a, c) != value(&pts, b, c);
        }
        for (int i = 0; i < K; i++)
            for (int c = 0; c < K; c++)
                assert_true(value(&pts, a + 2 + i, c) == value(&pts, c == i ? b : a, c));
    }
    assert_true(a_differs_from_b > N); /* A and B are different samples */
    /* A_j and B_j are the first and last K coordinates of point j + 2 of a 2K-dimensional
     * Sobol sequence (the design skips the first): block 1 takes the third point,
     * (0.25, 0.75, 0.25, 0.75, 0.25, 0.75) */
    const double third[2 * K] = {0.25, 0.75, 0.25, 0.75, 0.25, 0.75};
    for (int c = 0; c < K; c++) {
        assert_true(fabs(value(&pts, K + 2, c) - (lo[c] + (hi[c] - lo[c]) * third[c])) < 1e-15);
        assert_true(fabs(value(&pts, K + 3, c) - (lo[c] + (hi[c] - lo[c]) * third[K + c])) < 1e-15);
    }
    ts_points_destroy(&pts);
}

/* A sweep over `n` organisation sizes (the scenario has organisations o0 .. o{n-1}). */
static ts_status build_many(const char *design, int n, const char *range, ts_error *err)
{
    char yaml[16384];
    int len = snprintf(yaml, sizeof yaml, "name: many\nticks: 2\norganisations:\n");
    for (int o = 0; o < n; o++)
        len += snprintf(yaml + len, sizeof yaml - (size_t)len, "  - {id: o%d, kind: k}\n", o);
    len +=
        snprintf(yaml + len, sizeof yaml - (size_t)len, "sweep:\n  design: %s\n%s  parameters:\n",
                 design, strcmp(design, "grid") ? "  n: 4\n" : "");
    for (int o = 0; o < n; o++)
        len += snprintf(yaml + len, sizeof yaml - (size_t)len, "    organisations.o%d.size: %s\n",
                        o, range);
    ts_scenario sc;
    if (ts_scenario_load_string(&sc, yaml, "many.yaml", err) != TS_OK)
        fail_msg("%s", err->msg);
    ts_points pts;
    ts_status st = ts_points_build(&sc.params, &pts, err);
    if (st == TS_OK)
        ts_points_destroy(&pts);
    ts_scenario_destroy(&sc);
    return st;
}

static void designs_beyond_their_limits_are_refused(void **state)
{
    (void)state;
    ts_error err;
    /* GSL's Sobol sequence has at most 40 dimensions; Saltelli's needs two per parameter */
    assert_int_equal(build_many("sobol", 40, "{min: 1, max: 2}", &err), TS_OK);
    assert_int_equal(build_many("sobol", 41, "{min: 1, max: 2}", &err), TS_EINPUT);
    assert_string_equal(err.msg, "key 'sweep.parameters': the Sobol sequence supports at most 40 "
                                 "dimensions, this design needs 41");
    assert_int_equal(build_many("saltelli", 20, "{min: 1, max: 2}", &err), TS_OK);
    assert_int_equal(build_many("saltelli", 21, "{min: 1, max: 2}", &err), TS_EINPUT);
    assert_string_equal(err.msg, "key 'sweep.parameters': the Sobol sequence supports at most 40 "
                                 "dimensions, this design needs 42");
    /* grids of 10^9 and of 10^40 points (whose count would overflow a long) */
    assert_int_equal(build_many("grid", 9, "{min: 1, max: 2, n: 10}", &err), TS_EINPUT);
    assert_string_equal(err.msg, "key 'sweep': the design has at least 1000000000 points, more "
                                 "than 100000000");
    assert_int_equal(build_many("grid", 40, "{min: 1, max: 2, n: 10}", &err), TS_EINPUT);
    assert_string_equal(err.msg, "key 'sweep': the design has at least 1000000000 points, more "
                                 "than 100000000");
}

static void applying_a_point_rounds_integers_and_thresholds_booleans(void **state)
{
    (void)state;
    ts_scenario sc;
    load_sweep(&sc,
               "sweep:\n  design: grid\n  parameters:\n"
               "    organisations.a.leaders: {min: 1, max: 2, n: 5}\n"
               "    collaborations.x.mandated: {min: 0, max: 1, n: 5}\n",
               1);
    ts_points pts;
    ts_error err;
    assert_int_equal(ts_points_build(&sc.params, &pts, &err), TS_OK);
    assert_int_equal(pts.n_points, 25);
    /* levels 1, 1.25, 1.5, 1.75, 2 round to 1, 1, 2, 2, 2 (halves away from zero); levels 0,
     * 0.25, 0.5, 0.75, 1 are false below 1/2, true from 1/2 */
    const int leaders[5] = {1, 1, 2, 2, 2};
    const bool mandated[5] = {false, false, true, true, true};
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 5; j++) {
            ts_params p;
            assert_int_equal(ts_points_apply(&pts, i * 5 + j, &sc.params, &p, &err), TS_OK);
            assert_int_equal(p.orgs[0].leaders, leaders[i]);
            assert_int_equal(p.collabs[0].mandated, mandated[j]);
            ts_params_destroy(&p);
        }
    /* the base parameters are left as they were */
    assert_int_equal(sc.params.orgs[0].leaders, 3);
    assert_false(sc.params.collabs[0].mandated);
    ts_points_destroy(&pts);
    ts_scenario_destroy(&sc);
}

static void designs_have_their_names(void **state)
{
    (void)state;
    const char *const names[] = {"none", "grid", "list", "lhs", "sobol", "saltelli"};
    for (int d = TS_DESIGN_NONE; d <= TS_DESIGN_SALTELLI; d++)
        assert_string_equal(ts_design_name((ts_design)d), names[d]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_sweep_is_one_point_without_parameters),
        cmocka_unit_test(a_grid_holds_every_combination_of_levels_once_the_first_varying_slowest),
        cmocka_unit_test(a_list_pairs_the_ith_values_of_every_parameter),
        cmocka_unit_test(a_latin_hypercube_puts_one_point_in_each_stratum_of_every_parameter),
        cmocka_unit_test(a_latin_hypercube_is_fixed_by_the_master_seed),
        cmocka_unit_test(sobol_points_are_gsl_sobol_points_scaled_to_the_ranges),
        cmocka_unit_test(a_saltelli_design_is_blocks_of_a_b_and_a_with_one_column_of_b),
        cmocka_unit_test(designs_beyond_their_limits_are_refused),
        cmocka_unit_test(applying_a_point_rounds_integers_and_thresholds_booleans),
        cmocka_unit_test(designs_have_their_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
