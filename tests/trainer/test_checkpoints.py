"""Completeness markers, the resume decision and rotation, on checkpoint folders written by hand."""

from __future__ import annotations

import json
from pathlib import Path

from gptoss_ft.trainer.checkpoints import (
    MARKER_NAME,
    find_resume_checkpoint,
    is_complete_checkpoint,
    marker_problem,
    remove_incomplete,
    rotate_checkpoints,
    write_marker,
)


def make_checkpoint(output_dir: Path, step: int, *, marked: bool = True) -> Path:
    folder = output_dir / f"checkpoint-{step}"
    (folder / "nested").mkdir(parents=True)
    (folder / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    (folder / "model.safetensors").write_bytes(b"x" * (100 + step))
    (folder / "nested" / "shard.bin").write_bytes(b"y" * 10)
    if marked:
        write_marker(folder, step)
    return folder


def test_marker_lists_every_file_with_size(tmp_path: Path) -> None:
    folder = make_checkpoint(tmp_path, 3)

    marker = json.loads((folder / MARKER_NAME).read_text())

    assert marker["step"] == 3
    assert marker["files"] == {"model.safetensors": 103, "nested/shard.bin": 10, "trainer_state.json": 18}
    assert marker_problem(folder, 3) is None
    assert not list(folder.glob(f".{MARKER_NAME}*")), "the staging file of the marker was left behind"


def test_marker_problem_cases(tmp_path: Path) -> None:
    unmarked = make_checkpoint(tmp_path, 1, marked=False)
    truncated = make_checkpoint(tmp_path, 2)
    (truncated / "model.safetensors").write_bytes(b"x" * 50)
    missing = make_checkpoint(tmp_path, 3)
    (missing / "nested" / "shard.bin").unlink()
    renamed = make_checkpoint(tmp_path, 4)
    garbled = make_checkpoint(tmp_path, 5)
    (garbled / MARKER_NAME).write_text("{not json")

    assert "no gptoss-ft-complete.json" in marker_problem(unmarked, 1)
    assert marker_problem(truncated, 2) == "model.safetensors is 50 bytes, but 102 bytes were written"
    assert marker_problem(missing, 3) == "nested/shard.bin is missing"
    assert "records step 4" in marker_problem(renamed, 40)
    assert "unreadable" in marker_problem(garbled, 5)


def test_checkpoint_without_trainer_state_is_incomplete(tmp_path: Path) -> None:
    folder = tmp_path / "checkpoint-7"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"weights")
    write_marker(folder, 7)

    assert marker_problem(folder, 7) is None
    assert not is_complete_checkpoint(folder)


def test_resume_picks_newest_complete(tmp_path: Path) -> None:
    make_checkpoint(tmp_path, 2)
    complete = make_checkpoint(tmp_path, 10)
    truncated = make_checkpoint(tmp_path, 20)
    (truncated / "model.safetensors").write_bytes(b"")
    unmarked = make_checkpoint(tmp_path, 30, marked=False)
    (tmp_path / "checkpoint-abc").mkdir()
    (tmp_path / "checkpoint-40").write_text("a file, not a folder")

    decision = find_resume_checkpoint(tmp_path)

    assert decision.checkpoint == complete
    assert decision.step == 10
    assert [folder for folder, _ in decision.incomplete] == [unmarked, truncated]


def test_resume_orders_steps_numerically(tmp_path: Path) -> None:
    make_checkpoint(tmp_path, 9)
    newest = make_checkpoint(tmp_path, 10)

    assert find_resume_checkpoint(tmp_path).checkpoint == newest


def test_resume_without_checkpoints(tmp_path: Path) -> None:
    assert find_resume_checkpoint(tmp_path / "missing").checkpoint is None
    assert find_resume_checkpoint(tmp_path).step == 0


def test_remove_incomplete_deletes_only_incomplete(tmp_path: Path) -> None:
    complete = make_checkpoint(tmp_path, 1)
    unmarked = make_checkpoint(tmp_path, 2, marked=False)

    remove_incomplete(find_resume_checkpoint(tmp_path))

    assert complete.is_dir()
    assert not unmarked.exists()


def test_rotation_keeps_newest_complete(tmp_path: Path) -> None:
    for step in (1, 2, 3):
        make_checkpoint(tmp_path, step)
    unmarked = make_checkpoint(tmp_path, 4, marked=False)
    newest = make_checkpoint(tmp_path, 5)

    removed = rotate_checkpoints(tmp_path, keep=2, newest=newest)

    assert [folder.name for folder in removed] == ["checkpoint-1", "checkpoint-2"]
    remaining = sorted(path.name for path in tmp_path.iterdir())
    assert remaining == ["checkpoint-3", "checkpoint-4", "checkpoint-5"]
    assert unmarked.is_dir(), "rotation must not count or delete an unmarked folder"


def test_rotation_disabled_without_limit(tmp_path: Path) -> None:
    for step in (1, 2, 3):
        newest = make_checkpoint(tmp_path, step)

    assert rotate_checkpoints(tmp_path, keep=None, newest=newest) == []
    assert len(list(tmp_path.iterdir())) == 3
