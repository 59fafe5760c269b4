/* Reading a whole text file into memory: scenario files, calibration targets and the
 * manifests of unfinished runs. Internal to the library. */
#ifndef TS_TEXTFILE_H
#define TS_TEXTFILE_H

/* The file's contents as a malloc'd NUL-terminated string, or NULL with *error set to an errno
 * value (ENOMEM when out of memory). */
char *ts_read_file(const char *path, int *error);

#endif
