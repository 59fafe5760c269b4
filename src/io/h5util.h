/* Small HDF5 helpers shared by the modules that read or write files (output, blocks, compare,
 * sensitivity, export, info). Internal to the project. */
#ifndef TS_H5UTIL_H
#define TS_H5UTIL_H

#include <stdbool.h>

#include <hdf5.h>

#include "trustsim/error.h"

/* HDF5 prints its error stack by default; a library must not print. A quiet section switches
 * the automatic printing off and restores whatever was set before. */
typedef struct ts_h5_quiet {
    H5E_auto2_t func;
    void *data;
} ts_h5_quiet;

ts_h5_quiet ts_h5_quiet_begin(void);
void ts_h5_quiet_end(ts_h5_quiet q);

/* Close any HDF5 identifier (file, group, dataset, dataspace, datatype, property list,
 * attribute) and set it to H5I_INVALID_HID; does nothing for an invalid one. */
void ts_h5_close(hid_t *id);

/* Open an existing HDF5 file for reading (or read-write), with the errors a user can cause
 * named: "PATH: cannot read: <reason>", "PATH: not an HDF5 file", "PATH: cannot open as
 * HDF5". Call inside a quiet section. */
ts_status ts_h5_open(const char *path, bool write, hid_t *file, ts_error *err);

/* The scalar variable-length string dataset group/name under loc, as a malloc'd copy; NULL when
 * it is missing or unreadable. Call inside a quiet section. */
char *ts_h5_read_string(hid_t loc, const char *group, const char *name);

#endif
