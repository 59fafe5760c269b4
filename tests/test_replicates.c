/* Seeded replicates in parallel (replicates.h): every task handed out is run once and taken
 * once, with the seed ts_seed_hash(master, point, replicate), so what each task gives is the run
 * a single workspace makes with that seed, on one thread or several; a run stopped early agrees
 * with the full run up to its last tick; each sweep point runs its own parameters; and the
 * first failure stops the work and comes back with its message. */
#include "support.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trustsim/replicates.h"
#include "trustsim/rng.h"

static const char *const small = "name: small\nticks: 30\n"
                                 "organisations:\n  - {id: a, kind: acute_trust}\n"
                                 "  - {id: b, kind: council}\n  - {id: c, kind: ccg, leaders: 2}\n";

enum { TASKS = 12, POINTS = 3, METRIC = 0 };

/* Tasks 0 .. n-1 in order; task k is (point k % points, replicate k / points). What each task
 * gives is filed under it: its first metric's series. */
typedef struct job {
    long next, n;
    int points;
    int n_times;
    double series[TASKS][64];
    int taken[TASKS];
    long fail_at; /* take refuses this task (-1: none) */
    const ts_scenario *sc;
} job;

static bool next(void *ctx, ts_replicate_task *task)
{
    job *j = ctx;
    if (j->next >= j->n)
        return false;
    long k = j->next++;
    *task = (ts_replicate_task){
        .index = (uint64_t)k, .point = k % j->points, .replicate = (uint64_t)(k / j->points)};
    return true;
}

static ts_status take(void *ctx, const ts_replicate_task *task, const ts_run_result *res,
                      ts_error *err)
{
    job *j = ctx;
    if ((long)task->index == j->fail_at)
        return ts_error_set(err, TS_ERUNTIME, "no room for task %llu",
                            (unsigned long long)task->index);
    assert_true(res->n_times <= 64);
    memcpy(j->series[task->index], res->series + (size_t)METRIC * res->n_times,
           (size_t)res->n_times * sizeof(double));
    j->n_times = res->n_times;
    j->taken[task->index]++;
    return TS_OK;
}

/* Point p: the scenario with leaders' propensity 0.3 + 0.2 p. */
static ts_status point_params(void *ctx, long point, ts_params *out, ts_error *err)
{
    const job *j = ctx;
    ts_status st = ts_params_copy(out, &j->sc->params, err);
    if (st == TS_OK)
        out->leader_defaults.propensity = 0.3 + 0.2 * (double)point;
    return st;
}

/* The series a lone workspace gives for (point, replicate), from parameters made here. */
static void expected_series(const ts_scenario *sc, long point, uint64_t replicate, uint64_t seed,
                            double *out, int *n_times)
{
    ts_params p;
    ts_error err;
    assert_int_equal(ts_params_copy(&p, &sc->params, &err), TS_OK);
    p.leader_defaults.propensity = 0.3 + 0.2 * (double)point;
    ts_model *m;
    assert_int_equal(ts_model_build(&m, &p, &err), TS_OK);
    ts_sim *s = ts_sim_alloc(m);
    assert_non_null(s);
    ts_run_result res;
    assert_int_equal(ts_sim_run(s, ts_seed_hash(seed, (uint64_t)point, replicate), &res, &err),
                     TS_OK);
    memcpy(out, res.series + (size_t)METRIC * res.n_times, (size_t)res.n_times * sizeof *out);
    *n_times = res.n_times;
    ts_sim_free(s);
    ts_model_free(m);
    ts_params_destroy(&p);
}

/* A job of n tasks over `points` sweep points of sc, whose take refuses task fail_at. */
static job *new_job(const ts_scenario *sc, long n, int points, long fail_at)
{
    job *j = calloc(1, sizeof *j);
    assert_non_null(j);
    *j = (job){.n = n, .points = points, .fail_at = fail_at, .sc = sc};
    return j;
}

static ts_replicates plan_of(job *j, int threads, uint64_t seed)
{
    return (ts_replicates){.threads = threads,
                           .n_tasks = j->n,
                           .seed = seed,
                           .until = -1,
                           .ctx = j,
                           .next = next,
                           .params = point_params,
                           .take = take};
}

