/* The `trustsim` command: parses the command line, calls the library, and turns statuses into
 * exit codes (0 success, 1 runtime failure, 2 bad usage or bad input). All printing for users
 * happens here; the library only returns values. */
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/launch.h"
#include "trustsim/ensemble.h"
#include "trustsim/model.h"
#include "trustsim/scenario.h"
#include "trustsim/schema.h"
#ifdef TRUSTSIM_HAVE_MPI
#include "cli/mpi_run.h"
#endif

static const char *const main_usage =
    "Usage: trustsim COMMAND [OPTIONS]\n"
    "\n"
    "Agent-based simulation of trust between organisations in health and care collaborations.\n"
    "\n"
    "Commands:\n"
    "  run SCENARIO.yaml -o OUT.h5   run a scenario (all its replicates) and write HDF5\n"
    "  validate SCENARIO.yaml        check a scenario file and report what it describes\n"
    "  merge OUT.h5                  join the runs of shards (run --shard I/N) into OUT.h5\n"
    "  compare A.h5 [B.h5] -m NAME   difference of replicate means (B - A), with a 95% CI\n"
    "  sensitivity OUT.h5 -m NAME    Sobol indices of a saltelli sweep, stored in OUT.h5\n"
    "  export OUT.h5 --csv DIR       write the runs as tidy CSV tables\n"
    "  info OUT.h5                   describe an output file and its headline numbers\n"
    "  calibrate SCENARIO.yaml ...   fit parameters to target means (simulated moments)\n"
    "  schema [--markdown]           print the reference of every scenario key\n"
    "\n"
    "Options:\n"
    "  -h, --help      show this help (or `trustsim COMMAND --help`)\n"
    "  -V, --version   show the version\n"
    "\n"
    "Exit status: 0 success, 1 runtime failure, 2 bad usage or bad input.\n";

static const char *const run_usage =
    "Usage: trustsim run SCENARIO.yaml -o OUT.h5 [OPTIONS]\n"
    "       trustsim run --resume OUT.h5 [-j N] [-q]\n"
    "\n"
    "Run every sweep point and replicate of a scenario in parallel and write the results to\n"
    "one HDF5 file. Finished runs are saved as they go in OUT.h5.parts/; OUT.h5 appears when\n"
    "every run is done. On SIGINT or SIGTERM the runs finished so far are saved and the\n"
    "command exits 130 or 143; `--resume` finishes the rest, with the same result as an\n"
    "uninterrupted run. Saved runs are checked before they are used: a damaged block is set\n"
    "aside in OUT.h5.damaged/ with a warning, and its runs run again.\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE      output HDF5 file (required)\n"
    "  -s, --seed N           master seed (overrides the scenario's `seed`)\n"
    "  -r, --replicates N     replicates (overrides the scenario's `replicates`)\n"
    "      --set PATH=VALUE   override a scalar parameter, e.g. --set reciprocity.q0=0.4\n"
    "                         or --set organisations.hospital.size=2 (repeatable)\n"
    "  -j, --threads N        worker threads (default: all cores)\n"
    "  -f, --force            replace OUT.h5 if it exists\n"
    "      --resume           continue the unfinished run saved in OUT.h5.parts/\n"
    "      --shard I/N        run only the I-th of N shares of the runs (I from 0) and leave\n"
    "                         them in OUT.h5.parts/; `trustsim merge OUT.h5` joins the shards\n"
    "      --block-runs N     save finished runs in blocks of N (default: automatic)\n"
    "  -q, --quiet            no progress line\n"
    "      --progress         draw the progress line even when stderr is not a terminal\n"
    "  -h, --help             show this help\n";

static const char *const validate_usage =
    "Usage: trustsim validate SCENARIO.yaml [--set PATH=VALUE]...\n"
    "\n"
    "Check a scenario file: every key, type, range and reference. Prints a one-line summary\n"
    "and exits 0 when valid; prints FILE:LINE:COL: key 'path': reason and exits 2 when not.\n"
    "\n"
    "Options:\n"
    "      --set PATH=VALUE   apply an override before checking (repeatable)\n"
    "      --resolved         print the scenario with every default filled in\n"
    "  -h, --help             show this help\n";

