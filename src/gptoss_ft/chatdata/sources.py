"""Read training rows from the bundled slice or a local JSONL file, as chat messages."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from gptoss_ft.recipe import DataSection, Recipe

BUNDLED_DIR = Path(__file__).resolve().parent.parent / "data"
BUILTIN_DATASETS = {"builtin:gsm8k-chat": BUNDLED_DIR / "gsm8k-train-256.jsonl"}

_CALCULATOR_NOTE = re.compile(r"<<[^<>]*>>")


class DataError(ValueError):
    """A dataset that cannot be read or a row that cannot be trained on."""


def gsm8k_to_messages(row: dict[str, Any]) -> list[dict[str, str]]:
    """Convert a GSM8K row: reasoning goes to `thinking`, the number after `####` to the answer."""
    reasoning, sep, final = row["answer"].rpartition("####")
    if not sep:
        raise DataError("the answer has no '#### <final answer>' line")
    return [
        {"role": "user", "content": row["question"].strip()},
        {
            "role": "assistant",
            "thinking": _CALCULATOR_NOTE.sub("", reasoning).strip(),
            "content": final.strip(),
        },
    ]


def resolve_local_path(data: DataSection, base_dir: Path) -> Path | None:
    """Return the local file a recipe names, or None for a hub dataset id."""
    if data.dataset in BUILTIN_DATASETS:
        return BUILTIN_DATASETS[data.dataset]
    path = Path(data.dataset).expanduser()
    if not path.is_absolute():
        path = base_dir / path
    if path.suffix in (".jsonl", ".json", ".parquet") or path.exists():
        return path
    return None


def load_examples(recipe: Recipe, base_dir: Path) -> list[dict[str, Any]]:
    """Return the training rows as `{"messages": [...]}` dicts."""
    path = resolve_local_path(recipe.data, base_dir)
    if path is None:
        from datasets import load_dataset  # noqa: PLC0415 - the training stack loads lazily

        hub = load_dataset(recipe.data.dataset, recipe.data.config, split=recipe.data.split)
        return [{"messages": row["messages"]} for row in hub]
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            row = json.loads(line)
            if "messages" in row:
                rows.append({"messages": row["messages"]})
            elif "question" in row and "answer" in row:
                rows.append({"messages": gsm8k_to_messages(row)})
            else:
                raise DataError(f"{path}: row {number}: expected `messages` or `question`/`answer`")
    return rows


def sft_kwargs(recipe: Recipe) -> dict[str, Any]:
    """Return the SFTConfig settings that the data path decides."""
    return {"assistant_only_loss": True, "packing": False, "max_length": recipe.data.max_length}
