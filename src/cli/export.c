/* `trustsim export`: an output file as tidy CSV tables for tools that do not read HDF5.
 *
 * Writes DIR/series.csv (point,replicate,tick,metric,value), points.csv (point and one column
 * per swept parameter), final_trust.csv and final_stage.csv (point,replicate,organisation,
 * partner,value) and final_faith.csv (point,replicate,organisation,faith,active), over the runs
 * marked done. Numbers are printed with %.17g, so they read back bit for bit; NaN is an empty
 * field. Each table is written under a temporary name and renamed when complete; existing
 * tables are never replaced without --force. Reads through the library's reader (reader.h), one
 * point at a time, so memory stays small whatever the size of the file. Not for analysis: see
 * scripts/. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "trustsim/reader.h"

static const char *const export_usage =
    "Usage: trustsim export OUT.h5 --csv DIR [--force]\n"
    "\n"
    "Write the runs marked done in OUT.h5 as tidy CSV tables in DIR (created if missing):\n"
    "  series.csv       point,replicate,tick,metric,value   every metric at every tick\n"
    "  points.csv       point and one column per swept parameter\n"
    "  final_trust.csv  point,replicate,organisation,partner,value   final inter-organisational\n"
    "                   trust (empty where a pair shares no collaboration)\n"
    "  final_stage.csv  point,replicate,organisation,partner,value   final stage 0-3 (-1: none)\n"
    "  final_faith.csv  point,replicate,organisation,faith,active    final faith, active 0/1\n"
    "Numbers are printed with 17 significant digits (they read back exactly); NaN is an empty\n"
    "field. Existing tables are not replaced without --force.\n"
    "\n"
    "Options:\n"
    "  -c, --csv DIR   directory for the tables (required)\n"
    "  -f, --force     replace existing tables\n"
    "  -h, --help      show this help\n";

enum { N_TABLES = 5 };
static const char *const table_names[N_TABLES] = {"series.csv", "points.csv", "final_trust.csv",
                                                  "final_stage.csv", "final_faith.csv"};

/* ---- CSV ----------------------------------------------------------------------------------- */

