/* A growing string (see src/util/strbuf.h). */
#include "util/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for n more bytes and the NUL: the capacity doubles, from 1 KiB. */
static bool reserve(ts_strbuf *b, size_t n)
{
    if (b->failed)
        return false;
    if (b->s && b->len + n < b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap <= b->len + n)
        cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) {
        b->failed = true;
        return false;
    }
    b->s = s;
    b->cap = cap;
    return true;
}

void ts_strbuf_vprintf(ts_strbuf *b, const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    int n = b->failed ? -1
                      : vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
    if (n < 0) {
        b->failed = true;
    } else if (b->s && b->len + (size_t)n < b->cap) {
        b->len += (size_t)n;
    } else if (reserve(b, (size_t)n)) {
        vsnprintf(b->s + b->len, b->cap - b->len, fmt, again);
        b->len += (size_t)n;
    }
    va_end(again);
}

void ts_strbuf_printf(ts_strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ts_strbuf_vprintf(b, fmt, ap);
    va_end(ap);
}

void ts_strbuf_append(ts_strbuf *b, const char *bytes, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->s + b->len, bytes, n);
    b->len += n;
    b->s[b->len] = '\0';
}

char *ts_strbuf_take(ts_strbuf *b)
{
    if (!b->failed && !b->s)
        reserve(b, 0);
    if (b->s && !b->failed)
        b->s[b->len] = '\0';
    char *s = b->failed ? NULL : b->s;
    if (!s)
        free(b->s);
    *b = (ts_strbuf){0};
    return s;
}

void ts_strbuf_free(ts_strbuf *b)
{
    free(b->s);
    *b = (ts_strbuf){0};
}
