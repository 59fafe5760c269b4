/* Calibration by the method of simulated moments (see include/trustsim/calibrate.h).
 *
 * Three parts: reading a targets file with libyaml's document API (so every error can name the
 * line and column), the objective (simulate R replicates with common random numbers, in parallel,
 * combined in replicate order), and its minimisation with GSL's nmsimplex2 on transformed
 * parameters, followed by the sensitivity of the moments and the report files. Not for printing
 * to the terminal: the command line does that. */
#include "trustsim/calibrate.h"

#include "util/textfile.h"

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gsl/gsl_eigen.h>
#include <gsl/gsl_multimin.h>
#include <omp.h>
#include <yaml.h>

#include "scenario/schema_internal.h"
#include "trustsim/metrics.h"
#include "trustsim/model.h"
#include "trustsim/result.h"
#include "trustsim/rng.h"
#include "trustsim/scenario.h"
#include "trustsim/schema.h"
#include "trustsim/sim.h"

/* The value the simplex sees at a point that cannot be simulated (a cross-field rule of the
 * schema refuses it, or a moment has no finite value in any replicate). Finite, because GSL's
 * simplex refuses non-finite values, and far above any distance on a 1-5 scale. */
#define PENALTY 1e12

/* ========================================================================================== */
/* Targets files.                                                                              */

typedef struct tloader {
    const char *file;
    yaml_document_t *doc;
    ts_error *err;
} tloader;

static ts_status tfail(const tloader *l, const yaml_node_t *at, const char *key, const char *fmt,
                       ...) __attribute__((format(printf, 4, 5)));
static ts_status tfail(const tloader *l, const yaml_node_t *at, const char *key, const char *fmt,
                       ...)
{
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    size_t line = at->start_mark.line + 1, column = at->start_mark.column + 1;
    if (!key)
        return ts_error_set(l->err, TS_EINPUT, "%s:%zu:%zu: %s", l->file, line, column, reason);
    return ts_error_set(l->err, TS_EINPUT, "%s:%zu:%zu: key '%s': %s", l->file, line, column, key,
                        reason);
}

static const char *node_kind(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE:
        return "a scalar";
    case YAML_SEQUENCE_NODE:
        return "a list";
    case YAML_MAPPING_NODE:
        return "a mapping";
    default:
        return "nothing";
    }
}

static const char *scalar_text(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

/* A plain (unquoted) scalar: quoted text is text, never a number. */
static bool plain_scalar(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static ts_status number_of(const tloader *l, const yaml_node_t *v, const char *key, double *out)
{
    if (!plain_scalar(v))
        return tfail(l, v, key, "expected a number, got %s",
                     v->type == YAML_SCALAR_NODE ? "quoted text" : node_kind(v));
    const char *s = scalar_text(v);
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (end == s || *end || errno == ERANGE || !isfinite(x))
        return tfail(l, v, key, "expected a finite number, got '%s'", s);
    *out = x;
    return TS_OK;
}

static ts_status tick_of(const tloader *l, const yaml_node_t *v, const char *key, int *out)
{
    if (!plain_scalar(v))
        return tfail(l, v, key, "expected a tick (an integer >= 0), got %s",
                     v->type == YAML_SCALAR_NODE ? "quoted text" : node_kind(v));
    const char *s = scalar_text(v);
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (end == s || *end || errno == ERANGE || x < 0 || x > INT_MAX)
        return tfail(l, v, key, "expected a tick (an integer >= 0), got '%s'", s);
    *out = (int)x;
    return TS_OK;
}

static ts_status text_of(const tloader *l, const yaml_node_t *v, const char *key, char **out)
{
    if (v->type != YAML_SCALAR_NODE)
        return tfail(l, v, key, "expected text, got %s", node_kind(v));
    *out = strdup(scalar_text(v));
    return *out ? TS_OK : ts_error_set(l->err, TS_ERUNTIME, "%s: out of memory", l->file);
}

/* The keys of a mapping must be distinct scalars from `allowed` (NULL-terminated). */
static ts_status check_keys(const tloader *l, const yaml_node_t *map, const char *where,
                            const char *const *allowed, const char *expected)
{
    char key[160];
    for (yaml_node_pair_t *a = map->data.mapping.pairs.start; a < map->data.mapping.pairs.top;
         a++) {
        const yaml_node_t *k = yaml_document_get_node(l->doc, a->key);
        if (k->type != YAML_SCALAR_NODE)
            return tfail(l, k, where[0] ? where : NULL, "expected a key, got %s", node_kind(k));
        snprintf(key, sizeof key, "%s%s%s", where, where[0] ? "." : "", scalar_text(k));
        bool known = false;
        for (int i = 0; allowed[i]; i++)
            known = known || strcmp(scalar_text(k), allowed[i]) == 0;
        if (!known)
            return tfail(l, k, key, "unknown key (expected %s)", expected);
        for (yaml_node_pair_t *b = map->data.mapping.pairs.start; b < a; b++) {
            const yaml_node_t *kb = yaml_document_get_node(l->doc, b->key);
            if (kb->type == YAML_SCALAR_NODE && strcmp(scalar_text(kb), scalar_text(k)) == 0)
                return tfail(l, k, key, "given twice");
        }
    }
    return TS_OK;
}

static yaml_node_t *value_of(const tloader *l, const yaml_node_t *map, const char *name)
{
    for (yaml_node_pair_t *a = map->data.mapping.pairs.start; a < map->data.mapping.pairs.top;
         a++) {
        yaml_node_t *k = yaml_document_get_node(l->doc, a->key);
        if (k->type == YAML_SCALAR_NODE && strcmp(scalar_text(k), name) == 0)
            return yaml_document_get_node(l->doc, a->value);
    }
    return NULL;
}

static ts_status load_moment(const tloader *l, const yaml_node_t *v, int i, ts_moment *m)
{
    static const char *const keys[] = {"metric", "mean", "weight", "sd", "at", "label", NULL};
    char where[64], key[96];
    snprintf(where, sizeof where, "moments.%d", i);
    if (v->type != YAML_MAPPING_NODE)
        return tfail(l, v, where, "expected a mapping {metric: ..., mean: ...}, got %s",
                     node_kind(v));
    ts_status st = check_keys(l, v, where, keys, "metric, mean, weight, sd, at, label");
    if (st)
        return st;
    memset(m, 0, sizeof *m);
    m->line = (int)v->start_mark.line + 1;
    m->column = (int)v->start_mark.column + 1;
    m->at = -1;
    m->sd = NAN;
    m->weight = 1;
    const yaml_node_t *metric = value_of(l, v, "metric"), *mean = value_of(l, v, "mean");
    const yaml_node_t *weight = value_of(l, v, "weight"), *sd = value_of(l, v, "sd");
    const yaml_node_t *at = value_of(l, v, "at"), *label = value_of(l, v, "label");
    if (!metric)
        return tfail(l, v, where, "missing 'metric'");
    if (!mean)
        return tfail(l, v, where, "missing 'mean'");
    snprintf(key, sizeof key, "%s.metric", where);
    if (metric->type != YAML_SCALAR_NODE)
        return tfail(l, metric, key, "expected a metric name, got %s", node_kind(metric));
    m->metric = ts_metric_find(scalar_text(metric));
    if (m->metric < 0)
        return tfail(l, metric, key,
                     "unknown metric '%s' (the names are those of /series in an "
                     "output file, e.g. survey_interorg)",
                     scalar_text(metric));
    snprintf(key, sizeof key, "%s.mean", where);
    if ((st = number_of(l, mean, key, &m->mean)))
        return st;
    if (weight && sd)
        return tfail(l, sd, where, "give 'weight' or 'sd', not both (sd means weight 1/sd^2)");
    if (weight) {
        snprintf(key, sizeof key, "%s.weight", where);
        if ((st = number_of(l, weight, key, &m->weight)))
            return st;
        if (m->weight < 0)
            return tfail(l, weight, key, "must be >= 0, got %s", scalar_text(weight));
    }
    if (sd) {
        snprintf(key, sizeof key, "%s.sd", where);
        if ((st = number_of(l, sd, key, &m->sd)))
            return st;
        if (!(m->sd > 0))
            return tfail(l, sd, key, "must be > 0, got %s", scalar_text(sd));
        m->weight = 1 / (m->sd * m->sd);
    }
    if (at) {
        snprintf(key, sizeof key, "%s.at", where);
        if ((st = tick_of(l, at, key, &m->at)))
            return st;
    }
    if (label) {
        snprintf(key, sizeof key, "%s.label", where);
        if (label->type != YAML_SCALAR_NODE)
            return tfail(l, label, key, "expected text, got %s", node_kind(label));
        snprintf(m->label, sizeof m->label, "%s", scalar_text(label));
    }
    return TS_OK;
}

static ts_status load_moments(const tloader *l, const yaml_node_t *list, ts_targets *t)
{
    if (list->type != YAML_SEQUENCE_NODE)
        return tfail(l, list, "moments", "expected a list of moments, got %s", node_kind(list));
    int n = (int)(list->data.sequence.items.top - list->data.sequence.items.start);
    if (n == 0)
        return tfail(l, list, "moments", "at least one moment is needed");
    t->moments = calloc((size_t)n, sizeof *t->moments);
    if (!t->moments)
        return ts_error_set(l->err, TS_ERUNTIME, "%s: out of memory", l->file);
    double total = 0;
    for (int i = 0; i < n; i++) {
        const yaml_node_t *v = yaml_document_get_node(l->doc, list->data.sequence.items.start[i]);
        ts_status st = load_moment(l, v, i, &t->moments[i]);
        if (st)
            return st;
        t->n_moments++;
        total += t->moments[i].weight;
    }
    if (!(total > 0))
        return tfail(l, list, "moments", "every weight is 0: nothing to fit");
    return TS_OK;
}

static ts_status load_targets_root(const tloader *l, ts_targets *t)
{
    static const char *const keys[] = {"source", "at", "moments", NULL};
    yaml_node_t *root = yaml_document_get_root_node(l->doc);
    if (!root)
        return ts_error_set(l->err, TS_EINPUT, "%s:1:1: the targets file is empty", l->file);
    if (root->type == YAML_SEQUENCE_NODE)
        return load_moments(l, root, t);
    if (root->type != YAML_MAPPING_NODE)
        return tfail(l, root, NULL,
                     "expected a mapping with 'moments' (or a list of moments), "
                     "got %s",
                     node_kind(root));
    ts_status st = check_keys(l, root, "", keys, "source, at, moments");
    if (st)
        return st;
    const yaml_node_t *source = value_of(l, root, "source"), *at = value_of(l, root, "at");
    const yaml_node_t *moments = value_of(l, root, "moments");
    if (source && (st = text_of(l, source, "source", &t->source)))
        return st;
    if (at) {
        if ((st = tick_of(l, at, "at", &t->at)))
            return st;
        t->at_line = (int)at->start_mark.line + 1;
        t->at_column = (int)at->start_mark.column + 1;
    }
    if (!moments)
        return tfail(l, root, NULL, "missing 'moments': the list of targets");
    return load_moments(l, moments, t);
}

ts_status ts_targets_load_string(ts_targets *t, const char *text, const char *name, ts_error *err)
{
    memset(t, 0, sizeof *t);
    t->at = -1;
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser))
        return ts_error_set(err, TS_ERUNTIME, "%s: out of memory", name);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
    ts_status st;
    if (!yaml_parser_load(&parser, &doc)) {
        st = parser.error == YAML_MEMORY_ERROR
                 ? ts_error_set(err, TS_ERUNTIME, "%s: out of memory", name)
                 : ts_error_set(err, TS_EINPUT, "%s:%zu:%zu: YAML syntax error: %s", name,
                                parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                                parser.problem ? parser.problem : "unknown problem");
    } else {
        tloader l = {.file = name, .doc = &doc, .err = err};
        st = load_targets_root(&l, t);
        yaml_document_delete(&doc);
        if (st == TS_OK) {
            /* a second document would be silently ignored: refuse it */
            yaml_document_t next;
            if (!yaml_parser_load(&parser, &next)) {
                st = ts_error_set(err, TS_EINPUT, "%s:%zu:%zu: YAML syntax error: %s", name,
                                  parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                                  parser.problem ? parser.problem : "unknown problem");
            } else {
                yaml_node_t *r = yaml_document_get_root_node(&next);
                if (r)
                    st = ts_error_set(err, TS_EINPUT,
                                      "%s:%zu:%zu: expected one YAML document, found more", name,
                                      r->start_mark.line + 1, r->start_mark.column + 1);
                yaml_document_delete(&next);
            }
        }
    }
    yaml_parser_delete(&parser);
    if (st == TS_OK && !(t->path = strdup(name)))
        st = ts_error_set(err, TS_ERUNTIME, "%s: out of memory", name);
    if (st != TS_OK)
        ts_targets_destroy(t);
    return st;
}

