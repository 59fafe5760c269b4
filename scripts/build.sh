#!/usr/bin/env bash
# Install what is missing and build the optimised engine in build/release (the first step of
# run.sh and reproduce.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"
