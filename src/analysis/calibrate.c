/* Calibration by the method of simulated moments (see include/trustsim/calibrate.h).
 *
 * Setting up (the free parameters, their ranges and transforms, the tick of each moment), the
 * objective (R replicates with common random numbers, run by ts_replicates_run and combined in
 * replicate order), its minimisation with GSL's nmsimplex2 on transformed parameters, and the
 * sensitivity of the moments at the fit with the standard errors it gives (GSL's linear
 * algebra). Not for: reading targets files (targets.c), writing the fitted scenario and the
 * report (calibrate_report.c), or printing to the terminal (the command line does that). */
#include "trustsim/calibrate.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_eigen.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_multimin.h>

#include "scenario/schema_internal.h"
#include "trustsim/metrics.h"
#include "trustsim/model.h"
#include "trustsim/replicates.h"
#include "trustsim/scenario.h"
#include "trustsim/schema.h"

/* The value the simplex sees at a point that cannot be simulated (a cross-field rule of the
 * schema refuses it, or a moment has no finite value in any replicate). Finite, because GSL's
 * simplex refuses non-finite values, and far above any distance on a 1-5 scale. */
#define PENALTY 1e12

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
    char where[96];
    snprintf(where, sizeof where, "moments.%d.%s", k, key);
    va_list ap;
    va_start(ap, fmt);
    ts_error_vat(err, TS_EINPUT, t->path ? t->path : "targets", (size_t)m->line, (size_t)m->column,
                 where, fmt, ap);
    va_end(ap);
    return TS_EINPUT;
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
        return ts_error_at(err, TS_EINPUT, t->path ? t->path : "targets", (size_t)t->at_line,
                           (size_t)t->at_column, "at",
                           "tick %d is beyond the scenario's horizon (%d ticks)", t->at, horizon);
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

ts_status ts_calibration_params(const ts_calibration *c, const double *x, ts_params *dst,
                                ts_error *err)
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

/* Replicates 0 .. R-1, in order: replicate r of every evaluation is the run seeded
 * ts_seed_hash(seed, 0, r), whatever the parameters (common random numbers). */
typedef struct replicate_list {
    ts_calibration *c;
    long next;
} replicate_list;

static bool next_replicate(void *ctx, ts_replicate_task *task)
{
    replicate_list *l = ctx;
    if (l->next >= l->c->opt.replicates)
        return false;
    *task =
        (ts_replicate_task){.index = (uint64_t)l->next, .point = 0, .replicate = (uint64_t)l->next};
    l->next++;
    return true;
}

/* Each moment's value in replicate r goes to its own row of c->rep_values, so the threads
 * never change the result. */
static ts_status take_moments(void *ctx, const ts_replicate_task *task, const ts_run_result *res,
                              ts_error *err)
{
    (void)err;
    const ts_calibration *c = ((const replicate_list *)ctx)->c;
    double *row = c->rep_values + task->index * (size_t)c->n_moments;
    for (int k = 0; k < c->n_moments; k++) {
        int metric = c->targets->moments[k].metric;
        row[k] = res->series[(size_t)metric * (size_t)res->n_times + (size_t)c->at[k]];
    }
    return TS_OK;
}

/* Run the R replicates up to the last tick any moment needs and keep each moment's value in
 * c->rep_values[r][k]. */
static ts_status simulate(ts_calibration *c, const ts_model *m, ts_error *err)
{
    replicate_list list = {.c = c};
    const ts_replicates plan = {.threads = c->opt.threads,
                                .n_tasks = c->opt.replicates,
                                .seed = c->opt.seed,
                                .until = c->max_at,
                                .ctx = &list,
                                .next = next_replicate,
                                .model = m,
                                .take = take_moments};
    return ts_replicates_run(&plan, err);
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
    ts_status st = ts_calibration_params(c, x, &p, err);
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

/* The weights of the sandwich, A = (G'WG)^-1 G'W ([J][K]), from G'WG (gwg, [J][J], overwritten
 * by its LU decomposition) and G (the Jacobian, [K][J]): column k of A solves
 * (G'WG) x = G[k]', times weight k, with GSL's LU decomposition with partial pivoting.
 * Returns 1, or 0 when G'WG is singular (an entry not finite, or a pivot at most 1e-12 of its
 * largest entry), or -1 when out of memory. */
static int sandwich_weights(double *gwg, const double *jacobian, const ts_moment *moments, int J,
                            int K, double *a)
{
    double scale = 0;
    for (int i = 0; i < J * J; i++) {
        if (!isfinite(gwg[i]))
            return 0;
        scale = fmax(scale, fabs(gwg[i]));
    }
    if (!(scale > 0))
        return 0;
    gsl_matrix_view m = gsl_matrix_view_array(gwg, (size_t)J, (size_t)J);
    gsl_permutation *perm = gsl_permutation_alloc((size_t)J);
    gsl_vector *g = gsl_vector_alloc((size_t)J), *x = gsl_vector_alloc((size_t)J);
    int signum, ok = perm && g && x ? 1 : -1;
    if (ok == 1 && gsl_linalg_LU_decomp(&m.matrix, perm, &signum) != GSL_SUCCESS)
        ok = 0;
    for (int j = 0; ok == 1 && j < J; j++)
        if (!(fabs(gsl_matrix_get(&m.matrix, (size_t)j, (size_t)j)) > 1e-12 * scale))
            ok = 0;
    for (int k = 0; ok == 1 && k < K; k++) {
        for (int j = 0; j < J; j++)
            gsl_vector_set(g, (size_t)j, jacobian[(size_t)k * J + j]);
        if (gsl_linalg_LU_solve(&m.matrix, perm, g, x) != GSL_SUCCESS)
            ok = 0;
        for (int i = 0; ok == 1 && i < J; i++)
            a[(size_t)i * K + k] = gsl_vector_get(x, (size_t)i) * moments[k].weight;
    }
    if (x)
        gsl_vector_free(x);
    if (g)
        gsl_vector_free(g);
    if (perm)
        gsl_permutation_free(perm);
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
    int solved = sandwich_weights(gwg, fit->jacobian, c->targets->moments, J, K, a);
    if (solved < 0)
        st = ts_error_set(err, TS_ERUNTIME, "out of memory");
    if (solved != 1)
        goto done;
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

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

ts_status ts_calibration_run(ts_calibration *c, ts_error *err)
{
    const int J = c->n_free, K = c->n_moments;
    ts_calib_fit *fit = &c->fit;
    fit_free(fit);
    c->evaluations = 0;
    double t0 = now_seconds();
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
    fit->seconds = now_seconds() - t0;
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
