/* Helpers shared by the tests: paths into the source tree and temporary files. */
#ifndef TS_TEST_SUPPORT_H
#define TS_TEST_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdarg.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "trustsim/model.h"
#include "trustsim/scenario.h"
#include "trustsim/sim.h"

/* TS_SOURCE_DIR "/" rel, in a static buffer (valid until the next call). */
const char *ts_test_source_path(const char *rel);
/* A fresh path under the test's working directory: "<stem>-<pid>-<n><suffix>". */
const char *ts_test_temp_path(const char *stem, const char *suffix);
/* Read a whole file into a malloc'd NUL-terminated string; NULL if it cannot be read. */
char *ts_test_read_file(const char *path);
/* A scenario ready to run: its parameters, model and one workspace. */
typedef struct world {
    ts_scenario sc;
    ts_model *m;
    ts_sim *s;
} world;

/* Load YAML text (named `name` in errors), apply "path=value" overrides (NULL-terminated
 * list, or NULL), build the model and a workspace; fails the test on any error. */
void world_open(world *w, const char *yaml, const char *name, const char *const *sets);
void world_close(world *w);

/* Run the trustsim executable with ARGS (shell words) and return its exit status; stdout and
 * stderr together go to out (truncated to cap). */
int ts_test_cli(const char *args, char *out, size_t cap);
/* Run `trustsim ARGS` (printf-formatted shell words) with its output going where the test's
 * goes; returns the exit status. */
int ts_test_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Whether a path exists. */
bool ts_test_exists(const char *path);
/* Remove an output, its part directory of saved runs and any temporary file. */
void ts_test_remove_output(const char *out);
/* Read the whole dataset `path` of an open HDF5 file into buf as mem_type (an hid_t); fails
 * the test if it cannot. */
void ts_test_h5_read(int64_t file, const char *path, int64_t mem_type, void *buf);
/* Assert that two trustsim output files hold the same numeric datasets, bit for bit: every
 * dataset of p1 (series, summaries, finals, scales: more than 40) has an identical twin in p2.
 * Names each dataset that differs or is missing on stderr. */
void ts_test_assert_same_datasets(const char *p1, const char *p2);

#endif
