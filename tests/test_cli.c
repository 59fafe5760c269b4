/* The command line as a user meets it: exit statuses, help, error lines, and that bad input
 * or an existing result never costs anything already on disk. */
#include "support.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *small_scenario(void)
{
    static char path[256];
    snprintf(path, sizeof path, "cli-small-%ld.yaml", (long)getpid());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("name: small\nticks: 10\nreplicates: 3\norganisations:\n"
          "  - {id: a, kind: acute_trust}\n  - {id: b, kind: council}\n",
          f);
    fclose(f);
    return path;
}

static void version_and_help_succeed(void **state)
{
    (void)state;
    char out[8192];
    assert_int_equal(ts_test_cli("--version", out, sizeof out), 0);
    assert_non_null(strstr(out, "trustsim " TRUSTSIM_VERSION));
    assert_int_equal(ts_test_cli("--help", out, sizeof out), 0);
    assert_non_null(strstr(out, "Usage: trustsim COMMAND"));
    assert_int_equal(ts_test_cli("run --help", out, sizeof out), 0);
    assert_non_null(strstr(out, "--output"));
    assert_int_equal(ts_test_cli("validate --help", out, sizeof out), 0);
    assert_non_null(strstr(out, "Usage: trustsim validate"));
}

static void bad_usage_exits_2(void **state)
{
    (void)state;
    char out[8192];
    assert_int_equal(ts_test_cli("", out, sizeof out), 2);
    assert_int_equal(ts_test_cli("frobnicate", out, sizeof out), 2);
    assert_non_null(strstr(out, "unknown command 'frobnicate'"));
    assert_int_equal(ts_test_cli("run", out, sizeof out), 2);
    assert_int_equal(ts_test_cli("run x.yaml", out, sizeof out), 2);
    assert_non_null(strstr(out, "missing -o OUT.h5"));
    assert_int_equal(ts_test_cli("run x.yaml -o y.h5 --seed minus", out, sizeof out), 2);
    assert_int_equal(ts_test_cli("run x.yaml -o y.h5 --bogus", out, sizeof out), 2);
}

static void validate_accepts_the_example_and_names_the_fault_in_a_bad_file(void **state)
{
    (void)state;
    char out[8192], args[1024];
    snprintf(args, sizeof args, "validate '%s'", ts_test_source_path("scenarios/example.yaml"));
    assert_int_equal(ts_test_cli(args, out, sizeof out), 0);
    assert_non_null(strstr(out, ": ok: scenario 'example', 4 organisations, 12 leaders"));
    snprintf(args, sizeof args, "validate '%s' --set reciprocity.q0=7",
             ts_test_source_path("scenarios/example.yaml"));
    assert_int_equal(ts_test_cli(args, out, sizeof out), 2);
    assert_non_null(strstr(out, "--set: key 'reciprocity.q0': must be in [0, 1], got 7"));
    assert_int_equal(ts_test_cli("validate no-such-file.yaml", out, sizeof out), 2);
    assert_non_null(strstr(out, "no-such-file.yaml: cannot read"));
}

static void run_writes_once_and_never_replaces_without_force(void **state)
{
    (void)state;
    char out[8192], args[1024];
    const char *scen = small_scenario();
    char h5[256], part[300];
    snprintf(h5, sizeof h5, "cli-out-%ld.h5", (long)getpid());
    snprintf(part, sizeof part, "%s.part", h5);
    remove(h5);
    snprintf(args, sizeof args, "run %s -o %s -q", scen, h5);
    assert_int_equal(ts_test_cli(args, out, sizeof out), 0);
    assert_true(ts_test_exists(h5));
    assert_false(ts_test_exists(part));
    char *before = ts_test_read_file(h5);
    assert_non_null(before);

    /* again without --force: refused, file untouched */
    snprintf(args, sizeof args, "run %s -o %s -q --seed 99", scen, h5);
    assert_int_equal(ts_test_cli(args, out, sizeof out), 2);
    assert_non_null(strstr(out, "exists (use --force to replace it)"));
    char *after = ts_test_read_file(h5);
    assert_string_equal(before, after); /* HDF5 files start with a signature, no NUL early */
    free(after);
    free(before);

    /* bad input with --force: still nothing lost */
    snprintf(args, sizeof args, "run %s -o %s -q --force --set ticks=zero", scen, h5);
    assert_int_equal(ts_test_cli(args, out, sizeof out), 2);
    assert_true(ts_test_exists(h5));
    assert_false(ts_test_exists(part));

    snprintf(args, sizeof args, "run %s -o %s -q --force --seed 99", scen, h5);
    assert_int_equal(ts_test_cli(args, out, sizeof out), 0);
    remove(h5);
    remove(scen);
}

