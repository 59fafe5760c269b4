/* The scenario schema: one table describing every key of a scenario file (type, default,
 * range, meaning). Validation, defaults, `--set`, sweep parameters and the generated
 * reference (`trustsim schema --markdown`) all read it. */
#ifndef TRUSTSIM_SCHEMA_H
#define TRUSTSIM_SCHEMA_H

#include <stdbool.h>
#include <stdio.h>

#include "trustsim/error.h"
#include "trustsim/params.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ts_value_type { TS_VALUE_DOUBLE, TS_VALUE_INT, TS_VALUE_BOOL } ts_value_type;

/* A resolved scalar parameter inside one ts_params: where it lives and what it may hold. */
typedef struct ts_param_ref {
    ts_value_type type;
    void *ptr; /* double*, int* or bool* inside the ts_params it was resolved against */
    double min, max;
    bool min_open, max_open; /* open ends: "> 0" rather than ">= 0" */
    char path[256];          /* the path it was resolved from, for error messages */
} ts_param_ref;

/* Resolve a scalar path ("organisations.hospital.size", "events.0.at",
 * "stages.theta_up.1") against p. Errors read "key 'path': reason". */
ts_status ts_schema_resolve(ts_params *p, const char *path, ts_param_ref *ref, ts_error *err);
/* Store v (an int or bool parameter takes an integral value) after checking type and range. */
ts_status ts_param_ref_set(const ts_param_ref *ref, double v, ts_error *err);
double ts_param_ref_get(const ts_param_ref *ref);

/* The reference of every key as Markdown. */
void ts_schema_write_markdown(FILE *f);

#ifdef __cplusplus
}
#endif
#endif
