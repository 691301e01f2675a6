# shellcheck shell=bash
# sky-sandbox.sh: run SkyPilot (skypilot 0.14.1) isolated in its own HOME, restricted to the
# local Slurm cluster that scripts/local-slurm-up.sh starts.
#
# Usage (bash):
#   source scripts/sky-sandbox.sh [SANDBOX_HOME]    # change the current shell
#   scripts/sky-sandbox.sh [SANDBOX_HOME] -- CMD... # run one command in the sandbox
# SANDBOX_HOME defaults to a new folder from `mktemp -d /tmp/sky-sandbox.XXXXXX`.
#
# Sourcing exports these variables. A Python test fixture must set the same ones before it
# imports sky, because sky resolves some paths, such as ~/.sky/user_hash, at import time. It
# can run `scripts/sky-sandbox.sh DIR -- true` to write the files below, then load
# DIR/.sky/sandbox.env and remove the unset variables listed after it.
#   HOME=SANDBOX_HOME
#   SKYPILOT_GLOBAL_CONFIG=$HOME/.sky/config.yaml     contains `allowed_clouds: [slurm]`
#   SKYPILOT_API_SERVER_LOCAL_PORT=<port>             the sandbox's own local API server
#   SKYPILOT_DISABLE_USAGE_COLLECTION=1
#   AWS_EC2_METADATA_DISABLED=true                    boto3 skips the instance metadata address
#   NO_GCE_CHECK=True                                 google-auth skips it too
# and unsets SKYPILOT_API_SERVER_ENDPOINT, SKYPILOT_CONFIG, SKYPILOT_PROJECT_CONFIG,
# SKYPILOT_USER_ID, SKYPILOT_DB_CONNECTION_URI and SKY_RUNTIME_DIR, any of which would point
# SkyPilot at state outside the sandbox. The exported values are also written to
# $HOME/.sky/sandbox.env (KEY=VALUE lines). SKY_SANDBOX_HOME (= HOME) and SKY_SANDBOX_PYTHON
# are exported for the helper functions.
#
# Files it writes in SANDBOX_HOME (an existing file is kept, so a second source is cheap and
# finds the same API server):
#   .sky/config.yaml       allowed_clouds: [slurm]. Only the API server reads this key, and a
#                          project .sky.yaml cannot override it.
#   .sky/user_hash         8 random hex digits. SkyPilot appends the user hash to cluster
#                          names on Slurm and to /tmp/sky_ssh_<hash>, so two sandboxes never
#                          share a cluster folder or an ssh control socket.
#   .slurm/config          copy of the local cluster's SSH config, IdentityFile rewritten
#   .ssh/local_slurm_ed25519[.pub]  copy of the client key
#   .sky/sandbox-port      the API server port, chosen once; it wins over a later
#                          SKYPILOT_API_SERVER_LOCAL_PORT
# The Slurm config and key are copied from $SKY_SANDBOX_SLURM_HOME, by default the
# CLIENT_HOME recorded in /etc/slurm/local-slurm.env, else the HOME before sourcing.
#
# Settings:
#   SKYPILOT_API_SERVER_LOCAL_PORT  port for a new sandbox [a free port on 127.0.0.1]
#   SKY_SANDBOX_SLURM_HOME          see above
#   SKY_SANDBOX_PYTHON              Python with skypilot installed, for the helper functions
#                                   [.venv/bin/python of this repository, else python3]
#
# Helper functions defined after sourcing:
#   sky_sandbox_check      enable Slurm through the SDK (the same as `sky check slurm`, which
#                          checks no other cloud) and print the enabled infra
#   sky_sandbox_api_stop   stop this sandbox's local API server (sky.api_stop())
#   sky_sandbox_leave      restore HOME and the variables above as they were before sourcing
#
# The API server itself starts on the first SDK call, on 127.0.0.1 only. Never run a bare
# `sky check` here: it probes every cloud's credentials, and some probes contact the
# instance metadata address.

_sky_sandbox_vars=(HOME SKYPILOT_GLOBAL_CONFIG SKYPILOT_API_SERVER_LOCAL_PORT
  SKYPILOT_DISABLE_USAGE_COLLECTION AWS_EC2_METADATA_DISABLED NO_GCE_CHECK
  SKYPILOT_API_SERVER_ENDPOINT SKYPILOT_CONFIG SKYPILOT_PROJECT_CONFIG SKYPILOT_USER_ID
  SKYPILOT_DB_CONNECTION_URI SKY_RUNTIME_DIR SKY_SANDBOX_PYTHON)

_sky_sandbox_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

_sky_sandbox_free_port() {
  python3 -c 'import socket
sock = socket.socket()
sock.bind(("127.0.0.1", 0))
print(sock.getsockname()[1])'
}

