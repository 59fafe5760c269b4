/* `trustsim calibrate`: fit free parameters of a scenario to target moments (calibrate.h) and
 * write the fitted scenario and a report. Parses the command line, prints the summary and turns
 * statuses into exit codes; the fitting itself is in the library. */
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "trustsim/calibrate.h"
#include "trustsim/metrics.h"
#include "trustsim/scenario.h"

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

static bool parse_int(const char *s, long lo, long hi, long *v)
{
    char *end;
    if (!*s)
        return false;
    long x = strtol(s, &end, 10);
    if (*end || x < lo || x > hi)
        return false;
    *v = x;
    return true;
}

static bool parse_positive(const char *s, double *v)
{
    char *end;
    double x = strtod(s, &end);
    if (end == s || *end || !isfinite(x) || !(x > 0))
        return false;
    *v = x;
    return true;
}

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
    FILE *f = part ? (snprintf(part, n, "%s.part", out), fopen(part, "w")) : NULL;
    bool ok = f && fputs(yaml, f) >= 0;
    ok = (f && fclose(f) == 0) && ok;
    ok = ok && rename(part, out) == 0;
    if (!ok) {
        fprintf(stderr, "trustsim: %s: cannot write\n", out);
        if (part)
            remove(part);
    }
    free(part);
    free(yaml);
    return ok ? 0 : EXIT_RUNTIME;
}

