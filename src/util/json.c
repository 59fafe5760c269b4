/* JSON values (see src/util/json.h). */
#include "util/json.h"

#include <math.h>

void ts_json_string(ts_strbuf *b, const char *s)
{
    if (!s) {
        ts_strbuf_printf(b, "null");
        return;
    }
    ts_strbuf_append(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            ts_strbuf_append(b, "\\\"", 2);
            break;
        case '\\':
            ts_strbuf_append(b, "\\\\", 2);
            break;
        case '\n':
            ts_strbuf_append(b, "\\n", 2);
            break;
        case '\r':
            ts_strbuf_append(b, "\\r", 2);
            break;
        case '\t':
            ts_strbuf_append(b, "\\t", 2);
            break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                ts_strbuf_printf(b, "\\u%04x", *p);
            else
                ts_strbuf_append(b, (const char *)p, 1);
        }
    }
    ts_strbuf_append(b, "\"", 1);
}

void ts_json_number(ts_strbuf *b, double x, int digits)
{
    if (isfinite(x))
        ts_strbuf_printf(b, "%.*g", digits, x);
    else
        ts_strbuf_printf(b, "null");
}

void ts_json_numbers(ts_strbuf *b, const double *v, size_t n, size_t stride, int digits)
{
    ts_strbuf_append(b, "[", 1);
    for (size_t i = 0; i < n; i++) {
        if (i)
            ts_strbuf_append(b, ", ", 2);
        ts_json_number(b, v[i * stride], digits);
    }
    ts_strbuf_append(b, "]", 1);
}

void ts_json_bool(ts_strbuf *b, int x)
{
    ts_strbuf_printf(b, "%s", x ? "true" : "false");
}
