"""Completeness markers for checkpoints, the resume decision, and checkpoint rotation.

transformers 5.25's Trainer writes checkpoint-N in place (`Trainer._save_checkpoint`: model,
optimizer, scheduler, RNG state, then trainer_state.json), with no temporary folder and no rename.
A process killed mid-save therefore leaves a checkpoint-N that looks normal but is incomplete. After
the Trainer has written every file, `write_marker` records each file's size in MARKER_NAME; resume
only trusts a checkpoint whose marker exists and whose files still have those sizes.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

logger = logging.getLogger(__name__)

MARKER_NAME = "gptoss-ft-complete.json"
MARKER_FORMAT = 1
CHECKPOINT_PATTERN = re.compile(r"^checkpoint-(\d+)$")
# The Trainer reads this file first on resume, so a checkpoint without it cannot be resumed.
TRAINER_STATE_NAME = "trainer_state.json"


def checkpoint_step(path: Path) -> int | None:
    """Return N for a folder named checkpoint-N, else None."""
    match = CHECKPOINT_PATTERN.match(path.name)
    return int(match.group(1)) if match else None


def list_checkpoints(output_dir: Path) -> list[tuple[int, Path]]:
    """Return the checkpoint-N folders in output_dir as (N, path), oldest step first."""
    if not output_dir.is_dir():
        return []
    found = []
    for path in output_dir.iterdir():
        step = checkpoint_step(path)
        if step is not None and path.is_dir():
            found.append((step, path))
    return sorted(found)


def _fsync(path: Path) -> None:
    # Without fsync, a node that loses power can keep the marker and lose file contents.
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some FUSE mounts reject fsync, which is no reason to fail the save
    finally:
        os.close(fd)


def write_marker(folder: Path, step: int) -> Path:
    """Flush every file in `folder` to disk, then atomically write the marker listing their sizes."""
    files: dict[str, int] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name != MARKER_NAME and not path.name.startswith(f".{MARKER_NAME}"):
            _fsync(path)
            files[path.relative_to(folder).as_posix()] = path.stat().st_size
    for directory in [folder, *(path for path in folder.rglob("*") if path.is_dir())]:
        _fsync(directory)

    marker = {
        "format": MARKER_FORMAT,
        "step": step,
        "written_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "files": files,
    }
    staging = folder / f".{MARKER_NAME}.tmp"
    with staging.open("w", encoding="utf-8") as handle:
        json.dump(marker, handle, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    marker_path = folder / MARKER_NAME
    os.replace(staging, marker_path)
    _fsync(folder)
    return marker_path


def marker_problem(folder: Path, step: int | None = None) -> str | None:
    """Return why `folder` is not a complete save, or None when its marker and files agree."""
    marker_path = folder / MARKER_NAME
    if not marker_path.is_file():
        return f"no {MARKER_NAME}, so the save did not finish"
    try:
        marker = json.loads(marker_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return f"{MARKER_NAME} is unreadable ({exc})"
    if not isinstance(marker, dict) or marker.get("format") != MARKER_FORMAT:
        return f"{MARKER_NAME} has an unknown format (expected format {MARKER_FORMAT})"
    if step is not None and marker.get("step") != step:
        return f"{MARKER_NAME} records step {marker.get('step')}, but the folder is for step {step}"
    files = marker.get("files")
    if not isinstance(files, dict) or not files:
        return f"{MARKER_NAME} lists no files"

    for name, expected_size in files.items():
        path = folder / name
        if not path.is_file():
            return f"{name} is missing"
        actual_size = path.stat().st_size
        if actual_size != expected_size:
            return f"{name} is {actual_size} bytes, but {expected_size} bytes were written"
    return None


def is_complete_checkpoint(folder: Path) -> bool:
    """Return whether a checkpoint-N folder has a valid marker and contains trainer_state.json."""
    return _checkpoint_problem(folder) is None


def _checkpoint_problem(folder: Path) -> str | None:
    problem = marker_problem(folder, checkpoint_step(folder))
    if problem is None and not (folder / TRAINER_STATE_NAME).is_file():
        problem = f"{TRAINER_STATE_NAME} is missing"
    return problem


@dataclass
class ResumeDecision:
    """The checkpoint to resume from (None: start at step 0) and the checkpoints passed over."""

    checkpoint: Path | None = None
    step: int = 0
    # (folder, reason) for each incomplete checkpoint, newest first.
    incomplete: list[tuple[Path, str]] = field(default_factory=list)


def find_resume_checkpoint(output_dir: Path) -> ResumeDecision:
    """Return the newest complete checkpoint in output_dir, and every incomplete one with the reason."""
    decision = ResumeDecision()
    for step, folder in reversed(list_checkpoints(output_dir)):
        problem = _checkpoint_problem(folder)
        if problem is not None:
            decision.incomplete.append((folder, problem))
        elif decision.checkpoint is None:
            decision.checkpoint = folder
            decision.step = step
    return decision


def remove_incomplete(decision: ResumeDecision) -> None:
    """Delete the incomplete checkpoints of a decision.

    The Trainer writes checkpoint-N into an existing folder without emptying it, so a stale file
    (or a stale marker whose sizes happen to match) left from a crashed save would mix with the new
    save. An incomplete checkpoint can never be resumed, so it is deleted rather than kept.
    """
    for folder, _ in decision.incomplete:
        logger.info("Deleting incomplete checkpoint %s", folder)
        shutil.rmtree(folder, ignore_errors=True)


def rotate_checkpoints(output_dir: Path, keep: int | None, newest: Path) -> list[Path]:
    """Delete the oldest complete checkpoints so that at most `keep` remain, never deleting `newest`.

    This replaces the Trainer's own rotation (save_total_limit), which deletes older checkpoints
    before the new one is complete: a crash at that moment could leave no resumable checkpoint.
    """
    if keep is None:
        return []
    complete = [folder for _, folder in list_checkpoints(output_dir) if is_complete_checkpoint(folder)]
    removable = [folder for folder in complete if folder != newest]
    excess = len(complete) - keep
    removed = []
    for folder in removable[: max(excess, 0)]:
        logger.info("Deleting checkpoint %s (training.save_total_limit is %d)", folder, keep)
        # The marker goes first, so a crash mid-delete leaves a folder that resume skips.
        (folder / MARKER_NAME).unlink(missing_ok=True)
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def marker_step(folder: Path) -> int | None:
    """Return the step recorded in a complete folder's marker, or None when the folder is incomplete."""
    if marker_problem(folder) is not None:
        return None
    marker = json.loads((folder / MARKER_NAME).read_text(encoding="utf-8"))
    step = marker.get("step")
    return step if isinstance(step, int) else None
