"""The trainer's entry points: a recipe's data as tokenized rows, and its SFTConfig settings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from gptoss_ft.chatdata.conversation import RowProblem
from gptoss_ft.chatdata.formats import RowFormat, detect_format, to_conversation
from gptoss_ft.chatdata.pipeline import RejectedRow, first_rejections, fit_length, make_renderer, prepare_data
from gptoss_ft.chatdata.sources import DataError
from gptoss_ft.recipe import DataSection, Recipe


def load_examples(recipe: Recipe, base_dir: Path) -> dict[str, list[dict[str, list[int]]] | None]:
    """Read, check and tokenize a recipe's data for SFTTrainer.

    Returns `{"train": rows, "eval": rows or None}`. Each row is
    `{"input_ids": [int, ...], "assistant_masks": [0 or 1, ...]}` of equal length, at most
    `data.max_length` long, with at least one 1; a 1 marks a token whose label is trained.
    "eval" is None when the recipe has no `data.eval`. Local paths resolve against `base_dir`.

    Raises DataError when a dataset cannot be read or any row is invalid, naming the first rows.
    """
    prepared = prepare_data(recipe, base_dir)
    if prepared.rejected:
        raise DataError(
            f"{len(prepared.rejected)} rows cannot be trained on: {first_rejections(prepared.rejected)}. "
            "`gptoss-ft data check` lists them all"
        )
    if not prepared.train:
        raise DataError("no training rows are left: check data.dataset, data.split and data.max_length")
    if prepared.eval is not None and not prepared.eval:
        raise DataError("data.eval selects no rows that fit data.max_length")
    return {
        "train": [_row(example.input_ids, example.assistant_masks) for example in prepared.train],
        "eval": None if prepared.eval is None else [_row(e.input_ids, e.assistant_masks) for e in prepared.eval],
    }


def tokenize_examples(rows: Iterable[Mapping[str, Any]], data: DataSection | None = None) -> list[dict[str, list[int]]]:
    """Tokenize in-memory rows with a data section's format and settings (defaults when None).

    Rows over `data.max_length` are cut, or left out with `too_long: drop`. Raises DataError
    naming the invalid rows (1-based) if any.
    """
    data = data or DataSection(dataset="rows")
    renderer = make_renderer(data)
    row_format = None if data.format == "auto" else RowFormat(data.format, data.fields, data.roles)
    output: list[dict[str, list[int]]] = []
    rejected: list[RejectedRow] = []
    for number, row in enumerate(rows, start=1):
        try:
            if row_format is None:
                row_format = detect_format(row, data.fields, data.roles)
            rendered = renderer.render(to_conversation(row, row_format))
        except RowProblem as exc:
            rejected.append(RejectedRow("rows", f"row {number}", str(exc)))
            continue
        fitted = fit_length(rendered, data.max_length, data.too_long)
        if fitted is not None:
            output.append(_row(fitted.input_ids, fitted.assistant_masks))
    if rejected:
        raise DataError(f"{len(rejected)} rows cannot be trained on: {first_rejections(rejected)}")
    return output


def sft_kwargs(recipe: Recipe) -> dict[str, Any]:
    """Return the SFTConfig settings that the data path decides, to merge into the SFTConfig.

    The rows of `load_examples` are already tokenized and carry their loss mask as
    `assistant_masks`, which SFTTrainer (TRL 1.16) turns into labels by itself. So
    `assistant_only_loss` stays False: True would make SFTTrainer re-render conversational rows
    with its own chat template, and it rejects pre-tokenized rows.
    """
    data = recipe.data
    settings: dict[str, Any] = {
        "assistant_only_loss": False,
        "completion_only_loss": False,
        "packing": False,
        "max_length": data.max_length,
        "eval_strategy": "no",
    }
    if data.eval is not None:
        settings.update(
            eval_strategy="steps",
            eval_steps=data.eval.steps or recipe.training.save_steps,
            per_device_eval_batch_size=recipe.training.per_device_train_batch_size,
        )
    return settings


def _row(input_ids: list[int], masks: list[int]) -> dict[str, list[int]]:
    return {"input_ids": input_ids, "assistant_masks": masks}
