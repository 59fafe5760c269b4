/* Calibration by simulated moments (calibrate.h): it recovers known parameter values from
 * synthetic targets within the precision the simulation noise allows; its objective is a
 * deterministic function of the parameters, whatever the thread count, built from the documented
 * replicate seeds; transforms keep parameters inside their ranges; and bad targets files, paths
 * and ticks are refused with the exact FILE:LINE:COL: key '...' message. */
#include "support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trustsim/calibrate.h"
#include "trustsim/metrics.h"
#include "trustsim/model.h"
#include "trustsim/rng.h"
#include "trustsim/scenario.h"
#include "trustsim/sim.h"

/* Small and short, so that the whole file runs in well under a minute under the sanitizers:
 * three organisations of three leaders for a year. */
static const char *const small = "name: small\n"
                                 "seed: 3\n"
                                 "ticks: 52\n"
                                 "replicates: 48\n"
                                 "organisations:\n"
                                 "  - {id: a, kind: acute_trust, leaders: 3}\n"
                                 "  - {id: b, kind: council, leaders: 3}\n"
                                 "  - {id: c, kind: gp_federation, leaders: 3}\n"
                                 "relations:\n"
                                 "  default: {competition: 0.2, proximity: 0.6}\n";

/* Leaders' propensity to trust strangers sets their priors about people; the organisations'
 * reputation sets the priors of the group images: the survey's inter-individual and
 * inter-organisational trust answer to them in different proportions, so both are identified. */
static const char *const free_paths[] = {"leader_defaults.propensity",
                                         "organisations.*.reputation"};
enum { N_FREE = 2 };
static const int survey_metrics[] = {TS_M_SURVEY_INTERINDIVIDUAL, TS_M_SURVEY_INTERORG,
                                     TS_M_SURVEY_PILLAR_FIRST + TS_BENEVOLENCE,
                                     TS_M_SURVEY_PILLAR_FIRST + TS_INTEGRITY};
enum { N_MOMENTS = 4 };

static void load_small(ts_scenario *sc)
{
    ts_error err;
    if (ts_scenario_load_string(sc, small, "small.yaml", &err) != TS_OK)
        fail_msg("%s", err.msg);
}

static void load_targets(ts_targets *t, const char *text)
{
    ts_error err;
    if (ts_targets_load_string(t, text, "targets.yaml", &err) != TS_OK)
        fail_msg("%s", err.msg);
}

/* Targets file text: the survey metrics with placeholder means (for objective tests). */
static const char *const plain_targets = "at: 52\n"
                                         "moments:\n"
                                         "  - {metric: survey_interindividual, mean: 3.4}\n"
                                         "  - {metric: survey_interorg, mean: 2.9}\n"
                                         "  - {metric: survey_benevolence, mean: 3.5}\n"
                                         "  - {metric: survey_integrity, mean: 3.4}\n";

static ts_calibration *calibration(const ts_scenario *sc, const ts_targets *t, int reps,
                                   uint64_t seed, int threads)
{
    ts_calib_options o;
    ts_calib_options_init(&o);
    o.replicates = reps;
    o.seed = seed;
    o.threads = threads;
    ts_calibration *c;
    ts_error err;
    if (ts_calibration_alloc(&c, &sc->params, t, free_paths, N_FREE, &o, &err) != TS_OK)
        fail_msg("%s", err.msg);
    return c;
}

typedef struct eval_buf {
    double mean[N_MOMENTS], se[N_MOMENTS];
    int n[N_MOMENTS];
    ts_calib_eval ev;
} eval_buf;

static ts_calib_eval *eval_of(eval_buf *b)
{
    b->ev = (ts_calib_eval){.sim_mean = b->mean, .sim_se = b->se, .n_valid = b->n};
    return &b->ev;
}

/* ---- recovery ---------------------------------------------------------------------------- */

/* Synthetic targets: the model's own means at the true values over many replicates of another
 * master seed, each with its standard error as `sd`, so the fit's total standard error counts
 * both the targets' noise and the fit's own. */
