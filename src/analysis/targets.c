/* Calibration targets files (see include/trustsim/targets.h), read through the shared YAML
 * helpers of src/scenario/yamldoc.h. Not for what the moments are fitted to (calibrate.c). */
#include "trustsim/targets.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/yamldoc.h"
#include "trustsim/metrics.h"
#include "util/textfile.h"

/* "expected X, got quoted text / a list / a mapping" for a value that is no plain scalar. */
static ts_status not_plain(const ts_yaml *y, const yaml_node_t *v, const char *key,
                           const char *expected)
{
    return ts_yaml_fail(y, v, key, "expected %s, got %s", expected,
                        v->type == YAML_SCALAR_NODE ? "quoted text" : ts_yaml_kind(v));
}

static ts_status number_of(const ts_yaml *y, const yaml_node_t *v, const char *key, double *out)
{
    if (!ts_yaml_is_plain(v))
        return not_plain(y, v, key, "a number");
    const char *s = ts_yaml_text(v);
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (end == s || *end || errno == ERANGE || !isfinite(x))
        return ts_yaml_fail(y, v, key, "expected a finite number, got '%s'", s);
    *out = x;
    return TS_OK;
}

static ts_status tick_of(const ts_yaml *y, const yaml_node_t *v, const char *key, int *out)
{
    static const char expected[] = "a tick (an integer >= 0)";
    if (!ts_yaml_is_plain(v))
        return not_plain(y, v, key, expected);
    const char *s = ts_yaml_text(v);
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (end == s || *end || errno == ERANGE || x < 0 || x > INT_MAX)
        return ts_yaml_fail(y, v, key, "expected %s, got '%s'", expected, s);
    *out = (int)x;
    return TS_OK;
}

/* The keys of a mapping must be distinct scalars from `allowed` (NULL-terminated); `expected`
 * lists them for the message. */
static ts_status check_keys(const ts_yaml *y, const yaml_node_t *map, const char *where,
                            const char *const *allowed, const char *expected)
{
    char key[160];
    for (int i = 0; i < ts_yaml_count(map); i++) {
        const yaml_node_t *k = ts_yaml_key(y, map, i);
        if (k->type != YAML_SCALAR_NODE)
            return ts_yaml_fail(y, k, where, "expected a key, got %s", ts_yaml_kind(k));
        const char *name = ts_yaml_text(k);
        snprintf(key, sizeof key, "%s%s%s", where, where[0] ? "." : "", name);
        bool known = false;
        for (int a = 0; allowed[a]; a++)
            known = known || strcmp(name, allowed[a]) == 0;
        if (!known)
            return ts_yaml_fail(y, k, key, "unknown key (expected %s)", expected);
        for (int j = 0; j < i; j++)
            if (ts_yaml_is_scalar(ts_yaml_key(y, map, j), name))
                return ts_yaml_fail(y, k, key, "given twice");
    }
    return TS_OK;
}

/* The optional weight or sd of a moment (m->weight is 1 and m->sd NaN when neither is given). */
static ts_status load_weight(const ts_yaml *y, const yaml_node_t *v, const char *where,
                             ts_moment *m)
{
    const yaml_node_t *weight = ts_yaml_get(y, v, "weight"), *sd = ts_yaml_get(y, v, "sd");
    char key[96];
    ts_status st;
    if (weight && sd)
        return ts_yaml_fail(y, sd, where,
                            "give 'weight' or 'sd', not both (sd means weight 1/sd^2)");
    if (weight) {
        snprintf(key, sizeof key, "%s.weight", where);
        if ((st = number_of(y, weight, key, &m->weight)))
            return st;
        if (m->weight < 0)
            return ts_yaml_fail(y, weight, key, "must be >= 0, got %s", ts_yaml_text(weight));
    }
    if (sd) {
        snprintf(key, sizeof key, "%s.sd", where);
        if ((st = number_of(y, sd, key, &m->sd)))
            return st;
        if (!(m->sd > 0))
            return ts_yaml_fail(y, sd, key, "must be > 0, got %s", ts_yaml_text(sd));
        m->weight = 1 / (m->sd * m->sd);
    }
    return TS_OK;
}

