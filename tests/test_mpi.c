/* `mpirun -np K trustsim run` as users run it (built only with -DTRUSTSIM_MPI=ON): K ranks
 * sharing one job (or one shard of it) write the same datasets as one process, whatever K; a
 * SIGTERM under mpirun leaves every rank's finished runs saved, and `run --resume` finishes the
 * job with or without mpirun; an error stops every rank with the same exit status instead of
 * hanging.
 *
 * The ranks are the sanitizer build of trustsim: Open MPI's own allocations trip
 * LeakSanitizer, so leak detection is off for the processes mpirun starts, and only for them. */
#include "support.h"

#include <dirent.h>
#include <hdf5.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *const scenario_text =
    "name: mpi\n"
    "seed: 41\n"
    "ticks: 40\n"
    "replicates: 6\n"
    "organisations:\n"
    "  - {id: a, kind: acute_trust, leaders: 3, size: 2}\n"
    "  - {id: b, kind: council, leaders: 2}\n"
    "  - {id: c, kind: gp_federation, leaders: 2}\n"
    "relations: {default: {competition: 0.3, proximity: 0.7}}\n"
    "events: [{type: turnover, rate: 0.01}]\n"
    "sweep:\n"
    "  design: grid\n"
    "  parameters:\n"
    "    reciprocity.q0: {values: [0.1, 0.4]}\n"
    "    organisations.a.size: {min: 1, max: 3, n: 3}\n";

/* The longer job that gets interrupted: 3 x 2 points x 40 replicates of 1000 ticks. */
#define LONG_JOB "--set ticks=1000 --replicates 40"

static char scenario_path[256];

/* ASAN_OPTIONS for the ranks: the caller's, with leak detection off. */
static char rank_asan[1024];

static int setup(void **state)
{
    (void)state;
    snprintf(scenario_path, sizeof scenario_path, "mpi-%ld.yaml", (long)getpid());
    FILE *f = fopen(scenario_path, "w");
    assert_non_null(f);
    fputs(scenario_text, f);
    fclose(f);
    const char *asan = getenv("ASAN_OPTIONS");
    snprintf(rank_asan, sizeof rank_asan, "%s%sdetect_leaks=0", asan ? asan : "",
             asan && *asan ? ":" : "");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    remove(scenario_path);
    return 0;
}

static int shell(const char *cmd)
{
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The launcher's options common to every call here. */
static const char *mpirun_flags(void)
{
    return geteuid() == 0 ? "--oversubscribe --allow-run-as-root" : "--oversubscribe";
}

/* `mpirun -np NP trustsim ARGS`; a job that hangs is stopped after two minutes (status 124). */
static int mpi(int np, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int mpi(int np, const char *fmt, ...)
{
    char args[2048], cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "ASAN_OPTIONS='%s' timeout 120 '%s' -np %d %s '%s' %s", rank_asan,
             TS_MPIEXEC, np, mpirun_flags(), TS_CLI, args);
    return shell(cmd);
}

/* Block files in OUT.h5.parts/ whose name starts with prefix ("block-" for all of them). */
static int count_blocks(const char *out, const char *prefix)
{
    char parts[512];
    snprintf(parts, sizeof parts, "%s.parts", out);
    DIR *d = opendir(parts);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0 && len > 3 &&
             strcmp(e->d_name + len - 3, ".h5") == 0;
    }
    if (d)
        closedir(d);
    return n;
}

/* Start `[mpirun -np 2] trustsim run` of the long job in the background, one thread per
 * process, with more options and redirections in extra; returns the pid of mpirun or trustsim. */
