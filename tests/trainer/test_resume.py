"""Resume: after SIGKILL, past incomplete checkpoints, and after a finished run.

Every run here uses the same recipe and overrides as `reference_run`, an uninterrupted run, so a
resumed run must log the same loss at each step, bit for bit.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gptoss_ft.trainer.checkpoints import MARKER_NAME, marker_problem

from .helpers import GPTOSS_FT, TINY_FULL, TINY_LORA, captured_trainer_log, losses_by_step, set_options

MAX_STEPS = 6
RESUME_OVERRIDES = [
    f"training.max_steps={MAX_STEPS}",
    "training.save_steps=2",
    "training.save_total_limit=3",
    "training.per_device_train_batch_size=2",
]
# Generous: a step takes about 1 s on a 2-core CPU, and process start about 10 s.
SUBPROCESS_TIMEOUT_S = 300


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[int, float]]:
    """Run without interruption; return the output dir (checkpoints 2, 4 and 6) and the loss per step."""
    from gptoss_ft.trainer.main import run_training

    output_dir = tmp_path_factory.mktemp("reference") / "run"
    with captured_trainer_log() as messages:
        run_training(TINY_LORA, output_dir=output_dir, overrides=RESUME_OVERRIDES)
    losses = losses_by_step(messages)
    assert sorted(losses) == list(range(1, MAX_STEPS + 1))
    return output_dir, losses


def trained_steps(output_dir: Path) -> int:
    state = json.loads((output_dir / f"checkpoint-{MAX_STEPS}" / "trainer_state.json").read_text())
    return state["global_step"]


def kill_when(command: list[str], log_path: Path, ready: Callable[[], bool], what: str, *, poll_s: float) -> int:
    """Run `command`, SIGKILL it as soon as `ready()` is true, and return its exit code."""
    # The log goes to a file, because a pipe that is not read could fill up and stall the trainer.
    with log_path.open("w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + SUBPROCESS_TIMEOUT_S
            while not ready():
                assert process.poll() is None, f"training exited before {what}:\n{log_path.read_text()}"
                assert time.monotonic() < deadline, f"timed out waiting until {what}"
                time.sleep(poll_s)
            process.send_signal(signal.SIGKILL)
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()
    return process.returncode


def test_sigkill_then_resume(tmp_path: Path, reference_run: tuple[Path, dict[int, float]]) -> None:
    _, reference_losses = reference_run
    output_dir = tmp_path / "run"
    command = [str(GPTOSS_FT), "train", str(TINY_LORA), "-o", str(output_dir), *set_options(RESUME_OVERRIDES)]
    first_log = tmp_path / "first.log"
    marker = output_dir / "checkpoint-2" / MARKER_NAME

    returncode = kill_when(command, first_log, marker.exists, "checkpoint-2 was complete", poll_s=0.05)

    assert returncode == -signal.SIGKILL
    assert not (output_dir / "final").exists()
    first_losses = losses_by_step(first_log.read_text().splitlines())
    assert first_losses == {step: reference_losses[step] for step in first_losses}

    second = subprocess.run(command, capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S)
    second_log = second.stdout + second.stderr

    assert second.returncode == 0, second_log
    assert f"Resuming from {output_dir / 'checkpoint-2'} (step 2)" in second_log
    resumed_losses = losses_by_step(second_log.splitlines())
    assert resumed_losses == {step: reference_losses[step] for step in range(3, MAX_STEPS + 1)}
    assert trained_steps(output_dir) == MAX_STEPS
    assert marker_problem(output_dir / "final") is None


def test_incomplete_checkpoints_are_skipped(
    tmp_path: Path, reference_run: tuple[Path, dict[int, float]], trainer_logs: pytest.LogCaptureFixture
) -> None:
    from gptoss_ft.trainer.main import run_training

    reference_dir, reference_losses = reference_run
    output_dir = tmp_path / "run"
    shutil.copytree(reference_dir, output_dir)
    shutil.rmtree(output_dir / "final")
    (output_dir / "checkpoint-6" / MARKER_NAME).unlink()
    adapter = output_dir / "checkpoint-4" / "adapter_model.safetensors"
    full_size = adapter.stat().st_size
    with adapter.open("r+b") as handle:
        handle.truncate(full_size // 2)

    run_training(TINY_LORA, output_dir=output_dir, overrides=RESUME_OVERRIDES)

    messages = trainer_logs.messages
    assert "Skipping incomplete checkpoint checkpoint-6: no gptoss-ft-complete.json, so the save did not finish" in messages
    truncated_reason = (
        f"Skipping incomplete checkpoint checkpoint-4: adapter_model.safetensors is {full_size // 2} bytes, "
        f"but {full_size} bytes were written"
    )
    assert truncated_reason in messages
    assert f"Resuming from {output_dir / 'checkpoint-2'} (step 2)" in messages
    assert losses_by_step(messages) == {step: reference_losses[step] for step in range(3, MAX_STEPS + 1)}
    for step in (2, 4, 6):
        assert marker_problem(output_dir / f"checkpoint-{step}", step) is None, step
    assert trained_steps(output_dir) == MAX_STEPS


def test_finished_run_is_not_retrained(
    tmp_path: Path, reference_run: tuple[Path, dict[int, float]], trainer_logs: pytest.LogCaptureFixture
) -> None:
    from safetensors.torch import load_file

    from gptoss_ft.trainer.main import run_training

    reference_dir, _ = reference_run
    output_dir = tmp_path / "run"
    shutil.copytree(reference_dir, output_dir)
    shutil.rmtree(output_dir / "final")
    checkpoint = output_dir / f"checkpoint-{MAX_STEPS}"

    # A crash between the last checkpoint and the final save: the final comes from the checkpoint.
    final = run_training(TINY_LORA, output_dir=output_dir, overrides=RESUME_OVERRIDES)

    assert f"Resuming from {checkpoint} (step {MAX_STEPS})" in trainer_logs.messages
    assert losses_by_step(trainer_logs.messages) == {}, "a finished run trained again"
    assert marker_problem(final) is None
    saved = load_file(final / "adapter_model.safetensors")
    expected = load_file(checkpoint / "adapter_model.safetensors")
    assert saved.keys() == expected.keys()
    for name, tensor in expected.items():
        assert saved[name].equal(tensor), name
    assert trained_steps(output_dir) == MAX_STEPS

    # With a complete final, a rerun keeps it as it is.
    written_at = (final / "adapter_model.safetensors").stat().st_mtime_ns
    trainer_logs.clear()

    run_training(TINY_LORA, output_dir=output_dir, overrides=RESUME_OVERRIDES)

    assert f"Training already finished at step {MAX_STEPS}; the final output is {final}" in trainer_logs.messages
    assert (final / "adapter_model.safetensors").stat().st_mtime_ns == written_at
    assert not (output_dir / "final.partial").exists()
    assert not (output_dir / "final.previous").exists()


def test_foreign_checkpoints_are_kept(tmp_path: Path) -> None:
    from gptoss_ft.cli.errors import UserError
    from gptoss_ft.trainer.resume import RECIPE_RECORD_NAME, claim_output_dir

    foreign = tmp_path / "checkpoint-500"
    foreign.mkdir()
    (foreign / "model.safetensors").write_bytes(b"weights of another run")

    with pytest.raises(UserError, match="has checkpoints that gptoss-ft did not write \\(checkpoint-500\\)"):
        claim_output_dir(tmp_path, "name: tiny-lora\n")
    assert (foreign / "model.safetensors").is_file()
    assert not (tmp_path / RECIPE_RECORD_NAME).exists()


def test_claimed_dir_records_recipe(tmp_path: Path) -> None:
    from gptoss_ft.trainer.resume import RECIPE_RECORD_NAME, claim_output_dir

    output_dir = tmp_path / "run"
    unmarked = output_dir / "checkpoint-3"

    assert claim_output_dir(output_dir, "name: tiny-lora\n") == (None, 0)
    assert (output_dir / RECIPE_RECORD_NAME).read_text() == "name: tiny-lora\n"
    # Once the folder is gptoss-ft's, a checkpoint without a marker is a crashed save and goes.
    unmarked.mkdir()
    assert claim_output_dir(output_dir, "name: tiny-lora\n") == (None, 0)
    assert not unmarked.exists()


def test_sigkill_during_save(tmp_path: Path) -> None:
    """Kill full fine-tuning while checkpoint-4 is being written; resume must skip it."""
    output_dir = tmp_path / "run"
    command = [str(GPTOSS_FT), "train", str(TINY_FULL), "-o", str(output_dir), *set_options(RESUME_OVERRIDES)]
    first_log = tmp_path / "first.log"
    saving = output_dir / "checkpoint-4"

    # A full checkpoint (weights and AdamW states, about 320 MB) takes long enough to write that
    # polling every millisecond lands inside the save.
    returncode = kill_when(command, first_log, saving.exists, "checkpoint-4 was started", poll_s=0.001)

    assert returncode == -signal.SIGKILL
    assert not (saving / MARKER_NAME).exists(), "the kill came after the save had finished"
    assert marker_problem(output_dir / "checkpoint-2", 2) is None

    second = subprocess.run(command, capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S)
    second_log = second.stdout + second.stderr

    assert second.returncode == 0, second_log
    assert "Skipping incomplete checkpoint checkpoint-4" in second_log
    assert f"Resuming from {output_dir / 'checkpoint-2'} (step 2)" in second_log
    assert sorted(losses_by_step(second_log.splitlines())) == list(range(3, MAX_STEPS + 1))
    assert trained_steps(output_dir) == MAX_STEPS
    assert marker_problem(output_dir / "final") is None
