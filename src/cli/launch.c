/* The launcher's environment: how many processes it started together with this one. Read by
 * every command before it does anything, so that `srun -n 2 trustsim ...` without an MPI
 * process manager fails at once instead of running the job twice (and failing at the end, when
 * the second copy finds the first one's output in place). Not the MPI code: src/cli/mpi_run.c.
 *
 * The task count is taken from the most specific launcher first: an MPI launcher's own
 * variables, then srun's SLURM_STEP_NUM_TASKS (set in the tasks of a job step, not in a batch
 * script). SLURM_NTASKS is not used: a batch script of a job with several tasks has it too,
 * and a command run there directly is one process. The ranks of an mpirun inside a Slurm job
 * may inherit srun's variables (mpirun starts its daemons on the other nodes with srun), hence
 * the MPI launchers' own variables first. */
#include "cli/launch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/commands.h"

/* A positive integer in variable name, or 0. */
static long env_count(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return 0;
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    return *end || errno || n < 1 ? 0 : n;
}

ts_cli_launch ts_cli_launch_get(void)
{
    static const char *const size_vars[] = {
        "OMPI_COMM_WORLD_SIZE", /* Open MPI's mpirun */
        "PMI_SIZE",             /* PMI-1/2: MPICH and Intel MPI (hydra), srun --mpi=pmi2 */
        "MV2_COMM_WORLD_SIZE",  /* MVAPICH2's mpirun_rsh */
        "SLURM_STEP_NUM_TASKS", /* srun, with or without an MPI plugin */
    };
    static const char *const rank_vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK",
                                            "MV2_COMM_WORLD_RANK", "SLURM_PROCID"};
    static const char *const mpi_vars[] = {
        "OMPI_COMM_WORLD_SIZE", /* Open MPI's mpirun */
        "PMIX_RANK",            /* PMIx: Open MPI, srun --mpi=pmix */
        "PMI_RANK",             /* PMI-1/2: MPICH and Intel MPI (hydra), srun --mpi=pmi2 */
        "PMI_SIZE",
    };
    ts_cli_launch l = {.tasks = 1};
    for (size_t i = 0; i < sizeof size_vars / sizeof size_vars[0]; i++) {
        long n = env_count(size_vars[i]);
        if (n) {
            l.tasks = n;
            l.tasks_var = size_vars[i];
            break;
        }
    }
    for (size_t i = 0; i < sizeof rank_vars / sizeof rank_vars[0]; i++) {
        const char *v = getenv(rank_vars[i]);
        if (v && *v) {
            l.rank = atoi(v);
            break;
        }
    }
    for (size_t i = 0; i < sizeof mpi_vars / sizeof mpi_vars[0]; i++)
        if (getenv(mpi_vars[i]))
            l.mpi = true;
    return l;
}

int ts_cli_launch_refuse(const ts_cli_launch *l, ts_cli_launch_why why)
{
    static const char *const mpi_advice =
        "Start the tasks with srun --mpi=pmix (or export SLURM_MPI_TYPE=pmix before srun; "
        "srun --mpi=list shows what the cluster offers), or with the mpirun of the MPI trustsim "
        "was built with (LAUNCHER=mpirun for scripts/slurm/sweep_mpi.sbatch).";
    const char *what = "", *advice = mpi_advice;
    switch (why) {
    case TS_LAUNCH_NO_MPI:
        what = "this trustsim was built without MPI";
        advice = "Start one task (srun --ntasks=1), or use a job array "
                 "(scripts/slurm/sweep_array.sbatch), or build trustsim with -DTRUSTSIM_MPI=ON "
                 "and start the tasks with srun --mpi=pmix or mpirun.";
        break;
    case TS_LAUNCH_NOT_SHARED:
        what = "only `trustsim run` shares its work among tasks";
        advice = "Start it as one task (srun --ntasks=1).";
        break;
    case TS_LAUNCH_NO_PMI:
        what = "no MPI process manager started them (srun without a PMI plugin: --mpi=none, "
               "or the cluster's MpiDefault=none)";
        break;
    case TS_LAUNCH_WORLD_OF_ONE:
        what = "MPI reports a world of one rank (the launcher's process manager is not one "
               "this MPI library can use)";
        break;
    }
    if (l->rank == 0)
        fprintf(stderr,
                "trustsim: this process is one of %ld tasks started together (%s=%ld), but %s: "
                "each would run the whole job by itself and write the same files. %s Nothing "
                "was written.\n",
                l->tasks, l->tasks_var ? l->tasks_var : "?", l->tasks, what, advice);
    return EXIT_USAGE;
}
