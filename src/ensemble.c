/* The batch runner (see include/trustsim/ensemble.h). */
#include "trustsim/ensemble.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "trustsim/metrics.h"
#include "trustsim/model.h"
#include "trustsim/output.h"
#include "trustsim/rng.h"
#include "trustsim/sim.h"

static const char *tick_unit_name(ts_tick_unit u)
{
    return ts_tick_unit_name(u);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void show_progress(size_t done, size_t total, double started)
{
    double el = now_seconds() - started;
    double rate = el > 0 ? (double)done / el : 0;
    double left = rate > 0 ? (double)(total - done) / rate : 0;
    fprintf(stderr, "\r%zu/%zu runs  %.1f runs/s  %.0f s left   ", done, total, rate, left);
    if (done == total)
        fputc('\n', stderr);
    fflush(stderr);
}

ts_status ts_ensemble_run(const ts_scenario *sc, const char *out_path,
                          const ts_ensemble_options *opt, ts_error *err)
{
    const ts_params *p = &sc->params;
    ts_model *model = NULL;
    ts_status st = ts_model_build(&model, p, err);
    if (st != TS_OK)
        return st;

    int n_metrics = ts_metric_count(p->mode);
    const char **metric_names = calloc((size_t)n_metrics, sizeof *metric_names);
    const char **org_names = calloc((size_t)model->n_orgs + 1, sizeof *org_names);
    char *resolved = ts_params_to_yaml(p);
    if (!metric_names || !org_names || !resolved) {
        st = ts_error_set(err, TS_ERUNTIME, "out of memory");
        goto done;
    }
    for (int i = 0; i < n_metrics; i++)
        metric_names[i] = ts_metric_name(i);
    for (int o = 0; o < model->n_orgs; o++)
        org_names[o] = model->org_name[o];

    size_t n_points = 1, n_reps = (size_t)p->replicates;
    ts_output_spec spec = {
        .scenario_name = p->name,
        .master_seed = p->seed,
        .rng_type = ts_rng_name(),
        .tick_unit = tick_unit_name(p->tick_unit),
        .scenario_text = sc->text,
        .resolved_text = resolved,
        .n_points = n_points,
        .n_replicates = n_reps,
        .n_times = p->ticks + 1,
        .metric_names = metric_names,
        .n_metrics = n_metrics,
        .org_names = org_names,
        .n_orgs = model->n_orgs,
        .force = opt->force,
    };
    ts_output *out = NULL;
    st = ts_output_create(&out, out_path, &spec, err);
    if (st != TS_OK)
        goto done;

    size_t total = n_points * n_reps, finished = 0;
    int threads = opt->threads > 0 ? opt->threads : omp_get_max_threads();
    double started = now_seconds();
    ts_status run_st = TS_OK;
#pragma omp parallel num_threads(threads)
    {
        ts_sim *sim = ts_sim_alloc(model);
        ts_error local_err;
        if (!sim) {
#pragma omp critical(ts_writer)
            run_st = ts_error_set(err, TS_ERUNTIME, "out of memory allocating a run");
        }
#pragma omp for schedule(dynamic, 1)
        for (size_t task = 0; task < total; task++) {
            if (!sim || run_st != TS_OK)
                continue;
            size_t point = task / n_reps, rep = task % n_reps;
            ts_run_result res;
            ts_status s1 = ts_sim_run(sim, ts_seed_hash(p->seed, point, rep), &res, &local_err);
#pragma omp critical(ts_writer)
            {
                if (s1 == TS_OK && run_st == TS_OK)
                    s1 = ts_output_write_run(out, point, rep, &res, &local_err);
                if (s1 != TS_OK && run_st == TS_OK) {
                    run_st = s1;
                    *err = local_err;
                }
                finished++;
                if (opt->progress)
                    show_progress(finished, total, started);
            }
        }
        ts_sim_free(sim);
    }
    if (run_st != TS_OK) {
        ts_output_abort(out);
        st = run_st;
    } else {
        st = ts_output_close(out, err);
    }
done:
    free(metric_names);
    free(org_names);
    free(resolved);
    ts_model_free(model);
    return st;
}
