#!/usr/bin/env bash
# End-to-end check of the analysis tools on real outputs: builds a small ensemble, a grid sweep,
# a two-parameter grid and a small saltelli sweep with the trustsim binary, draws every figure
# kind of scripts/plot.py, runs `trustsim sensitivity`, `export` and `info`, and both example
# analyses (scripts/examples/analyse.py and analyse.R), and checks that every file exists and
# is not trivial: PNGs of the expected pixel size (read from the IHDR header) and more than a
# few KB, CSV tables with exactly runs x ticks x metrics + 1 lines, and so on.
#
# Usage: tests/scripts/check_analysis.sh [path/to/trustsim]   (default: build/release/trustsim)
# Registered with ctest as `check_analysis` (label `analysis`). Installs nothing: it needs the
# Debian packages python3-numpy python3-h5py python3-matplotlib python3-xarray python3-h5netcdf
# r-base-core r-cran-hdf5r (scripts/setup.sh installs them) and says which one is missing.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
trustsim="$(realpath "${1:-$root/build/release/trustsim}")"
python=/usr/bin/python3
plot="$root/scripts/plot.py"
passed=0
failed=0

fail() { echo "check_analysis: FAIL: $*" >&2; failed=$((failed + 1)); }
ok() { passed=$((passed + 1)); }

# ---- what it needs ------------------------------------------------------------------------
missing=()
[ -x "$trustsim" ] || { echo "check_analysis: no trustsim binary at $trustsim" >&2; exit 1; }
[ -x "$python" ] || missing+=(python3)
for mod in numpy:python3-numpy h5py:python3-h5py matplotlib:python3-matplotlib \
           xarray:python3-xarray h5netcdf:python3-h5netcdf; do
  if [ -x "$python" ] && ! "$python" -c "import ${mod%%:*}" 2>/dev/null; then
    missing+=("${mod##*:}")
  fi
done
if ! command -v Rscript >/dev/null; then
  missing+=(r-base-core r-cran-hdf5r)
elif ! Rscript -e 'suppressPackageStartupMessages(library(hdf5r))' >/dev/null 2>&1; then
  missing+=(r-cran-hdf5r)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "check_analysis: missing Debian packages: ${missing[*]} (scripts/setup.sh installs them)" >&2
  exit 1
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/check_analysis.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$work"

# ---- checks on files ----------------------------------------------------------------------
# PNG: signature, IHDR width and height (big-endian at bytes 16..23), at least min_kb KB.
check_png() {
  local file=$1 width=$2 height=$3 min_kb=${4:-5}
  if [ ! -s "$file" ]; then fail "$file: not written"; return; fi
  local sig dims w h size
  sig=$(od -An -tx1 -N8 "$file" | tr -d ' \n')
  dims=($(od -An -tu1 -j16 -N8 "$file"))
  w=$(( (dims[0] << 24) | (dims[1] << 16) | (dims[2] << 8) | dims[3] ))
  h=$(( (dims[4] << 24) | (dims[5] << 16) | (dims[6] << 8) | dims[7] ))
  size=$(stat -c %s "$file")
  if [ "$sig" != "89504e470d0a1a0a" ]; then fail "$file: not a PNG"
  elif [ "$w" -ne "$width" ] || [ "$h" -ne "$height" ]; then
    fail "$file: ${w}x${h} pixels, expected ${width}x${height}"
  elif [ "$size" -lt $((min_kb * 1024)) ]; then fail "$file: only $size bytes"
  else ok; fi
}

# A file of another format: present, not empty, starting with the expected bytes.
check_start() {
  local file=$1 magic=$2
  if [ -s "$file" ] && head -c 200 "$file" | grep -q "$magic"; then ok
  else fail "$file: missing or not starting with $magic"; fi
}

check_lines() {
  local file=$1 want=$2 n
  n=$(wc -l < "$file" 2>/dev/null || echo 0)
  if [ "$n" -eq "$want" ]; then ok; else fail "$file: $n lines, expected $want"; fi
}

# Run a command that must exit with the given status.
expect_status() {
  local want=$1; shift
  local got=0
  "$@" >"$work/last.out" 2>&1 || got=$?
  if [ "$got" -eq "$want" ]; then ok
  else fail "exit $got (expected $want): $*"; sed 's/^/  | /' "$work/last.out" >&2; fi
}

