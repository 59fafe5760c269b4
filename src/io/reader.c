/* The one reader of output files (see include/trustsim/reader.h).
 *
 * For: deciding once whether a file is a trustsim output this program reads (its root
 * attributes format and format_version), checking every dataset it will read against the axes
 * before a byte is read (rank, extent, type class), so that a damaged or hostile file fails
 * here with a message instead of deep inside a command; then reading slices of it. Also the
 * verification of a whole file, chunk by chunk. Not for: writing (output.c), the blocks of
 * finished runs (blocks.c), or any statistics (the callers).
 *
 * Sizes come from the file, so none is trusted: every axis and every product of axes a read
 * needs is bounded (MAX_AXIS, MAX_RUNS) before anything is allocated, and strings are read
 * with a bounded length. The reader keeps HDF5 quiet and turns its errors into ours. */
#include "trustsim/reader.h"

#include "io/h5util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#include "trustsim/metrics.h"
#include "trustsim/scenario.h"

enum {
    MAX_NAMES = 1 << 16,     /* metrics, parameters, analyses in a group */
    MAX_NAME_LEN = 4096,     /* an organisation id */
    MAX_TEXT_LEN = 64 << 20, /* a scenario text */
};
/* An axis longer than this, or more runs than MAX_RUNS, is no file this program wrote. */
#define MAX_AXIS ((hsize_t)1 << 31)
#define MAX_RUNS ((hsize_t)1 << 32)

static const char *const summary_stats[] = {"mean", "sd", "q05", "q50", "q95"};
/* links to the dimension scales, which every group of the file holds beside its datasets */
static const char *const scale_names[] = {
    "point", "replicate",         "time",        "organisation", "partner",
    "pair",  "pair_organisation", "pair_partner"};

struct ts_reader {
    char *path;
    hid_t file;
    ts_file_info info;
    int64_t *ticks;                  /* [n_times] */
    uint8_t *done;                   /* [n_points * n_replicates] */
    char **orgs;                     /* [n_orgs] */
    size_t *pair_org, *pair_partner; /* [n_pairs]; NULL in a file of format 1, whose final
                                        state holds every (organisation, partner) */
    char **metrics;                  /* [n_metrics] */
    hid_t *series;                   /* [n_metrics], open */
    char **params;                   /* [n_params] */
    char **analyses;                 /* [n_sensitivity] */
    char *text, *resolved;
    hid_t trust, stage, faith, active;
};

/* ---- errors ---------------------------------------------------------------------------- */

/* "PATH: what: HDF5's reason", for a call that just failed. */
static ts_status h5_fail(const ts_reader *r, ts_error *err, ts_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static ts_status h5_fail(const ts_reader *r, ts_error *err, ts_status st, const char *fmt, ...)
{
    char what[512], why[256];
    ts_h5_reason(why, sizeof why);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return ts_error_set(err, st, "%s: %s: %s", r->path, what, why);
}

static ts_status no_memory(const ts_reader *r, ts_error *err, const char *what)
{
    return ts_error_set(err, TS_ERUNTIME, "%s: out of memory for %s (%s)", r->path, what,
                        strerror(ENOMEM));
}

/* ---- names and shapes ------------------------------------------------------------------ */

static bool link_exists(hid_t loc, const char *name)
{
    return H5Lexists(loc, name, H5P_DEFAULT) > 0;
}

/* Whether name (under loc) is a dataset, without following anything but hard links HDF5
 * resolves itself. */
static bool is_dataset(hid_t loc, const char *name)
{
    H5O_info_t oi;
    return link_exists(loc, name) && H5Oexists_by_name(loc, name, H5P_DEFAULT) > 0 &&
           H5Oget_info_by_name(loc, name, &oi, H5P_DEFAULT) >= 0 && oi.type == H5O_TYPE_DATASET;
}

static bool is_group(hid_t loc, const char *name)
{
    H5O_info_t oi;
    return link_exists(loc, name) && H5Oexists_by_name(loc, name, H5P_DEFAULT) > 0 &&
           H5Oget_info_by_name(loc, name, &oi, H5P_DEFAULT) >= 0 && oi.type == H5O_TYPE_GROUP;
}

static void shape_text(int rank, const hsize_t *dims, char *buf, size_t cap)
{
    size_t n = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < rank && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%llu", i ? ", " : "",
                              (unsigned long long)dims[i]);
    if (n < cap)
        snprintf(buf + n, cap - n, "]");
}

/* Open dataset `name` of loc and check it: type class `cls` and, when want is given, the
 * extent want[0..rank). On failure the dataset is closed and err says what is wrong. */
static ts_status open_checked(const ts_reader *r, hid_t loc, const char *name, const char *shown,
                              H5T_class_t cls, int rank, const hsize_t *want, hid_t *out,
                              ts_error *err)
{
    *out = H5I_INVALID_HID;
    if (!is_dataset(loc, name))
        return ts_error_set(err, TS_EINPUT, "%s: not a trustsim output: no dataset %s", r->path,
                            shown);
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0)
        return h5_fail(r, err, TS_ERUNTIME, "%s: cannot open", shown);
    hid_t type = H5Dget_type(d), space = H5Dget_space(d);
    hsize_t dims[H5S_MAX_RANK];
    int got = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    bool ok_rank = got == rank && H5Sget_simple_extent_dims(space, dims, NULL) == rank;
    bool ok_type = type >= 0 && H5Tget_class(type) == cls;
    ts_h5_close(&type);
    ts_h5_close(&space);
    ts_status st = TS_OK;
    static const char *const class_names[] = {
        [H5T_INTEGER] = "integers", [H5T_FLOAT] = "numbers", [H5T_STRING] = "strings"};
    if (!ok_type) {
        st = ts_error_set(err, TS_EINPUT, "%s: %s does not hold %s", r->path, shown,
                          class_names[cls]);
    } else if (!ok_rank) {
        st = ts_error_set(err, TS_EINPUT, "%s: %s has %d axes, not %d", r->path, shown, got, rank);
    } else {
        for (int i = 0; want && i < rank; i++)
            if (dims[i] != want[i]) {
                char has[128], should[128];
                shape_text(rank, dims, has, sizeof has);
                shape_text(rank, want, should, sizeof should);
                st = ts_error_set(err, TS_EINPUT,
                                  "%s: %s is shaped %s, not %s as the file's axes say", r->path,
                                  shown, has, should);
                break;
            }
    }
    if (st != TS_OK)
        ts_h5_close(&d);
    *out = d;
    return st;
}

