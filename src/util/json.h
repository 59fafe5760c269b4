/* Writing JSON values into a growing string: strings escaped, numbers with a chosen number of
 * significant digits, and null for NaN and infinities (JSON has neither). The structure around
 * them (braces, keys, commas) is the writer's own text. Internal to the library. */
#ifndef TS_JSON_H
#define TS_JSON_H

#include <stddef.h>

#include "util/strbuf.h"

/* Significant digits that give a double back exactly. */
enum { TS_JSON_EXACT = 17 };

/* A JSON string: quotes, backslashes and control characters escaped, other bytes (UTF-8) as
 * given; NULL is null. */
void ts_json_string(ts_strbuf *b, const char *s);
/* A number printed "%.*g" with `digits` significant digits; null when not finite. */
void ts_json_number(ts_strbuf *b, double x, int digits);
/* An array of n numbers v[0], v[stride], ..., as ts_json_number. */
void ts_json_numbers(ts_strbuf *b, const double *v, size_t n, size_t stride, int digits);
/* true or false. */
void ts_json_bool(ts_strbuf *b, int x);

#endif