static const char *const schema_usage =
    "Usage: trustsim schema [--markdown]\n"
    "\n"
    "Print the reference of every scenario key (type, default, range, meaning) as Markdown.\n";

/* Set on the ranks other than 0 of `mpirun ... trustsim run`: they have the same command line
 * as rank 0, so rank 0 alone reports what is wrong with it. */
static bool other_rank;

int usage_error(const char *usage, const char *fmt, const char *arg)
{
    if (other_rank)
        return EXIT_USAGE;
    fprintf(stderr, "trustsim: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n\n%s", usage);
    return EXIT_USAGE;
}

int exit_for(ts_status st)
{
    return st == TS_OK ? 0 : st == TS_EINPUT ? EXIT_USAGE : EXIT_RUNTIME;
}

enum { OPT_SET = 1000, OPT_PROGRESS, OPT_RESOLVED, OPT_MARKDOWN, OPT_RESUME, OPT_SHARD, OPT_BLOCK };

/* The signal that asked us to stop (0: none). Set by the handler, read by the workers. */
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
    stop_signal = sig;
}

/* What the library says is worth knowing but is no error (a damaged block set aside). */
static void print_warning(void *ctx, const char *message)
{
    (void)ctx;
    fprintf(stderr, "%strustsim: warning: %s\n", isatty(STDERR_FILENO) ? "\r" : "", message);
}

static void catch_stop_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static bool parse_shard(const char *s, int *index, int *count)
{
    char *end;
    long i = strtol(s, &end, 10);
    if (end == s || *end != '/')
        return false;
    const char *rest = end + 1;
    long n = strtol(rest, &end, 10);
    if (end == rest || *end || n < 1 || n > 1000000 || i < 0 || i >= n)
        return false;
    *index = (int)i;
    *count = (int)n;
    return true;
}

/* What `trustsim run` is asked for. */
typedef struct run_args {
    const char *scenario, *out; /* scenario NULL with --resume */
    char **sets;                /* --set overrides, [n_sets] */
    int n_sets;
    bool have_seed;
    unsigned long long seed, replicates; /* replicates 0: the scenario's */
    bool quiet, progress, help;
    ts_ensemble_options eo;
} run_args;

/* One option into a; 0, or the exit status of a usage error. */
static int run_option(run_args *a, int c, char *arg)
{
    unsigned long long v;
    switch (c) {
    case 'o':
        a->out = arg;
        return 0;
    case 's':
        if (!parse_whole(arg, 0, UINT64_MAX, &a->seed))
            return usage_error(run_usage, "--seed expects a non-negative integer, got '%s'", arg);
        a->have_seed = true;
        return 0;
    case 'r':
        if (!parse_whole(arg, 1, 100000000ULL, &a->replicates))
            return usage_error(run_usage, "--replicates expects a positive integer, got '%s'", arg);
        return 0;
    case 'j':
        if (!parse_whole(arg, 1, 4096ULL, &v))
            return usage_error(run_usage, "--threads expects a positive integer, got '%s'", arg);
        a->eo.threads = (int)v;
        return 0;
    case OPT_SET:
        a->sets[a->n_sets++] = arg;
        return 0;
    case 'f':
        a->eo.force = true;
        return 0;
    case 'q':
        a->quiet = true;
        return 0;
    case OPT_PROGRESS:
        a->progress = true;
        return 0;
    case OPT_RESUME:
        a->eo.resume = true;
        return 0;
    case OPT_SHARD:
        if (!parse_shard(arg, &a->eo.shard_index, &a->eo.shard_count))
            return usage_error(run_usage, "--shard expects I/N with 0 <= I < N, got '%s'", arg);
        return 0;
    case OPT_BLOCK:
        if (!parse_whole(arg, 1, 1000000ULL, &v))
            return usage_error(run_usage, "--block-runs expects a positive integer, got '%s'", arg);
        a->eo.block_runs = (int)v;
        return 0;
    case 'h':
        a->help = true;
        return 0;
    default:
        return usage_error(run_usage, "%s", "invalid option");
    }
}

