"""`gptoss-ft train`: fine-tune a recipe with TRL's SFTTrainer, resuming from the newest complete checkpoint."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import datasets
import torch
from accelerate import PartialState
from transformers import PrinterCallback, set_seed
from trl import SFTTrainer

from gptoss_ft.chatdata import sft_kwargs
from gptoss_ft.recipe import Recipe, dump_recipe, load_recipe
from gptoss_ft.tokenizer import load_tokenizer
from gptoss_ft.trainer.arguments import build_sft_config
from gptoss_ft.trainer.callbacks import CheckpointMarkerCallback, MetricsLogCallback
from gptoss_ft.trainer.checkpoints import find_resume_checkpoint, remove_incomplete, write_marker
from gptoss_ft.trainer.data import load_datasets
from gptoss_ft.trainer.lora import build_lora_config, check_lora_applied, check_lora_targets
from gptoss_ft.trainer.model import load_model

logger = logging.getLogger(__name__)

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FINAL_DIR_NAME = "final"


def configure_logging() -> None:
    """Send gptoss_ft's INFO lines to stderr on the main process; other processes log warnings only.

    A root handler that is already set up (by a caller or pytest) is kept. Other libraries keep
    their own levels, so their INFO lines (HTTP requests, for one) stay out of the logs.
    """
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, format=LOG_FORMAT)
    is_main = int(os.environ.get("RANK", "0")) == 0
    logging.getLogger("gptoss_ft").setLevel(logging.INFO if is_main else logging.WARNING)
    datasets.disable_progress_bars()


def resolve_output_dir(recipe: Recipe, output_dir: Path | None) -> Path:
    """Return output_dir, or output.dir/<recipe name> relative to the current directory."""
    if output_dir is None:
        output_dir = Path(recipe.output.dir).expanduser() / recipe.name
    return output_dir.resolve()


def decide_resume(output_dir: Path) -> Path | None:
    """Return the checkpoint to resume from, decided on the main process and shared with the others.

    The main process also deletes incomplete checkpoints, so the Trainer never writes into one.
    """
    state = PartialState()
    chosen = None
    if state.is_main_process:
        decision = find_resume_checkpoint(output_dir)
        for folder, reason in decision.incomplete:
            logger.warning("Skipping incomplete checkpoint %s: %s", folder.name, reason)
        remove_incomplete(decision)
        if decision.checkpoint is None:
            logger.info("No complete checkpoint in %s; training starts at step 0", output_dir)
        else:
            logger.info("Resuming from %s (step %d)", decision.checkpoint, decision.step)
            chosen = str(decision.checkpoint)
    if state.num_processes > 1:
        shared = [chosen]
        torch.distributed.broadcast_object_list(shared, src=0)
        chosen = shared[0]
    return Path(chosen) if chosen else None


def save_final(trainer: SFTTrainer, output_dir: Path, method: str) -> Path:
    """Save the model (full) or the adapter (LoRA) with the tokenizer to output_dir/final.

    The files go to final.partial first and get a completeness marker; only then does the folder
    replace an earlier final, so a crash never leaves a half-written final.
    """
    state = PartialState()
    final = output_dir / FINAL_DIR_NAME
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
        what = "adapter" if method == "lora" else "model"
        logger.info("Saved the final %s (step %d) to %s", what, trainer.state.global_step, final)
    state.wait_for_everyone()
    return final


def run_training(recipe_path: Path, output_dir: Path | None, overrides: list[str]) -> Path:
    """Train a recipe and return the folder of the final model or adapter.

    Raises RecipeError, UserError or DataError for problems the user can fix.
    """
    configure_logging()
    recipe = load_recipe(recipe_path, overrides)
    output_dir = resolve_output_dir(recipe, output_dir)
    source = recipe.model.id or "tiny gpt-oss (random weights)"
    logger.info("Recipe %s: %s, method %s; output dir %s", recipe.name, source, recipe.method, output_dir)

    train_dataset, eval_dataset = load_datasets(recipe, base_dir=recipe_path.parent)
    # TrainingArguments sets up torch.distributed under torchrun, which decide_resume needs.
    args = build_sft_config(recipe, output_dir, sft_kwargs(recipe))
    if PartialState().is_main_process:
        output_dir.mkdir(parents=True, exist_ok=True)
        (output_dir / "recipe.yaml").write_text(dump_recipe(recipe), encoding="utf-8")
    resume_from = decide_resume(output_dir)

    tokenizer = load_tokenizer(recipe)
    model = load_model(recipe, tokenizer)
    num_layers = model.config.num_hidden_layers
    peft_config = None
    if recipe.method == "lora":
        check_lora_targets(model, recipe.lora, num_layers)
        peft_config = build_lora_config(recipe.lora, num_layers)

    # LoRA's A matrices are drawn when SFTTrainer wraps the model; seed them like everything else.
    set_seed(recipe.training.seed)
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=[MetricsLogCallback(), CheckpointMarkerCallback(recipe.training.save_total_limit)],
    )
    # disable_tqdm makes the Trainer print every log dict; MetricsLogCallback logs them instead.
    trainer.remove_callback(PrinterCallback)
    if recipe.method == "lora":
        check_lora_applied(trainer.model, recipe.lora, num_layers)

    trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    return save_final(trainer, output_dir, recipe.method)
