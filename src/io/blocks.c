/* Block files of finished runs (see src/io/blocks.h). HDF5 datasets, one row per run, chunked
 * under the Fletcher-32 checksum and uncompressed (a block is written once and read once,
 * whole: writing must be cheap), in HDF5's latest file format, whose metadata carries
 * checksums too. Root attributes say what the file is and which job it belongs to. A block is
 * built in memory and written with plain system calls, so that a full disk is an error with
 * its reason, never a half-closed HDF5 file. Nothing about scheduling or the final layout. */
#include "io/blocks.h"

#include "io/h5util.h"
#include "util/textfile.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>
#include <libdeflate.h>

#define BLOCK_FORMAT "trustsim-block"
enum {
    BLOCK_VERSION = 2,    /* 2: final state by pair of organisations */
    CHUNK_BYTES = 1 << 20 /* runs share a chunk up to this size */
};

void ts_block_origin_init(ts_block_origin *o, const char *resolved, uint64_t n_tasks, int n_metrics,
                          int n_times, int n_orgs, int n_pairs)
{
    size_t len = resolved ? strlen(resolved) : 0;
    o->scenario_crc32 = libdeflate_crc32(0, resolved ? resolved : "", len);
    o->scenario_bytes = len;
    o->n_tasks = n_tasks;
    o->n_metrics = n_metrics;
    o->n_times = n_times;
    o->n_orgs = n_orgs;
    o->n_pairs = n_pairs;
}

int ts_block_init(ts_block *b, int cap, int n_metrics, int n_times, int n_orgs, int n_pairs)
{
    memset(b, 0, sizeof *b);
    b->cap = cap;
    b->n_metrics = n_metrics;
    b->n_times = n_times;
    b->n_orgs = n_orgs;
    b->n_pairs = n_pairs;
    size_t c = cap > 0 ? (size_t)cap : 1, oo = n_pairs > 0 ? (size_t)n_pairs : 0;
    b->task = malloc(c * sizeof *b->task);
    b->series = malloc((c * (size_t)n_metrics * n_times > 0 ? c * (size_t)n_metrics * n_times : 1) *
                       sizeof *b->series);
    b->trust = malloc((c * oo > 0 ? c * oo : 1) * sizeof *b->trust);
    b->stage = malloc((c * oo > 0 ? c * oo : 1) * sizeof *b->stage);
    b->faith = malloc(c * (n_orgs > 0 ? (size_t)n_orgs : 1) * sizeof *b->faith);
    b->active = malloc(c * (n_orgs > 0 ? (size_t)n_orgs : 1) * sizeof *b->active);
    if (!b->task || !b->series || !b->trust || !b->stage || !b->faith || !b->active) {
        ts_block_destroy(b);
        return -1;
    }
    return 0;
}

void ts_block_destroy(ts_block *b)
{
    free(b->task), free(b->series), free(b->trust), free(b->stage), free(b->faith);
    free(b->active);
    memset(b, 0, sizeof *b);
}

void ts_block_add(ts_block *b, uint64_t task, const ts_run_result *res)
{
    size_t i = (size_t)b->n++, ms = (size_t)b->n_metrics * b->n_times;
    size_t o = (size_t)b->n_orgs, oo = (size_t)b->n_pairs;
    b->task[i] = task;
    memcpy(b->series + i * ms, res->series, ms * sizeof *b->series);
    memcpy(b->trust + i * oo, res->trust_interorg, oo * sizeof *b->trust);
    memcpy(b->stage + i * oo, res->stage, oo * sizeof *b->stage);
    memcpy(b->faith + i * o, res->faith, o * sizeof *b->faith);
    memcpy(b->active + i * o, res->active, o * sizeof *b->active);
}

