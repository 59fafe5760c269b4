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