/* A text field, quoted (RFC 4180) only when it must be. */
static void put_text(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* A number that reads back exactly; NaN as an empty field. */
static void put_number(FILE *f, double v)
{
    if (isnan(v))
        return;
    if (isinf(v))
        fputs(v > 0 ? "Inf" : "-Inf", f);
    else
        fprintf(f, "%.17g", v);
}

static ts_status write_series(const ts_reader *r, FILE *f, ts_error *err)
{
    const ts_file_info *in = ts_reader_info(r);
    const int64_t *ticks = ts_reader_ticks(r);
    const size_t block = in->n_replicates * in->n_times;
    double *buf = malloc(((size_t)in->n_metrics * block + 1) * sizeof *buf);
    if (!buf)
        return ts_error_set(err, TS_ERUNTIME, "%s: out of memory for one point of /series (%s)",
                            ts_reader_path(r), strerror(ENOMEM));
    fputs("point,replicate,tick,metric,value\n", f);
    ts_status st = TS_OK;
    for (size_t p = 0; st == TS_OK && p < in->n_points; p++) {
        for (int m = 0; st == TS_OK && m < in->n_metrics; m++)
            st = ts_reader_series(r, m, p, buf + (size_t)m * block, err);
        for (size_t rep = 0; st == TS_OK && rep < in->n_replicates; rep++) {
            if (!ts_reader_run_done(r, p, rep))
                continue;
            for (int m = 0; m < in->n_metrics; m++) {
                const double *row = buf + (size_t)m * block + rep * in->n_times;
                for (size_t t = 0; t < in->n_times; t++) {
                    fprintf(f, "%zu,%zu,%lld,", p, rep, (long long)ticks[t]);
                    put_text(f, ts_reader_metric(r, m));
                    fputc(',', f);
                    put_number(f, row[t]);
                    fputc('\n', f);
                }
            }
        }
    }
    free(buf);
    return st;
}

static ts_status write_points(const ts_reader *r, FILE *f, ts_error *err)
{
    const ts_file_info *in = ts_reader_info(r);
    double *vals = malloc(((size_t)in->n_params * in->n_points + 1) * sizeof *vals);
    if (!vals)
        return ts_error_set(err, TS_ERUNTIME, "%s: out of memory for /points (%s)",
                            ts_reader_path(r), strerror(ENOMEM));
    ts_status st = TS_OK;
    fputs("point", f);
    for (int k = 0; st == TS_OK && k < in->n_params; k++) {
        st = ts_reader_points(r, k, vals + (size_t)k * in->n_points, err);
        fputc(',', f);
        put_text(f, ts_reader_param(r, k));
    }
    fputc('\n', f);
    for (size_t p = 0; st == TS_OK && p < in->n_points; p++) {
        fprintf(f, "%zu", p);
        for (int k = 0; k < in->n_params; k++) {
            fputc(',', f);
            put_number(f, vals[(size_t)k * in->n_points + p]);
        }
        fputc('\n', f);
    }
    free(vals);
    return st;
}

/* final_trust.csv (stage == false) or final_stage.csv: one row per done run and pair. */
static ts_status write_pairs(const ts_reader *r, FILE *f, bool stage, ts_error *err)
{
    const ts_file_info *in = ts_reader_info(r);
    const size_t n = in->n_replicates * in->n_pairs;
    double *trust = stage ? NULL : malloc((n + 1) * sizeof *trust);
    int8_t *stages = stage ? malloc(n + 1) : NULL;
    if (!trust && !stages)
        return ts_error_set(err, TS_ERUNTIME, "%s: out of memory for one point of /final (%s)",
                            ts_reader_path(r), strerror(ENOMEM));
    fputs("point,replicate,organisation,partner,value\n", f);
    ts_status st = TS_OK;
    for (size_t p = 0; st == TS_OK && p < in->n_points; p++) {
        st = stage ? ts_reader_final_stage(r, p, stages, err)
                   : ts_reader_final_trust(r, p, trust, err);
        for (size_t rep = 0; st == TS_OK && rep < in->n_replicates; rep++) {
            if (!ts_reader_run_done(r, p, rep))
                continue;
            for (size_t k = 0; k < in->n_pairs; k++) {
                size_t org, partner;
                ts_reader_pair(r, k, &org, &partner);
                const size_t at = rep * in->n_pairs + k;
                fprintf(f, "%zu,%zu,", p, rep);
                put_text(f, ts_reader_org(r, org));
                fputc(',', f);
                put_text(f, ts_reader_org(r, partner));
                fputc(',', f);
                if (stage)
                    fprintf(f, "%d", stages[at]);
                else
                    put_number(f, trust[at]);
                fputc('\n', f);
            }
        }
    }
    free(trust);
    free(stages);
    return st;
}

static ts_status write_faith(const ts_reader *r, FILE *f, ts_error *err)
{
    const ts_file_info *in = ts_reader_info(r);
    const size_t n = in->n_replicates * in->n_orgs;
    double *faith = malloc((n + 1) * sizeof *faith);
    uint8_t *active = malloc(n + 1);
    ts_status st = faith && active ? TS_OK
                                   : ts_error_set(err, TS_ERUNTIME,
                                                  "%s: out of memory for /final (%s)",
                                                  ts_reader_path(r), strerror(ENOMEM));
    fputs("point,replicate,organisation,faith,active\n", f);
    for (size_t p = 0; st == TS_OK && p < in->n_points; p++) {
        st = ts_reader_final_faith(r, p, faith, err);
        if (st == TS_OK)
            st = ts_reader_final_active(r, p, active, err);
        for (size_t rep = 0; st == TS_OK && rep < in->n_replicates; rep++) {
            if (!ts_reader_run_done(r, p, rep))
                continue;
            for (size_t i = 0; i < in->n_orgs; i++) {
                fprintf(f, "%zu,%zu,", p, rep);
                put_text(f, ts_reader_org(r, i));
                fputc(',', f);
                put_number(f, faith[rep * in->n_orgs + i]);
                fprintf(f, ",%d\n", active[rep * in->n_orgs + i]);
            }
        }
    }
    free(faith);
    free(active);
    return st;
}

/* Write table t into DIR/<name>.part, then rename it into place. A failed write names the
 * table and the operating system's reason. */
static ts_status write_table(const ts_reader *r, const char *dir, int t, ts_error *err)
{
    char target[4096], part[4200];
    snprintf(target, sizeof target, "%s/%s", dir, table_names[t]);
    snprintf(part, sizeof part, "%s.part", target);
    FILE *f = fopen(part, "w");
    if (!f)
        return ts_error_set(err, TS_ERUNTIME, "%s: cannot create: %s", part, strerror(errno));
    errno = 0;
    ts_status st = t == 0   ? write_series(r, f, err)
                   : t == 1 ? write_points(r, f, err)
                   : t == 2 ? write_pairs(r, f, false, err)
                   : t == 3 ? write_pairs(r, f, true, err)
                            : write_faith(r, f, err);
    int why = ferror(f) ? (errno ? errno : EIO) : 0;
    if (fflush(f) != 0 && !why)
        why = errno;
    if (fclose(f) != 0 && !why)
        why = errno;
    if (why && st == TS_OK)
        st = ts_error_set(err, TS_ERUNTIME, "%s: cannot write: %s", part, strerror(why));
    if (st == TS_OK && rename(part, target) != 0)
        st = ts_error_set(err, TS_ERUNTIME, "%s: cannot rename to %s: %s", part, target,
                          strerror(errno));
    if (st != TS_OK)
        remove(part);
    return st;
}

/* DIR exists (or is made) and holds none of the tables unless force. */
static ts_status prepare_dir(const char *dir, bool force, ts_error *err)
{
    struct stat sb;
    if (stat(dir, &sb) != 0) {
        if (mkdir(dir, 0777) != 0)
            return ts_error_set(err, TS_EINPUT, "%s: cannot create the directory: %s", dir,
                                strerror(errno));
        return TS_OK;
    }
    if (!S_ISDIR(sb.st_mode))
        return ts_error_set(err, TS_EINPUT, "%s: not a directory", dir);
    for (int t = 0; !force && t < N_TABLES; t++) {
        char target[4096];
        snprintf(target, sizeof target, "%s/%s", dir, table_names[t]);
        if (stat(target, &sb) == 0)
            return ts_error_set(err, TS_EINPUT, "%s exists (use --force to replace it)", target);
    }
    return TS_OK;
}

int cmd_export(int argc, char **argv)
{
    static const struct option opts[] = {
        {"csv", required_argument, NULL, 'c'},
        {"force", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = NULL;
    bool force = false;
    int c;
    while ((c = getopt_long(argc, argv, "c:fh", opts, NULL)) != -1) {
        if (c == 'c') {
            dir = optarg;
        } else if (c == 'f') {
            force = true;
        } else if (c == 'h') {
            fputs(export_usage, stdout);
            return 0;
        } else {
            return usage_error(export_usage, "%s", "invalid option");
        }
    }
    if (optind != argc - 1)
        return usage_error(export_usage, "%s",
                           optind >= argc ? "missing OUT.h5" : "expected exactly one OUT.h5");
    if (!dir || !*dir)
        return usage_error(export_usage, "%s", "missing --csv DIR");

    ts_error err;
    ts_reader *r = NULL;
    ts_status st = ts_reader_open(&r, argv[optind], &err);
    if (st == TS_OK)
        st = prepare_dir(dir, force, &err);
    for (int t = 0; st == TS_OK && t < N_TABLES; t++)
        st = write_table(r, dir, t, &err);
    if (st == TS_OK)
        fprintf(stderr,
                "wrote %s/{series,points,final_trust,final_stage,final_faith}.csv (%zu "
                "runs done, %d metrics, %zu ticks)\n",
                dir, ts_reader_info(r)->n_done, ts_reader_info(r)->n_metrics,
                ts_reader_info(r)->n_times);
    else
        fprintf(stderr, "trustsim: %s\n", err.msg);
    ts_reader_close(r);
    return exit_for(st);
}
