#!/usr/bin/env bash
# Run every test executable under valgrind's memcheck (a build without sanitizers): any
# invalid access, use of uninitialised memory or definite leak fails. The trustsim processes
# that some tests start are checked by running the command itself under valgrind on a small
# ensemble at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset memcheck >/dev/null
cmake --build --preset memcheck -j "$(nproc)"
vg=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
    --show-leak-kinds=definite --track-origins=yes)
status=0
cd build/memcheck/tests
for t in ./test_*; do
  [ -x "$t" ] || continue
  case "$t" in *test_mpi*) continue ;; esac   # MPI runtimes are not valgrind-clean by themselves
  if "${vg[@]}" "$t" >"$t.memcheck.log" 2>&1; then
    echo "memcheck: $t clean"
  else
    echo "memcheck: $t FAILED (build/memcheck/tests/$t.memcheck.log)"; tail -30 "$t.memcheck.log"
    status=1
  fi
done
cd ../../..
tmp=$(mktemp -d)
if "${vg[@]}" build/memcheck/trustsim run scenarios/example.yaml -o "$tmp/m.h5" -q -j 2 \
     --replicates 3 --set ticks=40 --block-runs 2; then
  echo "memcheck: trustsim run clean"
else
  echo "memcheck: trustsim run FAILED"; status=1
fi
rm -rf "$tmp"
exit $status
