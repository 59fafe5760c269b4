/* The scenario library (every .yaml file in scenarios/, found at run time so that new scenarios
 * are covered without editing this test): every file loads and validates, builds a model, and
 * runs to the end of a short horizon (20 ticks, 2 replicates) with finite metrics; every point
 * of a sweep does the same (formalisation_sweep.yaml's at least); every file but example.yaml
 * opens with a comment block saying what it encodes; and each X_counterfactual.yaml has its
 * X.yaml, with the same seed, horizon, replicates and organisations, so the pair's replicates
 * are comparable.
 *
 * Not a test of what the scenarios show: that is for the behaviour tests and for the analyses
 * the scenarios are written for. */
#include "support.h"

#include <dirent.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trustsim/design.h"
#include "trustsim/metrics.h"
#include "trustsim/model.h"
#include "trustsim/rng.h"
#include "trustsim/scenario.h"
#include "trustsim/sim.h"

enum { SHORT_TICKS = 20, SHORT_REPLICATES = 2, MIN_HEADER_LINES = 3, MAX_FILES = 256 };

/* At most this many points of a sweep are run (evenly spaced, the first and last included). */
enum { MAX_SWEEP_POINTS = 12 };

typedef struct library {
    char *names[MAX_FILES]; /* file names in scenarios/, sorted */
    int n;
} library;

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int list_scenarios(void **state)
{
    static library lib;
    DIR *d = opendir(ts_test_source_path("scenarios"));
    if (!d) {
        fprintf(stderr, "cannot open %s\n", ts_test_source_path("scenarios"));
        return -1;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !ends_with(e->d_name, ".yaml"))
            continue;
        if (lib.n == MAX_FILES) {
            fprintf(stderr, "more than %d scenarios: raise MAX_FILES\n", MAX_FILES);
            closedir(d);
            return -1;
        }
        lib.names[lib.n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(lib.names, (size_t)lib.n, sizeof lib.names[0], by_name);
    *state = &lib;
    return 0;
}

static int free_list(void **state)
{
    library *lib = *state;
    for (int i = 0; i < lib->n; i++)
        free(lib->names[i]);
    lib->n = 0;
    return 0;
}

static const char *scenario_path(const char *name)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s", ts_test_source_path("scenarios"));
    strncat(buf, "/", sizeof buf - strlen(buf) - 1);
    strncat(buf, name, sizeof buf - strlen(buf) - 1);
    return buf;
}

static void load(ts_scenario *sc, const char *name)
{
    ts_error err = {{0}};
    if (ts_scenario_load(sc, scenario_path(name), &err) != TS_OK)
        fail_msg("%s does not load: %s", name, err.msg);
}

/* Run p for SHORT_REPLICATES replicates. Every metric of the standard set must be finite at the
 * last tick and no metric infinite at any tick (NaN marks an empty set, e.g. before the first
 * act: docs/model.md R2; after 20 ticks it would mean the scenario has nothing to measure). */
static void run_short(const char *name, const ts_params *p, size_t point)
{
    ts_error err = {{0}};
    ts_model *m = NULL;
    if (ts_model_build(&m, p, &err) != TS_OK)
        fail_msg("%s: model does not build: %s", name, err.msg);
    ts_sim *s = ts_sim_alloc(m);
    assert_non_null(s);
    for (int r = 0; r < SHORT_REPLICATES; r++) {
        ts_run_result res;
        if (ts_sim_run(s, ts_seed_hash(p->seed, point, (uint64_t)r), &res, &err) != TS_OK)
            fail_msg("%s (point %zu, replicate %d) does not run: %s", name, point, r, err.msg);
        assert_int_equal(res.n_times, p->ticks + 1);
        assert_int_equal(res.n_metrics, ts_metric_count(p->mode));
        for (int k = 0; k < res.n_metrics; k++) {
            const double *row = res.series + (size_t)k * (size_t)res.n_times;
            for (int t = 0; t < res.n_times; t++)
                if (isinf(row[t]))
                    fail_msg("%s (point %zu, replicate %d): %s is infinite at tick %d", name, point,
                             r, ts_metric_name(k), t);
            /* donation-game payoffs are NaN for a strategy no leader follows */
            if (k < TS_M_STANDARD_COUNT && !isfinite(row[res.n_times - 1]))
                fail_msg("%s (point %zu, replicate %d): %s is %g at the last tick", name, point, r,
                         ts_metric_name(k), row[res.n_times - 1]);
        }
        for (int o = 0; o < res.n_orgs; o++)
            if (!isfinite(res.faith[o]) || res.faith[o] < 0.0 || res.faith[o] > 1.0)
                fail_msg("%s: final faith of organisation %d is %g", name, o, res.faith[o]);
    }
    ts_sim_free(s);
    ts_model_free(m);
}

static void shorten(ts_scenario *sc, const char *name)
{
    static const char *const sets[] = {"ticks=20", "replicates=2"};
    ts_error err = {{0}};
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
        if (ts_scenario_set(sc, sets[i], &err) != TS_OK)
            fail_msg("%s: --set %s: %s", name, sets[i], err.msg);
    assert_int_equal(sc->params.ticks, SHORT_TICKS);
}

