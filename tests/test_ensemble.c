/* Ensembles as users run them: the same numbers whatever the number of threads, however the
 * work is split into shards, and however often it is interrupted (SIGTERM, or kill -9 at an
 * arbitrary moment) and resumed; sweep points hold the runs of their parameter values; and
 * the stored summaries agree with the stored series. */
#include "support.h"

#include <dirent.h>
#include <hdf5.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "trustsim/design.h"
#include "trustsim/metrics.h"
#include "trustsim/model.h"
#include "trustsim/rng.h"
#include "trustsim/scenario.h"
#include "trustsim/sim.h"

static const char *const scenario_text =
    "name: ens\n"
    "seed: 77\n"
    "ticks: 40\n"
    "replicates: 6\n"
    "organisations:\n"
    "  - {id: a, kind: acute_trust, leaders: 3, size: 2}\n"
    "  - {id: b, kind: council, leaders: 2}\n"
    "  - {id: c, kind: gp_federation, leaders: 2}\n"
    "relations: {default: {competition: 0.3, proximity: 0.7}}\n"
    "events: [{type: turnover, rate: 0.01}]\n";

static const char *const sweep_text =
    "sweep:\n"
    "  design: grid\n"
    "  parameters:\n"
    "    reciprocity.q0: {values: [0.1, 0.4]}\n"
    "    organisations.a.size: {min: 1, max: 3, n: 3}\n";

static char scenario_path[256], sweep_path[256];

static void write_file(const char *path, const char *a, const char *b)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(a, f);
    if (b)
        fputs(b, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    snprintf(scenario_path, sizeof scenario_path, "ens-%ld.yaml", (long)getpid());
    snprintf(sweep_path, sizeof sweep_path, "ens-sweep-%ld.yaml", (long)getpid());
    write_file(scenario_path, scenario_text, NULL);
    write_file(sweep_path, scenario_text, sweep_text);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    remove(scenario_path);
    remove(sweep_path);
    return 0;
}

static double *read_doubles(const char *path, const char *name, size_t *n)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    assert_true(d >= 0);
    hid_t s = H5Dget_space(d);
    *n = (size_t)H5Sget_simple_extent_npoints(s);
    double *v = malloc(*n * sizeof *v);
    assert_true(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    H5Sclose(s), H5Dclose(d), H5Fclose(f);
    return v;
}

/* ---- tests ------------------------------------------------------------------------------ */

static void thread_count_does_not_change_any_dataset(void **state)
{
    (void)state;
    ts_test_remove_output("ens-j1.h5");
    ts_test_remove_output("ens-j2.h5");
    assert_int_equal(ts_test_run("run %s -o ens-j1.h5 -q -j 1", sweep_path), 0);
    assert_int_equal(ts_test_run("run %s -o ens-j2.h5 -q -j 2 --block-runs 1", sweep_path), 0);
    assert_false(ts_test_exists("ens-j2.h5.parts"));
    ts_test_assert_same_datasets("ens-j1.h5", "ens-j2.h5");
}

static void summaries_agree_with_the_stored_series(void **state)
{
    (void)state;
    /* from the file of the previous test: 6 points x 6 replicates x 41 times */
    size_t n, nm;
    double *series = read_doubles("ens-j1.h5", "/series/trust_interorg", &n);
    double *mean = read_doubles("ens-j1.h5", "/summary/trust_interorg/mean", &nm);
    double *sd = read_doubles("ens-j1.h5", "/summary/trust_interorg/sd", &nm);
    double *q05 = read_doubles("ens-j1.h5", "/summary/trust_interorg/q05", &nm);
    double *q50 = read_doubles("ens-j1.h5", "/summary/trust_interorg/q50", &nm);
    double *q95 = read_doubles("ens-j1.h5", "/summary/trust_interorg/q95", &nm);
    const size_t P = 6, R = 6, T = 41;
    assert_int_equal(n, P * R * T);
    assert_int_equal(nm, P * T);
    for (size_t p = 0; p < P; p++)
        for (size_t t = 0; t < T; t++) {
            double v[6], m = 0, ss = 0;
            for (size_t r = 0; r < R; r++) {
                v[r] = series[(p * R + r) * T + t];
                m += v[r] / R;
            }
            for (size_t r = 0; r < R; r++)
                ss += (v[r] - m) * (v[r] - m);
            /* insertion sort, then quantiles by linear interpolation between order statistics
             * at position q (R - 1) */
            for (size_t i = 1; i < R; i++)
                for (size_t k = i; k > 0 && v[k - 1] > v[k]; k--) {
                    double tmp = v[k];
                    v[k] = v[k - 1];
                    v[k - 1] = tmp;
                }
            double qs[3] = {0.05, 0.5, 0.95}, got[3] = {q05[p * T + t], q50[p * T + t],
                                                          q95[p * T + t]};
            for (int k = 0; k < 3; k++) {
                double pos = qs[k] * (R - 1);
                size_t lo = (size_t)floor(pos);
                double want = lo + 1 < R ? v[lo] + (pos - lo) * (v[lo + 1] - v[lo]) : v[lo];
                assert_true(fabs(got[k] - want) < 1e-12);
            }
            assert_true(fabs(mean[p * T + t] - m) < 1e-12);
            assert_true(fabs(sd[p * T + t] - sqrt(ss / (R - 1))) < 1e-12);
        }
    free(series), free(mean), free(sd), free(q05), free(q50), free(q95);
}

