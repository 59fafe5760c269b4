/* A growing string: text built piece by piece (reports, JSON, YAML from the emitter) before it
 * is written or handed back. Appending never fails loudly: once memory runs out the buffer
 * remembers it (`failed`), later appends do nothing, and ts_strbuf_take returns NULL, so a
 * writer checks once at the end. Internal to the library. */
#ifndef TS_STRBUF_H
#define TS_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct ts_strbuf {
    char *s;     /* NUL-terminated once anything was appended; NULL before */
    size_t len;  /* bytes before the NUL */
    size_t cap;  /* bytes allocated */
    bool failed; /* out of memory: the text is incomplete */
} ts_strbuf;

/* Append formatted text. */
void ts_strbuf_printf(ts_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ts_strbuf_vprintf(ts_strbuf *b, const char *fmt, va_list ap);
/* Append n bytes. */
void ts_strbuf_append(ts_strbuf *b, const char *bytes, size_t n);
/* The text (malloc'd, the caller frees it; "" when nothing was appended), or NULL when an
 * append failed. The buffer is empty afterwards either way. */
char *ts_strbuf_take(ts_strbuf *b);
/* Free the text and empty the buffer. */
void ts_strbuf_free(ts_strbuf *b);

#endif
