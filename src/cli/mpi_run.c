/* `trustsim run` across MPI ranks (`mpirun -np K trustsim run ...`, built with
 * -DTRUSTSIM_MPI=ON): one job whose tasks go to whichever rank asks next, and the same output
 * file, dataset for dataset, as a single process writes. The library knows nothing of MPI;
 * this file drives it in three plain calls:
 *
 *  1. Rank 0 prepares the job: ts_ensemble_run with a task source that hands out nothing and
 *     no_merge, so the usual checks and --force / --resume semantics apply, and OUT.h5.parts/
 *     is created (or cleaned) with its manifest before any other rank looks at it.
 *  2. Every rank resumes that job (resume, no_merge, block_tag "r<rank>"): each lists the same
 *     tasks left, then takes them one at a time from a counter that rank 0 exposes in an MPI
 *     window (MPI_Fetch_and_op), so fast ranks take more. Resuming rather than joining means
 *     only rank 0 ever writes the manifest, and other ranks never need the scenario file.
 *  3. The ranks agree on the outcome (MPI_Allreduce), so an error anywhere makes every rank exit
 *     with the same status instead of hanging; if all went well, rank 0 merges.
 *
 * On SIGINT or SIGTERM each rank saves its finished runs; `trustsim run --resume OUT.h5`, with
 * or without mpirun, finishes the job. With --shard I/N the ranks share the I-th share of the
 * runs and leave it for `trustsim merge` (one MPI job per shard, e.g. a Slurm array of them). */
#include "cli/mpi_run.h"

#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cli/commands.h"
#include "cli/launch.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Statuses ranked by which should decide the exit status of the whole job when ranks differ:
 * a failure outranks bad input, which outranks an interruption. */
static const ts_status by_rank[] = {TS_OK, TS_EINTERRUPTED, TS_EINPUT, TS_ERUNTIME};

static long status_rank(ts_status st)
{
    for (long i = 0; i < (long)(sizeof by_rank / sizeof by_rank[0]); i++)
        if (by_rank[i] == st)
            return i;
    return 3;
}

/* ---- task sources ----------------------------------------------------------------------- */

/* Step 1: list the tasks, run none. */
static long hand_out_none(void *ctx, long n_todo)
{
    (void)ctx;
    return n_todo;
}

/* Step 2: the shared counter in rank 0's window. */
typedef struct shared_counter {
    MPI_Win win;
    int ranks;
    bool listed;      /* this rank reached ready(): its list of tasks is built */
    bool peer_failed; /* some rank could not build its list: hand out nothing */
    /* progress line (rank 0 only) */
    bool progress, drawn, drawn_last, whole_job;
    size_t runs_total;
    double started, shown;
} shared_counter;

/* Every rank calls this exactly once, from ready() or, when its ts_ensemble_run failed before
 * getting there, afterwards: so a rank that fails early releases the others instead of
 * leaving them in a barrier, and they run nothing. */
static bool all_listed(bool listed)
{
    int mine = listed, all = 0;
    MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    return all != 0;
}

static void counter_ready(void *ctx)
{
    shared_counter *c = ctx;
    c->listed = true;
    c->peer_failed = !all_listed(true);
    c->started = c->shown = now_seconds();
}

/* Runs started (by any rank) of all the job's runs: the counter is the only global view. */
static void counter_show(shared_counter *c, long started, long n_todo)
{
    double t = now_seconds();
    bool last = started == n_todo;
    if ((t - c->shown < 0.2 && !last) || (last && c->drawn_last))
        return;
    c->shown = t;
    c->drawn_last = last;
    double el = t - c->started, rate = el > 0 ? (double)started / el : 0;
    double left = rate > 0 ? (double)(n_todo - started) / rate : 0;
    /* of the whole job, or (with --shard, when other shards' runs are not done) of this share */
    size_t before = c->whole_job ? c->runs_total - (size_t)n_todo : 0;
    fprintf(stderr, "\r%zu/%zu runs started on %d ranks  %.1f runs/s  %.0f s left   ",
            before + (size_t)started, before + (size_t)n_todo, c->ranks, rate, left);
    fflush(stderr);
    c->drawn = true;
}

