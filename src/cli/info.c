/* `trustsim info`: what an output file holds, in a few lines a person can read: the scenario,
 * the design and its points, replicates and runs done, metrics, horizon (in ticks and in the
 * tick unit), organisations, and headline numbers of point 0 at the last tick (replicate mean
 * with the 5% and 95% quantiles over the replicates). Reads with the HDF5 C API and the
 * library's scenario loader (for the resolved scenario stored in the file); changes nothing.
 * Not an analysis tool: `compare`, `sensitivity`, `export` and scripts/plot.py are. */
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

/* CMakeLists.txt gives the command no HDF5 include directory of its own; fall back to Debian's
 * location of the serial library's headers when the compiler does not find them. */
#include <hdf5.h>

#include "io/h5util.h"

#include "cli/commands.h"
#include "trustsim/compare.h"
#include "trustsim/design.h"
#include "trustsim/scenario.h"

static const char *const info_usage =
    "Usage: trustsim info OUT.h5\n"
    "\n"
    "Describe an output file: scenario, design and points, replicates and runs done, metrics,\n"
    "horizon, organisations, and for point 0 at the last tick the replicate mean and 90% band\n"
    "(5% to 95% quantiles over the replicates) of trust_interorg, faith, the stage shares and\n"
    "active_orgs.\n"
    "\n"
    "Options:\n"
    "  -h, --help   show this help\n";

static bool exists(hid_t loc, const char *name)
{
    return H5Lexists(loc, name, H5P_DEFAULT) > 0;
}

/* A string attribute of the root into buf ("" when absent). */
static void string_attr(hid_t file, const char *name, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (H5Aexists(file, name) <= 0)
        return;
    hid_t a = H5Aopen(file, name, H5P_DEFAULT), t = H5Tcopy(H5T_C_S1);
    char *s = NULL;
    if (a >= 0 && t >= 0 && H5Tset_size(t, H5T_VARIABLE) >= 0 &&
        H5Tset_cset(t, H5T_CSET_UTF8) >= 0 && H5Aread(a, t, &s) >= 0 && s) {
        snprintf(buf, cap, "%s", s);
        H5free_memory(s);
    }
    if (t >= 0)
        H5Tclose(t);
    if (a >= 0)
        H5Aclose(a);
}

static uint64_t u64_attr(hid_t file, const char *name)
{
    uint64_t v = 0;
    hid_t a = H5Aexists(file, name) > 0 ? H5Aopen(file, name, H5P_DEFAULT) : H5I_INVALID_HID;
    if (a >= 0 && H5Aread(a, H5T_NATIVE_UINT64, &v) < 0)
        v = 0;
    if (a >= 0)
        H5Aclose(a);
    return v;
}

/* Variable-length strings: a scalar (n == 0) into out[0], or n of them; free with
 * H5free_memory each. */
static bool read_strings(hid_t file, const char *name, char **out)
{
    hid_t d = exists(file, name) ? H5Dopen2(file, name, H5P_DEFAULT) : H5I_INVALID_HID;
    hid_t t = H5Tcopy(H5T_C_S1);
    bool ok = d >= 0 && t >= 0 && H5Tset_size(t, H5T_VARIABLE) >= 0 &&
              H5Tset_cset(t, H5T_CSET_UTF8) >= 0 &&
              H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) >= 0;
    if (t >= 0)
        H5Tclose(t);
    if (d >= 0)
        H5Dclose(d);
    return ok;
}

static hssize_t n_elements(hid_t file, const char *name)
{
    hid_t d = exists(file, name) ? H5Dopen2(file, name, H5P_DEFAULT) : H5I_INVALID_HID;
    hid_t sp = d >= 0 ? H5Dget_space(d) : H5I_INVALID_HID;
    hssize_t n = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    if (sp >= 0)
        H5Sclose(sp);
    if (d >= 0)
        H5Dclose(d);
    return n;
}

/* Counts the rank-3 datasets of /series. */
static herr_t count_metric(hid_t group, const char *name, const H5L_info_t *info, void *data)
{
    (void)info;
    hid_t d = H5Oexists_by_name(group, name, H5P_DEFAULT) > 0 ? H5Dopen2(group, name, H5P_DEFAULT)
                                                              : H5I_INVALID_HID;
    hid_t sp = d >= 0 ? H5Dget_space(d) : H5I_INVALID_HID;
    if (sp >= 0 && H5Sget_simple_extent_ndims(sp) == 3)
        ++*(int *)data;
    if (sp >= 0)
        H5Sclose(sp);
    if (d >= 0)
        H5Dclose(d);
    return 0;
}

/* Appends each link name of a group to a ", "-separated list. */
static herr_t list_name(hid_t group, const char *name, const H5L_info_t *info, void *data)
{
    (void)group;
    (void)info;
    char *list = data;
    size_t len = strlen(list);
    snprintf(list + len, 512 - len, "%s%s", len ? ", " : "", name);
    return 0;
}

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

static void print_design(hid_t file, const ts_params *p, size_t n_points)
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
        char name[300], text[128] = "not stored";
        snprintf(name, sizeof name, "/points/%s", sw->params[k].path);
        hid_t d = exists(file, "/points") && exists(file, name) ? H5Dopen2(file, name, H5P_DEFAULT)
                                                                : H5I_INVALID_HID;
        if (d >= 0 && n_elements(file, name) == (hssize_t)n_points &&
            H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, col) >= 0) {
            describe_values(col, n_points, text, sizeof text);
            size_t len = strlen(text);
            snprintf(text + len, sizeof text - len, "; point 0: %.6g", col[0]);
        }
        if (d >= 0)
            H5Dclose(d);
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