static void sweep_points_hold_the_runs_of_their_values(void **state)
{
    (void)state;
    /* the grid's points, first parameter slowest, and each point's runs are those of a
     * scenario with the point's values set */
    size_t n;
    double *q0 = read_doubles("ens-j1.h5", "/points/reciprocity.q0", &n);
    assert_int_equal(n, 6);
    double *size = read_doubles("ens-j1.h5", "/points/organisations.a.size", &n);
    const double want_q0[6] = {0.1, 0.1, 0.1, 0.4, 0.4, 0.4}, want_size[6] = {1, 2, 3, 1, 2, 3};
    for (int i = 0; i < 6; i++) {
        assert_true(q0[i] == want_q0[i]);
        assert_true(size[i] == want_size[i]);
    }
    double *series = read_doubles("ens-j1.h5", "/series/faith", &n);
    ts_scenario sc;
    ts_error err;
    assert_int_equal(ts_scenario_load(&sc, scenario_path, &err), TS_OK);
    assert_int_equal(ts_scenario_set(&sc, "reciprocity.q0=0.4", &err), TS_OK);
    assert_int_equal(ts_scenario_set(&sc, "organisations.a.size=2", &err), TS_OK);
    ts_model *m;
    assert_int_equal(ts_model_build(&m, &sc.params, &err), TS_OK);
    ts_sim *s = ts_sim_alloc(m);
    ts_run_result r;
    for (uint64_t rep = 0; rep < 6; rep++) {
        assert_int_equal(ts_sim_run(s, ts_seed_hash(77, 4, rep), &r, &err), TS_OK);
        const double *faith = r.series + (size_t)TS_M_FAITH * 41;
        assert_memory_equal(faith, series + (4 * 6 + rep) * 41, 41 * sizeof(double));
    }
    ts_sim_free(s);
    ts_model_free(m);
    ts_scenario_destroy(&sc);
    free(q0), free(size), free(series);
}

static void shards_merge_into_the_same_file(void **state)
{
    (void)state;
    ts_test_remove_output("ens-shard.h5");
    assert_int_equal(ts_test_run("run %s -o ens-shard.h5 -q --shard 1/3", sweep_path), 0);
    assert_false(ts_test_exists("ens-shard.h5"));
    assert_int_equal(ts_test_run("merge ens-shard.h5 2>/dev/null"), 2); /* shards 0 and 2 missing */
    assert_int_equal(ts_test_run("run %s -o ens-shard.h5 -q --shard 0/3", sweep_path), 0);
    assert_int_equal(ts_test_run("run %s -o ens-shard.h5 -q --shard 2/3 -j 1", sweep_path), 0);
    assert_int_equal(ts_test_run("merge ens-shard.h5 2>/dev/null"), 0);
    assert_false(ts_test_exists("ens-shard.h5.parts"));
    ts_test_assert_same_datasets("ens-j1.h5", "ens-shard.h5");
}

/* Start `trustsim run` on a longer job in the background; return its pid once at least one
 * block of finished runs is on disk. */
