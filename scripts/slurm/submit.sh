#!/usr/bin/env bash
# Submit a trustsim sweep to Slurm, either way (docs/hpc.md):
#
#   scripts/slurm/submit.sh mpi SCENARIO.yaml OUT.h5 [run options]    one multi-node MPI job
#   scripts/slurm/submit.sh array N SCENARIO.yaml OUT.h5 [run options] N shares + one merge
#
# sbatch options go in SBATCH_ARGS, e.g. SBATCH_ARGS="--nodes=8 --partition=long". The
# executable is TRUSTSIM (default: build/release/trustsim of this checkout, else trustsim on
# PATH). Prints the job ids. Not run inside a job: on a login node.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
usage="usage: $0 mpi SCENARIO.yaml OUT.h5 [run options] | array N SCENARIO.yaml OUT.h5 [run options]"
if [ -z "${TRUSTSIM:-}" ]; then
    TRUSTSIM=trustsim
    [ -x "$root/build/release/trustsim" ] && TRUSTSIM=$root/build/release/trustsim
fi
command -v "$TRUSTSIM" >/dev/null || { echo "submit: no executable $TRUSTSIM" >&2; exit 2; }
export TRUSTSIM TRUSTSIM_SLURM_DIR=$here
read -ra extra <<<"${SBATCH_ARGS:-}"

# sbatch --parsable prints "jobid" or "jobid;cluster".
submit() {
    local id
    id=$(sbatch --parsable --export=ALL "${extra[@]}" "$@")
    echo "${id%%;*}"
}

mode=${1:-}
case $mode in
mpi)
    [ $# -ge 3 ] || { echo "$usage" >&2; exit 2; }
    shift
    job=$(submit "$here/sweep_mpi.sbatch" "$@")
    echo "submitted MPI sweep: job $job (log trustsim-mpi-$job.out)"
    ;;
array)
    [ $# -ge 4 ] || { echo "$usage" >&2; exit 2; }
    n=$2
    [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "submit: N must be a positive integer" >&2; exit 2; }
    out=$4
    shift 2
    job=$(submit --array="0-$((n - 1))" "$here/sweep_array.sbatch" "$@")
    # kill-on-invalid-dep: if a share fails for good, cancel the merge instead of leaving it
    # pending forever; run the failed share again, then merge.sbatch by hand.
    merge=$(submit --dependency="afterok:$job" --kill-on-invalid-dep=yes \
        "$here/merge.sbatch" "$out")
    echo "submitted $n shares: array job $job; merge: job $merge (after all shares succeed)"
    ;;
*)
    echo "$usage" >&2
    exit 2
    ;;
esac
