/* `trustsim info`: what an output file holds, in a few lines a person can read: the scenario,
 * the design and its points, replicates and runs done, metrics, horizon (in ticks and in the
 * tick unit), organisations, and headline numbers of point 0 at the last tick (replicate mean
 * with the 5% and 95% quantiles over the replicates); with --verify, whether every chunk of
 * every dataset still matches its checksum. Reads through the library's reader (reader.h) and
 * scenario loader (for the resolved scenario stored in the file); changes nothing. Not an
 * analysis tool: `compare`, `sensitivity`, `export` and scripts/plot.py are. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "cli/commands.h"
#include "trustsim/compare.h"
#include "trustsim/design.h"
#include "trustsim/reader.h"
#include "trustsim/scenario.h"

static const char *const info_usage =
    "Usage: trustsim info OUT.h5 [--verify]\n"
    "\n"
    "Describe an output file: scenario, design and points, replicates and runs done, metrics,\n"
    "horizon, organisations, and for point 0 at the last tick the replicate mean and 90% band\n"
    "(5% to 95% quantiles over the replicates) of trust_interorg, faith, the stage shares and\n"
    "active_orgs.\n"
    "\n"
    "Options:\n"
    "  --verify     instead, read every chunk of every dataset and check its checksum; name\n"
    "               each damaged dataset (exit status 1 if any)\n"
    "  -h, --help   show this help\n";

/* The horizon in the largest calendar unit that reads well: years beyond two years, months
 * beyond six months, else the tick unit itself (the rule scripts/plot.py uses for its axes). */
static void horizon_text(long ticks, const char *unit, char *buf, size_t cap)
{
    const double days = strcmp(unit, "day") == 0 ? 1.0 : strcmp(unit, "month") == 0 ? 30.4375 : 7.0;
    const double span = (double)ticks * days;
    int n = snprintf(buf, cap, "%ld ticks = %ld %s%s", ticks, ticks, unit[0] ? unit : "tick",
                     ticks == 1 ? "" : "s");
    if (n < 0 || (size_t)n >= cap)
        return;
    if (span > 2 * 365.25)
        snprintf(buf + n, cap - (size_t)n, " (%.1f years)", span / 365.25);
    else if (span > 6 * 30.4375 && days < 30.0)
        snprintf(buf + n, cap - (size_t)n, " (%.1f months)", span / 30.4375);
}

/* The first line of a description, cut to fit one terminal line. */
static void first_line(const char *text, char *buf, size_t cap)
{
    size_t n = strcspn(text ? text : "", "\n");
    const size_t limit = cap < 110 ? cap - 1 : 109;
    if (n > limit) {
        snprintf(buf, cap, "%.*s...", (int)(limit - 3), text);
        return;
    }
    snprintf(buf, cap, "%.*s", (int)n, text ? text : "");
}

/* Distinct values of a column, with its smallest and largest. */
static void describe_values(const double *v, size_t n, char *buf, size_t cap)
{
    double *s = malloc((n ? n : 1) * sizeof *s);
    if (!s) {
        snprintf(buf, cap, "?");
        return;
    }
    memcpy(s, v, n * sizeof *s);
    gsl_sort(s, 1, n);
    size_t distinct = n ? 1 : 0;
    for (size_t i = 1; i < n; i++)
        distinct += s[i] != s[i - 1];
    snprintf(buf, cap, "%zu value%s from %.6g to %.6g", distinct, distinct == 1 ? "" : "s",
             n ? s[0] : NAN, n ? s[n - 1] : NAN);
    free(s);
}

static void print_design(const ts_reader *r, const ts_params *p, size_t n_points)
{
    const ts_sweep *sw = &p->sweep;
    printf("  design        %s: %zu point%s", ts_design_name(sw->design), n_points,
           n_points == 1 ? "" : "s");
    if (sw->design == TS_DESIGN_SALTELLI || sw->design == TS_DESIGN_SOBOL ||
        sw->design == TS_DESIGN_LHS)
        printf(" from n = %d base samples", sw->n);
    printf("\n");
    double *col = malloc((n_points ? n_points : 1) * sizeof *col);
    for (int k = 0; col && k < sw->n_params; k++) {
        char text[128] = "not stored";
        int c = 0;
        while (c < ts_reader_info(r)->n_params && strcmp(ts_reader_param(r, c), sw->params[k].path))
            c++;
        ts_error ignored;
        if (c < ts_reader_info(r)->n_params && ts_reader_points(r, c, col, &ignored) == TS_OK) {
            describe_values(col, n_points, text, sizeof text);
            size_t len = strlen(text);
            snprintf(text + len, sizeof text - len, "; point 0: %.6g", col[0]);
        }
        printf("    %s: %s\n", sw->params[k].path, text);
    }
    free(col);
}