static char *synthetic_targets(const ts_scenario *sc, const double *truth, int reps, uint64_t seed)
{
    ts_targets plain;
    load_targets(&plain, plain_targets);
    ts_calibration *c = calibration(sc, &plain, reps, seed, 0);
    eval_buf b;
    ts_error err;
    if (ts_calibration_evaluate(c, truth, eval_of(&b), &err) != TS_OK)
        fail_msg("%s", err.msg);
    char *text = malloc(4096);
    assert_non_null(text);
    int len = snprintf(text, 4096,
                       "source: synthetic, %d replicates at seed %llu\nat: 52\n"
                       "moments:\n",
                       reps, (unsigned long long)seed);
    for (int k = 0; k < N_MOMENTS; k++) {
        assert_int_equal(b.n[k], reps);
        len +=
            snprintf(text + len, 4096 - (size_t)len, "  - {metric: %s, mean: %.17g, sd: %.17g}\n",
                     ts_metric_name(survey_metrics[k]), b.mean[k], b.se[k]);
    }
    ts_calibration_free(c);
    ts_targets_destroy(&plain);
    return text;
}

static void calibration_recovers_known_values_within_the_simulation_noise(void **state)
{
    (void)state;
    ts_scenario sc;
    load_small(&sc);
    const double truth[N_FREE] = {0.65, 0.35};
    char *text = synthetic_targets(&sc, truth, 400, 777);
    ts_targets t;
    load_targets(&t, text);
    /* two starts on either side of the truth; the fit uses other seeds than the targets */
    const double starts[2][N_FREE] = {{0.35, 0.6}, {0.85, 0.15}};
    double fitted[2][N_FREE];
    for (int s = 0; s < 2; s++) {
        ts_scenario start;
        load_small(&start);
        char set[128];
        ts_error err;
        snprintf(set, sizeof set, "leader_defaults.propensity=%g", starts[s][0]);
        assert_int_equal(ts_scenario_set(&start, set, &err), TS_OK);
        for (int o = 0; o < start.params.n_orgs; o++)
            start.params.orgs[o].reputation = starts[s][1];
        ts_calibration *c = calibration(&start, &t, 48, 20260101, 0);
        assert_int_equal(ts_calibration_run(c, &err), TS_OK);
        const ts_calib_fit *f = &c->fit;
        assert_true(f->converged);
        assert_true(f->best.distance < f->start_distance);
        for (int j = 0; j < N_FREE; j++) {
            /* 4 standard errors of the linearised sandwich (targets' and simulation noise) */
            double tol = 4 * f->se[j];
            printf("# start %d: %-28s true %.3f start %.3f fitted %.4f (se %.4f, of which "
                   "simulation %.4f; tolerance %.4f), distance %.3g -> %.3g, %d iterations, "
                   "%d evaluations, %.1f s\n",
                   s, free_paths[j], truth[j], starts[s][j], f->value[j], f->se[j], f->se_sim[j],
                   tol, f->start_distance, f->best.distance, f->iterations, f->evaluations,
                   f->seconds);
            assert_true(isfinite(tol) && tol > 0);
            /* the tolerance must be tight enough to mean something */
            assert_true(tol < fabs(starts[s][j] - truth[j]) / 4);
            assert_true(fabs(f->value[j] - truth[j]) < tol);
            fitted[s][j] = f->value[j];
        }
        /* both parameters are seen by the targets: the weakest direction is still a unit
         * vector with a clearly positive singular value */
        double norm = 0;
        for (int j = 0; j < N_FREE; j++)
            norm += f->weakest[j] * f->weakest[j];
        assert_true(fabs(norm - 1) < 1e-9);
        assert_true(f->singular[0] >= f->singular[1] && f->singular[1] > 1);
        printf("# start %d: singular values of W^(1/2) G %.3g, %.3g\n", s, f->singular[0],
               f->singular[1]);
        ts_calibration_free(c);
        ts_scenario_destroy(&start);
    }
    /* both starts reach the same minimum, up to the simplex tolerance */
    for (int j = 0; j < N_FREE; j++)
        assert_true(fabs(fitted[0][j] - fitted[1][j]) < 0.01);
    ts_targets_destroy(&t);
    free(text);
    ts_scenario_destroy(&sc);
}

/* ---- the objective ----------------------------------------------------------------------- */

