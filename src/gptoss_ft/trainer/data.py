"""Turn the tokenized rows of gptoss_ft.chatdata into `datasets.Dataset` objects for SFTTrainer."""

from __future__ import annotations

import logging
from pathlib import Path

from datasets import Dataset

from gptoss_ft.chatdata import load_examples
from gptoss_ft.recipe import Recipe

logger = logging.getLogger(__name__)


def load_datasets(recipe: Recipe, base_dir: Path) -> tuple[Dataset, Dataset | None]:
    """Return the train dataset and the eval dataset, which is None when the recipe has no data.eval.

    Each row contains `input_ids` and `assistant_masks`. SFTTrainer (trl 1.16) skips its own
    tokenization for such rows and turns a 0 in `assistant_masks` into the label -100.
    """
    examples = load_examples(recipe, base_dir=base_dir)
    train = Dataset.from_list(examples["train"])
    eval_rows = examples.get("eval")
    evaluation = Dataset.from_list(eval_rows) if eval_rows else None
    trained_tokens = sum(sum(row["assistant_masks"]) for row in examples["train"])
    logger.info(
        "Data: %d train rows (%d trained tokens), %s eval rows",
        len(train),
        trained_tokens,
        len(evaluation) if evaluation is not None else "no",
    )
    return train, evaluation
