/* Scenario files: YAML text in, validated ts_params out.
 *
 * Loading walks the YAML document against the schema (schema.h), so every key, type, range
 * and default lives in one table. Errors name the place: "FILE:LINE:COL: key 'a.b.c': reason".
 * This module does not run anything and keeps no global state. */
#ifndef TRUSTSIM_SCENARIO_H
#define TRUSTSIM_SCENARIO_H

#include "trustsim/error.h"
#include "trustsim/params.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ts_scenario {
    ts_params params;
    char *path; /* the name used in error messages */
    char *text; /* the scenario text exactly as given */
} ts_scenario;

/* Load and validate a scenario file. On failure sc holds nothing to free. */
ts_status ts_scenario_load(ts_scenario *sc, const char *path, ts_error *err);
/* Same, from text in memory; `name` stands for the file name in error messages. */
ts_status ts_scenario_load_string(ts_scenario *sc, const char *text, const char *name,
                                  ts_error *err);
/* Apply one command-line override "path.to.key=value" (a scalar; list elements by id or
 * index). Errors read "--set: key 'path': reason". */
ts_status ts_scenario_set(ts_scenario *sc, const char *assignment, ts_error *err);
void ts_scenario_destroy(ts_scenario *sc);

/* Every parameter, defaults included, as YAML that loads back to the same ts_params.
 * Returns a malloc'd string, or NULL when out of memory. */
char *ts_params_to_yaml(const ts_params *p);

/* the model's defaults (docs/model.md) for every field; no organisations, collaborations or events.
 */
void ts_params_init_defaults(ts_params *p);
/* Deep copy (dst must not hold anything yet) and release. */
ts_status ts_params_copy(ts_params *dst, const ts_params *src, ts_error *err);
void ts_params_destroy(ts_params *p);

#ifdef __cplusplus
}
#endif
#endif