/* The operands: OUT.h5 alone with --resume (everything else comes from its part directory),
 * else SCENARIO.yaml and -o OUT.h5. */
static int run_operands(run_args *a, int argc, char **argv)
{
    if (a->eo.resume) {
        if (optind == argc - 1 && !a->out)
            a->out = argv[optind];
        else if (optind != argc)
            return usage_error(run_usage, "%s", "--resume takes only OUT.h5");
        if (!a->out || a->n_sets || a->have_seed || a->replicates || a->eo.shard_count > 1)
            return usage_error(run_usage, "%s",
                               a->out ? "--resume cannot change the scenario (--set, --seed, "
                                        "--replicates, --shard)"
                                      : "missing OUT.h5");
        return 0;
    }
    if (optind != argc - 1)
        return usage_error(run_usage, "%s",
                           optind >= argc ? "missing SCENARIO.yaml"
                                          : "expected exactly one scenario file");
    if (!a->out)
        return usage_error(run_usage, "%s", "missing -o OUT.h5");
    a->scenario = argv[optind];
    return 0;
}

/* The command line into a (a->sets to be freed whatever the result); 0 when a is complete (or
 * asks for help), else the exit status. */
static int parse_run_args(int argc, char **argv, run_args *a)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"seed", required_argument, NULL, 's'},
        {"replicates", required_argument, NULL, 'r'},
        {"set", required_argument, NULL, OPT_SET},
        {"threads", required_argument, NULL, 'j'},
        {"force", no_argument, NULL, 'f'},
        {"quiet", no_argument, NULL, 'q'},
        {"progress", no_argument, NULL, OPT_PROGRESS},
        {"resume", no_argument, NULL, OPT_RESUME},
        {"shard", required_argument, NULL, OPT_SHARD},
        {"block-runs", required_argument, NULL, OPT_BLOCK},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *a = (run_args){.eo = {.shard_count = 1}};
    if (!(a->sets = calloc((size_t)argc, sizeof *a->sets)))
        return EXIT_RUNTIME;
    int c, rc = 0;
    while (!rc && !a->help && (c = getopt_long(argc, argv, "o:s:r:j:fqh", opts, NULL)) != -1)
        rc = run_option(a, c, optarg);
    return rc || a->help ? rc : run_operands(a, argc, argv);
}

/* What became of the ensemble, on stderr; the exit status. */
static int report_run(const run_args *a, ts_status st, const ts_ensemble_stats *stats,
                      const ts_error *err)
{
    if (st == TS_EINTERRUPTED) {
        fprintf(stderr, "\ntrustsim: %s\n", err->msg);
        return 128 + (stop_signal ? stop_signal : SIGINT);
    }
    if (st != TS_OK) {
        fprintf(stderr, "trustsim: %s\n", err->msg);
        return exit_for(st);
    }
    if (a->quiet)
        return 0;
    if (stats->complete)
        fprintf(stderr, "%s is complete: nothing to resume\n", a->out);
    else if (stats->merged)
        fprintf(stderr, "wrote %s (%zu runs, %.1f s)\n", a->out, stats->runs_total, stats->seconds);
    else
        fprintf(stderr, "saved shard %d/%d: %zu runs in %s.parts/\n", a->eo.shard_index,
                a->eo.shard_count, stats->runs_now, a->out);
    return 0;
}

/* Run what a asks for (under an MPI launcher, mpi: the ranks share the job); the exit
 * status. */