static pid_t start_long_run(const char *scen, const char *out)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl(TS_CLI, TS_CLI, "run", scen, "-o", out, "-q", "-j", "1", "--block-runs", "1",
              "--set", "ticks=300", "--replicates", "40", (char *)NULL);
        _exit(127);
    }
    char parts[512];
    snprintf(parts, sizeof parts, "%s.parts", out);
    for (int i = 0; i < 6000; i++) { /* up to a minute */
        DIR *d = opendir(parts);
        int blocks = 0;
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL)
            blocks += strncmp(e->d_name, "block-", 6) == 0 &&
                      strcmp(e->d_name + strlen(e->d_name) - 3, ".h5") == 0;
        if (d)
            closedir(d);
        if (blocks >= 2)
            return pid;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    fail_msg("no block appeared");
    return pid;
}

static void interrupted_then_resumed_equals_uninterrupted(void **state)
{
    (void)state;
    ts_test_remove_output("ens-ref.h5");
    ts_test_remove_output("ens-term.h5");
    assert_int_equal(
        ts_test_run("run %s -o ens-ref.h5 -q --set ticks=300 --replicates 40", scenario_path), 0);
    pid_t pid = start_long_run(scenario_path, "ens-term.h5");
    kill(pid, SIGTERM);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 143);
    assert_false(ts_test_exists("ens-term.h5"));
    assert_true(ts_test_exists("ens-term.h5.parts"));
    /* the scenario cannot be changed on resume */
    assert_int_equal(ts_test_run("run --resume ens-term.h5 --seed 3 2>/dev/null"), 2);
    assert_int_equal(ts_test_run("run --resume ens-term.h5 -q"), 0);
    assert_false(ts_test_exists("ens-term.h5.parts"));
    ts_test_assert_same_datasets("ens-ref.h5", "ens-term.h5");
}

static void killed_at_any_moment_then_resumed_equals_uninterrupted(void **state)
{
    (void)state;
    /* several kills at different moments, each followed by a resume that is itself killed,
     * and a last resume that completes */
    ts_test_remove_output("ens-kill.h5");
    pid_t pid = start_long_run(scenario_path, "ens-kill.h5");
    int status, kills = 0;
    for (int round = 0; round < 3; round++) {
        struct timespec ts = {0, (long)(37 + 53 * round) * 1000 * 1000};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
            break; /* it finished before the kill landed */
        assert_true(WIFSIGNALED(status));
        kills++;
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            execl(TS_CLI, TS_CLI, "run", "--resume", "ens-kill.h5", "-q", "-j", "1",
                  "--block-runs", "1", (char *)NULL);
            _exit(127);
        }
    }
    if (kills == 3) {
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    assert_true(kills >= 1);
    assert_false(ts_test_exists("ens-kill.h5.parts"));
    ts_test_assert_same_datasets("ens-ref.h5", "ens-kill.h5");
}

/* After `setup` leaves things as a kill could around ens-left.h5 (complete), `command`
 * succeeds, leaves no part directory under either name, and the file is unchanged. */
static void finishes_left_over(const char *setup, const char *command)
{
    assert_int_equal(system(setup), 0);
    assert_int_equal(ts_test_run("%s", command), 0);
    assert_false(ts_test_exists("ens-left.h5.parts"));
    assert_false(ts_test_exists("ens-left.h5.parts.old"));
    ts_test_assert_same_datasets("ens-j1.h5", "ens-left.h5");
}

/* A kill after the merge has renamed the file into place, before it has removed the part
 * directory, leaves both: resuming or merging again finishes the job (the file is already
 * the result), and a file that is not this job's result is still never replaced. */
