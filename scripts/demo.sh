#!/usr/bin/env bash
# The main job on this machine, from a fresh clone: create the launcher environment, bring up a
# one-node Slurm cluster on 127.0.0.1, launch the tiny gpt-oss with LoRA through SkyPilot,
# stream its logs to the end, show `status`, tear the cluster down and list the adapter.
#
# Run as root on Debian 12 (the Slurm cluster script installs packages and a login user).
# SkyPilot runs in its own HOME (default /tmp/gptoss-ft-demo), restricted to that Slurm cluster
# with usage collection off, so nothing leaves the machine.
# Takes about 3 minutes the first time (package installs on the cluster), less afterwards.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
demo_home=${GPTOSS_FT_DEMO_HOME:-/tmp/gptoss-ft-demo}
cluster=${GPTOSS_FT_DEMO_CLUSTER:-gptoss-demo}

scripts/setup-venvs.sh launch
scripts/local-slurm-up.sh
# shellcheck source=sky-sandbox.sh
source scripts/sky-sandbox.sh "$demo_home"
sky_sandbox_check >/dev/null
export PATH="$repo/.venv/bin:$PATH"

gptoss-ft launch tiny --method lora --infra slurm --cluster "$cluster"
gptoss-ft status
gptoss-ft down "$cluster"

remote_home=$(getent passwd "$(sed -n 's/^REMOTE_USER=//p' /etc/slurm/local-slurm.env)" | cut -d: -f6)
echo "adapter: $remote_home/gptoss-ft-runs/$cluster/tiny-lora/final"
ls -l "$remote_home/gptoss-ft-runs/$cluster/tiny-lora/final"
sky_sandbox_api_stop