static void the_objective_is_deterministic_and_independent_of_the_thread_count(void **state)
{
    (void)state;
    ts_scenario sc;
    load_small(&sc);
    ts_targets t;
    load_targets(&t, plain_targets);
    const double x[N_FREE] = {0.6, 0.4};
    eval_buf ref, b;
    ts_error err;
    ts_calibration *c1 = calibration(&sc, &t, 24, 99, 1);
    assert_int_equal(ts_calibration_evaluate(c1, x, eval_of(&ref), &err), TS_OK);
    for (int threads = 1; threads <= 3; threads++) {
        ts_calibration *c = calibration(&sc, &t, 24, 99, threads);
        assert_int_equal(ts_calibration_evaluate(c, x, eval_of(&b), &err), TS_OK);
        assert_memory_equal(ref.mean, b.mean, sizeof ref.mean);
        assert_memory_equal(ref.se, b.se, sizeof ref.se);
        assert_true(memcmp(&ref.ev.distance, &b.ev.distance, sizeof(double)) == 0);
        /* the same point again through the same calibration */
        assert_int_equal(ts_calibration_evaluate(c, x, eval_of(&b), &err), TS_OK);
        assert_memory_equal(ref.mean, b.mean, sizeof ref.mean);
        ts_calibration_free(c);
    }
    /* the distance is the weighted squared distance of the means */
    double d = 0;
    for (int k = 0; k < N_MOMENTS; k++)
        d += (t.moments[k].mean - ref.mean[k]) * (t.moments[k].mean - ref.mean[k]);
    assert_true(fabs(d - ref.ev.distance) < 1e-12);
    /* common random numbers: replicate r is the run seeded ts_seed_hash(master, 0, r) */
    ts_scenario at_x;
    load_small(&at_x);
    at_x.params.leader_defaults.propensity = x[0];
    for (int o = 0; o < at_x.params.n_orgs; o++)
        at_x.params.orgs[o].reputation = x[1];
    ts_model *m;
    assert_int_equal(ts_model_build(&m, &at_x.params, &err), TS_OK);
    ts_sim *s = ts_sim_alloc(m);
    assert_non_null(s);
    double sum[N_MOMENTS] = {0};
    for (int r = 0; r < 24; r++) {
        ts_run_result res;
        assert_int_equal(ts_sim_run(s, ts_seed_hash(99, 0, (uint64_t)r), &res, &err), TS_OK);
        for (int k = 0; k < N_MOMENTS; k++) {
            double v = res.series[(size_t)survey_metrics[k] * res.n_times + 52];
            assert_true(memcmp(&v, &c1->rep_values[r * N_MOMENTS + k], sizeof v) == 0);
            sum[k] += v;
        }
    }
    for (int k = 0; k < N_MOMENTS; k++)
        assert_true(sum[k] / 24 == ref.mean[k]);
    ts_sim_free(s);
    ts_model_free(m);
    ts_scenario_destroy(&at_x);
    /* another point gives another value: the parameters do reach the runs */
    const double y[N_FREE] = {0.62, 0.4};
    assert_int_equal(ts_calibration_evaluate(c1, y, eval_of(&b), &err), TS_OK);
    assert_true(b.mean[0] != ref.mean[0]);
    ts_calibration_free(c1);
    ts_targets_destroy(&t);
    ts_scenario_destroy(&sc);
}

static void a_short_fit_is_the_same_on_one_and_on_two_threads(void **state)
{
    (void)state;
    ts_scenario sc;
    load_small(&sc);
    ts_targets t;
    load_targets(&t, plain_targets);
    double value[2][N_FREE], dist[2];
    for (int i = 0; i < 2; i++) {
        ts_calibration *c = calibration(&sc, &t, 12, 5, i + 1);
        c->opt.max_iter = 12;
        c->opt.sensitivity = false;
        ts_error err;
        assert_int_equal(ts_calibration_run(c, &err), TS_OK);
        memcpy(value[i], c->fit.value, sizeof value[i]);
        dist[i] = c->fit.best.distance;
        assert_int_equal(c->fit.iterations, 12);
        ts_calibration_free(c);
    }
    assert_memory_equal(value[0], value[1], sizeof value[0]);
    assert_true(memcmp(&dist[0], &dist[1], sizeof dist[0]) == 0);
    ts_targets_destroy(&t);
    ts_scenario_destroy(&sc);
}

