"""Turn the rows of gptoss_ft.chatdata into `datasets.Dataset` objects for SFTTrainer."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from datasets import Dataset, Features, Json

from gptoss_ft.chatdata import load_examples
from gptoss_ft.cli.errors import UserError
from gptoss_ft.recipe import Recipe

logger = logging.getLogger(__name__)


def rows_to_dataset(rows: list[dict[str, Any]], source: str) -> Dataset:
    """Build a Dataset that stores each column as JSON.

    With inferred Arrow structs, a key that only some messages have (`thinking` on assistant
    turns) comes back as None on every other message, and the gpt-oss chat template then fails on
    `"..." in None`. The Json feature of datasets 5 keeps each message exactly as it was given.
    """
    if not rows:
        raise UserError(f"{source} has no training rows; check data.dataset and data.split")
    columns = list(dict.fromkeys(key for row in rows for key in row))
    return Dataset.from_list(rows, features=Features({column: Json() for column in columns}))


def load_datasets(recipe: Recipe, base_dir: Path) -> tuple[Dataset, Dataset | None]:
    """Return the train dataset and the eval dataset, which is None when the data has no eval split.

    `load_examples` returns a list of rows, or a dict with "train" and optionally "eval" rows.
    """
    examples = load_examples(recipe, base_dir=base_dir)
    if isinstance(examples, dict):
        train_rows = examples["train"]
        eval_rows = examples.get("eval")
    else:
        train_rows, eval_rows = examples, None

    train = rows_to_dataset(train_rows, recipe.data.dataset)
    evaluation = rows_to_dataset(eval_rows, f"{recipe.data.dataset} (eval split)") if eval_rows else None
    logger.info(
        "Data %s: %d train rows, %s eval rows",
        recipe.data.dataset,
        len(train),
        len(evaluation) if evaluation is not None else "no",
    )
    return train, evaluation
