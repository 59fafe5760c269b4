#!/usr/bin/env bash
# Install what is missing, then run the whole test suite in two builds (tests/CMakeLists.txt):
# the sanitizer build (address and undefined-behaviour sanitizers, MPI, warnings as errors)
# runs every test of trustsim's own; the optimised build without sanitizers runs the fast unit
# tests and the command under valgrind, the behaviour tests at full power and the analysis
# and report scripts; then a short run of every fuzz target (scripts/fuzz.sh). Extra arguments
# go to both ctest runs (e.g. -R ensemble). The suite's slurm_recipes test starts a one-node
# Slurm on localhost (scripts/slurm/local-cluster.sh; root) and stops it when done.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
jobs=$(nproc)
cmake --preset ci >/dev/null
cmake --preset memcheck >/dev/null
cmake --build --preset ci -j "$jobs"
cmake --build --preset memcheck -j "$jobs"
# twice as many tests as cores: many of them wait (for processes they start, signals, mpirun)
status=0
ctest --preset ci -j $((2 * jobs)) "$@" || status=1
ctest --preset memcheck -j $((2 * jobs)) "$@" || status=1
if [ $# -eq 0 ]; then
  TRUSTSIM_SEED_CLI=build/memcheck/trustsim scripts/fuzz.sh "${TRUSTSIM_FUZZ_SECONDS:-5}" ||
    status=1
fi
exit $status
