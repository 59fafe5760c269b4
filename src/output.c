/* The HDF5 writer (see include/trustsim/output.h).
 *
 * For: laying out one self-describing file, streaming each run's series and final state into
 * its (point, replicate) slot with bounded memory, and summarising replicates per point when
 * the file is closed. Datasets are chunked a few runs at a time and compressed (shuffle +
 * deflate); dimension scales name every axis so that netCDF tools and xarray see dimensions
 * and coordinates, in the subgroups too (each group holds hard links to the scales it uses).
 *
 * Not for: reading results back, or concurrent calls. Serial HDF5 is not thread-safe, so
 * callers running replicates in parallel serialise their calls (an OpenMP critical section).
 * Every public call silences HDF5's error printing for its duration and returns HDF5's own
 * explanation of a failure in the ts_error instead. */
#include "trustsim/output.h"

#include "h5util.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <omp.h>
#include <zlib.h>
#include <gsl/gsl_statistics_double.h>
#include <hdf5.h>
#include <hdf5_hl.h>

#ifndef TRUSTSIM_VERSION
#error "TRUSTSIM_VERSION must be defined by the build"
#endif

enum {
    FORMAT_VERSION = 1,
    DEFLATE_LEVEL = 1,         /* level 1 compresses these series nearly as well as 6, faster */
    RUNS_PER_CHUNK = 32,       /* runs sharing a chunk of series and final state */
    FLAGS_PER_CHUNK = 4096,    /* entries of /done sharing a chunk */
    CHUNK_MAX_BYTES = 1 << 20, /* a chunk never exceeds this, whatever the run length */
    CHUNKS_IN_CACHE = 8,
    ZLIB_STRATEGY = Z_RLE, /* as small as the default on these series, twice as fast */       /* per dataset: runs finishing out of order stay in memory */
    CACHE_SLOTS = 1009,        /* prime, well above the chunks that fit in the cache */
    DIAG_SIZE = 512
};

/* The axes of every dataset; each has a dimension scale of the same name at the root. */
enum { DIM_POINT, DIM_REPLICATE, DIM_TIME, DIM_ORG, DIM_PARTNER, N_DIMS };
static const char *const dim_names[N_DIMS] = {"point", "replicate", "time", "organisation",
                                              "partner"};

/* Series up to this size are held in memory and, at the close, summarised without being read
 * back and compressed on every thread; larger ones stream through HDF5's chunk cache. */
#define HELD_MAX_BYTES ((size_t)256 << 20)

static const char *const summary_names[] = {"mean", "sd", "q05", "q50", "q95"};
enum { N_SUMMARIES = sizeof summary_names / sizeof summary_names[0] };

struct ts_output {
    char *path; /* the target, created by the rename in ts_output_close */
    char *part; /* the temporary file written until then */
    hid_t file;
    hsize_t dim[N_DIMS]; /* length of each axis */
    int n_metrics;
    char **metric_names;
    hid_t scale[N_DIMS];
    hid_t *series; /* [n_metrics] */
    hid_t trust, stage, faith, active, done;
    /* File dataspaces (one hyperslab selected per write) and the matching memory shapes. */
    hid_t space_series, space_pairs, space_orgs, space_done;
    hid_t mem_times, mem_pairs, mem_orgs, mem_one;
    uint8_t *done_mask;   /* [point][replicate], mirrors /done for the summaries */
    int threads;          /* summarising and compressing at close */
    /* [n_metrics][point][replicate][time]: the series, held in memory until the close when
     * they fit in HELD_MAX_BYTES (NULL: written to the file run by run) */
    double *held;
    char diag[DIAG_SIZE]; /* HDF5's explanation of the first failure, until reported */
};

/* ---- errors ------------------------------------------------------------------------------ */

static herr_t keep_innermost(unsigned n, const H5E_error2_t *e, void *data)
{
    (void)n;
    char *diag = data;
    char minor[128] = "";
    if (H5Eget_msg(e->min_num, NULL, minor, sizeof minor) < 0)
        minor[0] = '\0';
    snprintf(diag, DIAG_SIZE, "%s%s%s%s", e->desc ? e->desc : "", minor[0] ? " (" : "", minor,
             minor[0] ? ")" : "");
    return 0;
}

/* True if rc reports a failure. The first failure's explanation is kept before the cleanup
 * calls that follow it clear HDF5's error stack. */
static bool failed(ts_output *o, hid_t rc)
{
    if (rc >= 0)
        return false;
    if (!o->diag[0]) {
        H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, keep_innermost, o->diag);
        if (!o->diag[0])
            snprintf(o->diag, sizeof o->diag, "HDF5 call failed");
    }
    return true;
}

/* "PATH: what: HDF5's explanation", and forget the explanation. */
static ts_status fail(ts_output *o, ts_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static ts_status fail(ts_output *o, ts_error *err, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    ts_status st = ts_error_set(err, TS_ERUNTIME, "%s: %s%s%s", o->path, what,
                                o->diag[0] ? ": " : "", o->diag);
    o->diag[0] = '\0';
    return st;
}

/* ---- small HDF5 helpers ------------------------------------------------------------------ */

/* Variable-length UTF-8 strings, for names and texts. */
static hid_t utf8_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t >= 0 && (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0)) {
        H5Tclose(t);
        return H5I_INVALID_HID;
    }
    return t;
}

static herr_t write_attr(ts_output *o, hid_t loc, const char *name, hid_t file_type, hid_t mem_type,
                         const void *value)
{
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t attr = H5I_INVALID_HID;
    herr_t rc = -1;
    if (!failed(o, space) &&
        !failed(o, attr = H5Acreate2(loc, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT)))
        rc = H5Awrite(attr, mem_type, value);
    failed(o, rc);
    ts_h5_close(&attr);
    ts_h5_close(&space);
    return rc;
}

static herr_t write_string_attr(ts_output *o, hid_t loc, const char *name, const char *value)
{
    hid_t type = utf8_type();
    herr_t rc = failed(o, type) ? -1 : write_attr(o, loc, name, type, type, &value);
    ts_h5_close(&type);
    return rc;
}

