/* `trustsim run` across MPI ranks (built only with -DTRUSTSIM_MPI=ON): the entry point that
 * cmd_run calls when an MPI launcher started the process. Not part of the library, which stays
 * MPI-free; see src/cli/mpi_run.c for the design. */
#ifndef TS_CLI_MPI_RUN_H
#define TS_CLI_MPI_RUN_H

#include <stdbool.h>

#include "trustsim/ensemble.h"
#include "trustsim/scenario.h"

/* Run the ensemble of sc (NULL with opt->resume, and on every rank but 0, which alone reads
 * it) into out, sharing its tasks among all the ranks of MPI_COMM_WORLD; initialises and
 * finalises MPI. Every rank returns the same exit status (0, 1, 2, or 128 + signal when
 * stopped); rank 0 does the printing, apart from errors that only another rank saw. failed: on
 * rank 0, the exit status of an error it has already reported (reading the scenario), which
 * every rank then takes; 0 otherwise. A world of one rank where the launcher started several
 * tasks is refused (src/cli/launch.h): exit status 2, nothing written. */
int ts_cli_mpi_run(const ts_scenario *sc, const char *out, const ts_ensemble_options *opt,
                   bool quiet, int failed);

#endif
