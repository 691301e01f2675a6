"""Readers of training rows: the bundled slice, local files and hub datasets.

Local JSON Lines and JSON are read with the standard library, Parquet with pyarrow when it is
installed, and hub datasets with the `datasets` package (the trainer's environment), so the
launcher can check local data without the training stack.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gptoss_ft.recipe import DataSection, DataSourceSection, Recipe

BUNDLED_DIR = Path(__file__).resolve().parent.parent / "data"
BUILTIN_DATASETS = {"builtin:gsm8k-chat": BUNDLED_DIR / "gsm8k-train-256.jsonl"}
LOCAL_SUFFIXES = (".jsonl", ".json", ".parquet")
_PATH_PREFIXES = ("/", "./", "../", "~")


class DataError(ValueError):
    """A dataset that cannot be read or rows that cannot be trained on."""


class HubUnavailable(DataError):
    """A hub dataset that cannot be read here: `datasets` is missing or the hub is unreachable."""


@dataclass
class RawRow:
    """One row as read, or the reason it could not be read."""

    where: str  # "line 12" for JSON Lines, "row 12" otherwise (1-based)
    data: Any = None
    error: str | None = None


def is_local(dataset: str) -> bool:
    """Return whether `dataset` names a local file (or the bundled slice) rather than a hub id."""
    return (
        dataset.startswith("builtin:")
        or dataset.startswith(_PATH_PREFIXES)
        or dataset.lower().endswith(LOCAL_SUFFIXES)
    )


def resolve_local_path(data: DataSourceSection | DataSection, base_dir: Path) -> Path | None:
    """Return the local file a dataset entry names (relative to `base_dir`), or None for a hub id."""
    if data.dataset is None:
        return None
    return local_path(data.dataset, base_dir)


def local_path(dataset: str, base_dir: Path) -> Path | None:
    if dataset.startswith("builtin:"):
        if dataset not in BUILTIN_DATASETS:
            raise DataError(f"unknown bundled dataset {dataset!r}; available: {', '.join(BUILTIN_DATASETS)}")
        return BUILTIN_DATASETS[dataset]
    if not is_local(dataset):
        return None
    path = Path(dataset).expanduser()
    return path if path.is_absolute() else base_dir / path


def iter_file_rows(path: Path) -> Iterator[RawRow]:
    """Yield the rows of a local .jsonl, .json or .parquet file."""
    suffix = path.suffix.lower()
    if suffix not in LOCAL_SUFFIXES:
        raise DataError(f"{path}: unsupported file type {suffix or '(none)'!r}; use .jsonl, .json or .parquet")
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    if suffix == ".parquet":
        yield from _parquet_rows(path)
        return
    if suffix == ".json" and _starts_with_array(path):
        yield from _json_array_rows(path)
        return
    # A .json file that is not one array is read as JSON Lines, as `datasets` reads it.
    yield from _json_lines_rows(path)


def _starts_with_array(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"[")


def _json_lines_rows(path: Path) -> Iterator[RawRow]:
    try:
        with path.open(encoding="utf-8-sig") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                where = f"line {number}"
                try:
                    yield RawRow(where, json.loads(line.strip()))
                except ValueError as exc:
                    yield RawRow(where, error=f"invalid JSON: {_json_error(exc)}")
                except RecursionError:
                    yield RawRow(where, error="invalid JSON: nested too deeply to read")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _json_array_rows(path: Path) -> Iterator[RawRow]:
    try:
        rows = json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except ValueError as exc:
        raise DataError(f"{path}: invalid JSON: {_json_error(exc)}") from None
    except RecursionError:
        raise DataError(f"{path}: invalid JSON: nested too deeply to read") from None
    for number, row in enumerate(rows, start=1):
        yield RawRow(f"row {number}", row)


def _json_error(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} (column {exc.colno})" if exc.lineno == 1 else f"{exc.msg} (line {exc.lineno}, column {exc.colno})"
    return str(exc)


def _parquet_rows(path: Path) -> Iterator[RawRow]:
    try:
        import pyarrow.parquet as pq  # noqa: PLC0415 - optional: the launcher environment may lack it
    except ImportError:
        raise DataError(f"{path}: reading Parquet needs pyarrow; install it with `pip install pyarrow`") from None
    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a damaged file
        raise DataError(f"{path}: cannot read Parquet: {exc}") from None
    number = 0
    for batch in parquet.iter_batches(batch_size=1024):
        for row in batch.to_pylist():
            number += 1
            yield RawRow(f"row {number}", row)


def iter_hub_rows(dataset: str, config: str | None, split: str, *, limit: int | None = None) -> Iterator[RawRow]:
    """Yield the rows of a hub dataset split; with `limit`, stream only the first rows.

    Raises HubUnavailable when `datasets` is not installed or the dataset cannot be loaded.
    NOTE: tests run offline, so only that failure is tested; reading the live hub is not.
    """
    try:
        from datasets import load_dataset  # noqa: PLC0415 - the training stack loads lazily
    except ImportError:
        raise HubUnavailable(
            f"hub dataset {dataset!r} not read: the `datasets` package is not installed here "
            "(the trainer reads it on the cluster)"
        ) from None
    try:
        rows = load_dataset(dataset, config, split=split, streaming=limit is not None)
        for number, row in enumerate(rows, start=1):
            if limit is not None and number > limit:
                break
            yield RawRow(f"row {number}", row)
    except (OSError, ValueError, ConnectionError) as exc:
        raise HubUnavailable(f"hub dataset {dataset!r} (split {split!r}) could not be read: {exc}") from None


# ---------------------------------------------------------------------------------------------
# Local files of a recipe


def recipe_sources(recipe: Recipe) -> list[tuple[str, DataSourceSection]]:
    """Return every dataset entry of a recipe with its key path: data, data.mix.N, data.eval."""
    data = recipe.data
    sources: list[tuple[str, DataSourceSection]] = []
    if data.mix is not None:
        sources += [(f"data.mix.{index}", entry) for index, entry in enumerate(data.mix)]
    else:
        sources.append(("data", data))
    if data.eval is not None and data.eval.dataset is not None:
        sources.append(("data.eval", eval_source(data)))
    return sources


def eval_source(data: DataSection) -> DataSourceSection:
    """Return the dataset entry of `data.eval.dataset`, read with the training data's format."""
    assert data.eval is not None and data.eval.dataset is not None
    template = data if data.mix is None else DataSourceSection(dataset=data.eval.dataset)
    return DataSourceSection(
        dataset=data.eval.dataset,
        config=data.eval.config,
        split=data.eval.split or "train",
        format=template.format,
        fields=dict(template.fields),
        roles=dict(template.roles),
    )


