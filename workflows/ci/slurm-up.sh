#!/usr/bin/env bash
# Start a single-node SLURM cluster on this machine (loopback only), for trying the
# workflow's SLURM profile and for CI: munge for authentication, MariaDB + slurmdbd for the
# accounting that the snakemake SLURM executor queries with sacct, slurmctld and one slurmd
# with every core of this machine, a partition "cpu" and an account "nmfbio".
#
#   sudo bash workflows/ci/slurm-up.sh      # as root; installs the Debian packages if needed
#   sinfo; sacct                            # then use it
#   sudo bash workflows/ci/slurm-down.sh    # stop what this script started
#
# Idempotent: a cluster that already answers (sinfo and sacctmgr) is left as it is; daemons
# that died (e.g. after a reboot) are started again with the configuration written before.
# Everything it writes is under /etc/slurm, /etc/munge, /var/lib/slurm-nmfbio and
# /var/log/slurm-nmfbio; the database is slurm_acct_db on the local MariaDB.
set -euo pipefail

CLUSTER=nmfbio
PARTITION=cpu
ACCOUNT=nmfbio
STATE=/var/lib/slurm-nmfbio
LOGS=/var/log/slurm-nmfbio
DB_PASS=nmfbio-local-only   # the database listens on loopback only (skip-networking off)

log() { printf 'slurm-up: %s\n' "$*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  log "run as root (it installs packages and starts system daemons)"; exit 1
fi

cluster_answers() {
  timeout 20 sinfo -h >/dev/null 2>&1 && timeout 20 sacctmgr -n list cluster >/dev/null 2>&1
}
if command -v sinfo >/dev/null 2>&1 && cluster_answers; then
  log "a SLURM cluster already answers; nothing to do"; exit 0
fi

# --------------------------------------------------------------------------- packages
need=()
for cmd in slurmctld:slurm-wlm slurmd:slurm-wlm slurmdbd:slurmdbd munged:munge \
           mariadbd:mariadb-server; do
  command -v "${cmd%%:*}" >/dev/null 2>&1 || need+=("${cmd##*:}")
done
if [ "${#need[@]}" -gt 0 ]; then
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q slurm-wlm slurmdbd munge mariadb-server >/dev/null
fi

mkdir -p "$STATE"/ctld "$STATE"/d "$LOGS" /run/munge /run/mysqld
chown slurm:slurm "$STATE" "$STATE"/ctld "$LOGS"
chown munge:munge /run/munge
chown mysql:mysql /run/mysqld

# --------------------------------------------------------------------------- munge
if [ ! -s /etc/munge/munge.key ]; then
  log "creating the munge key"
  mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null \
    || dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
fi
chown munge:munge /etc/munge/munge.key
chmod 400 /etc/munge/munge.key
if ! pgrep -x munged >/dev/null; then
  log "starting munged"
  runuser -u munge -- /usr/sbin/munged --force  # --force: a stale socket of a killed one
fi
for _ in $(seq 1 20); do munge -n >/dev/null 2>&1 && break; sleep 0.5; done
munge -n | unmunge >/dev/null

# --------------------------------------------------------------------------- MariaDB
if ! pgrep -x mariadbd >/dev/null && ! pgrep -x mysqld >/dev/null; then
  log "starting MariaDB (loopback only)"
  if [ ! -d /var/lib/mysql/mysql ]; then
    mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
  fi
  runuser -u mysql -- /usr/sbin/mariadbd --datadir=/var/lib/mysql --bind-address=127.0.0.1 \
    --socket=/run/mysqld/mysqld.sock --pid-file=/run/mysqld/mysqld.pid \
    >>"$LOGS/mariadb.log" 2>&1 &
fi
for _ in $(seq 1 60); do
  mariadb -uroot -e "SELECT 1" >/dev/null 2>&1 && break; sleep 0.5
done
mariadb -uroot -e "SELECT 1" >/dev/null
mariadb -uroot <<SQL
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '${DB_PASS}';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
FLUSH PRIVILEGES;
SQL

# --------------------------------------------------------------------------- configuration
HOST=$(hostname -s)
CPUS=$(nproc)
MEM=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
cat >/etc/slurm/slurmdbd.conf <<EOF
# written by nmfbio workflows/ci/slurm-up.sh
AuthType=auth/munge
DbdHost=localhost
DbdPort=6819
SlurmUser=slurm
LogFile=$LOGS/slurmdbd.log
PidFile=/run/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=${DB_PASS}
StorageLoc=slurm_acct_db
EOF
chown slurm:slurm /etc/slurm/slurmdbd.conf
chmod 600 /etc/slurm/slurmdbd.conf
cat >/etc/slurm/slurm.conf <<EOF
# written by nmfbio workflows/ci/slurm-up.sh: one node, loopback only
ClusterName=$CLUSTER
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=slurm
AuthType=auth/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStorageEnforce=associations
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MinJobAge=3600
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=$PARTITION Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
rm -f /etc/slurm/cgroup.conf  # slurmd's default (autodetect) works here; task/none uses none

# --------------------------------------------------------------------------- daemons
if ! pgrep -x slurmdbd >/dev/null; then
  log "starting slurmdbd"
  /usr/sbin/slurmdbd
fi
for _ in $(seq 1 60); do sacctmgr -n list cluster >/dev/null 2>&1 && break; sleep 0.5; done
sacctmgr -i -Q add cluster "$CLUSTER" >/dev/null 2>&1 || true
sacctmgr -i -Q add account "$ACCOUNT" Cluster="$CLUSTER" \
  Description="nmfbio workflow tests" >/dev/null 2>&1 || true
for user in root "${SUDO_USER:-root}"; do
  sacctmgr -i -Q add user "$user" Account="$ACCOUNT" Cluster="$CLUSTER" >/dev/null 2>&1 || true
done
if ! pgrep -x slurmctld >/dev/null; then
  log "starting slurmctld"
  /usr/sbin/slurmctld
fi
if ! pgrep -x slurmd >/dev/null; then
  log "starting slurmd"
  /usr/sbin/slurmd
fi
for _ in $(seq 1 60); do
  state=$(sinfo -h -N -o '%t' 2>/dev/null | head -1 || true)
  case "$state" in idle*|mix*|alloc*) break ;; esac
  sleep 0.5
done
scontrol update NodeName="$HOST" State=RESUME >/dev/null 2>&1 || true
if ! cluster_answers; then
  log "the cluster does not answer; see $LOGS"; exit 1
fi
log "up: cluster $CLUSTER, partition $PARTITION, account $ACCOUNT, node $HOST ($CPUS CPUs)"
sinfo