static void transforms_keep_parameters_inside_their_ranges(void **state)
{
    (void)state;
    const ts_free_param two = {.min = 0, .max = 1, .transform = TS_TRANSFORM_LOGIT};
    const ts_free_param open = {
        .min = 0, .max = 1, .max_open = true, .transform = TS_TRANSFORM_LOGIT};
    const ts_free_param lower = {
        .min = 0, .max = INFINITY, .min_open = true, .transform = TS_TRANSFORM_LOG_LOWER};
    const ts_free_param upper = {.min = -INFINITY, .max = 2, .transform = TS_TRANSFORM_LOG_UPPER};
    for (double x = 0.05; x < 1; x += 0.1) {
        assert_true(fabs(ts_transform_from_free(&two, ts_transform_to_free(&two, x)) - x) < 1e-12);
        assert_true(fabs(ts_transform_from_free(&lower, ts_transform_to_free(&lower, 3 * x)) -
                         3 * x) < 1e-12);
        assert_true(fabs(ts_transform_from_free(&upper, ts_transform_to_free(&upper, -x)) + x) <
                    1e-12);
    }
    for (double u = -800; u <= 800; u += 50) {
        double a = ts_transform_from_free(&two, u), b = ts_transform_from_free(&open, u);
        double c = ts_transform_from_free(&lower, u), d = ts_transform_from_free(&upper, u);
        assert_true(a >= 0 && a <= 1);
        assert_true(b >= 0 && b < 1);
        assert_true(c > 0 && isfinite(c));
        assert_true(d <= 2 && isfinite(d));
    }
}

/* ---- errors ------------------------------------------------------------------------------ */

static void expect_targets_error(const char *text, const char *expected)
{
    ts_targets t;
    ts_error err;
    assert_int_equal(ts_targets_load_string(&t, text, "bad.yaml", &err), TS_EINPUT);
    assert_string_equal(err.msg, expected);
}

static void bad_targets_files_name_the_line_column_and_key(void **state)
{
    (void)state;
    expect_targets_error("moments:\n  - {metric: survey_trust, mean: 2.7}\n",
                         "bad.yaml:2:14: key 'moments.0.metric': unknown metric 'survey_trust' "
                         "(the names are those of /series in an output file, e.g. "
                         "survey_interorg)");
    expect_targets_error("moments:\n  - {metric: survey_interorg, mean: 2.7}\n"
                         "  - {metric: survey_ability}\n",
                         "bad.yaml:3:5: key 'moments.1': missing 'mean'");
    expect_targets_error("moments:\n  - {mean: 2.7}\n", "bad.yaml:2:5: key 'moments.0': missing "
                                                        "'metric'");
    expect_targets_error("moments:\n  - {metric: survey_interorg, mean: high}\n",
                         "bad.yaml:2:37: key 'moments.0.mean': expected a finite number, got "
                         "'high'");
    expect_targets_error("moments:\n  - {metric: survey_interorg, mean: '2.7'}\n",
                         "bad.yaml:2:37: key 'moments.0.mean': expected a number, got quoted "
                         "text");
    expect_targets_error("moments:\n  - {metric: survey_interorg, mean: 2.7, weight: 1, sd: 0.1}\n",
                         "bad.yaml:2:57: key 'moments.0': give 'weight' or 'sd', not both (sd "
                         "means weight 1/sd^2)");
    expect_targets_error("moments:\n  - {metric: survey_interorg, mean: 2.7, sd: 0}\n",
                         "bad.yaml:2:46: key 'moments.0.sd': must be > 0, got 0");
    expect_targets_error("moments:\n  - {metric: survey_interorg, mean: 2.7, wieght: 2}\n",
                         "bad.yaml:2:42: key 'moments.0.wieght': unknown key (expected metric, "
                         "mean, weight, sd, at, label)");
    expect_targets_error("at: -3\nmoments:\n  - {metric: survey_interorg, mean: 2.7}\n",
                         "bad.yaml:1:5: key 'at': expected a tick (an integer >= 0), got '-3'");
    expect_targets_error("momnets:\n  - {metric: survey_interorg, mean: 2.7}\n",
                         "bad.yaml:1:1: key 'momnets': unknown key (expected source, at, "
                         "moments)");
    expect_targets_error("source: x\n", "bad.yaml:1:1: missing 'moments': the list of targets");
    expect_targets_error("moments: []\n", "bad.yaml:1:10: key 'moments': at least one moment is "
                                          "needed");
    expect_targets_error("moments:\n  - {metric: survey_interorg, mean: 2.7, weight: 0}\n",
                         "bad.yaml:2:3: key 'moments': every weight is 0: nothing to fit");
    expect_targets_error("moments:\n  - {metric: survey_interorg, mean: 2.7\n",
                         "bad.yaml:3:1: YAML syntax error: did not find expected ',' or '}'");
    expect_targets_error("", "bad.yaml:1:1: the targets file is empty");
    expect_targets_error("at: 1\nat: 2\nmoments: []\n", "bad.yaml:2:1: key 'at': given twice");
    expect_targets_error("moments:\n  - survey_interorg\n",
                         "bad.yaml:2:5: key 'moments.0': expected a mapping {metric: ..., mean: "
                         "...}, got a scalar");
    expect_targets_error("moments:\n  - {metric: survey_interorg, mean: 2.7}\n---\nmoments: []\n",
                         "bad.yaml:4:1: expected one YAML document, found more");
    /* a bare list of moments is a whole targets file */
    ts_targets t;
    load_targets(&t, "- {metric: survey_interorg, mean: 2.7, sd: 0.5, label: Inter-Org Trust}\n");
    assert_int_equal(t.n_moments, 1);
    assert_int_equal(t.moments[0].metric, TS_M_SURVEY_INTERORG);
    assert_true(t.moments[0].weight == 4);
    assert_string_equal(t.moments[0].label, "Inter-Org Trust");
    ts_targets_destroy(&t);
}

