/* `trustsim calibrate`: fit free parameters of a scenario to target moments (calibrate.h) and
 * write the fitted scenario and a report. Parses the command line, prints the summary and turns
 * statuses into exit codes; the fitting itself is in the library. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "trustsim/calibrate.h"
#include "trustsim/metrics.h"
#include "trustsim/scenario.h"
#include "util/textfile.h"

static const char *const calibrate_usage =
    "Usage: trustsim calibrate SCENARIO.yaml --targets TARGETS.yaml --free PATH[,PATH...]\n"
    "                          [OPTIONS]\n"
    "\n"
    "Fit free parameters of a scenario by the method of simulated moments: minimise the\n"
    "weighted squared distance between target means (TARGETS.yaml) and the replicate means of\n"
    "the same metrics at a tick, with GSL's Nelder-Mead simplex on logit/log transforms that\n"
    "keep each parameter inside its schema range. Replicate r always runs with the seed\n"
    "ts_seed_hash(seed, 0, r) (common random numbers), so the objective is deterministic and\n"
    "does not depend on the number of threads. A free parameter starts from its value in the\n"
    "scenario; choose another start with --set.\n"
    "\n"
    "Options:\n"
    "  -t, --targets FILE     target moments (YAML; see scenarios/targets/) (required)\n"
    "      --free PATHS       scalar parameters to fit, comma-separated or repeated, e.g.\n"
    "                         --free leader_defaults.propensity,reciprocity.q0 (required);\n"
    "                         a `*` ties one value over a list: organisations.*.reputation\n"
    "  -r, --replicates N     replicates per evaluation (default: the scenario's)\n"
    "  -s, --seed N           master seed (default: the scenario's)\n"
    "      --at TICK          read every moment at this tick (default: the targets file's\n"
    "                         `at`, else the scenario's horizon)\n"
    "      --set PATH=VALUE   override a scalar parameter first (repeatable)\n"
    "  -o, --output FILE      write the fitted scenario (YAML) to FILE\n"
    "  -f, --force            replace FILE if it exists\n"
    "      --report DIR       write DIR/report.md and DIR/fit.json\n"
    "      --max-iter N       simplex iterations in all (default 200)\n"
    "      --tol X            stop when the simplex size is below X (default 1e-3)\n"
    "      --step X           initial simplex step in transformed space (default 0.5)\n"
    "      --restarts N       restarts of the simplex from the best point (default 1)\n"
    "      --no-sensitivity   skip the sensitivities and standard errors after the fit\n"
    "  -j, --threads N        worker threads (default: all cores)\n"
    "  -q, --quiet            no progress line\n"
    "  -h, --help             show this help\n"
    "\n"
    "Errors in the targets file read FILE:LINE:COL: key 'moments.N.field': reason (exit 2).\n";

enum {
    OPT_FREE = 1000,
    OPT_AT,
    OPT_SET,
    OPT_REPORT,
    OPT_MAX_ITER,
    OPT_TOL,
    OPT_STEP,
    OPT_RESTARTS,
    OPT_NO_SENS
};

/* What the command line asks for. */
typedef struct calibrate_args {
    const char *scenario, *targets, *out, *report;
    char **sets; /* --set overrides, [n_sets] */
    int n_sets;
    char **paths; /* free parameters, pointing into lists */
    int n_paths;
    char **lists; /* the --free arguments, copied to be split at commas */
    int n_lists;
    char *command; /* the command line, for the report */
    bool force, quiet, help;
    unsigned long long replicates; /* 0: the scenario's */
    bool have_seed;
    unsigned long long seed;
    ts_calib_options opt; /* replicates and seed are filled once the scenario is read */
} calibrate_args;

/* Split comma-separated paths into paths[] (pointers into the duplicated `list`). */
static int split_paths(char *list, char **paths, int n, int cap)
{
    for (char *tok = strtok(list, ","); tok && n < cap; tok = strtok(NULL, ","))
        if (*tok)
            paths[n++] = tok;
    return n;
}

