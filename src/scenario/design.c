/* Sweep designs (see include/trustsim/design.h). Builds a table of points; running them is
 * the ensemble's job. */
#include "trustsim/design.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_qrng.h>
#include <gsl/gsl_randist.h>

#include "trustsim/rng.h"
#include "trustsim/scenario.h"
#include "trustsim/schema.h"

/* The most points a design may have. */
#define MAX_POINTS 100000000L

static const char *const design_names[] = {"none", "grid", "list", "lhs", "sobol", "saltelli"};

const char *ts_design_name(ts_design d)
{
    return d <= TS_DESIGN_SALTELLI ? design_names[d] : "unknown";
}

/* Level j of a grid parameter: its listed values, or n evenly spaced values over [min, max]. */
static double grid_level(const ts_sweep_param *sp, int j)
{
    if (sp->n_values > 0)
        return sp->values[j];
    return sp->n > 1 ? sp->min + (sp->max - sp->min) * j / (sp->n - 1) : sp->min;
}

static int grid_levels(const ts_sweep_param *sp)
{
    return sp->n_values > 0 ? sp->n_values : sp->n > 0 ? sp->n : 1;
}

static double scale(const ts_sweep_param *sp, double u)
{
    return sp->min + (sp->max - sp->min) * u;
}

static ts_status fill_grid(const ts_sweep *sw, ts_points *pts)
{
    int k = sw->n_params;
    for (int i = 0; i < pts->n_points; i++) {
        int rest = i;
        for (int c = k - 1; c >= 0; c--) { /* the first parameter varies slowest */
            int levels = grid_levels(&sw->params[c]);
            pts->values[(size_t)i * k + c] = grid_level(&sw->params[c], rest % levels);
            rest /= levels;
        }
    }
    return TS_OK;
}

/* Latin hypercube: each parameter's range cut into n strata, one point per stratum, strata
 * matched across parameters by independent random permutations. */
static ts_status fill_lhs(const ts_params *p, ts_points *pts, ts_error *err)
{
    const ts_sweep *sw = &p->sweep;
    int n = pts->n_points, k = sw->n_params;
    gsl_rng *r = ts_rng_alloc();
    size_t *perm = malloc((size_t)n * sizeof *perm);
    if (!r || !perm) {
        gsl_rng_free(r), free(perm);
        return ts_error_set(err, TS_ERUNTIME, "out of memory building the sweep design");
    }
    ts_rng_seed(r, ts_seed_hash(p->seed, UINT64_MAX, 0));
    for (int c = 0; c < k; c++) {
        for (int i = 0; i < n; i++)
            perm[i] = (size_t)i;
        gsl_ran_shuffle(r, perm, (size_t)n, sizeof *perm);
        for (int i = 0; i < n; i++) {
            double u = ((double)perm[i] + gsl_rng_uniform(r)) / n;
            pts->values[(size_t)i * k + c] = scale(&sw->params[c], u);
        }
    }
    gsl_rng_free(r);
    free(perm);
    return TS_OK;
}

/* Sobol points in dimension dim, skipping the first: GSL's sequence starts at the centre
 * (1/2, ..., 1/2), not at the origin, and the design leaves that point out. */
static gsl_qrng *sobol_alloc(int dim, ts_error *err)
{
    if (dim > 40) { /* GSL's Sobol generator supports up to 40 dimensions */
        ts_error_set(err, TS_EINPUT,
                     "key 'sweep.parameters': the Sobol sequence supports at most 40 "
                     "dimensions, this design needs %d",
                     dim);
        return NULL;
    }
    gsl_qrng *q = gsl_qrng_alloc(gsl_qrng_sobol, (unsigned)dim);
    if (!q) {
        ts_error_set(err, TS_ERUNTIME, "out of memory building the sweep design");
        return NULL;
    }
    double skip[40];
    gsl_qrng_get(q, skip);
    return q;
}

static ts_status fill_sobol(const ts_sweep *sw, ts_points *pts, ts_error *err)
{
    int k = sw->n_params;
    gsl_qrng *q = sobol_alloc(k, err);
    if (!q)
        return TS_EINPUT;
    double u[40];
    for (int i = 0; i < pts->n_points; i++) {
        gsl_qrng_get(q, u);
        for (int c = 0; c < k; c++)
            pts->values[(size_t)i * k + c] = scale(&sw->params[c], u[c]);
    }
    gsl_qrng_free(q);
    return TS_OK;
}

/* Saltelli's scheme for Sobol indices: N base points of a 2k-dimensional Sobol sequence give
 * matrices A (first k columns) and B (last k); each base point yields A_j, B_j and the k
 * points A_j with column i taken from B_j. */
