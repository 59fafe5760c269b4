/* `trustsim sensitivity`: first-order and total Sobol indices of each swept parameter of a
 * saltelli sweep, printed as a table and stored in the output file under /sensitivity/<metric>
 * (the one command that changes an output after its run). The estimators and the file access
 * live in the library (trustsim/sensitivity.h); this file parses options and prints. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "trustsim/sensitivity.h"

static const char *const sensitivity_usage =
    "Usage: trustsim sensitivity OUT.h5 --metric NAME [--at TICK] [--bootstrap B]\n"
    "\n"
    "First-order and total Sobol indices of every swept parameter of a saltelli sweep (a\n"
    "scenario with `sweep: {design: saltelli, n: N, parameters: ...}`). The output of a point\n"
    "is the mean of the metric over its replicates at the tick; first-order indices use the\n"
    "Saltelli (2010) estimator, total indices Jansen's, with 95% percentile bootstrap\n"
    "intervals over the N base samples (seeded from the file's master seed). Prints a table\n"
    "and stores it in OUT.h5 under /sensitivity/NAME (replacing an earlier analysis of NAME).\n"
    "\n"
    "Options:\n"
    "  -m, --metric NAME     metric of /series, e.g. trust_interorg (required)\n"
    "  -t, --at TICK         tick to analyse (default: the last)\n"
    "  -b, --bootstrap B     bootstrap resamples (default 1000; 0: no intervals)\n"
    "  -h, --help            show this help\n";

static int parse_long(const char *s, long lo, long hi, long *v)
{
    char *end;
    if (!*s)
        return 0;
    long x = strtol(s, &end, 10);
    if (*end || x < lo || x > hi)
        return 0;
    *v = x;
    return 1;
}

static int name_width(const ts_sensitivity_input *in)
{
    int w = (int)strlen("parameter");
    for (int i = 0; i < in->k; i++) {
        int len = (int)strlen(in->names[i]);
        w = len > w ? len : w;
    }
    return w;
}

static void print_table(const char *path, const char *metric, const ts_sensitivity_input *in,
                        const ts_sobol_options *opt, const ts_sobol_index *idx, int n_used)
{
    printf("%s: Sobol indices of %s at tick %ld (saltelli design, N = %d, %d parameters)\n", path,
           metric, in->tick, in->n, in->k);
    printf("output of a point: mean of %s over its done replicates (%zu runs done of %zu)\n",
           metric, in->runs_done, in->n_replicates * (size_t)in->n * (size_t)(in->k + 2));
    if (opt->bootstrap > 0)
        printf("intervals: %.0f%% percentile bootstrap, %d resamples of the %d usable base "
               "samples\n",
               100.0 * opt->level, opt->bootstrap, n_used);
    else
        printf("intervals: none (--bootstrap 0); %d usable base samples\n", n_used);
    const int w = name_width(in);
    printf("\n%-*s  %7s  %-18s  %7s  %s\n", w, "parameter", "first", "interval", "total",
           opt->bootstrap > 0 ? "interval" : "");
    for (int i = 0; i < in->k; i++) {
        const ts_sobol_index *x = &idx[i];
        char fi[64], ti[64];
        snprintf(fi, sizeof fi, "[%.3f, %.3f]", x->first_lo, x->first_hi);
        snprintf(ti, sizeof ti, "[%.3f, %.3f]", x->total_lo, x->total_hi);
        printf("%-*s  %7.3f  %-18s  %7.3f  %s\n", w, in->names[i], x->first,
               opt->bootstrap > 0 ? fi : "", x->total, opt->bootstrap > 0 ? ti : "");
    }
}

int cmd_sensitivity(int argc, char **argv)
{
    static const struct option opts[] = {
        {"metric", required_argument, NULL, 'm'},
        {"at", required_argument, NULL, 't'},
        {"bootstrap", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *metric = NULL;
    long tick = -1, boot = 1000;
    int c;
    while ((c = getopt_long(argc, argv, "m:t:b:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            metric = optarg;
            break;
        case 't':
            if (!parse_long(optarg, 0, 1000000000L, &tick))
                return usage_error(sensitivity_usage, "--at expects a non-negative tick, got '%s'",
                                   optarg);
            break;
        case 'b':
            if (!parse_long(optarg, 0, 100000L, &boot))
                return usage_error(sensitivity_usage,
                                   "--bootstrap expects an integer from 0 to 100000, got '%s'",
                                   optarg);
            break;
        case 'h':
            fputs(sensitivity_usage, stdout);
            return 0;
        default:
            return usage_error(sensitivity_usage, "%s", "invalid option");
        }
    }
    if (optind != argc - 1)
        return usage_error(sensitivity_usage, "%s",
                           optind >= argc ? "missing OUT.h5" : "expected exactly one OUT.h5");
    if (!metric)
        return usage_error(sensitivity_usage, "%s", "missing --metric NAME");
    const char *path = argv[optind];

    ts_error err;
    ts_sensitivity_input in;
    ts_status st = ts_sensitivity_read(&in, path, metric, tick, &err);
    if (st != TS_OK) {
        fprintf(stderr, "trustsim: %s\n", err.msg);
        return exit_for(st);
    }
    ts_sobol_options opt = {(int)boot, 0.95, ts_sensitivity_seed(in.master_seed)};
    ts_sobol_index *idx = malloc((size_t)in.k * sizeof *idx);
    int n_used = 0;
    st = idx ? ts_sobol_estimate(in.y, in.n, in.k, &opt, idx, &n_used, &err)
             : ts_error_set(&err, TS_ERUNTIME, "out of memory (%s)", strerror(ENOMEM));
    if (st != TS_OK) {
        fprintf(stderr, "trustsim: %s: /series/%s at tick %ld: %s\n", path, metric, in.tick,
                err.msg);
    } else if ((st = ts_sensitivity_write(path, metric, &in, &opt, idx, n_used, &err)) != TS_OK) {
        fprintf(stderr, "trustsim: %s\n", err.msg);
    } else {
        print_table(path, metric, &in, &opt, idx, n_used);
        printf("\nstored in %s as /sensitivity/%s\n", path, metric);
    }
    free(idx);
    ts_sensitivity_input_destroy(&in);
    return exit_for(st);
}
