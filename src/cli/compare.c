/* `trustsim compare`: the difference of replicate means (B minus A) of one metric at one tick
 * between two outputs, or between two sweep points of one output, with a Welch confidence
 * interval, an optional percentile bootstrap and Hedges' g.
 *
 * For: parsing the command line, calling the library (compare.h) and printing a few aligned
 * lines or one JSON object. Not for: the statistics or the file reading themselves
 * (src/analysis/compare.c) nor comparing whole time series (one tick per call). */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "trustsim/compare.h"
#include "trustsim/rng.h"
#include "util/json.h"

static const char *const compare_usage =
    "Usage: trustsim compare A.h5 [B.h5] --metric NAME [OPTIONS]\n"
    "\n"
    "Difference of the replicate means of /series/NAME at one tick, B minus A, with a 95%\n"
    "confidence interval (Welch's t, Welch-Satterthwaite degrees of freedom) and Hedges' g\n"
    "(standardised by the pooled standard deviation, small-sample corrected). Only replicates\n"
    "marked done whose value is finite count. Without B.h5, compares two sweep points of A.h5\n"
    "(--point-a and --point-b).\n"
    "\n"
    "Options:\n"
    "  -m, --metric NAME      metric to compare, e.g. trust_interorg (required)\n"
    "  -t, --at TICK          tick to compare at (default: the last tick, which must then be\n"
    "                         the same in both files)\n"
    "      --point-a I        sweep point of A (default 0)\n"
    "      --point-b J        sweep point of B (default 0; required without B.h5)\n"
    "  -b, --bootstrap N      add a percentile bootstrap interval from N resamples (at least\n"
    "                         100), seeded from the files' master seeds: reproducible\n"
    "      --json             print one JSON object instead of text\n"
    "  -h, --help             show this help\n"
    "\n"
    "Exit status: 0 success, 1 runtime failure, 2 bad usage or bad input (missing file, no such\n"
    "metric, tick or point out of range, fewer than 2 usable replicates on a side).\n";

enum { OPT_POINT_A = 1000, OPT_POINT_B, OPT_JSON };

typedef struct compare_args {
    const char *file_a, *file_b; /* file_b is file_a when comparing two points of one file */
    const char *metric;
    long tick; /* -1: the last */
    unsigned long long point_a, point_b, bootstrap;
    bool json;
} compare_args;

static bool parse_count(const char *s, unsigned long long *v)
{
    char *end;
    if (!*s || *s == '-' || *s == '+')
        return false;
    *v = strtoull(s, &end, 10);
    return *end == '\0';
}

