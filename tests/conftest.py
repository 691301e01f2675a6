"""Shared fixtures. Tests never reach outside this machine: SkyPilot is confined to Slurm in a
temporary HOME with usage collection off (see tests/launcher/sandbox.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Give every test its own gptoss-ft state folder (stages, run records)."""
    state = tmp_path / "gptoss-ft-home"
    monkeypatch.setenv("GPTOSS_FT_HOME", str(state))
    monkeypatch.setenv("SKYPILOT_DISABLE_USAGE_COLLECTION", "1")
    return state
