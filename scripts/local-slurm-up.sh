#!/usr/bin/env bash
# local-slurm-up.sh: start a one-node Slurm cluster on this machine that SkyPilot's Slurm
# backend (skypilot 0.14.1) can launch onto over SSH on 127.0.0.1.
#
# Run as root on Debian 12 (Slurm 22.05 from apt); systemd is not needed. The script is
# idempotent: a second run rewrites the config files, starts only the daemons that are not
# running, and prints READY within about a second.
#
# What it sets up:
#   * apt packages: slurmctld slurmd slurm-client munge openssh-server rsync python3-venv
#   * munged, slurmctld and slurmd without cgroups (proctrack/linuxproc, task/none)
#   * uv from PyPI, a uv wrapper and a Slurm TaskProlog, so that SkyPilot's remote runtime
#     install works without internet access (see "uv" below)
#   * the login user $REMOTE_USER, reached through a private sshd on 127.0.0.1:$SSH_PORT with a
#     key generated here
#   * pip settings for that user in /etc/pip.conf: the local wheel folders (find-links) that
#     root's pip uses, such as the CPU torch wheel (see "pip" below)
#   * $CLIENT_HOME/.slurm/config (SSH config format) with Host $CLUSTER_ALIAS and the client key
#     $CLIENT_HOME/.ssh/local_slurm_ed25519
#
# Every server that this script starts listens on 127.0.0.1 only. NOTE: SkyPilot's own skylet,
# which runs inside each SkyPilot cluster, listens on 0.0.0.0:46590 (hardcoded in skypilot
# 0.14.1, sky/skylet/skylet.py). The script downloads nothing except apt and PyPI packages.
#
# Settings (environment variables, defaults in brackets):
#   LOCAL_SLURM_DIR    state, log, pid and helper folder              [/var/lib/local-slurm]
#   SSH_PORT           port of the private sshd on 127.0.0.1          [2222]
#   REMOTE_USER        Unix user that SkyPilot logs in as             [skyuser]
#   REMOTE_HOME        its home, which is SkyPilot's base folder on the cluster
#                      [the existing user's home, else /home/$REMOTE_USER]
#   CLIENT_HOME        HOME of the SkyPilot client and API server; .slurm/config and the
#                      key go there                                     [$HOME]
#   CLUSTER_ALIAS      Host alias in .slurm/config, which SkyPilot shows as the region
#                                                                     [localcluster]
#   NODE_CPUS          CPUs advertised to Slurm; may exceed nproc so that several SkyPilot
#                      clusters share the machine                     [8]
#   NODE_MEM_MB        RealMemory advertised, in MB                   [MemTotal - 2048]
#   PARTITION          default partition, which SkyPilot shows as the zone  [debug]
#   PARTITION_MAXTIME  partition MaxTime, the longest a SkyPilot cluster lives [1-00:00:00]
#   SKY_BASE_DIR       set only together with slurm.cluster_configs.<alias>.workdir in the
#                      client's ~/.sky/config.yaml: that folder         [the login user's home]
#   SOURCE_PIP_CONF    pip config file whose find-links the login user gets
#                                                          [$HOME/.config/pip/pip.conf]
#   LOGIN_PIP_FIND_LINKS       find-links for the login user, space-separated
#                      [find-links of SOURCE_PIP_CONF plus $PIP_FIND_LINKS]; "" leaves it out
#   LOGIN_PIP_EXTRA_INDEX_URL  extra-index-url for the login user, space-separated   [""]
#                      Empty by default even where root's pip.conf lists local mirrors: the
#                      pinned training stack installs from PyPI and find-links alone, and pip
#                      prints a warning for every package that a file:// mirror lacks.
#   SKIP_APT=1         skip the apt-get step (packages already installed)
#   VERIFY_PIP=1       also check, as the login user in a throwaway venv, that pip resolves
#                      torch==$VERIFY_PIP_TORCH from the local wheels without downloading
#                      (adds a few seconds)                            [0]
#   VERIFY_PIP_TORCH   torch requirement for VERIFY_PIP                [2.13.0+cpu]
set -euo pipefail

