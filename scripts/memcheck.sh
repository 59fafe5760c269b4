#!/usr/bin/env bash
# valgrind's memcheck alone: the fast unit tests and the command on a small ensemble, in the
# optimised build without sanitizers (labels memcheck of tests/CMakeLists.txt). Any invalid
# access, use of uninitialised memory or definite leak fails. scripts/test.sh runs it with the
# rest; extra arguments go to ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset memcheck >/dev/null
cmake --build --preset memcheck -j "$(nproc)"
ctest --preset memcheck -L memcheck -j "$(nproc)" "$@"
