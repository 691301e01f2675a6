"""Shared fixtures. Tests never reach outside this machine.

At import time, before any test imports SkyPilot (which reads ~/.sky at import), HOME moves to a
temporary folder whose SkyPilot config allows only Slurm, with usage collection and cloud
metadata probes off. The Slurm tests add their own sandbox on top (tests/launcher/sandbox.py).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def _isolate_skypilot() -> None:
    original_home = Path.home()
    home = Path(tempfile.mkdtemp(prefix="gft-test-home-"))
    (home / ".sky").mkdir()
    (home / ".sky" / "config.yaml").write_text("allowed_clouds:\n  - slurm\n", encoding="utf-8")
    # Caches (the built tokenizer, pip) stay where they were, so each run does not rebuild them.
    os.environ.setdefault("XDG_CACHE_HOME", str(original_home / ".cache"))
    os.environ["HOME"] = str(home)
    os.environ["SKYPILOT_GLOBAL_CONFIG"] = str(home / ".sky" / "config.yaml")
    os.environ["SKYPILOT_DISABLE_USAGE_COLLECTION"] = "1"
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    os.environ["NO_GCE_CHECK"] = "True"
    for name in ("SKYPILOT_API_SERVER_ENDPOINT", "SKYPILOT_CONFIG", "SKYPILOT_PROJECT_CONFIG", "SKY_RUNTIME_DIR"):
        os.environ.pop(name, None)


_isolate_skypilot()


@pytest.fixture(autouse=True)
def _isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Give every test its own gptoss-ft state folder (stages, run records)."""
    state = tmp_path / "gptoss-ft-home"
    monkeypatch.setenv("GPTOSS_FT_HOME", str(state))
    return state
