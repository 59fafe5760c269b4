#!/usr/bin/env bash
# Coverage-guided fuzzing of everything trustsim reads from outside: scenario files, --set
# overrides, sweep designs, the blocks of finished runs and output files (fuzz/fuzz_*.c).
#
#   scripts/fuzz.sh SECONDS [TARGET...]   # every target (or those named) for SECONDS each
#
# Builds the targets with clang's libFuzzer and the address and undefined-behaviour sanitizers
# (cmake --preset fuzz), seeds each (fuzz/make-seeds.sh: scenarios/, tests/data/, fuzz/seeds/
# and small runs made here), and runs them one after another, niced. Fails on a crash, a leak, a hang (an input
# taking more than 25 s), running out of memory, or any sanitizer report; the input is kept in
# build/fuzz/artifacts/TARGET/ and the log in build/fuzz/logs/TARGET.log. Keep a crashing input
# as a regression test by copying it to fuzz/regressions/TARGET/ (the test suite replays them).
# What the fuzzers learn stays in build/fuzz/corpus/, so that later runs go on from there.
# FUZZ_SEED=N picks libFuzzer's random seed (default 1, the same run every time; 0: a new one);
# TRUSTSIM_SEED_CLI=PATH makes the seed files with that trustsim instead of building one here.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:?usage: scripts/fuzz.sh SECONDS [TARGET...]}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(scenario set sweep block output)

root=build/fuzz
for t in "${targets[@]}"; do
  [ -f "fuzz/fuzz_$t.c" ] || { echo "fuzz: no target '$t' (fuzz/fuzz_$t.c)" >&2; exit 2; }
done
# the seeds' outputs and blocks are made with TRUSTSIM_SEED_CLI if given (any build's
# trustsim), else with the command of this build
cli=${TRUSTSIM_SEED_CLI:-$root/trustsim}
build=("${targets[@]/#/fuzz_}")
[ -n "${TRUSTSIM_SEED_CLI:-}" ] || build+=(trustsim_cli)

scripts/setup.sh
cmake --preset fuzz >/dev/null
nice -n 10 cmake --build --preset fuzz -j 2 --target "${build[@]}" >/dev/null

seeds=$root/seeds
rm -rf "$seeds"
mkdir -p "$root/logs"
for t in "${targets[@]}"; do
  mkdir -p "$root/corpus/$t" "$root/artifacts/$t" "fuzz/regressions/$t"
done
fuzz/make-seeds.sh "$cli" "$seeds"

# The same mutations every time unless FUZZ_SEED says otherwise (0: a new seed each run), so
# that a short run that passed here passes everywhere; long runs should vary it.
seed=${FUZZ_SEED:-1}
# Leaks inside HDF5 are not trustsim's (tests/lsan.supp).
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0:${LSAN_OPTIONS:-}"
status=0
for t in "${targets[@]}"; do
  log=$root/logs/$t.log
  if nice -n 10 "$root/fuzz_$t" "$root/corpus/$t" "$seeds/$t" "fuzz/regressions/$t" \
       -seed="$seed" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
       -artifact_prefix="$root/artifacts/$t/" -print_final_stats=1 >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
    echo "fuzz: $t: ${runs:-?} inputs in ${seconds} s, $cov, nothing found"
  else
    echo "fuzz: $t: FOUND a problem (log: $log, input: $root/artifacts/$t/)" >&2
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|ALARM|.*deadly signal|.*out-of-memory)' \
      "$log" | head -n 5 >&2 || true
    status=1
  fi
done
exit $status
