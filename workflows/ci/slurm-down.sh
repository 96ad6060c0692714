#!/usr/bin/env bash
# Stop what workflows/ci/slurm-up.sh started: slurmd, slurmctld, slurmdbd, MariaDB, munged.
# Configuration, the accounting database and the logs stay (slurm-up.sh starts them again);
# with --purge they are removed too.
set -uo pipefail
[ "$(id -u)" -eq 0 ] || { echo "slurm-down: run as root" >&2; exit 1; }
for daemon in slurmd slurmctld slurmdbd; do
  pkill -x "$daemon" 2>/dev/null && echo "slurm-down: stopped $daemon" >&2
done
if pgrep -x mariadbd >/dev/null; then
  mariadb-admin -uroot shutdown 2>/dev/null || pkill -x mariadbd
  echo "slurm-down: stopped MariaDB" >&2
fi
pkill -x munged 2>/dev/null && echo "slurm-down: stopped munged" >&2
running() {
  local name
  for name in slurmd slurmctld slurmdbd mariadbd munged; do
    pgrep -x "$name" >/dev/null && return 0
  done
  return 1
}
for _ in $(seq 1 40); do running || break; sleep 0.25; done
if [ "${1:-}" = "--purge" ]; then
  rm -rf /var/lib/slurm-nmfbio /var/log/slurm-nmfbio /etc/slurm/slurm.conf \
    /etc/slurm/slurmdbd.conf
  echo "slurm-down: removed the configuration, state and logs" >&2
fi
exit 0
