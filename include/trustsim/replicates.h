/* Running seeded replicates in parallel: the one loop behind the ensemble (ensemble.h: every
 * sweep point and replicate of a scenario, saved as they finish) and the calibration
 * (calibrate.h: the replicates of one candidate parameter set, run again at every point the
 * simplex tries).
 *
 * Each OpenMP thread owns one workspace (sim.h) and, when tasks belong to several sweep points,
 * the model of the point it is running; tasks are handed out one at a time, so threads that
 * finish early take more. Task (point, replicate) runs with the seed
 * ts_seed_hash(master, point, replicate), whatever thread runs it, so a task's result never
 * depends on the number of threads or the order tasks finish in: a caller that files each
 * result under its task gets the same bits on one thread or many. Not for: which tasks there
 * are, or where results go (the caller's next and take). */
#ifndef TRUSTSIM_REPLICATES_H
#define TRUSTSIM_REPLICATES_H

#include <stdbool.h>
#include <stdint.h>

#include "trustsim/error.h"
#include "trustsim/model.h"
#include "trustsim/params.h"
#include "trustsim/result.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One run to make. */
typedef struct ts_replicate_task {
    uint64_t index;     /* the caller's own number for the task, handed back to take */
    long point;         /* the sweep point: which model runs */
    uint64_t replicate; /* the replicate: with point, it fixes the seed */
} ts_replicate_task;

typedef struct ts_replicates {
    int threads;   /* OpenMP threads; 0: the OpenMP default. Never more than n_tasks. */
    long n_tasks;  /* how many tasks next can hand out at most (sizes the thread team) */
    uint64_t seed; /* master seed */
    int until;     /* simulate ticks up to this one, then stop; < 0: to the horizon */
    void *ctx;     /* passed to the callbacks */
    /* The next task; false when there is none (or the caller wants to stop: tasks started
     * finish and are taken). Called by one thread at a time. */
    bool (*next)(void *ctx, ts_replicate_task *task);
    /* The model every task runs, shared read-only by the threads; or NULL, and then ... */
    const ts_model *model;
    /* ... the parameters of sweep point `point` into *out (a deep copy: the thread builds its
     * model from them, and frees both when it moves to another point or ends). */
    ts_status (*params)(void *ctx, long point, ts_params *out, ts_error *err);
    /* A finished run, on the thread that ran it: res is valid during the call only. With
     * take_in_turn, one call at a time; otherwise concurrently with other threads' calls, and
     * take must write only where this task's result belongs. */
    ts_status (*take)(void *ctx, const ts_replicate_task *task, const ts_run_result *res,
                      ts_error *err);
    bool take_in_turn;
    /* With fewer tasks than threads (a large world run a few times), the spare threads work
     * inside the runs, on their end-of-tick passes (ts_sim_set_threads); the bits are the same
     * either way. For a caller whose n_tasks is shared with other processes, leave it false. */
    bool spare_threads_in_runs;
    /* What a failure to allocate a run's state is reported about (the output, say), or NULL. */
    const char *name;
} ts_replicates;

/* Run the tasks next hands out, each through take. The first failure (of a run, of params or
 * of take) stops every thread after its current run; runs finishing after it are not taken,
 * and its status and message are returned. */
ts_status ts_replicates_run(const ts_replicates *plan, ts_error *err);

#ifdef __cplusplus
}
#endif
#endif