/* A contiguous dataset written whole at creation: coordinates, texts, swept values. mem_space
 * and mem_select pick the values out of buf (H5S_ALL: buf holds exactly the dataset). */
static hid_t write_whole(ts_output *o, hid_t loc, const char *name, hid_t file_type, hid_t mem_type,
                         int rank, const hsize_t *dims, hid_t mem_space, const void *buf)
{
    hid_t space = rank ? H5Screate_simple(rank, dims, NULL) : H5Screate(H5S_SCALAR);
    hid_t dset = H5I_INVALID_HID;
    if (!failed(o, space) &&
        !failed(o, dset = H5Dcreate2(loc, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT,
                                     H5P_DEFAULT)) &&
        failed(o, H5Dwrite(dset, mem_type, mem_space, H5S_ALL, H5P_DEFAULT, buf)))
        ts_h5_close(&dset);
    ts_h5_close(&space);
    return dset;
}

/* The largest divisor of n not above limit (at least 1). */
static hsize_t divisor_at_most(hsize_t n, hsize_t limit)
{
    for (hsize_t d = limit < n ? limit : n; d > 1; d--)
        if (n % d == 0)
            return d;
    return 1;
}

/* Chunk shape. The axes from n_lead on are kept whole (cut into equal parts only if a chunk
 * would pass CHUNK_MAX_BYTES); up to `runs` entries of the leading axes share a chunk, the
 * innermost leading axis first, and an outer one only once the inner ones are whole (a chunk
 * spanning points with gaps would stay half-written while their other replicates run). Each
 * extent divides its axis: HDF5 1.10 keeps a partial edge chunk of a filtered dataset in
 * memory until the dataset is closed, which grew a sweep's memory by one chunk per point. */
static void choose_chunk(int rank, int n_lead, const hsize_t *dims, size_t elem, hsize_t runs,
                         hsize_t *chunk)
{
    hsize_t bytes = elem;
    for (int i = n_lead; i < rank; i++) {
        chunk[i] = dims[i];
        bytes *= dims[i];
    }
    for (int i = n_lead; i < rank && bytes > CHUNK_MAX_BYTES; i++) {
        hsize_t others = bytes / chunk[i];
        hsize_t fit = CHUNK_MAX_BYTES / others;
        chunk[i] = divisor_at_most(dims[i], fit > 0 ? fit : 1);
        bytes = others * chunk[i];
    }
    hsize_t budget = CHUNK_MAX_BYTES / bytes;
    budget = budget < runs ? budget : runs;
    for (int i = n_lead - 1; i >= 0; i--) {
        chunk[i] = divisor_at_most(dims[i], budget > 0 ? budget : 1);
        budget = chunk[i] < dims[i] ? 1 : budget / chunk[i];
    }
}

/* A chunked, compressed dataset over the given axes, filled with *fill until written, with
 * its dimension scales attached. */
static hid_t create_array(ts_output *o, hid_t loc, const char *name, hid_t file_type,
                          hid_t mem_type, const void *fill, int rank, const int *axes, int n_lead,
                          hsize_t runs)
{
    hsize_t dims[4], chunk[4];
    for (int i = 0; i < rank; i++)
        dims[i] = o->dim[axes[i]];
    choose_chunk(rank, n_lead, dims, H5Tget_size(file_type), runs, chunk);

    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t dset = H5I_INVALID_HID;
    if (!failed(o, space) && !failed(o, dcpl) && !failed(o, H5Pset_chunk(dcpl, rank, chunk)) &&
        !failed(o, H5Pset_shuffle(dcpl)) && !failed(o, H5Pset_deflate(dcpl, DEFLATE_LEVEL)) &&
        !failed(o, H5Pset_fill_value(dcpl, mem_type, fill)) &&
        !failed(o,
                dset = H5Dcreate2(loc, name, file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT))) {
        for (int i = 0; i < rank; i++) {
            if (failed(o, H5DSattach_scale(dset, o->scale[axes[i]], (unsigned)i))) {
                ts_h5_close(&dset);
                break;
            }
        }
    }
    ts_h5_close(&dcpl);
    ts_h5_close(&space);
    return dset;
}

/* A group holding hard links to the scales of its datasets, so that a reader opening only
 * this group (xarray's group=) still finds the coordinates. */
static hid_t create_group(ts_output *o, hid_t loc, const char *name, int n_axes, const int *axes)
{
    hid_t group = H5Gcreate2(loc, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (failed(o, group))
        return group;
    for (int i = 0; i < n_axes; i++) {
        const char *scale = dim_names[axes[i]];
        if (failed(o, H5Lcreate_hard(o->file, scale, group, scale, H5P_DEFAULT, H5P_DEFAULT))) {
            ts_h5_close(&group);
            break;
        }
    }
    return group;
}

/* Select the slot of run (point, replicate) in a [point, replicate, ...] file space. */
static herr_t select_run(hid_t space, size_t point, size_t replicate)
{
    hsize_t start[4] = {point, replicate, 0, 0}, count[4];
    int rank = H5Sget_simple_extent_ndims(space);
    if (rank < 2 || rank > 4 || H5Sget_simple_extent_dims(space, count, NULL) < 0)
        return -1;
    count[0] = count[1] = 1;
    return H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, count, NULL);
}

/* ---- creation ---------------------------------------------------------------------------- */

/* Names become HDF5 link names: non-empty, no '/', not "." and not a scale's name. */
static bool bad_name(const char *name)
{
    if (!name || !name[0] || strchr(name, '/') || strcmp(name, ".") == 0)
        return true;
    for (int d = 0; d < N_DIMS; d++)
        if (strcmp(name, dim_names[d]) == 0)
            return true;
    return false;
}

