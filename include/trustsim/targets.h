/* Calibration targets: the measured values a calibration fits (calibrate.h), read from a YAML
 * file. Each moment is a metric's replicate mean at a tick and the value it should have, with
 * an optional weight or standard deviation; for example the Likert means of seed 000's survey
 * (docs/model.md section 7.20, scenarios/targets/).
 *
 * For: reading and checking a targets file, with every error located as
 * FILE:LINE:COL: key 'moments.2.metric': reason. Not for: whether a metric is recorded in a
 * scenario's mode, or a tick within its horizon (the calibration checks those against the
 * scenario it fits). */
#ifndef TRUSTSIM_TARGETS_H
#define TRUSTSIM_TARGETS_H

#include "trustsim/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One moment: a metric's replicate mean at a tick, and the value it should have. */
typedef struct ts_moment {
    int metric;       /* index into the run's series (metrics.h) */
    double mean;      /* the measured value */
    double sd;        /* standard error of the measured value, NaN when not given */
    double weight;    /* weight in the distance: `weight` as given, 1/sd^2 with sd, else 1 */
    int at;           /* tick of this moment, -1: the file's `at` */
    char label[128];  /* `label:` text, or "" */
    int line, column; /* where the moment starts in the targets file (1-based) */
} ts_moment;

/* A targets file:
 *   source: "where the numbers come from"     (optional text)
 *   at: 104                                   (optional tick; default the scenario's horizon)
 *   moments:
 *     - {metric: survey_interorg, mean: 2.7, weight: 1.0, sd: 0.1, at: 52, label: "..."}
 * metric and mean are required; weight and sd exclude each other. A bare list of moments is
 * accepted as the whole file. */
typedef struct ts_targets {
    char *path;   /* the name used in error messages */
    char *source; /* NULL when not given */
    int at;       /* -1 when not given */
    int at_line, at_column;
    ts_moment *moments;
    int n_moments;
} ts_targets;

/* Load and check a targets file. Errors read "FILE:LINE:COL: key 'moments.2.metric': reason".
 * On failure t holds nothing to free. */
ts_status ts_targets_load(ts_targets *t, const char *path, ts_error *err);
/* Same, from text in memory; `name` stands for the file name in error messages. */
ts_status ts_targets_load_string(ts_targets *t, const char *text, const char *name, ts_error *err);
void ts_targets_destroy(ts_targets *t);

#ifdef __cplusplus
}
#endif
#endif