_sky_sandbox_enter() {
  local home=${1:-}
  local source_home=${SKY_SANDBOX_SLURM_HOME:-}
  local port

  if [ -z "$source_home" ] && [ -r /etc/slurm/local-slurm.env ]; then
    source_home=$(sed -n 's/^CLIENT_HOME=//p' /etc/slurm/local-slurm.env)
  fi
  # Inside a sandbox HOME is the sandbox itself, so fall back to the HOME from before.
  source_home=${source_home:-${_SKY_SANDBOX_SAVED_HOME:-$HOME}}
  if [ ! -r "$source_home/.slurm/config" ] || [ ! -r "$source_home/.ssh/local_slurm_ed25519" ]; then
    echo "sky-sandbox: $source_home/.slurm/config or $source_home/.ssh/local_slurm_ed25519 not found; run scripts/local-slurm-up.sh (as root) first, or set SKY_SANDBOX_SLURM_HOME" >&2
    return 1
  fi

  if [ -z "$home" ]; then
    home=$(mktemp -d /tmp/sky-sandbox.XXXXXX) || return 1
  fi
  case "$home" in
    *[[:space:]]*)
      echo "sky-sandbox: invalid SANDBOX_HOME '$home': it must not contain whitespace, which the SSH config in it cannot hold unquoted" >&2
      return 1;;
  esac
  mkdir -p "$home/.sky" "$home/.slurm" "$home/.ssh" || return 1
  home=$(cd "$home" && pwd)
  chmod 700 "$home/.ssh"

  # Save the caller's values once, so that sky_sandbox_leave can restore them.
  if [ -z "${SKY_SANDBOX_HOME:-}" ]; then
    local name
    for name in "${_sky_sandbox_vars[@]}"; do
      if [ -n "${!name+set}" ]; then
        printf -v "_SKY_SANDBOX_SAVED_$name" '%s' "${!name}"
      else
        unset "_SKY_SANDBOX_SAVED_$name"
      fi
    done
  fi

  if [ ! -s "$home/.sky/config.yaml" ]; then
    printf '# Written by sky-sandbox.sh: only the local Slurm cluster.\nallowed_clouds:\n  - slurm\n' \
      > "$home/.sky/config.yaml"
  fi
  if [ ! -s "$home/.sky/user_hash" ]; then
    od -An -N4 -tx1 /dev/urandom | tr -d ' \n' > "$home/.sky/user_hash"
  fi

  cp "$source_home/.ssh/local_slurm_ed25519" "$source_home/.ssh/local_slurm_ed25519.pub" "$home/.ssh/" || return 1
  chmod 600 "$home/.ssh/local_slurm_ed25519"
  local key_for_sed=$home/.ssh/local_slurm_ed25519
  key_for_sed=${key_for_sed//\\/\\\\}
  key_for_sed=${key_for_sed//&/\\&}
  key_for_sed=${key_for_sed//|/\\|}
  sed "s|^\([[:space:]]*IdentityFile[[:space:]]\).*|\1$key_for_sed|" \
    "$source_home/.slurm/config" > "$home/.slurm/config" || return 1

  # The port is chosen once per sandbox and stored, so that later shells reach the same
  # API server.
  if [ -s "$home/.sky/sandbox-port" ]; then
    port=$(cat "$home/.sky/sandbox-port")
  else
    port=${SKYPILOT_API_SERVER_LOCAL_PORT:-$(_sky_sandbox_free_port)} || return 1
    echo "$port" > "$home/.sky/sandbox-port"
  fi

  unset SKYPILOT_API_SERVER_ENDPOINT SKYPILOT_CONFIG SKYPILOT_PROJECT_CONFIG SKYPILOT_USER_ID \
    SKYPILOT_DB_CONNECTION_URI SKY_RUNTIME_DIR
  export HOME=$home
  export SKYPILOT_GLOBAL_CONFIG=$home/.sky/config.yaml
  export SKYPILOT_API_SERVER_LOCAL_PORT=$port
  export SKYPILOT_DISABLE_USAGE_COLLECTION=1
  export AWS_EC2_METADATA_DISABLED=true
  export NO_GCE_CHECK=True
  export SKY_SANDBOX_HOME=$home
  export SKY_SANDBOX_PYTHON=${SKY_SANDBOX_PYTHON:-}
  if [ -z "$SKY_SANDBOX_PYTHON" ]; then
    if [ -x "$_sky_sandbox_repo/.venv/bin/python" ]; then
      SKY_SANDBOX_PYTHON=$_sky_sandbox_repo/.venv/bin/python
    else
      SKY_SANDBOX_PYTHON=python3
    fi
  fi

  cat > "$home/.sky/sandbox.env" <<EOF
HOME=$home
SKYPILOT_GLOBAL_CONFIG=$SKYPILOT_GLOBAL_CONFIG
SKYPILOT_API_SERVER_LOCAL_PORT=$port
SKYPILOT_DISABLE_USAGE_COLLECTION=1
AWS_EC2_METADATA_DISABLED=true
NO_GCE_CHECK=True
EOF
  echo "sky-sandbox: HOME=$home, API server port $port (127.0.0.1)" >&2
}

sky_sandbox_check() {
  "$SKY_SANDBOX_PYTHON" -c '
import sky
from sky.client import sdk
# sky.check is the server-side module; the client call is sky.client.sdk.check.
enabled = sky.stream_and_get(sdk.check(("slurm",), verbose=False))
print(enabled)
if "Slurm" not in enabled.get("default", {}):
    raise SystemExit("sky-sandbox: Slurm is not enabled; see the check output above")
'
}

sky_sandbox_api_stop() {
  "$SKY_SANDBOX_PYTHON" -c 'import sky; sky.api_stop()'
}

sky_sandbox_leave() {
  local name saved
  for name in "${_sky_sandbox_vars[@]}"; do
    saved=_SKY_SANDBOX_SAVED_$name
    if [ -n "${!saved+set}" ]; then
      export "$name=${!saved}"
    else
      unset "$name"
    fi
    unset "$saved"
  done
  unset SKY_SANDBOX_HOME
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  # Executed, not sourced: run one command in the sandbox.
  set -eu
  sandbox_home=""
  if [ $# -gt 0 ] && [ "$1" != "--" ]; then sandbox_home=$1; shift; fi
  if [ $# -lt 2 ] || [ "$1" != "--" ]; then
    echo "usage: source $0 [SANDBOX_HOME]" >&2
    echo "   or: $0 [SANDBOX_HOME] -- COMMAND [ARG...]" >&2
    exit 2
  fi
  shift
  _sky_sandbox_enter "$sandbox_home"
  exec "$@"
else
  _sky_sandbox_enter "${1:-}"
fi
