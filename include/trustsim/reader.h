/* The one reader of output files: opens a file written by output.h, decides once whether it is
 * a trustsim output of a format this program reads, checks that its datasets agree in shape
 * and type with its axes, and reads series, summaries, final state, swept values, the
 * scenario texts and the root attributes. It also verifies a file: every chunk of every
 * dataset read back through HDF5's checksum filter, damage reported by dataset.
 *
 * For: `info`, `export`, `compare`, `sensitivity`, the ensemble's look at a finished file, and
 * any tool linking the library. Every check of a file lives here, so a file that opens is one
 * the rest of the program can trust in shape; the values still come from disk, and a read can
 * still fail (a damaged chunk). Not for: writing (output.h is the one writer), or the blocks
 * of finished runs a running ensemble keeps (src/io/blocks.h).
 *
 * Final state is read through functions over a `pair` index, with ts_reader_pair naming the
 * organisation and partner of each pair, never as [organisation, partner] arrays: callers do
 * not depend on how a file stores pairs.
 *
 * Errors name the file and, where there is one, the dataset and HDF5's or the operating
 * system's reason: "OUT.h5: /series/faith: cannot read: data error detected by Fletcher32
 * checksum". A missing, unreadable or foreign file is TS_EINPUT; a read that fails in a file
 * that opened (damage, memory) is TS_ERUNTIME. The reader keeps HDF5 quiet and never prints. */
#ifndef TRUSTSIM_READER_H
#define TRUSTSIM_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trustsim/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The newest layout this program reads (the root attribute format_version). */
#define TS_READER_FORMAT_VERSION 2

typedef struct ts_reader ts_reader;

/* What a file holds, read once when it is opened. */
typedef struct ts_file_info {
    int format_version;
    size_t n_points, n_replicates, n_times, n_orgs;
    size_t n_pairs;    /* pairs of the final state (ts_reader_pair) */
    size_t n_done;     /* runs flagged done */
    int n_metrics;     /* datasets of /series */
    int n_params;      /* swept parameters (/points), 0 without a sweep */
    int n_sensitivity; /* metrics analysed under /sensitivity */
    bool has_summary;
    uint64_t master_seed;
    /* root attributes ("" when absent) */
    char scenario[256], trustsim_version[64], rng_type[64], created[64], tick_unit[16];
} ts_file_info;

/* Open and check an output file. On failure *r is NULL and nothing is left open. */
ts_status ts_reader_open(ts_reader **r, const char *path, ts_error *err);
/* The same from a file image in memory (copied); `name` stands for the path in messages. */
ts_status ts_reader_open_image(ts_reader **r, const void *image, size_t size, const char *name,
                               ts_error *err);
void ts_reader_close(ts_reader *r);

const ts_file_info *ts_reader_info(const ts_reader *r);
const char *ts_reader_path(const ts_reader *r);
/* Tick numbers of the time axis, [n_times]. */
const int64_t *ts_reader_ticks(const ts_reader *r);
/* Done flags, [n_points][n_replicates]: 1 when the run holds values. */
const uint8_t *ts_reader_done(const ts_reader *r);
bool ts_reader_run_done(const ts_reader *r, size_t point, size_t replicate);
/* Metrics in the model's order (metrics.h), names the model does not know after them by name. */
const char *ts_reader_metric(const ts_reader *r, int m);
/* The index of a metric, or -1. */
int ts_reader_metric_index(const ts_reader *r, const char *name);
const char *ts_reader_org(const ts_reader *r, size_t o);
/* Swept parameters in the order of the scenario's sweep block (by name when the stored
 * scenario does not say). */
const char *ts_reader_param(const ts_reader *r, int k);
/* Names under /sensitivity. */
const char *ts_reader_sensitivity(const ts_reader *r, int i);
/* The organisation and partner of pair k of the final state: the ordered pairs of
 * organisations that share a collaboration (format 2), or every two organisations, with NaN
 * and -1 where they share none (format 1, read as such). */
void ts_reader_pair(const ts_reader *r, size_t k, size_t *org, size_t *partner);
/* The scenario as given and as resolved ("" when the file lacks it). */
const char *ts_reader_scenario_text(const ts_reader *r);
const char *ts_reader_scenario_resolved(const ts_reader *r);

/* Metric m of one point: out[n_replicates][n_times]. */
ts_status ts_reader_series(const ts_reader *r, int m, size_t point, double *out, ts_error *err);
/* Metric m at time index t of points [point, point + n): out[n][n_replicates]. */
ts_status ts_reader_series_at(const ts_reader *r, int m, size_t point, size_t n, size_t t,
                              double *out, ts_error *err);
/* Summary `stat` (mean, sd, q05, q50, q95) of metric m: out[n_points][n_times]. TS_EINPUT
 * when the file has no such summary. */
ts_status ts_reader_summary(const ts_reader *r, int m, const char *stat, double *out,
                            ts_error *err);
/* Swept parameter k at every point: out[n_points]. */
ts_status ts_reader_points(const ts_reader *r, int k, double *out, ts_error *err);
/* Final state of one point: trust and stage out[n_replicates][n_pairs], faith and active
 * out[n_replicates][n_orgs]. */
ts_status ts_reader_final_trust(const ts_reader *r, size_t point, double *out, ts_error *err);
ts_status ts_reader_final_stage(const ts_reader *r, size_t point, int8_t *out, ts_error *err);
ts_status ts_reader_final_faith(const ts_reader *r, size_t point, double *out, ts_error *err);
ts_status ts_reader_final_active(const ts_reader *r, size_t point, uint8_t *out, ts_error *err);

/* ---- verification ---------------------------------------------------------------------- */

typedef struct ts_verify_report {
    size_t datasets;    /* datasets read */
    size_t chunks;      /* chunks (or whole contiguous datasets) read */
    size_t damaged;     /* datasets with damage */
    size_t unprotected; /* datasets with no checksum (written before checksums, or strings
                         * without their crc32 attribute) */
} ts_verify_report;

/* Called once per damaged dataset, with HDF5's or the check's reason ("2 of 18 chunks fail
 * their checksum: data error detected by Fletcher32 checksum"), and once per dataset that
 * carries no checksum (problem begins "no checksum"). */
typedef void (*ts_verify_fn)(void *ctx, const char *dataset, const char *problem);

/* Read every chunk of every dataset of the HDF5 file at path through HDF5's filters (which
 * check each chunk's Fletcher-32 checksum), and every string dataset against its crc32
 * attribute. Works on a file too damaged to open as a trustsim output. TS_OK when the file
 * could be examined (rep says what was found: damage is not an error of the call); TS_EINPUT
 * when it is missing or not HDF5 at all. */
ts_status ts_reader_verify(const char *path, ts_verify_fn fn, void *ctx, ts_verify_report *rep,
                           ts_error *err);
ts_status ts_reader_verify_image(const void *image, size_t size, const char *name, ts_verify_fn fn,
                                 void *ctx, ts_verify_report *rep, ts_error *err);

#ifdef __cplusplus
}
#endif
#endif
