/* Batch running: every (sweep point, replicate) of a scenario as an independent task, run in
 * parallel with OpenMP (and across processes: shards, MPI ranks), saved as it goes, and
 * merged into one HDF5 file.
 *
 * Each task seeds its own generator from (master seed, point, replicate), so the datasets of
 * the final file are the same whatever the number of threads, processes or interruptions.
 * Finished runs are saved in blocks in OUT.h5.parts/ (see src/io/blocks.h); the final OUT.h5 is
 * written from the blocks once every task is done, and the part directory removed. Blocks are
 * checked when they are read back (checksums, the job they belong to): a block that fails is
 * set aside in OUT.h5.damaged/, named in a warning, and its runs run again, so that damage to
 * saved work costs time, never a wrong result. Not the model (sim.h) and not the file layout
 * (output.h): this is the scheduler between them. */
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

/* Where a process gets its next task from, when several processes share one job (MPI ranks).
 * Every process builds the same list of tasks still to do; next() returns the next index into
 * that list for this process (>= n_todo when none is left) and is called by one thread at a
 * time. ready() is called once the list is built, before any task runs (a barrier, so that no
 * process has saved anything when another builds its list). */
typedef struct ts_task_source {
    void *ctx;
    long (*next)(void *ctx, long n_todo);
    void (*ready)(void *ctx);
} ts_task_source;

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
    const ts_task_source *source; /* NULL: this process runs every task left */
    bool join;     /* accept a part directory of the same job already under way */
    bool no_merge; /* leave the saved runs for ts_ensemble_merge */
    const char *block_tag; /* distinguishes this process's block files (NULL: automatic) */
    /* Told each thing the caller should know that is not an error (a damaged block set
     * aside); NULL: nobody is told. Called from the calling thread. */
    void (*warn)(void *ctx, const char *message);
    void *warn_ctx;
} ts_ensemble_options;

typedef struct ts_ensemble_stats {
    size_t runs_total;    /* points x replicates */
    size_t runs_before;   /* already saved when this call started (resume) */
    size_t runs_now;      /* run and saved by this call */
    double seconds;       /* wall time of the call */
    double seconds_saving; /* of which writing blocks and the final file */
    bool merged;          /* the final file was written (or was complete already) */
    bool complete;        /* resume or merge found the final file complete: nothing to do */
    size_t blocks_set_aside; /* damaged blocks moved to OUT.h5.damaged/ (their runs ran again) */
} ts_ensemble_stats;

/* Run a scenario (or, with opt->resume, the unfinished run at out_path: sc may be NULL) and
 * write out_path. stats may be NULL. */
ts_status ts_ensemble_run(const ts_scenario *sc, const char *out_path,
                          const ts_ensemble_options *opt, ts_ensemble_stats *stats,
                          ts_error *err);

/* Join the blocks saved in out_path.parts/ (by shards or an interrupted run) into out_path.
 * Every block is checked first; when one is set aside, the runs not done are run here (a
 * damaged block may not say which runs it held), with opt's threads, progress, stop and warn
 * (its shard, source and resume fields are ignored); otherwise runs missing are an error. */
ts_status ts_ensemble_merge(const char *out_path, const ts_ensemble_options *opt,
                            ts_ensemble_stats *stats, ts_error *err);

#ifdef __cplusplus
}
#endif
#endif