static ts_status check_spec(const char *path, const ts_output_spec *s, ts_error *err)
{
    if (!path || !path[0])
        return ts_error_set(err, TS_EINPUT, "output: no file name given");
    if (!s->scenario_name || !s->rng_type || !s->tick_unit || !s->scenario_text)
        return ts_error_set(err, TS_EINPUT,
                            "%s: output spec lacks the scenario name, rng type, tick unit "
                            "or scenario text",
                            path);
    if (s->n_points < 1 || s->n_replicates < 1 || s->n_times < 1 || s->n_orgs < 1 ||
        s->n_metrics < 0 || s->n_point_params < 0)
        return ts_error_set(err, TS_EINPUT,
                            "%s: output needs at least one point, replicate, time and "
                            "organisation (got %zu, %zu, %d, %d)",
                            path, s->n_points, s->n_replicates, s->n_times, s->n_orgs);
    if ((s->n_metrics > 0 && !s->metric_names) || !s->org_names ||
        (s->n_point_params > 0 && (!s->point_param_names || !s->point_values)))
        return ts_error_set(err, TS_EINPUT, "%s: output spec lacks names or swept values", path);
    for (int m = 0; m < s->n_metrics; m++)
        if (bad_name(s->metric_names[m]))
            return ts_error_set(err, TS_EINPUT, "%s: unusable metric name '%s'", path,
                                s->metric_names[m] ? s->metric_names[m] : "(null)");
    for (int k = 0; k < s->n_point_params; k++)
        if (bad_name(s->point_param_names[k]))
            return ts_error_set(err, TS_EINPUT, "%s: unusable swept parameter name '%s'", path,
                                s->point_param_names[k] ? s->point_param_names[k] : "(null)");
    for (int i = 0; i < s->n_orgs; i++)
        if (!s->org_names[i])
            return ts_error_set(err, TS_EINPUT, "%s: organisation %d has no name", path, i);
    return TS_OK;
}

static ts_status write_root_attrs(ts_output *o, const ts_output_spec *s, ts_error *err)
{
    char created[32];
    time_t now = time(NULL);
    struct tm utc;
    if (!gmtime_r(&now, &utc) || !strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &utc))
        snprintf(created, sizeof created, "unknown");
    const int version = FORMAT_VERSION;
    const uint64_t seed = s->master_seed, n_points = s->n_points, n_reps = s->n_replicates;
    const struct {
        const char *name, *value;
    } strings[] = {{"format", "trustsim"},         {"trustsim_version", TRUSTSIM_VERSION},
                   {"scenario", s->scenario_name}, {"rng_type", s->rng_type},
                   {"created", created},           {"tick_unit", s->tick_unit}};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
        if (write_string_attr(o, o->file, strings[i].name, strings[i].value) < 0)
            return fail(o, err, "cannot write attribute '%s'", strings[i].name);
    if (write_attr(o, o->file, "format_version", H5T_STD_I32LE, H5T_NATIVE_INT, &version) < 0 ||
        write_attr(o, o->file, "master_seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, &seed) < 0 ||
        write_attr(o, o->file, "n_points", H5T_STD_U64LE, H5T_NATIVE_UINT64, &n_points) < 0 ||
        write_attr(o, o->file, "n_replicates", H5T_STD_U64LE, H5T_NATIVE_UINT64, &n_reps) < 0)
        return fail(o, err, "cannot write the root attributes");
    return TS_OK;
}

