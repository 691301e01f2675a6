#!/usr/bin/env bash
# Create the two environments gptoss-ft needs, next to this repository:
#   .venv        the launcher: gptoss-ft with SkyPilot 0.14.1
#   .venv-train  the trainer: gptoss-ft with torch, transformers, TRL, PEFT (for local training
#                and the trainer tests)
# They are separate because skypilot 0.14.1 pins click<8.2 while transformers 5 needs
# huggingface-hub 2, which needs click>=8.4.2. Idempotent: a second run only checks.
#
# Usage: scripts/setup-venvs.sh [launch|train|all]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
which_envs=${1:-all}
PYTHON=${PYTHON:-python3}
# A CPU build of torch. On machines with a local wheel folder pip finds it through its config;
# elsewhere, PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu gives the same build.
TORCH_REQUIREMENT=${TORCH_REQUIREMENT:-torch==2.13.0}

make_venv() {  # dir extras
  local dir=$1 extras=$2
  if [ ! -x "$dir/bin/python" ]; then
    echo "creating $dir"
    "$PYTHON" -m venv "$dir"
    "$dir/bin/pip" install --quiet --disable-pip-version-check --upgrade pip
  fi
  "$dir/bin/pip" install --quiet --disable-pip-version-check -e ".[$extras]"
}

if [ "$which_envs" = all ] || [ "$which_envs" = launch ]; then
  make_venv .venv launch,test
fi
if [ "$which_envs" = all ] || [ "$which_envs" = train ]; then
  if [ ! -x .venv-train/bin/python ] || ! .venv-train/bin/python -c 'import torch' 2>/dev/null; then
    "$PYTHON" -m venv .venv-train
    .venv-train/bin/pip install --quiet --disable-pip-version-check "$TORCH_REQUIREMENT"
  fi
  make_venv .venv-train train,test
fi
