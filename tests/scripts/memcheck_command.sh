#!/usr/bin/env bash
# The trustsim command under valgrind (the command that VALGRIND... runs), on a small ensemble:
# a run, a resume that sets a damaged block aside and runs its runs again, and every command
# that reads the output (info, info --verify, export, compare, sensitivity). Any invalid access,
# use of uninitialised memory or definite leak fails.
#
#   memcheck_command.sh TRUSTSIM VALGRIND [VALGRIND OPTIONS...]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
ts=$1
shift
vg=("$@")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
small=(-q -j 2 --replicates 3 --set ticks=40)
step() { echo "memcheck_command: $*"; "${vg[@]}" "$ts" "$@"; }

step run "$root/scenarios/example.yaml" -o m.h5 "${small[@]}" --block-runs 2
# saved work with a damaged block (made without valgrind), healed under it
"$ts" run "$root/scenarios/example.yaml" -o s.h5 "${small[@]}" --block-runs 1 --shard 0/2
"$ts" run "$root/scenarios/example.yaml" -o s.h5 "${small[@]}" --block-runs 1 --shard 1/2
block=$(ls s.h5.parts/block-*.h5 | head -n 1)
# eight bytes written over the middle of the block's series chunk (where the middle of the file
# is depends on the layout, and may be padding that nothing reads; and not 0xff bytes, which
# Fletcher-32 cannot tell from the zeros they may replace)
at=$(/usr/bin/python3 -c 'import sys, h5py
d = h5py.File(sys.argv[1], "r")["series"]
c = d.id.get_chunk_info(0)
print(c.byte_offset + c.size // 2)' "$block")
printf 'damage!!' | dd of="$block" bs=1 seek="$at" conv=notrunc status=none
step run --resume s.h5 -q 2>&1 | grep -q "set aside"
step info m.h5 >/dev/null
step info m.h5 --verify >/dev/null
step export m.h5 --csv csv >/dev/null 2>&1
step compare m.h5 s.h5 --metric faith >/dev/null
cat > saltelli.yaml <<'YAML'
name: saltelli
ticks: 6
replicates: 2
organisations:
  - {id: a, kind: acute_trust}
  - {id: b, kind: council}
sweep:
  design: saltelli
  n: 4
  parameters:
    reciprocity.q0: {min: 0.1, max: 0.5}
    faith.initial: {min: 0.3, max: 0.9}
YAML
"$ts" run saltelli.yaml -o sal.h5 -q
step sensitivity sal.h5 --metric faith --bootstrap 50 >/dev/null
echo "memcheck_command: clean"
