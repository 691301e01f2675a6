"""`gptoss-ft train`: fine-tune a recipe with TRL's SFTTrainer, resuming from the newest complete checkpoint."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import datasets
import transformers
from datasets import Dataset
from transformers import PrinterCallback, set_seed
from trl import SFTConfig, SFTTrainer

from gptoss_ft.chatdata import sft_kwargs
from gptoss_ft.recipe import Recipe, dump_recipe, load_recipe
from gptoss_ft.tokenizer import load_tokenizer
from gptoss_ft.trainer.arguments import build_sft_config
from gptoss_ft.trainer.callbacks import CheckpointMarkerCallback, MetricsLogCallback
from gptoss_ft.trainer.data import load_datasets
from gptoss_ft.trainer.final import complete_final_step, final_dir, save_final
from gptoss_ft.trainer.lora import build_lora_config, check_lora_applied, check_lora_targets
from gptoss_ft.trainer.model import load_model, use_cache_sized_lm_head_tiles
from gptoss_ft.trainer.resume import broadcast_from_main, claim_output_dir, planned_steps

logger = logging.getLogger(__name__)

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging() -> None:
    """Send gptoss_ft's INFO lines to stderr on the main process, and only warnings on the others.

    A root handler that is already set up (by a caller or pytest) is kept. Other libraries keep
    their own levels, so their INFO lines (HTTP requests, for one) stay out of the logs.
    """
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, format=LOG_FORMAT)
    is_main = int(os.environ.get("RANK", "0")) == 0
    logging.getLogger("gptoss_ft").setLevel(logging.INFO if is_main else logging.WARNING)
    # Progress bars (datasets' map, transformers' shard writing) fill the logs with carriage returns.
    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()


def resolve_output_dir(recipe: Recipe, output_dir: Path | None) -> Path:
    """Return output_dir, or output.dir/<recipe name> relative to the current directory."""
    if output_dir is None:
        output_dir = Path(recipe.output.dir).expanduser() / recipe.name
    return output_dir.resolve()


def build_trainer(recipe: Recipe, args: SFTConfig, train_dataset: Dataset, eval_dataset: Dataset | None) -> SFTTrainer:
    """Load the tokenizer and model of a recipe and wrap them with the data in an SFTTrainer."""
    tokenizer = load_tokenizer(recipe)
    model = load_model(recipe, tokenizer)
    if args.use_cpu:
        use_cache_sized_lm_head_tiles()

    num_layers = model.config.num_hidden_layers
    peft_config = None
    if recipe.method == "lora":
        check_lora_targets(model, recipe.lora, num_layers)
        peft_config = build_lora_config(recipe.lora, num_layers)

    # LoRA's A matrices are drawn when SFTTrainer wraps the model, so seed them like everything else.
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
    # With disable_tqdm the Trainer prints every log dict, which MetricsLogCallback logs instead.
    trainer.remove_callback(PrinterCallback)
    if recipe.method == "lora":
        check_lora_applied(trainer.model, recipe.lora, num_layers)
    return trainer


def finish_trained_run(trainer: SFTTrainer, output_dir: Path, checkpoint: Path, step: int, method: str) -> Path:
    """Return output_dir/final for a run whose newest checkpoint already has every planned step.

    transformers 5.25 trains one step past max_steps when it resumes from a checkpoint at
    max_steps, so such a run never reaches trainer.train(). A complete final of the same step is
    kept, and any other final is saved again from the checkpoint.
    """
    if broadcast_from_main(complete_final_step(output_dir)) == step:
        logger.info("Training already finished at step %d; the final output is %s", step, final_dir(output_dir))
        return final_dir(output_dir)

    logger.info("Training already finished at step %d; saving the final output from %s", step, checkpoint)
    # NOTE: _load_from_checkpoint is private in transformers 5.25. train() loads checkpoints with it.
    trainer._load_from_checkpoint(str(checkpoint))
    trainer.state.global_step = step
    return save_final(trainer, output_dir, method)


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
    # TrainingArguments sets up torch.distributed under torchrun, which claim_output_dir needs.
    args = build_sft_config(recipe, output_dir, sft_kwargs(recipe))
    checkpoint, step = claim_output_dir(output_dir, dump_recipe(recipe))

    trainer = build_trainer(recipe, args, train_dataset, eval_dataset)
    if checkpoint is not None and step >= planned_steps(trainer):
        return finish_trained_run(trainer, output_dir, checkpoint, step, recipe.method)

    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    return save_final(trainer, output_dir, recipe.method)