# ---- outputs ------------------------------------------------------------------------------
run() { "$trustsim" run "$@" -q --force -j 2; }
run "$root/scenarios/baseline.yaml" -o ens.h5 -r 8 --set ticks=60
run "$root/scenarios/formalisation_sweep.yaml" -o sweep.h5 -r 4 --set ticks=30
run "$root/tests/data/sweep_grid.yaml" -o grid.h5 -r 2 --set ticks=10
cat > saltelli.yaml <<'YAML'
name: saltelli_check
seed: 3
ticks: 20
replicates: 2
organisations:
  - {id: acute, kind: acute_trust}
  - {id: council, kind: council}
  - {id: gp, kind: gp_federation}
collaborations:
  - {id: place, members: [acute, council, gp]}
sweep:
  design: saltelli
  n: 16
  parameters:
    reciprocity.q0: {min: 0.05, max: 0.5}
    faith.initial: {min: 0.2, max: 0.9}
YAML
run saltelli.yaml -o saltelli.h5
expect_status 0 "$trustsim" sensitivity saltelli.h5 --metric trust_interorg --bootstrap 100
for f in ens sweep grid saltelli; do expect_status 0 "$trustsim" info "$f.h5"; done

# ---- figures ------------------------------------------------------------------------------
# plot.py's default size is 8 x 5.5 inches at 150 dpi
for fig in trajectories stages acts trust-matrix; do
  expect_status 0 "$python" "$plot" ens.h5 --figure "$fig" -o "ens-$fig.png"
  check_png "ens-$fig.png" 1200 825
done
expect_status 0 "$python" "$plot" ens.h5 --figure trajectories --metric coop_rate -o coop.png
check_png coop.png 1200 825
expect_status 0 "$python" "$plot" sweep.h5 --figure sweep -o sweep-line.png
check_png sweep-line.png 1200 825
expect_status 0 "$python" "$plot" sweep.h5 --figure trajectories --point 4 -o sweep-p4.png
check_png sweep-p4.png 1200 825
expect_status 0 "$python" "$plot" grid.h5 --figure sweep --metric coop_rate --at 5 -o grid.png
check_png grid.png 1200 825
expect_status 0 "$python" "$plot" saltelli.h5 --figure sweep -o saltelli-sweep.png
check_png saltelli-sweep.png 1200 825
expect_status 0 "$python" "$plot" saltelli.h5 --figure sensitivity -o sensitivity.png
check_png sensitivity.png 1200 825
expect_status 0 "$python" "$plot" ens.h5 --figure stages --size 4x3 --dpi 100 -o small.png
check_png small.png 400 300 2
expect_status 0 "$python" "$plot" ens.h5 --figure trust-matrix -o matrix.svg
check_start matrix.svg "<svg"
expect_status 0 "$python" "$plot" ens.h5 --figure acts -o acts.pdf
check_start acts.pdf "%PDF"
# what a user can get wrong: exit 2
expect_status 2 "$python" "$plot" ens.h5 --figure trajectories --metric no_such -o x.png
expect_status 2 "$python" "$plot" ens.h5 --figure no_such -o x.png
expect_status 2 "$python" "$plot" ens.h5 --figure sweep -o x.png
expect_status 2 "$python" "$plot" ens.h5 --figure stages --point 1 -o x.png
expect_status 2 "$python" "$plot" saltelli.yaml --figure stages -o x.png
expect_status 2 "$python" "$plot" ens.h5 --figure stages -o x.jpg

# ---- export -------------------------------------------------------------------------------
metrics=$("$trustsim" info ens.h5 | awk '$1 == "metrics" {print $2}')
orgs=6
expect_status 0 "$trustsim" export ens.h5 --csv ens-csv
check_lines ens-csv/series.csv $((8 * 61 * metrics + 1))
check_lines ens-csv/points.csv 2
check_lines ens-csv/final_trust.csv $((8 * orgs * (orgs - 1) + 1))  # pairs in one collaboration
check_lines ens-csv/final_stage.csv $((8 * orgs * (orgs - 1) + 1))
check_lines ens-csv/final_faith.csv $((8 * orgs + 1))
expect_status 2 "$trustsim" export ens.h5 --csv ens-csv
expect_status 0 "$trustsim" export sweep.h5 --csv sweep-csv
check_lines sweep-csv/series.csv $((5 * 4 * 31 * metrics + 1))
check_lines sweep-csv/points.csv 6
if head -1 sweep-csv/points.csv | grep -qx 'point,collaborations.place.agreement.formalisation'
then ok; else fail "sweep-csv/points.csv: unexpected header $(head -1 sweep-csv/points.csv)"; fi

