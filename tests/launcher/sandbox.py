"""A SkyPilot sandbox for the Slurm tests: its own HOME, API server port and Slurm-only config.

The CLI runs in subprocesses with this environment, exactly as a user would run it, so the test
process's own SkyPilot import (for parsing) never shares state with the launches.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SANDBOX_SCRIPT = REPO_ROOT / "scripts" / "sky-sandbox.sh"
CLUSTER_ENV_FILE = Path("/etc/slurm/local-slurm.env")
VENV_BIN = REPO_ROOT / ".venv" / "bin"
# A partial copy of SkyPilot's price catalog, beside the repository on the team's machines and CI.
# Without it, planning GPU tasks makes SkyPilot try to download the catalog.
CATALOG_DIR = REPO_ROOT.parent / "shared" / "skypilot-catalog" / "v8"


@dataclass
class Sandbox:
    home: Path
    env: dict[str, str]

    def run(self, *args: str, timeout: float = 600, check: bool = False) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(VENV_BIN / "gptoss-ft"), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=check,
            stdin=subprocess.DEVNULL,
        )

    def bash(self, script: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        command = f'source {SANDBOX_SCRIPT} "{self.home}" 2>/dev/null && {script}'
        return subprocess.run(
            ["bash", "-c", command], env=self.env, capture_output=True, text=True, timeout=timeout
        )


def cluster_settings() -> dict[str, str] | None:
    """Return the settings local-slurm-up.sh recorded, or None when the cluster is not set up."""
    if not CLUSTER_ENV_FILE.exists():
        return None
    settings = {}
    for line in CLUSTER_ENV_FILE.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep:
            settings[key] = value
    return settings


def login_home(settings: dict[str, str]) -> Path:
    result = subprocess.run(
        ["getent", "passwd", settings["REMOTE_USER"]], capture_output=True, text=True, check=True
    )
    return Path(result.stdout.strip().split(":")[5])


def open_sandbox() -> Sandbox:
    # A short path: SkyPilot puts sockets under HOME.
    home = Path(tempfile.mkdtemp(prefix="gft-sky-", dir="/tmp"))
    if CATALOG_DIR.is_dir():
        shutil.copytree(CATALOG_DIR, home / ".sky" / "catalogs" / "v8")
    result = subprocess.run(
        ["bash", "-c", f'source {SANDBOX_SCRIPT} "{home}" && sky_sandbox_check >/dev/null && cat "$HOME/.sky/sandbox.env"'],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "SKY_SANDBOX_PYTHON": str(VENV_BIN / "python")},
    )
    if result.returncode != 0:
        raise RuntimeError(f"sky sandbox failed: {result.stderr[-2000:]}")
    env = dict(os.environ)
    for name in ("SKYPILOT_API_SERVER_ENDPOINT", "SKYPILOT_CONFIG", "SKYPILOT_PROJECT_CONFIG", "SKY_RUNTIME_DIR"):
        env.pop(name, None)
    for line in result.stdout.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            env[key] = value
    env["GPTOSS_FT_HOME"] = str(home / "gptoss-ft")
    env["SKY_SANDBOX_PYTHON"] = str(VENV_BIN / "python")
    env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '')}"
    env.pop("XDG_CACHE_HOME", None)
    return Sandbox(home=home, env=env)


def close_sandbox(sandbox: Sandbox) -> None:
    sandbox.bash("sky_sandbox_api_stop", timeout=120)
