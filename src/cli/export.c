/* `trustsim export`: an output file as tidy CSV tables for tools that do not read HDF5.
 *
 * Writes DIR/series.csv (point,replicate,tick,metric,value), points.csv (point and one column
 * per swept parameter), final_trust.csv and final_stage.csv (point,replicate,organisation,
 * partner,value) and final_faith.csv (point,replicate,organisation,faith,active), over the runs
 * marked done. Numbers are printed with %.17g, so they read back bit for bit; NaN is an empty
 * field. Each table is written under a temporary name and renamed when complete; existing
 * tables are never replaced without --force. Reads with the HDF5 C API, one point at a time, so
 * memory stays small whatever the size of the file. Not for analysis: see scripts/. */
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

/* CMakeLists.txt gives the command no HDF5 include directory of its own; fall back to Debian's
 * location of the serial library's headers when the compiler does not find them. */
#include <hdf5.h>

#include "io/h5util.h"

#include "cli/commands.h"
#include "trustsim/metrics.h"
#include "trustsim/scenario.h"

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

/* What the tables need from the file, read once; the big arrays are read point by point. */
typedef struct source {
    const char *path;
    hid_t file;
    size_t n_points, n_reps, n_times, n_orgs;
    int64_t *ticks; /* [n_times] */
    uint8_t *done;  /* [n_points * n_reps] */
    char **orgs;    /* [n_orgs] */
    char **metrics; /* [n_metrics]: rank-3 datasets of /series, in the model's order */
    int n_metrics;
    char **params; /* [n_params]: datasets of /points */
    int n_params;
} source;

static void free_names(char **names, int n)
{
    for (int i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}

static void source_close(source *s)
{
    if (s->file >= 0)
        H5Fclose(s->file);
    free(s->ticks);
    free(s->done);
    free_names(s->orgs, (int)s->n_orgs);
    free_names(s->metrics, s->n_metrics);
    free_names(s->params, s->n_params);
    memset(s, 0, sizeof *s);
    s->file = H5I_INVALID_HID;
}

static bool exists(hid_t loc, const char *name)
{
    return H5Lexists(loc, name, H5P_DEFAULT) > 0;
}

/* The extent of a dataset of the given rank into dims; false when absent or of another rank. */
static bool extent(hid_t file, const char *name, int rank, hsize_t *dims)
{
    if (!exists(file, name))
        return false;
    hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
    hid_t sp = d >= 0 ? H5Dget_space(d) : H5I_INVALID_HID;
    bool ok = sp >= 0 && H5Sget_simple_extent_ndims(sp) == rank &&
              H5Sget_simple_extent_dims(sp, dims, NULL) == rank;
    if (sp >= 0)
        H5Sclose(sp);
    if (d >= 0)
        H5Dclose(d);
    return ok;
}

/* Names of the links in a group, collected by H5Literate. */
typedef struct name_list {
    char **names;
    int n, cap;
    bool failed;
} name_list;

static herr_t collect_name(hid_t group, const char *name, const H5L_info_t *info, void *data)
{
    (void)group;
    (void)info;
    name_list *l = data;
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 32;
        char **grown = realloc(l->names, (size_t)cap * sizeof *grown);
        if (!grown) {
            l->failed = true;
            return -1;
        }
        l->names = grown;
        l->cap = cap;
    }
    l->names[l->n] = strdup(name);
    if (!l->names[l->n]) {
        l->failed = true;
        return -1;
    }
    l->n++;
    return 0;
}

/* The datasets of rank `rank` in group `group` (absent group: none). */
static bool list_datasets(hid_t file, const char *group, int rank, char ***names, int *n)
{
    name_list l = {NULL, 0, 0, false};
    *names = NULL;
    *n = 0;
    if (!exists(file, group))
        return true;
    hid_t g = H5Gopen2(file, group, H5P_DEFAULT);
    if (g < 0 || H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, NULL, collect_name, &l) < 0 ||
        l.failed) {
        if (g >= 0)
            H5Gclose(g);
        free_names(l.names, l.n);
        return false;
    }
    H5Gclose(g);
    int kept = 0;
    for (int i = 0; i < l.n; i++) {
        char path[600];
        hsize_t dims[4];
        snprintf(path, sizeof path, "%s/%s", group, l.names[i]);
        if (H5Oexists_by_name(file, path, H5P_DEFAULT) > 0 && extent(file, path, rank, dims))
            l.names[kept++] = l.names[i];
        else
            free(l.names[i]);
    }
    *names = l.names;
    *n = kept;
    return true;
}

/* Metrics in the model's order (metrics.h), names the model does not know after them. */
static int metric_order(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    int i = ts_metric_find(x), j = ts_metric_find(y);
    i = i < 0 ? 1 << 20 : i;
    j = j < 0 ? 1 << 20 : j;
    return i != j ? (i < j ? -1 : 1) : strcmp(x, y);
}