LOCAL_SLURM_DIR=${LOCAL_SLURM_DIR:-/var/lib/local-slurm}
SSH_PORT=${SSH_PORT:-2222}
REMOTE_USER=${REMOTE_USER:-skyuser}
CLIENT_HOME=${CLIENT_HOME:-$HOME}
CLUSTER_ALIAS=${CLUSTER_ALIAS:-localcluster}
NODE_CPUS=${NODE_CPUS:-8}
PARTITION=${PARTITION:-debug}
# A finite MaxTime makes SkyPilot add `#SBATCH --time=<MaxTime>` (no warning), and Slurm
# eventually ends clusters that were never taken down.
PARTITION_MAXTIME=${PARTITION_MAXTIME:-1-00:00:00}
SOURCE_PIP_CONF=${SOURCE_PIP_CONF:-$HOME/.config/pip/pip.conf}
VERIFY_PIP=${VERIFY_PIP:-0}
VERIFY_PIP_TORCH=${VERIFY_PIP_TORCH:-2.13.0+cpu}
NODE_NAME=$(hostname -s)
# The Debian interpreter, not whatever python3 comes first in root's PATH (pyenv, for
# example), because the helpers below must also run for the login user.
SYSTEM_PYTHON=/usr/bin/python3

T0=$(date +%s)
log() { echo "[local-slurm-up +$(( $(date +%s) - T0 ))s] $*"; }
die() { echo "local-slurm-up: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (it installs packages and starts system daemons)"

# An existing login user keeps its home. If REMOTE_HOME pointed elsewhere, the key would go
# to a folder that sshd never reads, and ssh would fail with "Permission denied (publickey)".
if existing_home=$(getent passwd "$REMOTE_USER" | cut -d: -f6) && [ -n "$existing_home" ]; then
  if [ -n "${REMOTE_HOME:-}" ] && [ "$REMOTE_HOME" != "$existing_home" ]; then
    die "user $REMOTE_USER already exists with home $existing_home, not REMOTE_HOME=$REMOTE_HOME; unset REMOTE_HOME or pick another REMOTE_USER"
  fi
  REMOTE_HOME=$existing_home
fi
REMOTE_HOME=${REMOTE_HOME:-/home/$REMOTE_USER}

# ---------------------------------------------------------------- packages
PKGS="slurmctld slurmd slurm-client munge openssh-server openssh-client rsync python3-venv procps"
if [ "${SKIP_APT:-0}" != 1 ]; then
  missing=""
  for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  if [ -n "$missing" ]; then
    log "apt-get install:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # policy-rc.d keeps the package scripts from starting the daemons with their default
    # configuration, which does not exist yet.
    had_policy=0; [ -e /usr/sbin/policy-rc.d ] && had_policy=1
    if [ $had_policy = 0 ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
      chmod +x /usr/sbin/policy-rc.d
    fi
    # shellcheck disable=SC2086  # $missing is a word list on purpose
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
    [ $had_policy = 1 ] || rm -f /usr/sbin/policy-rc.d
  fi
fi

mkdir -p "$LOCAL_SLURM_DIR"/{spool/slurmctld,spool/slurmd,log,ssh,bin}
RUN=$LOCAL_SLURM_DIR

# ------------------------------------------------------------------ uv
# SkyPilot's remote setup runs `$HOME/.local/bin/uv -V || curl ... astral.sh | sh` with
# HOME=<login home>/.sky_clusters/<cluster name on cloud>, then `uv venv --python 3.10`.
# Without internet access both the curl and uv's Python 3.10 download fail. So uv comes from
# PyPI, and a wrapper maps `--python 3.10` to the local python3 (3.11 on Debian 12) unless a
# real python3.10 exists.
if [ ! -x "$RUN/uv-venv/bin/uv" ]; then
  log "installing uv from PyPI into $RUN/uv-venv"
  "$SYSTEM_PYTHON" -m venv "$RUN/uv-venv"
  "$RUN/uv-venv/bin/pip" install -q uv
fi
cat > "$RUN/bin/uv" <<EOF
#!/bin/bash
# uv wrapper written by local-slurm-up.sh: maps --python 3.10 to a local python.
REAL_UV="$RUN/uv-venv/bin/uv"
PY=\$(command -v python3.10 || command -v python3)
args=(); prev=""
for a in "\$@"; do
  if [ "\$prev" = "--python" ] && [ "\$a" = "3.10" ]; then a="\$PY"; fi
  case "\$a" in --python=3.10) a="--python=\$PY";; esac
  args+=("\$a"); prev="\$a"
done
export UV_PYTHON_DOWNLOADS=never
# Trust the OS CA store. Where package traffic passes a proxy with its own CA, uv fails
# otherwise with "invalid peer certificate: UnknownIssuer".
export UV_SYSTEM_CERTS=\${UV_SYSTEM_CERTS:-1}
exec "\$REAL_UV" "\${args[@]}"
EOF
chmod 755 "$RUN/bin/uv"
chmod 755 "$RUN" "$RUN/bin"

# The TaskProlog runs as the job user before every task (the batch step and each srun step).
# For a SkyPilot cluster job, whose job name is its folder under ~/.sky_clusters, it links the
# uv wrapper to where SkyPilot looks for uv. Steps started from outside the allocation
# (`srun --jobid=N ...`, which is how SkyPilot runs setup and rsync) see
# SLURM_JOB_NAME=<command name>, so the prolog then queries squeue for the allocation's job name.
cat > "$RUN/bin/task-prolog.sh" <<EOF
#!/bin/bash
h="${SKY_BASE_DIR:-}"; [ -n "\$h" ] || h=\$(getent passwd "\$(id -un)" | cut -d: -f6)
[ -d "\$h/.sky_clusters" ] || exit 0
name="\${SLURM_JOB_NAME:-}"
if [ -z "\$name" ] || [ ! -d "\$h/.sky_clusters/\$name" ]; then
  name=\$(squeue -h -j "\${SLURM_JOB_ID:-0}" -o %j 2>/dev/null | head -n1)
fi
d="\$h/.sky_clusters/\$name"
if [ -n "\$name" ] && [ -d "\$d" ] && [ ! -e "\$d/.local/bin/uv" ]; then
  mkdir -p "\$d/.local/bin" && ln -sfn "$RUN/bin/uv" "\$d/.local/bin/uv"
fi
exit 0
EOF
chmod 755 "$RUN/bin/task-prolog.sh"

# ------------------------------------------------------------------ pip
# SkyPilot runs setup and run with HOME=<login home>/.sky_clusters/<cluster>, so a pip.conf in
# the login user's own home is never read there. The system-wide /etc/pip.conf is, so the
# script adds a marked block to its [global] section and leaves every other line as it was
# (for example an existing `cert = ...`). A key that the file already sets outside the block
# is left alone. /etc/xdg/pip/pip.conf, where present, also applies to every user.
read_pip_source() {  # key envvar: space-separated values of SOURCE_PIP_CONF [global] and $envvar
  "$SYSTEM_PYTHON" - "$SOURCE_PIP_CONF" "$1" "${!2:-}" <<'PY'
import configparser, sys
path, key, env_value = sys.argv[1:4]
parser = configparser.ConfigParser(interpolation=None)
try:
    parser.read(path)
except configparser.Error as error:
    sys.exit(f"local-slurm-up: cannot parse {path}: {error}")
values = parser.get("global", key, fallback="").split() + env_value.split()
print(" ".join(dict.fromkeys(values)))
PY
}
LOGIN_PIP_FIND_LINKS=${LOGIN_PIP_FIND_LINKS-$(read_pip_source find-links PIP_FIND_LINKS)}
LOGIN_PIP_EXTRA_INDEX_URL=${LOGIN_PIP_EXTRA_INDEX_URL:-}

"$SYSTEM_PYTHON" - /etc/pip.conf "$LOGIN_PIP_FIND_LINKS" "$LOGIN_PIP_EXTRA_INDEX_URL" <<'PY'
import configparser, os, re, sys

path, find_links, extra_index_url = sys.argv[1:4]
BEGIN = "# BEGIN local-slurm-up: pip settings for the Slurm login user"
END = "# END local-slurm-up"

try:
    with open(path, encoding="utf-8") as f:
        old_text = f.read()
except FileNotFoundError:
    old_text = ""

# Drop the block that an earlier run wrote, keep every other line.
lines, inside = [], False
for line in old_text.splitlines():
    if line.startswith(BEGIN):
        inside = True
    elif inside and line.startswith(END):
        inside = False
    elif not inside:
        lines.append(line)

parser = configparser.ConfigParser(interpolation=None)
try:
    parser.read_string("\n".join(lines) + "\n", source=path)
except configparser.Error as error:
    sys.exit(f"local-slurm-up: cannot parse {path}: {error}; fix it by hand")

block = []
for key, value in (("find-links", find_links), ("extra-index-url", extra_index_url)):
    if not value.strip():
        continue
    if parser.has_option("global", key):
        print(f"local-slurm-up: {path} already sets {key} = "
              f"{parser.get('global', key)}; leaving it as it is", file=sys.stderr)
        continue
    block.append(f"{key} = {' '.join(value.split())}")

if block:
    block = [BEGIN] + block + [END]
    header = next((i for i, line in enumerate(lines)
                   if re.fullmatch(r"\s*\[global\]\s*", line)), None)
    if header is None:
        lines += ["[global]"] + block
    else:
        lines[header + 1:header + 1] = block
new_text = "\n".join(lines) + "\n" if lines else ""

if new_text != old_text:
    temporary = path + ".local-slurm-up.tmp"
    with open(temporary, "w", encoding="utf-8") as f:
        f.write(new_text)
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)
    print(f"local-slurm-up: updated {path}")