/* 0 when args is complete, else the exit status to return (after printing). */
static int parse_args(int argc, char **argv, compare_args *a)
{
    static const struct option opts[] = {
        {"metric", required_argument, NULL, 'm'},
        {"at", required_argument, NULL, 't'},
        {"point-a", required_argument, NULL, OPT_POINT_A},
        {"point-b", required_argument, NULL, OPT_POINT_B},
        {"bootstrap", required_argument, NULL, 'b'},
        {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool have_point_b = false;
    unsigned long long v;
    int c;
    *a = (compare_args){.tick = -1};
    while ((c = getopt_long(argc, argv, "m:t:b:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            a->metric = optarg;
            break;
        case 't':
            if (!parse_count(optarg, &v) || v > 1000000000ULL)
                return usage_error(compare_usage,
                                   "--at expects a tick (a non-negative integer), "
                                   "got '%s'",
                                   optarg);
            a->tick = (long)v;
            break;
        case OPT_POINT_A:
        case OPT_POINT_B:
            if (!parse_count(optarg, &v) || v > 1000000000000ULL)
                return usage_error(
                    compare_usage,
                    "--point-a and --point-b expect a non-negative integer, got '%s'", optarg);
            if (c == OPT_POINT_A) {
                a->point_a = v;
            } else {
                a->point_b = v;
                have_point_b = true;
            }
            break;
        case 'b':
            if (!parse_count(optarg, &a->bootstrap) || a->bootstrap < 100 ||
                a->bootstrap > 100000000ULL)
                return usage_error(compare_usage,
                                   "--bootstrap expects a number of resamples from 100 to 10^8, "
                                   "got '%s'",
                                   optarg);
            break;
        case OPT_JSON:
            a->json = true;
            break;
        case 'h':
            fputs(compare_usage, stdout);
            return -1;
        default:
            return usage_error(compare_usage, "%s", "invalid option");
        }
    }
    int n_files = argc - optind;
    if (n_files < 1 || n_files > 2)
        return usage_error(compare_usage, "%s",
                           n_files < 1 ? "missing A.h5" : "expected at most two files, A.h5 B.h5");
    if (!a->metric)
        return usage_error(compare_usage, "%s", "missing --metric NAME");
    a->file_a = argv[optind];
    a->file_b = n_files == 2 ? argv[optind + 1] : a->file_a;
    if (n_files == 1 && !have_point_b)
        return usage_error(compare_usage, "%s",
                           "give B.h5, or --point-b J to compare two sweep points of A.h5");
    if (n_files == 1 && a->point_a == a->point_b)
        return usage_error(compare_usage, "--point-a and --point-b are both %s: nothing to compare",
                           a->point_a == 0 ? "0" : "the same point");
    return 0;
}

/* ---- output ------------------------------------------------------------------------------ */

static void json_number(ts_strbuf *b, double x)
{
    ts_json_number(b, x, TS_JSON_EXACT); /* exact to the last bit */
}

static void json_side(ts_strbuf *b, const char *file, unsigned long long point,
                      const ts_compare_sample *s, double mean, double sd)
{
    ts_strbuf_printf(b, "{\"file\": ");
    ts_json_string(b, file);
    ts_strbuf_printf(b, ", \"point\": %llu, \"point_values\": ", point);
    ts_json_string(b, s->point_label);
    ts_strbuf_printf(b, ", \"n\": %zu, \"n_done\": %zu, \"n_replicates\": %zu, ", s->n, s->n_done,
                     s->n_replicates);
    ts_strbuf_printf(b, "\"n_not_finite\": %zu, \"master_seed\": %" PRIu64 ", \"mean\": ",
                     s->n_not_finite, s->master_seed);
    json_number(b, mean);
    ts_strbuf_printf(b, ", \"sd\": ");
    json_number(b, sd);
    ts_strbuf_printf(b, "}");
}

/* One JSON object on f; false when out of memory. */
static bool print_json(FILE *f, const compare_args *a, const ts_compare_sample *sa,
                       const ts_compare_sample *sb, const ts_compare_stats *st, bool have_boot,
                       uint64_t boot_seed, double boot_low, double boot_high)
{
    ts_strbuf b = {0};
    ts_strbuf_printf(&b, "{\"metric\": ");
    ts_json_string(&b, a->metric);
    ts_strbuf_printf(&b, ", \"tick\": %ld, \"tick_unit\": ", sa->tick);
    ts_json_string(&b, sa->tick_unit);
    ts_strbuf_printf(&b, ", \"difference_of\": \"B - A\", \"a\": ");
    json_side(&b, a->file_a, a->point_a, sa, st->mean_a, st->sd_a);
    ts_strbuf_printf(&b, ", \"b\": ");
    json_side(&b, a->file_b, a->point_b, sb, st->mean_b, st->sd_b);
    ts_strbuf_printf(&b, ", \"difference\": ");
    json_number(&b, st->diff);
    ts_strbuf_printf(&b, ", \"se\": ");
    json_number(&b, st->se);
    ts_strbuf_printf(&b, ", \"df\": ");
    json_number(&b, st->df);
    ts_strbuf_printf(&b, ", \"level\": %g, \"welch_ci\": [", st->level);
    json_number(&b, st->ci_low);
    ts_strbuf_printf(&b, ", ");
    json_number(&b, st->ci_high);
    ts_strbuf_printf(&b, "], \"bootstrap\": ");
    if (have_boot) {
        ts_strbuf_printf(&b, "{\"resamples\": %llu, \"seed\": %" PRIu64 ", \"ci\": [", a->bootstrap,
                         boot_seed);
        json_number(&b, boot_low);
        ts_strbuf_printf(&b, ", ");
        json_number(&b, boot_high);
        ts_strbuf_printf(&b, "]}");
    } else {
        ts_strbuf_printf(&b, "null");
    }
    ts_strbuf_printf(&b, ", \"cohens_d\": ");
    json_number(&b, st->cohens_d);
    ts_strbuf_printf(&b, ", \"hedges_g\": ");
    json_number(&b, st->hedges_g);
    ts_strbuf_printf(&b, "}\n");
    char *text = ts_strbuf_take(&b);
    if (text)
        fputs(text, f);
    free(text);
    return text != NULL;
}

static void text_side(FILE *f, const char *label, const char *file, unsigned long long point,
                      const ts_compare_sample *s, double mean, double sd)
{
    fprintf(f, "%-22s %s, point %llu%s%s%s\n", label, file, point, s->point_label[0] ? " (" : "",
            s->point_label, s->point_label[0] ? ")" : "");
    fprintf(f, "%-22s mean %.6g, sd %.6g, n %zu (%zu of %zu replicates done, %zu not finite)\n", "",
            mean, sd, s->n, s->n_done, s->n_replicates, s->n_not_finite);
}

static void print_text(FILE *f, const compare_args *a, const ts_compare_sample *sa,
                       const ts_compare_sample *sb, const ts_compare_stats *st, bool have_boot,
                       uint64_t boot_seed, double boot_low, double boot_high)
{
    const int pct = (int)lround(st->level * 100.0);
    char label[32];
    fprintf(f, "%-22s %s at tick %ld%s%s%s\n", "metric", a->metric, sa->tick,
            sa->tick_unit[0] ? " (" : "", sa->tick_unit, sa->tick_unit[0] ? ")" : "");
    text_side(f, "A", a->file_a, a->point_a, sa, st->mean_a, st->sd_a);
    text_side(f, "B", a->file_b, a->point_b, sb, st->mean_b, st->sd_b);
    fprintf(f, "%-22s %.6g\n", "difference, B - A", st->diff);
    snprintf(label, sizeof label, "%d%% CI, Welch t", pct);
    if (isfinite(st->df))
        fprintf(f, "%-22s [%.6g, %.6g]  (se %.4g, df %.1f)\n", label, st->ci_low, st->ci_high,
                st->se, st->df);
    else
        fprintf(f, "%-22s [%.6g, %.6g]  (no spread in either sample)\n", label, st->ci_low,
                st->ci_high);
    snprintf(label, sizeof label, "%d%% CI, bootstrap", pct);
    if (have_boot)
        fprintf(f, "%-22s [%.6g, %.6g]  (percentile, %llu resamples, seed %" PRIu64 ")\n", label,
                boot_low, boot_high, a->bootstrap, boot_seed);
    if (isfinite(st->hedges_g))
        fprintf(f, "%-22s %.4g  (Cohen's d %.4g, small-sample corrected)\n", "Hedges' g",
                st->hedges_g, st->cohens_d);
    else
        fprintf(f, "%-22s undefined: no spread to standardise by\n", "Hedges' g");
}

/* ---- the command ------------------------------------------------------------------------- */

/* "FILE point I: only n replicates of METRIC at tick T are done and finite" when n < 2. */
static bool enough(const char *file, unsigned long long point, const char *metric,
                   const ts_compare_sample *s)
{
    if (s->n >= 2)
        return true;
    fprintf(stderr,
            "trustsim: %s, point %llu: only %zu replicate%s of '%s' at tick %ld %s done and "
            "finite (%zu done of %zu, %zu not finite); at least 2 are needed\n",
            file, point, s->n, s->n == 1 ? "" : "s", metric, s->tick, s->n == 1 ? "is" : "are",
            s->n_done, s->n_replicates, s->n_not_finite);
    return false;
}

int cmd_compare(int argc, char **argv)
{
    compare_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    ts_compare_sample sa, sb;
    ts_error err;
    ts_status st = ts_compare_read(&sa, a.file_a, a.metric, a.tick, (size_t)a.point_a, &err);
    if (st != TS_OK) {
        fprintf(stderr, "trustsim: %s\n", err.msg);
        return exit_for(st);
    }
    st =
        ts_compare_read(&sb, a.file_b, a.metric, a.tick < 0 ? -1 : a.tick, (size_t)a.point_b, &err);
    if (st != TS_OK) {
        fprintf(stderr, "trustsim: %s\n", err.msg);
        ts_compare_sample_destroy(&sa);
        return exit_for(st);
    }
    rc = 0;
    if (a.tick < 0 && sa.tick != sb.tick) {
        fprintf(stderr,
                "trustsim: %s ends at tick %ld but %s at tick %ld: give --at TICK to say which "
                "tick to compare\n",
                a.file_a, sa.tick, a.file_b, sb.tick);
        rc = EXIT_USAGE;
    } else if (!enough(a.file_a, a.point_a, a.metric, &sa) ||
               !enough(a.file_b, a.point_b, a.metric, &sb)) {
        rc = EXIT_USAGE;
    }
    ts_compare_stats stats;
    if (rc == 0 &&
        (st = ts_compare_welch(sa.values, sa.n, sb.values, sb.n, 0.95, &stats, &err)) != TS_OK) {
        fprintf(stderr, "trustsim: %s\n", err.msg);
        rc = exit_for(st);
    }
    double boot_low = NAN, boot_high = NAN;
    /* the bootstrap's stream: both files' master seeds and the two points, through the
     * documented seed hash (rng.h), so the same comparison always draws the same resamples */
    const uint64_t boot_seed =
        ts_seed_hash(sa.master_seed, sb.master_seed, (a.point_a << 32) ^ a.point_b);
    if (rc == 0 && a.bootstrap &&
        (st = ts_compare_bootstrap(sa.values, sa.n, sb.values, sb.n, (size_t)a.bootstrap, 0.95,
                                   boot_seed, &boot_low, &boot_high, &err)) != TS_OK) {
        fprintf(stderr, "trustsim: %s\n", err.msg);
        rc = exit_for(st);
    }
    if (rc == 0 && a.json &&
        !print_json(stdout, &a, &sa, &sb, &stats, a.bootstrap > 0, boot_seed, boot_low,
                    boot_high)) {
        fprintf(stderr, "trustsim: out of memory\n");
        rc = EXIT_RUNTIME;
    } else if (rc == 0 && !a.json)
        print_text(stdout, &a, &sa, &sb, &stats, a.bootstrap > 0, boot_seed, boot_low, boot_high);
    ts_compare_sample_destroy(&sa);
    ts_compare_sample_destroy(&sb);
    return rc;
}
