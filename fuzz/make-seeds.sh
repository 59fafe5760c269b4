#!/usr/bin/env bash
# Seed inputs of the fuzz targets, into DIR/TARGET/: scenarios/ and tests/data/ for the scenario
# target, their sweep blocks for the sweep target, fuzz/seeds/set/ for the override target, and
# outputs and blocks of small runs made with the trustsim command given (a build's own).
#
#   fuzz/make-seeds.sh TRUSTSIM DIR
set -euo pipefail
cd "$(dirname "$0")/.."
ts=$1
dir=$2
mkdir -p "$dir"/{scenario,set,sweep,block,output}

cp scenarios/*.yaml tests/data/*.yaml tests/data/bad/*.yaml "$dir/scenario/"
for f in scenarios/*.yaml tests/data/*.yaml; do
  if grep -q '^sweep:' "$f"; then
    sed -n '/^sweep:/,$p' "$f" | tail -n +2 > "$dir/sweep/$(basename "$f")"
  fi
done
cp fuzz/seeds/set/* "$dir/set/"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# small files read fast: one replicate (no summaries) but for one file
small=(-q -j 1 --replicates 1 --set ticks=3)
"$ts" run tests/data/minimal.yaml -o "$tmp/minimal.h5" "${small[@]}"
"$ts" run tests/data/minimal.yaml -o "$tmp/two.h5" "${small[@]}" --replicates 2
"$ts" run tests/data/sweep_list.yaml -o "$tmp/list.h5" "${small[@]}"
cat > "$tmp/saltelli.yaml" <<'YAML'
name: saltelli
ticks: 2
replicates: 1
organisations:
  - {id: a, kind: acute_trust}
  - {id: b, kind: council}
sweep:
  design: saltelli
  n: 2
  parameters:
    reciprocity.q0: {min: 0.1, max: 0.5}
    faith.initial: {min: 0.3, max: 0.9}
YAML
"$ts" run "$tmp/saltelli.yaml" -o "$tmp/saltelli.h5" -q -j 1
"$ts" sensitivity "$tmp/saltelli.h5" --metric faith --bootstrap 10 >/dev/null
cp "$tmp"/minimal.h5 "$tmp"/two.h5 "$tmp"/list.h5 "$tmp"/saltelli.h5 "$dir/output/"
"$ts" run tests/data/minimal.yaml -o "$tmp/blocks.h5" "${small[@]}" --replicates 4 \
  --shard 0/2 --block-runs 2
cp "$tmp"/blocks.h5.parts/block-*.h5 "$dir/block/"