static void expect_setup_error(const char *targets, const char *const *paths, int n,
                               const char *expected)
{
    ts_scenario sc;
    load_small(&sc);
    ts_targets t;
    load_targets(&t, targets);
    ts_calib_options o;
    ts_calib_options_init(&o);
    ts_calibration *c = NULL;
    ts_error err;
    assert_int_equal(ts_calibration_alloc(&c, &sc.params, &t, paths, n, &o, &err), TS_EINPUT);
    assert_null(c);
    assert_string_equal(err.msg, expected);
    ts_targets_destroy(&t);
    ts_scenario_destroy(&sc);
}

static void bad_paths_and_ticks_are_refused_before_anything_runs(void **state)
{
    (void)state;
    const char *const unknown[] = {"leader_defaults.benevolnce"};
    expect_setup_error(plain_targets, unknown, 1,
                       "--free: key 'leader_defaults.benevolnce': unknown key");
    const char *const mapping[] = {"leader_defaults"};
    expect_setup_error(plain_targets, mapping, 1,
                       "--free: key 'leader_defaults': not a scalar parameter");
    const char *const integer[] = {"organisations.a.leaders"};
    expect_setup_error(plain_targets, integer, 1,
                       "--free: key 'organisations.a.leaders': an integer parameter cannot be "
                       "calibrated (the simplex moves continuously); fix it with --set instead");
    const char *const unset[] = {"organisations.a.traits.ability"};
    expect_setup_error(plain_targets, unset, 1,
                       "--free: key 'organisations.a.traits.ability': unset (it falls back to "
                       "another value); give it a starting value with --set "
                       "organisations.a.traits.ability=VALUE");
    const char *const star[] = {"leader_defaults.*"};
    expect_setup_error(plain_targets, star, 1,
                       "--free: key 'leader_defaults.*': `*` stands for a whole segment between "
                       "dots, after a list (organisations.*.size)");
    const char *const twice[] = {"organisations.*.size", "organisations.b.size"};
    expect_setup_error(plain_targets, twice, 2,
                       "--free: key 'organisations.b.size': set by two free parameters");
    expect_setup_error("at: 60\nmoments:\n  - {metric: survey_interorg, mean: 2.7}\n", free_paths,
                       N_FREE,
                       "targets.yaml:1:5: key 'at': tick 60 is beyond the scenario's horizon (52 "
                       "ticks)");
    expect_setup_error("moments:\n  - {metric: survey_interorg, mean: 2.7}\n"
                       "  - {metric: payoff_defector, mean: 0.1}\n",
                       free_paths, N_FREE,
                       "targets.yaml:3:5: key 'moments.1.metric': metric 'payoff_defector' is not "
                       "recorded in standard mode");
}

