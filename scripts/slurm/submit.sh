#!/usr/bin/env bash
# Submit a trustsim sweep to Slurm, either way (docs/hpc.md):
#
#   scripts/slurm/submit.sh mpi SCENARIO.yaml OUT.h5 [run options]    one multi-node MPI job
#   scripts/slurm/submit.sh array N SCENARIO.yaml OUT.h5 [run options] N shares + one merge
#
# sbatch options go in SBATCH_ARGS, e.g. SBATCH_ARGS="--nodes=8 --partition=long". The
# executable is TRUSTSIM (default: build/release/trustsim of this checkout, else trustsim on
# PATH). Prints the job ids. Not run inside a job: on a login node.
#
# Exit status 0 when every job was accepted; 1 when sbatch refused one (its message is printed
# above ours): then nothing stays queued (a refused merge cancels the array it was to follow);
# 2 for bad usage. A job that is accepted but can never start where it was sent (more nodes,
# or more CPUs per task than a node has, than its partition offers) gets a warning that says
# what it asks for and what the partition has (sinfo).
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

# submit SBATCH-ARGS...: submit, print the job id; sbatch's own message and status on refusal.
# (sbatch --parsable prints "jobid" or "jobid;cluster".)
submit() {
    local id
    id=$(sbatch --parsable --export=ALL "${extra[@]}" "$@") || return
    id=${id%%;*}
    if ! [[ $id =~ ^[0-9]+$ ]]; then
        echo "submit: sbatch accepted a job but printed no job id ('$id')" >&2
        return 1
    fi
    echo "$id"
}

# fits SBATCH-ARGS...: whether Slurm could ever start this job as asked (sbatch --test-only
# submits nothing; "Requested node configuration is not available" where the real submission
# would be accepted and pend for ever with reason PartitionConfig). Refusals for other reasons
# (a partition that does not exist) are left to the real submission to report.
fits() {
    local said
    said=$(sbatch --test-only "${extra[@]}" "$@" 2>&1) && return 0
    [[ $said != *"node configuration is not available"* ]]
}

# warn_unfit JOB: say what JOB asks for and what its partition has, and a request that fits.
warn_unfit() {
    local job=$1 info part nodes cpus per_task have total=0 widest=0 n c
    info=$(scontrol show job -o "$job" 2>/dev/null | head -n 1) || info=
    part=$(sed -n 's/.* Partition=\([^ ]*\).*/\1/p' <<<"$info")
    nodes=$(sed -n 's/.* NumNodes=\([0-9]*\).*/\1/p' <<<"$info")
    cpus=$(sed -n 's/.* NumCPUs=\([0-9]*\).*/\1/p' <<<"$info")
    per_task=$(sed -n 's;.* CPUs/Task=\([0-9]*\).*;\1;p' <<<"$info")
    have=$(sinfo -h -p "$part" -o '%D node(s) of %c CPUs' 2>/dev/null | paste -sd, -) || have=
    # nodes in the partition, and the CPUs of its largest node ("%c" may read "64+")
    while read -r n c; do
        total=$((total + n))
        c=${c%+}
        [ "$c" -gt "$widest" ] && widest=$c
    done < <(sinfo -h -p "$part" -o '%D %c' 2>/dev/null)
    local try=()
    [ -n "$nodes" ] && [ "$total" -gt 0 ] && [ "$nodes" -gt "$total" ] && try+=("--nodes=$total")
    [ -n "$per_task" ] && [ "$widest" -gt 0 ] && [ "$per_task" -gt "$widest" ] &&
        try+=("--cpus-per-task=$widest")
    echo "submit: warning: job $job asks for ${nodes:-?} node(s), ${cpus:-?} CPUs" \
        "(${per_task:-?} per task), more than partition ${part:-?} can ever give" \
        "(sinfo: ${have:-nothing}): it will pend (reason PartitionConfig) until you cancel it" \
        "(scancel $job) and submit a request that fits${try[*]:+, e.g. SBATCH_ARGS=\"${try[*]}\"}" \
        "(docs/hpc.md, \"Sizing the request\")" >&2
}

mode=${1:-}
case $mode in
mpi)
    [ $# -ge 3 ] || { echo "$usage" >&2; exit 2; }
    shift
    ok=true
    fits "$here/sweep_mpi.sbatch" "$@" || ok=false
    job=$(submit "$here/sweep_mpi.sbatch" "$@") ||
        { echo "submit: sbatch refused the MPI job (above); nothing was submitted" >&2; exit 1; }
    echo "submitted MPI sweep: job $job (log trustsim-mpi-$job.out)"
    $ok || warn_unfit "$job"
    ;;
array)
    [ $# -ge 4 ] || { echo "$usage" >&2; exit 2; }
    n=$2
    [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "submit: N must be a positive integer" >&2; exit 2; }
    out=$4
    shift 2
    shares=(--array="0-$((n - 1))" "$here/sweep_array.sbatch" "$@")
    ok=true
    fits "${shares[@]}" || ok=false
    job=$(submit "${shares[@]}") ||
        { echo "submit: sbatch refused the array (above); nothing was submitted" >&2; exit 1; }
    # Only now that the array is accepted: the merge, after it. kill-on-invalid-dep: if a
    # share fails for good, cancel the merge instead of leaving it pending forever; run the
    # failed share again, then merge.sbatch by hand.
    if ! merge=$(submit --dependency="afterok:$job" --kill-on-invalid-dep=yes \
        "$here/merge.sbatch" "$out"); then
        scancel "$job" || true
        echo "submit: sbatch refused the merge (above); cancelled the array job $job," \
            "nothing is left queued" >&2
        exit 1
    fi
    echo "submitted $n shares: array job $job; merge: job $merge (after all shares succeed)"
    $ok || warn_unfit "$job"
    ;;
*)
    echo "$usage" >&2
    exit 2
    ;;
esac