static ts_status write_scenario(ts_output *o, const ts_output_spec *s, ts_error *err)
{
    hid_t type = utf8_type();
    hid_t group = H5I_INVALID_HID, text = H5I_INVALID_HID, resolved = H5I_INVALID_HID;
    bool ok =
        !failed(o, type) &&
        !failed(o,
                group = H5Gcreate2(o->file, "scenario", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) &&
        !failed(o, text = write_whole(o, group, "text", type, type, 0, NULL, H5S_ALL,
                                      &s->scenario_text)) &&
        (!s->resolved_text || !failed(o, resolved = write_whole(o, group, "resolved", type, type, 0,
                                                                NULL, H5S_ALL, &s->resolved_text)));
    ts_h5_close(&resolved);
    ts_h5_close(&text);
    ts_h5_close(&group);
    ts_h5_close(&type);
    return ok ? TS_OK : fail(o, err, "cannot write /scenario");
}

/* Root datasets /point, /replicate, /time (tick numbers), /organisation and /partner. */
static ts_status write_scales(ts_output *o, const ts_output_spec *s, ts_error *err)
{
    hsize_t longest = o->dim[DIM_POINT];
    for (int d = DIM_REPLICATE; d <= DIM_TIME; d++)
        longest = o->dim[d] > longest ? o->dim[d] : longest;
    int64_t *index = malloc(longest * sizeof *index);
    hid_t names = utf8_type();
    if (!index) {
        ts_h5_close(&names);
        return ts_error_set(err, TS_ERUNTIME, "%s: out of memory", o->path);
    }
    for (hsize_t i = 0; i < longest; i++)
        index[i] = (int64_t)i;

    bool ok = !failed(o, names);
    for (int d = 0; ok && d < N_DIMS; d++) {
        const bool named = d == DIM_ORG || d == DIM_PARTNER;
        hid_t ftype = named ? names : H5T_STD_I64LE, mtype = named ? names : H5T_NATIVE_INT64;
        const void *buf = named ? (const void *)s->org_names : index;
        o->scale[d] =
            write_whole(o, o->file, dim_names[d], ftype, mtype, 1, &o->dim[d], H5S_ALL, buf);
        ok = !failed(o, o->scale[d]) && !failed(o, H5DSset_scale(o->scale[d], dim_names[d]));
    }
    free(index);
    ts_h5_close(&names);
    if (!ok)
        return fail(o, err, "cannot write the dimension scales");

    /* The tick unit is not given as CF "units": xarray would try to decode "weeks since
     * start" as dates and refuse to open the file. */
    char long_name[96];
    snprintf(long_name, sizeof long_name, "%ss since start", s->tick_unit);
    if (write_string_attr(o, o->scale[DIM_TIME], "tick_unit", s->tick_unit) < 0 ||
        write_string_attr(o, o->scale[DIM_TIME], "long_name", long_name) < 0 ||
        write_string_attr(o, o->scale[DIM_ORG], "long_name", "organisation") < 0 ||
        write_string_attr(o, o->scale[DIM_PARTNER], "long_name", "partner organisation") < 0)
        return fail(o, err, "cannot describe the dimension scales");
    return TS_OK;
}

static ts_status create_series(ts_output *o, const ts_output_spec *s, ts_error *err)
{
    static const int axes[] = {DIM_POINT, DIM_REPLICATE, DIM_TIME};
    const double nan = NAN;
    hid_t group = create_group(o, o->file, "series", 3, axes);
    if (failed(o, group))
        return fail(o, err, "cannot create /series");
    ts_status st = TS_OK;
    for (int m = 0; m < s->n_metrics && st == TS_OK; m++) {
        const char *name = s->metric_names[m];
        o->series[m] = create_array(o, group, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &nan, 3,
                                    axes, 2, RUNS_PER_CHUNK);
        if (failed(o, o->series[m]) ||
            (s->metric_descriptions && s->metric_descriptions[m] &&
             write_string_attr(o, o->series[m], "long_name", s->metric_descriptions[m]) < 0) ||
            (s->metric_units && s->metric_units[m] &&
             write_string_attr(o, o->series[m], "units", s->metric_units[m]) < 0))
            st = fail(o, err, "cannot create /series/%s", name);
    }
    ts_h5_close(&group);
    return st;
}

static ts_status create_final(ts_output *o, ts_error *err)
{
    static const int pairs[] = {DIM_POINT, DIM_REPLICATE, DIM_ORG, DIM_PARTNER};
    const double nan = NAN;
    const int8_t no_stage = -1;
    const uint8_t inactive = 0;
    hid_t group = create_group(o, o->file, "final", 4, pairs);
    bool ok =
        !failed(o, group) &&
        !failed(o, o->trust = create_array(o, group, "trust_interorg", H5T_IEEE_F64LE,
                                           H5T_NATIVE_DOUBLE, &nan, 4, pairs, 2, RUNS_PER_CHUNK)) &&
        !failed(o, o->stage = create_array(o, group, "stage", H5T_STD_I8LE, H5T_NATIVE_INT8,
                                           &no_stage, 4, pairs, 2, RUNS_PER_CHUNK)) &&
        !failed(o, o->faith = create_array(o, group, "faith", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                                           &nan, 3, pairs, 2, RUNS_PER_CHUNK)) &&
        !failed(o, o->active = create_array(o, group, "active", H5T_STD_U8LE, H5T_NATIVE_UINT8,
                                            &inactive, 3, pairs, 2, RUNS_PER_CHUNK));
    ts_h5_close(&group);
    if (!ok)
        return fail(o, err, "cannot create /final");

    static const int runs[] = {DIM_POINT, DIM_REPLICATE};
    const uint8_t not_done = 0;
    o->done = create_array(o, o->file, "done", H5T_STD_U8LE, H5T_NATIVE_UINT8, &not_done, 2, runs,
                           2, FLAGS_PER_CHUNK);
    return failed(o, o->done) ? fail(o, err, "cannot create /done") : TS_OK;
}

/* /points/<parameter>: column k of the row-major [n_points][n_point_params] values. */
static ts_status write_points(ts_output *o, const ts_output_spec *s, ts_error *err)
{
    if (s->n_point_params == 0)
        return TS_OK;
    static const int axes[] = {DIM_POINT};
    hsize_t table[2] = {o->dim[DIM_POINT], (hsize_t)s->n_point_params};
    hid_t group = create_group(o, o->file, "points", 1, axes);
    hid_t mem = H5Screate_simple(2, table, NULL);
    ts_status st = TS_OK;
    if (failed(o, group) || failed(o, mem))
        st = fail(o, err, "cannot create /points");
    for (int k = 0; k < s->n_point_params && st == TS_OK; k++) {
        const char *name = s->point_param_names[k];
        hsize_t start[2] = {0, (hsize_t)k}, count[2] = {o->dim[DIM_POINT], 1};
        hid_t dset = H5I_INVALID_HID;
        if (failed(o, H5Sselect_hyperslab(mem, H5S_SELECT_SET, start, NULL, count, NULL)) ||
            failed(o, dset = write_whole(o, group, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1,
                                         &o->dim[DIM_POINT], mem, s->point_values)) ||
            failed(o, H5DSattach_scale(dset, o->scale[DIM_POINT], 0)))
            st = fail(o, err, "cannot write /points/%s", name);
        ts_h5_close(&dset);
    }
    ts_h5_close(&mem);
    ts_h5_close(&group);
    return st;
}

/* The dataspaces write_run selects into, made once so that a run costs no allocation. */
static ts_status create_spaces(ts_output *o, ts_error *err)
{
    hsize_t pairs = o->dim[DIM_ORG] * o->dim[DIM_PARTNER], one = 1;
    bool ok = !failed(o, o->space_done = H5Dget_space(o->done)) &&
              !failed(o, o->space_pairs = H5Dget_space(o->trust)) &&
              !failed(o, o->space_orgs = H5Dget_space(o->faith)) &&
              (o->n_metrics == 0 || !failed(o, o->space_series = H5Dget_space(o->series[0]))) &&
              !failed(o, o->mem_times = H5Screate_simple(1, &o->dim[DIM_TIME], NULL)) &&
              !failed(o, o->mem_pairs = H5Screate_simple(1, &pairs, NULL)) &&
              !failed(o, o->mem_orgs = H5Screate_simple(1, &o->dim[DIM_ORG], NULL)) &&
              !failed(o, o->mem_one = H5Screate_simple(1, &one, NULL));
    return ok ? TS_OK : fail(o, err, "cannot create dataspaces");
}

static void close_objects(ts_output *o)
{
    if (o->series)
        for (int m = 0; m < o->n_metrics; m++)
            ts_h5_close(&o->series[m]);
    hid_t *ids[] = {&o->trust,      &o->stage,        &o->faith,       &o->active,
                    &o->done,       &o->space_series, &o->space_pairs, &o->space_orgs,
                    &o->space_done, &o->mem_times,    &o->mem_pairs,   &o->mem_orgs,
                    &o->mem_one};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        ts_h5_close(ids[i]);
    for (int d = 0; d < N_DIMS; d++)
        ts_h5_close(&o->scale[d]);
}

static void output_free(ts_output *o)
{
    if (o->metric_names)
        for (int m = 0; m < o->n_metrics; m++)
            free(o->metric_names[m]);
    free(o->metric_names);
    free(o->series);
    free(o->held);
    free(o->done_mask);
    free(o->part);
    free(o->path);
    free(o);
}

/* A writer with no HDF5 object open yet (every id invalid), or NULL when out of memory. */
static ts_output *output_new(const char *path, const ts_output_spec *s)
{
    ts_output *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->file = o->trust = o->stage = o->faith = o->active = o->done = H5I_INVALID_HID;
    o->space_series = o->space_pairs = o->space_orgs = o->space_done = H5I_INVALID_HID;
    o->mem_times = o->mem_pairs = o->mem_orgs = o->mem_one = H5I_INVALID_HID;
    for (int d = 0; d < N_DIMS; d++)
        o->scale[d] = H5I_INVALID_HID;
    o->dim[DIM_POINT] = s->n_points;
    o->dim[DIM_REPLICATE] = s->n_replicates;
    o->dim[DIM_TIME] = (hsize_t)s->n_times;
    o->dim[DIM_ORG] = o->dim[DIM_PARTNER] = (hsize_t)s->n_orgs;
    o->n_metrics = s->n_metrics;
    o->threads = s->threads > 0 ? s->threads : omp_get_max_threads();

    size_t n = strlen(path);
    o->path = strdup(path);
    o->part = malloc(n + sizeof ".part");
    o->series = malloc(((size_t)s->n_metrics + 1) * sizeof *o->series);
    o->metric_names = calloc((size_t)s->n_metrics + 1, sizeof *o->metric_names);
    o->done_mask = calloc(s->n_points, s->n_replicates);
    size_t held = (size_t)s->n_metrics * s->n_points * s->n_replicates * (size_t)s->n_times;
    if (!s->stream_series && held > 0 && held <= HELD_MAX_BYTES / sizeof(double) &&
        (o->held = malloc(held * sizeof(double))) != NULL)
        for (size_t i = 0; i < held; i++)
            o->held[i] = NAN; /* the fill value: a run not written reads as NaN */
    bool ok = o->path && o->part && o->series && o->metric_names && o->done_mask;
    for (int m = 0; ok && m < s->n_metrics; m++) {
        o->series[m] = H5I_INVALID_HID;
        ok = (o->metric_names[m] = strdup(s->metric_names[m])) != NULL;
    }
    if (!ok) {
        output_free(o);
        return NULL;
    }
    snprintf(o->part, n + sizeof ".part", "%s.part", path);
    return o;
}

/* A per-dataset chunk cache holding several chunks of the largest kind, so that runs of
 * neighbouring slots finishing out of order do not evict half-filled chunks. */
static hid_t file_access(const ts_output *o)
{
    hsize_t dims[3] = {o->dim[DIM_POINT], o->dim[DIM_REPLICATE], o->dim[DIM_TIME]}, chunk[3];
    choose_chunk(3, 2, dims, sizeof(double), RUNS_PER_CHUNK, chunk);
    size_t bytes = CHUNKS_IN_CACHE * sizeof(double) * chunk[0] * chunk[1] * chunk[2];
    bytes = bytes > CHUNK_MAX_BYTES ? bytes : CHUNK_MAX_BYTES;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl >= 0 && (H5Pset_cache(fapl, 0, CACHE_SLOTS, bytes, 1.0) < 0 ||
                      H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0)) {
        H5Pclose(fapl);
        fapl = H5I_INVALID_HID;
    }
    return fapl;
}

