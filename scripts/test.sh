#!/usr/bin/env bash
# Install what is missing, build with address and undefined-behaviour sanitizers and warnings
# as errors, and run the whole test suite with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset ci >/dev/null
cmake --build --preset ci -j "$(nproc)"
ctest --preset ci "$@"
