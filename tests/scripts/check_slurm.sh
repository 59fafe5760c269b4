#!/usr/bin/env bash
# The recipes of scripts/slurm/ against a real Slurm: starts the one-node cluster of
# scripts/slurm/local-cluster.sh (installing slurm-wlm and munge if missing), submits through
# scripts/slurm/submit.sh as a user would, waits, and compares every dataset bit for bit with
# one `trustsim run` of the same scenario:
#
#   1. array + merge (3 shares);
#   2. one MPI job of 2 ranks started by srun with PMIx (SLURM_MPI_TYPE=pmix);
#   3. a share stopped mid-run and requeued (scontrol requeue) continues its own share;
#   4. the MPI job where srun has no PMI plugin (the cluster's MpiDefault=none) fails at once in
#      the batch script, and trustsim itself under `srun -n 2` refuses: exit 2, nothing written;
#   5. submit.sh: a refused array (no such partition) or merge (an sbatch that refuses it) is
#      an error with sbatch's message and leaves nothing queued; a request larger than the
#      partition is submitted with a warning that says why it would pend.
#
# Usage: tests/scripts/check_slurm.sh path/to/trustsim   (an MPI build: the ci preset's)
# Registered with ctest as `slurm_recipes` in MPI builds. Starting the cluster needs root (to
# install the packages and run the daemons), as in CI: where it cannot start, the test fails
# and says so. TRUSTSIM_SKIP_SLURM=1 skips it on purpose (exit 77: ctest reports "Skipped").
# A cluster this script started is stopped at the end; one already running is left running.
set -uo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
trustsim="$(realpath "${1:-$root/build/ci/trustsim}")"
scenario=$root/scenarios/baseline.yaml
run_args=(--replicates 60)
python=/usr/bin/python3
cluster=$root/scripts/slurm/local-cluster.sh
submit=$root/scripts/slurm/submit.sh
passed=0
failed=0

say() { echo "check_slurm: $*"; }
fail() { echo "check_slurm: FAIL: $*" >&2; failed=$((failed + 1)); }
ok() { say "ok: $*"; passed=$((passed + 1)); }

if [ "${TRUSTSIM_SKIP_SLURM:-}" = 1 ]; then
    say "skipped (TRUSTSIM_SKIP_SLURM=1)"
    exit 77
fi
[ -x "$trustsim" ] || { echo "check_slurm: no trustsim at $trustsim" >&2; exit 1; }
"$python" -c "import h5py" 2>/dev/null ||
    { echo "check_slurm: needs python3-h5py (scripts/setup.sh installs it)" >&2; exit 1; }

started=false
if ! "$cluster" status >/dev/null 2>&1; then
    if ! "$cluster" start; then
        echo "check_slurm: FAIL: cannot start the local Slurm (above). It needs root on Debian" \
            "12, as in CI; where that is impossible, TRUSTSIM_SKIP_SLURM=1 skips this test" >&2
        exit 1
    fi
    started=true
fi
eval "$("$cluster" env)"
export TRUSTSIM=$trustsim

