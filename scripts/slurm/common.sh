# What the trustsim batch scripts share (sourced by them, not run): run trustsim so that the
# batch shell outlives a SIGTERM until trustsim has saved its runs, and requeue a job that was
# stopped because its time limit is near. Not a general Slurm library. See docs/hpc.md.
# shellcheck shell=bash

# run_saving CMD...: run CMD and return its exit status. Pre-emption and the time limit send
# SIGTERM to this shell as well as to CMD; a shell waiting in the foreground would die at once
# and take the requeue logic with it, so CMD runs in the background and is waited for.
run_saving() {
    trap 'echo "${TAG:-trustsim}: SIGTERM: waiting for trustsim to save its runs"' TERM
    "$@" &
    local pid=$! status
    wait "$pid"
    status=$?
    while kill -0 "$pid" 2>/dev/null; do # the trap cut the wait short
        wait "$pid"
        status=$?
    done
    trap - TERM
    return "$status"
}

# seconds_left: seconds before the job's time limit, from squeue's [days-][hours:]min:sec.
seconds_left() {
    local left days=0 s=0 p fields
    left=$(squeue -h -j "${SLURM_JOB_ID:?}" -o %L 2>/dev/null) || return 1
    [[ $left =~ ^([0-9]+-)?([0-9]+:){1,2}[0-9]+$ ]] || return 1 # not UNLIMITED, INVALID
    if [[ $left == *-* ]]; then
        days=${left%%-*}
        left=${left#*-}
    fi
    IFS=: read -ra fields <<<"$left"
    for p in "${fields[@]}"; do s=$((s * 60 + 10#$p)); done
    echo $((days * 86400 + s))
}

# requeue_if_stopped_near_limit STATUS PARTS: trustsim exited with STATUS, leaving PARTS (the
# part directory). If a signal stopped it (130, 143) within REQUEUE_WITHIN seconds (default
# 900) of the time limit, i.e. this script's --signal, requeue the job so that it continues
# later (at most MAX_RESTARTS times, default 20) and return 0. Pre-emption needs none of this
# (Slurm requeues a pre-empted job itself), and scancel or a failure must not be undone.
requeue_if_stopped_near_limit() {
    local status=$1 parts=$2 left
    [ -d "$parts" ] || return 1
    [ "$status" -eq 143 ] || [ "$status" -eq 130 ] || return 1
    left=$(seconds_left) || return 1
    [ "$left" -le "${REQUEUE_WITHIN:-900}" ] || return 1
    [ "${SLURM_RESTART_COUNT:-0}" -lt "${MAX_RESTARTS:-20}" ] || return 1
    echo "${TAG:-trustsim}: stopped $left s before the time limit: requeueing to continue"
    scontrol requeue "$SLURM_JOB_ID"
}