ts_status ts_targets_load(ts_targets *t, const char *path, ts_error *err)
{
    memset(t, 0, sizeof *t);
    int error = 0;
    char *buf = ts_read_file(path, &error);
    if (!buf)
        return ts_error_set(err, error == ENOMEM ? TS_ERUNTIME : TS_EINPUT, "%s: cannot read: %s",
                            path, strerror(error));
    ts_status st = ts_targets_load_string(t, buf, path, err);
    free(buf);
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

/* ========================================================================================== */
/* Transforms between a parameter and the unbounded space of the simplex.                      */

const char *ts_transform_name(ts_transform t)
{
    switch (t) {
    case TS_TRANSFORM_LOGIT:
        return "logit";
    case TS_TRANSFORM_LOG_LOWER:
        return "log(x - min)";
    case TS_TRANSFORM_LOG_UPPER:
        return "log(max - x)";
    default:
        return "identity";
    }
}

double ts_transform_to_free(const ts_free_param *p, double x)
{
    switch (p->transform) {
    case TS_TRANSFORM_LOGIT:
        return log((x - p->min) / (p->max - x));
    case TS_TRANSFORM_LOG_LOWER:
        return log(x - p->min);
    case TS_TRANSFORM_LOG_UPPER:
        return log(p->max - x);
    default:
        return x;
    }
}

/* Keep x inside the parameter's range even where the transform rounds onto an end, and
 * finite where it overflows. */
static double inside(const ts_free_param *p, double x)
{
    if (isinf(x))
        x = x > 0 ? DBL_MAX : -DBL_MAX;
    if (x < p->min || (p->min_open && x <= p->min))
        x = p->min_open ? nextafter(p->min, INFINITY) : p->min;
    if (x > p->max || (p->max_open && x >= p->max))
        x = p->max_open ? nextafter(p->max, -INFINITY) : p->max;
    return x;
}

double ts_transform_from_free(const ts_free_param *p, double u)
{
    double x;
    switch (p->transform) {
    case TS_TRANSFORM_LOGIT:
        x = p->min + (p->max - p->min) / (1 + exp(-u));
        break;
    case TS_TRANSFORM_LOG_LOWER:
        x = p->min + exp(u);
        break;
    case TS_TRANSFORM_LOG_UPPER:
        x = p->max - exp(u);
        break;
    default:
        x = u;
        break;
    }
    return inside(p, x);
}

/* A start on (or beyond) an end of the range would be at infinity in the free space: move it
 * inside by a thousandth of the range (or of its magnitude when the range is one-sided). */
static double start_inside(const ts_free_param *p, double x)
{
    double margin = p->transform == TS_TRANSFORM_LOGIT ? 1e-3 * (p->max - p->min) : 1e-3;
    if (p->transform == TS_TRANSFORM_LOG_LOWER && fabs(p->min) > 1)
        margin = 1e-3 * fabs(p->min);
    if (p->transform == TS_TRANSFORM_LOG_UPPER && fabs(p->max) > 1)
        margin = 1e-3 * fabs(p->max);
    if (isfinite(p->min) && x < p->min + margin)
        x = p->min + margin;
    if (isfinite(p->max) && x > p->max - margin)
        x = p->max - margin;
    return x;
}

/* ========================================================================================== */
/* Setting up.                                                                                 */

void ts_calib_options_init(ts_calib_options *o)
{
    memset(o, 0, sizeof *o);
    o->replicates = 1;
    o->seed = 1;
    o->at = -1;
    o->threads = 0;
    o->max_iter = 200;
    o->tol = 1e-3;
    o->step = 0.5;
    o->restarts = 1;
    o->sensitivity = true;
}

static ts_status moment_error(const ts_targets *t, const ts_moment *m, int k, ts_error *err,
                              const char *key, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static ts_status moment_error(const ts_targets *t, const ts_moment *m, int k, ts_error *err,
                              const char *key, const char *fmt, ...)
{
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    return ts_error_set(err, TS_EINPUT, "%s:%d:%d: key 'moments.%d.%s': %s",
                        t->path ? t->path : "targets", m->line, m->column, k, key, reason);
}

static ts_status resolve_ticks(ts_calibration *c, ts_error *err)
{
    const ts_targets *t = c->targets;
    int horizon = c->base.ticks;
    if (c->opt.at > horizon)
        return ts_error_set(err, TS_EINPUT,
                            "--at: tick %d is beyond the scenario's horizon (%d ticks)", c->opt.at,
                            horizon);
    if (c->opt.at < 0 && t->at > horizon)
        return ts_error_set(err, TS_EINPUT,
                            "%s:%d:%d: key 'at': tick %d is beyond the scenario's horizon "
                            "(%d ticks)",
                            t->path ? t->path : "targets", t->at_line, t->at_column, t->at,
                            horizon);
    c->max_at = 0;
    for (int k = 0; k < c->n_moments; k++) {
        const ts_moment *m = &t->moments[k];
        if (m->metric >= ts_metric_count(c->base.mode))
            return moment_error(t, m, k, err, "metric", "metric '%s' is not recorded in %s mode",
                                ts_metric_name(m->metric),
                                c->base.mode == TS_MODE_STANDARD ? "standard" : "donation_game");
        int at = c->opt.at >= 0 ? c->opt.at : m->at >= 0 ? m->at : t->at >= 0 ? t->at : horizon;
        if (at > horizon)
            return moment_error(t, m, k, err, "at",
                                "tick %d is beyond the scenario's horizon (%d ticks)", at, horizon);
        c->at[k] = at;
        if (at > c->max_at)
            c->max_at = at;
    }
    return TS_OK;
}

/* The elements a `*` segment stands for, after `prefix`: their selectors (ids where the list
 * has them, else indices) go to sel[i] (up to cap). Returns the count, or -1 for a list that
 * cannot be expanded. */
static int list_elements(const ts_params *p, const char *prefix, char (*sel)[TS_NAME_MAX], int cap)
{
    int n = -1;
    if (strcmp(prefix, "organisations") == 0) {
        n = p->n_orgs;
        for (int i = 0; sel && i < n && i < cap; i++)
            snprintf(sel[i], TS_NAME_MAX, "%s", p->orgs[i].id);
    } else if (strcmp(prefix, "collaborations") == 0) {
        n = p->n_collabs;
        for (int i = 0; sel && i < n && i < cap; i++)
            snprintf(sel[i], TS_NAME_MAX, "%s", p->collabs[i].id);
    } else if (strcmp(prefix, "archetypes") == 0) {
        n = p->n_archetypes;
        for (int i = 0; sel && i < n && i < cap; i++)
            snprintf(sel[i], TS_NAME_MAX, "%s", p->archetypes[i].id);
    } else if (strcmp(prefix, "events") == 0 || strcmp(prefix, "relations.pairs") == 0) {
        n = prefix[0] == 'e' ? p->n_events : p->n_pairs;
        for (int i = 0; sel && i < n && i < cap; i++)
            snprintf(sel[i], TS_NAME_MAX, "%d", i);
    }
    return n;
}

/* Expand free parameter j's path into c->tied (from c->tied_begin[j]); returns the count. */
static ts_status expand_path(ts_calibration *c, int j, const char *path, int *count, ts_error *err)
{
    const char *star = strstr(path, ".*.");
    if (!star) {
        if (strchr(path, '*'))
            return ts_error_set(err, TS_EINPUT,
                                "--free: key '%s': `*` stands for a whole segment between dots, "
                                "after a list (organisations.*.size)",
                                path);
        snprintf(c->tied[c->tied_begin[j]], sizeof c->tied[0], "%s", path);
        *count = 1;
        return TS_OK;
    }
    char prefix[256];
    snprintf(prefix, sizeof prefix, "%.*s", (int)(star - path), path);
    const char *rest = star + 3;
    if (strchr(rest, '*'))
        return ts_error_set(err, TS_EINPUT, "--free: key '%s': at most one `*`", path);
    int n = list_elements(&c->base, prefix, NULL, 0);
    if (n < 0)
        return ts_error_set(err, TS_EINPUT,
                            "--free: key '%s': `*` expands only organisations, collaborations, "
                            "archetypes, events and relations.pairs",
                            path);
    if (n == 0)
        return ts_error_set(err, TS_EINPUT, "--free: key '%s': %s is empty", path, prefix);
    char(*sel)[TS_NAME_MAX] = calloc((size_t)n, sizeof *sel);
    if (!sel)
        return ts_error_set(err, TS_ERUNTIME, "out of memory");
    list_elements(&c->base, prefix, sel, n);
    for (int i = 0; i < n; i++) {
        char *dst = c->tied[c->tied_begin[j] + i];
        size_t len = strlen(prefix) + strlen(sel[i]) + strlen(rest) + 2;
        if (len >= sizeof c->tied[0]) {
            free(sel);
            return ts_error_set(err, TS_EINPUT, "--free: key '%s': too long", path);
        }
        memcpy(dst, prefix, strlen(prefix));
        dst += strlen(prefix);
        *dst++ = '.';
        memcpy(dst, sel[i], strlen(sel[i]));
        dst += strlen(sel[i]);
        *dst++ = '.';
        memcpy(dst, rest, strlen(rest) + 1);
    }
    free(sel);
    *count = n;
    return TS_OK;
}

static ts_status resolve_free(ts_calibration *c, const char *const *paths, ts_error *err)
{
    /* room for the concrete paths: a `*` expands to at most the longest list */
    size_t room = 0;
    for (int j = 0; j < c->n_free; j++) {
        int n = 1;
        const char *star = strstr(paths[j], ".*.");
        if (star) {
            char prefix[256];
            snprintf(prefix, sizeof prefix, "%.*s", (int)(star - paths[j]), paths[j]);
            n = list_elements(&c->base, prefix, NULL, 0);
            n = n < 1 ? 1 : n;
        }
        room += (size_t)n;
    }
    c->tied = calloc(room, sizeof *c->tied);
    c->tied_begin = calloc((size_t)c->n_free + 1, sizeof *c->tied_begin);
    if (!c->tied || !c->tied_begin)
        return ts_error_set(err, TS_ERUNTIME, "out of memory");
    for (int j = 0; j < c->n_free; j++) {
        ts_free_param *f = &c->free[j];
        for (int i = 0; i < j; i++)
            if (strcmp(paths[i], paths[j]) == 0)
                return ts_error_set(err, TS_EINPUT, "--free: key '%s': given twice", paths[j]);
        if (strlen(paths[j]) >= sizeof f->path)
            return ts_error_set(err, TS_EINPUT, "--free: key '%.60s...': too long", paths[j]);
        snprintf(f->path, sizeof f->path, "%s", paths[j]);
        int n = 0;
        ts_status st = expand_path(c, j, paths[j], &n, err);
        if (st != TS_OK)
            return st;
        c->tied_begin[j + 1] = c->tied_begin[j] + n;
        f->n_tied = n;
        double sum = 0, first = NAN;
        for (int i = 0; i < n; i++) {
            const char *path = c->tied[c->tied_begin[j] + i];
            for (int q = 0; q < c->tied_begin[j]; q++)
                if (strcmp(c->tied[q], path) == 0)
                    return ts_error_set(err, TS_EINPUT,
                                        "--free: key '%s': set by two free parameters", path);
            ts_param_ref ref;
            if ((st = ts_schema_resolve(&c->base, path, &ref, err)) != TS_OK) {
                char msg[sizeof err->msg];
                snprintf(msg, sizeof msg, "%s", err->msg);
                return ts_error_set(err, st, "--free: %.900s", msg);
            }
            if (ref.type != TS_VALUE_DOUBLE)
                return ts_error_set(err, TS_EINPUT,
                                    "--free: key '%s': %s parameter cannot be calibrated (the "
                                    "simplex moves continuously); fix it with --set instead",
                                    path, ref.type == TS_VALUE_INT ? "an integer" : "a boolean");
            double x = ts_param_ref_get(&ref);
            if (isnan(x))
                return ts_error_set(err, TS_EINPUT,
                                    "--free: key '%s': unset (it falls back to another value); "
                                    "give it a starting value with --set %s=VALUE",
                                    path, path);
            if (i == 0) {
                f->min = ref.min;
                f->max = ref.max;
                f->min_open = ref.min_open;
                f->max_open = ref.max_open;
                first = x;
            } else { /* the same key in every element, hence the same range */
                f->start_differs = f->start_differs || x != first;
            }
            sum += x;
        }
        bool lo = isfinite(f->min), hi = isfinite(f->max);
        f->transform = lo && hi ? TS_TRANSFORM_LOGIT
                       : lo     ? TS_TRANSFORM_LOG_LOWER
                       : hi     ? TS_TRANSFORM_LOG_UPPER
                                : TS_TRANSFORM_IDENTITY;
        if (lo && hi && !(f->max > f->min))
            return ts_error_set(err, TS_EINPUT, "--free: key '%s': its range is a single value",
                                paths[j]);
        f->start = start_inside(f, sum / n);
    }
    return TS_OK;
}

static void fit_free(ts_calib_fit *f)
{
    free(f->value);
    free(f->start_eval.sim_mean);
    free(f->start_eval.sim_se);
    free(f->start_eval.n_valid);
    free(f->best.sim_mean);
    free(f->best.sim_se);
    free(f->best.n_valid);
    free(f->jacobian);
    free(f->se_sim);
    free(f->se);
    free(f->singular);
    free(f->weakest);
    free(f->trace);
    memset(f, 0, sizeof *f);
}

static bool eval_alloc(ts_calib_eval *e, int n)
{
    e->sim_mean = calloc((size_t)n, sizeof *e->sim_mean);
    e->sim_se = calloc((size_t)n, sizeof *e->sim_se);
    e->n_valid = calloc((size_t)n, sizeof *e->n_valid);
    return e->sim_mean && e->sim_se && e->n_valid;
}

ts_status ts_calibration_alloc(ts_calibration **out, const ts_params *base,
                               const ts_targets *targets, const char *const *free_paths, int n_free,
                               const ts_calib_options *opt, ts_error *err)
{
    *out = NULL;
    if (base->sweep.design != TS_DESIGN_NONE)
        return ts_error_set(err, TS_EINPUT,
                            "the scenario has a sweep block: calibration fits one point, so "
                            "remove the sweep");
    if (n_free < 1)
        return ts_error_set(err, TS_EINPUT, "--free: at least one parameter is needed");
    if (opt->replicates < 1 || opt->max_iter < 1 || !(opt->tol > 0) || !(opt->step > 0) ||
        opt->restarts < 0 || opt->threads < 0)
        return ts_error_set(err, TS_EINPUT, "calibration options out of range");
    if (!targets->n_moments)
        return ts_error_set(err, TS_EINPUT, "no targets");
    ts_calibration *c = calloc(1, sizeof *c);
    if (!c)
        return ts_error_set(err, TS_ERUNTIME, "out of memory");
    ts_status st = ts_params_copy(&c->base, base, err);
    if (st != TS_OK) {
        free(c);
        return st;
    }
    c->targets = targets;
    c->opt = *opt;
    c->n_free = n_free;
    c->n_moments = targets->n_moments;
    c->free = calloc((size_t)n_free, sizeof *c->free);
    c->at = calloc((size_t)c->n_moments, sizeof *c->at);
    c->rep_values = calloc((size_t)opt->replicates * (size_t)c->n_moments, sizeof *c->rep_values);
    c->x_work = calloc((size_t)n_free, sizeof *c->x_work);
    if (!c->free || !c->at || !c->rep_values || !c->x_work)
        st = ts_error_set(err, TS_ERUNTIME, "out of memory");
    if (st == TS_OK)
        st = resolve_free(c, free_paths, err);
    if (st == TS_OK)
        st = resolve_ticks(c, err);
    if (st != TS_OK) {
        ts_calibration_free(c);
        return st;
    }
    *out = c;
    return TS_OK;
}

void ts_calibration_free(ts_calibration *c)
{
    if (!c)
        return;
    ts_params_destroy(&c->base);
    free(c->free);
    free(c->tied);
    free(c->tied_begin);
    free(c->at);
    free(c->rep_values);
    free(c->x_work);
    fit_free(&c->fit);
    free(c);
}

/* ========================================================================================== */
/* The objective.                                                                              */

/* dst := base with the free parameters at x, checked by the schema's cross-field rules. */
static ts_status params_at(const ts_calibration *c, const double *x, ts_params *dst, ts_error *err)
{
    ts_status st = ts_params_copy(dst, &c->base, err);
    if (st != TS_OK)
        return st;
    for (int j = 0; j < c->n_free && st == TS_OK; j++)
        for (int i = c->tied_begin[j]; i < c->tied_begin[j + 1] && st == TS_OK; i++) {
            ts_param_ref ref;
            st = ts_schema_resolve(dst, c->tied[i], &ref, err);
            if (st == TS_OK)
                st = ts_param_ref_set(&ref, x[j], err);
        }
    char where[256], reason[256];
    if (st == TS_OK && !ts_schema_validate(dst, where, sizeof where, reason, sizeof reason))
        st = ts_error_set(err, TS_EINPUT, "key '%s': %s", where, reason);
    if (st != TS_OK)
        ts_params_destroy(dst);
    return st;
}

/* Run the R replicates up to the last tick any moment needs and keep each moment's value in
 * c->rep_values[r][k]. Replicate r is seeded ts_seed_hash(seed, 0, r); each thread owns one
 * workspace; the values land in their replicate's row, so threads never change the result. */
static ts_status simulate(ts_calibration *c, const ts_model *m, ts_error *err)
{
    const int R = c->opt.replicates, K = c->n_moments;
    int failed = 0; /* 1: out of memory */
    int nt = c->opt.threads > 0 ? c->opt.threads : omp_get_max_threads();
    if (nt > R)
        nt = R;
#pragma omp parallel num_threads(nt) default(none) shared(c, m, failed) firstprivate(R, K)
    {
        ts_sim *s = ts_sim_alloc(m);
        if (!s) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 1)
        for (int r = 0; r < R; r++) {
            double *row = c->rep_values + (size_t)r * (size_t)K;
            ts_error e;
            if (!s || ts_sim_start(s, ts_seed_hash(c->opt.seed, 0, (uint64_t)r), &e) != TS_OK) {
#pragma omp atomic write
                failed = 1;
                continue;
            }
            while (ts_sim_tick(s) < c->max_at && ts_sim_step(s)) {
            }
            ts_run_result res;
            ts_sim_result(s, &res);
            for (int k = 0; k < K; k++) {
                int metric = c->targets->moments[k].metric;
                row[k] = res.series[(size_t)metric * (size_t)res.n_times + (size_t)c->at[k]];
            }
        }
        ts_sim_free(s);
    }
    if (failed)
        return ts_error_set(err, TS_ERUNTIME, "out of memory while simulating");
    return TS_OK;
}

/* Means, standard errors and the distance from c->rep_values, summed in replicate order. */
static void summarise(const ts_calibration *c, ts_calib_eval *ev)
{
    const int R = c->opt.replicates, K = c->n_moments;
    double distance = 0;
    for (int k = 0; k < K; k++) {
        double sum = 0;
        int n = 0;
        for (int r = 0; r < R; r++) {
            double v = c->rep_values[(size_t)r * K + k];
            if (isfinite(v)) {
                sum += v;
                n++;
            }
        }
        double mean = n > 0 ? sum / n : NAN, ss = 0;
        for (int r = 0; r < R && n > 1; r++) {
            double v = c->rep_values[(size_t)r * K + k];
            if (isfinite(v))
                ss += (v - mean) * (v - mean);
        }
        ev->sim_mean[k] = mean;
        ev->sim_se[k] = n > 1 ? sqrt(ss / (n - 1) / n) : NAN;
        ev->n_valid[k] = n;
        const ts_moment *mo = &c->targets->moments[k];
        if (mo->weight > 0)
            distance += n > 0 ? mo->weight * (mo->mean - mean) * (mo->mean - mean) : INFINITY;
    }
    ev->distance = distance;
}

ts_status ts_calibration_evaluate(ts_calibration *c, const double *x, ts_calib_eval *ev,
                                  ts_error *err)
{
    for (int j = 0; j < c->n_free; j++) {
        const ts_free_param *f = &c->free[j];
        bool ok = isfinite(x[j]) && (f->min_open ? x[j] > f->min : x[j] >= f->min) &&
                  (f->max_open ? x[j] < f->max : x[j] <= f->max);
        if (!ok)
            return ts_error_set(err, TS_EINPUT, "key '%s': %g is outside its range", f->path, x[j]);
    }
    ts_params p;
    ts_status st = params_at(c, x, &p, err);
    if (st != TS_OK)
        return st;
    ts_model *m = NULL;
    st = ts_model_build(&m, &p, err);
    if (st == TS_OK)
        st = simulate(c, m, err);
    ts_model_free(m);
    ts_params_destroy(&p);
    if (st == TS_OK) {
        summarise(c, ev);
        c->evaluations++;
    }
    return st;
}

/* ========================================================================================== */
/* Minimisation.                                                                               */

typedef struct objective {
    ts_calibration *c;
    ts_calib_eval ev;
    ts_status status; /* a runtime failure stops the fit */
    ts_error err;
} objective;

static double objective_f(const gsl_vector *u, void *params)
{
    objective *o = params;
    ts_calibration *c = o->c;
    if (o->status != TS_OK)
        return PENALTY;
    for (int j = 0; j < c->n_free; j++)
        c->x_work[j] = ts_transform_from_free(&c->free[j], gsl_vector_get(u, (size_t)j));
    ts_error err;
    ts_status st = ts_calibration_evaluate(c, c->x_work, &o->ev, &err);
    if (st == TS_EINPUT) { /* a point the schema refuses: steer the simplex away */
        if (!c->fit.penalised++)
            snprintf(c->fit.penalty_reason, sizeof c->fit.penalty_reason, "%.200s", err.msg);
        return PENALTY;
    }
    if (st != TS_OK) {
        o->status = st;
        o->err = err;
        return PENALTY;
    }
    if (!isfinite(o->ev.distance)) {
        if (!c->fit.penalised++)
            snprintf(c->fit.penalty_reason, sizeof c->fit.penalty_reason,
                     "a moment has no finite value in any replicate");
        return PENALTY;
    }
    return o->ev.distance;
}

/* One simplex run from u (updated to the best point found); returns iterations made. */
static int simplex_run(ts_calibration *c, objective *o, gsl_multimin_fminimizer *mz, gsl_vector *u,
                       gsl_vector *steps, int budget, bool *converged, double *size)
{
    gsl_multimin_function fn = {.n = (size_t)c->n_free, .f = objective_f, .params = o};
    *converged = false;
    *size = NAN;
    if (gsl_multimin_fminimizer_set(mz, &fn, u, steps) != GSL_SUCCESS || o->status != TS_OK)
        return 0;
    int it = 0;
    while (it < budget) {
        int status = gsl_multimin_fminimizer_iterate(mz);
        it++;
        c->fit.trace[c->fit.iterations++] = gsl_multimin_fminimizer_minimum(mz);
        if (c->opt.progress)
            c->opt.progress(c->opt.progress_ctx, c->fit.iterations,
                            gsl_multimin_fminimizer_minimum(mz));
        if (status != GSL_SUCCESS || o->status != TS_OK)
            break;
        *size = gsl_multimin_fminimizer_size(mz);
        if (*size < c->opt.tol) {
            *converged = true;
            break;
        }
    }
    gsl_vector_memcpy(u, gsl_multimin_fminimizer_x(mz));
    return it;
}

/* Invert the k x k matrix a in place (Gauss-Jordan with partial pivoting); false if singular. */
static bool invert(double *a, int k)
{
    double *inv = calloc((size_t)k * k, sizeof *inv);
    if (!inv)
        return false;
    for (int i = 0; i < k; i++)
        inv[i * k + i] = 1;
    double scale = 0;
    for (int i = 0; i < k * k; i++)
        scale = fmax(scale, fabs(a[i]));
    bool ok = scale > 0;
    for (int col = 0; ok && col < k; col++) {
        int piv = col;
        for (int r = col + 1; r < k; r++)
            if (fabs(a[r * k + col]) > fabs(a[piv * k + col]))
                piv = r;
        if (fabs(a[piv * k + col]) <= 1e-12 * scale) {
            ok = false;
            break;
        }
        for (int j = 0; j < k; j++) {
            double t = a[col * k + j];
            a[col * k + j] = a[piv * k + j];
            a[piv * k + j] = t;
            t = inv[col * k + j];
            inv[col * k + j] = inv[piv * k + j];
            inv[piv * k + j] = t;
        }
        double d = a[col * k + col];
        for (int j = 0; j < k; j++) {
            a[col * k + j] /= d;
            inv[col * k + j] /= d;
        }
        for (int r = 0; r < k; r++) {
            if (r == col)
                continue;
            double f = a[r * k + col];
            for (int j = 0; j < k; j++) {
                a[r * k + j] -= f * a[col * k + j];
                inv[r * k + j] -= f * inv[col * k + j];
            }
        }
    }
    if (ok)
        memcpy(a, inv, (size_t)k * k * sizeof *a);
    free(inv);
    return ok;
}

/* The step for differentiating parameter j at x: 2% of its range, or of max(|x|, 1) when the
 * range is open-ended; large enough to rise above the small jumps that common random numbers
 * leave in the objective. */
static double diff_step(const ts_free_param *f, double x)
{
    if (isfinite(f->min) && isfinite(f->max))
        return 0.02 * (f->max - f->min);
    return 0.02 * fmax(fabs(x), 1);
}

static bool in_range(const ts_free_param *f, double x)
{
    return (f->min_open ? x > f->min : x >= f->min) && (f->max_open ? x < f->max : x <= f->max);
}

/* Whether x is within 1% of the width of its range (or of max(|bound|, 1) for a one-sided
 * range) of a bound: there the linearised standard errors mean little, and the data would
 * have pushed the parameter further if they could. */
static bool near_bound(const ts_free_param *f, double x)
{
    double w = isfinite(f->min) && isfinite(f->max) ? f->max - f->min : NAN;
    double lo = isfinite(w) ? w : fmax(fabs(f->min), 1),
           hi = isfinite(w) ? w : fmax(fabs(f->max), 1);
    return (isfinite(f->min) && x - f->min < 0.01 * lo) ||
           (isfinite(f->max) && f->max - x < 0.01 * hi);
}

bool ts_calibration_at_bound(const ts_calibration *c, int j)
{
    return c->fit.value && near_bound(&c->free[j], c->fit.value[j]);
}

/* Singular values of W^(1/2) G from the eigenvalues of G'WG, and the weakest direction. */
static void identification(ts_calib_fit *fit, const double *gwg, int J)
{
    for (int j = 0; j < J; j++)
        fit->singular[j] = fit->weakest[j] = NAN;
    for (int i = 0; i < J * J; i++)
        if (!isfinite(gwg[i]))
            return;
    gsl_matrix *m = gsl_matrix_alloc((size_t)J, (size_t)J);
    gsl_matrix *v = gsl_matrix_alloc((size_t)J, (size_t)J);
    gsl_vector *e = gsl_vector_alloc((size_t)J);
    gsl_eigen_symmv_workspace *w = gsl_eigen_symmv_alloc((size_t)J);
    if (m && v && e && w) {
        for (int i = 0; i < J; i++)
            for (int j = 0; j < J; j++)
                gsl_matrix_set(m, (size_t)i, (size_t)j, gwg[i * J + j]);
        if (gsl_eigen_symmv(m, e, v, w) == GSL_SUCCESS &&
            gsl_eigen_symmv_sort(e, v, GSL_EIGEN_SORT_VAL_DESC) == GSL_SUCCESS) {
            double sign = 0; /* make the largest component positive, for a stable report */
            for (int j = 0; j < J; j++) {
                fit->singular[j] = sqrt(fmax(0, gsl_vector_get(e, (size_t)j)));
                double x = gsl_matrix_get(v, (size_t)j, (size_t)(J - 1));
                if (fabs(x) > fabs(sign))
                    sign = x;
            }
            for (int j = 0; j < J; j++)
                fit->weakest[j] =
                    gsl_matrix_get(v, (size_t)j, (size_t)(J - 1)) * (sign < 0 ? -1 : 1);
        }
    }
    if (w)
        gsl_eigen_symmv_free(w);
    if (e)
        gsl_vector_free(e);
    if (v)
        gsl_matrix_free(v);
    if (m)
        gsl_matrix_free(m);
}

/* Jacobian of the simulated means at the fitted values, and the sandwich standard errors. */
static ts_status sensitivity(ts_calibration *c, ts_error *err)
{
    ts_calib_fit *fit = &c->fit;
    const int K = c->n_moments, J = c->n_free, R = c->opt.replicates;
    ts_calib_eval lo = {0}, hi = {0};
    double *x = malloc((size_t)J * sizeof *x);
    double *covs = calloc((size_t)K * K, sizeof *covs); /* S_sim */
    double *gwg = calloc((size_t)J * J, sizeof *gwg);
    double *a = calloc((size_t)J * K, sizeof *a);
    ts_status st = TS_OK;
    if (!x || !covs || !gwg || !a || !eval_alloc(&lo, K) || !eval_alloc(&hi, K)) {
        st = ts_error_set(err, TS_ERUNTIME, "out of memory");
        goto done;
    }
    /* covariance of the simulated means, from the replicates at the fit (c->rep_values holds
     * them: the fit's last evaluation was at the fitted values) */
    for (int k = 0; k < K; k++)
        for (int l = 0; l < K; l++) {
            double s = 0;
            int n = 0;
            for (int r = 0; r < R; r++) {
                double u = c->rep_values[(size_t)r * K + k], v = c->rep_values[(size_t)r * K + l];
                if (isfinite(u) && isfinite(v)) {
                    s += (u - fit->best.sim_mean[k]) * (v - fit->best.sim_mean[l]);
                    n++;
                }
            }
            covs[k * K + l] = n > 1 ? s / (n - 1) / R : NAN;
        }
    bool all_sd = true;
    for (int k = 0; k < K; k++)
        all_sd = all_sd && isfinite(c->targets->moments[k].sd);
    for (int j = 0; j < J; j++) {
        const ts_free_param *f = &c->free[j];
        double h = diff_step(f, fit->value[j]);
        double xl = fit->value[j] - h, xh = fit->value[j] + h;
        if (!in_range(f, xl) || !in_range(f, xh)) { /* one-sided at a bound */
            xl = in_range(f, xl) ? xl : fit->value[j];
            xh = in_range(f, xh) ? xh : fit->value[j];
        }
        memcpy(x, fit->value, (size_t)J * sizeof *x);
        x[j] = xl;
        if ((st = ts_calibration_evaluate(c, x, &lo, err)) != TS_OK)
            goto done;
        x[j] = xh;
        if ((st = ts_calibration_evaluate(c, x, &hi, err)) != TS_OK)
            goto done;
        for (int k = 0; k < K; k++)
            fit->jacobian[k * J + j] =
                xh > xl ? (hi.sim_mean[k] - lo.sim_mean[k]) / (xh - xl) : NAN;
    }
    /* A = (G'WG)^-1 G'W; cov(theta) = A S A' */
    for (int i = 0; i < J; i++)
        for (int j = 0; j < J; j++) {
            double s = 0;
            for (int k = 0; k < K; k++)
                s += fit->jacobian[k * J + i] * c->targets->moments[k].weight *
                     fit->jacobian[k * J + j];
            gwg[i * J + j] = s;
        }
    for (int i = 0; i < J; i++) {
        fit->se_sim[i] = NAN;
        fit->se[i] = NAN;
    }
    identification(fit, gwg, J);
    if (!invert(gwg, J))
        goto done;
    for (int i = 0; i < J; i++)
        for (int k = 0; k < K; k++) {
            double s = 0;
            for (int l = 0; l < J; l++)
                s += gwg[i * J + l] * fit->jacobian[k * J + l];
            a[i * K + k] = s * c->targets->moments[k].weight;
        }
    for (int i = 0; i < J; i++) {
        double vs = 0, vt = 0;
        for (int k = 0; k < K; k++) {
            for (int l = 0; l < K; l++)
                vs += a[i * K + k] * covs[k * K + l] * a[i * K + l];
            if (all_sd)
                vt += a[i * K + k] * a[i * K + k] * c->targets->moments[k].sd *
                      c->targets->moments[k].sd;
        }
        fit->se_sim[i] = sqrt(vs);
        fit->se[i] = all_sd ? sqrt(vs + vt) : NAN;
    }
done:
    free(x);
    free(covs);
    free(gwg);
    free(a);
    free(lo.sim_mean);
    free(lo.sim_se);
    free(lo.n_valid);
    free(hi.sim_mean);
    free(hi.sim_se);
    free(hi.n_valid);
    return st;
}

ts_status ts_calibration_run(ts_calibration *c, ts_error *err)
{
    const int J = c->n_free, K = c->n_moments;
    ts_calib_fit *fit = &c->fit;
    fit_free(fit);
    c->evaluations = 0;
    double t0 = omp_get_wtime();
    objective o = {.c = c};
    gsl_multimin_fminimizer *mz = NULL;
    gsl_vector *u = gsl_vector_alloc((size_t)J), *steps = gsl_vector_alloc((size_t)J);
    fit->value = calloc((size_t)J, sizeof *fit->value);
    fit->jacobian = calloc((size_t)K * J, sizeof *fit->jacobian);
    fit->se_sim = calloc((size_t)J, sizeof *fit->se_sim);
    fit->se = calloc((size_t)J, sizeof *fit->se);
    fit->singular = calloc((size_t)J, sizeof *fit->singular);
    fit->weakest = calloc((size_t)J, sizeof *fit->weakest);
    fit->trace = calloc((size_t)c->opt.max_iter, sizeof *fit->trace);
    ts_status st = TS_OK;
    if (!u || !steps || !fit->value || !fit->jacobian || !fit->se_sim || !fit->se ||
        !fit->singular || !fit->weakest || !fit->trace || !eval_alloc(&fit->start_eval, K) ||
        !eval_alloc(&fit->best, K) || !eval_alloc(&o.ev, K) ||
        !(mz = gsl_multimin_fminimizer_alloc(gsl_multimin_fminimizer_nmsimplex2, (size_t)J))) {
        st = ts_error_set(err, TS_ERUNTIME, "out of memory");
        goto done;
    }
    for (int j = 0; j < J; j++) {
        fit->value[j] = c->free[j].start;
        fit->se_sim[j] = fit->se[j] = NAN;
        fit->singular[j] = fit->weakest[j] = NAN;
    }
    for (int i = 0; i < K * J; i++)
        fit->jacobian[i] = NAN;
    if ((st = ts_calibration_evaluate(c, fit->value, &fit->start_eval, err)) != TS_OK)
        goto done;
    fit->start_distance = fit->start_eval.distance;
    for (int j = 0; j < J; j++) {
        gsl_vector_set(u, (size_t)j, ts_transform_to_free(&c->free[j], c->free[j].start));
        double step = c->opt.step;
        if (c->free[j].transform == TS_TRANSFORM_IDENTITY)
            step *= fmax(1, fabs(c->free[j].start));
        gsl_vector_set(steps, (size_t)j, step);
    }
    /* Nelder-Mead, then restarts from the best point with a fresh simplex: a collapsed simplex
     * is the classic way the method stalls away from a minimum. */
    double best = INFINITY;
    while (fit->iterations < c->opt.max_iter && fit->runs <= c->opt.restarts) {
        bool conv;
        simplex_run(c, &o, mz, u, steps, c->opt.max_iter - fit->iterations, &conv, &fit->size);
        fit->runs++;
        fit->converged = conv;
        if (o.status != TS_OK) {
            st = o.status;
            *err = o.err;
            goto done;
        }
        double now = gsl_multimin_fminimizer_minimum(mz);
        bool improved = now < best - 1e-9 * fmax(1, fabs(best));
        best = fmin(best, now);
        if (!improved && fit->runs > 1)
            break; /* the restart found nothing better */
    }
    for (int j = 0; j < J; j++)
        fit->value[j] = ts_transform_from_free(&c->free[j], gsl_vector_get(u, (size_t)j));
    /* the moments at the fitted values (this also leaves their replicates in c->rep_values) */
    if ((st = ts_calibration_evaluate(c, fit->value, &fit->best, err)) != TS_OK)
        goto done;
    if (c->opt.sensitivity && (st = sensitivity(c, err)) != TS_OK)
        goto done;
done:
    fit->evaluations = c->evaluations;
    fit->seconds = omp_get_wtime() - t0;
    if (mz)
        gsl_multimin_fminimizer_free(mz);
    if (u)
        gsl_vector_free(u);
    if (steps)
        gsl_vector_free(steps);
    free(o.ev.sim_mean);
    free(o.ev.sim_se);
    free(o.ev.n_valid);
    return st;
}

/* ========================================================================================== */
/* Output: the fitted scenario and the report.                                                 */

/* A growing string. */
typedef struct sbuf {
    char *s;
    size_t len, cap;
    bool failed;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    if (b->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = true;
            return;
        }
        if (b->s && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap : 1024;
        while (cap <= b->len + (size_t)n)
            cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->failed = true;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

static const char *yesno(bool b)
{
    return b ? "yes" : "no";
}

static void format_range(const ts_free_param *f, char *buf, size_t n)
{
    if (isfinite(f->min) && isfinite(f->max))
        snprintf(buf, n, "%c%g, %g%c", f->min_open ? '(' : '[', f->min, f->max,
                 f->max_open ? ')' : ']');
    else if (isfinite(f->min))
        snprintf(buf, n, "%s %g", f->min_open ? ">" : ">=", f->min);
    else if (isfinite(f->max))
        snprintf(buf, n, "%s %g", f->max_open ? "<" : "<=", f->max);
    else
        snprintf(buf, n, "any");
}

char *ts_calibration_fitted_yaml(const ts_calibration *c, const ts_calib_report_info *info)
{
    const ts_calib_fit *fit = &c->fit;
    ts_params p;
    ts_error err;
    if (params_at(c, fit->value, &p, &err) != TS_OK)
        return NULL;
    char name[sizeof p.name], fitted[sizeof p.name + sizeof "_fitted"];
    snprintf(name, sizeof name, "%s", p.name);
    snprintf(fitted, sizeof fitted, "%s_fitted", name);
    if (strlen(fitted) < sizeof p.name) /* a name too long to take the suffix keeps its own */
        memcpy(p.name, fitted, strlen(fitted) + 1);
    char *yaml = ts_params_to_yaml(&p);
    ts_params_destroy(&p);
    if (!yaml)
        return NULL;
    sbuf b = {0};
    sb_printf(&b, "# Fitted by `trustsim calibrate` (trustsim %s): scenario '%s'", TRUSTSIM_VERSION,
              name);
    if (info && info->scenario_path)
        sb_printf(&b, " (%s)", info->scenario_path);
    sb_printf(&b, "\n# to the targets in %s",
              info && info->targets_path ? info->targets_path
              : c->targets->path         ? c->targets->path
                                         : "(memory)");
    sb_printf(&b,
              ", by the method of simulated moments:\n# %d replicates, master seed %llu "
              "(replicate r runs with seed ts_seed_hash(master, 0, r)).\n",
              c->opt.replicates, (unsigned long long)c->opt.seed);
    for (int i = 0; info && i < info->n_sets; i++)
        sb_printf(&b, "# Override given: --set %s\n", info->sets[i]);
    sb_printf(&b, "# Free parameters (schema range): start -> fitted\n");
    for (int j = 0; j < c->n_free; j++) {
        char range[96];
        format_range(&c->free[j], range, sizeof range);
        sb_printf(&b, "#   %s %s: %.6g%s -> %.6g", c->free[j].path, range, c->free[j].start,
                  c->free[j].start_differs ? " (mean of differing values)" : "", fit->value[j]);
        if (c->free[j].n_tied > 1)
            sb_printf(&b, " (the same value in all %d)", c->free[j].n_tied);
        sb_printf(&b, "\n");
    }
    sb_printf(&b, "# Distance %.6g -> %.6g after %d iterations (%d evaluations); converged: %s\n",
              fit->start_distance, fit->best.distance, fit->iterations, fit->evaluations,
              yesno(fit->converged));
    sb_printf(&b, "# Moments at their tick: target / simulated mean (standard error)\n");
    for (int k = 0; k < c->n_moments; k++)
        sb_printf(&b, "#   %s (tick %d): %.4g / %.4g (%.2g)\n",
                  ts_metric_name(c->targets->moments[k].metric), c->at[k],
                  c->targets->moments[k].mean, fit->best.sim_mean[k], fit->best.sim_se[k]);
    sb_printf(&b, "%s", yaml);
    free(yaml);
    if (b.failed) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

/* JSON: strings escaped, non-finite numbers as null. */
static void js_str(sbuf *b, const char *s)
{
    sb_printf(b, "\"");
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            sb_printf(b, "\\%c", ch);
        else if (ch == '\n')
            sb_printf(b, "\\n");
        else if (ch < 0x20)
            sb_printf(b, "\\u%04x", ch);
        else
            sb_printf(b, "%c", ch);
    }
    sb_printf(b, "\"");
}

static void js_num(sbuf *b, double v)
{
    if (isfinite(v))
        sb_printf(b, "%.12g", v);
    else
        sb_printf(b, "null");
}

static void js_nums(sbuf *b, const double *v, int n, int stride)
{
    sb_printf(b, "[");
    for (int i = 0; i < n; i++) {
        sb_printf(b, i ? ", " : "");
        js_num(b, v[(size_t)i * stride]);
    }
    sb_printf(b, "]");
}

static void write_json(const ts_calibration *c, const ts_calib_report_info *info, sbuf *b)
{
    const ts_calib_fit *fit = &c->fit;
    const ts_targets *t = c->targets;
    sb_printf(b, "{\n  \"trustsim_version\": ");
    js_str(b, TRUSTSIM_VERSION);
    sb_printf(b, ",\n  \"scenario\": {\"name\": ");
    js_str(b, c->base.name);
    sb_printf(b, ", \"path\": ");
    if (info && info->scenario_path)
        js_str(b, info->scenario_path);
    else
        sb_printf(b, "null");
    sb_printf(b, ", \"ticks\": %d, \"sets\": [", c->base.ticks);
    for (int i = 0; info && i < info->n_sets; i++) {
        sb_printf(b, i ? ", " : "");
        js_str(b, info->sets[i]);
    }
    sb_printf(b, "]},\n  \"targets\": {\"path\": ");
    js_str(b, info && info->targets_path ? info->targets_path : t->path);
    sb_printf(b, ", \"source\": ");
    if (t->source)
        js_str(b, t->source);
    else
        sb_printf(b, "null");
    sb_printf(b, "},\n  \"command\": ");
    if (info && info->command)
        js_str(b, info->command);
    else
        sb_printf(b, "null");
    sb_printf(b, ",\n  \"method\": {\"objective\": \"sum_k weight_k (target_k - "
                 "simulated_mean_k)^2\", \"minimiser\": \"gsl_multimin_fminimizer_nmsimplex2\", "
                 "\"tolerance\": ");
    js_num(b, c->opt.tol);
    sb_printf(b, ", \"initial_step\": ");
    js_num(b, c->opt.step);
    sb_printf(b, ", \"max_iter\": %d, \"restarts\": %d},\n", c->opt.max_iter, c->opt.restarts);
    sb_printf(b,
              "  \"seeds\": {\"master\": %llu, \"replicate_seed\": \"ts_seed_hash(master, 0, "
              "r), r = 0 .. replicates-1, the same at every parameter point\"},\n",
              (unsigned long long)c->opt.seed);
    sb_printf(b, "  \"replicates\": %d,\n  \"parameters\": [\n", c->opt.replicates);
    for (int j = 0; j < c->n_free; j++) {
        const ts_free_param *f = &c->free[j];
        sb_printf(b, "    {\"path\": ");
        js_str(b, f->path);
        sb_printf(b, ", \"min\": ");
        js_num(b, f->min);
        sb_printf(b, ", \"max\": ");
        js_num(b, f->max);
        sb_printf(b, ", \"tied\": [");
        for (int i = c->tied_begin[j]; i < c->tied_begin[j + 1]; i++) {
            sb_printf(b, i > c->tied_begin[j] ? ", " : "");
            js_str(b, c->tied[i]);
        }
        sb_printf(b, "], \"start_differs\": %s", f->start_differs ? "true" : "false");
        sb_printf(b, ", \"min_open\": %s, \"max_open\": %s, \"transform\": ",
                  f->min_open ? "true" : "false", f->max_open ? "true" : "false");
        js_str(b, ts_transform_name(f->transform));
        sb_printf(b, ", \"start\": ");
        js_num(b, f->start);
        sb_printf(b, ", \"fitted\": ");
        js_num(b, fit->value[j]);
        sb_printf(b, ", \"se_simulation\": ");
        js_num(b, fit->se_sim[j]);
        sb_printf(b, ", \"se\": ");
        js_num(b, fit->se[j]);
        sb_printf(b, ", \"at_bound\": %s", ts_calibration_at_bound(c, j) ? "true" : "false");
        sb_printf(b, "}%s\n", j + 1 < c->n_free ? "," : "");
    }
    sb_printf(b, "  ],\n  \"moments\": [\n");
    for (int k = 0; k < c->n_moments; k++) {
        const ts_moment *m = &t->moments[k];
        sb_printf(b, "    {\"metric\": ");
        js_str(b, ts_metric_name(m->metric));
        sb_printf(b, ", \"label\": ");
        js_str(b, m->label);
        sb_printf(b, ", \"tick\": %d, \"target\": ", c->at[k]);
        js_num(b, m->mean);
        sb_printf(b, ", \"target_sd\": ");
        js_num(b, m->sd);
        sb_printf(b, ", \"weight\": ");
        js_num(b, m->weight);
        sb_printf(b, ", \"start_mean\": ");
        js_num(b, fit->start_eval.sim_mean[k]);
        sb_printf(b, ", \"start_se\": ");
        js_num(b, fit->start_eval.sim_se[k]);
        sb_printf(b, ", \"fitted_mean\": ");
        js_num(b, fit->best.sim_mean[k]);
        sb_printf(b, ", \"fitted_se\": ");
        js_num(b, fit->best.sim_se[k]);
        sb_printf(b, ", \"replicates_with_value\": %d, \"jacobian\": ", fit->best.n_valid[k]);
        js_nums(b, fit->jacobian + (size_t)k * c->n_free, c->n_free, 1);
        sb_printf(b, "}%s\n", k + 1 < c->n_moments ? "," : "");
    }
    sb_printf(b, "  ],\n  \"identification\": {\"singular_values\": ");
    js_nums(b, fit->singular, c->n_free, 1);
    sb_printf(b, ", \"weakest_direction\": ");
    js_nums(b, fit->weakest, c->n_free, 1);
    sb_printf(b, "},\n  \"distance\": {\"start\": ");
    js_num(b, fit->start_distance);
    sb_printf(b, ", \"fitted\": ");
    js_num(b, fit->best.distance);
    sb_printf(b, "},\n  \"iterations\": %d,\n  \"evaluations\": %d,\n  \"runs\": %d,\n",
              fit->iterations, fit->evaluations, fit->runs);
    sb_printf(b, "  \"converged\": %s,\n  \"simplex_size\": ", fit->converged ? "true" : "false");
    js_num(b, fit->size);
    sb_printf(b, ",\n  \"penalised_evaluations\": %d,\n  \"seconds\": ", fit->penalised);
    js_num(b, fit->seconds);
    sb_printf(b, ",\n  \"trace\": ");
    js_nums(b, fit->trace, fit->iterations, 1);
    sb_printf(b, "\n}\n");
}

static void write_markdown(const ts_calibration *c, const ts_calib_report_info *info, sbuf *b)
{
    const ts_calib_fit *fit = &c->fit;
    const ts_targets *t = c->targets;
    const int J = c->n_free;
    sb_printf(b, "# Calibration of scenario `%s`\n\n", c->base.name);
    sb_printf(b,
              "Written by `trustsim calibrate` (trustsim %s). Generated: edit the inputs and "
              "rerun, not this file.\n\n",
              TRUSTSIM_VERSION);
    if (info && info->command)
        sb_printf(b, "```sh\n%s\n```\n\n", info->command);
    sb_printf(b, "- Scenario: `%s`, %d ticks",
              info && info->scenario_path ? info->scenario_path : c->base.name, c->base.ticks);
    for (int i = 0; info && i < info->n_sets; i++)
        sb_printf(b, "%s`--set %s`", i ? ", " : "; overrides ", info->sets[i]);
    sb_printf(b, "\n- Targets: `%s`", info && info->targets_path ? info->targets_path : t->path);
    if (t->source)
        sb_printf(b, ": %s", t->source);
    sb_printf(b,
              "\n- Method: simulated moments. Distance = sum over moments of weight x (target "
              "- simulated mean)^2, each simulated mean over %d replicates; common random "
              "numbers: replicate r runs with seed `ts_seed_hash(%llu, 0, r)` at every "
              "parameter point. Minimised by Nelder-Mead (`gsl_multimin_fminimizer_nmsimplex2`) "
              "on logit / log transforms of the parameters, tolerance %g on the simplex size, "
              "initial step %g, up to %d iterations and %d restart(s).\n",
              c->opt.replicates, (unsigned long long)c->opt.seed, c->opt.tol, c->opt.step,
              c->opt.max_iter, c->opt.restarts);
    sb_printf(b,
              "- Result: distance %.4g at the start, **%.4g** fitted; %d iterations in %d "
              "simplex run(s), %d evaluations (%d runs of the model), converged: %s "
              "(simplex size %.2g); %.1f s.\n",
              fit->start_distance, fit->best.distance, fit->iterations, fit->runs, fit->evaluations,
              fit->evaluations * c->opt.replicates, yesno(fit->converged), fit->size, fit->seconds);
    if (fit->penalised)
        sb_printf(b,
                  "- %d evaluation(s) fell on points the schema refuses and were penalised; "
                  "the first: %s\n",
                  fit->penalised, fit->penalty_reason);
    sb_printf(b, "\n## Moments\n\n");
    sb_printf(b, "Simulated means with their standard errors over the replicates; the residual "
                 "is simulated minus target.\n\n");
    sb_printf(b, "| metric | measure | tick | target | weight | start | fitted (se) | residual "
                 "|\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (int k = 0; k < c->n_moments; k++) {
        const ts_moment *m = &t->moments[k];
        sb_printf(b, "| `%s` | %s | %d | %.3g", ts_metric_name(m->metric), m->label, c->at[k],
                  m->mean);
        if (isfinite(m->sd))
            sb_printf(b, " (sd %.2g)", m->sd);
        sb_printf(b, " | %.3g | %.3f | %.3f (%.3f) | %+.3f |\n", m->weight,
                  fit->start_eval.sim_mean[k], fit->best.sim_mean[k], fit->best.sim_se[k],
                  fit->best.sim_mean[k] - m->mean);
    }
    sb_printf(b, "\n## Parameters\n\n");
    sb_printf(b, "The standard error from simulation is how far the fitted value would move with "
                 "another set of seeds (linearised); the total adds the targets' own "
                 "uncertainty and needs an `sd` on every moment.\n\n");
    sb_printf(b, "| parameter | range | transform | start | fitted | se (simulation) | se (total) "
                 "|\n| --- | --- | --- | ---: | ---: | ---: | ---: |\n");
    for (int j = 0; j < J; j++) {
        char range[96];
        format_range(&c->free[j], range, sizeof range);
        sb_printf(b, "| `%s`", c->free[j].path);
        if (c->free[j].n_tied > 1)
            sb_printf(b, " (one value for all %d)", c->free[j].n_tied);
        sb_printf(b, " | %s | %s | %.4g%s | **%.4g** | %.2g | ", range,
                  ts_transform_name(c->free[j].transform), c->free[j].start,
                  c->free[j].start_differs ? " (mean)" : "", fit->value[j], fit->se_sim[j]);
        if (isfinite(fit->se[j]))
            sb_printf(b, "%.2g |\n", fit->se[j]);
        else
            sb_printf(b, "n/a |\n");
    }
    for (int j = 0; j < J; j++)
        if (ts_calibration_at_bound(c, j))
            sb_printf(b,
                      "\n`%s` ended within 1%% of a bound of its range: the targets push it "
                      "as far as it goes, and its standard errors (a linearisation) mean "
                      "little.\n",
                      c->free[j].path);
    if (c->opt.sensitivity) {
        sb_printf(b, "\n## Sensitivity at the fit\n\nChange of each simulated mean per unit of "
                     "each parameter (central differences over 2%% of the range): which "
                     "targets each parameter can move.\n\n| metric |");
        for (int j = 0; j < J; j++)
            sb_printf(b, " `%s` |", c->free[j].path);
        sb_printf(b, "\n| --- |");
        for (int j = 0; j < J; j++)
            sb_printf(b, " ---: |");
        sb_printf(b, "\n");
        for (int k = 0; k < c->n_moments; k++) {
            sb_printf(b, "| `%s` |", ts_metric_name(t->moments[k].metric));
            for (int j = 0; j < J; j++)
                sb_printf(b, " %+.3f |", fit->jacobian[(size_t)k * J + j]);
            sb_printf(b, "\n");
        }
        if (isfinite(fit->singular[J - 1])) {
            sb_printf(b, "\nIdentification: the singular values of W^(1/2) G (G the table above, W "
                         "the weights) are");
            for (int j = 0; j < J; j++)
                sb_printf(b, "%s%.3g", j ? ", " : " ", fit->singular[j]);
            sb_printf(b, ". The weakest direction, the unit change of the parameters");
            for (int j = 0; j < J; j++)
                sb_printf(b, "%s%+.2f `%s`", j ? ", " : " ", fit->weakest[j], c->free[j].path);
            sb_printf(b,
                      ", moves the weighted moments by %.3g only: that combination is known to "
                      "within about sigma / %.3g, with sigma the standard error of the targets "
                      "in the units of the weighted moments (1 when the weights are 1/sd^2).\n",
                      fit->singular[J - 1], fit->singular[J - 1]);
        }
    }
    sb_printf(b, "\n## Convergence\n\nBest distance after iteration:\n\n| iteration | distance "
                 "|\n| ---: | ---: |\n");
    int every = fit->iterations > 20 ? (fit->iterations + 19) / 20 : 1;
    for (int i = 0; i < fit->iterations; i++)
        if (i % every == 0 || i + 1 == fit->iterations)
            sb_printf(b, "| %d | %.5g |\n", i + 1, fit->trace[i]);
    sb_printf(b, "\nThe full trace, the sensitivities and every number above are in `fit.json`.\n");
}

static ts_status write_text(const char *dir, const char *name, const sbuf *b, ts_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return ts_error_set(err, TS_ERUNTIME, "%s: cannot write: %s", path, strerror(errno));
    bool ok = fwrite(b->s, 1, b->len, f) == b->len;
    ok = (fclose(f) == 0) && ok;
    return ok ? TS_OK : ts_error_set(err, TS_ERUNTIME, "%s: cannot write", path);
}

ts_status ts_calibration_write_report(const ts_calibration *c, const ts_calib_report_info *info,
                                      const char *dir, ts_error *err)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return ts_error_set(err, TS_ERUNTIME, "%s: cannot create: %s", dir, strerror(errno));
    sbuf md = {0}, js = {0};
    write_markdown(c, info, &md);
    write_json(c, info, &js);
    ts_status st = TS_OK;
    if (md.failed || js.failed)
        st = ts_error_set(err, TS_ERUNTIME, "out of memory");
    if (st == TS_OK)
        st = write_text(dir, "report.md", &md, err);
    if (st == TS_OK)
        st = write_text(dir, "fit.json", &js, err);
    free(md.s);
    free(js.s);
    return st;
}
