/* Calibration by the method of simulated moments: choose a few scalar parameters of a scenario
 * so that the replicate means of some metrics at a tick come close to measured values (for
 * example the Likert means of seed 000's survey, docs/model.md section 7.20).
 *
 * For: the objective (weighted squared distance between the moments of a targets file,
 * targets.h, and the simulated means), its minimisation with GSL's Nelder-Mead simplex on a
 * transform of the parameters that keeps them inside their schema ranges, the sensitivity of
 * the fit, and writing the fitted scenario and a report (src/analysis/calibrate_report.c).
 * Common random numbers: replicate r always runs with the seed
 * ts_seed_hash(master, 0, r), whatever the parameters, so the objective is a deterministic
 * function of them, and replicates are combined in replicate order, so it does not depend on the
 * number of threads. Not for: sweeps (design.h) or full likelihood-based inference; the
 * standard errors reported are a linearised sandwich, a guide rather than a guarantee. */
#ifndef TRUSTSIM_CALIBRATE_H
#define TRUSTSIM_CALIBRATE_H

#include <stdbool.h>
#include <stdint.h>

#include "trustsim/error.h"
#include "trustsim/params.h"
#include "trustsim/targets.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- calibration ------------------------------------------------------------------------- */

/* How a free parameter is mapped to the unbounded space the simplex moves in. */
typedef enum ts_transform {
    TS_TRANSFORM_LOGIT = 0, /* [min, max]: x = min + (max - min) / (1 + exp(-u)) */
    TS_TRANSFORM_LOG_LOWER, /* [min, inf): x = min + exp(u) */
    TS_TRANSFORM_LOG_UPPER, /* (-inf, max]: x = max - exp(u) */
    TS_TRANSFORM_IDENTITY   /* unbounded: x = u */
} ts_transform;

/* A free parameter: one scalar path, or a pattern with one `*` segment standing for every
 * element of a list (organisations, collaborations, archetypes, events, relations.pairs), all
 * tied to one value: `organisations.*.internal_trust`. */
typedef struct ts_free_param {
    char path[256];  /* as given */
    int n_tied;      /* concrete paths it sets (1 without `*`) */
    double min, max; /* schema range; -inf / inf when open-ended */
    bool min_open, max_open;
    ts_transform transform;
    /* value in the scenario (after --set): with `*`, the mean over the elements; moved inside
     * the bounds if on one */
    double start;
    bool start_differs; /* with `*`: the elements did not all start at the same value */
} ts_free_param;

typedef struct ts_calib_options {
    int replicates;   /* R >= 1 */
    uint64_t seed;    /* master seed of the common random numbers */
    int at;           /* tick for every moment, overriding the file; -1: as the file says */
    int threads;      /* OpenMP threads; 0: the OpenMP default */
    int max_iter;     /* Nelder-Mead iterations in all, restarts included (default 200) */
    double tol;       /* a run stops when the simplex size (in transformed space) < tol (1e-3) */
    double step;      /* initial simplex step in transformed space (0.5) */
    int restarts;     /* further simplex runs started from the best point (default 1) */
    bool sensitivity; /* after the fit, differentiate the simulated means (default true) */
    /* called after every simplex iteration with the best distance so far (may be NULL) */
    void (*progress)(void *ctx, int iteration, double distance);
    void *progress_ctx;
} ts_calib_options;

/* Defaults as above; replicates 1 and seed 1 (callers normally take the scenario's). */
void ts_calib_options_init(ts_calib_options *o);

/* The simulated moments at one parameter point. */
typedef struct ts_calib_eval {
    double distance;  /* sum_k weight_k (mean_k - sim_mean_k)^2; inf when a moment has no value */
    double *sim_mean; /* [n_moments]: mean over replicates with a finite value */
    double *sim_se;   /* [n_moments]: standard error of that mean (sd / sqrt(n)) */
    int *n_valid;     /* [n_moments]: replicates with a finite value */
} ts_calib_eval;