/* A 1-D dataset of variable-length strings into malloc'd copies. */
static bool read_strings(hid_t file, const char *name, size_t n, char ***out)
{
    hid_t d = H5Dopen2(file, name, H5P_DEFAULT), t = H5Tcopy(H5T_C_S1);
    char **raw = calloc(n ? n : 1, sizeof *raw);
    *out = calloc(n ? n : 1, sizeof **out);
    bool ok = d >= 0 && t >= 0 && raw && *out && H5Tset_size(t, H5T_VARIABLE) >= 0 &&
              H5Tset_cset(t, H5T_CSET_UTF8) >= 0 &&
              H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) >= 0;
    for (size_t i = 0; ok && i < n; i++)
        ok = ((*out)[i] = strdup(raw[i] ? raw[i] : "")) != NULL;
    for (size_t i = 0; raw && i < n; i++)
        H5free_memory(raw[i]);
    free(raw);
    if (t >= 0)
        H5Tclose(t);
    if (d >= 0)
        H5Dclose(d);
    return ok;
}

static bool read_all(hid_t file, const char *name, hid_t type, void *buf)
{
    hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
    bool ok = d >= 0 && H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0;
    if (d >= 0)
        H5Dclose(d);
    return ok;
}

/* Put the swept parameters in the order of the scenario's sweep block (HDF5 lists them by
 * name); left as they are when the stored scenario cannot be read. */
static void order_params(source *s)
{
    char *text = NULL;
    hid_t d = exists(s->file, "/scenario") && exists(s->file, "/scenario/resolved")
                  ? H5Dopen2(s->file, "/scenario/resolved", H5P_DEFAULT)
                  : H5I_INVALID_HID;
    hid_t t = H5Tcopy(H5T_C_S1);
    bool ok = d >= 0 && t >= 0 && H5Tset_size(t, H5T_VARIABLE) >= 0 &&
              H5Tset_cset(t, H5T_CSET_UTF8) >= 0 &&
              H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, &text) >= 0 && text;
    if (t >= 0)
        H5Tclose(t);
    if (d >= 0)
        H5Dclose(d);
    ts_scenario sc;
    ts_error err;
    if (!ok || ts_scenario_load_string(&sc, text, s->path, &err) != TS_OK) {
        if (text)
            H5free_memory(text);
        return;
    }
    H5free_memory(text);
    int next = 0; /* params[0..next) are in sweep order */
    for (int c = 0; c < sc.params.sweep.n_params; c++) {
        for (int i = next; i < s->n_params; i++) {
            if (strcmp(s->params[i], sc.params.sweep.params[c].path) == 0) {
                char *tmp = s->params[next];
                s->params[next++] = s->params[i];
                s->params[i] = tmp;
                break;
            }
        }
    }
    ts_scenario_destroy(&sc);
}

/* Open the file and read the axes, the done flags and the names of metrics and parameters. */
static ts_status source_open(source *s, const char *path, ts_error *err)
{
    memset(s, 0, sizeof *s);
    s->file = H5I_INVALID_HID;
    s->path = path;
    ts_status st = ts_h5_open(path, false, &s->file, err);
    if (st != TS_OK)
        return st;
    hsize_t done[2], orgs[1], times[1];
    if (!extent(s->file, "/done", 2, done) || !extent(s->file, "/organisation", 1, orgs) ||
        !extent(s->file, "/time", 1, times) || !exists(s->file, "/series") ||
        !exists(s->file, "/final"))
        return ts_error_set(err, TS_EINPUT,
                            "%s: not a trustsim output (no /done, /organisation, /time, /series "
                            "or /final)",
                            path);
    s->n_points = done[0], s->n_reps = done[1], s->n_orgs = orgs[0], s->n_times = times[0];
    s->ticks = malloc((s->n_times ? s->n_times : 1) * sizeof *s->ticks);
    s->done = malloc(s->n_points * s->n_reps + 1);
    if (!s->ticks || !s->done)
        return ts_error_set(err, TS_ERUNTIME, "%s: out of memory", path);
    if (!read_all(s->file, "/time", H5T_NATIVE_INT64, s->ticks) ||
        !read_all(s->file, "/done", H5T_NATIVE_UINT8, s->done) ||
        !read_strings(s->file, "/organisation", s->n_orgs, &s->orgs) ||
        !list_datasets(s->file, "/series", 3, &s->metrics, &s->n_metrics) ||
        !list_datasets(s->file, "/points", 1, &s->params, &s->n_params))
        return ts_error_set(err, TS_ERUNTIME, "%s: cannot read the axes and names", path);
    /* "point" in /points is the dimension scale, not a parameter */
    for (int i = 0; i < s->n_params; i++)
        if (strcmp(s->params[i], "point") == 0) {
            free(s->params[i]);
            s->params[i--] = s->params[--s->n_params];
        }
    qsort(s->metrics, (size_t)s->n_metrics, sizeof *s->metrics, metric_order);
    order_params(s);
    return TS_OK;
}

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