static void bad_scenario_writes_nothing(void **state)
{
    (void)state;
    char out[8192], args[1024];
    const char *bad = "cli-bad.yaml";
    FILE *f = fopen(bad, "w");
    assert_non_null(f);
    fputs("name: bad\nticks: 10\norganisations:\n  - {id: a, kind: acute_trust, size: -1}\n", f);
    fclose(f);
    remove("cli-bad.h5");
    snprintf(args, sizeof args, "run %s -o cli-bad.h5", bad);
    assert_int_equal(ts_test_cli(args, out, sizeof out), 2);
    assert_non_null(
        strstr(out, "cli-bad.yaml:4:38: key 'organisations.a.size': must be > 0, got -1"));
    assert_false(ts_test_exists("cli-bad.h5"));
    assert_false(ts_test_exists("cli-bad.h5.part"));
    remove(bad);
}

/* srun -n 2 without an MPI process manager starts two copies of the same command: each would
 * run the whole job and write the same output. Every command refuses at once with exit status
 * 2, the first task says why and what to do, and nothing is written. A batch script's
 * SLURM_NTASKS alone (a job of several tasks, but this is one process) changes nothing. */
static void one_of_several_tasks_without_mpi_refuses_and_writes_nothing(void **state)
{
    (void)state;
    char out[8192], args[1024], h5[256], path[300];
    const char *scen = small_scenario();
    snprintf(h5, sizeof h5, "cli-tasks-%ld.h5", (long)getpid());
    ts_test_remove_output(h5);
    snprintf(args, sizeof args, "run %s -o %s -q", scen, h5);
    setenv("SLURM_STEP_NUM_TASKS", "2", 1);
    setenv("SLURM_PROCID", "0", 1);
    assert_int_equal(ts_test_cli(args, out, sizeof out), 2);
    assert_non_null(strstr(out, "one of 2 tasks started together (SLURM_STEP_NUM_TASKS=2)"));
    assert_non_null(strstr(out, "srun --mpi=pmix"));
    assert_non_null(strstr(out, "Nothing was written."));
    setenv("SLURM_PROCID", "1", 1); /* the other task: the same refusal, silently */
    assert_int_equal(ts_test_cli(args, out, sizeof out), 2);
    assert_string_equal(out, "");
    setenv("SLURM_PROCID", "0", 1);
    snprintf(args, sizeof args, "merge %s", h5);
    assert_int_equal(ts_test_cli(args, out, sizeof out), 2);
    assert_non_null(strstr(out, "only `trustsim run` shares its work among tasks"));
    unsetenv("SLURM_STEP_NUM_TASKS");
    unsetenv("SLURM_PROCID");
    assert_false(ts_test_exists(h5));
    snprintf(path, sizeof path, "%s.parts", h5);
    assert_false(ts_test_exists(path));
    snprintf(path, sizeof path, "%s.part", h5);
    assert_false(ts_test_exists(path));

    setenv("SLURM_NTASKS", "2", 1);
    snprintf(args, sizeof args, "run %s -o %s -q", scen, h5);
    assert_int_equal(ts_test_cli(args, out, sizeof out), 0);
    unsetenv("SLURM_NTASKS");
    assert_true(ts_test_exists(h5));
    ts_test_remove_output(h5);
    remove(scen);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(version_and_help_succeed),
        cmocka_unit_test(bad_usage_exits_2),
        cmocka_unit_test(validate_accepts_the_example_and_names_the_fault_in_a_bad_file),
        cmocka_unit_test(run_writes_once_and_never_replaces_without_force),
        cmocka_unit_test(bad_scenario_writes_nothing),
        cmocka_unit_test(one_of_several_tasks_without_mpi_refuses_and_writes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