/* One headline line: mean and 90% band over point 0's done replicates at the last tick. */
static void print_headline(const char *path, const char *metric)
{
    ts_compare_sample s;
    ts_error err;
    if (ts_compare_read(&s, path, metric, -1, 0, &err) != TS_OK) {
        printf("  %-16s (not stored)\n", metric);
        return;
    }
    if (s.n == 0) {
        printf("  %-16s no finite value in %zu done replicates\n", metric, s.n_done);
    } else {
        gsl_sort(s.values, 1, s.n);
        const double mean = gsl_stats_mean(s.values, 1, s.n);
        const double lo = gsl_stats_quantile_from_sorted_data(s.values, 1, s.n, 0.05);
        const double hi = gsl_stats_quantile_from_sorted_data(s.values, 1, s.n, 0.95);
        printf("  %-16s %8.3f   [%.3f, %.3f]\n", metric, mean, lo, hi);
    }
    ts_compare_sample_destroy(&s);
}

static ts_status describe(const ts_reader *r, ts_error *err)
{
    const char *path = ts_reader_path(r);
    const ts_file_info *in = ts_reader_info(r);
    char name[300];
    snprintf(name, sizeof name, "%s:/scenario/resolved", path);
    ts_scenario sc;
    ts_status st = ts_scenario_load_string(&sc, ts_reader_scenario_resolved(r), name, err);
    if (st != TS_OK)
        return st;
    const int64_t *ticks = ts_reader_ticks(r);
    const long last = (long)ticks[in->n_times - 1];
    char line[128], horizon[128];
    first_line(sc.params.description, line, sizeof line);
    horizon_text(last, in->tick_unit, horizon, sizeof horizon);
    const size_t runs = in->n_points * in->n_replicates;

    printf("%s\n", path);
    printf("  scenario      %s%s%s\n", sc.params.name, line[0] ? ": " : "", line);
    print_design(r, &sc.params, in->n_points);
    printf("  replicates    %zu per point; %zu of %zu runs done%s\n", in->n_replicates, in->n_done,
           runs, in->n_done < runs ? " (the others hold no values)" : "");
    printf("  metrics       %d (/series)\n", in->n_metrics);
    printf("  horizon       %s\n", horizon);
    printf("  organisations %zu:", in->n_orgs);
    for (size_t i = 0; i < in->n_orgs; i++)
        printf("%s %s", i ? "," : "", ts_reader_org(r, i));
    printf("\n  seed          %llu (%s); written by trustsim %s at %s\n",
           (unsigned long long)in->master_seed, in->rng_type[0] ? in->rng_type : "?",
           in->trustsim_version[0] ? in->trustsim_version : "?",
           in->created[0] ? in->created : "?");
    if (in->n_sensitivity > 0) {
        char list[512] = "";
        for (int i = 0; i < in->n_sensitivity; i++) {
            size_t len = strlen(list);
            snprintf(list + len, sizeof list - len, "%s%s", len ? ", " : "",
                     ts_reader_sensitivity(r, i));
        }
        printf("  sensitivity   %s (trustsim sensitivity; /sensitivity)\n", list);
    }
    printf("\npoint 0 at tick %ld: replicate mean and 90%% band (5%% to 95%% quantiles)\n", last);
    static const char *const headline[] = {"trust_interorg", "faith",        "stage0_share",
                                           "stage1_share",   "stage2_share", "stage3_share",
                                           "active_orgs"};
    for (size_t i = 0; i < sizeof headline / sizeof headline[0]; i++)
        print_headline(path, headline[i]);
    ts_scenario_destroy(&sc);
    return TS_OK;
}

/* ---- --verify ------------------------------------------------------------------------------ */

typedef struct verify_out {
    const char *path;
} verify_out;

static void print_finding(void *ctx, const char *dataset, const char *problem)
{
    const verify_out *v = ctx;
    printf("%s: %s: %s\n", v->path, dataset, problem);
}

/* Exit status 0 when every checksum matches, 1 when anything is damaged. */
static int verify(const char *path)
{
    verify_out v = {path};
    ts_verify_report rep;
    ts_error err;
    ts_status st = ts_reader_verify(path, print_finding, &v, &rep, &err);
    if (st != TS_OK) {
        fprintf(stderr, "trustsim: %s\n", err.msg);
        return exit_for(st);
    }
    if (rep.damaged) {
        fprintf(stderr, "trustsim: %s: damaged: %zu of %zu datasets fail their checks\n", path,
                rep.damaged, rep.datasets);
        return EXIT_RUNTIME;
    }
    printf("%s: %zu datasets, %zu chunks read: every checksum matches%s\n", path, rep.datasets,
           rep.chunks, rep.unprotected ? " (the datasets named above carry none)" : "");
    return 0;
}

int cmd_info(int argc, char **argv)
{
    enum { OPT_VERIFY = 256 };
    static const struct option opts[] = {
        {"verify", no_argument, NULL, OPT_VERIFY},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool check = false;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(info_usage, stdout);
            return 0;
        }
        if (c != OPT_VERIFY)
            return usage_error(info_usage, "%s", "invalid option");
        check = true;
    }
    if (optind != argc - 1)
        return usage_error(info_usage, "%s",
                           optind >= argc ? "missing OUT.h5" : "expected exactly one OUT.h5");
    const char *path = argv[optind];
    if (check)
        return verify(path);
    ts_error err;
    ts_reader *r;
    ts_status st = ts_reader_open(&r, path, &err);
    if (st == TS_OK) {
        st = describe(r, &err);
        ts_reader_close(r);
    }
    if (st != TS_OK)
        fprintf(stderr, "trustsim: %s\n", err.msg);
    return exit_for(st);
}