work="$(mktemp -d "${TMPDIR:-/tmp}/check_slurm.XXXXXX")"
jobs_submitted=()
cleanup() {
    [ ${#jobs_submitted[@]} -gt 0 ] && scancel "${jobs_submitted[@]}" 2>/dev/null
    cd / && rm -rf "$work"
    $started && "$cluster" stop
}
trap cleanup EXIT
cd "$work" || exit 1
t_start=$SECONDS

# ---- helpers ------------------------------------------------------------------------------
# same_datasets A B: every dataset of A has a twin in B with the same type, shape and bytes
# (and B no other); more than 40 datasets (series, summaries, finals, scales).
same_datasets() {
    "$python" - "$1" "$2" <<'EOF'
import sys
import h5py
import numpy as np

def datasets(f):
    found = {}

    def add(name, obj):  # returns None: visititems stops at the first other value
        if isinstance(obj, h5py.Dataset):
            found[name] = obj

    f.visititems(add)
    return found

with h5py.File(sys.argv[1], "r") as a, h5py.File(sys.argv[2], "r") as b:
    da, db = datasets(a), datasets(b)
    differ = sorted(set(da) ^ set(db))
    for name in sorted(set(da) & set(db)):
        x, y = np.asarray(da[name][()]), np.asarray(db[name][()])
        same = x.dtype == y.dtype and x.shape == y.shape and (
            x.tolist() == y.tolist() if x.dtype.kind == "O" else x.tobytes() == y.tobytes())
        if not same:
            differ.append(name)
    if differ or len(da) <= 40:
        print(f"{len(da)} datasets, {len(differ)} differ: {' '.join(differ[:20])}")
        sys.exit(1)
EOF
}

# job_of TEXT PATTERN: the number that follows PATTERN in submit.sh's output
job_of() { sed -n "s/.*$2 \\([0-9][0-9]*\\).*/\\1/p" <<<"$1" | head -n 1; }

# wait_done JOB...: wait (at most 3 minutes) until the jobs have left the queue
wait_done() {
    local _
    for _ in $(seq 1800); do
        [ -z "$(squeue -h -j "$(IFS=,; echo "$*")" 2>/dev/null)" ] && return 0
        sleep 0.1
    done
    fail "jobs $* still queued after 3 minutes:"
    squeue >&2
    return 1
}

# states JOB: the distinct states of a job (every task of an array)
states() { scontrol show job -o "$1" | grep -o 'JobState=[A-Z_]*' | sort -u | cut -d= -f2 | paste -sd' '; }

# show_logs JOB...: the logs of these jobs, for a failure
show_logs() {
    local j
    for j in "$@"; do tail -n 20 ./*-"$j".out ./*-"$j"_*.out 2>/dev/null; done >&2
}

# ---- the reference: one process -----------------------------------------------------------
"$trustsim" run "$scenario" -o ref.h5 -q "${run_args[@]}" || { fail "one-process run"; exit 1; }

# ---- 1. array + merge ---------------------------------------------------------------------
t=$SECONDS
if out=$(SBATCH_ARGS="--cpus-per-task=1" "$submit" array 3 "$scenario" array.h5 \
    "${run_args[@]}" 2>submit.err); then
    array=$(job_of "$out" "array job")
    merge=$(job_of "$out" "merge: job")
    jobs_submitted+=("$array" "$merge")
    if grep -q warning submit.err; then fail "array: a warning for a request that fits"; fi
    wait_done "$array" "$merge"
    if [ "$(states "$array")" = COMPLETED ] && [ "$(states "$merge")" = COMPLETED ] &&
        [ ! -e array.h5.parts ] && same_datasets ref.h5 array.h5; then
        ok "array of 3 shares + merge: datasets identical to one process ($((SECONDS - t)) s)"
    else
        fail "array + merge: array $(states "$array"), merge $(states "$merge")"
        show_logs "$array" "$merge"
    fi
else
    fail "submit.sh array: $out $(cat submit.err)"
fi

# ---- 2. MPI, srun with PMIx ---------------------------------------------------------------
t=$SECONDS
mpi_sbatch="--nodes=1 --ntasks-per-node=2 --cpus-per-task=1"
# Open MPI's own allocations trip LeakSanitizer in the sanitizer build: leak checks off for
# the ranks (as in test_mpi)
if out=$(SLURM_MPI_TYPE=pmix ASAN_OPTIONS=detect_leaks=0 SBATCH_ARGS=$mpi_sbatch \
    "$submit" mpi "$scenario" mpi.h5 "${run_args[@]}" 2>submit.err); then
    job=$(job_of "$out" "job")
    jobs_submitted+=("$job")
    wait_done "$job"
    if [ "$(states "$job")" = COMPLETED ] && grep -q "runs on 2 ranks" "trustsim-mpi-$job.out" &&
        same_datasets ref.h5 mpi.h5; then
        ok "MPI job, 2 ranks by srun --mpi=pmix: datasets identical to one process" \
            "($((SECONDS - t)) s)"
    else
        fail "MPI job with PMIx: $(states "$job")"
        show_logs "$job"
    fi
else
    fail "submit.sh mpi: $out $(cat submit.err)"
fi

# ---- 3. a share requeued mid-run ----------------------------------------------------------
t=$SECONDS
# small blocks, so that share 0 has saved some of its 30 runs when it is stopped
if out=$(SBATCH_ARGS="--cpus-per-task=1" "$submit" array 2 "$scenario" requeue.h5 \
    "${run_args[@]}" --block-runs 3 2>submit.err); then
    array=$(job_of "$out" "array job")
    merge=$(job_of "$out" "merge: job")
    jobs_submitted+=("$array" "$merge")
    for _ in $(seq 600); do
        [ "$(find requeue.h5.parts -name 'block-s0-*.h5' 2>/dev/null | wc -l)" -ge 2 ] && break
        sleep 0.05
    done
    scontrol requeue "${array}_0" || fail "scontrol requeue ${array}_0"
    # Slurm makes a requeued job wait about two minutes before it may start again; let it go
    # once it is back in the queue
    for _ in $(seq 300); do
        [ "$(squeue -h -j "${array}_0" -o %T)" = PENDING ] && break
        sleep 0.1
    done
    scontrol update JobId="${array}_0" StartTime=now || fail "StartTime=now for ${array}_0"
    wait_done "$array" "$merge"
    log=trustsim-shard-${array}_0.out
    # the second start ran only what the first had not saved
    again=$(sed -n '/(restart 1)/,$s/^saved shard 0\/2: \([0-9]*\) runs.*/\1/p' "$log")
    if [ "$(states "$array")" = COMPLETED ] && [ "$(states "$merge")" = COMPLETED ] &&
        grep -q "runs are saved in requeue.h5.parts" "$log" &&
        [ -n "$again" ] && [ "$again" -gt 0 ] && [ "$again" -lt 30 ] &&
        same_datasets ref.h5 requeue.h5; then
        ok "share requeued mid-run ran its other $again runs of 30; datasets identical" \
            "($((SECONDS - t)) s)"
    else
        fail "requeued share: array $(states "$array"), merge $(states "$merge")," \
            "runs after the restart: '${again}'"
        show_logs "$array" "$merge"
    fi
else
    fail "submit.sh array (requeue): $out $(cat submit.err)"
fi

# ---- 4. srun without PMI ------------------------------------------------------------------
if out=$(ASAN_OPTIONS=detect_leaks=0 SBATCH_ARGS=$mpi_sbatch "$submit" mpi "$scenario" nopmi.h5 \
    "${run_args[@]}" 2>submit.err); then
    job=$(job_of "$out" "job")
    jobs_submitted+=("$job")
    wait_done "$job"
    if [ "$(states "$job")" = FAILED ] && grep -q "srun has no MPI plugin" "trustsim-mpi-$job.out" &&
        [ ! -e nopmi.h5 ] && [ ! -e nopmi.h5.parts ]; then
        ok "MPI job where srun has no PMI plugin: refused by the batch script, nothing written"
    else
        fail "MPI job without PMI: $(states "$job")"
        show_logs "$job"
    fi
else
    fail "submit.sh mpi (no PMI): $out $(cat submit.err)"
fi
# trustsim itself, two tasks of srun without an MPI plugin
t=$SECONDS
ASAN_OPTIONS=detect_leaks=0 srun --mpi=none --ntasks=2 --cpus-per-task=1 \
    "$trustsim" run "$scenario" -o srun.h5 "${run_args[@]}" >srun.log 2>&1
status=$?
if [ "$status" -eq 2 ] && [ "$(grep -c "one of 2 tasks started together" srun.log)" -eq 1 ] &&
    grep -q "srun --mpi=pmix" srun.log && [ ! -e srun.h5 ] && [ ! -e srun.h5.parts ]; then
    ok "trustsim under srun -n 2 without PMI: exit 2 after $((SECONDS - t)) s, said once," \
        "nothing written"
else
    fail "trustsim under srun -n 2 without PMI: exit $status"
    cat srun.log >&2
fi

# ---- 5. submission errors and warnings ----------------------------------------------------
before=$(squeue -h | wc -l)
SBATCH_ARGS="--partition=nosuch" "$submit" array 2 "$scenario" refused.h5 "${run_args[@]}" \
    >submit.out 2>submit.err
status=$?
if [ "$status" -eq 1 ] && grep -q "invalid partition" submit.err &&
    grep -q "nothing was submitted" submit.err && [ "$(squeue -h | wc -l)" -eq "$before" ]; then
    ok "a refused array: exit 1 with sbatch's message, nothing queued"
else
    fail "refused array: exit $status; $(cat submit.out submit.err)"
fi

# an sbatch that accepts the array and refuses the merge
mkdir fake
real_sbatch=$(command -v sbatch)
cat >fake/sbatch <<EOF
#!/bin/sh
case "\$*" in
*merge.sbatch*) echo "sbatch: error: Batch job submission failed: Job dependency problem" >&2
    exit 1 ;;
esac
exec "$real_sbatch" "\$@"
EOF
chmod +x fake/sbatch
PATH="$work/fake:$PATH" SBATCH_ARGS="--cpus-per-task=1" "$submit" array 2 "$scenario" \
    refused.h5 "${run_args[@]}" >submit.out 2>submit.err
status=$?
array=$(job_of "$(cat submit.err)" "cancelled the array job")
[ -n "$array" ] && jobs_submitted+=("$array") && wait_done "$array"
if [ "$status" -eq 1 ] && grep -q "Job dependency problem" submit.err && [ -n "$array" ] &&
    [ "$(states "$array")" = CANCELLED ] && [ "$(squeue -h | wc -l)" -eq "$before" ]; then
    ok "a refused merge: exit 1 with sbatch's message, the array cancelled"
else
    fail "refused merge: exit $status, array '${array}' $(states "${array:-0}" 2>/dev/null);" \
        "$(cat submit.out submit.err)"
fi

# more CPUs per task than the node has: accepted, with a warning
cpus=$(sinfo -h -o %c | head -n 1)
SBATCH_ARGS="--cpus-per-task=$((cpus + 1))" "$submit" array 2 "$scenario" big.h5 \
    "${run_args[@]}" >submit.out 2>submit.err
status=$?
array=$(job_of "$(cat submit.out)" "array job")
merge=$(job_of "$(cat submit.out)" "merge: job")
[ -n "$array" ] && jobs_submitted+=("$array" "$merge") && scancel "$array" "$merge"
if [ "$status" -eq 0 ] && grep -q "warning: job $array asks for" submit.err &&
    grep -q "($((cpus + 1)) per task)" submit.err && grep -q "PartitionConfig" submit.err; then
    ok "a request larger than the partition: submitted with a warning"
else
    fail "oversized request: exit $status; $(cat submit.out submit.err)"
fi

say "$passed passed, $failed failed ($((SECONDS - t_start)) s)"
[ "$failed" -eq 0 ]
