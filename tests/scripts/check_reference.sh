#!/usr/bin/env bash
# Keeps docs/scenario-reference.md in step with the schema: the committed file must equal what
# `trustsim schema --markdown` prints. Registered with ctest as `scenario_reference`.
#
# Usage: tests/scripts/check_reference.sh [path/to/trustsim]   (default: build/release/trustsim)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
trustsim="${1:-$root/build/release/trustsim}"
reference="$root/docs/scenario-reference.md"
if "$trustsim" schema --markdown | diff -u "$reference" - ; then
  echo "scenario_reference: docs/scenario-reference.md matches trustsim schema --markdown"
else
  echo "scenario_reference: docs/scenario-reference.md is out of date; regenerate it with" >&2
  echo "  build/release/trustsim schema --markdown > docs/scenario-reference.md" >&2
  exit 1
fi
