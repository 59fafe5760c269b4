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

#include "io/h5util.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gsl/gsl_sort_double.h>
#include <gsl/gsl_statistics_double.h>
#include <hdf5.h>
#include <hdf5_hl.h>
#include <libdeflate.h>
#include <omp.h>

#ifndef TRUSTSIM_VERSION
#error "TRUSTSIM_VERSION must be defined by the build"
#endif

enum {
    FORMAT_VERSION = 2,        /* 2: the final state of pairs along a `pair` axis */
    DEFLATE_LEVEL = 1,         /* level 1 compresses these series nearly as well as 6, faster */
    RUNS_PER_CHUNK = 32,       /* runs sharing a chunk of series and final state */
    FLAGS_PER_CHUNK = 4096,    /* entries of /done sharing a chunk */
    CHUNK_MAX_BYTES = 1 << 20, /* a chunk never exceeds this, whatever the run length */
    CHUNKS_IN_CACHE = 8,       /* per dataset: runs finishing out of order stay in memory */
    CACHE_SLOTS = 1009,        /* prime, well above the chunks that fit in the cache */
    DIAG_SIZE = 512,
    SMALL_SUMMARY_BYTES = 64 << 10, /* summaries up to this size are one chunk, uncompressed */
    FLETCHER_BYTES = 4              /* the checksum HDF5's fletcher32 filter appends */
};

/* The axes of every dataset; each has a dimension scale of the same name at the root. */
enum { DIM_POINT, DIM_REPLICATE, DIM_TIME, DIM_ORG, DIM_PAIR, N_DIMS };
static const char *const dim_names[N_DIMS] = {"point", "replicate", "time", "organisation", "pair"};
/* The organisations of each pair: auxiliary coordinates along `pair`, at the root and in
 * /final (netCDF's way of storing an edge list), named on the datasets that use them. */
static const char *const pair_coords[2] = {"pair_organisation", "pair_partner"};
#define PAIR_COORDINATES "pair_organisation pair_partner"

/* Memory for gathering series rows (below), unless the spec says otherwise. */
#define ROWS_DEFAULT_BYTES ((size_t)256 << 20)
enum { ROW_NONE = -1, ROW_FILE = -2 }; /* a row not in memory: not begun, or in the file */

/* Rows of runs. Every dataset of one value or array per run ([point][replicate][...]) is
 * written through rows: a row is the runs of one row of its chunks (chunk[0] points x chunk[1]
 * replicates, whole along the other axes). Runs are gathered in memory, row by row; a full row
 * is compressed on every thread with its fellows and written chunk by chunk, as HDF5's own
 * shuffle and deflate filters would store it. When every row fits in the family's share of
 * memory (keep), the rows stay until the close (and the series are summarised from there). A
 * run of a row already in the file, of a row that had to leave memory unfinished, or of any
 * row when not even one fits (no pool) is written through HDF5 run by run. Datasets of the
 * same type and shape form a family and share rows. */
typedef struct family {
    const char *what;           /* for messages */
    int n;                      /* datasets, the ids in dset[0..n) */
    hid_t *dset;                /* owned by ts_output */
    hid_t mem_type, space, mem; /* element type; file and memory dataspaces (owned by ts_output) */
    size_t elem, per_run;       /* bytes per element; elements of one run of one dataset */
    int rank;
    hsize_t dims[4], chunk[4];
    size_t per_r, pieces; /* chunks along replicates; chunks per run along the other axes */
    size_t n_rows, row_runs, row_bytes;
    unsigned char fill[8]; /* one element of the fill value */
    int32_t *row_slot;     /* [n_rows]: its slot in the pool, or ROW_NONE / ROW_FILE */
    uint32_t *row_count;   /* [n_rows]: runs written */
    unsigned char *pool;   /* [n_slots][n][row_runs][per_run] elements */
    int32_t *slot_row;     /* [n_slots]: the row in each slot, or -1 */
    size_t n_slots, next_evict;
    int32_t *ready; /* full rows waiting to be written, [n_slots] */
    size_t n_ready, batch;
    unsigned char *zbuf; /* [batch][n][pieces][zcap] */
    size_t *zsize, zcap;
    bool keep;
} family;

/* (/done is not a family: it is written whole from done_mask, after the runs it flags) */
enum { FAM_SERIES, FAM_TRUST, FAM_STAGE, FAM_FAITH, FAM_ACTIVE, N_FAMILIES };

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
    uint8_t *done_mask; /* [point][replicate], mirrors /done for the summaries */
    int threads;        /* summarising and compressing */
    family fam[N_FAMILIES];
    char diag[DIAG_SIZE]; /* HDF5's explanation of the first failure, until reported */
};

/* ---- errors ------------------------------------------------------------------------------ */

/* True if rc reports a failure. The first failure's reason (the operating system's, or HDF5's
 * innermost explanation) is kept before the cleanup calls that follow it clear HDF5's error
 * stack. */
