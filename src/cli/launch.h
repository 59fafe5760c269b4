/* What a launcher (srun, mpirun, mpiexec) says in the environment about the processes it
 * started together with this one, and the refusal to run as one of several of them when they
 * could not share the work. Only `trustsim run` of an MPI build shares a job among tasks
 * (src/cli/mpi_run.c); any other process started as one of K tasks would do the whole job K
 * times and write the same files from K processes at once. */
#ifndef TS_CLI_LAUNCH_H
#define TS_CLI_LAUNCH_H

#include <stdbool.h>

typedef struct ts_cli_launch {
    long tasks;            /* processes started together (1 when no launcher says otherwise) */
    const char *tasks_var; /* the variable that says how many, NULL when none does */
    int rank;              /* this process's index among them (0 when none is given) */
    bool mpi;              /* an MPI process manager started it (mpirun, srun with PMI or PMIx) */
} ts_cli_launch;

/* Read the launcher's environment. */
ts_cli_launch ts_cli_launch_get(void);

/* Why a process started as one of several tasks must not run: */
typedef enum ts_cli_launch_why {
    TS_LAUNCH_NO_MPI,       /* this build has no MPI */
    TS_LAUNCH_NOT_SHARED,   /* the command (not `run`) does not share its work */
    TS_LAUNCH_NO_PMI,       /* no MPI process manager started the tasks (srun without PMI) */
    TS_LAUNCH_WORLD_OF_ONE, /* MPI was initialised but reports a world of one rank */
} ts_cli_launch_why;

/* Say (from the task of rank 0 only, so the message appears once) that this process is one of
 * l->tasks, why they cannot share the work and what to do instead; returns EXIT_USAGE. */
int ts_cli_launch_refuse(const ts_cli_launch *l, ts_cli_launch_why why);

#endif
