#!/usr/bin/env bash
# Install what is missing, then run the whole test suite two ways: every test executable (and
# the command on a small ensemble) under valgrind's memcheck in a build without sanitizers, and
# the suite with ctest in a build with address and undefined-behaviour sanitizers and warnings
# as errors. Extra arguments go to ctest. The suite's slurm_recipes test starts a one-node Slurm
# on localhost (scripts/slurm/local-cluster.sh; root) and stops it when done.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/memcheck.sh
cmake --preset ci >/dev/null
cmake --build --preset ci -j "$(nproc)"
ctest --preset ci "$@"
