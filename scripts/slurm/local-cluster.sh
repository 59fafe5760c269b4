#!/usr/bin/env bash
# A one-node Slurm cluster on this machine (munged, slurmctld and slurmd on localhost, one
# partition with this machine's cores), to try the batch scripts of this folder against a real
# scheduler; the test suite's Slurm test (tests/scripts/check_slurm.sh) starts it. Not a way to
# run a real cluster. Debian 12, as root.
#
#   scripts/slurm/local-cluster.sh start    install slurm-wlm and munge if missing, start the
#                                           daemons (nothing to do when they are running)
#   scripts/slurm/local-cluster.sh stop     stop the daemons it started
#   scripts/slurm/local-cluster.sh status   say whether it runs: exit 0 if it does, 3 if not
#   eval "$(scripts/slurm/local-cluster.sh env)"   point sbatch, squeue... at it
#
# Everything lives in LOCAL_SLURM_DIR (default /var/lib/trustsim-slurm): slurm.conf, state,
# spool, logs. The cluster has its own configuration file (SLURM_CONF) and ports (6917, 6918),
# so it never touches /etc/slurm or a site's daemons. Each start begins with an empty queue.
# MpiDefault is none, as at many sites: srun starts MPI programs with PMIx only when asked
# (srun --mpi=pmix, or SLURM_MPI_TYPE=pmix).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dir=${LOCAL_SLURM_DIR:-/var/lib/trustsim-slurm}
conf=$dir/slurm.conf
export SLURM_CONF=$conf
TAG=local-cluster
sbin=/usr/sbin

say() { echo "$TAG: $*" >&2; }
die() {
    say "$*"
    exit 1
}

# alive NAME PIDFILE: the process in PIDFILE runs and is NAME
alive() {
    local pid
    pid=$(cat "$2" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ ]] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$1" ]
}

munge_works() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

# The node is up and takes jobs (idle, mixed or allocated; not down, drained or unknown).
node_ready() {
    local state
    state=$(sinfo -h -N -o %T 2>/dev/null | head -n 1) || return 1
    case $state in
    idle | mixed | allocated | completing) return 0 ;;
    *) return 1 ;;
    esac
}

running() {
    alive slurmctld "$dir/slurmctld.pid" && alive slurmd "$dir/slurmd.pid" && munge_works &&
        node_ready
}

install_packages() {
    local missing=() p
    for p in slurm-wlm munge; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" -eq 0 ] || die "needs root to install ${missing[*]} and start the daemons"
    "$root/scripts/setup.sh" "${missing[@]}"
}

write_conf() {
    local host cpus mem
    host=$(hostname -s)
    cpus=$(nproc)
    # slurmd -C: the node's memory as Slurm counts it (MB)
    mem=$("$sbin/slurmd" -C 2>/dev/null | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
    mkdir -p "$dir/state" "$dir/spool" "$dir/log"
    cat >"$conf.tmp" <<EOF
# Written by scripts/slurm/local-cluster.sh: a one-node cluster on localhost. Rewritten at
# every start; edit the script, not this file.
ClusterName=trustsim-local
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=6917
SlurmdPort=6918
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
# No cgroups needed: processes tracked through /proc, no CPU binding.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
# CPUs are what jobs take: several one-CPU jobs share the node.
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
# Start what can start within seconds (dependencies and requeued jobs included), not minutes.
SchedulerParameters=sched_interval=1,bf_interval=1,sched_min_interval=100000
ReturnToService=2
SlurmdParameters=config_overrides
KillWait=5
MinJobAge=600
InactiveLimit=0
MailProg=/bin/true
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus${mem:+ RealMemory=$mem} State=UNKNOWN
PartitionName=local Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
    mv "$conf.tmp" "$conf"
}

start_munge() {
    munge_works && return 0
    [ -s /etc/munge/munge.key ] || mungekey --create --keyfile=/etc/munge/munge.key
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
    install -d -o munge -g munge -m 0755 /run/munge
    install -d -o munge -g munge -m 0700 /var/log/munge /var/lib/munge
    runuser -u munge -- "$sbin/munged"
    cp /run/munge/munged.pid "$dir/munged.pid" # ours: stop stops it
    for _ in $(seq 50); do
        munge_works && return 0
        sleep 0.1
    done
    die "munged does not answer (see /var/log/munge/munged.log)"
}

start() {
    if running; then
        say "running ($(sinfo -h -o '%P %D node, %c CPUs'))"
        return 0
    fi
    install_packages
    [ "$(id -u)" -eq 0 ] || die "needs root to start the daemons"
    stop_daemons quiet # half-started leftovers
    write_conf
    start_munge
    # -c: begin with an empty queue (no jobs of an earlier start)
    "$sbin/slurmctld" -c -f "$conf" || die "slurmctld did not start (see $dir/log/slurmctld.log)"
    "$sbin/slurmd" -f "$conf" || die "slurmd did not start (see $dir/log/slurmd.log)"
    for _ in $(seq 300); do
        if node_ready; then
            say "started ($(sinfo -h -o '%P %D node, %c CPUs')); SLURM_CONF=$conf"
            return 0
        fi
        sleep 0.1
    done
    sinfo -N -l >&2 || true
    tail -n 20 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 || true
    die "the node did not become idle within 30 s"
}

# stop_daemons [quiet]: end slurmd, slurmctld and (if this script started it) munged.
stop_daemons() {
    local name pid stopped=()
    for name in slurmd slurmctld munged; do
        alive "$name" "$dir/$name.pid" || continue
        pid=$(cat "$dir/$name.pid")
        kill "$pid"
        for _ in $(seq 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
        stopped+=("$name")
    done
    rm -f "$dir/munged.pid"
    [ "${1:-}" = quiet ] && return 0
    if [ ${#stopped[@]} -gt 0 ]; then
        say "stopped ${stopped[*]}"
    else
        say "not running"
    fi
}

case ${1:-} in
start) start ;;
stop) stop_daemons ;;
status)
    if running; then
        say "running; SLURM_CONF=$conf"
        sinfo
    else
        say "not running"
        exit 3
    fi
    ;;
env) echo "export SLURM_CONF=$conf" ;;
*)
    echo "usage: $0 start|stop|status|env" >&2
    exit 2
    ;;
esac
