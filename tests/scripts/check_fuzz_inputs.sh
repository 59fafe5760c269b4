#!/usr/bin/env bash
# Every fuzz target (fuzz/fuzz_*.c) in this build, with fuzz/replay.c as its main, on its seeds
# (fuzz/make-seeds.sh) and on every input a fuzzer once found crashing, leaking or hanging
# (fuzz/regressions/TARGET/): each must be read or refused with an error, without a crash, a
# leak or a sanitizer report. scripts/fuzz.sh does the fuzzing itself.
#
#   check_fuzz_inputs.sh TRUSTSIM BUILD_DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
ts=$1
bin=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$root/fuzz/make-seeds.sh" "$ts" "$tmp"
# leaks inside HDF5 are not trustsim's (tests/lsan.supp)
export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp:print_suppressions=0:${LSAN_OPTIONS:-}"
status=0
n=0
for replay in "$bin"/fuzz_*_replay; do
  t=$(basename "$replay" _replay)
  t=${t#fuzz_}
  inputs=("$tmp/$t")
  [ -d "$root/fuzz/regressions/$t" ] && inputs+=("$root/fuzz/regressions/$t")
  if "$replay" "${inputs[@]}" >"$tmp/$t.log" 2>&1; then
    echo "fuzz_inputs: $t: $(tail -n 1 "$tmp/$t.log" | sed 's/.*: //')"
  else
    echo "fuzz_inputs: $t FAILED:" >&2
    tail -n 30 "$tmp/$t.log" >&2
    status=1
  fi
  n=$((n + 1))
done
[ "$n" -ge 5 ] || { echo "fuzz_inputs: only $n replay targets in $bin" >&2; exit 1; }
exit $status