static ts_status fill_saltelli(const ts_sweep *sw, ts_points *pts, ts_error *err)
{
    int k = sw->n_params;
    gsl_qrng *q = sobol_alloc(2 * k, err);
    if (!q)
        return TS_EINPUT;
    double u[40];
    for (int j = 0; j < pts->saltelli_n; j++) {
        gsl_qrng_get(q, u);
        double *a = pts->values + (size_t)j * (k + 2) * k;
        double *b = a + k;
        for (int c = 0; c < k; c++) {
            a[c] = scale(&sw->params[c], u[c]);
            b[c] = scale(&sw->params[c], u[k + c]);
        }
        for (int i = 0; i < k; i++) {
            double *ab = a + (size_t)(2 + i) * k;
            memcpy(ab, a, sizeof *ab * (size_t)k);
            ab[i] = b[i];
        }
    }
    gsl_qrng_free(q);
    return TS_OK;
}

/* How many points the design has: the product of the grid's levels (once past MAX_POINTS, a
 * partial product, which cannot overflow), the length of the lists, n, or n (k + 2) for
 * Saltelli's scheme. */
static long design_size(const ts_sweep *sw, int k)
{
    long n = 1;
    switch (sw->design) {
    case TS_DESIGN_GRID:
        for (int c = 0; c < k && n <= MAX_POINTS; c++)
            n *= grid_levels(&sw->params[c]);
        return n;
    case TS_DESIGN_LIST:
        return k > 0 ? sw->params[0].n_values : 1;
    case TS_DESIGN_LHS:
    case TS_DESIGN_SOBOL:
        return sw->n;
    case TS_DESIGN_SALTELLI:
        return (long)sw->n * (k + 2);
    default:
        return 1;
    }
}

static ts_status fill_list(const ts_sweep *sw, ts_points *pts)
{
    int k = sw->n_params;
    for (int i = 0; i < pts->n_points; i++)
        for (int c = 0; c < k; c++)
            pts->values[(size_t)i * k + c] = sw->params[c].values[i];
    return TS_OK;
}

static ts_status fill(const ts_params *p, ts_points *pts, ts_error *err)
{
    switch (p->sweep.design) {
    case TS_DESIGN_GRID:
        return fill_grid(&p->sweep, pts);
    case TS_DESIGN_LIST:
        return fill_list(&p->sweep, pts);
    case TS_DESIGN_LHS:
        return fill_lhs(p, pts, err);
    case TS_DESIGN_SOBOL:
        return fill_sobol(&p->sweep, pts, err);
    case TS_DESIGN_SALTELLI:
        return fill_saltelli(&p->sweep, pts, err);
    default:
        return TS_OK; /* one point, no parameters */
    }
}

ts_status ts_points_build(const ts_params *p, ts_points *out, ts_error *err)
{
    const ts_sweep *sw = &p->sweep;
    *out = (ts_points){0};
    int k = sw->design == TS_DESIGN_NONE ? 0 : sw->n_params;
    long n = design_size(sw, k);
    if (n > MAX_POINTS)
        return ts_error_set(err, TS_EINPUT,
                            "key 'sweep': the design has %s%ld points, more than %ld",
                            sw->design == TS_DESIGN_GRID ? "at least " : "", n, MAX_POINTS);
    if (n < 1)
        return ts_error_set(err, TS_EINPUT, "key 'sweep': the design has %ld points", n);
    out->n_points = (int)n;
    out->n_params = k;
    out->saltelli_n = sw->design == TS_DESIGN_SALTELLI ? sw->n : 0;
    out->names = calloc(k > 0 ? (size_t)k : 1, sizeof *out->names);
    out->values = calloc((size_t)n * (k > 0 ? (size_t)k : 1), sizeof *out->values);
    if (!out->names || !out->values) {
        ts_points_destroy(out);
        return ts_error_set(err, TS_ERUNTIME, "out of memory building the sweep design");
    }
    for (int c = 0; c < k; c++)
        memcpy(out->names[c], sw->params[c].path, sizeof out->names[c]);
    ts_status st = fill(p, out, err);
    if (st != TS_OK)
        ts_points_destroy(out);
    return st;
}

void ts_points_destroy(ts_points *pts)
{
    free(pts->names);
    free(pts->values);
    *pts = (ts_points){0};
}

ts_status ts_points_apply(const ts_points *pts, int i, const ts_params *base, ts_params *dst,
                          ts_error *err)
{
    ts_status st = ts_params_copy(dst, base, err);
    if (st != TS_OK)
        return st;
    for (int c = 0; c < pts->n_params && st == TS_OK; c++) {
        ts_param_ref ref;
        st = ts_schema_resolve(dst, pts->names[c], &ref, err);
        if (st != TS_OK)
            break;
        double v = pts->values[(size_t)i * pts->n_params + c];
        if (ref.type == TS_VALUE_INT)
            v = round(v);
        else if (ref.type == TS_VALUE_BOOL)
            v = v >= 0.5 ? 1 : 0;
        st = ts_param_ref_set(&ref, v, err);
    }
    if (st != TS_OK)
        ts_params_destroy(dst);
    return st;
}
