/* Block files of finished runs (see src/blocks.h). Plain HDF5 datasets, one row per run,
 * compressed; nothing about scheduling or the final layout. */
#include "io/blocks.h"

#include "io/h5util.h"

#include <stdbool.h>

#include <hdf5.h>
#include <hdf5_hl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ts_block_init(ts_block *b, int cap, int n_metrics, int n_times, int n_orgs)
{
    memset(b, 0, sizeof *b);
    b->cap = cap;
    b->n_metrics = n_metrics;
    b->n_times = n_times;
    b->n_orgs = n_orgs;
    size_t c = cap > 0 ? (size_t)cap : 1, oo = (size_t)n_orgs * n_orgs;
    b->task = malloc(c * sizeof *b->task);
    b->series = malloc(c * (size_t)n_metrics * n_times * sizeof *b->series);
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
    size_t o = (size_t)b->n_orgs, oo = o * o;
    b->task[i] = task;
    memcpy(b->series + i * ms, res->series, ms * sizeof *b->series);
    memcpy(b->trust + i * oo, res->trust_interorg, oo * sizeof *b->trust);
    memcpy(b->stage + i * oo, res->stage, oo * sizeof *b->stage);
    memcpy(b->faith + i * o, res->faith, o * sizeof *b->faith);
    memcpy(b->active + i * o, res->active, o * sizeof *b->active);
}

void ts_block_run(const ts_block *b, int i, ts_run_result *res)
{
    size_t ms = (size_t)b->n_metrics * b->n_times, o = (size_t)b->n_orgs, oo = o * o;
    res->n_metrics = b->n_metrics;
    res->n_times = b->n_times;
    res->n_orgs = b->n_orgs;
    res->series = b->series + (size_t)i * ms;
    res->trust_interorg = b->trust + (size_t)i * oo;
    res->stage = b->stage + (size_t)i * oo;
    res->faith = b->faith + (size_t)i * o;
    res->active = b->active + (size_t)i * o;
}

/* A dataset of n rows of `row` elements, contiguous and uncompressed: blocks are short-lived,
 * written once and read once, whole, so writing them must be cheap. */
static herr_t write_rows(hid_t file, const char *name, hid_t type, int rank, const hsize_t *dims,
                         const void *data)
{
    hid_t space = H5Screate_simple(rank, dims, NULL);
    herr_t st = -1;
    if (space >= 0) {
        hid_t ds = H5Dcreate2(file, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (ds >= 0) {
            st = dims[0] > 0 ? H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) : 0;
            H5Dclose(ds);
        }
        H5Sclose(space);
    }
    return st;
}

ts_status ts_block_write(const ts_block *b, const char *dir, const char *name, ts_error *err)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    ts_h5_quiet q = ts_h5_quiet_begin();
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t n = (hsize_t)b->n, m = (hsize_t)b->n_metrics, t = (hsize_t)b->n_times;
    hsize_t o = (hsize_t)b->n_orgs;
    hsize_t d1[1] = {n}, d3[3] = {n, m, t}, doo[3] = {n, o, o}, dor[2] = {n, o};
    bool ok =
        f >= 0 && write_rows(f, "task", H5T_NATIVE_UINT64, 1, d1, b->task) >= 0 &&
        write_rows(f, "series", H5T_NATIVE_DOUBLE, 3, d3, b->series) >= 0 &&
        (o == 0 || (write_rows(f, "trust_interorg", H5T_NATIVE_DOUBLE, 3, doo, b->trust) >= 0 &&
                    write_rows(f, "stage", H5T_NATIVE_INT8, 3, doo, b->stage) >= 0 &&
                    write_rows(f, "faith", H5T_NATIVE_DOUBLE, 2, dor, b->faith) >= 0 &&
                    write_rows(f, "active", H5T_NATIVE_UINT8, 2, dor, b->active) >= 0));
    if (f >= 0 && H5Fclose(f) < 0)
        ok = false;
    ts_h5_quiet_end(q);
    if (!ok || rename(tmp, path) != 0) {
        remove(tmp);
        return ts_error_set(err, TS_ERUNTIME, "%s: cannot write a block of finished runs", path);
    }
    return TS_OK;
}

static herr_t read_all(hid_t f, const char *name, hid_t type, void *data)
{
    hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
    if (ds < 0)
        return -1;
    herr_t st = H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    H5Dclose(ds);
    return st;
}

static hid_t open_block(const char *path, hsize_t dims[3])
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return -1;
    hid_t ds = H5Dopen2(f, "series", H5P_DEFAULT);
    hid_t sp = ds >= 0 ? H5Dget_space(ds) : -1;
    int ok = sp >= 0 && H5Sget_simple_extent_ndims(sp) == 3 &&
             H5Sget_simple_extent_dims(sp, dims, NULL) == 3;
    if (sp >= 0)
        H5Sclose(sp);
    if (ds >= 0)
        H5Dclose(ds);
    if (!ok) {
        H5Fclose(f);
        return -1;
    }
    return f;
}

ts_status ts_block_read(const char *path, ts_block *b, ts_error *err)
{
    ts_h5_quiet q = ts_h5_quiet_begin();
    hsize_t dims[3];
    hid_t f = open_block(path, dims);
    int n_orgs = b->n_orgs;
    bool ok = f >= 0;
    if (ok) {
        ts_block_destroy(b);
        ok = ts_block_init(b, (int)dims[0], (int)dims[1], (int)dims[2], n_orgs) == 0;
    }
    if (ok) {
        b->n = (int)dims[0];
        ok = dims[0] == 0 ||
             (read_all(f, "task", H5T_NATIVE_UINT64, b->task) >= 0 &&
              read_all(f, "series", H5T_NATIVE_DOUBLE, b->series) >= 0 &&
              (n_orgs == 0 || (read_all(f, "trust_interorg", H5T_NATIVE_DOUBLE, b->trust) >= 0 &&
                               read_all(f, "stage", H5T_NATIVE_INT8, b->stage) >= 0 &&
                               read_all(f, "faith", H5T_NATIVE_DOUBLE, b->faith) >= 0 &&
                               read_all(f, "active", H5T_NATIVE_UINT8, b->active) >= 0)));
    }
    if (f >= 0)
        H5Fclose(f);
    ts_h5_quiet_end(q);
    return ok ? TS_OK : ts_error_set(err, TS_ERUNTIME, "%s: cannot read block", path);
}

ts_status ts_block_read_tasks(const char *path, uint64_t **tasks, size_t *n, ts_error *err)
{
    ts_h5_quiet q = ts_h5_quiet_begin();
    hsize_t dims[3];
    hid_t f = open_block(path, dims);
    bool ok = f >= 0;
    *tasks = NULL;
    *n = 0;
    if (ok) {
        *tasks = malloc((dims[0] > 0 ? dims[0] : 1) * sizeof **tasks);
        ok = *tasks && (dims[0] == 0 || read_all(f, "task", H5T_NATIVE_UINT64, *tasks) >= 0);
        *n = ok ? (size_t)dims[0] : 0;
    }
    if (f >= 0)
        H5Fclose(f);
    ts_h5_quiet_end(q);
    if (!ok) {
        free(*tasks);
        *tasks = NULL;
        return ts_error_set(err, TS_ERUNTIME, "%s: cannot read block", path);
    }
    return TS_OK;
}