static bool failed(ts_output *o, hid_t rc)
{
    if (rc >= 0)
        return false;
    if (!o->diag[0])
        ts_h5_reason(o->diag, sizeof o->diag);
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

/* A dataset written whole at creation: coordinates, texts, swept values. mem_space picks the
 * values out of buf (H5S_ALL: buf holds exactly the dataset). Arrays of numbers are chunked
 * (one chunk up to CHUNK_MAX_BYTES) under the Fletcher-32 checksum like every other dataset.
 * Strings cannot be: HDF5 applies no filter to variable-length data, and keeps the characters
 * outside the dataset anyway; they carry the CRC-32 of their characters as the attribute crc32
 * instead (buf then holds exactly the dataset's strings), which `trustsim info --verify`
 * checks. */
/* A dataspace of these extents. An empty axis (a world without pairs) is declared able to
 * grow, which is what lets HDF5 chunk a dataset along it. */
static hid_t new_space(int rank, const hsize_t *dims)
{
    hsize_t max[4];
    for (int i = 0; i < rank; i++)
        max[i] = dims[i] > 0 ? dims[i] : H5S_UNLIMITED;
    return H5Screate_simple(rank, dims, max);
}

static hid_t write_whole(ts_output *o, hid_t loc, const char *name, hid_t file_type, hid_t mem_type,
                         int rank, const hsize_t *dims, hid_t mem_space, const void *buf)
{
    hid_t space = rank ? new_space(rank, dims) : H5Screate(H5S_SCALAR);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t dset = H5I_INVALID_HID;
    hsize_t chunk[4], n = 1, elem = H5Tget_size(file_type);
    for (int i = rank - 1; i >= 0; i--) {
        hsize_t fit = CHUNK_MAX_BYTES / (elem * n) > 0 ? CHUNK_MAX_BYTES / (elem * n) : 1;
        chunk[i] = dims[i] == 0 ? 1 : dims[i] < fit ? dims[i] : fit;
        n *= chunk[i];
    }
    const bool strings = H5Tget_class(file_type) == H5T_STRING;
    if (!failed(o, space) && !failed(o, dcpl) &&
        (rank == 0 || strings ||
         (!failed(o, H5Pset_chunk(dcpl, rank, chunk)) && !failed(o, H5Pset_fletcher32(dcpl)))) &&
        !failed(o,
                dset = H5Dcreate2(loc, name, file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT)) &&
        failed(o, H5Dwrite(dset, mem_type, mem_space, H5S_ALL, H5P_DEFAULT, buf)))
        ts_h5_close(&dset);
    if (dset >= 0 && strings) {
        size_t count = 1;
        for (int i = 0; i < rank; i++)
            count *= (size_t)dims[i];
        const uint32_t crc = ts_h5_strings_crc32((const char *const *)buf, count);
        if (write_attr(o, dset, "crc32", H5T_STD_U32LE, H5T_NATIVE_UINT32, &crc) < 0)
            ts_h5_close(&dset);
    }
    ts_h5_close(&dcpl);
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
 * its dimension scales attached; runs == 0: one chunk, uncompressed instead (for small
 * datasets written whole, whose compression would cost more than it saves). Every chunk
 * carries HDF5's Fletcher-32 checksum, last in the filter pipeline (it covers the bytes as
 * stored). */
static hid_t create_array(ts_output *o, hid_t loc, const char *name, hid_t file_type,
                          hid_t mem_type, const void *fill, int rank, const int *axes, int n_lead,
                          hsize_t runs)
{
    hsize_t dims[4], chunk[4];
    bool empty = false;
    for (int i = 0; i < rank; i++) {
        dims[i] = o->dim[axes[i]];
        empty |= dims[i] == 0;
    }
    if (runs > 0 && !empty)
        choose_chunk(rank, n_lead, dims, H5Tget_size(file_type), runs, chunk);
    else
        for (int i = 0; i < rank; i++)
            chunk[i] = dims[i] > 0 ? dims[i] : 1;

    hid_t space = new_space(rank, dims);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t dset = H5I_INVALID_HID;
    if (!failed(o, space) && !failed(o, dcpl) && !failed(o, H5Pset_chunk(dcpl, rank, chunk)) &&
        (runs == 0 ||
         (!failed(o, H5Pset_shuffle(dcpl)) && !failed(o, H5Pset_deflate(dcpl, DEFLATE_LEVEL)))) &&
        !failed(o, H5Pset_fletcher32(dcpl)) &&
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

/* A group whose links and attributes are all in its checksummed object header. */
static hid_t new_group(ts_output *o, hid_t loc, const char *name)
{
    hid_t gcpl = ts_h5_group_create(), group = H5I_INVALID_HID;
    if (!failed(o, gcpl))
        failed(o, group = H5Gcreate2(loc, name, H5P_DEFAULT, gcpl, H5P_DEFAULT));
    ts_h5_close(&gcpl);
    return group;
}

/* A group holding hard links to the scales of its datasets, so that a reader opening only
 * this group (xarray's group=) still finds the coordinates. */
static hid_t create_group(ts_output *o, hid_t loc, const char *name, int n_axes, const int *axes)
{
    hid_t group = new_group(o, loc, name);
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
    if (s->n_pairs < 0 || (s->n_pairs > 0 && (!s->pair_org || !s->pair_partner)))
        return ts_error_set(err, TS_EINPUT, "%s: output spec lacks its pairs", path);
    for (int k = 0; k < s->n_pairs; k++)
        if (s->pair_org[k] < 0 || s->pair_org[k] >= s->n_orgs || s->pair_partner[k] < 0 ||
            s->pair_partner[k] >= s->n_orgs)
            return ts_error_set(err, TS_EINPUT, "%s: pair %d names an organisation out of range",
                                path, k);
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
        !failed(o, type) && !failed(o, group = new_group(o, o->file, "scenario")) &&
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

/* /pair_organisation and /pair_partner: each pair's two organisations, as their indices along
 * /organisation (numbers, so that they are chunked and checksummed like the data, and index
 * the organisation axis directly). */
static ts_status write_pair_coords(ts_output *o, const ts_output_spec *s, ts_error *err)
{
    static const char *const meaning[2] = {
        "the pair's organisation (the one that trusts), an index along organisation",
        "the pair's partner organisation (the one trusted), an index along organisation"};
    bool ok = true;
    for (int c = 0; ok && c < 2; c++) {
        hid_t d = write_whole(o, o->file, pair_coords[c], H5T_STD_I32LE, H5T_NATIVE_INT, 1,
                              &o->dim[DIM_PAIR], H5S_ALL, c == 0 ? s->pair_org : s->pair_partner);
        ok = !failed(o, d) && !failed(o, H5DSattach_scale(d, o->scale[DIM_PAIR], 0)) &&
             write_string_attr(o, d, "long_name", meaning[c]) >= 0;
        ts_h5_close(&d);
    }
    return ok ? TS_OK : fail(o, err, "cannot write the pairs' organisations");
}

/* Root datasets /point, /replicate, /time (tick numbers), /organisation and /pair, and the
 * pairs' organisations. */
static ts_status write_scales(ts_output *o, const ts_output_spec *s, ts_error *err)
{
    hsize_t longest = o->dim[DIM_PAIR] > 0 ? o->dim[DIM_PAIR] : 1;
    for (int d = DIM_POINT; d <= DIM_TIME; d++)
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
        const bool named = d == DIM_ORG;
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
        write_string_attr(o, o->scale[DIM_PAIR], "long_name",
                          "ordered pair of organisations that share a collaboration") < 0)
        return fail(o, err, "cannot describe the dimension scales");
    return write_pair_coords(o, s, err);
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
    static const int pairs[] = {DIM_POINT, DIM_REPLICATE, DIM_PAIR};
    static const int orgs[] = {DIM_POINT, DIM_REPLICATE, DIM_ORG};
    static const int axes[] = {DIM_POINT, DIM_REPLICATE, DIM_ORG, DIM_PAIR};
    const double nan = NAN;
    const int8_t no_stage = -1;
    const uint8_t inactive = 0;
    hid_t group = create_group(o, o->file, "final", 4, axes);
    bool ok = !failed(o, group);
    for (int c = 0; ok && c < 2; c++)
        ok = !failed(o, H5Lcreate_hard(o->file, pair_coords[c], group, pair_coords[c], H5P_DEFAULT,
                                       H5P_DEFAULT));
    ok =
        ok &&
        !failed(o, o->trust = create_array(o, group, "trust_interorg", H5T_IEEE_F64LE,
                                           H5T_NATIVE_DOUBLE, &nan, 3, pairs, 2, RUNS_PER_CHUNK)) &&
        write_string_attr(o, o->trust, "coordinates", PAIR_COORDINATES) >= 0 &&
        write_string_attr(o, o->trust, "long_name",
                          "inter-organisational trust of the organisation in its partner") >= 0 &&
        !failed(o, o->stage = create_array(o, group, "stage", H5T_STD_I8LE, H5T_NATIVE_INT8,
                                           &no_stage, 3, pairs, 2, RUNS_PER_CHUNK)) &&
        write_string_attr(o, o->stage, "coordinates", PAIR_COORDINATES) >= 0 &&
        write_string_attr(o, o->stage, "long_name", "Pomponi stage of the pair, 0 to 3") >= 0 &&
        !failed(o, o->faith = create_array(o, group, "faith", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                                           &nan, 3, orgs, 2, RUNS_PER_CHUNK)) &&
        !failed(o, o->active = create_array(o, group, "active", H5T_STD_U8LE, H5T_NATIVE_UINT8,
                                            &inactive, 3, orgs, 2, RUNS_PER_CHUNK));
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
    hsize_t pairs = o->dim[DIM_PAIR] > 0 ? o->dim[DIM_PAIR] : 1, one = 1;
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
    for (int k = 0; k < N_FAMILIES; k++) {
        family *f = &o->fam[k];
        free(f->row_slot), free(f->row_count), free(f->pool), free(f->slot_row), free(f->ready);
        free(f->zbuf), free(f->zsize);
    }
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
    o->dim[DIM_ORG] = (hsize_t)s->n_orgs;
    o->dim[DIM_PAIR] = (hsize_t)s->n_pairs;
    o->n_metrics = s->n_metrics;
    o->threads = s->threads > 0 ? s->threads : omp_get_max_threads();

    size_t n = strlen(path);
    o->path = strdup(path);
    o->part = malloc(n + sizeof ".part");
    o->series = malloc(((size_t)s->n_metrics + 1) * sizeof *o->series);
    o->metric_names = calloc((size_t)s->n_metrics + 1, sizeof *o->metric_names);
    o->done_mask = calloc(s->n_points, s->n_replicates);
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
 * neighbouring slots finishing out of order do not evict half-filled chunks; and HDF5's file
 * format of 1.8, whose metadata carries checksums too. */
static hid_t file_access(const ts_output *o)
{
    hsize_t dims[3] = {o->dim[DIM_POINT], o->dim[DIM_REPLICATE], o->dim[DIM_TIME]}, chunk[3];
    choose_chunk(3, 2, dims, sizeof(double), RUNS_PER_CHUNK, chunk);
    size_t bytes = CHUNKS_IN_CACHE * sizeof(double) * chunk[0] * chunk[1] * chunk[2];
    bytes = bytes > CHUNK_MAX_BYTES ? bytes : CHUNK_MAX_BYTES;
    hid_t fapl = ts_h5_file_access(false);
    if (fapl >= 0 && (H5Pset_cache(fapl, 0, CACHE_SLOTS, bytes, 1.0) < 0 ||
                      H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0)) {
        H5Pclose(fapl);
        fapl = H5I_INVALID_HID;
    }
    return fapl;
}

static ts_status rows_init(ts_output *o, size_t bytes, ts_error *err);

static ts_status create_file(ts_output *o, const ts_output_spec *s, ts_error *err)
{
    if (unlink(o->part) != 0 && errno != ENOENT)
        return ts_error_set(err, TS_ERUNTIME, "%s: cannot remove the stale %s: %s", o->path,
                            o->part, strerror(errno));
    hid_t fapl = file_access(o), fcpl = ts_h5_file_create();
    if (!failed(o, fapl) && !failed(o, fcpl))
        failed(o, o->file = H5Fcreate(o->part, H5F_ACC_EXCL, fcpl, fapl));
    ts_h5_close(&fcpl);
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
    if (st == TS_OK)
        st = rows_init(o, s->row_memory, err);
    return st;
}

/* Close the temporary file and remove it, its contents dropped first (truncated), so that the
 * space it took is free again at once. After a failed write HDF5 1.10 cannot close a file
 * cleanly whatever the space (its metadata cache stays half flushed): the close fails, and
 * h5util.c keeps HDF5 from touching the file again at exit. */
static void discard_part(ts_output *o)
{
    close_objects(o);
    if (o->file < 0)
        return;
    void *handle = NULL;
    if (H5Fget_vfd_handle(o->file, H5P_DEFAULT, &handle) >= 0 && handle &&
        ftruncate(*(int *)handle, 0) != 0) {
        /* the close below then needs room of its own; nothing better to do */
    }
    ts_h5_close(&o->file);
    unlink(o->part);
}

static void abort_quietly(ts_output *o)
{
    discard_part(o);
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
        (hsize_t)res->n_orgs != o->dim[DIM_ORG] || (hsize_t)res->n_pairs != o->dim[DIM_PAIR])
        return ts_error_set(err, TS_ERUNTIME,
                            "%s: run (point %zu, replicate %zu) has %d metrics x %d times x "
                            "%d organisations x %d pairs, the file %d x %llu x %llu x %llu",
                            o->path, point, replicate, res->n_metrics, res->n_times, res->n_orgs,
                            res->n_pairs, o->n_metrics, (unsigned long long)o->dim[DIM_TIME],
                            (unsigned long long)o->dim[DIM_ORG],
                            (unsigned long long)o->dim[DIM_PAIR]);
    if ((o->n_metrics > 0 && !res->series) || !res->trust_interorg || !res->stage || !res->faith ||
        !res->active)
        return ts_error_set(err, TS_ERUNTIME,
                            "%s: run (point %zu, replicate %zu) lacks series or final state",
                            o->path, point, replicate);
    return TS_OK;
}

/* ---- rows of runs ------------------------------------------------------------------------ */

/* The byte order of HDF5's shuffle filter: byte j of element i goes to j * n + i (a no-op for
 * one-byte elements). */
static void shuffle(const unsigned char *restrict in, size_t n, size_t elem,
                    unsigned char *restrict out)
{
    if (elem == 8) { /* doubles: written out, six times faster than the loop below */
        for (size_t i = 0; i < n; i++) {
            const unsigned char *e = in + i * 8;
            out[i] = e[0], out[n + i] = e[1], out[2 * n + i] = e[2], out[3 * n + i] = e[3];
            out[4 * n + i] = e[4], out[5 * n + i] = e[5], out[6 * n + i] = e[6];
            out[7 * n + i] = e[7];
        }
        return;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < elem; j++)
            out[j * n + i] = in[i * elem + j];
}

static size_t row_of(const family *f, size_t point, size_t replicate)
{
    return point / f->chunk[0] * f->per_r + replicate / f->chunk[1];
}

/* Where run (point, replicate) of dataset d starts in the slot holding its row. */
static unsigned char *row_run(const family *f, int32_t slot, int d, size_t point, size_t replicate)
{
    size_t ip = point % f->chunk[0], ir = replicate % f->chunk[1];
    return f->pool + (size_t)slot * f->row_bytes +
           (((size_t)d * f->chunk[0] + ip) * f->chunk[1] + ir) * f->per_run * f->elem;
}

/* A family of n datasets (ids in dset, created, with the file dataspace `space` of one and the
 * memory dataspace `mem` of a run) with as many slots as fit in `bytes`. */
static ts_status family_init(ts_output *o, family *f, const char *what, int n, hid_t *dset,
                             hid_t mem_type, hid_t space, hid_t mem, const void *fill, size_t bytes,
                             ts_error *err)
{
    *f = (family){.what = what,
                  .n = n,
                  .dset = dset,
                  .mem_type = mem_type,
                  .space = space,
                  .mem = mem,
                  .elem = H5Tget_size(mem_type)};
    if (n == 0)
        return TS_OK;
    f->rank = H5Sget_simple_extent_ndims(space);
    hid_t dcpl = H5Dget_create_plist(dset[0]);
    bool tiled = f->rank >= 2 && f->rank <= 4 && f->elem <= sizeof f->fill &&
                 H5Sget_simple_extent_dims(space, f->dims, NULL) == f->rank && !failed(o, dcpl) &&
                 H5Pget_chunk(dcpl, f->rank, f->chunk) == f->rank;
    ts_h5_close(&dcpl);
    for (int i = 0; tiled && i < f->rank; i++)
        tiled = f->chunk[i] > 0 && f->dims[i] % f->chunk[i] == 0; /* as choose_chunk makes them */
    if (!tiled)
        return fail(o, err, "cannot lay out %s: unexpected chunk shape", what);
    memcpy(f->fill, fill, f->elem);
    f->per_run = f->pieces = 1;
    size_t piece = 1; /* elements of one run in one chunk */
    for (int i = 2; i < f->rank; i++) {
        f->per_run *= (size_t)f->dims[i];
        f->pieces *= (size_t)(f->dims[i] / f->chunk[i]);
        piece *= (size_t)f->chunk[i];
    }
    f->per_r = (size_t)(f->dims[1] / f->chunk[1]);
    f->n_rows = (size_t)(f->dims[0] / f->chunk[0]) * f->per_r;
    f->row_runs = (size_t)(f->chunk[0] * f->chunk[1]);
    f->row_bytes = (size_t)n * f->row_runs * f->per_run * f->elem;
    f->zcap = libdeflate_zlib_compress_bound(NULL, f->row_runs * piece * f->elem) + FLETCHER_BYTES;
    /* a slot in memory is a row and, when it is written, its compressed chunks */
    size_t fit = bytes / (f->row_bytes + (size_t)n * f->pieces * f->zcap);
    if (fit == 0)
        return TS_OK; /* run by run through HDF5 */
    f->keep = fit >= f->n_rows;
    f->n_slots = f->keep ? f->n_rows : fit;
    /* rows written together: enough to keep every thread busy, and at most half the slots
     * while others are still being gathered */
    f->batch = f->keep ? f->n_slots : f->n_slots / 2 > 0 ? f->n_slots / 2 : 1;
    if (f->batch > (size_t)(4 * o->threads))
        f->batch = (size_t)(4 * o->threads);
    f->row_slot = malloc(f->n_rows * sizeof *f->row_slot);
    f->row_count = calloc(f->n_rows, sizeof *f->row_count);
    f->pool = malloc(f->n_slots * f->row_bytes);
    f->slot_row = malloc(f->n_slots * sizeof *f->slot_row);
    f->ready = malloc(f->n_slots * sizeof *f->ready);
    if (!f->row_slot || !f->row_count || !f->pool || !f->slot_row || !f->ready) {
        free(f->pool);
        f->pool = NULL; /* too big after all: run by run */
        f->keep = false;
        return TS_OK;
    }
    for (size_t r = 0; r < f->n_rows; r++)
        f->row_slot[r] = ROW_NONE;
    for (size_t k = 0; k < f->n_slots; k++)
        f->slot_row[k] = -1;
    return TS_OK;
}

/* Every family of the file, sharing `bytes` (0: the default) in proportion to what a run of
 * each holds. */
static ts_status rows_init(ts_output *o, size_t bytes, ts_error *err)
{
    const double nan = NAN;
    const int8_t no_stage = -1;
    const uint8_t zero = 0;
    size_t pairs = (size_t)o->dim[DIM_PAIR], orgs = (size_t)o->dim[DIM_ORG];
    const int with_pairs = pairs > 0; /* a world without pairs has empty datasets to leave */
    size_t share[N_FAMILIES] = {(size_t)o->n_metrics * (size_t)o->dim[DIM_TIME] * 8, pairs * 8,
                                pairs, orgs * 8, orgs};
    size_t total = 0;
    for (int k = 0; k < N_FAMILIES; k++)
        total += share[k];
    double per_byte = (double)(bytes ? bytes : ROWS_DEFAULT_BYTES) / (double)total;
#define SHARE(k) ((size_t)(per_byte * (double)share[k]))
    ts_status st =
        family_init(o, &o->fam[FAM_SERIES], "/series", o->n_metrics, o->series, H5T_NATIVE_DOUBLE,
                    o->space_series, o->mem_times, &nan, SHARE(FAM_SERIES), err);
    if (st == TS_OK)
        st = family_init(o, &o->fam[FAM_TRUST], "/final/trust_interorg", with_pairs, &o->trust,
                         H5T_NATIVE_DOUBLE, o->space_pairs, o->mem_pairs, &nan, SHARE(FAM_TRUST),
                         err);
    if (st == TS_OK)
        st = family_init(o, &o->fam[FAM_STAGE], "/final/stage", with_pairs, &o->stage,
                         H5T_NATIVE_INT8, o->space_pairs, o->mem_pairs, &no_stage, SHARE(FAM_STAGE),
                         err);
    if (st == TS_OK)
        st = family_init(o, &o->fam[FAM_FAITH], "/final/faith", 1, &o->faith, H5T_NATIVE_DOUBLE,
                         o->space_orgs, o->mem_orgs, &nan, SHARE(FAM_FAITH), err);
    if (st == TS_OK)
        st = family_init(o, &o->fam[FAM_ACTIVE], "/final/active", 1, &o->active, H5T_NATIVE_UINT8,
                         o->space_orgs, o->mem_orgs, &zero, SHARE(FAM_ACTIVE), err);
#undef SHARE
    return st;
}

/* Where piece k of a run starts (elements into it) and how its chunk's other axes are placed
 * (at[2..rank)). */
static void piece_at(const family *f, size_t k, hsize_t *at)
{
    for (int i = f->rank - 1; i >= 2; i--) {
        size_t along = (size_t)(f->dims[i] / f->chunk[i]);
        at[i] = k % along * f->chunk[i];
        k /= along;
    }
}

/* Piece k of dataset d of the row in `slot`, as HDF5's shuffle, deflate and fletcher32 filters
 * would store its chunk: the chunk's values in row-major order, shuffled, then a zlib stream
 * (made by libdeflate, which compresses these series as well as zlib at the same level,
 * faster), then HDF5's checksum of that stream. Returns its size, or 0. */
static size_t compress_chunk(const family *f, int32_t slot, int d, size_t k,
                             struct libdeflate_compressor *z, unsigned char *values,
                             unsigned char *shuffled, unsigned char *out)
{
    hsize_t at[4] = {0, 0, 0, 0};
    piece_at(f, k, at);
    size_t n = 0, e = f->elem;
    for (size_t run = 0; run < f->row_runs; run++) {
        const unsigned char *src = f->pool + (size_t)slot * f->row_bytes +
                                   ((size_t)d * f->row_runs + run) * f->per_run * e;
        if (f->rank == 2) {
            memcpy(values + n * e, src, e);
            n++;
        } else if (f->rank == 3) {
            memcpy(values + n * e, src + at[2] * e, f->chunk[2] * e);
            n += f->chunk[2];
        } else {
            for (hsize_t i = at[2]; i < at[2] + f->chunk[2]; i++) {
                memcpy(values + n * e, src + (i * f->dims[3] + at[3]) * e, f->chunk[3] * e);
                n += f->chunk[3];
            }
        }
    }
    shuffle(values, n, e, shuffled);
    size_t size = libdeflate_zlib_compress(z, shuffled, n * e, out, f->zcap - FLETCHER_BYTES);
    if (size == 0)
        return 0;
    const uint32_t sum = ts_h5_fletcher32(out, size); /* stored least significant byte first */
    for (int b = 0; b < FLETCHER_BYTES; b++)
        out[size + (size_t)b] = (unsigned char)(sum >> (8 * b));
    return size + FLETCHER_BYTES;
}

/* Write the rows in f->ready (at most f->batch): their chunks compressed on every thread, then
 * written in order. The bytes are the same whatever the number of threads. Their slots are
 * freed; their runs are in the file from now on. */
static ts_status flush_ready(ts_output *o, family *f, ts_error *err)
{
    const size_t per_row = (size_t)f->n * f->pieces, n_tasks = f->n_ready * per_row;
    size_t values = f->row_runs * f->per_run / f->pieces; /* of one chunk */
    if (!f->zbuf) { /* at the first write: kept rows are written otherwise (close_kept_...) */
        f->zbuf = malloc(f->batch * per_row * f->zcap);
        f->zsize = malloc(f->batch * per_row * sizeof *f->zsize);
        if (!f->zbuf || !f->zsize)
            return ts_error_set(err, TS_ERUNTIME, "%s: out of memory writing %s", o->path, f->what);
    }
    int bad = 0;
#pragma omp parallel num_threads(o->threads) reduction(| : bad) if (n_tasks > 1)
    {
        struct libdeflate_compressor *z = libdeflate_alloc_compressor(DEFLATE_LEVEL);
        unsigned char *v = malloc(values * f->elem), *sh = malloc(values * f->elem);
        bad = !v || !sh || !z;
#pragma omp for schedule(dynamic, 1)
        for (size_t i = 0; i < n_tasks; i++) {
            int32_t slot = f->row_slot[f->ready[i / per_row]];
            int d = (int)(i % per_row / f->pieces);
            f->zsize[i] =
                bad ? 0
                    : compress_chunk(f, slot, d, i % f->pieces, z, v, sh, f->zbuf + i * f->zcap);
        }
        libdeflate_free_compressor(z);
        free(v), free(sh);
    }
    for (size_t i = 0; i < n_tasks && !bad; i++) {
        size_t row = (size_t)f->ready[i / per_row];
        int d = (int)(i % per_row / f->pieces);
        hsize_t at[4] = {row / f->per_r * f->chunk[0], row % f->per_r * f->chunk[1], 0, 0};
        piece_at(f, i % f->pieces, at);
        bad = f->zsize[i] == 0 || failed(o, H5Dwrite_chunk(f->dset[d], H5P_DEFAULT, 0, at,
                                                           f->zsize[i], f->zbuf + i * f->zcap));
    }
    for (size_t j = 0; j < f->n_ready; j++) {
        int32_t row = f->ready[j];
        f->slot_row[f->row_slot[row]] = -1;
        f->row_slot[row] = ROW_FILE;
    }
    f->n_ready = 0;
    return bad ? fail(o, err, "cannot write %s", f->what) : TS_OK;
}

/* Run (point, replicate) of every dataset of the family (data[d]) through HDF5, into its
 * chunks (read, changed and written back by HDF5 if they hold other runs). */
static ts_status write_through(ts_output *o, family *f, size_t point, size_t replicate,
                               const void *const *data, ts_error *err)
{
    if (failed(o, select_run(f->space, point, replicate)))
        return fail(o, err, "cannot select run (%zu, %zu)", point, replicate);
    for (int d = 0; d < f->n; d++)
        if (failed(o, H5Dwrite(f->dset[d], f->mem_type, f->mem, f->space, H5P_DEFAULT, data[d])))
            return fail(o, err, "cannot write %s for run (%zu, %zu)", f->what, point, replicate);
    return TS_OK;
}

/* Make room for one more row: write the full rows waiting, or else send an unfinished row to
 * the file run by run (runs arriving far out of order). Returns the free slot. */
static ts_status free_slot(ts_output *o, family *f, int32_t *slot, ts_error *err)
{
    for (size_t k = 0; k < f->n_slots; k++)
        if (f->slot_row[k] < 0) {
            *slot = (int32_t)k;
            return TS_OK;
        }
    ts_status st;
    if (f->n_ready > 0) {
        if ((st = flush_ready(o, f, err)) != TS_OK)
            return st;
        return free_slot(o, f, slot, err);
    }
    int32_t k = (int32_t)(f->next_evict++ % f->n_slots), row = f->slot_row[k];
    size_t p0 = (size_t)row / f->per_r * f->chunk[0], r0 = (size_t)row % f->per_r * f->chunk[1];
    const void *data[f->n];
    for (size_t p = p0; p < p0 + f->chunk[0]; p++)
        for (size_t r = r0; r < r0 + f->chunk[1]; r++) {
            if (!o->done_mask[p * o->dim[DIM_REPLICATE] + r])
                continue;
            for (int d = 0; d < f->n; d++)
                data[d] = row_run(f, k, d, p, r);
            if ((st = write_through(o, f, p, r, data, err)) != TS_OK)
                return st;
        }
    f->row_slot[row] = ROW_FILE;
    f->slot_row[k] = -1;
    *slot = k;
    return TS_OK;
}

/* Run (point, replicate) of the family (data[d] for dataset d) into its row, or through HDF5
 * when the row is not in memory. */
static ts_status put_run(ts_output *o, family *f, size_t point, size_t replicate,
                         const void *const *data, ts_error *err)
{
    if (f->n == 0)
        return TS_OK;
    size_t row = f->pool ? row_of(f, point, replicate) : 0;
    if (!f->pool || f->row_slot[row] == ROW_FILE)
        return write_through(o, f, point, replicate, data, err);
    ts_status st;
    if (f->row_slot[row] == ROW_NONE) {
        int32_t slot;
        if ((st = free_slot(o, f, &slot, err)) != TS_OK)
            return st;
        /* a run never written reads as the fill value: one element, then doubling copies */
        unsigned char *v = f->pool + (size_t)slot * f->row_bytes;
        memcpy(v, f->fill, f->elem);
        for (size_t done = f->elem; done < f->row_bytes; done *= 2)
            memcpy(v + done, v, done < f->row_bytes - done ? done : f->row_bytes - done);
        f->row_slot[row] = slot;
        f->slot_row[slot] = (int32_t)row;
    }
    for (int d = 0; d < f->n; d++)
        memcpy(row_run(f, f->row_slot[row], d, point, replicate), data[d], f->per_run * f->elem);
    if (o->done_mask[point * o->dim[DIM_REPLICATE] + replicate])
        return TS_OK; /* written again: the row was already counted */
    if (++f->row_count[row] == f->row_runs && !f->keep) {
        f->ready[f->n_ready++] = (int32_t)row;
        if (f->n_ready >= f->batch)
            return flush_ready(o, f, err);
    }
    return TS_OK;
}

/* At the close: every row of the family still in memory, full or not (a run never written
 * holds the fill value), into the file: the full rows already waiting first. */
static ts_status flush_rows(ts_output *o, family *f, ts_error *err)
{
    ts_status st = f->n_ready > 0 ? flush_ready(o, f, err) : TS_OK;
    for (size_t row = 0; row < f->n_rows && f->pool && st == TS_OK; row++) {
        if (f->row_slot[row] < 0)
            continue;
        f->ready[f->n_ready++] = (int32_t)row;
        if (f->n_ready >= f->batch)
            st = flush_ready(o, f, err);
    }
    return st == TS_OK && f->n_ready > 0 ? flush_ready(o, f, err) : st;
}

/* /done, whole, from done_mask: written after the runs it flags, so that the file never says a
 * run is done before its data is there. */
static ts_status write_done(ts_output *o, ts_error *err)
{
    return failed(o,
                  H5Dwrite(o->done, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, o->done_mask))
               ? fail(o, err, "cannot write /done")
               : TS_OK;
}

static ts_status write_run(ts_output *o, size_t point, size_t replicate, const ts_run_result *res,
                           ts_error *err)
{
    const size_t times = (size_t)o->dim[DIM_TIME];
    const void *series[o->n_metrics > 0 ? o->n_metrics : 1];
    for (int m = 0; m < o->n_metrics; m++)
        series[m] = res->series + (size_t)m * times;
    const void *const data[N_FAMILIES][1] = {
        {NULL}, {res->trust_interorg}, {res->stage}, {res->faith}, {res->active}};
    ts_status st = TS_OK;
    for (int k = 0; k < N_FAMILIES && st == TS_OK; k++)
        st = put_run(o, &o->fam[k], point, replicate, k == FAM_SERIES ? series : data[k], err);
    if (st == TS_OK)
        o->done_mask[point * o->dim[DIM_REPLICATE] + replicate] = 1;
    return st;
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
    /* every row gathered so far goes to the file (the series will be summarised from there),
     * then /done, then HDF5's own buffers */
    ts_h5_quiet q = ts_h5_quiet_begin();
    ts_status st = TS_OK;
    for (int k = 0; k < N_FAMILIES && st == TS_OK; k++) {
        st = flush_rows(out, &out->fam[k], err);
        out->fam[k].keep = false;
    }
    if (st == TS_OK)
        st = write_done(out, err);
    if (st == TS_OK && failed(out, H5Fflush(out->file, H5F_SCOPE_LOCAL)))
        st = fail(out, err, "cannot flush %s", out->part);
    ts_h5_quiet_end(q);
    return st;
}

/* ---- summaries --------------------------------------------------------------------------- */

/* The order statistic after x_i = v in col[0..n): v again if more than i + 1 values are at
 * most v, else the least value above v. One pass, no reordering. */
static double next_order_statistic(const double *col, size_t n, size_t i, double v)
{
    size_t at_most = 0;
    double above = INFINITY;
    for (size_t k = 0; k < n; k++) {
        at_most += col[k] <= v;
        above = col[k] > v && col[k] < above ? col[k] : above;
    }
    return at_most > i + 1 ? v : above;
}

/* Up to this many values from one end, gsl_sort_smallest and gsl_sort_largest (one pass that
 * keeps the extreme values in order) find order statistics faster than a selection. */
enum { FEW_EXTREMES = 32 };

/* The f-quantile of col[0..n), as gsl_stats_quantile_from_sorted_data defines it: from the
 * order statistics x_i and x_(i+1), i = floor((n - 1) f), which are found here and put where
 * that function reads them in `order` (scratch of n; the rest of it is never read). Near
 * either end they come from the few smallest or largest values; elsewhere gsl_stats_select
 * finds x_i in linear time (col is reordered) and one more pass x_(i+1). The same value as
 * sorting col first, for less work. */
static double quantile(double *col, size_t n, double f, double *order)
{
    size_t i = (size_t)(f * (double)(n - 1));
    if (i + 2 <= FEW_EXTREMES) {
        gsl_sort_smallest(order, i + 2 < n ? i + 2 : n, col, 1, n); /* x_0 .. x_(i+1) */
    } else if (n - i <= FEW_EXTREMES) {
        size_t k = n - i; /* x_(n-1) .. x_i, descending */
        gsl_sort_largest(order, k, col, 1, n);
        double xi = order[k - 1], next = k > 1 ? order[k - 2] : xi;
        order[i] = xi;
        if (i + 1 < n)
            order[i + 1] = next;
    } else {
        order[i] = gsl_stats_select(col, 1, n, i);
        if (i + 1 < n)
            order[i + 1] = next_order_statistic(col, n, i, order[i]);
    }
    return gsl_stats_quantile_from_sorted_data(order, 1, n, f);
}

/* Statistics at one time over the values in col[0..n) (reordered here; order is scratch of
 * n). NaN where undefined: no value at all, or a single value for the sd.
 * The sd is the square root of GSL's total sum of squares about the mean over n - 1: the
 * statistic of gsl_stats_sd_m, whose running recurrence divides at every value and takes more
 * than twice as long. GSL's running mean stays: it is exact when every value is the same (a
 * plain sum over n drifts by a few ulps, and then the sd is not 0). */
static void summarise(double *col, size_t n, double *order, double *stat)
{
    if (n == 0) {
        for (int k = 0; k < N_SUMMARIES; k++)
            stat[k] = NAN;
        return;
    }
    stat[0] = gsl_stats_mean(col, 1, n);
    stat[1] = n > 1 ? sqrt(gsl_stats_tss_m(col, 1, n, stat[0]) / (double)(n - 1)) : NAN;
    stat[2] = quantile(col, n, 0.05, order);
    stat[3] = quantile(col, n, 0.50, order);
    stat[4] = quantile(col, n, 0.95, order);
}

/* Statistics at time t over the replicates' series rep[r] (NULL: not done), into
 * out[k * stride] for summary k; col and order are scratch of n_reps. */
static void stats_at(const double *const *rep, size_t n_reps, size_t t, double *col, double *order,
                     double *out, size_t stride)
{
    size_t n = 0;
    for (size_t r = 0; r < n_reps; r++)
        if (rep[r] && !isnan(rep[r][t]))
            col[n++] = rep[r][t];
    double st[N_SUMMARIES];
    summarise(col, n, order, st);
    for (int k = 0; k < N_SUMMARIES; k++)
        out[(size_t)k * stride] = st[k];
}

/* Each done replicate's series of metric m at point p in the kept rows, or NULL. */
static void kept_series(const ts_output *o, int m, size_t p, const double **rep)
{
    const family *f = &o->fam[FAM_SERIES];
    const size_t n_reps = (size_t)o->dim[DIM_REPLICATE];
    const uint8_t *done = o->done_mask + p * n_reps;
    for (size_t r = 0; r < n_reps; r++)
        rep[r] = done[r] ? (const double *)row_run(f, f->row_slot[row_of(f, p, r)], m, p, r) : NULL;
}

/* Working memory of the summaries: one point's [replicate][time] block of one metric. */
typedef struct summary_buffers {
    double *block;      /* [n_replicates][n_times], read back (unless the rows are kept) */
    const double **rep; /* [n_replicates]: each done replicate's series, or NULL */
    double *col;        /* [threads][2][n_replicates]: one time's values over the done replicates,
                         * and scratch */
    double *rows;       /* [N_SUMMARIES][n_times] */
    hid_t mem_block, mem_row, space_row;
} summary_buffers;

/* /summary/<metric m>/{mean,...}[point, time], created (filled with NaN); their ids in stat. */
static bool create_summary(ts_output *o, hid_t summary, int m, hid_t stat[N_SUMMARIES])
{
    static const int axes[] = {DIM_POINT, DIM_TIME};
    const double nan = NAN;
    const char *name = o->metric_names[m];
    for (int k = 0; k < N_SUMMARIES; k++)
        stat[k] = H5I_INVALID_HID;
    hid_t group = create_group(o, summary, name, 2, axes);
    bool ok = !failed(o, group);
    /* a few points: one uncompressed chunk (one point's summaries are 2 KB each) */
    const bool small = o->dim[DIM_POINT] * o->dim[DIM_TIME] * sizeof(double) <= SMALL_SUMMARY_BYTES;
    for (int k = 0; ok && k < N_SUMMARIES; k++) {
        char long_name[160];
        snprintf(long_name, sizeof long_name, "%s of %s over completed replicates",
                 summary_names[k], name);
        ok = !failed(o, stat[k] = create_array(o, group, summary_names[k], H5T_IEEE_F64LE,
                                               H5T_NATIVE_DOUBLE, &nan, 2, axes, 1,
                                               small ? 0 : RUNS_PER_CHUNK)) &&
             write_string_attr(o, stat[k], "long_name", long_name) >= 0;
    }
    ts_h5_close(&group);
    return ok;
}

/* /summary/<metric>/{mean,...}[point, time] of one metric, point by point. */
static ts_status summarise_metric(ts_output *o, int m, hid_t summary, summary_buffers *b,
                                  ts_error *err)
{
    const char *name = o->metric_names[m];
    const size_t n_reps = (size_t)o->dim[DIM_REPLICATE], n_times = (size_t)o->dim[DIM_TIME];
    hid_t stat[N_SUMMARIES];
    bool ok = create_summary(o, summary, m, stat);
    for (size_t p = 0; ok && p < o->dim[DIM_POINT]; p++) {
        const uint8_t *done = o->done_mask + p * n_reps;
        if (!memchr(done, 1, n_reps))
            continue; /* the fill value, NaN, already says "no replicate" */
        hsize_t start[3] = {p, 0, 0}, count[3] = {1, n_reps, n_times};
        /* each done replicate's series: in its row when the rows are kept, else read back */
        const bool kept = o->fam[FAM_SERIES].keep;
        if (kept)
            kept_series(o, m, p, b->rep);
        else
            for (size_t r = 0; r < n_reps; r++)
                b->rep[r] = done[r] ? b->block + r * n_times : NULL;
        ok = kept || (!failed(o, H5Sselect_hyperslab(o->space_series, H5S_SELECT_SET, start, NULL,
                                                     count, NULL)) &&
                      !failed(o, H5Dread(o->series[m], H5T_NATIVE_DOUBLE, b->mem_block,
                                         o->space_series, H5P_DEFAULT, b->block)));
        /* times are independent: each thread takes a contiguous range of them, and every
         * statistic is computed the same way whichever thread computes it */
        if (ok) {
#pragma omp parallel for num_threads(o->threads) schedule(static) if (n_times > 64)
            for (size_t t = 0; t < n_times; t++) {
                double *col = b->col + (size_t)omp_get_thread_num() * 2 * n_reps;
                stats_at(b->rep, n_reps, t, col, col + n_reps, b->rows + t, n_times);
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
    const bool kept = o->fam[FAM_SERIES].keep;
    summary_buffers b = {kept ? NULL : malloc(block * sizeof(double)),
                         malloc(n_reps * sizeof(const double *)),
                         malloc((size_t)o->threads * 2 * n_reps * sizeof(double)),
                         malloc(N_SUMMARIES * n_times * sizeof(double)),
                         H5Screate_simple(1, &block, NULL),
                         H5Screate_simple(1, &rows[1], NULL),
                         H5Screate_simple(2, rows, NULL)};
    hid_t summary = H5I_INVALID_HID;
    ts_status st = TS_OK;
    if ((!kept && !b.block) || !b.rep || !b.col || !b.rows)
        st = ts_error_set(err, TS_ERUNTIME, "%s: out of memory for the summaries", o->path);
    else if (failed(o, b.mem_block) || failed(o, b.mem_row) || failed(o, b.space_row) ||
             failed(o, summary = new_group(o, o->file, "summary")))
        st = fail(o, err, "cannot create /summary");
    for (int m = 0; m < o->n_metrics && st == TS_OK; m++)
        st = summarise_metric(o, m, summary, &b, err);
    ts_h5_close(&summary);
    ts_h5_close(&b.space_row);
    ts_h5_close(&b.mem_row);
    ts_h5_close(&b.mem_block);
    free(b.rows);
    free(b.col);
    free(b.rep);
    free(b.block);
    return st;
}

/* ---- closing kept series ---------------------------------------------------------------- */

/* Kept series are closed in one parallel pass (below) when their statistics take no more than
 * this; their compressed chunks fit in the memory counted for the rows. */
#define KEPT_PASS_MAX_BYTES ((size_t)64 << 20)

/* Kept series, closed in one parallel pass when they are small enough: one thread creates the
 * summary datasets while every other computes statistics and compresses chunks; then the
 * statistics (one write per dataset) and the chunks are written. Returns false, having done
 * nothing, when the statistics would need more than KEPT_PASS_MAX_BYTES; *st is the outcome
 * otherwise. */
static bool close_kept_in_one_pass(ts_output *o, ts_status *st, ts_error *err)
{
    family *f = &o->fam[FAM_SERIES];
    const size_t P = (size_t)o->dim[DIM_POINT], R = (size_t)o->dim[DIM_REPLICATE];
    const size_t T = (size_t)o->dim[DIM_TIME], M = (size_t)o->n_metrics;
    const bool summaries = M > 0 && R >= 2;
    size_t n_full = 0; /* rows holding runs */
    for (size_t row = 0; row < f->n_rows; row++)
        n_full += f->row_slot[row] >= 0;
    const size_t per_row = M * f->pieces, n_chunks = n_full * per_row;
    const size_t stats_bytes = summaries ? M * N_SUMMARIES * P * T * sizeof(double) : 0;
    if (stats_bytes > KEPT_PASS_MAX_BYTES)
        return false;
    double *stats = stats_bytes ? malloc(stats_bytes) : NULL;
    unsigned char *z = malloc(n_chunks * f->zcap + 1);
    size_t *zsize = malloc((n_chunks + 1) * sizeof *zsize);
    int32_t *rows = malloc((n_full + 1) * sizeof *rows);
    hid_t *ids = malloc((M * N_SUMMARIES + 1) * sizeof *ids);
    if ((stats_bytes && !stats) || !z || !zsize || !rows || !ids) {
        free(stats), free(z), free(zsize), free(rows), free(ids);
        return false;
    }
    n_full = 0;
    for (size_t row = 0; row < f->n_rows; row++)
        if (f->row_slot[row] >= 0)
            rows[n_full++] = (int32_t)row;
    for (size_t i = 0; i < M * N_SUMMARIES; i++)
        ids[i] = H5I_INVALID_HID;
    const size_t n_stats = summaries ? M * P : 0, values = f->row_runs * f->per_run / f->pieces;
    hid_t summary = H5I_INVALID_HID;
    bool created = true;
    int bad = 0;
#pragma omp parallel num_threads(o->threads) reduction(| : bad)
    {
        /* HDF5 on the calling thread only (whose error printing is off), while the others
         * start on the work below */
#pragma omp master
        if (summaries) {
            created = !failed(o, summary = new_group(o, o->file, "summary"));
            for (size_t m = 0; created && m < M; m++)
                created = create_summary(o, summary, (int)m, ids + m * N_SUMMARIES);
        }
        struct libdeflate_compressor *zs = libdeflate_alloc_compressor(DEFLATE_LEVEL);
        double *col = malloc(2 * R * sizeof *col);
        const double **rep = malloc(R * sizeof *rep);
        unsigned char *v = malloc(values * sizeof(double)), *sh = malloc(values * sizeof(double));
        bad = !col || !rep || !v || !sh || !zs;
#pragma omp for schedule(dynamic, 1)
        for (size_t i = 0; i < n_stats + n_chunks; i++) {
            if (bad)
                continue;
            if (i < n_stats) { /* metric m at point p, every summary at every time */
                size_t m = i / P, p = i % P;
                double *out = stats + m * N_SUMMARIES * P * T + p * T;
                if (memchr(o->done_mask + p * R, 1, R)) {
                    kept_series(o, (int)m, p, rep);
                    for (size_t t = 0; t < T; t++)
                        stats_at(rep, R, t, col, col + R, out + t, P * T);
                } else
                    for (int k = 0; k < N_SUMMARIES; k++)
                        for (size_t t = 0; t < T; t++)
                            out[(size_t)k * P * T + t] = NAN; /* no replicate: the fill value */
            } else {
                size_t c = i - n_stats;
                int32_t slot = f->row_slot[rows[c / per_row]];
                zsize[c] = compress_chunk(f, slot, (int)(c % per_row / f->pieces), c % f->pieces,
                                          zs, v, sh, z + c * f->zcap);
                bad |= zsize[c] == 0;
            }
        }
        libdeflate_free_compressor(zs);
        free(col), free(rep), free(v), free(sh);
    }
    bool ok = !bad && created;
    for (size_t i = 0; ok && i < M * N_SUMMARIES && summaries; i++)
        ok = !failed(o, H5Dwrite(ids[i], H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                                 stats + i * P * T));
    for (size_t c = 0; ok && c < n_chunks; c++) {
        size_t row = (size_t)rows[c / per_row];
        hsize_t at[4] = {row / f->per_r * f->chunk[0], row % f->per_r * f->chunk[1], 0, 0};
        piece_at(f, c % f->pieces, at);
        ok = !failed(o, H5Dwrite_chunk(f->dset[c % per_row / f->pieces], H5P_DEFAULT, 0, at,
                                       zsize[c], z + c * f->zcap));
    }
    for (size_t i = 0; i < M * N_SUMMARIES; i++)
        ts_h5_close(&ids[i]);
    ts_h5_close(&summary);
    for (size_t j = 0; j < n_full; j++) { /* the rows are in the file now */
        f->slot_row[f->row_slot[rows[j]]] = -1;
        f->row_slot[rows[j]] = ROW_FILE;
    }
    free(stats), free(z), free(zsize), free(rows), free(ids);
    *st = ok ? TS_OK : fail(o, err, "cannot write /series and /summary");
    return true;
}

/* ---- closing ----------------------------------------------------------------------------- */

static ts_status close_file(ts_output *o, ts_error *err)
{
    /* kept series are summarised in memory, then written; others are written, then read back */
    const bool kept = o->fam[FAM_SERIES].keep;
    ts_status st = TS_OK;
    for (int k = 0; k < N_FAMILIES && st == TS_OK; k++)
        if (k != FAM_SERIES || !kept)
            st = flush_rows(o, &o->fam[k], err);
    if (st == TS_OK && !(kept && close_kept_in_one_pass(o, &st, err))) {
        st = write_summaries(o, err);
        if (st == TS_OK && kept)
            st = flush_rows(o, &o->fam[FAM_SERIES], err);
    }
    if (st == TS_OK)
        st = write_done(o, err);
    if (st == TS_OK && failed(o, H5Fflush(o->file, H5F_SCOPE_LOCAL)))
        st = fail(o, err, "cannot write %s", o->part);
    if (st != TS_OK) {
        /* what could not be written leaves a file nobody could use */
        discard_part(o);
        return st;
    }
    close_objects(o);
    if (failed(o, H5Fclose(o->file)))
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

/* ---- sensitivity indices ------------------------------------------------------------------- */

static const char *const index_names[] = {"first", "first_lo", "first_hi",
                                          "total", "total_lo", "total_hi"};
static const char *const index_long_names[] = {"first-order Sobol index (Saltelli 2010 estimator)",
                                               "lower end of the bootstrap interval of first",
                                               "upper end of the bootstrap interval of first",
                                               "total-effect Sobol index (Jansen 1999 estimator)",
                                               "lower end of the bootstrap interval of total",
                                               "upper end of the bootstrap interval of total"};

/* /sensitivity/<metric> into the group g: the parameter scale, the six vectors, the
 * attributes. */
static bool write_indices(ts_output *o, hid_t g, const ts_output_indices *ix)
{
    const hsize_t k = (hsize_t)ix->k;
    const double *const vecs[6] = {ix->first, ix->first_lo, ix->first_hi,
                                   ix->total, ix->total_lo, ix->total_hi};
    hid_t str = utf8_type();
    hid_t scale = failed(o, str)
                      ? H5I_INVALID_HID
                      : write_whole(o, g, "parameter", str, str, 1, &k, H5S_ALL, ix->names);
    bool ok = !failed(o, scale) && !failed(o, H5DSset_scale(scale, "parameter")) &&
              write_string_attr(o, scale, "long_name", "swept parameter (scenario path)") >= 0;
    for (int v = 0; ok && v < 6; v++) {
        hid_t d = write_whole(o, g, index_names[v], H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &k,
                              H5S_ALL, vecs[v]);
        ok = !failed(o, d) && !failed(o, H5DSattach_scale(d, scale, 0)) &&
             write_string_attr(o, d, "long_name", index_long_names[v]) >= 0;
        ts_h5_close(&d);
    }
    const int64_t ints[4] = {ix->tick, ix->n_base, ix->n_used, ix->bootstrap};
    static const char *const int_names[4] = {"tick", "n_base", "n_used", "bootstrap"};
    for (int i = 0; ok && i < 4; i++)
        ok = write_attr(o, g, int_names[i], H5T_STD_I64LE, H5T_NATIVE_INT64, &ints[i]) >= 0;
    ok = ok && write_attr(o, g, "level", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &ix->level) >= 0 &&
         write_attr(o, g, "bootstrap_seed", H5T_STD_U64LE, H5T_NATIVE_UINT64,
                    &ix->bootstrap_seed) >= 0 &&
         write_string_attr(o, g, "estimator_first", ix->estimator_first) >= 0 &&
         write_string_attr(o, g, "estimator_total", ix->estimator_total) >= 0 &&
         write_string_attr(o, g, "output", ix->output) >= 0;
    ts_h5_close(&scale);
    ts_h5_close(&str);
    return ok;
}

static ts_status add_indices(ts_output *o, const ts_output_indices *ix, ts_error *err)
{
    hid_t file = H5I_INVALID_HID, fapl = ts_h5_file_access(false);
    ts_status st = TS_OK;
    if (access(o->path, R_OK | W_OK) != 0)
        st = ts_error_set(err, TS_EINPUT, "%s: cannot open for writing: %s", o->path,
                          strerror(errno));
    else if (failed(o, fapl) || failed(o, file = H5Fopen(o->path, H5F_ACC_RDWR, fapl)))
        st = fail(o, err, "cannot open as HDF5 for writing");
    ts_h5_close(&fapl);
    char format[32];
    if (st == TS_OK && (!ts_h5_string_attr(file, "format", format, sizeof format) ||
                        strcmp(format, "trustsim") != 0))
        st = ts_error_set(err, TS_EINPUT, "%s: not a trustsim output", o->path);
    hid_t top = H5I_INVALID_HID, g = H5I_INVALID_HID;
    if (st == TS_OK) {
        bool there = H5Lexists(file, "sensitivity", H5P_DEFAULT) > 0;
        top =
            there ? H5Gopen2(file, "sensitivity", H5P_DEFAULT) : new_group(o, file, "sensitivity");
        bool ok = !failed(o, top) &&
                  (H5Lexists(top, ix->metric, H5P_DEFAULT) <= 0 ||
                   !failed(o, H5Ldelete(top, ix->metric, H5P_DEFAULT))) &&
                  !failed(o, g = new_group(o, top, ix->metric)) && write_indices(o, g, ix);
        if (!ok)
            st = fail(o, err, "cannot write /sensitivity/%s", ix->metric);
    }
    ts_h5_close(&g);
    ts_h5_close(&top);
    if (file >= 0 && failed(o, H5Fclose(file)) && st == TS_OK)
        st = fail(o, err, "cannot close after writing /sensitivity/%s", ix->metric);
    return st;
}

ts_status ts_output_add_indices(const char *path, const ts_output_indices *ix, ts_error *err)
{
    if (bad_name(ix->metric) || ix->k < 1 || !ix->names)
        return ts_error_set(err, TS_EINPUT, "%s: nothing to write for metric '%s'", path,
                            ix->metric ? ix->metric : "(null)");
    for (int i = 0; i < ix->k; i++)
        if (!ix->names[i])
            return ts_error_set(err, TS_EINPUT, "%s: parameter %d has no name", path, i);
    ts_output o;
    memset(&o, 0, sizeof o);
    o.path = (char *)path;
    ts_h5_quiet q = ts_h5_quiet_begin();
    ts_status st = add_indices(&o, ix, err);
    ts_h5_quiet_end(q);
    return st;
}
