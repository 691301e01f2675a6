"""End to end on the local Slurm cluster, through the CLI and SkyPilot's SDK, as a user runs it.

One cluster serves the module: the tiny LoRA launch, then tiny full fine-tuning on the same
cluster, status, logs, the SkyPilot failure cases, and down (twice). Recognisable secret values
are set for the launch and searched for in every output.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from gptoss_ft.metrics import parse_metrics, training_records
from tests.launcher.sandbox import CATALOG_DIR, Sandbox, close_sandbox, cluster_settings, login_home, open_sandbox

pytestmark = pytest.mark.slurm

SECRETS = {
    "HF_TOKEN": "hf_e2eSECRETvalue7f3a9",
    "WANDB_API_KEY": "wandb-e2eSECRETvalue51c0",
    "GFT_PRIVATE_SETTING": "private-e2eSECRETvalue9d2e",
}
SECRET_PATTERN = re.compile("e2eSECRETvalue")
MAX_STEPS = 20


@pytest.fixture(scope="module")
def settings() -> dict[str, str]:
    found = cluster_settings()
    if found is None:
        if os.environ.get("GPTOSS_FT_REQUIRE_SLURM") == "1":
            pytest.fail("the local Slurm cluster is not set up: run scripts/local-slurm-up.sh as root")
        pytest.skip("the local Slurm cluster is not set up (scripts/local-slurm-up.sh, as root)")
    return found


@pytest.fixture(scope="module")
def sandbox(settings: dict[str, str]) -> Iterator[Sandbox]:
    box = open_sandbox()
    box.env.update(SECRETS)
    yield box
    close_sandbox(box)


@pytest.fixture(scope="module")
def cluster(sandbox: Sandbox) -> Iterator[str]:
    name = f"gptoss-e2e-{uuid.uuid4().hex[:6]}"
    yield name
    # Whatever the tests did, leave no cluster behind.
    sandbox.run("down", name, timeout=300)


@pytest.fixture(scope="module")
def lora_launch(sandbox: Sandbox, cluster: str) -> subprocess.CompletedProcess[str]:
    return sandbox.run(
        "launch",
        "tiny",
        "--method",
        "lora",
        "--infra",
        "slurm",
        "--cluster",
        cluster,
        "--set",
        f"training.max_steps={MAX_STEPS}",
        "--set",
        "secrets=[HF_TOKEN, WANDB_API_KEY, GFT_PRIVATE_SETTING]",
        timeout=900,
    )


def output_dir(settings: dict[str, str], cluster: str, recipe: str) -> Path:
    return login_home(settings) / "gptoss-ft-runs" / cluster / recipe


def test_lora_launch_succeeds(lora_launch: subprocess.CompletedProcess[str]) -> None:
    assert lora_launch.returncode == 0, lora_launch.stdout[-3000:] + lora_launch.stderr[-3000:]
    assert "Traceback" not in lora_launch.stderr


def test_lora_loss_goes_down(lora_launch: subprocess.CompletedProcess[str]) -> None:
    records = training_records(parse_metrics(lora_launch.stdout))
    assert len(records) == MAX_STEPS
    assert records[-1].step == MAX_STEPS
    assert records[-1].values["loss"] < records[0].values["loss"]
    assert "loss: " in lora_launch.stdout
    # Assistant-only loss on the GSM8K slice: the model starts to predict the answer tokens.
    assert records[-1].values["mean_token_accuracy"] > records[0].values["mean_token_accuracy"]


def test_lora_adapter_saved(lora_launch: subprocess.CompletedProcess[str], settings: dict[str, str], cluster: str) -> None:
    final = output_dir(settings, cluster, "tiny-lora") / "final"
    assert (final / "adapter_config.json").is_file()
    assert (final / "adapter_model.safetensors").stat().st_size > 0


def test_status_shows_progress(lora_launch: subprocess.CompletedProcess[str], sandbox: Sandbox, cluster: str) -> None:
    result = sandbox.run("status")
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if cluster in line)
    assert "tiny-lora" in row
    assert "UP" in row
    assert "SUCCEEDED" in row
    assert f" {MAX_STEPS} " in row


def test_logs_of_finished_job(lora_launch: subprocess.CompletedProcess[str], sandbox: Sandbox, cluster: str) -> None:
    result = sandbox.run("logs", cluster, "--no-follow")
    assert result.returncode == 0, result.stderr
    assert len(training_records(parse_metrics(result.stdout))) == MAX_STEPS
    followed = sandbox.run("logs", cluster, timeout=120)
    assert followed.returncode == 0


def test_full_on_same_cluster(lora_launch: subprocess.CompletedProcess[str], sandbox: Sandbox, settings: dict[str, str], cluster: str) -> None:
    result = sandbox.run(
        "launch", "tiny", "--method", "full", "--cluster", cluster, "--set", "training.max_steps=10", timeout=900
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    records = training_records(parse_metrics(result.stdout))
    assert records[-1].values["loss"] < records[0].values["loss"]
    assert records[-1].values["mean_token_accuracy"] > records[0].values["mean_token_accuracy"]
    final = output_dir(settings, cluster, "tiny-full") / "final"
    assert (final / "config.json").is_file()
    assert list(final.glob("*.safetensors"))


def test_secrets_never_shown(lora_launch: subprocess.CompletedProcess[str], sandbox: Sandbox, cluster: str) -> None:
    outputs = {
        "launch stdout": lora_launch.stdout,
        "launch stderr": lora_launch.stderr,
        "status": sandbox.run("status").stdout,
        "logs": sandbox.run("logs", cluster, "--no-follow").stdout,
        "render": sandbox.run("render", "tiny", "--cluster", cluster).stdout,
    }
    state = Path(sandbox.env["GPTOSS_FT_HOME"])
    for path in state.rglob("*"):
        if path.is_file() and path.stat().st_size < 5_000_000:
            outputs[str(path)] = path.read_text(errors="replace")
    for where, text in outputs.items():
        assert not SECRET_PATTERN.search(text), f"a secret value appears in {where}"
    records = json.loads((state / "runs.json").read_text())
    assert cluster in records


@pytest.mark.parametrize(
    ("model", "method", "hardware"),
    [("20b", "lora", "1 x H100:2"), ("20b", "full", "1 x H100:8"), ("120b", "lora", "1 x H100:8"), ("120b", "full", "4 x H100:8")],
)
def test_gpu_dryrun_one_line(sandbox: Sandbox, model: str, method: str, hardware: str) -> None:
    if not CATALOG_DIR.is_dir():
        pytest.skip(f"SkyPilot's catalog copy {CATALOG_DIR} is missing; planning would try to download it")
    result = sandbox.run("launch", model, "--method", method, "--dryrun", timeout=180)
    assert f"{model}-{method}: " in result.stdout
    assert f"on {hardware} " in result.stdout
    assert "checked by SkyPilot's parser" in result.stdout
    # Only Slurm is enabled here, and it has no H100s: the plan step fails in one line.
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: no enabled infra offers these resources"), result.stderr


def test_missing_cluster_errors(sandbox: Sandbox) -> None:
    for args, needle in [
        (("logs", "gptoss-no-such-cluster", "--no-follow"), "does not exist"),
        (("down", "gptoss-no-such-cluster"), "was not launched by gptoss-ft"),
    ]:
        result = sandbox.run(*args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, result.stderr
        assert needle in lines[0]


def test_unreachable_api_server(sandbox: Sandbox, cluster: str) -> None:
    env = {**sandbox.env, "SKYPILOT_API_SERVER_ENDPOINT": "http://127.0.0.1:9"}
    result = subprocess.run(
        [*sandbox_command(sandbox), "logs", cluster, "--no-follow"], env=env, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "cannot reach the SkyPilot API server" in result.stderr


def sandbox_command(sandbox: Sandbox) -> list[str]:
    return [sandbox.env["PATH"].split(":")[0] + "/gptoss-ft"]


def test_interrupted_launch_is_visible(sandbox: Sandbox) -> None:
    name = f"gptoss-int-{uuid.uuid4().hex[:6]}"
    state = Path(sandbox.env["GPTOSS_FT_HOME"])
    process = subprocess.Popen(
        [*sandbox_command(sandbox), "launch", "tiny", "--infra", "slurm", "--cluster", name, "--detach"],
        env=sandbox.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            records = state / "runs.json"
            if records.exists() and name in records.read_text():
                break
            time.sleep(0.2)
        time.sleep(2)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=180)
        assert process.returncode == 130, stdout + stderr
        assert "Traceback" not in stderr
        status = sandbox.run("status", "--no-progress")
        assert name in status.stdout
    finally:
        if process.poll() is None:
            process.kill()
        down = sandbox.run("down", name, timeout=300)
    assert down.returncode == 0, down.stderr
    assert name not in sandbox.run("status", "--no-progress").stdout


def test_down_twice(lora_launch: subprocess.CompletedProcess[str], sandbox: Sandbox, settings: dict[str, str], cluster: str) -> None:
    first = sandbox.run("down", cluster, timeout=300)
    assert first.returncode == 0, first.stderr
    assert "is down" in first.stdout
    second = sandbox.run("down", cluster)
    assert second.returncode == 0, second.stderr
    assert "already down" in second.stdout
    assert cluster not in sandbox.run("status").stdout
    # Output in the login user's home outlives the cluster.
    assert (output_dir(settings, cluster, "tiny-lora") / "final" / "adapter_config.json").is_file()
    logs = sandbox.run("logs", cluster, "--no-follow")
    assert logs.returncode == 2
    assert "Traceback" not in logs.stderr
