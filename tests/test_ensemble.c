/* Ensembles as users run them: the same numbers whatever the number of threads, however the
 * work is split into shards, and however often it is interrupted (SIGTERM, or kill -9 at an
 * arbitrary moment) and resumed; sweep points hold the runs of their parameter values; the
 * stored summaries agree with the stored series; and saved work that is damaged (flipped
 * bytes, a truncated block, a block of another job), or a disk that fills up, costs time but
 * never a wrong result: the damaged block is set aside with a warning and its runs run again,
 * and the file is the one an undisturbed run writes.
 *
 * Each test stands alone: the reference files it compares with (an undisturbed run of the
 * sweep, and of the longer job the interruption tests use) are made once, before any test. */
#include "support.h"

#include <dirent.h>
#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
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

/* The references: REF_SWEEP, the sweep on one thread; REF_LONG, the longer job the
 * interruption tests stop and resume. */
#define REF_SWEEP "ens-j1.h5"
#define REF_LONG "ens-ref.h5"

static int setup(void **state)
{
    (void)state;
    snprintf(scenario_path, sizeof scenario_path, "ens-%ld.yaml", (long)getpid());
    snprintf(sweep_path, sizeof sweep_path, "ens-sweep-%ld.yaml", (long)getpid());
    write_file(scenario_path, scenario_text, NULL);
    write_file(sweep_path, scenario_text, sweep_text);
    ts_test_remove_output(REF_SWEEP);
    ts_test_remove_output(REF_LONG);
    if (ts_test_run("run %s -o " REF_SWEEP " -q -j 1", sweep_path) != 0 ||
        ts_test_run("run %s -o " REF_LONG " -q --set ticks=300 --replicates 120", scenario_path))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    remove(scenario_path);
    remove(sweep_path);
    ts_test_remove_output(REF_SWEEP);
    ts_test_remove_output(REF_LONG);
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
    ts_test_remove_output("ens-j2.h5");
    assert_int_equal(ts_test_run("run %s -o ens-j2.h5 -q -j 2 --block-runs 1", sweep_path), 0);
    assert_false(ts_test_exists("ens-j2.h5.parts"));
    ts_test_assert_same_datasets(REF_SWEEP, "ens-j2.h5");
}

static void summaries_agree_with_the_stored_series(void **state)
{
    (void)state;
    /* the reference sweep: 6 points x 6 replicates x 41 times */
    size_t n, nm;
    double *series = read_doubles(REF_SWEEP, "/series/trust_interorg", &n);
    double *mean = read_doubles(REF_SWEEP, "/summary/trust_interorg/mean", &nm);
    double *sd = read_doubles(REF_SWEEP, "/summary/trust_interorg/sd", &nm);
    double *q05 = read_doubles(REF_SWEEP, "/summary/trust_interorg/q05", &nm);
    double *q50 = read_doubles(REF_SWEEP, "/summary/trust_interorg/q50", &nm);
    double *q95 = read_doubles(REF_SWEEP, "/summary/trust_interorg/q95", &nm);
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
    double *q0 = read_doubles(REF_SWEEP, "/points/reciprocity.q0", &n);
    assert_int_equal(n, 6);
    double *size = read_doubles(REF_SWEEP, "/points/organisations.a.size", &n);
    const double want_q0[6] = {0.1, 0.1, 0.1, 0.4, 0.4, 0.4}, want_size[6] = {1, 2, 3, 1, 2, 3};
    for (int i = 0; i < 6; i++) {
        assert_true(q0[i] == want_q0[i]);
        assert_true(size[i] == want_size[i]);
    }
    double *series = read_doubles(REF_SWEEP, "/series/faith", &n);
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
    ts_test_assert_same_datasets(REF_SWEEP, "ens-shard.h5");
}

/* Start `trustsim run` on a longer job in the background; return its pid once at least one
 * block of finished runs is on disk. */
