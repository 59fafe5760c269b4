/* Error values shared by every module.
 *
 * The library never exits and never prints: a failing call returns a status and fills a
 * ts_error with a message that names the file, line, column and key at fault where there is
 * one. Only the command line turns a status into an exit code. */
#ifndef TRUSTSIM_ERROR_H
#define TRUSTSIM_ERROR_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ts_status {
    TS_OK = 0,
    TS_ERUNTIME = 1,    /* the run could not complete: I/O, memory, library failure */
    TS_EINPUT = 2,      /* bad usage or bad input: the user can fix it */
    TS_EINTERRUPTED = 3 /* stopped on request (a signal); finished work is saved */
} ts_status;

typedef struct ts_error {
    char msg[1024];
} ts_error;

/* Format a message into err (err may be NULL) and return status. */
ts_status ts_error_set(ts_error *err, ts_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
ts_status ts_error_vset(ts_error *err, ts_status status, const char *fmt, va_list ap);

/* A located message, the form every input error takes:
 *   FILE:LINE:COL: key 'KEY': REASON     (or FILE:LINE:COL: REASON when key is NULL or "")
 * with line and column counted from 1. */
ts_status ts_error_at(ts_error *err, ts_status status, const char *file, size_t line, size_t column,
                      const char *key, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
ts_status ts_error_vat(ts_error *err, ts_status status, const char *file, size_t line,
                       size_t column, const char *key, const char *fmt, va_list ap);

#ifdef __cplusplus
}
#endif
#endif
