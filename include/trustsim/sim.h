/* One simulation run: the world's mutable state and the tick loop (docs/model.md 3, 7).
 *
 * A ts_sim is a reusable workspace for runs of one model: allocate it once per thread, then
 * run replicates through it; after the first run nothing is allocated. Every draw comes from
 * the workspace's own gsl_rng, seeded per run, so a run's output depends only on the model and
 * the seed. Not thread-safe: one workspace per thread. */
#ifndef TRUSTSIM_SIM_H
#define TRUSTSIM_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "trustsim/error.h"
#include "trustsim/model.h"
#include "trustsim/result.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ts_sim ts_sim;

/* Counters over the current run, for benchmarks and tests. */
typedef struct ts_sim_counters {
    uint64_t meetings;
    uint64_t acts;
    uint64_t observations; /* judged acts seen by someone other than the actor */
    uint64_t beliefs;      /* leader-to-leader beliefs held (relationships) */
    uint64_t grows;        /* times a sparse store had to grow during the run */
    uint64_t belief_bytes; /* memory of the belief store: records and index */
    double pass_seconds;   /* time in the end-of-tick passes (trust, stages, faith) */
    uint64_t pass_bytes;   /* bytes those passes must read or write at the least: what their
                              time is measured against (the memory's bandwidth) */
} ts_sim_counters;

ts_sim *ts_sim_alloc(const ts_model *m);
void ts_sim_free(ts_sim *s);
/* Threads for the passes over beliefs and pairs at the end of every tick of this workspace's
 * runs (default 1): for a world large enough to be run a few times rather than hundreds. The
 * passes cut their work into chunks of a fixed size and add the chunks' sums in order, so a
 * run gives the same bits whatever the number. */
void ts_sim_set_threads(ts_sim *s, int threads);

/* Start a run: draw leaders, apply tick-0 events, record tick 0. */
ts_status ts_sim_start(ts_sim *s, uint64_t seed, ts_error *err);
/* Advance one tick; returns false once the horizon is reached (doing nothing) or when the run
 * has failed (ts_sim_status says why). */
bool ts_sim_step(ts_sim *s);
/* TS_OK, or the failure that stopped the run (out of memory inside the tick loop), with its
 * message in err. A failed run is never a result. */
ts_status ts_sim_status(const ts_sim *s, ts_error *err);
/* Point res at the run's series and final state (valid until the next ts_sim_start). */
void ts_sim_result(ts_sim *s, ts_run_result *res);
/* start, step to the horizon, result. */
ts_status ts_sim_run(ts_sim *s, uint64_t seed, ts_run_result *res, ts_error *err);

/* Read-only views of the current state. */
int ts_sim_tick(const ts_sim *s);
/* Leader x's trust in leader y (the prior when x does not know y). */
double ts_sim_trust(const ts_sim *s, int x, int y);
/* Whether x holds a belief about y formed from evidence. */
bool ts_sim_knows(const ts_sim *s, int x, int y);
/* Inter-organisational trust TO_op, as of the last completed tick (NaN if no pair). */
double ts_sim_interorg(const ts_sim *s, int o, int p);
int ts_sim_stage(const ts_sim *s, int o, int p);
double ts_sim_faith(const ts_sim *s, int o);
bool ts_sim_active(const ts_sim *s, int o);
/* Value of a metric at the last recorded tick. */
double ts_sim_metric(const ts_sim *s, int metric);
ts_sim_counters ts_sim_get_counters(const ts_sim *s);

#ifdef __cplusplus
}
#endif
#endif