static pid_t start_long_run(const char *scen, const char *out)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl(TS_CLI, TS_CLI, "run", scen, "-o", out, "-q", "-j", "1", "--block-runs", "1",
              "--set", "ticks=300", "--replicates", "120", (char *)NULL);
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
    ts_test_remove_output("ens-term.h5");
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
    ts_test_assert_same_datasets(REF_LONG, "ens-term.h5");
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
    ts_test_assert_same_datasets(REF_LONG, "ens-kill.h5");
}

/* After `setup` leaves things as a kill could around ens-left.h5 (complete), `command`
 * succeeds, leaves no part directory under either name, and the file is unchanged. */
static void finishes_left_over(const char *setup, const char *command)
{
    assert_int_equal(system(setup), 0);
    assert_int_equal(ts_test_run("%s", command), 0);
    assert_false(ts_test_exists("ens-left.h5.parts"));
    assert_false(ts_test_exists("ens-left.h5.parts.old"));
    ts_test_assert_same_datasets(REF_SWEEP, "ens-left.h5");
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
    ts_test_assert_same_datasets(REF_SWEEP, "ens-left.h5");

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
    assert_int_equal(system("cp " REF_LONG " ens-other.h5"), 0);
    assert_int_equal(ts_test_run("run --resume ens-other.h5 -q 2>/dev/null"), 2);
    assert_int_equal(ts_test_run("merge ens-other.h5 2>/dev/null"), 2);
    assert_true(ts_test_exists("ens-other.h5.parts"));
    ts_test_assert_same_datasets(REF_LONG, "ens-other.h5");
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
    ts_test_assert_same_datasets(REF_SWEEP, "ens-fail.h5");
}

/* ---- damage and full disks --------------------------------------------------------------- */

/* The sweep saved in blocks of 2 runs by two shards, not merged: out.parts/ holds every run. */
static void saved_in_blocks(const char *out)
{
    ts_test_remove_output(out);
    char damaged[300];
    snprintf(damaged, sizeof damaged, "rm -rf '%s.damaged'", out);
    assert_int_equal(system(damaged), 0);
    for (int shard = 0; shard < 2; shard++)
        assert_int_equal(ts_test_run("run %s -o %s -q --shard %d/2 --block-runs 2", sweep_path,
                                     out, shard),
                         0);
}

/* The path of block file k (in name order) of out.parts/, in a static buffer. */
static const char *block_of(const char *out, int k)
{
    static char path[800];
    char parts[512], cmd[700];
    snprintf(parts, sizeof parts, "%s.parts", out);
    snprintf(cmd, sizeof cmd, "ls '%s' | grep '^block-.*\\.h5$' | sed -n '%dp'", parts, k + 1);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char name[256] = "";
    assert_non_null(fgets(name, sizeof name, p));
    pclose(p);
    name[strcspn(name, "\n")] = '\0';
    snprintf(path, sizeof path, "%s/%s", parts, name);
    return path;
}

/* Flip n bytes in the middle of a file. */
static void flip_middle(const char *path, int n)
{
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long at = ftell(f) / 2;
    unsigned char buf[64];
    assert_true(n <= 64);
    fseek(f, at, SEEK_SET);
    assert_int_equal(fread(buf, 1, (size_t)n, f), n);
    for (int i = 0; i < n; i++)
        buf[i] ^= 0xff;
    fseek(f, at, SEEK_SET);
    assert_int_equal(fwrite(buf, 1, (size_t)n, f), n);
    fclose(f);
}

/* The command (shell words), which must succeed warning that `block` was set aside, leaving it
 * in out.damaged/ and writing the reference sweep's datasets to out. */
static void heals(const char *command, const char *out, const char *block)
{
    char text[8192], base[256], aside[700];
    assert_int_equal(ts_test_cli(command, text, sizeof text), 0);
    snprintf(base, sizeof base, "%s", strrchr(block, '/') + 1);
    if (!strstr(text, "warning") || !strstr(text, base) || !strstr(text, "set aside"))
        fail_msg("no warning naming %s: %s", base, text);
    snprintf(aside, sizeof aside, "%s.damaged/%s", out, base);
    assert_true(ts_test_exists(aside));
    assert_false(ts_test_exists(block));
    char parts[300];
    snprintf(parts, sizeof parts, "%s.parts", out);
    assert_false(ts_test_exists(parts));
    ts_test_assert_same_datasets(REF_SWEEP, out);
}

