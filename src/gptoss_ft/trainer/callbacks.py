"""Trainer callbacks: one parseable metrics line per log event, and checkpoint completeness markers."""

from __future__ import annotations

import json
import logging
import numbers
from pathlib import Path

from accelerate import PartialState
from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from gptoss_ft.trainer.checkpoints import MARKER_NAME, rotate_checkpoints, write_marker

logger = logging.getLogger(__name__)

# The launcher finds training metrics in the SkyPilot logs by this marker, which JSON follows.
METRICS_MARKER = "GPTOSS_FT_METRICS"


def format_metrics_line(step: int, logs: dict[str, object]) -> str:
    """Return `GPTOSS_FT_METRICS {"step": N, ...}` with every numeric value of a Trainer log event."""
    record: dict[str, object] = {"step": step}
    for key, value in logs.items():
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            record[key] = int(value) if isinstance(value, numbers.Integral) else float(value)
    return f"{METRICS_MARKER} {json.dumps(record)}"


class MetricsLogCallback(TrainerCallback):
    """Log training and eval metrics on the main process, and the start and end of training."""

    def on_train_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: object
    ) -> None:
        if state.is_world_process_zero:
            logger.info("Training starts at step %d of %d", state.global_step, state.max_steps)

    def on_log(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        logs: dict[str, object] | None = None,
        **kwargs: object,
    ) -> None:
        if state.is_world_process_zero and logs:
            logger.info("%s", format_metrics_line(state.global_step, logs))

    def on_train_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: object
    ) -> None:
        if state.is_world_process_zero:
            logger.info("Training ended at step %d", state.global_step)


class CheckpointMarkerCallback(TrainerCallback):
    """Mark each checkpoint complete once the Trainer has written it, then rotate old checkpoints.

    transformers 5.25 calls on_save right after `Trainer._save_checkpoint` returns, on every process.
    The Trainer's own rotation must be off (save_total_limit=None), because `save_total_limit`
    here replaces it.
    """

    def __init__(self, save_total_limit: int | None) -> None:
        self.save_total_limit = save_total_limit

    def on_step_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: object
    ) -> None:
        # A marker left in the folder about to be written would vouch for a half-written save.
        if control.should_save and args.should_save:
            stale = Path(args.output_dir) / f"checkpoint-{state.global_step}" / MARKER_NAME
            if stale.exists():
                logger.warning("Removing stale %s before saving step %d", stale, state.global_step)
                stale.unlink()

    def on_save(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: object
    ) -> None:
        # With FSDP every process writes shards of the optimizer state, so mark only after all finished.
        distributed = PartialState()
        distributed.wait_for_everyone()
        if args.should_save:
            folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            write_marker(folder, state.global_step)
            logger.info("Saved checkpoint %s", folder)
            rotate_checkpoints(Path(args.output_dir), self.save_total_limit, newest=folder)
        distributed.wait_for_everyone()