static ts_status create_file(ts_output *o, const ts_output_spec *s, ts_error *err)
{
    if (unlink(o->part) != 0 && errno != ENOENT)
        return ts_error_set(err, TS_ERUNTIME, "%s: cannot remove the stale %s: %s", o->path,
                            o->part, strerror(errno));
    hid_t fapl = file_access(o);
    if (!failed(o, fapl))
        failed(o, o->file = H5Fcreate(o->part, H5F_ACC_EXCL, H5P_DEFAULT, fapl));
    ts_h5_close(&fapl);
    if (o->file < 0)
        return fail(o, err, "cannot create %s", o->part);

    ts_status st = write_root_attrs(o, s, err);
    if (st == TS_OK)
        st = write_scenario(o, s, err);
    if (st == TS_OK)
        st = write_scales(o, s, err);
    if (st == TS_OK)
        st = create_series(o, s, err);
    if (st == TS_OK)
        st = create_final(o, err);
    if (st == TS_OK)
        st = write_points(o, s, err);
    if (st == TS_OK)
        st = create_spaces(o, err);
    return st;
}

static void abort_quietly(ts_output *o)
{
    close_objects(o);
    if (o->file >= 0) {
        ts_h5_close(&o->file);
        unlink(o->part);
    }
    output_free(o);
}

ts_status ts_output_create(ts_output **out, const char *path, const ts_output_spec *spec,
                           ts_error *err)
{
    *out = NULL;
    ts_status st = check_spec(path, spec, err);
    if (st != TS_OK)
        return st;
    struct stat sb;
    if (!spec->force && lstat(path, &sb) == 0)
        return ts_error_set(err, TS_EINPUT, "%s: exists (use --force to replace it)", path);

    ts_output *o = output_new(path, spec);
    if (!o)
        return ts_error_set(err, TS_ERUNTIME, "%s: out of memory", path);
    ts_h5_quiet q = ts_h5_quiet_begin();
    st = create_file(o, spec, err);
    if (st != TS_OK)
        abort_quietly(o);
    else
        *out = o;
    ts_h5_quiet_end(q);
    return st;
}

/* ---- writing ----------------------------------------------------------------------------- */

static ts_status check_run(const ts_output *o, size_t point, size_t replicate,
                           const ts_run_result *res, ts_error *err)
{
    if (point >= o->dim[DIM_POINT] || replicate >= o->dim[DIM_REPLICATE])
        return ts_error_set(err, TS_ERUNTIME,
                            "%s: run (point %zu, replicate %zu) is outside the file's %llu "
                            "points x %llu replicates",
                            o->path, point, replicate, (unsigned long long)o->dim[DIM_POINT],
                            (unsigned long long)o->dim[DIM_REPLICATE]);
    if (res->n_metrics != o->n_metrics || (hsize_t)res->n_times != o->dim[DIM_TIME] ||
        (hsize_t)res->n_orgs != o->dim[DIM_ORG])
        return ts_error_set(err, TS_ERUNTIME,
                            "%s: run (point %zu, replicate %zu) has %d metrics x %d times x "
                            "%d organisations, the file %d x %llu x %llu",
                            o->path, point, replicate, res->n_metrics, res->n_times, res->n_orgs,
                            o->n_metrics, (unsigned long long)o->dim[DIM_TIME],
                            (unsigned long long)o->dim[DIM_ORG]);
    if ((o->n_metrics > 0 && !res->series) || !res->trust_interorg || !res->stage || !res->faith ||
        !res->active)
        return ts_error_set(err, TS_ERUNTIME,
                            "%s: run (point %zu, replicate %zu) lacks series or final state",
                            o->path, point, replicate);
    return TS_OK;
}