static void flipped_bytes_in_a_block_then_resume_equals_undisturbed(void **state)
{
    (void)state;
    saved_in_blocks("ens-heal.h5");
    const char *block = block_of("ens-heal.h5", 3);
    char copy[600];
    snprintf(copy, sizeof copy, "%s", block);
    flip_middle(copy, 64);
    heals("run --resume ens-heal.h5 -q", "ens-heal.h5", copy);
}

static void truncated_block_then_resume_equals_undisturbed(void **state)
{
    (void)state;
    saved_in_blocks("ens-heal.h5");
    char block[600];
    snprintf(block, sizeof block, "%s", block_of("ens-heal.h5", 5));
    struct stat sb;
    assert_int_equal(stat(block, &sb), 0);
    assert_int_equal(truncate(block, sb.st_size / 2), 0);
    heals("run --resume ens-heal.h5 -q", "ens-heal.h5", block);
}

static void damaged_block_then_merge_equals_undisturbed(void **state)
{
    (void)state;
    saved_in_blocks("ens-heal.h5");
    char block[600];
    snprintf(block, sizeof block, "%s", block_of("ens-heal.h5", 0));
    flip_middle(block, 16);
    heals("merge ens-heal.h5", "ens-heal.h5", block);
}

static void a_block_of_another_job_is_set_aside(void **state)
{
    (void)state;
    /* a block of the longer job, copied among the sweep's */
    ts_test_remove_output("ens-stray.h5");
    assert_int_equal(ts_test_run("run %s -o ens-stray.h5 -q --shard 0/2 --replicates 4 "
                                 "--block-runs 2",
                                 scenario_path),
                     0);
    saved_in_blocks("ens-heal.h5");
    char cmd[1400], stray[600];
    snprintf(stray, sizeof stray, "ens-heal.h5.parts/block-stray.h5");
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", block_of("ens-stray.h5", 0), stray);
    assert_int_equal(system(cmd), 0);
    heals("run --resume ens-heal.h5 -q", "ens-heal.h5", stray);
    ts_test_remove_output("ens-stray.h5");
}

/* Without its scenario nothing saved can be checked or continued: an error, nothing touched. */
static void a_damaged_scenario_stops_the_resume(void **state)
{
    (void)state;
    saved_in_blocks("ens-heal.h5");
    FILE *f = fopen("ens-heal.h5.parts/resolved.yaml", "r+b");
    assert_non_null(f);
    fseek(f, 7, SEEK_SET);
    int c = fgetc(f);
    fseek(f, 7, SEEK_SET);
    fputc(c == 'e' ? 'f' : 'e', f);
    fclose(f);
    char text[4096];
    assert_int_equal(ts_test_cli("run --resume ens-heal.h5 -q", text, sizeof text), 2);
    assert_non_null(strstr(text, "resolved.yaml: damaged"));
    assert_int_equal(ts_test_cli("merge ens-heal.h5", text, sizeof text), 2);
    assert_false(ts_test_exists("ens-heal.h5"));
    assert_false(ts_test_exists("ens-heal.h5.damaged"));
    assert_true(ts_test_exists(block_of("ens-heal.h5", 0)));
}

/* Run `trustsim ARGS...` with files limited to `limit` bytes (RLIMIT_FSIZE: a write past it
 * fails with EFBIG, as one on a full disk fails with ENOSPC); its stderr into err. */