static ts_status load_moment(const ts_yaml *y, const yaml_node_t *v, int i, ts_moment *m)
{
    static const char *const keys[] = {"metric", "mean", "weight", "sd", "at", "label", NULL};
    char where[64], key[96];
    snprintf(where, sizeof where, "moments.%d", i);
    if (v->type != YAML_MAPPING_NODE)
        return ts_yaml_fail(y, v, where, "expected a mapping {metric: ..., mean: ...}, got %s",
                            ts_yaml_kind(v));
    ts_status st = check_keys(y, v, where, keys, "metric, mean, weight, sd, at, label");
    if (st)
        return st;
    memset(m, 0, sizeof *m);
    m->line = ts_yaml_line(v);
    m->column = ts_yaml_column(v);
    m->at = -1;
    m->sd = NAN;
    m->weight = 1;
    const yaml_node_t *metric = ts_yaml_get(y, v, "metric"), *mean = ts_yaml_get(y, v, "mean");
    const yaml_node_t *at = ts_yaml_get(y, v, "at"), *label = ts_yaml_get(y, v, "label");
    if (!metric)
        return ts_yaml_fail(y, v, where, "missing 'metric'");
    if (!mean)
        return ts_yaml_fail(y, v, where, "missing 'mean'");
    snprintf(key, sizeof key, "%s.metric", where);
    if (metric->type != YAML_SCALAR_NODE)
        return ts_yaml_fail(y, metric, key, "expected a metric name, got %s", ts_yaml_kind(metric));
    m->metric = ts_metric_find(ts_yaml_text(metric));
    if (m->metric < 0)
        return ts_yaml_fail(y, metric, key,
                            "unknown metric '%s' (the names are those of /series in an "
                            "output file, e.g. survey_interorg)",
                            ts_yaml_text(metric));
    snprintf(key, sizeof key, "%s.mean", where);
    if ((st = number_of(y, mean, key, &m->mean)) || (st = load_weight(y, v, where, m)))
        return st;
    if (at) {
        snprintf(key, sizeof key, "%s.at", where);
        if ((st = tick_of(y, at, key, &m->at)))
            return st;
    }
    if (label) {
        snprintf(key, sizeof key, "%s.label", where);
        if (label->type != YAML_SCALAR_NODE)
            return ts_yaml_fail(y, label, key, "expected text, got %s", ts_yaml_kind(label));
        snprintf(m->label, sizeof m->label, "%s", ts_yaml_text(label));
    }
    return TS_OK;
}

static ts_status load_moments(const ts_yaml *y, const yaml_node_t *list, ts_targets *t)
{
    if (list->type != YAML_SEQUENCE_NODE)
        return ts_yaml_fail(y, list, "moments", "expected a list of moments, got %s",
                            ts_yaml_kind(list));
    int n = ts_yaml_count(list);
    if (n == 0)
        return ts_yaml_fail(y, list, "moments", "at least one moment is needed");
    t->moments = calloc((size_t)n, sizeof *t->moments);
    if (!t->moments)
        return ts_yaml_out_of_memory(y);
    double total = 0;
    for (int i = 0; i < n; i++) {
        ts_status st = load_moment(y, ts_yaml_item(y, list, i), i, &t->moments[i]);
        if (st)
            return st;
        t->n_moments++;
        total += t->moments[i].weight;
    }
    if (!(total > 0))
        return ts_yaml_fail(y, list, "moments", "every weight is 0: nothing to fit");
    return TS_OK;
}

static ts_status load_root(const ts_yaml *y, yaml_node_t *root, void *ctx)
{
    static const char *const keys[] = {"source", "at", "moments", NULL};
    ts_targets *t = ctx;
    if (!root)
        return ts_error_set(y->err, TS_EINPUT, "%s:1:1: the targets file is empty", y->file);
    if (root->type == YAML_SEQUENCE_NODE)
        return load_moments(y, root, t);
    if (root->type != YAML_MAPPING_NODE)
        return ts_yaml_fail(y, root, NULL,
                            "expected a mapping with 'moments' (or a list of moments), got %s",
                            ts_yaml_kind(root));
    ts_status st = check_keys(y, root, "", keys, "source, at, moments");
    if (st)
        return st;
    const yaml_node_t *source = ts_yaml_get(y, root, "source"), *at = ts_yaml_get(y, root, "at");
    const yaml_node_t *moments = ts_yaml_get(y, root, "moments");
    if (source) {
        if (source->type != YAML_SCALAR_NODE)
            return ts_yaml_fail(y, source, "source", "expected text, got %s", ts_yaml_kind(source));
        if (!(t->source = strdup(ts_yaml_text(source))))
            return ts_yaml_out_of_memory(y);
    }
    if (at) {
        if ((st = tick_of(y, at, "at", &t->at)))
            return st;
        t->at_line = ts_yaml_line(at);
        t->at_column = ts_yaml_column(at);
    }
    if (!moments)
        return ts_yaml_fail(y, root, NULL, "missing 'moments': the list of targets");
    return load_moments(y, moments, t);
}

ts_status ts_targets_load_string(ts_targets *t, const char *text, const char *name, ts_error *err)
{
    memset(t, 0, sizeof *t);
    t->at = -1;
    ts_status st = ts_yaml_read(text, name, load_root, t, err);
    if (st == TS_OK && !(t->path = strdup(name)))
        st = ts_error_set(err, TS_ERUNTIME, "%s: out of memory", name);
    if (st != TS_OK)
        ts_targets_destroy(t);
    return st;
}

ts_status ts_targets_load(ts_targets *t, const char *path, ts_error *err)
{
    memset(t, 0, sizeof *t);
    t->at = -1;
    char *text;
    ts_status st = ts_read_text_file(path, &text, err);
    if (st != TS_OK)
        return st;
    st = ts_targets_load_string(t, text, path, err);
    free(text);
    return st;
}

void ts_targets_destroy(ts_targets *t)
{
    free(t->path);
    free(t->source);
    free(t->moments);
    memset(t, 0, sizeof *t);
    t->at = -1;
}