/* The command line as typed, for the report, with arguments quoted where needed. */
static char *command_line(int argc, char **argv)
{
    size_t len = strlen("trustsim") + 1;
    for (int i = 0; i < argc; i++)
        len += 2 * strlen(argv[i]) + 3;
    char *s = malloc(len), *p = s;
    if (!s)
        return NULL;
    p += sprintf(p, "trustsim");
    for (int i = 0; i < argc; i++) {
        bool quote = strpbrk(argv[i], " \t'\"$*?") != NULL || !argv[i][0];
        *p++ = ' ';
        if (quote)
            *p++ = '\'';
        for (const char *q = argv[i]; *q; q++) {
            if (*q == '\'') { /* ' -> '\'' */
                memcpy(p, "'\\''", 4);
                p += 4;
            } else {
                *p++ = *q;
            }
        }
        if (quote)
            *p++ = '\'';
    }
    *p = '\0';
    return s;
}

static void show_progress(void *ctx, int iteration, double distance)
{
    (void)ctx;
    fprintf(stderr, "\rcalibrate: iteration %d, distance %.6g   ", iteration, distance);
    fflush(stderr);
}

static void print_summary(const ts_calibration *c, const char *targets_path)
{
    const ts_calib_fit *f = &c->fit;
    printf("calibrated scenario '%s' to %s: %d moments, %d replicates, seed %llu\n", c->base.name,
           targets_path, c->n_moments, c->opt.replicates, (unsigned long long)c->opt.seed);
    printf("distance %.6g -> %.6g: %d iterations, %d evaluations, %s, %.1f s\n", f->start_distance,
           f->best.distance, f->iterations, f->evaluations,
           f->converged ? "converged" : "not converged (raise --max-iter?)", f->seconds);
    if (f->penalised)
        printf("%d evaluations penalised; the first: %s\n", f->penalised, f->penalty_reason);
    printf("\n%-40s %10s %10s %10s\n", "parameter", "start", "fitted", "se(sim)");
    for (int j = 0; j < c->n_free; j++)
        printf("%-40s %10.4g %10.4g %10.2g%s\n", c->free[j].path, c->free[j].start, f->value[j],
               f->se_sim[j], ts_calibration_at_bound(c, j) ? "  at a bound" : "");
    printf("\n%-28s %5s %8s %10s %8s %9s\n", "moment", "tick", "target", "fitted", "(se)",
           "residual");
    for (int k = 0; k < c->n_moments; k++) {
        const ts_moment *m = &c->targets->moments[k];
        printf("%-28s %5d %8.3f %10.3f %8.3f %+9.3f\n", ts_metric_name(m->metric), c->at[k],
               m->mean, f->best.sim_mean[k], f->best.sim_se[k], f->best.sim_mean[k] - m->mean);
    }
}

static int write_fitted(const ts_calibration *c, const ts_calib_report_info *info, const char *out)
{
    char *yaml = ts_calibration_fitted_yaml(c, info);
    if (!yaml) {
        fprintf(stderr, "trustsim: out of memory writing the fitted scenario\n");
        return EXIT_RUNTIME;
    }
    size_t n = strlen(out) + 6;
    char *part = malloc(n);
    int why = part ? (snprintf(part, n, "%s.part", out), ts_write_file(part, yaml, strlen(yaml)))
                   : ENOMEM;
    if (!why && rename(part, out) != 0)
        why = errno;
    if (why) {
        fprintf(stderr, "trustsim: %s: cannot write: %s\n", out, strerror(why));
        if (part)
            remove(part);
    }
    bool ok = !why;
    free(part);
    free(yaml);
    return ok ? 0 : EXIT_RUNTIME;
}

static void calibrate_args_destroy(calibrate_args *a)
{
    for (int i = 0; i < a->n_lists; i++)
        free(a->lists[i]);
    free(a->lists);
    free(a->paths);
    free(a->sets);
    free(a->command);
}

