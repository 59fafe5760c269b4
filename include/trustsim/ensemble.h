/* Batch running: every (sweep point, replicate) of a scenario as an independent task, run in
 * parallel with OpenMP (and across processes: shards, MPI ranks), saved as it goes, and
 * merged into one HDF5 file.
 *
 * Each task seeds its own generator from (master seed, point, replicate), so the datasets of
 * the final file are the same whatever the number of threads, processes or interruptions.
 * Finished runs are saved in blocks in OUT.h5.parts/ (see src/blocks.h); the final OUT.h5 is
 * written from the blocks once every task is done, and the part directory removed. Not the
 * model (sim.h) and not the file layout (output.h): this is the scheduler between them. */
#ifndef TRUSTSIM_ENSEMBLE_H
#define TRUSTSIM_ENSEMBLE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "trustsim/error.h"
#include "trustsim/scenario.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ts_ensemble_options {
    int threads;         /* 0: all available cores */
    bool force;          /* replace an existing output (and any unfinished part directory) */
    bool progress;       /* draw a progress line on stderr */
    bool resume;         /* continue the unfinished run saved in OUT.h5.parts/ */
    int shard_index;     /* run only tasks with task % shard_count == shard_index ... */
    int shard_count;     /* ... and leave them in the part directory for `merge` (1: no) */
    int block_runs;      /* runs per saved block (0: automatic) */
    double block_seconds; /* save a block at least this often (0: 30 s) */
    volatile sig_atomic_t *stop; /* when it becomes non-zero, save and return TS_EINTERRUPTED */
} ts_ensemble_options;

typedef struct ts_ensemble_stats {
    size_t runs_total;    /* points x replicates */
    size_t runs_before;   /* already saved when this call started (resume) */
    size_t runs_now;      /* run and saved by this call */
    double seconds;       /* wall time of the call */
    double seconds_saving; /* of which writing blocks and the final file */
    bool merged;          /* the final file was written */
} ts_ensemble_stats;

/* Run a scenario (or, with opt->resume, the unfinished run at out_path: sc may be NULL) and
 * write out_path. stats may be NULL. */
ts_status ts_ensemble_run(const ts_scenario *sc, const char *out_path,
                          const ts_ensemble_options *opt, ts_ensemble_stats *stats,
                          ts_error *err);

/* Join the blocks saved in out_path.parts/ (by shards or an interrupted run) into out_path. */
ts_status ts_ensemble_merge(const char *out_path, bool force, ts_ensemble_stats *stats,
                            ts_error *err);

#ifdef __cplusplus
}
#endif
#endif
