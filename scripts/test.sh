#!/usr/bin/env bash
# The whole test suite, from a fresh clone: create both environments, bring up the local Slurm
# cluster (root only), then run the launcher and data tests in .venv and the trainer tests in
# .venv-train. The Slurm tests launch through the SkyPilot SDK in a temporary HOME restricted to
# that cluster, with usage collection off.
#
# Usage: scripts/test.sh [PYTEST_ARGS...]     e.g. scripts/test.sh -x -k render
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

scripts/setup-venvs.sh all
if [ "$(id -u)" = 0 ]; then
  scripts/local-slurm-up.sh
  # Without the cluster the Slurm tests would skip; here they must run.
  export GPTOSS_FT_REQUIRE_SLURM=1
fi

status=0
.venv/bin/python -m pytest tests/launcher tests/data "$@" || status=$?
.venv-train/bin/python -m pytest tests/trainer "$@" || status=$?
exit "$status"