static void every_scenario_loads_validates_and_runs(void **state)
{
    library *lib = *state;
    bool has_example = false, has_baseline = false;
    for (int i = 0; i < lib->n; i++) {
        has_example |= strcmp(lib->names[i], "example.yaml") == 0;
        has_baseline |= strcmp(lib->names[i], "baseline.yaml") == 0;
    }
    assert_true(has_example && has_baseline); /* the folder was found and read */
    for (int i = 0; i < lib->n; i++) {
        const char *name = lib->names[i];
        ts_scenario sc = {0};
        load(&sc, name);
        ts_error err = {{0}};
        ts_model *m = NULL;
        if (ts_model_build(&m, &sc.params, &err) != TS_OK) /* as `trustsim validate` does */
            fail_msg("%s does not validate: %s", name, err.msg);
        ts_model_free(m);
        shorten(&sc, name);
        run_short(name, &sc.params, 0);
        ts_scenario_destroy(&sc);
    }
}

/* The library's sweeps run at every point tried; formalisation_sweep.yaml is one, so the test
 * checks something even if it were the only one (and fails if it lost its sweep). */
static void every_sweep_point_runs(void **state)
{
    library *lib = *state;
    int sweeps = 0;
    bool known = false;
    for (int i = 0; i < lib->n; i++) {
        const char *name = lib->names[i];
        ts_scenario sc = {0};
        load(&sc, name);
        if (sc.params.sweep.design == TS_DESIGN_NONE) {
            ts_scenario_destroy(&sc);
            continue;
        }
        sweeps++;
        known = known || strcmp(name, "formalisation_sweep.yaml") == 0;
        shorten(&sc, name);
        ts_points pts;
        ts_error err = {{0}};
        if (ts_points_build(&sc.params, &pts, &err) != TS_OK)
            fail_msg("%s: sweep points: %s", name, err.msg);
        assert_true(pts.n_points >= 2);
        int step = pts.n_points <= MAX_SWEEP_POINTS
                       ? 1
                       : (pts.n_points + MAX_SWEEP_POINTS - 2) / (MAX_SWEEP_POINTS - 1);
        for (int k = 0; k < pts.n_points; k += step) {
            int point = k + step >= pts.n_points ? pts.n_points - 1 : k;
            ts_params p;
            if (ts_points_apply(&pts, point, &sc.params, &p, &err) != TS_OK)
                fail_msg("%s: sweep point %d: %s", name, point, err.msg);
            run_short(name, &p, (size_t)point);
            ts_params_destroy(&p);
            if (point == pts.n_points - 1)
                break;
        }
        ts_points_destroy(&pts);
        ts_scenario_destroy(&sc);
    }
    if (!known)
        fail_msg("formalisation_sweep.yaml has no sweep (or is gone): %d scenarios with a sweep",
                 sweeps);
}

/* The number of lines of the comment block the file opens with. */
static int header_lines(const char *text)
{
    int n = 0;
    const char *p = text;
    while (*p == '#') {
        n++;
        p = strchr(p, '\n');
        if (!p)
            break;
        p++;
    }
    return n;
}

static void every_scenario_but_the_example_opens_with_a_comment_block(void **state)
{
    library *lib = *state;
    for (int i = 0; i < lib->n; i++) {
        const char *name = lib->names[i];
        if (strcmp(name, "example.yaml") == 0)
            continue;
        char *text = ts_test_read_file(scenario_path(name));
        assert_non_null(text);
        int n = header_lines(text);
        if (n < MIN_HEADER_LINES)
            fail_msg("%s opens with %d comment line%s; a block of at least %d saying what it "
                     "encodes and why is expected",
                     name, n, n == 1 ? "" : "s", MIN_HEADER_LINES);
        free(text);
    }
}

static void every_counterfactual_matches_its_scenario(void **state)
{
    library *lib = *state;
    static const char suffix[] = "_counterfactual.yaml";
    for (int i = 0; i < lib->n; i++) {
        const char *name = lib->names[i];
        if (!ends_with(name, suffix))
            continue;
        char partner[512];
        snprintf(partner, sizeof partner, "%.*s.yaml", (int)(strlen(name) - strlen(suffix)), name);
        bool found = false;
        for (int j = 0; j < lib->n; j++)
            found |= strcmp(lib->names[j], partner) == 0;
        if (!found)
            fail_msg("%s has no %s", name, partner);
        ts_scenario cf = {0}, sc = {0};
        load(&cf, name);
        load(&sc, partner);
        if (cf.params.seed != sc.params.seed || cf.params.ticks != sc.params.ticks ||
            cf.params.replicates != sc.params.replicates || cf.params.n_orgs != sc.params.n_orgs)
            fail_msg("%s and %s differ in seed, ticks, replicates or organisations", name, partner);
        for (int o = 0; o < sc.params.n_orgs; o++)
            assert_string_equal(cf.params.orgs[o].id, sc.params.orgs[o].id);
        ts_scenario_destroy(&cf);
        ts_scenario_destroy(&sc);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_scenario_loads_validates_and_runs),
        cmocka_unit_test(every_sweep_point_runs),
        cmocka_unit_test(every_scenario_but_the_example_opens_with_a_comment_block),
        cmocka_unit_test(every_counterfactual_matches_its_scenario),
    };
    return cmocka_run_group_tests_name("scenario library", tests, list_scenarios, free_list);
}
