/* Whole files in and out of memory: scenario files, calibration targets, the manifests of
 * unfinished runs and the blocks of finished runs. Internal to the library. */
#ifndef TS_TEXTFILE_H
#define TS_TEXTFILE_H

#include <stddef.h>

#include "trustsim/error.h"

/* The file's contents as a malloc'd NUL-terminated string, or NULL with *error set to an errno
 * value (ENOMEM when out of memory). */
char *ts_read_file(const char *path, int *error);
/* The same for a file the user named: *text malloc'd, or the error "PATH: cannot read: REASON"
 * (TS_EINPUT; TS_ERUNTIME when out of memory) and *text NULL. */
ts_status ts_read_text_file(const char *path, char **text, ts_error *err);

/* Write len bytes to path (created or truncated) and close it: 0, or the errno value of the
 * first failure (a full disk shows as ENOSPC here, not later). The caller renames the file
 * into place, or removes it. */
int ts_write_file(const char *path, const void *data, size_t len);

#endif