# ---- example analyses ---------------------------------------------------------------------
expect_status 0 "$python" "$root/scripts/examples/analyse.py" sweep.h5 -o example-py.png
check_png example-py.png 1050 675
expect_status 0 Rscript "$root/scripts/examples/analyse.R" sweep.h5 -o example-r.png
check_png example-r.png 1050 675
# the two languages print the same summary numbers (mean and band per parameter value)
"$python" "$root/scripts/examples/analyse.py" grid.h5 --param reciprocity.q0 -o a.png \
  | awk 'NR > 2 {print $1, $2, $3, $4, $5}' > py.txt
Rscript "$root/scripts/examples/analyse.R" grid.h5 --param reciprocity.q0 -o b.png \
  | awk 'NR > 1 {print $1, $2, $3, $5, $6}' > r.txt
# x, runs, mean, q05, q95 per line; printed to 6 or 7 digits, so equal within 1e-5
if [ "$(wc -l < py.txt)" -eq 4 ] && paste -d ' ' py.txt r.txt | awk '
     function d(a, b) { return a > b ? a - b : b - a }
     { for (i = 1; i <= 5; i++) if (d($i, $(i + 5)) > 1e-5) bad = 1 }
     END { exit bad || NR != 4 }'; then ok
else fail "analyse.py and analyse.R disagree:"; paste py.txt r.txt >&2; fi

# the square trust matrix rebuilt from the pairs, in both languages: the same numbers, "-" or
# NA on the diagonal, and a mean of each row equal to what export's final_trust.csv gives
"$python" "$root/scripts/examples/trust_matrix.py" ens.h5 | awk 'NR > 1 {$1 = ""; print}' \
  | sed 's/ - / NA /g; s/ -$/ NA/' > mpy.txt
Rscript "$root/scripts/examples/trust_matrix.R" ens.h5 | awk 'NR > 1 {$1 = ""; print}' > mr.txt
if [ "$(wc -l < mpy.txt)" -eq 6 ] && paste -d ' ' mpy.txt mr.txt | awk '
     function d(a, b) { return a > b ? a - b : b - a }
     { for (i = 1; i <= 6; i++) if (($i == "NA") != ($(i + 6) == "NA") ||
                                    ($i != "NA" && d($i, $(i + 6)) > 1e-4)) bad = 1
       if ($NR != "NA") bad = 1 }
     END { exit bad || NR != 6 }'; then ok
else fail "trust_matrix.py and trust_matrix.R disagree:"; paste mpy.txt mr.txt >&2; fi
"$python" - "$work/ens-csv/final_trust.csv" "$work/mpy.txt" <<'PY' && ok || fail "trust matrix != export"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
orgs = list(dict.fromkeys(r["organisation"] for r in rows))
matrix = [line.split() for line in open(sys.argv[2])]
for i, o in enumerate(orgs):
    for j, q in enumerate(orgs):
        vals = [float(r["value"]) for r in rows if r["organisation"] == o and r["partner"] == q]
        if (not vals) != (matrix[i][j] == "NA"):
            sys.exit(f"{o} -> {q}: pairs and matrix disagree")
        if vals and abs(sum(vals) / len(vals) - float(matrix[i][j])) > 1e-4:
            sys.exit(f"{o} -> {q}: {sum(vals) / len(vals)} != {matrix[i][j]}")
PY

# ---- the snippets of docs/output-format.md run as printed ----------------------------------
snippet() { # snippet LANG N: the N-th fenced block of that language, reading this run's files
  awk -v lang="$1" -v want="$2" '
    $0 == "```" lang { n++; inside = (n == want); next }
    /^```/ { inside = 0; next }
    inside { print }' "$root/docs/output-format.md" |
    sed "s#results/baseline.h5#$work/ens.h5#; s#results/formalisation_sweep.h5#$work/sweep.h5#"
}
for block in "python 1 py" "python 2 py" "python 3 py" "r 1 R"; do
  set -- $block
  snippet "$1" "$2" > "snippet-$1-$2.$3"
  if [ ! -s "snippet-$1-$2.$3" ]; then fail "docs/output-format.md: no $1 block $2"; continue; fi
  if [ "$1" = python ]; then expect_status 0 "$python" "snippet-$1-$2.$3"
  else expect_status 0 Rscript "snippet-$1-$2.$3"; fi
done

echo "check_analysis: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