static int run_limited(rlim_t limit, char *err, size_t cap, char *const args[])
{
    char log[64];
    snprintf(log, sizeof log, "ens-limited-%ld.log", (long)getpid());
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit rl = {limit, limit};
        signal(SIGXFSZ, SIG_IGN);
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0 || !freopen(log, "w", stderr))
            _exit(126);
        execv(TS_CLI, args);
        _exit(127);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    char *text = ts_test_read_file(log);
    snprintf(err, cap, "%s", text ? text : "");
    free(text);
    remove(log);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Writes fail part way (each file may hold only so many bytes): the reason is named, exit 1,
 * and a resume without the limit writes the undisturbed datasets. Limits that stop a block,
 * and the final file. */
static void failed_writes_name_the_reason_and_lose_nothing(void **state)
{
    (void)state;
    const rlim_t limits[] = {3000, 200000};
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        ts_test_remove_output("ens-limit.h5");
        char err[8192];
        char *args[] = {TS_CLI, "run",          sweep_path, "-o", "ens-limit.h5", "-q", "-j", "1",
                        "--block-runs", "4", NULL};
        assert_int_equal(run_limited(limits[i], err, sizeof err, args), 1);
        if (!strstr(err, "ens-limit.h5") || !strstr(err, strerror(EFBIG)))
            fail_msg("limit %llu: no file or reason named: %s", (unsigned long long)limits[i],
                     err);
        assert_false(ts_test_exists("ens-limit.h5"));
        assert_int_equal(ts_test_run("run --resume ens-limit.h5 -q"), 0);
        ts_test_assert_same_datasets(REF_SWEEP, "ens-limit.h5");
    }
    ts_test_remove_output("ens-limit.h5");
}

/* A full file system (a small tmpfs; only where this test may mount one, as root): "No space
 * left on device", exit 1; once space is freed, a resume writes the undisturbed datasets. */
static void full_disk_then_resume_equals_undisturbed(void **state)
{
    (void)state;
    char dir[64], out[128], filler[128], text[8192], args[512];
    snprintf(dir, sizeof dir, "ens-disk-%ld", (long)getpid());
    snprintf(out, sizeof out, "%s/full.h5", dir);
    snprintf(filler, sizeof filler, "%s/filler", dir);
    assert_true(mkdir(dir, 0777) == 0 || errno == EEXIST);
    if (geteuid() != 0 || mount("tmpfs", dir, "tmpfs", 0, "size=4m") != 0) {
        rmdir(dir);
        skip(); /* failed_writes_name_the_reason_and_lose_nothing covers the rest */
    }
    /* room for a little over half of what the job writes */
    char cmd[512];
    snprintf(cmd, sizeof cmd, "head -c 3000000 /dev/zero > '%s'", filler);
    assert_int_equal(system(cmd), 0);
    snprintf(args, sizeof args, "run %s -o %s -q -j 1 --block-runs 4", sweep_path, out);
    int rc = ts_test_cli(args, text, sizeof text);
    bool full = rc == 1 && strstr(text, strerror(ENOSPC)) != NULL;
    remove(filler);
    if (full) {
        snprintf(args, sizeof args, "run --resume %s -q", out);
        rc = ts_test_cli(args, text, sizeof text);
    }
    if (full && rc == 0)
        ts_test_assert_same_datasets(REF_SWEEP, out);
    umount2(dir, MNT_DETACH);
    rmdir(dir);
    if (!full)
        fail_msg("expected exit 1 and '%s', got exit %d: %s", strerror(ENOSPC), rc, text);
    assert_int_equal(rc, 0);
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
        cmocka_unit_test(flipped_bytes_in_a_block_then_resume_equals_undisturbed),
        cmocka_unit_test(truncated_block_then_resume_equals_undisturbed),
        cmocka_unit_test(damaged_block_then_merge_equals_undisturbed),
        cmocka_unit_test(a_block_of_another_job_is_set_aside),
        cmocka_unit_test(a_damaged_scenario_stops_the_resume),
        cmocka_unit_test(failed_writes_name_the_reason_and_lose_nothing),
        cmocka_unit_test(full_disk_then_resume_equals_undisturbed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