/* A dataset's hyperslab of one point: [p, 0.., 0..] of a dataset of rank `rank`. */
static bool read_point(source *s, const char *name, int rank, size_t p, hid_t type, void *buf)
{
    hid_t d = H5Dopen2(s->file, name, H5P_DEFAULT);
    hid_t sp = d >= 0 ? H5Dget_space(d) : H5I_INVALID_HID;
    hsize_t dims[4] = {0, 0, 0, 0}, start[4] = {p, 0, 0, 0};
    bool ok = sp >= 0 && H5Sget_simple_extent_ndims(sp) == rank &&
              H5Sget_simple_extent_dims(sp, dims, NULL) == rank && p < dims[0] &&
              dims[1] == s->n_reps;
    hid_t mem = H5I_INVALID_HID;
    if (ok) {
        dims[0] = 1;
        mem = H5Screate_simple(rank, dims, NULL);
        ok = mem >= 0 && H5Sselect_hyperslab(sp, H5S_SELECT_SET, start, NULL, dims, NULL) >= 0 &&
             H5Dread(d, type, mem, sp, H5P_DEFAULT, buf) >= 0;
    }
    if (mem >= 0)
        H5Sclose(mem);
    if (sp >= 0)
        H5Sclose(sp);
    if (d >= 0)
        H5Dclose(d);
    return ok;
}

static bool run_done(const source *s, size_t p, size_t r)
{
    return s->done[p * s->n_reps + r] == 1;
}