static int run(run_args *a, bool mpi)
{
    a->eo.progress = !a->quiet && (a->progress || isatty(STDERR_FILENO));
    a->eo.stop = &stop_signal;
    a->eo.warn = print_warning;
    ts_scenario sc = {0};
    ts_error err;
    bool loaded = false;
    int failed = 0; /* under MPI: rank 0 could not read the scenario (its exit status) */
    /* under MPI only rank 0 reads the scenario (the others take their tasks from the job it
     * prepares): a bad one is reported once, and rank 0 passes its exit status on to every
     * rank */
    if (a->scenario && !other_rank) {
        ts_status st = load_scenario(&sc, a->scenario, a->sets, a->n_sets, &err);
        if (st != TS_OK) {
            fprintf(stderr, "%s\n", err.msg);
            failed = exit_for(st);
            if (!mpi)
                return failed;
        } else {
            loaded = true;
            if (a->have_seed)
                sc.params.seed = a->seed;
            if (a->replicates)
                sc.params.replicates = (int)a->replicates;
        }
    }
    catch_stop_signals();
    int rc = 0;
#ifdef TRUSTSIM_HAVE_MPI
    if (mpi) /* mpirun -np K trustsim run ...: the ranks share the job */
        rc = ts_cli_mpi_run(loaded ? &sc : NULL, a->out, &a->eo, a->quiet, failed);
#endif
    (void)failed; /* read only under MPI */
    if (!mpi) {
        ts_ensemble_stats stats;
        ts_status st = ts_ensemble_run(loaded ? &sc : NULL, a->out, &a->eo, &stats, &err);
        rc = report_run(a, st, &stats, &err);
    }
    if (loaded)
        ts_scenario_destroy(&sc);
    return rc;
}

int cmd_run(int argc, char **argv)
{
    bool mpi = false; /* started by an MPI launcher: the ranks share the job */
#ifdef TRUSTSIM_HAVE_MPI
    ts_cli_launch launch = ts_cli_launch_get();
    mpi = launch.mpi;
    other_rank = mpi && launch.rank > 0;
    if (other_rank)
        opterr = 0; /* getopt's own messages too */
#endif
    run_args a;
    int rc = parse_run_args(argc, argv, &a);
    if (!rc && a.help && !other_rank) /* under mpirun, rank 0 says it for all */
        fputs(run_usage, stdout);
    else if (!rc && !a.help)
        rc = run(&a, mpi);
    free(a.sets);
    return rc;
}

static const char *const merge_usage =
    "Usage: trustsim merge OUT.h5 [--force]\n"
    "\n"
    "Join the runs saved in OUT.h5.parts/ (by `run --shard I/N` jobs, or an interrupted run)\n"
    "into OUT.h5, the same file a single `trustsim run` would have written. Every block is\n"
    "checked first: a damaged one is set aside in OUT.h5.damaged/ with a warning, and the runs\n"
    "not done are then run here.\n"
    "\n"
    "Options:\n"
    "  -f, --force   replace OUT.h5 if it exists\n"
    "  -h, --help    show this help\n";

int cmd_merge(int argc, char **argv)
{
    static const struct option opts[] = {
        {"force", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool force = false;
    int c;
    while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(merge_usage, stdout);
            return 0;
        }
        if (c != 'f')
            return usage_error(merge_usage, "%s", "invalid option");
        force = true;
    }
    if (optind != argc - 1)
        return usage_error(merge_usage, "%s", "expected exactly one OUT.h5");
    ts_error err;
    ts_ensemble_stats stats;
    ts_ensemble_options eo = {.force = force, .shard_count = 1, .stop = &stop_signal,
                              .warn = print_warning};
    catch_stop_signals();
    ts_status st = ts_ensemble_merge(argv[optind], &eo, &stats, &err);
    if (st == TS_EINTERRUPTED) {
        fprintf(stderr, "\ntrustsim: %s\n", err.msg);
        return 128 + (stop_signal ? stop_signal : SIGINT);
    }
    if (st != TS_OK) {
        fprintf(stderr, "trustsim: %s\n", err.msg);
        return exit_for(st);
    }
    if (stats.complete)
        fprintf(stderr, "%s is complete: nothing to merge\n", argv[optind]);
    else
        fprintf(stderr, "wrote %s (%zu runs)\n", argv[optind], stats.runs_total);
    return 0;
}