PY
for dir in $LOGIN_PIP_FIND_LINKS; do
  case "$dir" in *://*) continue;; esac
  [ -d "$dir" ] || log "warning: find-links folder $dir does not exist"
done

# ------------------------------------------------------------------- munge
if [ ! -s /etc/munge/munge.key ]; then
  log "creating munge key"
  /usr/sbin/mungekey --create --force 2>/dev/null \
    || dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 2>/dev/null
fi
chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key
mkdir -p /run/munge && chown munge:munge /run/munge && chmod 755 /run/munge
if ! pgrep -u munge -x munged >/dev/null; then
  log "starting munged"
  runuser -u munge -- /usr/sbin/munged
fi
for _ in $(seq 1 20); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.5; done
munge -n | unmunge >/dev/null

# ------------------------------------------------------------------- slurm
MEMTOTAL=$(awk '/^MemTotal:/{print int($2/1024)}' /proc/meminfo)
NODE_MEM_MB=${NODE_MEM_MB:-$(( MEMTOTAL > 4096 ? MEMTOTAL - 2048 : MEMTOTAL / 2 ))}
mkdir -p /etc/slurm
NEWCONF=$(mktemp)
cat > "$NEWCONF" <<EOF
# Written by local-slurm-up.sh: a one-node Slurm cluster on 127.0.0.1.
ClusterName=$CLUSTER_ALIAS
SlurmctldHost=$NODE_NAME(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
# Bind slurmctld (NoCtldInAddrAny) and slurmd and srun (NoInAddrAny) to the address that the
# host name resolves to, instead of every interface.
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
# No cgroups, because sandboxes and containers often lack a usable cgroup hierarchy.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
TaskProlog=$RUN/bin/task-prolog.sh
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
# Trust the CPU and memory numbers below even where they exceed the hardware.
SlurmdParameters=config_overrides
ReturnToService=2
StateSaveLocation=$RUN/spool/slurmctld
SlurmdSpoolDir=$RUN/spool/slurmd
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=$RUN/log/slurmctld.log
SlurmdLogFile=$RUN/log/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
KillWait=5
MinJobAge=60
InactiveLimit=0
NodeName=$NODE_NAME NodeAddr=127.0.0.1 CPUs=$NODE_CPUS RealMemory=$NODE_MEM_MB State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE_NAME Default=YES MaxTime=$PARTITION_MAXTIME State=UP
EOF
alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
stop_pidfile() {  # name pidfile
  local pid; pid=$(cat "$2"); log "stopping $1 (pid $pid)"; kill "$pid"
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.25; done
  die "$1 (pid $pid) did not stop within 10 s"
}
if ! cmp -s "$NEWCONF" /etc/slurm/slurm.conf; then
  if alive "$RUN/slurmctld.pid" && [ -n "$(squeue -h -o %i 2>/dev/null)" ]; then
    # Restarting the daemons would requeue the running jobs, and `scontrol reconfigure`
    # cannot apply node changes (both seen with Slurm 22.05), so keep the old config.
    log "warning: slurm.conf differs from these settings, but Slurm jobs are running;" \
        "keeping the current config. Run this script again when squeue is empty."
  else
    cp "$NEWCONF" /etc/slurm/slurm.conf
    # `scontrol reconfigure` neither re-binds sockets nor applies node changes, so restart
    # the daemons that run.
    if alive "$RUN/slurmd.pid"; then stop_pidfile slurmd "$RUN/slurmd.pid"; fi
    if alive "$RUN/slurmctld.pid"; then stop_pidfile slurmctld "$RUN/slurmctld.pid"; fi
  fi
fi
rm -f "$NEWCONF"
chmod 644 /etc/slurm/slurm.conf

if ! alive "$RUN/slurmctld.pid"; then
  log "starting slurmctld"; /usr/sbin/slurmctld
fi
if ! alive "$RUN/slurmd.pid"; then
  log "starting slurmd"; /usr/sbin/slurmd
fi
for _ in $(seq 1 60); do
  state=$(sinfo -h -n "$NODE_NAME" -o %T 2>/dev/null || true)
  case "$state" in idle*|mixed*|alloc*) break;; esac
  case "$state" in down*|drain*)
    scontrol update NodeName="$NODE_NAME" State=RESUME 2>/dev/null || true;;
  esac
  sleep 0.5