static void killed_while_cleaning_up_then_resumed(void **state)
{
    (void)state;
    ts_test_remove_output("ens-left.h5");
    assert_int_equal(system("rm -rf ens-left.kept ens-other.h5.parts ens-other.h5"), 0);
    assert_int_equal(ts_test_run("run %s -o ens-left.h5 -q --shard 0/2", sweep_path), 0);
    assert_int_equal(ts_test_run("run %s -o ens-left.h5 -q --shard 1/2", sweep_path), 0);
    assert_int_equal(system("cp -r ens-left.h5.parts ens-left.kept"), 0);
    assert_int_equal(ts_test_run("merge ens-left.h5"), 0);
    assert_false(ts_test_exists("ens-left.h5.parts"));
    ts_test_assert_same_datasets("ens-j1.h5", "ens-left.h5");

    /* after a kill while the part directory was being removed: resuming or merging again */
    finishes_left_over("cp -r ens-left.kept ens-left.h5.parts", "run --resume ens-left.h5 -q");
    finishes_left_over("cp -r ens-left.kept ens-left.h5.parts", "merge ens-left.h5");
    /* a run that merged its last block from memory leaves a part directory without it */
    finishes_left_over("cp -r ens-left.kept ens-left.h5.parts && "
                       "rm \"$(ls ens-left.h5.parts/block-*.h5 | head -n 1)\"",
                       "run --resume ens-left.h5 -q");
    /* nothing left at all: the file is complete; a part directory a kill left half removed
     * under its other name goes at the next resume or merge, with or without the other */
    finishes_left_over("true", "run --resume ens-left.h5 -q");
    finishes_left_over("true", "merge ens-left.h5 2>/dev/null");
    finishes_left_over("cp -r ens-left.kept ens-left.h5.parts.old", "run --resume ens-left.h5 -q");
    finishes_left_over("cp -r ens-left.kept ens-left.h5.parts.old && "
                       "rm ens-left.h5.parts.old/*.yaml && "
                       "cp -r ens-left.kept ens-left.h5.parts",
                       "run --resume ens-left.h5 -q");

    /* the same part directory next to another job's file: refused, nothing touched */
    assert_int_equal(system("cp -r ens-left.kept ens-other.h5.parts"), 0);
    assert_int_equal(system("cp ens-ref.h5 ens-other.h5"), 0);
    assert_int_equal(ts_test_run("run --resume ens-other.h5 -q 2>/dev/null"), 2);
    assert_int_equal(ts_test_run("merge ens-other.h5 2>/dev/null"), 2);
    assert_true(ts_test_exists("ens-other.h5.parts"));
    ts_test_assert_same_datasets("ens-ref.h5", "ens-other.h5");
    assert_int_equal(system("rm -rf ens-left.kept ens-other.h5.parts ens-other.h5"), 0);

    /* no part directory and a file that is not a finished run: nothing to resume from */
    assert_int_equal(system("echo not a run > ens-junk.h5"), 0);
    assert_int_equal(ts_test_run("run --resume ens-junk.h5 -q 2>/dev/null"), 2);
    assert_int_equal(ts_test_run("merge ens-junk.h5 2>/dev/null"), 2);
    remove("ens-junk.h5");
}

/* The runs of the last block wait in memory for the merge that follows them; when that merge
 * fails (here: a directory where its temporary file must go), they are saved, and a resume
 * finishes the job. */
static void failed_merge_keeps_the_runs(void **state)
{
    (void)state;
    ts_test_remove_output("ens-fail.h5");
    assert_int_equal(system("rm -rf ens-fail.h5.part && mkdir ens-fail.h5.part"), 0);
    assert_int_equal(ts_test_run("run %s -o ens-fail.h5 -q 2>/dev/null", sweep_path), 1);
    assert_false(ts_test_exists("ens-fail.h5"));
    assert_int_equal(system("ls ens-fail.h5.parts/block-*.h5 >/dev/null"), 0); /* the runs */
    assert_int_equal(system("rmdir ens-fail.h5.part"), 0);
    assert_int_equal(ts_test_run("run --resume ens-fail.h5 -q"), 0);
    assert_false(ts_test_exists("ens-fail.h5.parts"));
    ts_test_assert_same_datasets("ens-j1.h5", "ens-fail.h5");
}

int main(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(thread_count_does_not_change_any_dataset),
        cmocka_unit_test(summaries_agree_with_the_stored_series),
        cmocka_unit_test(sweep_points_hold_the_runs_of_their_values),
        cmocka_unit_test(shards_merge_into_the_same_file),
        cmocka_unit_test(interrupted_then_resumed_equals_uninterrupted),
        cmocka_unit_test(killed_at_any_moment_then_resumed_equals_uninterrupted),
        cmocka_unit_test(killed_while_cleaning_up_then_resumed),
        cmocka_unit_test(failed_merge_keeps_the_runs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