/* Called by one thread at a time (the library's task critical section): MPI_THREAD_SERIALIZED
 * is enough. */
static long counter_next(void *ctx, long n_todo)
{
    shared_counter *c = ctx;
    if (c->peer_failed)
        return n_todo;
    const long one = 1;
    long k = 0;
    MPI_Fetch_and_op(&one, &k, MPI_LONG, 0, 0, MPI_SUM, c->win);
    MPI_Win_flush(0, c->win);
    if (c->progress)
        counter_show(c, k < n_todo ? k + 1 : n_todo, n_todo);
    return k;
}

/* ---- the three steps -------------------------------------------------------------------- */

/* Step 1 on rank 0; returns 0 or the exit status every rank should take. With --shard this
 * joins the part directory of the other shards, as a single process would. */
static int prepare(const ts_scenario *sc, const char *out, const ts_ensemble_options *opt,
                   ts_ensemble_stats *stats)
{
    ts_task_source none = {.next = hand_out_none};
    ts_ensemble_options o = *opt;
    o.source = &none;
    o.no_merge = true;
    o.progress = false;
    ts_error err;
    ts_status st = ts_ensemble_run(sc, out, &o, stats, &err);
    if (st == TS_OK)
        return 0;
    fprintf(stderr, "trustsim: %s\n", err.msg);
    int sig = opt->stop && *opt->stop ? (int)*opt->stop : SIGINT;
    return st == TS_EINTERRUPTED ? 128 + sig : exit_for(st);
}

/* Step 2 on every rank: run tasks from the shared counter until none is left. */
static ts_status run_share(const char *out, const ts_ensemble_options *opt, int rank,
                           shared_counter *c, ts_ensemble_stats *stats)
{
    char tag[32];
    snprintf(tag, sizeof tag, "r%d", rank);
    ts_task_source source = {.ctx = c, .next = counter_next, .ready = counter_ready};
    ts_ensemble_options o = *opt;
    o.resume = true; /* the job rank 0 prepared */
    o.join = false;
    o.no_merge = true;
    o.progress = false; /* rank 0 draws its own line, from the shared counter */
    o.source = &source;
    o.block_tag = tag;
    ts_error err;
    ts_status st = ts_ensemble_run(NULL, out, &o, stats, &err);
    if (!c->listed)
        all_listed(false);
    if (c->drawn)
        fputc('\n', stderr);
    if (st != TS_OK && st != TS_EINTERRUPTED)
        fprintf(stderr, "trustsim: rank %d: %s%s\n", rank, err.msg,
                rank > 0 && st == TS_EINPUT && !c->listed
                    ? " (rank 0 has just prepared it: do all ranks see the same filesystem?)"
                    : "");
    return st;
}