/* ---- the command ------------------------------------------------------------------------- */

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void the_command_writes_a_fitted_scenario_that_loads_and_a_report(void **state)
{
    (void)state;
    char scenario[256], targets[256], bad[256], fitted[256], report[256], args[2048];
    snprintf(scenario, sizeof scenario, "%s", ts_test_temp_path("cal-small", ".yaml"));
    snprintf(targets, sizeof targets, "%s", ts_test_temp_path("cal-targets", ".yaml"));
    snprintf(bad, sizeof bad, "%s", ts_test_temp_path("cal-bad", ".yaml"));
    snprintf(fitted, sizeof fitted, "%s", ts_test_temp_path("cal-fitted", ".yaml"));
    snprintf(report, sizeof report, "%s", ts_test_temp_path("cal-report", ""));
    write_text(scenario, small);
    write_text(targets, plain_targets);
    write_text(bad, "moments:\n  - {metric: survey_interorg, mean: 2.7}\n  - {metric: trust}\n");
    char out[8192];
    /* a bad targets file: exit 2, the message, nothing written */
    snprintf(args, sizeof args, "calibrate %s -t %s --free leader_defaults.propensity -o %s",
             scenario, bad, fitted);
    assert_int_equal(ts_test_cli(args, out, sizeof out), 2);
    char expected[512];
    snprintf(expected, sizeof expected, "trustsim: %s:3:5: key 'moments.1': missing 'mean'\n", bad);
    assert_string_equal(out, expected);
    assert_int_equal(access(fitted, F_OK), -1);
    /* missing --free: usage error */
    snprintf(args, sizeof args, "calibrate %s -t %s", scenario, targets);
    assert_int_equal(ts_test_cli(args, out, sizeof out), 2);
    assert_non_null(strstr(out, "missing --free"));
    /* a short real fit */
    snprintf(args, sizeof args,
             "calibrate %s -t %s --free 'leader_defaults.propensity,organisations.*.reputation' "
             "-r 8 --max-iter 6 -j 2 -q -o %s --report %s",
             scenario, targets, fitted, report);
    int rc = ts_test_cli(args, out, sizeof out);
    if (rc != 0)
        fail_msg("%s", out);
    assert_non_null(strstr(out, "leader_defaults.propensity"));
    ts_scenario sc;
    ts_error err;
    if (ts_scenario_load(&sc, fitted, &err) != TS_OK)
        fail_msg("%s", err.msg);
    assert_string_equal(sc.params.name, "small_fitted");
    assert_int_equal(sc.params.ticks, 52);
    assert_true(sc.params.orgs[0].reputation == sc.params.orgs[2].reputation);
    assert_true(sc.params.leader_defaults.propensity != 0.5); /* moved from the start */
    ts_scenario_destroy(&sc);
    char *text = ts_test_read_file(fitted);
    assert_non_null(text);
    assert_true(strncmp(text, "# Fitted by `trustsim calibrate`", 32) == 0);
    free(text);
    char path[512];
    snprintf(path, sizeof path, "%s/report.md", report);
    text = ts_test_read_file(path);
    assert_non_null(text);
    assert_non_null(strstr(text, "| `organisations.*.reputation` (one value for all 3) |"));
    free(text);
    snprintf(path, sizeof path, "%s/fit.json", report);
    text = ts_test_read_file(path);
    assert_non_null(text);
    assert_non_null(strstr(text, "\"replicates\": 8,"));
    assert_non_null(strstr(text, "\"tied\": [\"organisations.a.reputation\", "
                                 "\"organisations.b.reputation\", "
                                 "\"organisations.c.reputation\"]"));
    free(text);
    /* an existing fitted scenario is not replaced without --force */
    snprintf(args, sizeof args,
             "calibrate %s -t %s --free leader_defaults.propensity -r 2 --max-iter 1 -q -o %s",
             scenario, targets, fitted);
    assert_int_equal(ts_test_cli(args, out, sizeof out), 2);
    assert_non_null(strstr(out, "use --force"));
    remove(path);
    snprintf(path, sizeof path, "%s/report.md", report);
    remove(path);
    rmdir(report);
    remove(fitted);
    remove(scenario);
    remove(targets);
    remove(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(calibration_recovers_known_values_within_the_simulation_noise),
        cmocka_unit_test(the_objective_is_deterministic_and_independent_of_the_thread_count),
        cmocka_unit_test(a_short_fit_is_the_same_on_one_and_on_two_threads),
        cmocka_unit_test(transforms_keep_parameters_inside_their_ranges),
        cmocka_unit_test(bad_targets_files_name_the_line_column_and_key),
        cmocka_unit_test(bad_paths_and_ticks_are_refused_before_anything_runs),
        cmocka_unit_test(the_command_writes_a_fitted_scenario_that_loads_and_a_report),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
