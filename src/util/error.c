/* Formatting of error values (see include/trustsim/error.h). */
#include "trustsim/error.h"

#include <stdio.h>

ts_status ts_error_vset(ts_error *err, ts_status status, const char *fmt, va_list ap)
{
    if (err)
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    return status;
}

ts_status ts_error_set(ts_error *err, ts_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ts_error_vset(err, status, fmt, ap);
    va_end(ap);
    return status;
}

ts_status ts_error_vat(ts_error *err, ts_status status, const char *file, size_t line,
                       size_t column, const char *key, const char *fmt, va_list ap)
{
    if (!err)
        return status;
    char reason[sizeof err->msg];
    vsnprintf(reason, sizeof reason, fmt, ap);
    if (key && key[0])
        return ts_error_set(err, status, "%s:%zu:%zu: key '%s': %s", file, line, column, key,
                            reason);
    return ts_error_set(err, status, "%s:%zu:%zu: %s", file, line, column, reason);
}

ts_status ts_error_at(ts_error *err, ts_status status, const char *file, size_t line, size_t column,
                      const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ts_error_vat(err, status, file, line, column, key, fmt, ap);
    va_end(ap);
    return status;
}