static int run_ranks(const ts_scenario *sc, const char *out, const ts_ensemble_options *opt,
                     bool quiet, int failed, int rank, int ranks)
{
    double t0 = now_seconds();
    ts_ensemble_stats prep = {0};
    long first[3] = {0, 0, 0}; /* exit status of step 1, runs in the job, nothing left to do */
    if (rank == 0) {
        first[0] = failed ? failed : prepare(sc, out, opt, &prep);
        first[1] = (long)prep.runs_total;
        first[2] = prep.complete;
    }
    MPI_Bcast(first, 3, MPI_LONG, 0, MPI_COMM_WORLD);
    if (first[0] != 0)
        return (int)first[0];
    if (first[2]) { /* a resume of a job whose file is complete */
        if (rank == 0 && !quiet)
            fprintf(stderr, "%s is complete: nothing to resume\n", out);
        return 0;
    }

    long *counter = NULL;
    shared_counter c = {.ranks = ranks,
                        .progress = rank == 0 && opt->progress,
                        .whole_job = opt->shard_count <= 1,
                        .runs_total = (size_t)first[1]};
    MPI_Win_allocate(rank == 0 ? (MPI_Aint)sizeof(long) : 0, (int)sizeof(long), MPI_INFO_NULL,
                     MPI_COMM_WORLD, &counter, &c.win);
    if (rank == 0) {
        MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, c.win);
        *counter = 0;
        MPI_Win_unlock(0, c.win);
    }
    MPI_Barrier(MPI_COMM_WORLD); /* the counter is zero before anyone takes from it */
    MPI_Win_lock_all(0, c.win);
    ts_ensemble_stats stats = {0};
    ts_status st = run_share(out, opt, rank, &c, &stats);
    MPI_Win_unlock_all(c.win);
    MPI_Win_free(&c.win);

    /* step 3: the worst status of any rank, the signal that stopped any, runs saved by all */
    long mine[2] = {status_rank(st), opt->stop ? (long)*opt->stop : 0}, worst[2];
    MPI_Allreduce(mine, worst, 2, MPI_LONG, MPI_MAX, MPI_COMM_WORLD);
    unsigned long now = (unsigned long)stats.runs_now, all_now = 0;
    MPI_Allreduce(&now, &all_now, 1, MPI_UNSIGNED_LONG, MPI_SUM, MPI_COMM_WORLD);
    ts_status job = by_rank[worst[0]];
    if (job != TS_OK) {
        if (rank == 0)
            fprintf(stderr, "trustsim: %s: %zu of %zu runs are saved in %s.parts; %s%s\n",
                    job == TS_EINTERRUPTED ? "interrupted" : "stopped by an error",
                    prep.runs_before + (size_t)all_now, (size_t)first[1], out,
                    opt->shard_count > 1 ? "the same command continues this shard"
                                         : "continue with trustsim run --resume ",
                    opt->shard_count > 1 ? "" : out);
        return job == TS_EINTERRUPTED ? 128 + (worst[1] ? (int)worst[1] : SIGINT) : exit_for(job);
    }
    int rc = 0;
    if (opt->shard_count > 1) { /* the other shards are not done: `trustsim merge` joins them */
        if (rank == 0 && !quiet)
            fprintf(stderr, "saved shard %d/%d: %lu runs in %s.parts/ (%d ranks)\n",
                    opt->shard_index, opt->shard_count, all_now, out, ranks);
    } else if (rank == 0) {
        ts_error err;
        ts_status ms = ts_ensemble_merge(out, opt, NULL, &err);
        if (ms != TS_OK)
            fprintf(stderr, "trustsim: %s\n", err.msg);
        else if (!quiet)
            fprintf(stderr, "wrote %s (%zu runs on %d ranks, %.1f s)\n", out, (size_t)first[1],
                    ranks, now_seconds() - t0);
        rc = exit_for(ms);
    }
    MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return rc;
}

int ts_cli_mpi_run(const ts_scenario *sc, const char *out, const ts_ensemble_options *opt,
                   bool quiet, int failed)
{
    int provided = 0, rank = 0, ranks = 1, rc;
    if (MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "trustsim: cannot initialise MPI\n");
        return EXIT_RUNTIME;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &ranks);
    ts_cli_launch launch = ts_cli_launch_get();
    if (ranks == 1 && launch.tasks > 1) {
        /* e.g. srun --mpi=pmi2 with an MPI that speaks only PMIx: every task is a world of
         * one rank and would run the whole job */
        rc = ts_cli_launch_refuse(&launch, TS_LAUNCH_WORLD_OF_ONE);
    } else if (provided < MPI_THREAD_SERIALIZED) {
        if (rank == 0)
            fprintf(stderr, "trustsim: the MPI library does not support calls from several "
                            "threads in turn (MPI_THREAD_SERIALIZED)\n");
        rc = EXIT_RUNTIME;
    } else {
        rc = run_ranks(sc, out, opt, quiet, failed, rank, ranks);
    }
    MPI_Finalize();
    return rc;
}
