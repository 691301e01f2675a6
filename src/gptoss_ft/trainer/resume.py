"""The resume decision of a run: which checkpoint to load, and whether any training is left."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TypeVar

import torch
from accelerate import PartialState
from trl import SFTTrainer

from gptoss_ft.cli.errors import UserError
from gptoss_ft.trainer.checkpoints import (
    MARKER_NAME,
    find_resume_checkpoint,
    list_checkpoints,
    remove_incomplete,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

# The recipe of the run, written into the output dir. Its presence marks the folder as gptoss-ft's.
RECIPE_RECORD_NAME = "gptoss-ft-recipe.yaml"


def broadcast_from_main(value: T) -> T:
    """Return the main process's `value` on every process (a no-op in a single process)."""
    if PartialState().num_processes == 1:
        return value
    shared = [value]
    torch.distributed.broadcast_object_list(shared, src=0)
    return shared[0]


def claim_output_dir(output_dir: Path, recipe_text: str) -> tuple[Path | None, int]:
    """Take output_dir for this run and return the checkpoint to resume from and its step.

    Returns (None, 0) to start from scratch. The main process decides, so that every process loads
    the same checkpoint even if their views of the folder differ. It also deletes incomplete
    checkpoints, so that the Trainer never writes into one, and records the recipe in
    RECIPE_RECORD_NAME. Raises UserError when output_dir has checkpoints that another program wrote,
    because those would be deleted or resumed.
    """
    # NOTE: on several nodes the output dir must be shared, such as a bucket mount. The Trainer
    # saves checkpoints on the main process only, so other nodes cannot load a node-local one.
    outcome: tuple[str | None, str | None, int] = (None, None, 0)
    if PartialState().is_main_process:
        outcome = _claim_on_main(output_dir, recipe_text)
    problem, path, step = broadcast_from_main(outcome)
    if problem is not None:
        raise UserError(problem)
    return (Path(path) if path else None), step


def _claim_on_main(output_dir: Path, recipe_text: str) -> tuple[str | None, str | None, int]:
    checkpoints = list_checkpoints(output_dir)
    record = output_dir / RECIPE_RECORD_NAME
    ours = record.is_file() or any((folder / MARKER_NAME).is_file() for _, folder in checkpoints)
    if checkpoints and not ours:
        names = ", ".join(folder.name for _, folder in checkpoints[:3])
        problem = (
            f"{output_dir} has checkpoints that gptoss-ft did not write ({names}) and no {RECIPE_RECORD_NAME}; "
            "pass another --output-dir, or move them away"
        )
        return problem, None, 0

    output_dir.mkdir(parents=True, exist_ok=True)
    record.write_text(recipe_text, encoding="utf-8")
    decision = find_resume_checkpoint(output_dir)
    for folder, reason in decision.incomplete:
        logger.warning("Skipping incomplete checkpoint %s: %s", folder.name, reason)
    remove_incomplete(decision)
    if decision.checkpoint is None:
        logger.info("No complete checkpoint in %s; training starts at step 0", output_dir)
        return None, None, 0
    logger.info("Resuming from %s (step %d)", decision.checkpoint, decision.step)
    return None, str(decision.checkpoint), decision.step


def planned_steps(trainer: SFTTrainer) -> int:
    """Return the optimizer steps the run trains in total: max_steps, or what its epochs come to."""
    *_, max_steps = trainer.set_initial_training_values(trainer.args, trainer.get_train_dataloader())
    return max_steps
