/* `trustsim run` across MPI ranks (built only with -DTRUSTSIM_MPI=ON): the entry point that
 * cmd_run calls when an MPI launcher started the process. Not part of the library, which stays
 * MPI-free; see src/cli/mpi_run.c for the design. */
#ifndef TS_CLI_MPI_RUN_H
#define TS_CLI_MPI_RUN_H

#include <stdbool.h>

#include "trustsim/ensemble.h"
#include "trustsim/scenario.h"

/* True when an MPI launcher (mpirun, mpiexec, srun with a PMI plugin) started this process,
 * judged from the environment it sets; a plain `trustsim run` never initialises MPI. */
bool ts_cli_mpi_launched(void);

/* This process's rank as the launcher's environment gives it, before MPI is initialised (0 if
 * it gives none). */
int ts_cli_mpi_env_rank(void);

/* Run the ensemble of sc (NULL with opt->resume, and on every rank but 0, which alone reads
 * it) into out, sharing its tasks among all the ranks of MPI_COMM_WORLD; initialises and finalises MPI. Every rank returns the same exit
 * status (0, 1, 2, or 128 + signal when stopped); rank 0 does the printing, apart from errors
 * that only another rank saw. failed: on rank 0, the exit status of an error it has already
 * reported (reading the scenario), which every rank then takes; 0 otherwise. */
int ts_cli_mpi_run(const ts_scenario *sc, const char *out, const ts_ensemble_options *opt,
                   bool quiet, int failed);

#endif