static ts_status write_series(source *s, FILE *f, ts_error *err)
{
    const size_t block = s->n_reps * s->n_times;
    double *buf = malloc(((size_t)s->n_metrics * block + 1) * sizeof *buf);
    if (!buf)
        return ts_error_set(err, TS_ERUNTIME, "out of memory for one point of /series");
    fputs("point,replicate,tick,metric,value\n", f);
    ts_status st = TS_OK;
    for (size_t p = 0; st == TS_OK && p < s->n_points; p++) {
        for (int m = 0; st == TS_OK && m < s->n_metrics; m++) {
            char name[600];
            snprintf(name, sizeof name, "/series/%s", s->metrics[m]);
            if (!read_point(s, name, 3, p, H5T_NATIVE_DOUBLE, buf + (size_t)m * block))
                st = ts_error_set(err, TS_ERUNTIME, "%s: cannot read %s", s->path, name);
        }
        for (size_t r = 0; st == TS_OK && r < s->n_reps; r++) {
            if (!run_done(s, p, r))
                continue;
            for (int m = 0; m < s->n_metrics; m++) {
                const double *row = buf + (size_t)m * block + r * s->n_times;
                for (size_t t = 0; t < s->n_times; t++) {
                    fprintf(f, "%zu,%zu,%lld,", p, r, (long long)s->ticks[t]);
                    put_text(f, s->metrics[m]);
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

static ts_status write_points(source *s, FILE *f, ts_error *err)
{
    double *vals = malloc(((size_t)s->n_params * s->n_points + 1) * sizeof *vals);
    if (!vals)
        return ts_error_set(err, TS_ERUNTIME, "out of memory for /points");
    ts_status st = TS_OK;
    fputs("point", f);
    for (int k = 0; st == TS_OK && k < s->n_params; k++) {
        char name[600];
        hsize_t dims[1];
        snprintf(name, sizeof name, "/points/%s", s->params[k]);
        if (!extent(s->file, name, 1, dims) || dims[0] != s->n_points ||
            !read_all(s->file, name, H5T_NATIVE_DOUBLE, vals + (size_t)k * s->n_points))
            st = ts_error_set(err, TS_ERUNTIME, "%s: cannot read %s", s->path, name);
        fputc(',', f);
        put_text(f, s->params[k]);
    }
    fputc('\n', f);
    for (size_t p = 0; st == TS_OK && p < s->n_points; p++) {
        fprintf(f, "%zu", p);
        for (int k = 0; k < s->n_params; k++) {
            fputc(',', f);
            put_number(f, vals[(size_t)k * s->n_points + p]);
        }
        fputc('\n', f);
    }
    free(vals);
    return st;
}

/* final_trust.csv (stage == false) or final_stage.csv: one row per done run and ordered pair. */
static ts_status write_pairs(source *s, FILE *f, bool stage, ts_error *err)
{
    const size_t pairs = s->n_orgs * s->n_orgs, n = s->n_reps * pairs;
    double *trust = stage ? NULL : malloc((n + 1) * sizeof *trust);
    int8_t *stages = stage ? malloc(n + 1) : NULL;
    if (!trust && !stages)
        return ts_error_set(err, TS_ERUNTIME, "out of memory for one point of /final");
    const char *name = stage ? "/final/stage" : "/final/trust_interorg";
    fputs("point,replicate,organisation,partner,value\n", f);
    ts_status st = TS_OK;
    for (size_t p = 0; st == TS_OK && p < s->n_points; p++) {
        if (!read_point(s, name, 4, p, stage ? H5T_NATIVE_INT8 : H5T_NATIVE_DOUBLE,
                        stage ? (void *)stages : (void *)trust)) {
            st = ts_error_set(err, TS_ERUNTIME, "%s: cannot read %s", s->path, name);
            break;
        }
        for (size_t r = 0; r < s->n_reps; r++) {
            if (!run_done(s, p, r))
                continue;
            for (size_t i = 0; i < s->n_orgs; i++) {
                for (size_t j = 0; j < s->n_orgs; j++) {
                    const size_t at = r * pairs + i * s->n_orgs + j;
                    fprintf(f, "%zu,%zu,", p, r);
                    put_text(f, s->orgs[i]);
                    fputc(',', f);
                    put_text(f, s->orgs[j]);
                    fputc(',', f);
                    if (stage)
                        fprintf(f, "%d", stages[at]);
                    else
                        put_number(f, trust[at]);
                    fputc('\n', f);
                }
            }
        }
    }
    free(trust);
    free(stages);
    return st;
}

static ts_status write_faith(source *s, FILE *f, ts_error *err)
{
    const size_t n = s->n_reps * s->n_orgs;
    double *faith = malloc((n + 1) * sizeof *faith);
    uint8_t *active = malloc(n + 1);
    ts_status st =
        faith && active ? TS_OK : ts_error_set(err, TS_ERUNTIME, "out of memory for /final");
    fputs("point,replicate,organisation,faith,active\n", f);
    for (size_t p = 0; st == TS_OK && p < s->n_points; p++) {
        if (!read_point(s, "/final/faith", 3, p, H5T_NATIVE_DOUBLE, faith) ||
            !read_point(s, "/final/active", 3, p, H5T_NATIVE_UINT8, active)) {
            st = ts_error_set(err, TS_ERUNTIME, "%s: cannot read /final/faith or /final/active",
                              s->path);
            break;
        }
        for (size_t r = 0; r < s->n_reps; r++) {
            if (!run_done(s, p, r))
                continue;
            for (size_t i = 0; i < s->n_orgs; i++) {
                fprintf(f, "%zu,%zu,", p, r);
                put_text(f, s->orgs[i]);
                fputc(',', f);
                put_number(f, faith[r * s->n_orgs + i]);
                fprintf(f, ",%d\n", active[r * s->n_orgs + i]);
            }
        }
    }
    free(faith);
    free(active);
    return st;
}

/* Write table t into DIR/<name>.part, then rename it into place. */
static ts_status write_table(source *s, const char *dir, int t, ts_error *err)
{
    char target[4096], part[4200];
    snprintf(target, sizeof target, "%s/%s", dir, table_names[t]);
    snprintf(part, sizeof part, "%s.part", target);
    FILE *f = fopen(part, "w");
    if (!f)
        return ts_error_set(err, TS_ERUNTIME, "%s: cannot create: %s", part, strerror(errno));
    ts_status st = t == 0   ? write_series(s, f, err)
                   : t == 1 ? write_points(s, f, err)
                   : t == 2 ? write_pairs(s, f, false, err)
                   : t == 3 ? write_pairs(s, f, true, err)
                            : write_faith(s, f, err);
    if (ferror(f) && st == TS_OK)
        st = ts_error_set(err, TS_ERUNTIME, "%s: write failed", part);
    if (fclose(f) != 0 && st == TS_OK)
        st = ts_error_set(err, TS_ERUNTIME, "%s: write failed: %s", part, strerror(errno));
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

static size_t count_done(const source *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n_points * s->n_reps; i++)
        n += s->done[i] == 1;
    return n;
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

    ts_h5_quiet quiet = ts_h5_quiet_begin(); /* errors are reported as messages below */
    ts_error err;
    source s;
    ts_status st = source_open(&s, argv[optind], &err);
    if (st == TS_OK)
        st = prepare_dir(dir, force, &err);
    for (int t = 0; st == TS_OK && t < N_TABLES; t++)
        st = write_table(&s, dir, t, &err);
    if (st == TS_OK)
        fprintf(stderr,
                "wrote %s/{series,points,final_trust,final_stage,final_faith}.csv (%zu "
                "runs done, %d metrics, %zu ticks)\n",
                dir, count_done(&s), s.n_metrics, s.n_times);
    else
        fprintf(stderr, "trustsim: %s\n", err.msg);
    source_close(&s);
    ts_h5_quiet_end(quiet);
    return exit_for(st);
}
