/* Reading YAML files through libyaml's document API, for every reader of the project's YAML
 * formats (scenarios here, calibration targets in src/analysis/targets.c): one document per
 * file, syntax errors and faults located as FILE:LINE:COL: key '...': reason (ts_error_at),
 * and small accessors for the document tree. What the keys mean is each reader's business.
 * Internal to the library. */
#ifndef TS_YAMLDOC_H
#define TS_YAMLDOC_H

#include <stdarg.h>
#include <stdbool.h>

#include <yaml.h>

#include "trustsim/error.h"

/* A loaded document and where its faults are reported. */
typedef struct ts_yaml {
    yaml_document_t *doc;
    const char *file; /* the name used in messages */
    ts_error *err;
} ts_yaml;

/* What a reader does with the document: root is NULL when the file holds no document. */
typedef ts_status (*ts_yaml_read_fn)(const ts_yaml *y, yaml_node_t *root, void *ctx);

/* Parse text (named `file` in messages) and hand its document to read(y, root, ctx). When read
 * succeeds, a second document in the text is refused (it would be silently ignored).
 * Errors: "FILE:LINE:COL: YAML syntax error: ...", "FILE:LINE:COL: expected one YAML document,
 * found more" (TS_EINPUT); "FILE: out of memory" (TS_ERUNTIME); or read's own. */
ts_status ts_yaml_read(const char *text, const char *file, ts_yaml_read_fn read, void *ctx,
                       ts_error *err);

/* A fault at node `at`: "FILE:LINE:COL: key 'KEY': REASON" (no key part when key is NULL or
 * ""); returns TS_EINPUT. */
ts_status ts_yaml_fail(const ts_yaml *y, const yaml_node_t *at, const char *key, const char *fmt,
                       ...) __attribute__((format(printf, 4, 5)));
ts_status ts_yaml_vfail(const ts_yaml *y, const yaml_node_t *at, const char *key, const char *fmt,
                        va_list ap);
/* "FILE: out of memory"; returns TS_ERUNTIME. */
ts_status ts_yaml_out_of_memory(const ts_yaml *y);

/* Where a node starts, counted from 1. */
int ts_yaml_line(const yaml_node_t *n);
int ts_yaml_column(const yaml_node_t *n);
/* "a list", "a mapping" or "a scalar", for messages. */
const char *ts_yaml_kind(const yaml_node_t *n);
/* A scalar's text. */
const char *ts_yaml_text(const yaml_node_t *n);
/* Whether n is a scalar (with exactly this text, unless text is NULL). */
bool ts_yaml_is_scalar(const yaml_node_t *n, const char *text);
/* Whether n is a plain (unquoted) scalar: quoted text is text, never a number. */
bool ts_yaml_is_plain(const yaml_node_t *n);
/* Entries of a list, or pairs of a mapping. */
int ts_yaml_count(const yaml_node_t *n);
yaml_node_t *ts_yaml_item(const ts_yaml *y, const yaml_node_t *list, int i);
yaml_node_t *ts_yaml_key(const ts_yaml *y, const yaml_node_t *map, int i);
yaml_node_t *ts_yaml_value(const ts_yaml *y, const yaml_node_t *map, int i);
/* The value of the scalar key `name` in a mapping; NULL when absent or n is no mapping. */
yaml_node_t *ts_yaml_get(const ts_yaml *y, const yaml_node_t *map, const char *name);

#endif