/* One option into a; 0, or the exit status of a usage error. */
static int calibrate_option(calibrate_args *a, int c, char *arg, int argc)
{
    unsigned long long v;
    switch (c) {
    case 't':
        a->targets = arg;
        return 0;
    case OPT_FREE:
        if (!(a->lists[a->n_lists] = strdup(arg)))
            return EXIT_RUNTIME;
        a->n_paths = split_paths(a->lists[a->n_lists++], a->paths, a->n_paths, argc * 64);
        return 0;
    case 'r':
        if (!parse_whole(arg, 1, 100000000ULL, &a->replicates))
            return usage_error(calibrate_usage, "--replicates expects a positive integer, got '%s'",
                               arg);
        return 0;
    case 's':
        if (!parse_whole(arg, 0, UINT64_MAX, &a->seed))
            return usage_error(calibrate_usage, "--seed expects a non-negative integer, got '%s'",
                               arg);
        a->have_seed = true;
        return 0;
    case OPT_AT:
        if (!parse_whole(arg, 0, 100000000ULL, &v))
            return usage_error(calibrate_usage, "--at expects a tick (an integer >= 0), got '%s'",
                               arg);
        a->opt.at = (int)v;
        return 0;
    case OPT_SET:
        a->sets[a->n_sets++] = arg;
        return 0;
    case 'o':
        a->out = arg;
        return 0;
    case 'f':
        a->force = true;
        return 0;
    case OPT_REPORT:
        a->report = arg;
        return 0;
    case OPT_MAX_ITER:
        if (!parse_whole(arg, 1, 1000000ULL, &v))
            return usage_error(calibrate_usage, "--max-iter expects a positive integer, got '%s'",
                               arg);
        a->opt.max_iter = (int)v;
        return 0;
    case OPT_TOL:
        if (!parse_positive(arg, &a->opt.tol))
            return usage_error(calibrate_usage, "--tol expects a positive number, got '%s'", arg);
        return 0;
    case OPT_STEP:
        if (!parse_positive(arg, &a->opt.step))
            return usage_error(calibrate_usage, "--step expects a positive number, got '%s'", arg);
        return 0;
    case OPT_RESTARTS:
        if (!parse_whole(arg, 0, 1000ULL, &v))
            return usage_error(calibrate_usage, "--restarts expects an integer >= 0, got '%s'",
                               arg);
        a->opt.restarts = (int)v;
        return 0;
    case OPT_NO_SENS:
        a->opt.sensitivity = false;
        return 0;
    case 'j':
        if (!parse_whole(arg, 1, 4096ULL, &v))
            return usage_error(calibrate_usage, "--threads expects a positive integer, got '%s'",
                               arg);
        a->opt.threads = (int)v;
        return 0;
    case 'q':
        a->quiet = true;
        return 0;
    case 'h':
        a->help = true;
        return 0;
    default:
        return usage_error(calibrate_usage, "%s", "invalid option");
    }
}

/* The command line into a (to be destroyed whatever the result); 0 when a is complete (or
 * asks for help), else the exit status. */