int cmd_validate(int argc, char **argv)
{
    static const struct option opts[] = {
        {"set", required_argument, NULL, OPT_SET},
        {"resolved", no_argument, NULL, OPT_RESOLVED},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char **sets = calloc((size_t)argc, sizeof *sets);
    int n_sets = 0, c, rc = 0;
    bool resolved = false;
    if (!sets)
        return EXIT_RUNTIME;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == OPT_SET) {
            sets[n_sets++] = optarg;
        } else if (c == OPT_RESOLVED) {
            resolved = true;
        } else if (c == 'h') {
            fputs(validate_usage, stdout);
            goto done;
        } else {
            rc = usage_error(validate_usage, "%s", "invalid option");
            goto done;
        }
    }
    if (optind != argc - 1) {
        rc = usage_error(validate_usage, "%s", "expected exactly one scenario file");
        goto done;
    }
    ts_scenario sc = {0};
    ts_error err;
    ts_status st = load_scenario(&sc, argv[optind], sets, n_sets, &err);
    if (st == TS_OK) {
        ts_model *m = NULL;
        st = ts_model_build(&m, &sc.params, &err);
        if (st == TS_OK && resolved) {
            char *y = ts_params_to_yaml(&sc.params);
            fputs(y ? y : "", stdout);
            free(y);
        } else if (st == TS_OK) {
            printf("%s: ok: scenario '%s', %d organisations, %d leaders, %d collaborations, "
                   "%d events, %d ticks, %d replicates\n",
                   argv[optind], sc.params.name, m->n_orgs, m->n_leaders, m->n_collabs,
                   sc.params.n_events, sc.params.ticks, sc.params.replicates);
        }
        ts_model_free(m);
        ts_scenario_destroy(&sc);
    }
    if (st != TS_OK)
        fprintf(stderr, "%s\n", err.msg);
    rc = exit_for(st);
done:
    free(sets);
    return rc;
}

int cmd_schema(int argc, char **argv)
{
    static const struct option opts[] = {
        {"markdown", no_argument, NULL, OPT_MARKDOWN},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(schema_usage, stdout);
            return 0;
        }
        if (c != OPT_MARKDOWN)
            return usage_error(schema_usage, "%s", "invalid option");
    }
    if (optind != argc)
        return usage_error(schema_usage, "%s", "unexpected argument");
    ts_schema_write_markdown(stdout);
    return 0;
}

/* Every command: its name and its entry point (each lives in src/cli/<name>.c or here). */
static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} commands[] = {
    {"run", cmd_run},
    {"validate", cmd_validate},
    {"schema", cmd_schema},
    {"calibrate", cmd_calibrate},
    {"merge", cmd_merge},
    {"compare", cmd_compare},
    {"sensitivity", cmd_sensitivity},
    {"export", cmd_export},
    {"info", cmd_info},
};

/* Memory the command frees is mostly reused soon (a block of runs, a file's buffers, the next
 * run's workspace): keep allocations below 64 MB in the heap instead of returning each to the
 * kernel and faulting it in again, which cost a fifth of a 1,000-replicate ensemble's time. */
static void tune_malloc(void)
{
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    mallopt(M_TOP_PAD, 64 << 20);
#endif
}

int main(int argc, char **argv)
{
    tune_malloc();
    if (argc < 2)
        return usage_error(main_usage, "%s", "missing COMMAND");
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        fputs(main_usage, stdout);
        return 0;
    }
    if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
        printf("trustsim %s\n", TRUSTSIM_VERSION);
        return 0;
    }
    /* subcommands parse argv[1..]: argv[1] plays the program name for getopt */
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(cmd, commands[i].name) != 0)
            continue;
        /* one of K tasks (srun -n K, mpirun -np K): only `run` of an MPI build, started by an
         * MPI process manager, shares the work; anything else would do it K times over */
        ts_cli_launch launch = ts_cli_launch_get();
        if (launch.tasks > 1) {
            bool run = commands[i].run == cmd_run;
#ifdef TRUSTSIM_HAVE_MPI
            if (!run)
                return ts_cli_launch_refuse(&launch, TS_LAUNCH_NOT_SHARED);
            if (!launch.mpi)
                return ts_cli_launch_refuse(&launch, TS_LAUNCH_NO_PMI);
#else
            return ts_cli_launch_refuse(&launch, run ? TS_LAUNCH_NO_MPI : TS_LAUNCH_NOT_SHARED);
#endif
        }
        return commands[i].run(argc - 1, argv + 1);
    }
    return usage_error(main_usage, "unknown command '%s'", cmd);
}
