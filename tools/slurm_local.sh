#!/usr/bin/env bash
# tools/slurm_local.sh start|stop|status|env — a real one-node SLURM for tests.
#
# Starts munged, slurmctld and slurmd (Debian's slurm-wlm) as root with every
# file under $MG_SLURM_DIR (default /tmp/metagrid-slurm): the key, sockets,
# slurm.conf, state, spool, logs and pid files. The node is this machine
# (NodeAddr 127.0.0.1) declaring $MG_SLURM_CPUS CPUs (default 4): with
# SlurmdParameters=config_overrides slurmd accepts more CPUs than it has.
# `start` waits until sinfo shows the node idle (30 s) and exits 1 if SLURM
# cannot start (not root, packages missing, daemon died); `stop` kills exactly
# the processes whose pid files it wrote. Use the cluster with
#   eval "$(tools/slurm_local.sh env)"      # exports SLURM_CONF
set -u
D=${MG_SLURM_DIR:-/tmp/metagrid-slurm}
CPUS=${MG_SLURM_CPUS:-4}
NODE=$(hostname -s 2>/dev/null || echo localhost)
PORT=${MG_SLURM_PORT:-6917}   # away from the default 6817/6818: no clash with a real cluster
export SLURM_CONF=$D/slurm.conf

die() { echo "slurm_local: $*" >&2; exit 1; }

write_conf() {
    cat >"$D/slurm.conf" <<CONF
# one-node SLURM for metagrid tests (written by tools/slurm_local.sh)
ClusterName=metagrid
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$D/munge.socket
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmctldLogFile=$D/slurmctld.log
SlurmdLogFile=$D/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2
JobRequeue=1
ReturnToService=2
SlurmdParameters=config_overrides
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MinJobAge=300
KillWait=10
InactiveLimit=0
SlurmdTimeout=60
MessageTimeout=20
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
CONF
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

node_state() { sinfo -h -N -o %t 2>/dev/null | head -n 1; }

start() {
    [ "$(id -u)" = 0 ] || die "must run as root"
    for b in munged slurmctld slurmd sinfo sbatch srun scontrol; do
        command -v "$b" >/dev/null 2>&1 || [ -x "/usr/sbin/$b" ] || die "$b not installed (make deps)"
    done
    if alive "$D/slurmctld.pid" && alive "$D/slurmd.pid"; then
        echo "slurm_local: already running ($D)"; return 0
    fi
    mkdir -p "$D/state" "$D/spool" && chmod 700 "$D" || die "cannot create $D"
    if [ ! -s "$D/munge.key" ]; then
        if command -v mungekey >/dev/null 2>&1 || [ -x /usr/sbin/mungekey ]; then
            PATH=$PATH:/usr/sbin mungekey --create --keyfile="$D/munge.key" --force >/dev/null 2>&1
        fi
        [ -s "$D/munge.key" ] || dd if=/dev/urandom of="$D/munge.key" bs=1024 count=1 2>/dev/null
        chmod 400 "$D/munge.key"
    fi
    write_conf
    if ! alive "$D/munged.pid"; then
        PATH=$PATH:/usr/sbin munged --force --socket="$D/munge.socket" --key-file="$D/munge.key" \
            --pid-file="$D/munged.pid" --log-file="$D/munged.log" \
            --seed-file="$D/munged.seed" >/dev/null 2>&1 || die "munged failed (see $D/munged.log)"
    fi
    PATH=$PATH:/usr/sbin slurmctld -f "$SLURM_CONF" -c -i >>"$D/slurmctld.log" 2>&1 \
        || die "slurmctld failed (see $D/slurmctld.log)"
    PATH=$PATH:/usr/sbin slurmd -f "$SLURM_CONF" -N "$NODE" >>"$D/slurmd.log" 2>&1 \
        || die "slurmd failed (see $D/slurmd.log)"
    local t=0 st=""
    while [ $t -lt 60 ]; do
        st=$(node_state)
        case "$st" in idle*) echo "slurm_local: up ($NODE, $CPUS CPUs, SLURM_CONF=$SLURM_CONF)"; return 0 ;; esac
        case "$st" in down*|drain*) scontrol update nodename="$NODE" state=resume >/dev/null 2>&1 ;; esac
        sleep 0.5; t=$((t + 1))
    done
    echo "slurm_local: node not idle after 30 s (state '$st'); logs in $D" >&2
    tail -n 5 "$D/slurmctld.log" "$D/slurmd.log" >&2 2>/dev/null
    stop
    return 1
}

stop() {
    # Cancel what is left, then stop the daemons we started (pid files only).
    if alive "$D/slurmctld.pid"; then scancel --full -u root >/dev/null 2>&1 || true; sleep 0.5; fi
    for p in slurmd slurmctld munged; do
        if alive "$D/$p.pid"; then
            local pid; pid=$(cat "$D/$p.pid")
            kill -TERM "$pid" 2>/dev/null
            for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.3; done
            kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
        fi
        rm -f "$D/$p.pid"
    done
    echo "slurm_local: stopped"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status)
        for p in munged slurmctld slurmd; do
            if alive "$D/$p.pid"; then echo "$p running (pid $(cat "$D/$p.pid"))"; else echo "$p stopped"; fi
        done
        alive "$D/slurmctld.pid" && sinfo -N 2>/dev/null; true ;;
    env) echo "export SLURM_CONF=$SLURM_CONF" ;;
    *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