void ts_block_run(const ts_block *b, int i, ts_run_result *res)
{
    size_t ms = (size_t)b->n_metrics * b->n_times, o = (size_t)b->n_orgs, oo = (size_t)b->n_pairs;
    res->n_metrics = b->n_metrics;
    res->n_times = b->n_times;
    res->n_orgs = b->n_orgs;
    res->n_pairs = b->n_pairs;
    res->series = b->series + (size_t)i * ms;
    res->trust_interorg = b->trust + (size_t)i * oo;
    res->stage = b->stage + (size_t)i * oo;
    res->faith = b->faith + (size_t)i * o;
    res->active = b->active + (size_t)i * o;
}

/* ---- writing ----------------------------------------------------------------------------- */

/* The datasets of a block: name, element types, and the shape of one run. */
typedef struct column {
    const char *name;
    hid_t file_type, mem_type;
    H5T_class_t cls;
    int rank;        /* with the run axis */
    hsize_t dims[3]; /* dims[0] is the number of runs */
} column;

enum { COL_TASK, COL_SERIES, COL_TRUST, COL_STAGE, COL_FAITH, COL_ACTIVE, N_COLUMNS };

static void columns_of(column c[N_COLUMNS], hsize_t n, int n_metrics, int n_times, int n_orgs,
                       int n_pairs)
{
    const hsize_t m = (hsize_t)n_metrics, t = (hsize_t)n_times, o = (hsize_t)n_orgs,
                  k = (hsize_t)n_pairs;
    const column all[N_COLUMNS] = {
        {"task", H5T_STD_U64LE, H5T_NATIVE_UINT64, H5T_INTEGER, 1, {n, 0, 0}},
        {"series", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, H5T_FLOAT, 3, {n, m, t}},
        {"trust_interorg", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, H5T_FLOAT, 2, {n, k, 0}},
        {"stage", H5T_STD_I8LE, H5T_NATIVE_INT8, H5T_INTEGER, 2, {n, k, 0}},
        {"faith", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, H5T_FLOAT, 2, {n, o, 0}},
        {"active", H5T_STD_U8LE, H5T_NATIVE_UINT8, H5T_INTEGER, 2, {n, o, 0}},
    };
    memcpy(c, all, sizeof all);
}

static const void *column_data(const ts_block *b, int k)
{
    const void *const data[N_COLUMNS] = {b->task,  b->series, b->trust,
                                         b->stage, b->faith,  b->active};
    return data[k];
}

