/* What several commands do with their arguments: numbers of options, read strictly, and a
 * scenario loaded with its --set overrides. Not for printing: each command says what is wrong
 * with its own usage text. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "cli/commands.h"

bool parse_whole(const char *s, unsigned long long lo, unsigned long long hi, unsigned long long *v)
{
    if (*s < '0' || *s > '9') /* strtoull would take a sign or leading spaces */
        return false;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (*end || errno == ERANGE || x < lo || x > hi)
        return false;
    *v = x;
    return true;
}

bool parse_positive(const char *s, double *v)
{
    char *end;
    double x = strtod(s, &end);
    if (end == s || *end || !isfinite(x) || !(x > 0))
        return false;
    *v = x;
    return true;
}

ts_status load_scenario(ts_scenario *sc, const char *path, char *const *sets, int n_sets,
                        ts_error *err)
{
    ts_status st = ts_scenario_load(sc, path, err);
    if (st != TS_OK)
        return st; /* nothing loaded, nothing to free */
    for (int i = 0; st == TS_OK && i < n_sets; i++)
        st = ts_scenario_set(sc, sets[i], err);
    if (st != TS_OK)
        ts_scenario_destroy(sc);
    return st;
}