/* What a fit found. Arrays belong to the calibration. */
typedef struct ts_calib_fit {
    double *value;            /* [n_free] fitted values */
    ts_calib_eval start_eval; /* the simulated moments at the start values */
    double start_distance;    /* start_eval.distance */
    ts_calib_eval best;       /* the simulated moments at the fitted values */
    int iterations;           /* simplex iterations, restarts included */
    int evaluations;          /* objective evaluations (each R runs) */
    int runs;                 /* simplex runs (1 + restarts actually made) */
    bool converged;           /* the last run met the tolerance before max_iter */
    double size;              /* simplex size at the end */
    int penalised;            /* evaluations at points the schema's cross-field rules refuse */
    char penalty_reason[256]; /* the first such refusal */
    /* d sim_mean_k / d value_j by central differences (one-sided at a bound), [n_moments][n_free],
     * and the linearised standard errors of the fitted values:
     *   A = (G'WG)^-1 G'W,  cov = A (S_sim + S_target) A'
     * with S_sim the covariance of the simulated means (replicate covariance / R) and S_target
     * diag(sd^2) of the targets. se_sim uses S_sim only (how much the fit moves with other
     * seeds); se adds S_target and is NaN unless every moment has an sd. NaN where G'WG is
     * singular or sensitivity was not asked for. */
    double *jacobian;
    double *se_sim;
    double *se;
    /* Identification: the singular values of W^(1/2) G, largest first, [n_free], and the unit
     * vector of parameter changes that moves the weighted moments least (the right singular
     * vector of the smallest), [n_free]. A small value means a combination of parameters the
     * targets hardly see. NaN when not computed. */
    double *singular;
    double *weakest;
    double seconds; /* wall-clock time of the fit */
    /* best distance after each iteration, [iterations] */
    double *trace;
} ts_calib_fit;

typedef struct ts_calibration {
    ts_params base;            /* deep copy of the scenario's parameters */
    const ts_targets *targets; /* borrowed: must outlive the calibration */
    ts_calib_options opt;
    int n_free;
    ts_free_param *free;
    char (*tied)[256]; /* concrete paths: those of free[j] are tied[tied_begin[j] .. +n_tied) */
    int *tied_begin;
    int n_moments;
    int *at; /* [n_moments] the tick each moment is read at */
    int max_at;
    int evaluations; /* objective evaluations so far */
    ts_calib_fit fit;
    /* work space */
    double *rep_values; /* [replicates][n_moments] values of the last evaluation */
    double *x_work;     /* [n_free] */
} ts_calibration;

/* Set up a calibration of `base` (which may hold --set overrides) against `targets`, with the
 * scalar paths (or `*` patterns) free_paths[0..n_free) free. Checks that every path is a continuous
 * parameter (integers and booleans are refused), that the metrics exist in the scenario's mode,
 * that each moment's tick is within the horizon, and that the scenario has no sweep block. On
 * failure *out is NULL. */
ts_status ts_calibration_alloc(ts_calibration **out, const ts_params *base,
                               const ts_targets *targets, const char *const *free_paths, int n_free,
                               const ts_calib_options *opt, ts_error *err);
void ts_calibration_free(ts_calibration *c);

/* Simulate the moments at the parameter values x[n_free] (natural scale, inside the bounds) and
 * fill ev (arrays of n_moments, owned by the caller). TS_EINPUT when x breaks a bound or a
 * cross-field rule of the schema. Deterministic: the same x, seed and replicates give the same
 * bits whatever the number of threads. */
ts_status ts_calibration_evaluate(ts_calibration *c, const double *x, ts_calib_eval *ev,
                                  ts_error *err);

/* dst := the scenario's parameters with the free parameters at x[n_free], checked by the
 * schema's cross-field rules (TS_EINPUT when one refuses them). dst must hold nothing; on
 * failure it holds nothing. */
ts_status ts_calibration_params(const ts_calibration *c, const double *x, ts_params *dst,
                                ts_error *err);

/* Minimise the distance from the free parameters' start values; the result is in c->fit. */
ts_status ts_calibration_run(ts_calibration *c, ts_error *err);

/* Where a report came from, for its header. Any field may be NULL. */
typedef struct ts_calib_report_info {
    const char *scenario_path;
    const char *targets_path;
    const char *command;     /* the command line that made it */
    const char *const *sets; /* --set overrides */
    int n_sets;
} ts_calib_report_info;

/* The fitted scenario: ts_params_to_yaml of the base parameters with the fitted values (its name
 * suffixed "_fitted"), after a comment header recording the fit. malloc'd; NULL when out of
 * memory. info may be NULL. */
char *ts_calibration_fitted_yaml(const ts_calibration *c, const ts_calib_report_info *info);

/* Write DIR/report.md (for people) and DIR/fit.json (for programs); DIR is created if missing. */
ts_status ts_calibration_write_report(const ts_calibration *c, const ts_calib_report_info *info,
                                      const char *dir, ts_error *err);

/* Whether free parameter j was fitted within 1% of a bound of its range (see the report). */
bool ts_calibration_at_bound(const ts_calibration *c, int j);

const char *ts_transform_name(ts_transform t);
/* The transforms themselves, for tests and tools. */
double ts_transform_to_free(const ts_free_param *p, double x);
double ts_transform_from_free(const ts_free_param *p, double u);

#ifdef __cplusplus
}
#endif
#endif