/* Where run (point, replicate) of metric m starts in the held series. */
static double *held_run(const ts_output *o, int m, size_t point, size_t replicate)
{
    return o->held + (((size_t)m * o->dim[DIM_POINT] + point) * o->dim[DIM_REPLICATE] + replicate) *
                         o->dim[DIM_TIME];
}

static ts_status write_run(ts_output *o, size_t point, size_t replicate, const ts_run_result *res,
                           ts_error *err)
{
    const size_t n_times = (size_t)o->dim[DIM_TIME];
    const uint8_t done = 1;
    if (o->held) {
        for (int m = 0; m < o->n_metrics; m++)
            memcpy(held_run(o, m, point, replicate), res->series + (size_t)m * n_times,
                   n_times * sizeof(double));
    } else if (o->n_metrics > 0 && failed(o, select_run(o->space_series, point, replicate))) {
        return fail(o, err, "cannot select run (%zu, %zu)", point, replicate);
    }
    for (int m = 0; !o->held && m < o->n_metrics; m++)
        if (failed(o, H5Dwrite(o->series[m], H5T_NATIVE_DOUBLE, o->mem_times, o->space_series,
                               H5P_DEFAULT, res->series + (size_t)m * n_times)))
            return fail(o, err, "cannot write /series/%s for run (%zu, %zu)", o->metric_names[m],
                        point, replicate);
    if (failed(o, select_run(o->space_pairs, point, replicate)) ||
        failed(o, select_run(o->space_orgs, point, replicate)) ||
        failed(o, select_run(o->space_done, point, replicate)) ||
        failed(o, H5Dwrite(o->trust, H5T_NATIVE_DOUBLE, o->mem_pairs, o->space_pairs, H5P_DEFAULT,
                           res->trust_interorg)) ||
        failed(o, H5Dwrite(o->stage, H5T_NATIVE_INT8, o->mem_pairs, o->space_pairs, H5P_DEFAULT,
                           res->stage)) ||
        failed(o, H5Dwrite(o->faith, H5T_NATIVE_DOUBLE, o->mem_orgs, o->space_orgs, H5P_DEFAULT,
                           res->faith)) ||
        failed(o, H5Dwrite(o->active, H5T_NATIVE_UINT8, o->mem_orgs, o->space_orgs, H5P_DEFAULT,
                           res->active)) ||
        failed(o,
               H5Dwrite(o->done, H5T_NATIVE_UINT8, o->mem_one, o->space_done, H5P_DEFAULT, &done)))
        return fail(o, err, "cannot write the final state of run (%zu, %zu)", point, replicate);
    o->done_mask[point * o->dim[DIM_REPLICATE] + replicate] = 1;
    return TS_OK;
}

ts_status ts_output_write_run(ts_output *out, size_t point, size_t replicate,
                              const ts_run_result *res, ts_error *err)
{
    ts_status st = check_run(out, point, replicate, res, err);
    if (st != TS_OK)
        return st;
    ts_h5_quiet q = ts_h5_quiet_begin();
    st = write_run(out, point, replicate, res, err);
    ts_h5_quiet_end(q);
    return st;
}

ts_status ts_output_flush(ts_output *out, ts_error *err)
{
    ts_h5_quiet q = ts_h5_quiet_begin();
    ts_status st = failed(out, H5Fflush(out->file, H5F_SCOPE_LOCAL))
                       ? fail(out, err, "cannot flush %s", out->part)
                       : TS_OK;
    ts_h5_quiet_end(q);
    return st;
}

/* ---- summaries --------------------------------------------------------------------------- */

/* The f-quantile of col[0..n), as gsl_stats_quantile_from_sorted_data defines it: from the
 * order statistics x_i and x_(i+1), i = floor((n - 1) f). gsl_stats_select finds those two in
 * linear time (col is reordered) and puts them where that function reads them in `order`;
 * the rest of `order` is never read. The same value as sorting col first, for less work. */
static double quantile(double *col, size_t n, double f, double *order)
{
    size_t i = (size_t)(f * (double)(n - 1));
    order[i] = gsl_stats_select(col, 1, n, i);
    if (i + 1 < n)
        order[i + 1] = gsl_stats_select(col, 1, n, i + 1);
    return gsl_stats_quantile_from_sorted_data(order, 1, n, f);
}

/* Statistics at one time over the values in col[0..n) (reordered here; order is scratch of
 * n). NaN where undefined: no value at all, or a single value for the sd. */
static void summarise(double *col, size_t n, double *order, double *stat)
{
    if (n == 0) {
        for (int k = 0; k < N_SUMMARIES; k++)
            stat[k] = NAN;
        return;
    }
    stat[0] = gsl_stats_mean(col, 1, n);
    stat[1] = n > 1 ? gsl_stats_sd_m(col, 1, n, stat[0]) : NAN;
    stat[2] = quantile(col, n, 0.05, order);
    stat[3] = quantile(col, n, 0.50, order);
    stat[4] = quantile(col, n, 0.95, order);
}

/* Working memory of the summaries: one point's [replicate][time] block of one metric. */
typedef struct summary_buffers {
    double *block; /* [n_replicates][n_times] */
    double *col;   /* [threads][2][n_replicates]: one time's values over the done replicates,
                    * and scratch */
    double *rows;  /* [N_SUMMARIES][n_times] */
    hid_t mem_block, mem_row, space_row;
} summary_buffers;