/* The length of the one axis of a 1-D dataset of class cls, bounded by MAX_AXIS. */
static ts_status axis_length(const ts_reader *r, const char *name, H5T_class_t cls, hsize_t *n,
                             hid_t *out, ts_error *err)
{
    ts_status st = open_checked(r, r->file, name, name, cls, 1, NULL, out, err);
    if (st != TS_OK)
        return st;
    hid_t space = H5Dget_space(*out);
    hssize_t got = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    ts_h5_close(&space);
    if (got < 1 || (hsize_t)got > MAX_AXIS) {
        ts_h5_close(out);
        return ts_error_set(err, TS_EINPUT, "%s: %s has %lld values: not an axis of an output",
                            r->path, name, (long long)got);
    }
    *n = (hsize_t)got;
    return TS_OK;
}

/* ---- names of a group ------------------------------------------------------------------ */

typedef struct name_list {
    char **names;
    int n, cap;
    bool failed;
} name_list;

static herr_t collect_name(hid_t group, const char *name, const H5L_info_t *info, void *data)
{
    (void)group;
    name_list *l = data;
    if (info->type != H5L_TYPE_HARD)
        return 0; /* soft and external links lead outside what the writer makes */
    if (l->n == MAX_NAMES) {
        l->failed = true;
        return -1;
    }
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
    if (!(l->names[l->n] = strdup(name))) {
        l->failed = true;
        return -1;
    }
    l->n++;
    return 0;
}

static bool is_scale_name(const char *name)
{
    for (size_t i = 0; i < sizeof scale_names / sizeof scale_names[0]; i++)
        if (strcmp(name, scale_names[i]) == 0)
            return true;
    return false;
}

/* The links of group `path` other than the scale links (an absent group: none). */
static ts_status list_group(const ts_reader *r, const char *path, char ***names, int *n,
                            ts_error *err)
{
    name_list l = {NULL, 0, 0, false};
    *names = NULL;
    *n = 0;
    if (!link_exists(r->file, path))
        return TS_OK;
    if (!is_group(r->file, path))
        return ts_error_set(err, TS_EINPUT, "%s: %s is not a group", r->path, path);
    hid_t g = H5Gopen2(r->file, path, H5P_DEFAULT);
    if (g < 0)
        return h5_fail(r, err, TS_ERUNTIME, "%s: cannot open", path);
    herr_t rc = H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, NULL, collect_name, &l);
    ts_status st = TS_OK;
    if (l.failed)
        st = l.n == MAX_NAMES
                 ? ts_error_set(err, TS_EINPUT, "%s: %s holds too many names", r->path, path)
                 : no_memory(r, err, "names");
    else if (rc < 0)
        st = h5_fail(r, err, TS_ERUNTIME, "%s: cannot list", path);
    ts_h5_close(&g);
    int kept = 0;
    for (int i = 0; i < l.n; i++) {
        if (st == TS_OK && !is_scale_name(l.names[i]))
            l.names[kept++] = l.names[i];
        else
            free(l.names[i]);
    }
    if (st != TS_OK) {
        free(l.names);
        return st;
    }
    *names = l.names;
    *n = kept;
    return TS_OK;
}