static void every_task_is_the_run_of_its_documented_seed_whatever_the_threads(void **state)
{
    (void)state;
    ts_scenario sc;
    ts_error err;
    assert_int_equal(ts_scenario_load_string(&sc, small, "small.yaml", &err), TS_OK);
    double want[TASKS][64];
    int n_times = 0;
    for (long k = 0; k < TASKS; k++)
        expected_series(&sc, k % POINTS, (uint64_t)(k / POINTS), 77, want[k], &n_times);
    assert_int_equal(n_times, 31);
    for (int threads = 1; threads <= 3; threads++) {
        for (int in_turn = 0; in_turn < 2; in_turn++) {
            job *j = new_job(&sc, TASKS, POINTS, -1);
            ts_replicates plan = plan_of(j, threads, 77);
            plan.take_in_turn = in_turn;
            assert_int_equal(ts_replicates_run(&plan, &err), TS_OK);
            for (long k = 0; k < TASKS; k++) {
                assert_int_equal(j->taken[k], 1);
                assert_memory_equal(j->series[k], want[k], (size_t)n_times * sizeof(double));
            }
            free(j);
        }
    }
    ts_scenario_destroy(&sc);
}

static void one_model_for_every_task_and_a_run_stopped_early(void **state)
{
    (void)state;
    world w;
    world_open(&w, small, "small.yaml", NULL);
    enum { UNTIL = 12 };
    job *j = new_job(NULL, 4, 1, -1);
    ts_replicates plan = {.threads = 2,
                          .n_tasks = j->n,
                          .seed = 5,
                          .until = UNTIL,
                          .ctx = j,
                          .next = next,
                          .model = w.m,
                          .take = take};
    ts_error err;
    assert_int_equal(ts_replicates_run(&plan, &err), TS_OK);
    for (long k = 0; k < 4; k++) {
        ts_run_result full;
        assert_int_equal(ts_sim_run(w.s, ts_seed_hash(5, 0, (uint64_t)k), &full, &err), TS_OK);
        assert_int_equal(j->taken[k], 1);
        /* the same values up to the tick it stopped at */
        assert_memory_equal(j->series[k], full.series + (size_t)METRIC * full.n_times,
                            (UNTIL + 1) * sizeof(double));
    }
    free(j);
    world_close(&w);
}

static void the_first_failure_stops_the_work_and_comes_back(void **state)
{
    (void)state;
    ts_scenario sc;
    ts_error err;
    assert_int_equal(ts_scenario_load_string(&sc, small, "small.yaml", &err), TS_OK);
    /* take refuses task 4: on one thread, tasks 0-3 were taken and nothing after */
    job *j = new_job(&sc, TASKS, POINTS, 4);
    ts_replicates plan = plan_of(j, 1, 9);
    assert_int_equal(ts_replicates_run(&plan, &err), TS_ERUNTIME);
    assert_string_equal(err.msg, "no room for task 4");
    for (long k = 0; k < TASKS; k++)
        assert_int_equal(j->taken[k], k < 4);
    free(j);
    /* on several threads too (how many others finish first depends on the timing) */
    j = new_job(&sc, TASKS, POINTS, 0);
    plan = plan_of(j, 3, 9);
    assert_int_equal(ts_replicates_run(&plan, &err), TS_ERUNTIME);
    assert_string_equal(err.msg, "no room for task 0");
    assert_int_equal(j->taken[0], 0);
    free(j);
    ts_scenario_destroy(&sc);
}

/* Parameters that cannot be made: the error names its point. */
static ts_status refuse_point_two(void *ctx, long point, ts_params *out, ts_error *err)
{
    if (point == 2)
        return ts_error_set(err, TS_EINPUT, "point %ld: key 'x': refused", point);
    return point_params(ctx, point, out, err);
}

static void parameters_that_cannot_be_made_stop_the_work(void **state)
{
    (void)state;
    ts_scenario sc;
    ts_error err;
    assert_int_equal(ts_scenario_load_string(&sc, small, "small.yaml", &err), TS_OK);
    job *j = new_job(&sc, TASKS, POINTS, -1);
    ts_replicates plan = plan_of(j, 1, 9);
    plan.params = refuse_point_two;
    assert_int_equal(ts_replicates_run(&plan, &err), TS_EINPUT);
    assert_string_equal(err.msg, "point 2: key 'x': refused");
    assert_int_equal(j->taken[0] + j->taken[1] + j->taken[2], 2);
    free(j);
    ts_scenario_destroy(&sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_task_is_the_run_of_its_documented_seed_whatever_the_threads),
        cmocka_unit_test(one_model_for_every_task_and_a_run_stopped_early),
        cmocka_unit_test(the_first_failure_stops_the_work_and_comes_back),
        cmocka_unit_test(parameters_that_cannot_be_made_stop_the_work),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