static ts_status describe(hid_t file, const char *path, ts_error *err)
{
    hsize_t n_points = 0, n_reps = 0;
    hssize_t n_done_cells = n_elements(file, "/done"), n_times = n_elements(file, "/time");
    hssize_t n_orgs = n_elements(file, "/organisation");
    char *resolved = NULL;
    if (n_done_cells < 0 || n_times < 1 || n_orgs < 0 || !exists(file, "/series") ||
        !read_strings(file, "/scenario/resolved", &resolved))
        return ts_error_set(err, TS_EINPUT,
                            "%s: not a trustsim output (no /done, /time, "
                            "/organisation, /series or /scenario/resolved)",
                            path);
    char name[300];
    snprintf(name, sizeof name, "%s:/scenario/resolved", path);
    ts_scenario sc;
    ts_status st = ts_scenario_load_string(&sc, resolved, name, err);
    H5free_memory(resolved);
    if (st != TS_OK)
        return st;
    n_points = u64_attr(file, "n_points");
    n_reps = u64_attr(file, "n_replicates");

    uint8_t *done = malloc((size_t)n_done_cells + 1);
    int64_t *ticks = malloc((size_t)n_times * sizeof *ticks);
    char **orgs = calloc((size_t)n_orgs + 1, sizeof *orgs);
    hid_t dd = H5Dopen2(file, "/done", H5P_DEFAULT), dt = H5Dopen2(file, "/time", H5P_DEFAULT);
    bool ok = done && ticks && orgs && dd >= 0 && dt >= 0 &&
              H5Dread(dd, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, done) >= 0 &&
              H5Dread(dt, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, ticks) >= 0 &&
              read_strings(file, "/organisation", orgs);
    if (dd >= 0)
        H5Dclose(dd);
    if (dt >= 0)
        H5Dclose(dt);
    if (!ok)
        st = ts_error_set(err, TS_ERUNTIME, "%s: cannot read /done, /time or /organisation", path);

    if (st == TS_OK) {
        size_t n_done = 0;
        for (hssize_t i = 0; i < n_done_cells; i++)
            n_done += done[i] == 1;
        int n_metrics = 0;
        hid_t g = H5Gopen2(file, "/series", H5P_DEFAULT);
        if (g >= 0) {
            H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, NULL, count_metric, &n_metrics);
            H5Gclose(g);
        }
        char unit[32], version[64], created[64], rng[64], line[128], horizon[128];
        string_attr(file, "tick_unit", unit, sizeof unit);
        string_attr(file, "trustsim_version", version, sizeof version);
        string_attr(file, "created", created, sizeof created);
        string_attr(file, "rng_type", rng, sizeof rng);
        first_line(sc.params.description, line, sizeof line);
        horizon_text((long)ticks[n_times - 1], unit, horizon, sizeof horizon);

        printf("%s\n", path);
        printf("  scenario      %s%s%s\n", sc.params.name, line[0] ? ": " : "", line);
        print_design(file, &sc.params, (size_t)n_points);
        printf("  replicates    %llu per point; %zu of %llu runs done%s\n",
               (unsigned long long)n_reps, n_done, (unsigned long long)(n_points * n_reps),
               n_done < n_points * n_reps ? " (the others hold no values)" : "");
        printf("  metrics       %d (/series)\n", n_metrics);
        printf("  horizon       %s\n", horizon);
        printf("  organisations %lld:", (long long)n_orgs);
        for (hssize_t i = 0; i < n_orgs; i++)
            printf("%s %s", i ? "," : "", orgs[i] ? orgs[i] : "?");
        printf("\n  seed          %llu (%s); written by trustsim %s at %s\n",
               (unsigned long long)u64_attr(file, "master_seed"), rng[0] ? rng : "?",
               version[0] ? version : "?", created[0] ? created : "?");
        if (exists(file, "/sensitivity")) {
            char list[512] = "";
            g = H5Gopen2(file, "/sensitivity", H5P_DEFAULT);
            if (g >= 0) {
                H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, NULL, list_name, list);
                H5Gclose(g);
            }
            printf("  sensitivity   %s (trustsim sensitivity; /sensitivity)\n", list);
        }
    }
    for (hssize_t i = 0; orgs && i < n_orgs; i++)
        if (orgs[i])
            H5free_memory(orgs[i]);
    free(orgs);
    free(done);
    if (st == TS_OK) {
        printf("\npoint 0 at tick %lld: replicate mean and 90%% band (5%% to 95%% quantiles)\n",
               (long long)ticks[n_times - 1]);
        static const char *const headline[] = {"trust_interorg", "faith",        "stage0_share",
                                               "stage1_share",   "stage2_share", "stage3_share",
                                               "active_orgs"};
        for (size_t i = 0; i < sizeof headline / sizeof headline[0]; i++)
            print_headline(path, headline[i]);
    }
    free(ticks);
    ts_scenario_destroy(&sc);
    return st;
}

int cmd_info(int argc, char **argv)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(info_usage, stdout);
            return 0;
        }
        return usage_error(info_usage, "%s", "invalid option");
    }
    if (optind != argc - 1)
        return usage_error(info_usage, "%s",
                           optind >= argc ? "missing OUT.h5" : "expected exactly one OUT.h5");
    const char *path = argv[optind];
    ts_error err;
    ts_status st = TS_OK;
    ts_h5_quiet quiet = ts_h5_quiet_begin(); /* errors are reported as messages below */
    hid_t file;
    st = ts_h5_open(path, false, &file, &err);
    if (st == TS_OK)
        st = describe(file, path, &err);
    if (file >= 0)
        H5Fclose(file);
    ts_h5_quiet_end(quiet);
    if (st != TS_OK)
        fprintf(stderr, "trustsim: %s\n", err.msg);
    return exit_for(st);
}