static void free_names(char **names, int n)
{
    for (int i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}

/* ---- opening ----------------------------------------------------------------------------- */

static ts_status check_format(ts_reader *r, ts_error *err)
{
    char format[64];
    ts_h5_string_attr(r->file, "format", format, sizeof format);
    if (strcmp(format, "trustsim") != 0)
        return ts_error_set(err, TS_EINPUT,
                            "%s: not a trustsim output (its root attribute 'format' is not "
                            "'trustsim')",
                            r->path);
    uint64_t version = 0;
    if (!ts_h5_u64_attr(r->file, "format_version", &version) || version < 1)
        return ts_error_set(err, TS_EINPUT,
                            "%s: not a trustsim output (no valid root attribute "
                            "'format_version')",
                            r->path);
    if (version > TS_READER_FORMAT_VERSION)
        return ts_error_set(err, TS_EINPUT,
                            "%s: written in format version %llu by a newer trustsim; this one "
                            "reads versions up to %d",
                            r->path, (unsigned long long)version, TS_READER_FORMAT_VERSION);
    r->info.format_version = (int)version;
    uint64_t p = 0, n = 0;
    if (!ts_h5_u64_attr(r->file, "n_points", &p) || !ts_h5_u64_attr(r->file, "n_replicates", &n) ||
        p < 1 || n < 1 || p > MAX_AXIS || n > MAX_AXIS || p * n > MAX_RUNS)
        return ts_error_set(err, TS_EINPUT,
                            "%s: the root attributes n_points and n_replicates are missing or "
                            "out of range",
                            r->path);
    r->info.n_points = (size_t)p;
    r->info.n_replicates = (size_t)n;
    ts_h5_u64_attr(r->file, "master_seed", &r->info.master_seed);
    ts_h5_string_attr(r->file, "scenario", r->info.scenario, sizeof r->info.scenario);
    ts_h5_string_attr(r->file, "trustsim_version", r->info.trustsim_version,
                      sizeof r->info.trustsim_version);
    ts_h5_string_attr(r->file, "rng_type", r->info.rng_type, sizeof r->info.rng_type);
    ts_h5_string_attr(r->file, "created", r->info.created, sizeof r->info.created);
    ts_h5_string_attr(r->file, "tick_unit", r->info.tick_unit, sizeof r->info.tick_unit);
    return TS_OK;
}

/* The organisations of each pair (format 2): /pair_organisation and /pair_partner, indices
 * along /organisation. */
static ts_status read_pairs(ts_reader *r, ts_error *err)
{
    ts_file_info *in = &r->info;
    hid_t d = H5I_INVALID_HID;
    ts_status st = open_checked(r, r->file, "pair_organisation", "/pair_organisation", H5T_INTEGER,
                                1, NULL, &d, err);
    hid_t space = st == TS_OK ? H5Dget_space(d) : H5I_INVALID_HID;
    hssize_t n = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    ts_h5_close(&space);
    ts_h5_close(&d);
    if (st != TS_OK)
        return st;
    if (n < 0 || (hsize_t)n > MAX_AXIS)
        return ts_error_set(err, TS_EINPUT, "%s: /pair_organisation is not an axis of an output",
                            r->path);
    in->n_pairs = (size_t)n;
    r->pair_org = malloc((in->n_pairs ? in->n_pairs : 1) * sizeof *r->pair_org);
    r->pair_partner = malloc((in->n_pairs ? in->n_pairs : 1) * sizeof *r->pair_partner);
    int64_t *index = malloc((in->n_pairs ? in->n_pairs : 1) * sizeof *index);
    if (!r->pair_org || !r->pair_partner || !index) {
        free(index);
        return no_memory(r, err, "/pair_organisation");
    }
    static const char *const coords[2] = {"pair_organisation", "pair_partner"};
    for (int c = 0; c < 2 && st == TS_OK; c++) {
        char shown[32];
        snprintf(shown, sizeof shown, "/%s", coords[c]);
        const hsize_t want[1] = {in->n_pairs};
        st = open_checked(r, r->file, coords[c], shown, H5T_INTEGER, 1, want, &d, err);
        if (st == TS_OK && in->n_pairs > 0 &&
            H5Dread(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, index) < 0)
            st = h5_fail(r, err, TS_ERUNTIME, "%s: cannot read", shown);
        ts_h5_close(&d);
        size_t *out = c == 0 ? r->pair_org : r->pair_partner;
        for (size_t k = 0; st == TS_OK && k < in->n_pairs; k++) {
            if (index[k] < 0 || (uint64_t)index[k] >= in->n_orgs)
                st = ts_error_set(err, TS_EINPUT,
                                  "%s: %s[%zu] is %lld, not an organisation of the %zu", r->path,
                                  shown, k, (long long)index[k], in->n_orgs);
            else
                out[k] = (size_t)index[k];
        }
    }
    free(index);
    return st;
}

/* /done, /time and /organisation: the axes the rest is checked against. */
static ts_status read_axes(ts_reader *r, ts_error *err)
{
    ts_file_info *in = &r->info;
    hid_t d = H5I_INVALID_HID;
    hsize_t runs[2] = {in->n_points, in->n_replicates}, n;
    ts_status st = open_checked(r, r->file, "done", "/done", H5T_INTEGER, 2, runs, &d, err);
    if (st == TS_OK && !(r->done = malloc(in->n_points * in->n_replicates)))
        st = no_memory(r, err, "/done");
    if (st == TS_OK && H5Dread(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, r->done) < 0)
        st = h5_fail(r, err, TS_ERUNTIME, "/done: cannot read");
    ts_h5_close(&d);
    for (size_t i = 0; st == TS_OK && i < in->n_points * in->n_replicates; i++)
        in->n_done += r->done[i] == 1;

    if (st == TS_OK)
        st = axis_length(r, "time", H5T_INTEGER, &n, &d, err);
    if (st == TS_OK) {
        in->n_times = (size_t)n;
        if (!(r->ticks = malloc(n * sizeof *r->ticks)))
            st = no_memory(r, err, "/time");
        else if (H5Dread(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, r->ticks) < 0)
            st = h5_fail(r, err, TS_ERUNTIME, "/time: cannot read");
    }
    ts_h5_close(&d);

    if (st == TS_OK)
        st = axis_length(r, "organisation", H5T_STRING, &n, &d, err);
    if (st == TS_OK && n > MAX_NAMES * 16)
        st = ts_error_set(err, TS_EINPUT, "%s: /organisation names %llu organisations", r->path,
                          (unsigned long long)n);
    if (st == TS_OK) {
        in->n_orgs = (size_t)n;
        in->n_pairs = in->n_orgs * in->n_orgs;
        if (!(r->orgs = ts_h5_read_strings(d, in->n_orgs, MAX_NAME_LEN)))
            st = h5_fail(r, err, TS_ERUNTIME, "/organisation: cannot read");
    }
    ts_h5_close(&d);
    if (st == TS_OK && in->format_version >= 2)
        st = read_pairs(r, err);
    return st;
}

/* Metrics in the model's order, names it does not know after them. */
static int metric_order(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    int i = ts_metric_find(x), j = ts_metric_find(y);
    i = i < 0 ? 1 << 20 : i;
    j = j < 0 ? 1 << 20 : j;
    return i != j ? (i < j ? -1 : 1) : strcmp(x, y);
}

static ts_status open_series(ts_reader *r, ts_error *err)
{
    if (!is_group(r->file, "series"))
        return ts_error_set(err, TS_EINPUT, "%s: not a trustsim output: no group /series", r->path);
    char **names;
    int n;
    ts_status st = list_group(r, "/series", &names, &n, err);
    if (st != TS_OK)
        return st;
    qsort(names, (size_t)n, sizeof *names, metric_order);
    r->metrics = names;
    r->info.n_metrics = n;
    if (!(r->series = malloc(((size_t)n + 1) * sizeof *r->series)))
        return no_memory(r, err, "/series");
    for (int m = 0; m < n; m++)
        r->series[m] = H5I_INVALID_HID;
    const hsize_t want[3] = {r->info.n_points, r->info.n_replicates, r->info.n_times};
    for (int m = 0; m < n && st == TS_OK; m++) {
        char shown[MAX_NAME_LEN + 16];
        snprintf(shown, sizeof shown, "/series/%s", names[m]);
        hid_t g = H5Gopen2(r->file, "series", H5P_DEFAULT);
        st = g < 0 ? h5_fail(r, err, TS_ERUNTIME, "/series: cannot open")
                   : open_checked(r, g, names[m], shown, H5T_FLOAT, 3, want, &r->series[m], err);
        ts_h5_close(&g);
    }
    return st;
}

static ts_status open_final(ts_reader *r, ts_error *err)
{
    if (!is_group(r->file, "final"))
        return ts_error_set(err, TS_EINPUT, "%s: not a trustsim output: no group /final", r->path);
    const ts_file_info *in = &r->info;
    const hsize_t orgs[3] = {in->n_points, in->n_replicates, in->n_orgs};
    const hsize_t dense[4] = {in->n_points, in->n_replicates, in->n_orgs, in->n_orgs};
    const hsize_t pairs[3] = {in->n_points, in->n_replicates, in->n_pairs};
    /* format 1: [organisation, partner] for every two organisations; 2: along `pair` */
    const int rank = r->pair_org ? 3 : 4;
    const hsize_t *shape = r->pair_org ? pairs : dense;
    ts_status st = open_checked(r, r->file, "final/trust_interorg", "/final/trust_interorg",
                                H5T_FLOAT, rank, shape, &r->trust, err);
    if (st == TS_OK)
        st = open_checked(r, r->file, "final/stage", "/final/stage", H5T_INTEGER, rank, shape,
                          &r->stage, err);
    if (st == TS_OK)
        st = open_checked(r, r->file, "final/faith", "/final/faith", H5T_FLOAT, 3, orgs, &r->faith,
                          err);
    if (st == TS_OK)
        st = open_checked(r, r->file, "final/active", "/final/active", H5T_INTEGER, 3, orgs,
                          &r->active, err);
    return st;
}

/* A scalar (or one-element) string dataset under /scenario, "" when absent. */
static ts_status read_text(ts_reader *r, const char *name, char **out, ts_error *err)
{
    char path[64];
    snprintf(path, sizeof path, "/scenario/%s", name);
    if (!is_group(r->file, "scenario") || !is_dataset(r->file, path)) {
        *out = strdup("");
        return *out ? TS_OK : no_memory(r, err, path);
    }
    hid_t d = H5Dopen2(r->file, path, H5P_DEFAULT);
    hid_t space = d >= 0 ? H5Dget_space(d) : H5I_INVALID_HID;
    hssize_t n = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    ts_h5_close(&space);
    ts_status st = TS_OK;
    char **s = NULL;
    if (d < 0)
        st = h5_fail(r, err, TS_ERUNTIME, "%s: cannot open", path);
    else if (n != 1)
        st = ts_error_set(err, TS_EINPUT, "%s: %s is not one string", r->path, path);
    else if (!(s = ts_h5_read_strings(d, 1, MAX_TEXT_LEN)))
        st = h5_fail(r, err, TS_ERUNTIME, "%s: cannot read", path);
    ts_h5_close(&d);
    if (st == TS_OK) {
        *out = s[0];
        free(s);
    }
    return st;
}

/* Put the swept parameters in the order of the stored scenario's sweep block (HDF5 lists them
 * by name); left by name when the scenario cannot be read. */
static void order_params(ts_reader *r)
{
    ts_scenario sc;
    ts_error ignored;
    if (!r->resolved[0] || ts_scenario_load_string(&sc, r->resolved, r->path, &ignored) != TS_OK)
        return;
    int next = 0; /* params[0..next) are in sweep order */
    for (int c = 0; c < sc.params.sweep.n_params; c++) {
        for (int i = next; i < r->info.n_params; i++) {
            if (strcmp(r->params[i], sc.params.sweep.params[c].path) == 0) {
                char *tmp = r->params[next];
                r->params[next++] = r->params[i];
                r->params[i] = tmp;
                break;
            }
        }
    }
    ts_scenario_destroy(&sc);
}

static ts_status open_points(ts_reader *r, ts_error *err)
{
    ts_status st = list_group(r, "/points", &r->params, &r->info.n_params, err);
    const hsize_t want[1] = {r->info.n_points};
    for (int k = 0; k < r->info.n_params && st == TS_OK; k++) {
        char path[MAX_NAME_LEN + 16];
        snprintf(path, sizeof path, "/points/%s", r->params[k]);
        hid_t d;
        st = open_checked(r, r->file, path, path, H5T_FLOAT, 1, want, &d, err);
        ts_h5_close(&d);
    }
    return st;
}

static ts_status open_file(ts_reader *r, ts_error *err)
{
    ts_status st = check_format(r, err);
    if (st == TS_OK)
        st = read_axes(r, err);
    if (st == TS_OK)
        st = open_series(r, err);
    if (st == TS_OK)
        st = open_final(r, err);
    if (st == TS_OK)
        st = read_text(r, "text", &r->text, err);
    if (st == TS_OK)
        st = read_text(r, "resolved", &r->resolved, err);
    if (st == TS_OK)
        st = open_points(r, err);
    if (st == TS_OK)
        order_params(r);
    if (st == TS_OK)
        st = list_group(r, "/sensitivity", &r->analyses, &r->info.n_sensitivity, err);
    if (st == TS_OK)
        r->info.has_summary = is_group(r->file, "summary");
    return st;
}

static ts_reader *reader_new(const char *path)
{
    ts_reader *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->file = r->trust = r->stage = r->faith = r->active = H5I_INVALID_HID;
    if (!(r->path = strdup(path))) {
        free(r);
        return NULL;
    }
    return r;
}

void ts_reader_close(ts_reader *r)
{
    if (!r)
        return;
    for (int m = 0; r->series && m < r->info.n_metrics; m++)
        ts_h5_close(&r->series[m]);
    ts_h5_close(&r->trust);
    ts_h5_close(&r->stage);
    ts_h5_close(&r->faith);
    ts_h5_close(&r->active);
    ts_h5_close(&r->file);
    free(r->series);
    free_names(r->metrics, r->info.n_metrics);
    free_names(r->params, r->info.n_params);
    free_names(r->analyses, r->info.n_sensitivity);
    ts_h5_free_strings(r->orgs, r->orgs ? r->info.n_orgs : 0);
    free(r->pair_org);
    free(r->pair_partner);
    free(r->ticks);
    free(r->done);
    free(r->text);
    free(r->resolved);
    free(r->path);
    free(r);
}

/* Finish opening r, whose file is open (or failed to open with status st). */
static ts_status finish_open(ts_reader **out, ts_reader *r, ts_status st, ts_error *err)
{
    if (st == TS_OK)
        st = open_file(r, err);
    if (st != TS_OK) {
        ts_reader_close(r);
        return st;
    }
    *out = r;
    return TS_OK;
}

ts_status ts_reader_open(ts_reader **out, const char *path, ts_error *err)
{
    *out = NULL;
    ts_reader *r = reader_new(path);
    if (!r)
        return ts_error_set(err, TS_ERUNTIME, "%s: out of memory (%s)", path, strerror(ENOMEM));
    ts_h5_quiet q = ts_h5_quiet_begin();
    ts_status st = finish_open(out, r, ts_h5_open(path, false, &r->file, err), err);
    ts_h5_quiet_end(q);
    return st;
}

ts_status ts_reader_open_image(ts_reader **out, const void *image, size_t size, const char *name,
                               ts_error *err)
{
    *out = NULL;
    ts_reader *r = reader_new(name);
    if (!r)
        return ts_error_set(err, TS_ERUNTIME, "%s: out of memory (%s)", name, strerror(ENOMEM));
    ts_h5_quiet q = ts_h5_quiet_begin();
    ts_status st = finish_open(out, r, ts_h5_open_image(image, size, name, &r->file, err), err);
    ts_h5_quiet_end(q);
    return st;
}

/* ---- what was read at opening ------------------------------------------------------------ */

const ts_file_info *ts_reader_info(const ts_reader *r)
{
    return &r->info;
}

const char *ts_reader_path(const ts_reader *r)
{
    return r->path;
}

const int64_t *ts_reader_ticks(const ts_reader *r)
{
    return r->ticks;
}

const uint8_t *ts_reader_done(const ts_reader *r)
{
    return r->done;
}

bool ts_reader_run_done(const ts_reader *r, size_t point, size_t replicate)
{
    return point < r->info.n_points && replicate < r->info.n_replicates &&
           r->done[point * r->info.n_replicates + replicate] == 1;
}

const char *ts_reader_metric(const ts_reader *r, int m)
{
    return m >= 0 && m < r->info.n_metrics ? r->metrics[m] : NULL;
}

int ts_reader_metric_index(const ts_reader *r, const char *name)
{
    for (int m = 0; m < r->info.n_metrics; m++)
        if (strcmp(r->metrics[m], name) == 0)
            return m;
    return -1;
}

const char *ts_reader_org(const ts_reader *r, size_t o)
{
    return o < r->info.n_orgs ? r->orgs[o] : NULL;
}

const char *ts_reader_param(const ts_reader *r, int k)
{
    return k >= 0 && k < r->info.n_params ? r->params[k] : NULL;
}

const char *ts_reader_sensitivity(const ts_reader *r, int i)
{
    return i >= 0 && i < r->info.n_sensitivity ? r->analyses[i] : NULL;
}

void ts_reader_pair(const ts_reader *r, size_t k, size_t *org, size_t *partner)
{
    if (r->pair_org) {
        *org = r->pair_org[k];
        *partner = r->pair_partner[k];
    } else {
        *org = k / r->info.n_orgs;
        *partner = k % r->info.n_orgs;
    }
}

const char *ts_reader_scenario_text(const ts_reader *r)
{
    return r->text;
}

const char *ts_reader_scenario_resolved(const ts_reader *r)
{
    return r->resolved;
}

/* ---- reading slices ---------------------------------------------------------------------- */

/* Read the box start[0..rank) + count[0..rank) of dataset d (checked at opening to have the
 * file's axes) as mem_type into out. */
static ts_status read_box(const ts_reader *r, hid_t d, const char *shown, int rank,
                          const hsize_t *start, const hsize_t *count, hid_t mem_type, void *out,
                          ts_error *err)
{
    hsize_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= count[i];
    ts_h5_quiet q = ts_h5_quiet_begin();
    hid_t space = H5Dget_space(d), mem = H5Screate_simple(1, &n, NULL);
    ts_status st = TS_OK;
    if (space < 0 || mem < 0 ||
        H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
        H5Dread(d, mem_type, mem, space, H5P_DEFAULT, out) < 0)
        st = h5_fail(r, err, TS_ERUNTIME, "%s: cannot read", shown);
    ts_h5_close(&mem);
    ts_h5_close(&space);
    ts_h5_quiet_end(q);
    return st;
}

static ts_status check_point(const ts_reader *r, size_t point, size_t n, ts_error *err)
{
    if (point >= r->info.n_points || n > r->info.n_points - point)
        return ts_error_set(
            err, TS_EINPUT, "%s: point %zu is out of range: the file has %zu point%s (0 to %zu)",
            r->path, point + (point < r->info.n_points ? n - 1 : 0), r->info.n_points,
            r->info.n_points == 1 ? "" : "s", r->info.n_points - 1);
    return TS_OK;
}

static ts_status check_metric(const ts_reader *r, int m, ts_error *err)
{
    if (m < 0 || m >= r->info.n_metrics)
        return ts_error_set(err, TS_EINPUT, "%s: no metric %d", r->path, m);
    return TS_OK;
}

ts_status ts_reader_series(const ts_reader *r, int m, size_t point, double *out, ts_error *err)
{
    ts_status st = check_metric(r, m, err);
    if (st == TS_OK)
        st = check_point(r, point, 1, err);
    if (st != TS_OK)
        return st;
    char shown[MAX_NAME_LEN + 16];
    snprintf(shown, sizeof shown, "/series/%s", r->metrics[m]);
    const hsize_t start[3] = {point, 0, 0}, count[3] = {1, r->info.n_replicates, r->info.n_times};
    return read_box(r, r->series[m], shown, 3, start, count, H5T_NATIVE_DOUBLE, out, err);
}

ts_status ts_reader_series_at(const ts_reader *r, int m, size_t point, size_t n, size_t t,
                              double *out, ts_error *err)
{
    ts_status st = check_metric(r, m, err);
    if (st == TS_OK)
        st = check_point(r, point, n > 0 ? n : 1, err);
    if (st == TS_OK && t >= r->info.n_times)
        st = ts_error_set(err, TS_EINPUT, "%s: time index %zu is past the last (%zu)", r->path, t,
                          r->info.n_times - 1);
    if (st != TS_OK || n == 0)
        return st;
    char shown[MAX_NAME_LEN + 16];
    snprintf(shown, sizeof shown, "/series/%s", r->metrics[m]);
    const hsize_t start[3] = {point, 0, t}, count[3] = {n, r->info.n_replicates, 1};
    return read_box(r, r->series[m], shown, 3, start, count, H5T_NATIVE_DOUBLE, out, err);
}

ts_status ts_reader_summary(const ts_reader *r, int m, const char *stat, double *out, ts_error *err)
{
    ts_status st = check_metric(r, m, err);
    if (st != TS_OK)
        return st;
    bool known = false;
    for (size_t k = 0; k < sizeof summary_stats / sizeof summary_stats[0]; k++)
        known |= strcmp(stat, summary_stats[k]) == 0;
    char group[MAX_NAME_LEN + 16], path[MAX_NAME_LEN + 32];
    snprintf(group, sizeof group, "/summary/%s", r->metrics[m]);
    snprintf(path, sizeof path, "%s/%s", group, stat);
    ts_h5_quiet q = ts_h5_quiet_begin();
    const hsize_t want[2] = {r->info.n_points, r->info.n_times}, start[2] = {0, 0};
    hid_t d = H5I_INVALID_HID;
    if (!known || !r->info.has_summary || !is_group(r->file, group) || !is_dataset(r->file, path))
        st = ts_error_set(err, TS_EINPUT, "%s: no summary %s", r->path, path);
    else
        st = open_checked(r, r->file, path, path, H5T_FLOAT, 2, want, &d, err);
    ts_h5_quiet_end(q);
    if (st == TS_OK)
        st = read_box(r, d, path, 2, start, want, H5T_NATIVE_DOUBLE, out, err);
    ts_h5_close(&d);
    return st;
}

ts_status ts_reader_points(const ts_reader *r, int k, double *out, ts_error *err)
{
    if (k < 0 || k >= r->info.n_params)
        return ts_error_set(err, TS_EINPUT, "%s: no swept parameter %d", r->path, k);
    char path[MAX_NAME_LEN + 16];
    snprintf(path, sizeof path, "/points/%s", r->params[k]);
    ts_h5_quiet q = ts_h5_quiet_begin();
    const hsize_t want[1] = {r->info.n_points}, start[1] = {0};
    hid_t d;
    ts_status st = open_checked(r, r->file, path, path, H5T_FLOAT, 1, want, &d, err);
    ts_h5_quiet_end(q);
    if (st == TS_OK)
        st = read_box(r, d, path, 1, start, want, H5T_NATIVE_DOUBLE, out, err);
    ts_h5_close(&d);
    return st;
}

/* One point of a [point, replicate, ...] final-state dataset: `inner` values per run. */
static ts_status read_final(const ts_reader *r, hid_t d, const char *shown, size_t point, int rank,
                            hid_t mem_type, void *out, ts_error *err)
{
    ts_status st = check_point(r, point, 1, err);
    if (st != TS_OK)
        return st;
    const hsize_t start[4] = {point, 0, 0, 0};
    const bool by_pair = d == r->trust || d == r->stage;
    const hsize_t count[4] = {1, r->info.n_replicates,
                              by_pair && r->pair_org ? r->info.n_pairs : r->info.n_orgs,
                              r->info.n_orgs};
    if (by_pair && r->info.n_pairs == 0)
        return TS_OK; /* nothing to read */
    return read_box(r, d, shown, rank, start, count, mem_type, out, err);
}

ts_status ts_reader_final_trust(const ts_reader *r, size_t point, double *out, ts_error *err)
{
    return read_final(r, r->trust, "/final/trust_interorg", point, r->pair_org ? 3 : 4,
                      H5T_NATIVE_DOUBLE, out, err);
}

ts_status ts_reader_final_stage(const ts_reader *r, size_t point, int8_t *out, ts_error *err)
{
    return read_final(r, r->stage, "/final/stage", point, r->pair_org ? 3 : 4, H5T_NATIVE_INT8, out,
                      err);
}

ts_status ts_reader_final_faith(const ts_reader *r, size_t point, double *out, ts_error *err)
{
    return read_final(r, r->faith, "/final/faith", point, 3, H5T_NATIVE_DOUBLE, out, err);
}

ts_status ts_reader_final_active(const ts_reader *r, size_t point, uint8_t *out, ts_error *err)
{
    return read_final(r, r->active, "/final/active", point, 3, H5T_NATIVE_UINT8, out, err);
}

/* ---- verification ------------------------------------------------------------------------ */

/* A chunk larger than this is no chunk this program wrote; it is reported, not read. */
#define MAX_CHUNK_BYTES ((size_t)64 << 20)

typedef struct verifier {
    const char *path;
    ts_verify_fn fn;
    void *ctx;
    ts_verify_report *rep;
} verifier;

static void report(verifier *v, const char *dataset, bool damage, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void report(verifier *v, const char *dataset, bool damage, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (damage)
        v->rep->damaged++;
    else
        v->rep->unprotected++;
    if (v->fn)
        v->fn(v->ctx, dataset, text);
}

static bool has_fletcher32(hid_t dcpl)
{
    int n = H5Pget_nfilters(dcpl);
    for (int i = 0; i < n; i++) {
        unsigned flags, config;
        size_t nv = 0;
        if (H5Pget_filter2(dcpl, (unsigned)i, &flags, &nv, NULL, 0, NULL, &config) ==
            H5Z_FILTER_FLETCHER32)
            return true;
    }
    return false;
}

/* Strings: read whole (through the filters of their chunks, if any), then against the crc32
 * attribute, which covers the characters HDF5 keeps outside the chunks. */
static void verify_strings(verifier *v, hid_t d, const char *name, hssize_t n)
{
    v->rep->chunks++;
    char **s =
        n >= 0 && n <= MAX_NAMES * 16 ? ts_h5_read_strings(d, (size_t)n, MAX_TEXT_LEN) : NULL;
    if (!s) {
        char why[256];
        ts_h5_reason(why, sizeof why);
        report(v, name, true, "cannot be read: %s", why);
        return;
    }
    uint64_t want;
    if (!ts_h5_u64_attr(d, "crc32", &want))
        report(v, name, false, "no checksum: strings without a crc32 attribute");
    else if (ts_h5_strings_crc32((const char *const *)s, (size_t)n) != (uint32_t)want)
        report(v, name, true, "the strings do not match their crc32 attribute");
    ts_h5_free_strings(s, (size_t)n);
}

/* Every chunk of a chunked dataset read through HDF5's filters: a chunk failing its
 * Fletcher-32 checksum (or its decompression) fails the read. */
static void verify_chunks(verifier *v, hid_t d, const char *name, hid_t dcpl, hid_t space,
                          hid_t mtype)
{
    int rank = H5Sget_simple_extent_ndims(space);
    hsize_t dims[H5S_MAX_RANK], chunk[H5S_MAX_RANK], n_chunks = 0;
    if (rank < 1 || H5Sget_simple_extent_dims(space, dims, NULL) != rank ||
        H5Pget_chunk(dcpl, rank, chunk) != rank || H5Dget_num_chunks(d, space, &n_chunks) < 0) {
        char why[256];
        ts_h5_reason(why, sizeof why);
        report(v, name, true, "cannot list its chunks: %s", why);
        return;
    }
    size_t elem = H5Tget_size(mtype), bytes = elem;
    for (int i = 0; i < rank && bytes <= MAX_CHUNK_BYTES; i++)
        bytes = chunk[i] > 0 && chunk[i] <= MAX_CHUNK_BYTES / bytes ? bytes * chunk[i]
                                                                    : MAX_CHUNK_BYTES + 1;
    if (elem == 0 || bytes > MAX_CHUNK_BYTES) {
        report(v, name, true, "chunks of %zu bytes or more: not a file this program wrote", bytes);
        return;
    }
    unsigned char *buf = malloc(bytes);
    hsize_t one = bytes / elem;
    hid_t mem = H5Screate_simple(1, &one, NULL);
    size_t bad = 0;
    char first[256] = "";
    for (hsize_t c = 0; buf && mem >= 0 && c < n_chunks; c++) {
        hsize_t at[H5S_MAX_RANK], count[H5S_MAX_RANK], size;
        haddr_t addr;
        unsigned mask;
        v->rep->chunks++;
        bool ok = H5Dget_chunk_info(d, space, c, at, &mask, &addr, &size) >= 0;
        hsize_t n = 1;
        for (int i = 0; ok && i < rank; i++) {
            ok = at[i] < dims[i];
            count[i] = ok && dims[i] - at[i] < chunk[i] ? dims[i] - at[i] : chunk[i];
            n *= count[i];
        }
        hid_t fs = ok ? H5Scopy(space) : H5I_INVALID_HID;
        ok = ok && fs >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, at, NULL, count, NULL) >= 0 &&
             H5Sselect_hyperslab(mem, H5S_SELECT_SET, (hsize_t[]){0}, NULL, &n, NULL) >= 0 &&
             H5Dread(d, mtype, mem, fs, H5P_DEFAULT, buf) >= 0;
        if (!ok && bad++ == 0)
            ts_h5_reason(first, sizeof first);
        ts_h5_close(&fs);
    }
    if (!buf || mem < 0)
        report(v, name, true, "cannot be checked: out of memory (%s)", strerror(ENOMEM));
    else if (bad)
        report(v, name, true, "%zu of %llu chunks cannot be read: %s", bad,
               (unsigned long long)n_chunks, first);
    else if (!has_fletcher32(dcpl))
        report(v, name, false, "no checksum: chunks without the Fletcher-32 filter");
    ts_h5_close(&mem);
    free(buf);
}

/* A contiguous or compact dataset: read whole. These carry no checksum of their own. */
static void verify_whole(verifier *v, hid_t d, const char *name, hid_t space, hid_t mtype)
{
    hssize_t n = H5Sget_simple_extent_npoints(space);
    size_t elem = H5Tget_size(mtype);
    v->rep->chunks++;
    if (n < 0 || elem == 0 || (size_t)n > MAX_CHUNK_BYTES / elem) {
        report(v, name, true,
               "%lld values: too large to be a dataset this program wrote "
               "unchunked",
               (long long)n);
        return;
    }
    unsigned char *buf = malloc((size_t)n * elem + 1);
    if (!buf || H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        char why[256];
        ts_h5_reason(why, sizeof why);
        report(v, name, true, "cannot be read: %s", buf ? why : strerror(ENOMEM));
    } else {
        report(v, name, false, "no checksum: stored unchunked");
    }
    free(buf);
}

static herr_t verify_object(hid_t loc, const char *name, const H5O_info_t *info, void *data)
{
    verifier *v = data;
    if (info->type != H5O_TYPE_DATASET)
        return 0;
    char shown[MAX_NAME_LEN + 2];
    snprintf(shown, sizeof shown, "/%s", name);
    v->rep->datasets++;
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    hid_t type = d >= 0 ? H5Dget_type(d) : H5I_INVALID_HID;
    hid_t space = d >= 0 ? H5Dget_space(d) : H5I_INVALID_HID;
    hid_t dcpl = d >= 0 ? H5Dget_create_plist(d) : H5I_INVALID_HID;
    if (d < 0 || type < 0 || space < 0 || dcpl < 0) {
        char why[256];
        ts_h5_reason(why, sizeof why);
        report(v, shown, true, "cannot be opened: %s", why);
    } else if (H5Tget_class(type) == H5T_STRING) {
        verify_strings(v, d, shown, H5Sget_simple_extent_npoints(space));
    } else {
        /* numbers as HDF5 would hand them to a program here; anything else (references of
         * the dimension scales' bookkeeping live in attributes, not datasets) byte for byte */
        hid_t mtype = H5Tget_native_type(type, H5T_DIR_ASCEND);
        if (mtype < 0)
            mtype = H5Tcopy(type);
        if (H5Pget_layout(dcpl) == H5D_CHUNKED)
            verify_chunks(v, d, shown, dcpl, space, mtype);
        else
            verify_whole(v, d, shown, space, mtype);
        ts_h5_close(&mtype);
    }
    ts_h5_close(&dcpl);
    ts_h5_close(&space);
    ts_h5_close(&type);
    ts_h5_close(&d);
    return 0;
}

static void verify_open_file(verifier *v, hid_t file)
{
    if (H5Ovisit(file, H5_INDEX_NAME, H5_ITER_INC, verify_object, v) < 0) {
        char why[256];
        ts_h5_reason(why, sizeof why);
        report(v, "/", true, "cannot visit every object: %s", why);
    }
}

ts_status ts_reader_verify(const char *path, ts_verify_fn fn, void *ctx, ts_verify_report *rep,
                           ts_error *err)
{
    memset(rep, 0, sizeof *rep);
    verifier v = {path, fn, ctx, rep};
    ts_h5_quiet q = ts_h5_quiet_begin();
    hid_t file;
    ts_status st = ts_h5_open(path, false, &file, err);
    if (st == TS_OK)
        verify_open_file(&v, file);
    ts_h5_close(&file);
    ts_h5_quiet_end(q);
    return st;
}

ts_status ts_reader_verify_image(const void *image, size_t size, const char *name, ts_verify_fn fn,
                                 void *ctx, ts_verify_report *rep, ts_error *err)
{
    memset(rep, 0, sizeof *rep);
    verifier v = {name, fn, ctx, rep};
    ts_h5_quiet q = ts_h5_quiet_begin();
    hid_t file;
    ts_status st = ts_h5_open_image(image, size, name, &file, err);
    if (st == TS_OK)
        verify_open_file(&v, file);
    ts_h5_close(&file);
    ts_h5_quiet_end(q);
    return st;
}