/* /summary/<metric>/{mean,...}[point, time] of one metric, point by point. */
static ts_status summarise_metric(ts_output *o, int m, hid_t summary, summary_buffers *b,
                                  ts_error *err)
{
    static const int axes[] = {DIM_POINT, DIM_TIME};
    const double nan = NAN;
    const char *name = o->metric_names[m];
    const size_t n_reps = (size_t)o->dim[DIM_REPLICATE], n_times = (size_t)o->dim[DIM_TIME];
    hid_t stat[N_SUMMARIES];
    for (int k = 0; k < N_SUMMARIES; k++)
        stat[k] = H5I_INVALID_HID;

    hid_t group = create_group(o, summary, name, 2, axes);
    bool ok = !failed(o, group);
    for (int k = 0; ok && k < N_SUMMARIES; k++) {
        char long_name[160];
        snprintf(long_name, sizeof long_name, "%s of %s over completed replicates",
                 summary_names[k], name);
        ok = !failed(o,
                     stat[k] = create_array(o, group, summary_names[k], H5T_IEEE_F64LE,
                                            H5T_NATIVE_DOUBLE, &nan, 2, axes, 1, RUNS_PER_CHUNK)) &&
             write_string_attr(o, stat[k], "long_name", long_name) >= 0;
    }
    for (size_t p = 0; ok && p < o->dim[DIM_POINT]; p++) {
        const uint8_t *done = o->done_mask + p * n_reps;
        if (!memchr(done, 1, n_reps))
            continue; /* the fill value, NaN, already says "no replicate" */
        hsize_t start[3] = {p, 0, 0}, count[3] = {1, n_reps, n_times};
        const double *block = o->held ? held_run(o, m, p, 0) : b->block;
        ok = o->held ||
             (!failed(o, H5Sselect_hyperslab(o->space_series, H5S_SELECT_SET, start, NULL, count,
                                             NULL)) &&
              !failed(o, H5Dread(o->series[m], H5T_NATIVE_DOUBLE, b->mem_block, o->space_series,
                                 H5P_DEFAULT, b->block)));
        /* times are independent: each thread takes a contiguous range of them, and every
         * statistic is computed the same way whichever thread computes it */
        if (ok) {
#pragma omp parallel for num_threads(o->threads) schedule(static) if (n_times > 64)
            for (size_t t = 0; t < n_times; t++) {
                double *col = b->col + (size_t)omp_get_thread_num() * 2 * n_reps;
                size_t n = 0;
                for (size_t r = 0; r < n_reps; r++) {
                    double v = block[r * n_times + t];
                    if (done[r] && !isnan(v))
                        col[n++] = v;
                }
                double s[N_SUMMARIES];
                summarise(col, n, col + n_reps, s);
                for (int k = 0; k < N_SUMMARIES; k++)
                    b->rows[(size_t)k * n_times + t] = s[k];
            }
        }
        hsize_t row_start[2] = {p, 0}, row_count[2] = {1, n_times};
        ok = ok && !failed(o, H5Sselect_hyperslab(b->space_row, H5S_SELECT_SET, row_start, NULL,
                                                  row_count, NULL));
        for (int k = 0; ok && k < N_SUMMARIES; k++)
            ok = !failed(o, H5Dwrite(stat[k], H5T_NATIVE_DOUBLE, b->mem_row, b->space_row,
                                     H5P_DEFAULT, b->rows + (size_t)k * n_times));
    }
    for (int k = 0; k < N_SUMMARIES; k++)
        ts_h5_close(&stat[k]);
    ts_h5_close(&group);
    return ok ? TS_OK : fail(o, err, "cannot write /summary/%s", name);
}

/* A single replicate has nothing to summarise: its statistics would only repeat /series four
 * times over (sd all NaN), multiplying the size of a large one-replicate sweep by five. */
static ts_status write_summaries(ts_output *o, ts_error *err)
{
    if (o->n_metrics == 0 || o->dim[DIM_REPLICATE] < 2)
        return TS_OK;
    const size_t n_reps = (size_t)o->dim[DIM_REPLICATE], n_times = (size_t)o->dim[DIM_TIME];
    hsize_t block = n_reps * n_times, rows[2] = {o->dim[DIM_POINT], n_times};
    summary_buffers b = {o->held ? NULL : malloc(block * sizeof(double)),
                         malloc((size_t)o->threads * 2 * n_reps * sizeof(double)),
                         malloc(N_SUMMARIES * n_times * sizeof(double)),
                         H5Screate_simple(1, &block, NULL),
                         H5Screate_simple(1, &rows[1], NULL),
                         H5Screate_simple(2, rows, NULL)};
    hid_t summary = H5I_INVALID_HID;
    ts_status st = TS_OK;
    if ((!o->held && !b.block) || !b.col || !b.rows)
        st = ts_error_set(err, TS_ERUNTIME, "%s: out of memory for the summaries", o->path);
    else if (failed(o, b.mem_block) || failed(o, b.mem_row) || failed(o, b.space_row) ||
             failed(o, summary =
                           H5Gcreate2(o->file, "summary", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)))
        st = fail(o, err, "cannot create /summary");
    for (int m = 0; m < o->n_metrics && st == TS_OK; m++)
        st = summarise_metric(o, m, summary, &b, err);
    ts_h5_close(&summary);
    ts_h5_close(&b.space_row);
    ts_h5_close(&b.mem_row);
    ts_h5_close(&b.mem_block);
    free(b.rows);
    free(b.col);
    free(b.block);
    return st;
}

/* ---- held series: compressed on every thread, written chunk by chunk ----------------------- */

/* The byte order of HDF5's shuffle filter: byte j of element i goes to j * n + i. */
static void shuffle8(const unsigned char *restrict in, size_t n, unsigned char *restrict out)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < sizeof(double); j++)
            out[j * n + i] = in[i * sizeof(double) + j];
}

/* One chunk of a held metric, as HDF5's shuffle and deflate filters would store it: the
 * chunk's values in row-major order, shuffled, then a zlib stream. Returns its size, or 0. */
