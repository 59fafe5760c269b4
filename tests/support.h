/* Helpers shared by the tests: paths into the source tree and temporary files. */
#ifndef TS_TEST_SUPPORT_H
#define TS_TEST_SUPPORT_H

#include <stddef.h>
#include <stdarg.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

/* TS_SOURCE_DIR "/" rel, in a static buffer (valid until the next call). */
const char *ts_test_source_path(const char *rel);
/* A fresh path under the test's working directory: "<stem>-<pid>-<n><suffix>". */
const char *ts_test_temp_path(const char *stem, const char *suffix);
/* Read a whole file into a malloc'd NUL-terminated string; NULL if it cannot be read. */
char *ts_test_read_file(const char *path);
/* Assert that two trustsim output files hold the same numeric datasets, bit for bit: every
 * dataset of p1 (series, summaries, finals, scales: more than 40) has an identical twin in p2.
 * Names each dataset that differs or is missing on stderr. */
void ts_test_assert_same_datasets(const char *p1, const char *p2);

#endif