def local_data_files(recipe: Recipe, base_dir: Path) -> list[Path]:
    """Return the local files a recipe names, bundled ones excluded; raise DataError if one is missing."""
    files: list[Path] = []
    missing: list[str] = []
    for key, source in recipe_sources(recipe):
        path = resolve_local_path(source, base_dir)
        if path is None or source.dataset is None or source.dataset.startswith("builtin:"):
            continue
        if path.suffix.lower() not in LOCAL_SUFFIXES:
            raise DataError(f"{key}.dataset: unsupported file type {path.name!r}; use .jsonl, .json or .parquet")
        if not path.is_file():
            missing.append(f"{key}.dataset {str(path)!r}")
        files.append(path)
    if missing:
        raise DataError(f"local data file not found: {'; '.join(missing)}. Fix the path or use a hub id")
    return files


def stage_local_files(recipe: Recipe, base_dir: Path, folder: str = "data") -> tuple[Recipe, dict[str, Path]]:
    """Return a copy of the recipe whose local data paths point into `folder`, and the files to copy.

    The keys of the returned mapping are the new relative paths (`data/1-train.jsonl`); the
    launcher copies each file there, next to the staged recipe.
    """
    local_data_files(recipe, base_dir)
    staged = recipe.model_copy(deep=True)
    files: dict[str, Path] = {}

    def restage(entry: DataSourceSection | DataSection) -> None:
        path = resolve_local_path(entry, base_dir)
        if path is None or entry.dataset is None or entry.dataset.startswith("builtin:"):
            return
        relative = f"{folder}/{len(files) + 1}-{path.name}"
        files[relative] = path
        entry.dataset = relative

    if staged.data.mix is not None:
        for entry in staged.data.mix:
            restage(entry)
    else:
        restage(staged.data)
    evaluation = staged.data.eval
    if evaluation is not None and evaluation.dataset is not None:
        path = local_path(evaluation.dataset, base_dir)
        if path is not None and not evaluation.dataset.startswith("builtin:"):
            relative = f"{folder}/{len(files) + 1}-{path.name}"
            files[relative] = path
            evaluation.dataset = relative
    return staged, files
