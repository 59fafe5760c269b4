/* The commands of the `trustsim` executable and what they share. Each command takes its own
 * argv (argv[0] is the command name) and returns the process exit status. */
#ifndef TS_CLI_COMMANDS_H
#define TS_CLI_COMMANDS_H

#include <stdbool.h>

#include "trustsim/error.h"
#include "trustsim/scenario.h"

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

/* Print "trustsim: <message>" and the usage text to stderr; returns EXIT_USAGE. */
int usage_error(const char *usage, const char *fmt, const char *arg);
/* The exit status for a library status: 0, 1 (runtime) or 2 (input). */
int exit_for(ts_status st);

/* Whether s is a whole number from lo to hi, in decimal digits only (no sign, no spaces, no
 * overflow); *v gets it. */
bool parse_whole(const char *s, unsigned long long lo, unsigned long long hi,
                 unsigned long long *v);
/* Whether s is a finite number > 0; *v gets it. */
bool parse_positive(const char *s, double *v);
/* Load a scenario and apply the overrides sets[0..n_sets) ("path=value"); on failure sc holds
 * nothing. */
ts_status load_scenario(ts_scenario *sc, const char *path, char *const *sets, int n_sets,
                        ts_error *err);

int cmd_run(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_schema(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_sensitivity(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);

#endif