done
if ! sinfo -h -n "$NODE_NAME" -o %T | grep -Eq 'idle|mixed|alloc'; then
  echo "local-slurm-up: Slurm node $NODE_NAME is not ready:" >&2
  sinfo >&2 || true
  tail -20 "$RUN/log/slurmd.log" >&2 || true
  exit 1
fi

# ------------------------------------------------------- login user + sshd
if ! id "$REMOTE_USER" >/dev/null 2>&1; then
  log "creating user $REMOTE_USER (home $REMOTE_HOME)"
  useradd -m -d "$REMOTE_HOME" -s /bin/bash "$REMOTE_USER"
fi
# sshd with UsePAM=no treats an unset ('!') password as a locked account.
usermod -p '*' "$REMOTE_USER"
mkdir -p "$REMOTE_HOME/.ssh"

mkdir -p "$CLIENT_HOME/.ssh" "$CLIENT_HOME/.slurm"
chmod 700 "$CLIENT_HOME/.ssh"
KEY="$CLIENT_HOME/.ssh/local_slurm_ed25519"
[ -f "$KEY" ] || ssh-keygen -q -t ed25519 -N '' -C local-slurm -f "$KEY"
touch "$REMOTE_HOME/.ssh/authorized_keys"
grep -qF "$(cat "$KEY.pub")" "$REMOTE_HOME/.ssh/authorized_keys" \
  || cat "$KEY.pub" >> "$REMOTE_HOME/.ssh/authorized_keys"