static pid_t start_long_job(bool under_mpirun, const char *out, const char *extra)
{
    char cmd[4096];
    if (under_mpirun)
        snprintf(cmd, sizeof cmd, "ASAN_OPTIONS='%s' exec '%s' -np 2 %s ", rank_asan, TS_MPIEXEC,
                 mpirun_flags());
    else
        snprintf(cmd, sizeof cmd, "exec ");
    size_t len = strlen(cmd);
    snprintf(cmd + len, sizeof cmd - len, "'%s' run %s -o %s -j 1 " LONG_JOB " %s", TS_CLI,
             scenario_path, out, extra);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Poll every 10 ms, for up to two minutes, until done(arg). */
static void wait_until(bool (*done)(const char *), const char *arg, pid_t pid)
{
    for (int i = 0; i < 12000; i++) {
        if (done(arg))
            return;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    fail_msg("waited two minutes for %s", arg);
}

static bool has_blocks(const char *out)
{
    return count_blocks(out, "block-") >= 2;
}

/* Rank 0's progress line is in the log: the ranks are under way. */
static bool shows_progress(const char *log)
{
    char *text = ts_test_read_file(log);
    bool yes = text && strstr(text, "runs started on 2 ranks");
    free(text);
    return yes;
}

/* Send sig to pid and to its children (the ranks that mpirun started), as Slurm signals every
 * process of a job step. (mpirun alone would pass SIGTERM on to the ranks only after
 * odls_base_sigkill_timeout seconds, and by then this short job may be over.) */
static void signal_with_children(pid_t pid, int sig)
{
    DIR *d = opendir("/proc");
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char path[300], stat[512];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t n = fread(stat, 1, sizeof stat - 1, f);
        fclose(f);
        stat[n] = '\0';
        const char *after = strrchr(stat, ')'); /* "pid (command) state ppid ..." */
        char state;
        long ppid;
        if (after && sscanf(after + 1, " %c %ld", &state, &ppid) == 2 && ppid == (long)pid)
            kill((pid_t)atol(e->d_name), sig);
    }
    closedir(d);
    kill(pid, sig);
}

static void stop_and_wait(pid_t pid)
{
    signal_with_children(pid, SIGTERM);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    /* trustsim exits 143; mpirun reports a job it was asked to stop as failed */
    assert_true(WIFEXITED(status));
    assert_int_not_equal(WEXITSTATUS(status), 0);
}

/* ---- tests ------------------------------------------------------------------------------ */

static void two_ranks_write_the_same_file_as_one_process(void **state)
{
    (void)state;
    ts_test_remove_output("mpi-one.h5");
    ts_test_remove_output("mpi-np2.h5");
    assert_int_equal(ts_test_run("run %s -o mpi-one.h5 -q -j 1", scenario_path), 0);
    assert_int_equal(
        mpi(2, "run %s -o mpi-np2.h5 -j 1 --block-runs 1 --progress 2>mpi-np2.log", scenario_path),
        0);
    assert_false(ts_test_exists("mpi-np2.h5.parts"));
    ts_test_assert_same_datasets("mpi-one.h5", "mpi-np2.h5");
    /* one report for the job, from rank 0, and a progress line over all ranks' runs */
    char *log = ts_test_read_file("mpi-np2.log");
    assert_non_null(log);
    const char *wrote = strstr(log, "wrote mpi-np2.h5 (36 runs on 2 ranks");
    assert_non_null(wrote);
    assert_null(strstr(wrote + 1, "wrote "));
    assert_non_null(strstr(log, "36/36 runs started on 2 ranks"));
    free(log);
    remove("mpi-np2.log");
}

static void one_rank_and_two_ranks_write_the_same_file(void **state)
{
    (void)state;
    ts_test_remove_output("mpi-np1.h5");
    assert_int_equal(mpi(1, "run %s -o mpi-np1.h5 -q -j 2", scenario_path), 0);
    ts_test_assert_same_datasets("mpi-np1.h5", "mpi-np2.h5");
    /* --force replaces the file, as without mpirun */
    assert_int_equal(mpi(2, "run %s -o mpi-np1.h5 -q -j 1 --force", scenario_path), 0);
    ts_test_assert_same_datasets("mpi-one.h5", "mpi-np1.h5");
}

static void ranks_can_share_one_shard(void **state)
{
    (void)state;
    /* an MPI job per shard (e.g. a Slurm array of them), merged like any shards */
    ts_test_remove_output("mpi-shard.h5");
    assert_int_equal(mpi(2, "run %s -o mpi-shard.h5 -q -j 1 --shard 1/2", scenario_path), 0);
    assert_false(ts_test_exists("mpi-shard.h5"));
    assert_int_equal(ts_test_run("run %s -o mpi-shard.h5 -q --shard 0/2", scenario_path), 0);
    assert_int_equal(ts_test_run("merge mpi-shard.h5 2>/dev/null"), 0);
    ts_test_assert_same_datasets("mpi-one.h5", "mpi-shard.h5");
}

/* The log file says what exactly once (all ranks together); the log is removed. */
static void assert_said_once(const char *log_path, const char *what)
{
    char *log = ts_test_read_file(log_path);
    assert_non_null(log);
    const char *first = strstr(log, what);
    assert_non_null(first);
    assert_null(strstr(first + 1, what));
    free(log);
    remove(log_path);
}

static void errors_stop_every_rank_with_the_same_status(void **state)
{
    (void)state;
    /* each would hang a rank in a barrier if the ranks did not agree; timeout would say 124 */
    assert_int_equal(mpi(2, "run %s -o mpi-one.h5 -q 2>/dev/null", scenario_path), 2);
    assert_int_equal(mpi(2, "run --resume mpi-none.h5 -q 2>/dev/null"), 2);
    /* a bad scenario is read by rank 0 alone: reported once, and every rank exits with 2 */
    assert_int_equal(mpi(2, "run %s -o mpi-x.h5 -q --set ticks=-3 2>mpi-x.log", scenario_path), 2);
    assert_false(ts_test_exists("mpi-x.h5.parts"));
    assert_said_once("mpi-x.log", "key 'ticks'");
    /* an unfinished run of the same output is neither joined nor replaced without --resume or
     * --force, and the message says so once, from rank 0 */
    ts_test_remove_output("mpi-x.h5");
    assert_int_equal(ts_test_run("run %s -o mpi-x.h5 -q --shard 0/2", scenario_path), 0);
    assert_int_equal(mpi(2, "run %s -o mpi-x.h5 -q 2>mpi-x.log", scenario_path), 2);
    assert_said_once("mpi-x.log", "holds an unfinished run");
    /* ... and --resume under mpirun finishes the other shard's half */
    assert_int_equal(mpi(2, "run --resume mpi-x.h5 -q -j 1"), 0);
    ts_test_assert_same_datasets("mpi-one.h5", "mpi-x.h5");
    /* help, once */
    assert_int_equal(mpi(2, "run --help >mpi-x.log"), 0);
    assert_said_once("mpi-x.log", "Usage: trustsim run");
}

static void interrupted_under_mpirun_then_resumed_alone(void **state)
{
    (void)state;
    ts_test_remove_output("mpi-ref.h5");
    ts_test_remove_output("mpi-term.h5");
    assert_int_equal(ts_test_run("run %s -o mpi-ref.h5 -q " LONG_JOB, scenario_path), 0);
    /* blocks of the default size: no rank saves anything before the signal ... */
    pid_t pid = start_long_job(true, "mpi-term.h5", "--progress 2>mpi-term.log");
    wait_until(shows_progress, "mpi-term.log", pid);
    stop_and_wait(pid);
    remove("mpi-term.log");
    /* ... and each saves its finished runs when it comes */
    assert_false(ts_test_exists("mpi-term.h5"));
    assert_true(count_blocks("mpi-term.h5", "block-r0-") >= 1);
    assert_true(count_blocks("mpi-term.h5", "block-r1-") >= 1);
    assert_int_equal(ts_test_run("run --resume mpi-term.h5 -q"), 0);
    assert_false(ts_test_exists("mpi-term.h5.parts"));
    ts_test_assert_same_datasets("mpi-ref.h5", "mpi-term.h5");
}

static void interrupted_alone_then_resumed_under_mpirun(void **state)
{
    (void)state;
    ts_test_remove_output("mpi-term2.h5");
    pid_t pid = start_long_job(false, "mpi-term2.h5", "-q --block-runs 1");
    wait_until(has_blocks, "mpi-term2.h5", pid);
    stop_and_wait(pid);
    assert_true(ts_test_exists("mpi-term2.h5.parts"));
    assert_int_equal(mpi(2, "run --resume mpi-term2.h5 -q -j 1"), 0);
    assert_false(ts_test_exists("mpi-term2.h5.parts"));
    ts_test_assert_same_datasets("mpi-ref.h5", "mpi-term2.h5");
}

/* A launcher that says it started 2 tasks, and an MPI that sees a world of one rank (here
 * mpirun -np 1 with srun's variable for 2 tasks, Open MPI's own size hidden; at a site, e.g.
 * srun --mpi=pmi2 with an MPI that understands only PMIx): each task would run the whole job,
 * so each refuses, exit status 2, and nothing is written. */
static void a_world_of_one_among_several_tasks_is_refused(void **state)
{
    (void)state;
    char cmd[4096];
    ts_test_remove_output("mpi-one-of-2.h5");
    snprintf(cmd, sizeof cmd,
             "ASAN_OPTIONS='%s' timeout 120 '%s' -np 1 %s env -u OMPI_COMM_WORLD_SIZE "
             "SLURM_STEP_NUM_TASKS=2 '%s' run %s -o mpi-one-of-2.h5 -q 2>mpi-one-of-2.log",
             rank_asan, TS_MPIEXEC, mpirun_flags(), TS_CLI, scenario_path);
    assert_int_equal(shell(cmd), 2);
    assert_false(ts_test_exists("mpi-one-of-2.h5"));
    assert_false(ts_test_exists("mpi-one-of-2.h5.parts"));
    assert_said_once("mpi-one-of-2.log", "MPI reports a world of one rank");
}

int main(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_ranks_write_the_same_file_as_one_process),
        cmocka_unit_test(one_rank_and_two_ranks_write_the_same_file),
        cmocka_unit_test(ranks_can_share_one_shard),
        cmocka_unit_test(errors_stop_every_rank_with_the_same_status),
        cmocka_unit_test(interrupted_under_mpirun_then_resumed_alone),
        cmocka_unit_test(interrupted_alone_then_resumed_under_mpirun),
        cmocka_unit_test(a_world_of_one_among_several_tasks_is_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