static size_t compress_chunk(const ts_output *o, int m, const hsize_t *at, const hsize_t *chunk,
                             z_stream *z, double *values, unsigned char *shuffled,
                             unsigned char *out, size_t out_cap)
{
    size_t n = 0;
    for (hsize_t p = 0; p < chunk[0]; p++)
        for (hsize_t r = 0; r < chunk[1]; r++) {
            memcpy(values + n, held_run(o, m, at[0] + p, at[1] + r) + at[2],
                   chunk[2] * sizeof(double));
            n += chunk[2];
        }
    shuffle8((const unsigned char *)values, n, shuffled);
    if (deflateReset(z) != Z_OK)
        return 0;
    z->next_in = shuffled;
    z->avail_in = (uInt)(n * sizeof(double));
    z->next_out = out;
    z->avail_out = (uInt)out_cap;
    return deflate(z, Z_FINISH) == Z_STREAM_END ? out_cap - z->avail_out : 0;
}

/* Every chunk of metric m's dataset, compressed on o->threads threads into bufs (one of
 * `cap` bytes per chunk, in order point, replicate, time), then written in that order. The
 * bytes are the same whatever the number of threads. */
static ts_status write_held_metric(ts_output *o, int m, const hsize_t *chunk, unsigned char *bufs,
                                   size_t cap, size_t *sizes, ts_error *err)
{
    const hsize_t per[3] = {o->dim[DIM_POINT] / chunk[0], o->dim[DIM_REPLICATE] / chunk[1],
                            o->dim[DIM_TIME] / chunk[2]};
    const size_t n_chunks = (size_t)(per[0] * per[1] * per[2]);
    const size_t values = (size_t)(chunk[0] * chunk[1] * chunk[2]);
    int bad = 0;
#pragma omp parallel num_threads(o->threads) reduction(| : bad)
    {
        z_stream z;
        memset(&z, 0, sizeof z);
        double *v = malloc(values * sizeof *v);
        unsigned char *sh = malloc(values * sizeof *v);
        bad = !v || !sh || deflateInit2(&z, DEFLATE_LEVEL, Z_DEFLATED, 15, 8, ZLIB_STRATEGY) != Z_OK;
#pragma omp for schedule(dynamic, 4)
        for (size_t c = 0; c < n_chunks; c++) {
            if (bad) {
                sizes[c] = 0;
                continue;
            }
            hsize_t at[3] = {c / (per[1] * per[2]) * chunk[0], (c / per[2]) % per[1] * chunk[1],
                             c % per[2] * chunk[2]};
            sizes[c] = compress_chunk(o, m, at, chunk, &z, v, sh, bufs + c * cap, cap);
        }
        deflateEnd(&z);
        free(v), free(sh);
    }
    for (size_t c = 0; c < n_chunks && !bad; c++) {
        hsize_t at[3] = {c / (per[1] * per[2]) * chunk[0], (c / per[2]) % per[1] * chunk[1],
                         c % per[2] * chunk[2]};
        bad = sizes[c] == 0 || failed(o, H5Dwrite_chunk(o->series[m], H5P_DEFAULT, 0, at,
                                                        sizes[c], bufs + c * cap));
    }
    return bad ? fail(o, err, "cannot write /series/%s", o->metric_names[m]) : TS_OK;
}

static ts_status write_held(ts_output *o, ts_error *err)
{
    hsize_t dims[3] = {o->dim[DIM_POINT], o->dim[DIM_REPLICATE], o->dim[DIM_TIME]}, chunk[3];
    hid_t dcpl = H5Dget_create_plist(o->series[0]);
    bool whole = !failed(o, dcpl) && H5Pget_chunk(dcpl, 3, chunk) == 3 &&
                 dims[0] % chunk[0] == 0 && dims[1] % chunk[1] == 0 && dims[2] % chunk[2] == 0;
    ts_h5_close(&dcpl);
    if (!whole) /* choose_chunk tiles every axis exactly */
        return fail(o, err, "cannot write /series: unexpected chunk shape");
    size_t n_chunks = (size_t)(dims[0] / chunk[0] * (dims[1] / chunk[1]) * (dims[2] / chunk[2]));
    size_t cap = compressBound((uLong)(chunk[0] * chunk[1] * chunk[2] * sizeof(double)));
    unsigned char *bufs = malloc(n_chunks * cap);
    size_t *sizes = malloc(n_chunks * sizeof *sizes);
    ts_status st = bufs && sizes ? TS_OK
                                 : ts_error_set(err, TS_ERUNTIME, "%s: out of memory", o->path);
    for (int m = 0; m < o->n_metrics && st == TS_OK; m++)
        st = write_held_metric(o, m, chunk, bufs, cap, sizes, err);
    free(bufs), free(sizes);
    return st;
}

/* ---- closing ----------------------------------------------------------------------------- */

static ts_status close_file(ts_output *o, ts_error *err)
{
    ts_status st = write_summaries(o, err);
    if (st == TS_OK && o->held)
        st = write_held(o, err);
    if (st == TS_OK && failed(o, H5Fflush(o->file, H5F_SCOPE_LOCAL)))
        st = fail(o, err, "cannot flush %s", o->part);
    close_objects(o);
    if (failed(o, H5Fclose(o->file)) && st == TS_OK)
        st = fail(o, err, "cannot close %s", o->part);
    o->file = H5I_INVALID_HID;
    if (st == TS_OK && rename(o->part, o->path) != 0)
        st = ts_error_set(err, TS_ERUNTIME, "%s: cannot rename %s into place: %s", o->path, o->part,
                          strerror(errno));
    if (st != TS_OK && err) {
        /* Keep the runs already written: a failed close after hours of work should not
         * destroy them. The next create at this path removes the leftover. */
        size_t n = strlen(err->msg);
        snprintf(err->msg + n, sizeof err->msg - n, " (what was written is in %s)", o->part);
    }
    return st;
}

ts_status ts_output_close(ts_output *out, ts_error *err)
{
    if (!out)
        return ts_error_set(err, TS_ERUNTIME, "output: nothing to close");
    ts_h5_quiet q = ts_h5_quiet_begin();
    ts_status st = close_file(out, err);
    ts_h5_quiet_end(q);
    output_free(out);
    return st;
}

void ts_output_abort(ts_output *out)
{
    if (!out)
        return;
    ts_h5_quiet q = ts_h5_quiet_begin();
    abort_quietly(out);
    ts_h5_quiet_end(q);
}
