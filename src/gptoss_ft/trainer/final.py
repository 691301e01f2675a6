"""Save the final model or adapter to output_dir/final, atomically and with a completeness marker."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from accelerate import PartialState
from trl import SFTTrainer

from gptoss_ft.trainer.checkpoints import marker_step, write_marker

logger = logging.getLogger(__name__)

FINAL_DIR_NAME = "final"


def final_dir(output_dir: Path) -> Path:
    return output_dir / FINAL_DIR_NAME


def complete_final_step(output_dir: Path) -> int | None:
    """Return the step of a complete output_dir/final, or None when it is missing or incomplete."""
    return marker_step(final_dir(output_dir))


def save_final(trainer: SFTTrainer, output_dir: Path, method: str) -> Path:
    """Save the model (full) or the adapter (LoRA) with the tokenizer to output_dir/final.

    The files go to final.partial first and get a completeness marker. Only then does the folder
    replace an earlier final, so a crash never leaves a half-written final.
    """
    state = PartialState()
    final = final_dir(output_dir)
    staging = output_dir / f"{FINAL_DIR_NAME}.partial"
    previous = output_dir / f"{FINAL_DIR_NAME}.previous"
    if trainer.args.should_save and staging.exists():
        shutil.rmtree(staging)
    state.wait_for_everyone()

    trainer.save_model(str(staging))
    state.wait_for_everyone()

    if trainer.args.should_save:
        write_marker(staging, trainer.state.global_step)
        if previous.exists():
            shutil.rmtree(previous)
        if final.exists():
            final.rename(previous)
        staging.rename(final)
        shutil.rmtree(previous, ignore_errors=True)
        saved_kind = "adapter" if method == "lora" else "model"
        logger.info("Saved the final %s (step %d) to %s", saved_kind, trainer.state.global_step, final)
    state.wait_for_everyone()
    return final
