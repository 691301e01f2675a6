#!/usr/bin/env bash
# local-slurm-down.sh: stop what scripts/local-slurm-up.sh started.
#
#   * cancels every Slurm job of $REMOTE_USER (the SkyPilot clusters) first, because with
#     proctrack/linuxproc stopping slurmd alone would leave their processes running
#   * stops slurmd, slurmctld, the private sshd and munged by their pid files, then any
#     process of $REMOTE_USER that is left
#   * PURGE=1 also deletes the state folder, the login user and its home, the pip block in
#     /etc/pip.conf, $CLIENT_HOME/.slurm/config, the client key and the login user's files in
#     /tmp (SkyPilot's uv cache, sky_app_* and sky_setup_*)
#
# Take SkyPilot clusters down (sky.down) and stop the API servers (sky.api_stop()) before
# running this, or SkyPilot keeps records of clusters that no longer exist.
# Run as root. It reads the settings recorded by local-slurm-up.sh in
# /etc/slurm/local-slurm.env; environment variables with the same names take precedence.
set -uo pipefail

if [ -f /etc/slurm/local-slurm.env ]; then
  while IFS='=' read -r key value; do
    [ -n "$key" ] && [ -z "${!key:-}" ] && export "$key=$value"
  done < /etc/slurm/local-slurm.env
fi
LOCAL_SLURM_DIR=${LOCAL_SLURM_DIR:-/var/lib/local-slurm}
REMOTE_USER=${REMOTE_USER:-skyuser}
REMOTE_HOME=${REMOTE_HOME:-/home/$REMOTE_USER}
CLIENT_HOME=${CLIENT_HOME:-$HOME}
RUN=$LOCAL_SLURM_DIR

log() { echo "[local-slurm-down] $*"; }
[ "$(id -u)" = 0 ] || { echo "local-slurm-down: must run as root" >&2; exit 1; }

alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
stop_pidfile() {  # name pidfile
  if alive "$2"; then
    local pid; pid=$(cat "$2"); log "stopping $1 (pid $pid)"; kill "$pid"
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.25; done
    log "$1 (pid $pid) still running after 10 s; sending SIGKILL"; kill -9 "$pid" 2>/dev/null || true
  fi
}

if alive "$RUN/slurmctld.pid" && id "$REMOTE_USER" >/dev/null 2>&1; then
  jobs=$(squeue -h -u "$REMOTE_USER" -o %i 2>/dev/null | tr '\n' ' ')
  if [ -n "${jobs// /}" ]; then
    log "cancelling Slurm jobs of $REMOTE_USER: $jobs"
    scancel -u "$REMOTE_USER"
    for _ in $(seq 1 60); do [ -z "$(squeue -h -u "$REMOTE_USER" -o %i)" ] && break; sleep 0.5; done
  fi
fi
stop_pidfile slurmd "$RUN/slurmd.pid"
stop_pidfile slurmctld "$RUN/slurmctld.pid"
stop_pidfile sshd "$RUN/sshd.pid"
stop_pidfile munged /run/munge/munged.pid

# Processes of the login user that outlived their job (skylet, sleep, sshd session children).
if id "$REMOTE_USER" >/dev/null 2>&1; then
  pids=$(pgrep -u "$REMOTE_USER" | tr '\n' ' ')
  if [ -n "${pids// /}" ]; then
    log "killing leftover processes of $REMOTE_USER: $pids"
    # shellcheck disable=SC2086  # $pids is a word list on purpose
    kill $pids 2>/dev/null
    sleep 1
    # shellcheck disable=SC2086
    kill -9 $pids 2>/dev/null
  fi
fi

if [ "${PURGE:-0}" = 1 ]; then
  log "purging state"
  rm -rf "$RUN"
  rm -f "$CLIENT_HOME/.slurm/config" "$CLIENT_HOME/.ssh/local_slurm_ed25519" "$CLIENT_HOME/.ssh/local_slurm_ed25519.pub"
  # Remove only the block that local-slurm-up.sh added, and keep every other line of /etc/pip.conf.
  if [ -f /etc/pip.conf ]; then
    sed -i '/^# BEGIN local-slurm-up/,/^# END local-slurm-up/d' /etc/pip.conf
  fi
  if id "$REMOTE_USER" >/dev/null 2>&1; then
    uid=$(id -u "$REMOTE_USER")
    rm -rf "/tmp/uv_cache_$uid"
    find /tmp -maxdepth 1 -user "$uid" \( -name 'sky_app_*' -o -name 'sky_setup_*' -o -name 'uv-setuptools-*.lock' \) -exec rm -rf {} + 2>/dev/null
    userdel "$REMOTE_USER" 2>/dev/null; rm -rf "$REMOTE_HOME"
  fi
  rm -f /etc/slurm/local-slurm.env
fi
log "down."
