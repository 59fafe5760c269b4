#!/usr/bin/env bash
# Install what is missing, build the optimised engine, and run the baseline scenario into
# results/baseline.h5 (replacing the previous result of this same command).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
mkdir -p results
build/release/trustsim run scenarios/baseline.yaml -o results/baseline.h5 --force "$@"
