/* The HDF5 writer: one self-describing file per run, ensemble or sweep.
 *
 * Layout (documented for users in docs/output-format.md):
 *   /                       attributes format="trustsim", format_version, trustsim_version,
 *                           scenario, master_seed, rng_type, created (UTC, ISO 8601), tick_unit,
 *                           n_points, n_replicates
 *   /scenario/text          the scenario as given (string)
 *   /scenario/resolved      the scenario with every default filled in (string)
 *   /series/<metric>        float64 [point, replicate, time]
 *   /final/trust_interorg   float64 [point, replicate, pair]: TO of pair_organisation in
 *                           pair_partner
 *   /final/stage            int8    [point, replicate, pair]
 *   /final/faith            float64 [point, replicate, organisation]
 *   /final/active           uint8   [point, replicate, organisation]
 *   /done                   uint8   [point, replicate]: 1 once that run is stored
 *   /summary/<metric>/{mean,sd,q05,q50,q95}  float64 [point, time], when n_replicates > 1:
 *                           over the done replicates, NaN values left out (NaN where no value
 *                           is left; sd NaN below 2 values)
 *   /points/<param path>    float64 [point]: swept values (sweeps only)
 *   dimension scales        /point, /replicate, /time (tick numbers; attribute tick_unit),
 *                           /organisation (names), /pair (0 .. pairs - 1); each group
 *                           hard-links the ones its datasets use, so netCDF readers see
 *                           coordinates in it
 *   /pair_organisation, /pair_partner  int32 [pair]: the organisations of each ordered pair
 *                           that shares a collaboration, as indices along /organisation (the
 *                           only pairs with a state; also in /final, and named in the
 *                           attribute `coordinates` of its datasets)
 *
 * Every chunked dataset carries HDF5's Fletcher-32 checksum (small arrays are one chunk, so
 * every array is chunked), string datasets the CRC-32 of their characters as the attribute
 * crc32, and the file is in HDF5's format of 1.8, whose metadata carries checksums too.
 *
 * The file is written under a temporary name beside the target and renamed on close, so a
 * target path either holds a complete file or is untouched. Errors name the file and the
 * operating system's reason ("No space left on device"). Not for reading results back
 * (reader.h is the one reader). */
#ifndef TRUSTSIM_OUTPUT_H
#define TRUSTSIM_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trustsim/error.h"
#include "trustsim/result.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ts_output_spec {
    const char *scenario_name;
    uint64_t master_seed;
    const char *rng_type;
    const char *tick_unit; /* "week", "month", "day" */
    const char *scenario_text;
    const char *resolved_text;
    size_t n_points;
    size_t n_replicates;
    int n_times; /* ticks + 1 */
    const char *const *metric_names;
    int n_metrics;
    /* optional [n_metrics] (NULL, or NULL entries, to skip): the series' long_name and units
     * attributes */
    const char *const *metric_descriptions;
    const char *const *metric_units;
    const char *const *org_names;
    int n_orgs;
    /* the ordered pairs of organisations with a state, [n_pairs] each (model.h's order) */
    int n_pairs;
    const int *pair_org, *pair_partner;
    /* sweeps: names of swept parameters and their values [n_points][n_point_params] */
    int n_point_params;
    const char *const *point_param_names;
    const double *point_values;
    bool force;  /* replace an existing file at path */
    int threads; /* threads summarising and compressing when the file is closed (0: every core) */
    /* Memory for gathering the runs that share chunks (series and final state) and for their
     * compressed chunks, so that full chunks are compressed on every thread and written at
     * once (0: 256 MiB). When every run fits, they stay in memory until the close and the
     * summaries come from there (their statistics take at most 64 MiB more); with less than
     * one row of chunks, every run goes through HDF5 on its own. The file's datasets are the
     * same whatever it is. */
    size_t row_memory;
} ts_output_spec;

typedef struct ts_output ts_output;

/* Fails with TS_EINPUT if path exists and !spec->force. Nothing is created at path itself
 * until ts_output_close succeeds. */
ts_status ts_output_create(ts_output **out, const char *path, const ts_output_spec *spec,
                           ts_error *err);
ts_status ts_output_write_run(ts_output *out, size_t point, size_t replicate,
                              const ts_run_result *res, ts_error *err);
/* Push what has been written to disk (e.g. every few minutes of a long sweep), the runs
 * gathered in memory included; the file stays under its temporary name. */
ts_status ts_output_flush(ts_output *out, ts_error *err);
/* Write the summaries, close and move the file into place. Frees out whatever happens; the
 * target is untouched on failure. When writing fails (a full disk), the temporary file, which
 * could not be completed, is removed; when only the final rename fails, it is kept (the
 * message names it). */
ts_status ts_output_close(ts_output *out, ts_error *err);
/* Close and delete the temporary file; the target is left as it was. Frees out. */
void ts_output_abort(ts_output *out);

/* Sobol indices of one metric (sensitivity.h computes them), to store in a finished output. */
typedef struct ts_output_indices {
    const char *metric;
    int k;                    /* swept parameters */
    const char *const *names; /* their paths, [k] */
    const double *first, *first_lo, *first_hi, *total, *total_lo, *total_hi; /* [k] each */
    int64_t tick, n_base, n_used, bootstrap;
    double level;
    uint64_t bootstrap_seed;
    const char *estimator_first, *estimator_total, *output; /* what they are, in words */
} ts_output_indices;

/* Store the indices in the finished output at path, opened read-write (the one change made to
 * an output after its run), as /sensitivity/<metric>/{first, first_lo, first_hi, total,
 * total_lo, total_hi}, float64 [parameter], with the parameter paths as the dimension scale
 * /sensitivity/<metric>/parameter and the group attributes tick, n_base, n_used, bootstrap,
 * level, bootstrap_seed, estimator_first, estimator_total and output. An earlier analysis of
 * the same metric is replaced. */
ts_status ts_output_add_indices(const char *path, const ts_output_indices *ix, ts_error *err);

#ifdef __cplusplus
}
#endif
#endif
