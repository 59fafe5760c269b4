/* Batch running: every (sweep point, replicate) of a scenario as an independent task, run in
 * parallel with OpenMP and streamed to one HDF5 file by a single writer.
 *
 * Each task seeds its own generator from (master seed, point, replicate), so the file's
 * datasets are the same whatever the number of threads. Not the model (sim.h) and not the
 * file format (output.h): this is the scheduler between them. */
#ifndef TRUSTSIM_ENSEMBLE_H
#define TRUSTSIM_ENSEMBLE_H

#include <stdbool.h>

#include "trustsim/error.h"
#include "trustsim/scenario.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ts_ensemble_options {
    int threads;   /* 0: all available cores */
    bool force;    /* replace an existing output */
    bool progress; /* draw a progress line on stderr */
} ts_ensemble_options;

/* Run sc (its seed, replicates and sweep) and write `out_path`. */
ts_status ts_ensemble_run(const ts_scenario *sc, const char *out_path,
                          const ts_ensemble_options *opt, ts_error *err);

#ifdef __cplusplus
}
#endif
#endif