/* A dataset of n rows, chunked a few runs at a time under the Fletcher-32 checksum. */
static bool write_column(hid_t file, const column *c, const void *data)
{
    hsize_t row = H5Tget_size(c->mem_type), chunk[3];
    for (int i = 1; i < c->rank; i++) {
        row *= c->dims[i];
        chunk[i] = c->dims[i] > 0 ? c->dims[i] : 1;
    }
    hsize_t runs = row > 0 && row < CHUNK_BYTES ? CHUNK_BYTES / row : 1;
    chunk[0] = c->dims[0] < runs ? c->dims[0] : runs;
    hid_t space = H5Screate_simple(c->rank, c->dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t ds = H5I_INVALID_HID;
    bool empty = false;
    for (int i = 0; i < c->rank; i++)
        empty |= c->dims[i] == 0;
    bool ok =
        space >= 0 && dcpl >= 0 &&
        (empty || (H5Pset_chunk(dcpl, c->rank, chunk) >= 0 && H5Pset_fletcher32(dcpl) >= 0)) &&
        (ds = H5Dcreate2(file, c->name, c->file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT)) >=
            0 &&
        (empty || H5Dwrite(ds, c->mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    ts_h5_close(&ds);
    ts_h5_close(&dcpl);
    ts_h5_close(&space);
    return ok;
}

static bool write_u64_attr(hid_t loc, const char *name, uint64_t v)
{
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = space >= 0 ? H5Acreate2(loc, name, H5T_STD_U64LE, space, H5P_DEFAULT, H5P_DEFAULT)
                         : H5I_INVALID_HID;
    bool ok = a >= 0 && H5Awrite(a, H5T_NATIVE_UINT64, &v) >= 0;
    ts_h5_close(&a);
    ts_h5_close(&space);
    return ok;
}

/* A fixed-length string: kept in the attribute itself, under the object header's checksum
 * (a variable-length one would live in HDF5's global heap, which has none). */
static bool write_format_attr(hid_t loc)
{
    hid_t type = H5Tcopy(H5T_C_S1), space = H5Screate(H5S_SCALAR), a = H5I_INVALID_HID;
    static const char value[] = BLOCK_FORMAT;
    bool ok = type >= 0 && space >= 0 && H5Tset_size(type, sizeof value) >= 0 &&
              (a = H5Acreate2(loc, "format", type, space, H5P_DEFAULT, H5P_DEFAULT)) >= 0 &&
              H5Awrite(a, type, value) >= 0;
    ts_h5_close(&a);
    ts_h5_close(&space);
    ts_h5_close(&type);
    return ok;
}

static bool write_attrs(hid_t f, const ts_block_origin *origin)
{
    return write_format_attr(f) && write_u64_attr(f, "block_version", BLOCK_VERSION) &&
           write_u64_attr(f, "scenario_crc32", origin->scenario_crc32) &&
           write_u64_attr(f, "scenario_bytes", origin->scenario_bytes) &&
           write_u64_attr(f, "n_tasks", origin->n_tasks) &&
           write_u64_attr(f, "n_metrics", (uint64_t)origin->n_metrics) &&
           write_u64_attr(f, "n_times", (uint64_t)origin->n_times) &&
           write_u64_attr(f, "n_orgs", (uint64_t)origin->n_orgs) &&
           write_u64_attr(f, "n_pairs", (uint64_t)origin->n_pairs);
}

/* The memory of an in-memory HDF5 file, handed over when HDF5 closes the file (HDF5's own
 * image of a file still open clears the superblock's status flags without renewing its
 * checksum: such an image does not open again). */
typedef struct mem_image {
    void *mem;
    size_t size; /* of mem */
} mem_image;

static void *image_malloc(size_t size, H5FD_file_image_op_t op, void *udata)
{
    (void)op;
    mem_image *im = udata;
    void *p = malloc(size);
    if (p)
        im->size = size;
    return p;
}

static void *image_memcpy(void *dest, const void *src, size_t size, H5FD_file_image_op_t op,
                          void *udata)
{
    (void)op, (void)udata;
    return memcpy(dest, src, size);
}

static void *image_realloc(void *ptr, size_t size, H5FD_file_image_op_t op, void *udata)
{
    (void)op;
    mem_image *im = udata;
    void *p = realloc(ptr, size);
    if (p)
        im->size = size;
    return p;
}

static herr_t image_free(void *ptr, H5FD_file_image_op_t op, void *udata)
{
    mem_image *im = udata;
    if (op == H5FD_FILE_IMAGE_OP_FILE_CLOSE && !im->mem)
        im->mem = ptr; /* the finished file: ours now */
    else
        free(ptr);
    return 0;
}

static void *image_udata_copy(void *udata)
{
    return udata;
}

static herr_t image_udata_free(void *udata)
{
    (void)udata;
    return 0;
}

/* The block as an HDF5 file built in memory (HDF5's core driver), in *image (the first *size
 * bytes are the file). Building it in memory means no HDF5 call ever fails on the disk, which
 * HDF5 does not always survive (a file whose close failed can crash the library when it shuts
 * down); the file is written with plain system calls instead. */
static bool build_image(const ts_block *b, const ts_block_origin *origin, mem_image *im,
                        size_t *size, char *why, size_t cap)
{
    column c[N_COLUMNS];
    columns_of(c, (hsize_t)b->n, b->n_metrics, b->n_times, b->n_orgs, b->n_pairs);
    size_t bytes = (size_t)1 << 16;
    for (int k = 0; k < N_COLUMNS; k++) {
        size_t n = H5Tget_size(c[k].mem_type);
        for (int i = 0; i < c[k].rank; i++)
            n *= (size_t)c[k].dims[i];
        bytes += n + n / 64;
    }
    H5FD_file_image_callbacks_t calls = {image_malloc,
                                         image_memcpy,
                                         image_realloc,
                                         image_free,
                                         image_udata_copy,
                                         image_udata_free,
                                         im};
    hid_t fapl = ts_h5_file_access(true), fcpl = ts_h5_file_create();
    hid_t f = H5I_INVALID_HID;
    bool ok = fapl >= 0 && fcpl >= 0 && H5Pset_fapl_core(fapl, bytes, 0) >= 0 &&
              H5Pset_file_image_callbacks(fapl, &calls) >= 0 &&
              (f = H5Fcreate("block", H5F_ACC_TRUNC, fcpl, fapl)) >= 0 && write_attrs(f, origin);
    for (int k = 0; ok && k < N_COLUMNS; k++)
        ok = write_column(f, &c[k], column_data(b, k));
    /* the file's end (HDF5's end of allocation): the memory past it is the driver's slack */
    ssize_t n = ok && H5Fflush(f, H5F_SCOPE_GLOBAL) >= 0 ? H5Fget_file_image(f, NULL, 0) : -1;
    ok = n > 0;
    if (!ok)
        ts_h5_reason(why, cap);
    if (f >= 0 && H5Fclose(f) < 0 && ok) {
        ok = false;
        ts_h5_reason(why, cap);
    }
    ts_h5_close(&fcpl);
    ts_h5_close(&fapl);
    if (ok && (!im->mem || (size_t)n > im->size)) {
        ok = false;
        snprintf(why, cap, "the block's image in memory is lost (%s)", strerror(ENOMEM));
    }
    *size = (size_t)n;
    return ok;
}

ts_status ts_block_write(const ts_block *b, const ts_block_origin *origin, const char *dir,
                         const char *name, ts_error *err)
{
    char path[4096], tmp[4200], why[4400] = "";
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    ts_h5_quiet q = ts_h5_quiet_begin();
    mem_image im = {NULL, 0};
    size_t size = 0;
    bool ok = build_image(b, origin, &im, &size, why, sizeof why);
    ts_h5_quiet_end(q);
    int error = ok ? ts_write_file(tmp, im.mem, size) : 0;
    free(im.mem);
    if (error) {
        ok = false;
        snprintf(why, sizeof why, "%s", strerror(error));
    } else if (ok && rename(tmp, path) != 0) {
        ok = false;
        snprintf(why, sizeof why, "cannot rename %s into place: %s", tmp, strerror(errno));
    }
    if (!ok) {
        remove(tmp);
        return ts_error_set(err, TS_ERUNTIME, "%s: cannot write a block of finished runs: %s", path,
                            why);
    }
    return TS_OK;
}

/* ---- reading ----------------------------------------------------------------------------- */

/* "PATH: damaged block: what", TS_EINPUT: the caller sets such a block aside. */
static ts_status damaged(ts_error *err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static ts_status damaged(ts_error *err, const char *path, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return ts_error_set(err, TS_EINPUT, "%s: damaged block: %s", path, what);
}

/* The root attributes against the job. */
static ts_status check_attrs(hid_t f, const char *path, const ts_block_origin *o, ts_error *err)
{
    char format[32];
    ts_h5_fixed_string_attr(f, "format", format, sizeof format);
    if (strcmp(format, BLOCK_FORMAT) != 0)
        return damaged(err, path,
                       "no format attribute '%s' (a block written without "
                       "checksums by an older trustsim, or another file)",
                       BLOCK_FORMAT);
    uint64_t v[8];
    static const char *const names[8] = {"block_version", "scenario_crc32", "scenario_bytes",
                                         "n_tasks",       "n_metrics",      "n_times",
                                         "n_orgs",        "n_pairs"};
    for (int i = 0; i < 8; i++)
        if (!ts_h5_u64_attr(f, names[i], &v[i]))
            return damaged(err, path, "no valid attribute %s", names[i]);
    if (v[0] != BLOCK_VERSION)
        return damaged(err, path, "block format %llu, not %d", (unsigned long long)v[0],
                       BLOCK_VERSION);
    if (v[1] != o->scenario_crc32 || v[2] != o->scenario_bytes || v[3] != o->n_tasks)
        return damaged(err, path, "it belongs to another scenario");
    if (v[4] != (uint64_t)o->n_metrics || v[5] != (uint64_t)o->n_times ||
        v[6] != (uint64_t)o->n_orgs || v[7] != (uint64_t)o->n_pairs)
        return damaged(err, path, "its runs are shaped for another scenario");
    return TS_OK;
}

/* Open column c, checking its type class and shape (dims[0], the runs, is found here: the
 * first column fixes it for the others). */
static ts_status open_column(hid_t f, const char *path, column *c, hsize_t *n_runs, hid_t *ds,
                             ts_error *err)
{
    *ds = H5I_INVALID_HID;
    H5O_info_t oi;
    if (H5Lexists(f, c->name, H5P_DEFAULT) <= 0 ||
        H5Oget_info_by_name(f, c->name, &oi, H5P_DEFAULT) < 0 || oi.type != H5O_TYPE_DATASET)
        return damaged(err, path, "no dataset %s", c->name);
    *ds = H5Dopen2(f, c->name, H5P_DEFAULT);
    hid_t type = *ds >= 0 ? H5Dget_type(*ds) : H5I_INVALID_HID;
    hid_t space = *ds >= 0 ? H5Dget_space(*ds) : H5I_INVALID_HID;
    hsize_t dims[H5S_MAX_RANK];
    bool ok = type >= 0 && space >= 0 && H5Tget_class(type) == c->cls &&
              H5Sget_simple_extent_ndims(space) == c->rank &&
              H5Sget_simple_extent_dims(space, dims, NULL) == c->rank;
    if (ok && *n_runs == (hsize_t)-1)
        *n_runs = dims[0];
    c->dims[0] = *n_runs;
    for (int i = 0; ok && i < c->rank; i++)
        ok = dims[i] == c->dims[i];
    ts_h5_close(&space);
    ts_h5_close(&type);
    if (!ok) {
        ts_h5_close(ds);
        return damaged(err, path, "%s is not shaped as this job's runs", c->name);
    }
    return TS_OK;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Each task id is one of the job's, and none appears twice. */
static ts_status check_tasks(const uint64_t *task, size_t n, const char *path,
                             const ts_block_origin *o, ts_error *err)
{
    uint64_t *sorted = malloc((n ? n : 1) * sizeof *sorted);
    if (!sorted)
        return ts_error_set(err, TS_ERUNTIME, "%s: out of memory (%s)", path, strerror(ENOMEM));
    memcpy(sorted, task, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_u64);
    ts_status st = TS_OK;
    for (size_t i = 0; i < n && st == TS_OK; i++) {
        if (sorted[i] >= o->n_tasks)
            st = damaged(err, path, "run %llu is outside this job's %llu runs",
                         (unsigned long long)sorted[i], (unsigned long long)o->n_tasks);
        else if (i > 0 && sorted[i] == sorted[i - 1])
            st = damaged(err, path, "run %llu appears twice", (unsigned long long)sorted[i]);
    }
    free(sorted);
    return st;
}

/* Read the open block file f into b (all columns) or only its tasks (tasks != NULL). */
static ts_status read_open(hid_t f, const char *path, const ts_block_origin *o, ts_block *b,
                           uint64_t **tasks, size_t *n_tasks, ts_error *err)
{
    ts_status st = check_attrs(f, path, o, err);
    column c[N_COLUMNS];
    columns_of(c, 0, o->n_metrics, o->n_times, o->n_orgs, o->n_pairs);
    hsize_t n = (hsize_t)-1;
    hid_t ds[N_COLUMNS];
    for (int k = 0; k < N_COLUMNS; k++)
        ds[k] = H5I_INVALID_HID;
    for (int k = 0; k < N_COLUMNS && st == TS_OK; k++)
        st = open_column(f, path, &c[k], &n, &ds[k], err);
    /* no block holds more runs than its job has */
    if (st == TS_OK && (n == 0 || n > o->n_tasks || n > (hsize_t)(INT32_MAX / 2)))
        st = damaged(err, path, "it claims %llu runs of a job of %llu", (unsigned long long)n,
                     (unsigned long long)o->n_tasks);
    if (st == TS_OK && tasks) {
        *tasks = malloc((size_t)n * sizeof **tasks);
        if (!*tasks)
            st = ts_error_set(err, TS_ERUNTIME, "%s: out of memory (%s)", path, strerror(ENOMEM));
    } else if (st == TS_OK) {
        ts_block_destroy(b);
        if (ts_block_init(b, (int)n, o->n_metrics, o->n_times, o->n_orgs, o->n_pairs) != 0)
            st = ts_error_set(err, TS_ERUNTIME, "%s: out of memory for a block of %llu runs (%s)",
                              path, (unsigned long long)n, strerror(ENOMEM));
        else
            b->n = (int)n;
    }
    for (int k = 0; k < N_COLUMNS && st == TS_OK && (k == COL_TASK || !tasks); k++) {
        void *data = tasks ? (void *)*tasks : (void *)column_data(b, k);
        bool empty = false;
        for (int i = 0; i < c[k].rank; i++)
            empty |= c[k].dims[i] == 0;
        if (!empty && H5Dread(ds[k], c[k].mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
            char why[256];
            ts_h5_reason(why, sizeof why);
            st = damaged(err, path, "%s: %s", c[k].name, why);
        }
    }
    for (int k = 0; k < N_COLUMNS; k++)
        ts_h5_close(&ds[k]);
    if (st == TS_OK)
        st = check_tasks(tasks ? *tasks : b->task, (size_t)n, path, o, err);
    if (st == TS_OK && n_tasks)
        *n_tasks = (size_t)n;
    if (st != TS_OK && tasks) {
        free(*tasks);
        *tasks = NULL;
    }
    return st;
}

/* Open a block file: a file that is there but will not open as HDF5 is damaged (truncated,
 * overwritten); one that cannot be read at all is a problem of the system, not the block. */
static ts_status open_block(const char *path, hid_t *f, ts_error *err)
{
    *f = H5I_INVALID_HID;
    if (access(path, R_OK) != 0)
        return ts_error_set(err, TS_ERUNTIME, "%s: cannot read: %s", path, strerror(errno));
    *f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (*f < 0) {
        char why[256];
        ts_h5_reason(why, sizeof why);
        return damaged(err, path, "cannot open as HDF5: %s", why);
    }
    return TS_OK;
}

ts_status ts_block_read(const char *path, const ts_block_origin *origin, ts_block *b, ts_error *err)
{
    ts_h5_quiet q = ts_h5_quiet_begin();
    hid_t f;
    ts_status st = open_block(path, &f, err);
    if (st == TS_OK)
        st = read_open(f, path, origin, b, NULL, NULL, err);
    ts_h5_close(&f);
    ts_h5_quiet_end(q);
    return st;
}

ts_status ts_block_read_image(const void *image, size_t size, const char *name,
                              const ts_block_origin *origin, ts_block *b, ts_error *err)
{
    ts_h5_quiet q = ts_h5_quiet_begin();
    hid_t f;
    ts_status st = ts_h5_open_image(image, size, name, &f, err);
    if (st == TS_OK)
        st = read_open(f, name, origin, b, NULL, NULL, err);
    ts_h5_close(&f);
    ts_h5_quiet_end(q);
    return st;
}

ts_status ts_block_read_tasks(const char *path, const ts_block_origin *origin, uint64_t **tasks,
                              size_t *n, ts_error *err)
{
    *tasks = NULL;
    *n = 0;
    ts_h5_quiet q = ts_h5_quiet_begin();
    hid_t f;
    ts_status st = open_block(path, &f, err);
    if (st == TS_OK)
        st = read_open(f, path, origin, NULL, tasks, n, err);
    ts_h5_close(&f);
    ts_h5_quiet_end(q);
    return st;
}