chown -R "$REMOTE_USER:" "$REMOTE_HOME"
chmod 700 "$REMOTE_HOME/.ssh"; chmod 600 "$REMOTE_HOME/.ssh/authorized_keys"

[ -f "$RUN/ssh/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -f "$RUN/ssh/ssh_host_ed25519_key"
cat > "$RUN/ssh/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $SSH_PORT
HostKey $RUN/ssh/ssh_host_ed25519_key
PidFile $RUN/sshd.pid
AllowUsers $REMOTE_USER
AuthorizedKeysFile .ssh/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
UsePAM no
PrintMotd no
# SkyPilot opens many sessions over ControlMaster connections.
MaxSessions 200
MaxStartups 200:30:400
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
mkdir -p /run/sshd && chmod 755 /run/sshd
/usr/sbin/sshd -t -f "$RUN/ssh/sshd_config"
if alive "$RUN/sshd.pid"; then
  kill -HUP "$(cat "$RUN/sshd.pid")"   # re-read the config
else
  log "starting sshd on 127.0.0.1:$SSH_PORT"
  /usr/sbin/sshd -f "$RUN/ssh/sshd_config"
fi

# -------------------------------------------------------- ~/.slurm/config
# SkyPilot reads this file with paramiko's SSHConfig. The Host alias becomes the SkyPilot
# region (the Slurm cluster name), and partitions become zones.
cat > "$CLIENT_HOME/.slurm/config" <<EOF
# Written by local-slurm-up.sh
Host $CLUSTER_ALIAS
  HostName 127.0.0.1
  Port $SSH_PORT
  User $REMOTE_USER
  IdentityFile $KEY
  IdentitiesOnly yes
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
EOF

# ------------------------------------------------------------------ verify
ssh_login() {
  ssh -F /dev/null -p "$SSH_PORT" -i "$KEY" -o IdentitiesOnly=yes -o BatchMode=yes \
      -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
      "$REMOTE_USER@127.0.0.1" "$@"
}
for _ in $(seq 1 20); do ssh_login true 2>/dev/null && break; sleep 0.5; done
out=$(ssh_login 'sinfo -h -o "%P %a %D %T"')
log "ssh and Slurm check: ${out//$'\n'/ }"
# --immediate keeps the check from waiting while running jobs hold every CPU or all the
# memory (a job without --mem gets the whole node's memory).
if out=$(ssh_login 'srun --immediate=10 -N1 -n1 --mem=100M hostname' 2>&1); then
  log "srun check: ${out//$'\n'/ }"
elif [ -n "$(squeue -h -t RUNNING -o %i)" ]; then
  log "warning: srun check skipped because running jobs use the node: ${out//$'\n'/ }"
else
  die "srun as $REMOTE_USER failed on an idle cluster: ${out//$'\n'/ }"
fi

# Every TCP listener of the daemons started here must be on a loopback address.
if command -v ss >/dev/null; then
  pids=$(cat "$RUN/slurmctld.pid" "$RUN/slurmd.pid" "$RUN/sshd.pid" | paste -sd'|')
  open=$(ss -Htlnp | grep -E "pid=($pids)," | awk '{print $4}' \
         | grep -Ev '^(127\.[0-9.]+|\[::1\]):' || true)
  [ -z "$open" ] || die "a Slurm or sshd listener is not on a loopback address: ${open//$'\n'/ }"
else
  log "warning: ss (iproute2) not found; listen addresses not checked"
fi

if [ "$VERIFY_PIP" = 1 ]; then
  # --dry-run resolves torch from the find-links folders and downloads nothing. It fails
  # when pip would have to fetch the CUDA build from the index.
  check_venv="$REMOTE_HOME/.cache/local-slurm-pip-check"
  log "checking pip as $REMOTE_USER: torch==$VERIFY_PIP_TORCH from local wheels"
  runuser -u "$REMOTE_USER" -- env -i HOME="$REMOTE_HOME" PATH=/usr/bin:/bin bash -ec "
    rm -rf '$check_venv'; $SYSTEM_PYTHON -m venv '$check_venv'
    trap \"rm -rf '$check_venv'\" EXIT
    '$check_venv/bin/pip' install --dry-run --no-deps --no-index -q torch==$VERIFY_PIP_TORCH" \
    || die "pip as $REMOTE_USER found no torch==$VERIFY_PIP_TORCH wheel in the find-links folders '$LOGIN_PIP_FIND_LINKS' (a 'ResolutionImpossible' above means the wheel is missing, not a real dependency conflict)"
fi

# Record the settings so that local-slurm-down.sh finds everything without them.
cat > /etc/slurm/local-slurm.env <<EOF
LOCAL_SLURM_DIR=$LOCAL_SLURM_DIR
REMOTE_USER=$REMOTE_USER
REMOTE_HOME=$REMOTE_HOME
CLIENT_HOME=$CLIENT_HOME
SSH_PORT=$SSH_PORT
CLUSTER_ALIAS=$CLUSTER_ALIAS
EOF
log "READY: Slurm cluster '$CLUSTER_ALIAS' (partition $PARTITION, ${NODE_CPUS} CPUs, ${NODE_MEM_MB} MB) via ssh $REMOTE_USER@127.0.0.1:$SSH_PORT; config $CLIENT_HOME/.slurm/config"
