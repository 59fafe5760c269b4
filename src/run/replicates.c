/* Seeded replicates in parallel (see include/trustsim/replicates.h): the thread team, each
 * thread's workspace and model, and the first failure. */
#include "trustsim/replicates.h"

#include <errno.h>
#include <omp.h>
#include <string.h>

#include "trustsim/rng.h"
#include "trustsim/scenario.h"
#include "trustsim/sim.h"

/* A thread's state: the sweep point whose model and workspace it holds. */
typedef struct worker {
    long point;            /* -1: none */
    const ts_model *model; /* plan->model, or built */
    ts_params params;      /* from plan->params, when built is set */
    ts_model *built;
    ts_sim *sim;
} worker;

static void worker_clear(worker *w)
{
    ts_sim_free(w->sim);
    if (w->built) {
        ts_model_free(w->built);
        ts_params_destroy(&w->params);
    }
    *w = (worker){.point = -1};
}

/* Make w ready for a task of `point`. */
static ts_status worker_prepare(worker *w, const ts_replicates *plan, long point, ts_error *err)
{
    if (w->sim && (plan->model || w->point == point))
        return TS_OK;
    worker_clear(w);
    w->point = point;
    if (!plan->model) {
        ts_status st = plan->params(plan->ctx, point, &w->params, err);
        if (st != TS_OK)
            return st;
        st = ts_model_build(&w->built, &w->params, err);
        if (st != TS_OK) {
            ts_params_destroy(&w->params);
            return st;
        }
    }
    w->model = plan->model ? plan->model : w->built;
    if (!(w->sim = ts_sim_alloc(w->model)))
        return ts_error_set(err, TS_ERUNTIME, "%s%sout of memory for the state of a run (%s)",
                            plan->name ? plan->name : "", plan->name ? ": " : "", strerror(ENOMEM));
    return TS_OK;
}

/* Run one task through workspace s; a failure names the task. */
static ts_status run_task(ts_sim *s, const ts_replicates *plan, const ts_replicate_task *task,
                          ts_run_result *res, ts_error *err)
{
    uint64_t seed = ts_seed_hash(plan->seed, (uint64_t)task->point, task->replicate);
    ts_status st;
    if (plan->until < 0) {
        st = ts_sim_run(s, seed, res, err);
    } else if ((st = ts_sim_start(s, seed, err)) == TS_OK) {
        while (ts_sim_tick(s) < plan->until && ts_sim_step(s)) {
        }
        if ((st = ts_sim_status(s, err)) == TS_OK)
            ts_sim_result(s, res);
    }
    if (st != TS_OK) {
        ts_error why = *err;
        ts_error_set(err, st, "run of point %ld, replicate %llu: %s", task->point,
                     (unsigned long long)task->replicate, why.msg);
    }
    return st;
}

/* Hand a finished run to take, unless another thread has failed meanwhile. */
static ts_status take_unless_failed(const ts_replicates *plan, const ts_replicate_task *task,
                                    const ts_run_result *res, int *failed, ts_error *err)
{
    int stop;
#pragma omp atomic read
    stop = *failed;
    return stop ? TS_OK : plan->take(plan->ctx, task, res, err);
}

ts_status ts_replicates_run(const ts_replicates *plan, ts_error *err)
{
    int threads = plan->threads > 0 ? plan->threads : omp_get_max_threads();
    int inner = 1, levels = omp_get_max_active_levels();
    if (plan->n_tasks < threads) {
        int outer = plan->n_tasks > 0 ? (int)plan->n_tasks : 1;
        if (plan->spare_threads_in_runs && plan->n_tasks > 0 && threads / outer > 1) {
            inner = threads / outer;
            omp_set_max_active_levels(2);
        }
        threads = outer;
    }
    int failed = 0;
    ts_status first = TS_OK;
#pragma omp parallel num_threads(threads)
    {
        worker w = {.point = -1};
        ts_error local;
        for (;;) {
            int stop;
#pragma omp atomic read
            stop = failed;
            ts_replicate_task task;
            bool more = false;
            if (!stop) {
#pragma omp critical(ts_replicates_next)
                more = plan->next(plan->ctx, &task);
            }
            if (!more)
                break;
            ts_run_result res;
            ts_status st = worker_prepare(&w, plan, task.point, &local);
            if (st == TS_OK) {
                ts_sim_set_threads(w.sim, inner);
                st = run_task(w.sim, plan, &task, &res, &local);
            }
            if (st == TS_OK && plan->take_in_turn) {
#pragma omp critical(ts_replicates_take)
                st = take_unless_failed(plan, &task, &res, &failed, &local);
            } else if (st == TS_OK) {
                st = take_unless_failed(plan, &task, &res, &failed, &local);
            }
            if (st != TS_OK) {
#pragma omp critical(ts_replicates_fail)
                {
                    if (first == TS_OK) {
                        first = st;
                        if (err)
                            *err = local;
                    }
                }
#pragma omp atomic write
                failed = 1;
                break;
            }
        }
        worker_clear(&w);
    }
    omp_set_max_active_levels(levels);
    return first;
}