int cmd_calibrate(int argc, char **argv)
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
    char *command = command_line(argc, argv);
    char **sets = calloc((size_t)argc, sizeof *sets);
    char **paths = calloc((size_t)argc * 64, sizeof *paths);
    char **lists = calloc((size_t)argc, sizeof *lists); /* strdup'd --free arguments */
    int n_sets = 0, n_paths = 0, n_lists = 0, c, rc = 0;
    const char *targets_path = NULL, *out = NULL, *report = NULL;
    bool force = false, quiet = false, have_seed = false;
    long reps = 0, at = -1, v;
    unsigned long long seed = 0;
    ts_calib_options opt;
    ts_calib_options_init(&opt);
    ts_scenario sc = {0};
    ts_targets tg = {0};
    ts_calibration *cal = NULL;
    bool have_sc = false, have_tg = false;
    if (!command || !sets || !paths || !lists) {
        rc = EXIT_RUNTIME;
        goto done;
    }
    while ((c = getopt_long(argc, argv, "t:r:s:o:fj:qh", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            targets_path = optarg;
            break;
        case OPT_FREE:
            if (!(lists[n_lists] = strdup(optarg))) {
                rc = EXIT_RUNTIME;
                goto done;
            }
            n_paths = split_paths(lists[n_lists++], paths, n_paths, argc * 64);
            break;
        case 'r':
            if (!parse_int(optarg, 1, 100000000L, &reps)) {
                rc = usage_error(calibrate_usage,
                                 "--replicates expects a positive integer, got '%s'", optarg);
                goto done;
            }
            break;
        case 's': {
            char *end;
            if (!*optarg || *optarg == '-' || (seed = strtoull(optarg, &end, 10), *end)) {
                rc = usage_error(calibrate_usage, "--seed expects a non-negative integer, got '%s'",
                                 optarg);
                goto done;
            }
            have_seed = true;
            break;
        }
        case OPT_AT:
            if (!parse_int(optarg, 0, 100000000L, &at)) {
                rc = usage_error(calibrate_usage, "--at expects a tick (an integer >= 0), got '%s'",
                                 optarg);
                goto done;
            }
            break;
        case OPT_SET:
            sets[n_sets++] = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'f':
            force = true;
            break;
        case OPT_REPORT:
            report = optarg;
            break;
        case OPT_MAX_ITER:
            if (!parse_int(optarg, 1, 1000000L, &v)) {
                rc = usage_error(calibrate_usage, "--max-iter expects a positive integer, got '%s'",
                                 optarg);
                goto done;
            }
            opt.max_iter = (int)v;
            break;
        case OPT_TOL:
            if (!parse_positive(optarg, &opt.tol)) {
                rc = usage_error(calibrate_usage, "--tol expects a positive number, got '%s'",
                                 optarg);
                goto done;
            }
            break;
        case OPT_STEP:
            if (!parse_positive(optarg, &opt.step)) {
                rc = usage_error(calibrate_usage, "--step expects a positive number, got '%s'",
                                 optarg);
                goto done;
            }
            break;
        case OPT_RESTARTS:
            if (!parse_int(optarg, 0, 1000L, &v)) {
                rc = usage_error(calibrate_usage, "--restarts expects an integer >= 0, got '%s'",
                                 optarg);
                goto done;
            }
            opt.restarts = (int)v;
            break;
        case OPT_NO_SENS:
            opt.sensitivity = false;
            break;
        case 'j':
            if (!parse_int(optarg, 1, 4096L, &v)) {
                rc = usage_error(calibrate_usage, "--threads expects a positive integer, got '%s'",
                                 optarg);
                goto done;
            }
            opt.threads = (int)v;
            break;
        case 'q':
            quiet = true;
            break;
        case 'h':
            fputs(calibrate_usage, stdout);
            goto done;
        default:
            rc = usage_error(calibrate_usage, "%s", "invalid option");
            goto done;
        }
    }
    if (optind != argc - 1) {
        rc = usage_error(calibrate_usage, "%s",
                         optind >= argc ? "missing SCENARIO.yaml"
                                        : "expected exactly one scenario file");
        goto done;
    }
    if (!targets_path) {
        rc = usage_error(calibrate_usage, "%s", "missing --targets TARGETS.yaml");
        goto done;
    }
    if (n_paths == 0) {
        rc = usage_error(calibrate_usage, "%s", "missing --free PATH[,PATH...]");
        goto done;
    }
    if (out && !force && access(out, F_OK) == 0) {
        fprintf(stderr, "trustsim: %s exists; use --force to replace it\n", out);
        rc = EXIT_USAGE;
        goto done;
    }
    ts_error err;
    ts_status st = ts_scenario_load(&sc, argv[optind], &err);
    have_sc = st == TS_OK;
    for (int i = 0; st == TS_OK && i < n_sets; i++)
        st = ts_scenario_set(&sc, sets[i], &err);
    if (st == TS_OK)
        have_tg = (st = ts_targets_load(&tg, targets_path, &err)) == TS_OK;
    if (st == TS_OK) {
        opt.replicates = reps ? (int)reps : sc.params.replicates;
        opt.seed = have_seed ? seed : sc.params.seed;
        opt.at = (int)at;
        if (!quiet && isatty(STDERR_FILENO))
            opt.progress = show_progress;
        st = ts_calibration_alloc(&cal, &sc.params, &tg, (const char *const *)paths, n_paths, &opt,
                                  &err);
    }
    if (st == TS_OK) {
        st = ts_calibration_run(cal, &err);
        if (opt.progress)
            fputc('\n', stderr);
    }
    if (st != TS_OK) {
        fprintf(stderr, "trustsim: %s\n", err.msg);
        rc = exit_for(st);
        goto done;
    }
    print_summary(cal, targets_path);
    ts_calib_report_info info = {.scenario_path = argv[optind],
                                 .targets_path = targets_path,
                                 .command = command,
                                 .sets = (const char *const *)sets,
                                 .n_sets = n_sets};
    if (out && (rc = write_fitted(cal, &info, out)) != 0)
        goto done;
    if (report && (st = ts_calibration_write_report(cal, &info, report, &err)) != TS_OK) {
        fprintf(stderr, "trustsim: %s\n", err.msg);
        rc = exit_for(st);
        goto done;
    }
    if (out || report)
        printf("\nwrote%s%s%s%s%s\n", out ? " " : "", out ? out : "", report ? " " : "",
               report ? report : "", report ? "/{report.md,fit.json}" : "");
done:
    ts_calibration_free(cal);
    if (have_tg)
        ts_targets_destroy(&tg);
    if (have_sc)
        ts_scenario_destroy(&sc);
    for (int i = 0; i < n_lists; i++)
        free(lists[i]);
    free(lists);
    free(paths);
    free(sets);
    free(command);
    return rc;
}
