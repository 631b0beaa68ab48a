#!/usr/bin/env bash
# A real single-node SLURM cluster on this machine, for testing the SLURM profile.
#
#   scripts/slurm-local.sh up   DIR   # install (Debian, as root) and start munge, slurmctld, slurmd
#   scripts/slurm-local.sh down DIR   # stop them by pid and wait until they are gone
#
# The configuration lives in DIR; /etc/slurm/slurm.conf and gres.conf are symlinked to it (unless a
# real configuration is there), because commands inside jobs (srun) look there and do not inherit
# SLURM_CONF. The node offers every core, the memory less 1 GB, and one stand-in GPU (gres file
# /dev/null) so that GPU requests schedule; it has no real GPU.
set -euo pipefail
cmd=${1:?usage: slurm-local.sh up|down DIR}
dir=$(realpath -m "${2:?usage: slurm-local.sh up|down DIR}")

stop_pid() {  # kill by pid file and wait until the process is gone or a zombie (nothing reaps them here)
  local f=$1
  [ -f "$f" ] || return 0
  local pid; pid=$(cat "$f")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    local state; state=$(ps -o stat= -p "$pid" 2>/dev/null || true)
    [ -z "$state" ] || [[ "$state" == Z* ]] && break
    sleep 0.2
  done
  rm -f "$f"
}

if [ "$cmd" = down ]; then
  stop_pid "$dir/slurmd.pid"
  stop_pid "$dir/slurmctld.pid"
  stop_pid "$dir/munged.pid"
  for f in slurm.conf gres.conf; do  # our symlinks only
    [ "$(readlink /etc/slurm/$f 2>/dev/null)" = "$dir/$f" ] && rm -f "/etc/slurm/$f"
  done
  exit 0
fi
[ "$cmd" = up ] || { echo "usage: slurm-local.sh up|down DIR" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "slurm-local.sh: needs root (SlurmUser=root, munge)" >&2; exit 3; }

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null || ! command -v sbatch >/dev/null; then
  command -v apt-get >/dev/null || { echo "slurm-local.sh: SLURM is not installed and there is no apt-get" >&2; exit 3; }
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
fi

mkdir -p "$dir/state" "$dir/spool"
mem=$(( $(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo) - 1024 ))
cat > "$dir/slurm.conf" <<CONF
ClusterName=localtest
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MinJobAge=600
GresTypes=gpu
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$mem Gres=gpu:1 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
printf 'AutoDetect=off\nNodeName=localhost Name=gpu File=/dev/null\n' > "$dir/gres.conf"
mkdir -p /etc/slurm
for f in slurm.conf gres.conf; do
  if [ -e "/etc/slurm/$f" ] && [ ! -L "/etc/slurm/$f" ]; then
    echo "slurm-local.sh: /etc/slurm/$f exists and is not ours; not touching a real cluster's configuration" >&2
    exit 3
  fi
  ln -sfn "$dir/$f" "/etc/slurm/$f"
done
export SLURM_CONF=$dir/slurm.conf

# munge: a daemon per machine; reuse one that answers
if ! munge -n >/dev/null 2>&1; then
  mkdir -p /run/munge && chown munge:munge /run/munge
  runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 50); do munge -n >/dev/null 2>&1 && break; sleep 0.1; done
  pgrep -n -x munged > "$dir/munged.pid" || true   # started here, so stopped on down
fi
munge -n >/dev/null || { echo "slurm-local.sh: munge did not start" >&2; exit 1; }

slurmctld -i -f "$dir/slurm.conf"
slurmd -N localhost -f "$dir/slurm.conf"
for _ in $(seq 100); do
  [ "$(sinfo -h -N -o %t 2>/dev/null | head -1)" = idle ] && { echo "SLURM up: SLURM_CONF=$dir/slurm.conf"; exit 0; }
  sleep 0.2
done
echo "slurm-local.sh: the node did not become idle; see $dir/slurmctld.log and $dir/slurmd.log" >&2
exit 1