static int parse_calibrate_args(int argc, char **argv, calibrate_args *a)
{
    static const struct option opts[] = {
        {"targets", required_argument, NULL, 't'},
        {"free", required_argument, NULL, OPT_FREE},
        {"replicates", required_argument, NULL, 'r'},
        {"seed", required_argument, NULL, 's'},
        {"at", required_argument, NULL, OPT_AT},
        {"set", required_argument, NULL, OPT_SET},
        {"output", required_argument, NULL, 'o'},
        {"force", no_argument, NULL, 'f'},
        {"report", required_argument, NULL, OPT_REPORT},
        {"max-iter", required_argument, NULL, OPT_MAX_ITER},
        {"tol", required_argument, NULL, OPT_TOL},
        {"step", required_argument, NULL, OPT_STEP},
        {"restarts", required_argument, NULL, OPT_RESTARTS},
        {"no-sensitivity", no_argument, NULL, OPT_NO_SENS},
        {"threads", required_argument, NULL, 'j'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *a = (calibrate_args){0};
    ts_calib_options_init(&a->opt);
    a->command = command_line(argc, argv);
    a->sets = calloc((size_t)argc, sizeof *a->sets);
    a->paths = calloc((size_t)argc * 64, sizeof *a->paths);
    a->lists = calloc((size_t)argc, sizeof *a->lists);
    if (!a->command || !a->sets || !a->paths || !a->lists)
        return EXIT_RUNTIME;
    int c, rc = 0;
    while (!rc && !a->help && (c = getopt_long(argc, argv, "t:r:s:o:fj:qh", opts, NULL)) != -1)
        rc = calibrate_option(a, c, optarg, argc);
    if (rc || a->help)
        return rc;
    if (optind != argc - 1)
        return usage_error(calibrate_usage, "%s",
                           optind >= argc ? "missing SCENARIO.yaml"
                                          : "expected exactly one scenario file");
    a->scenario = argv[optind];
    if (!a->targets)
        return usage_error(calibrate_usage, "%s", "missing --targets TARGETS.yaml");
    if (a->n_paths == 0)
        return usage_error(calibrate_usage, "%s", "missing --free PATH[,PATH...]");
    return 0;
}

/* The report and the fitted scenario, as asked; the exit status. */
static int write_outputs(const ts_calibration *cal, const calibrate_args *a)
{
    ts_calib_report_info info = {.scenario_path = a->scenario,
                                 .targets_path = a->targets,
                                 .command = a->command,
                                 .sets = (const char *const *)a->sets,
                                 .n_sets = a->n_sets};
    int rc = a->out ? write_fitted(cal, &info, a->out) : 0;
    ts_error err;
    ts_status st;
    if (!rc && a->report &&
        (st = ts_calibration_write_report(cal, &info, a->report, &err)) != TS_OK) {
        fprintf(stderr, "trustsim: %s\n", err.msg);
        rc = exit_for(st);
    }
    if (!rc && (a->out || a->report))
        printf("\nwrote%s%s%s%s%s\n", a->out ? " " : "", a->out ? a->out : "", a->report ? " " : "",
               a->report ? a->report : "", a->report ? "/{report.md,fit.json}" : "");
    return rc;
}

/* Fit, print the summary and write what was asked for; the exit status. */
static int calibrate(calibrate_args *a)
{
    if (a->out && !a->force && access(a->out, F_OK) == 0) {
        fprintf(stderr, "trustsim: %s exists; use --force to replace it\n", a->out);
        return EXIT_USAGE;
    }
    ts_scenario sc;
    ts_targets tg;
    ts_calibration *cal = NULL;
    ts_error err;
    ts_status st = load_scenario(&sc, a->scenario, a->sets, a->n_sets, &err);
    if (st != TS_OK) {
        fprintf(stderr, "trustsim: %s\n", err.msg);
        return exit_for(st);
    }
    bool have_tg = (st = ts_targets_load(&tg, a->targets, &err)) == TS_OK;
    if (st == TS_OK) {
        a->opt.replicates = a->replicates ? (int)a->replicates : sc.params.replicates;
        a->opt.seed = a->have_seed ? a->seed : sc.params.seed;
        if (!a->quiet && isatty(STDERR_FILENO))
            a->opt.progress = show_progress;
        st = ts_calibration_alloc(&cal, &sc.params, &tg, (const char *const *)a->paths, a->n_paths,
                                  &a->opt, &err);
    }
    if (st == TS_OK) {
        st = ts_calibration_run(cal, &err);
        if (a->opt.progress)
            fputc('\n', stderr);
    }
    int rc = 0;
    if (st != TS_OK) {
        fprintf(stderr, "trustsim: %s\n", err.msg);
        rc = exit_for(st);
    } else {
        print_summary(cal, a->targets);
        rc = write_outputs(cal, a);
    }
    ts_calibration_free(cal);
    if (have_tg)
        ts_targets_destroy(&tg);
    ts_scenario_destroy(&sc);
    return rc;
}

int cmd_calibrate(int argc, char **argv)
{
    calibrate_args a;
    int rc = parse_calibrate_args(argc, argv, &a);
    if (!rc && a.help)
        fputs(calibrate_usage, stdout);
    else if (!rc)
        rc = calibrate(&a);
    calibrate_args_destroy(&a);
    return rc;
}
