"""Read, convert, render, split and weight the data of a recipe: one path for check and training."""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from gptoss_ft.chatdata.conversation import RowProblem
from gptoss_ft.chatdata.formats import RowFormat, detect_format, to_conversation
from gptoss_ft.chatdata.harmony import HarmonyRenderer, Rendered, RenderSettings
from gptoss_ft.chatdata.sources import (
    DataError,
    HubUnavailable,
    RawRow,
    eval_source,
    iter_file_rows,
    iter_hub_rows,
    local_path,
)
from gptoss_ft.recipe import DataSection, DataSourceSection, Recipe


@dataclass
class RejectedRow:
    source: str  # the dataset as the recipe names it
    where: str  # "line 12" or "row 12"
    reason: str

    def __str__(self) -> str:
        return f"{self.source} {self.where}: {self.reason}"


@dataclass
class SourceResult:
    """One dataset after reading: its valid rows, rendered in full, and its rejected rows."""

    key: str  # recipe key path: data, data.mix.0, data.eval
    dataset: str
    format: str | None = None
    rows_read: int = 0
    examples: list[Rendered] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)
    # Why the dataset was not read (a hub dataset without `datasets` or network); None if read.
    skipped: str | None = None
    sampled: bool = False  # only the first rows of a hub dataset were read
    weight: float = 1.0


@dataclass
class PreparedData:
    """The rows that train and evaluate, each cut to max_length, and how they were obtained."""

    train: list[Rendered]
    eval: list[Rendered] | None
    sources: list[SourceResult]
    eval_source: SourceResult | None
    max_length: int
    too_long: str
    # Rows over max_length among the training rows (after weighting): cut, or left out with drop.
    train_over_length: int = 0
    # Training rows left out: over max_length with too_long: drop, or with no trained token left
    # after the cut (SFTTrainer would drop those too).
    train_dropped: int = 0

    @property
    def rejected(self) -> list[RejectedRow]:
        results = self.sources + ([self.eval_source] if self.eval_source else [])
        return [row for result in results for row in result.rejected]


def render_settings(data: DataSection) -> RenderSettings:
    """Return the rendering settings of a recipe's data section."""
    return RenderSettings(
        current_date=data.current_date,
        reasoning_effort=data.reasoning_effort,
        model_identity=data.model_identity,
        system_prompt=data.system_prompt,
        train_turns=data.train_turns,
    )


def make_renderer(data: DataSection) -> HarmonyRenderer:
    try:
        return HarmonyRenderer(render_settings(data))
    except RowProblem as exc:
        raise DataError(f"data.{exc}") from None


def prepare_data(
    recipe: Recipe,
    base_dir: Path,
    *,
    hub_sample: int | None = None,
    skip_unreadable_hub: bool = False,
    read_hub: bool = True,
) -> PreparedData:
    """Read every dataset of a recipe and build the training and eval rows.

    With `hub_sample`, only the first rows of hub datasets are read. With `skip_unreadable_hub`,
    a hub dataset that cannot be read here is reported as skipped instead of raising. With
    `read_hub` False, hub datasets are skipped without being tried.

    NOTE: every rendered row is held in memory as Python lists of ints (tens of bytes per token),
    which suits datasets up to some million tokens per process, not corpora of billions.
    """
    data = recipe.data
    renderer = make_renderer(data)
    entries: list[tuple[str, DataSourceSection, float]]
    if data.mix is not None:
        entries = [(f"data.mix.{index}", entry, entry.weight) for index, entry in enumerate(data.mix)]
    else:
        entries = [("data", data, 1.0)]

    def read(key: str, entry: DataSourceSection, weight: float = 1.0) -> SourceResult:
        return read_source(
            key,
            entry,
            renderer,
            base_dir,
            hub_sample=hub_sample,
            skip_unreadable_hub=skip_unreadable_hub,
            read_hub=read_hub,
            weight=weight,
        )

    sources = [read(key, entry, weight) for key, entry, weight in entries]
    seed = recipe.training.seed
    evaluation = data.eval
    eval_result: SourceResult | None = None
    eval_rows: list[Rendered] | None = None
    pools = [result.examples for result in sources]
    if evaluation is not None and evaluation.size is not None:
        complete = all(result.skipped is None and not result.sampled for result in sources)
        pools, eval_rows = _hold_out(sources, evaluation.size, seed, strict=complete)
    elif evaluation is not None and evaluation.dataset is not None:
        eval_result = read("data.eval", eval_source(data))
        eval_rows = eval_result.examples
    elif evaluation is not None and evaluation.split is not None:
        assert data.dataset is not None
        if local_path(data.dataset, base_dir) is not None:
            raise DataError(
                f"data.eval.split {evaluation.split!r}: {data.dataset} is a local file, which has no "
                "named splits; set data.eval.dataset to an eval file or use data.eval.size"
            )
        if evaluation.split == data.split:
            raise DataError(f"data.eval.split {evaluation.split!r} is the training split; name another split")
        eval_entry = data.model_copy(update={"split": evaluation.split})
        eval_result = read("data.eval", eval_entry)
        eval_rows = eval_result.examples

    weighted: list[Rendered] = []
    for result, pool in zip(sources, pools):
        weighted += _apply_weight(pool, result.weight, random.Random(f"gptoss-ft:{seed}:{result.key}:weight"))

    prepared = PreparedData(
        train=[],
        eval=None,
        sources=sources,
        eval_source=eval_result,
        max_length=data.max_length,
        too_long=data.too_long,
    )
    for example in weighted:
        fitted = fit_length(example, data.max_length, data.too_long)
        if len(example.input_ids) > data.max_length:
            prepared.train_over_length += 1
        if fitted is None:
            prepared.train_dropped += 1
        else:
            prepared.train.append(fitted)
    if eval_rows is not None:
        prepared.eval = [fitted for row in eval_rows if (fitted := fit_length(row, data.max_length, data.too_long))]
    return prepared


def read_source(
    key: str,
    entry: DataSourceSection,
    renderer: HarmonyRenderer,
    base_dir: Path,
    *,
    hub_sample: int | None = None,
    skip_unreadable_hub: bool = False,
    read_hub: bool = True,
    weight: float = 1.0,
) -> SourceResult:
    """Read, convert and render every row of one dataset entry."""
    assert entry.dataset is not None
    result = SourceResult(key=key, dataset=entry.dataset, weight=weight)
    path = local_path(entry.dataset, base_dir)
    if path is not None:
        try:
            rows: Iterable[RawRow] = iter_file_rows(path)
            _render_rows(result, rows, entry, renderer)
        except DataError as exc:
            raise DataError(f"{key}.dataset: {exc}") from None
        return result

    if not read_hub:
        result.skipped = f"hub dataset {entry.dataset!r} not read; `gptoss-ft data check` reads a sample of it"
        return result
    result.sampled = hub_sample is not None
    try:
        _render_rows(result, iter_hub_rows(entry.dataset, entry.config, entry.split, limit=hub_sample), entry, renderer)
    except HubUnavailable as exc:
        if not skip_unreadable_hub:
            raise
        result.skipped = str(exc)
    return result


def _render_rows(result: SourceResult, rows: Iterable[RawRow], entry: DataSourceSection, renderer: HarmonyRenderer) -> None:
    row_format: RowFormat | None = None
    if entry.format != "auto":
        row_format = RowFormat(entry.format, entry.fields, entry.roles)
    for raw in rows:
        result.rows_read += 1
        try:
            if raw.error is not None:
                raise RowProblem(raw.error)
            if row_format is None:
                if not isinstance(raw.data, dict):
                    raise RowProblem("expected a JSON object")
                row_format = detect_format(raw.data, entry.fields, entry.roles)
            conversation = to_conversation(raw.data, row_format)
            result.examples.append(renderer.render(conversation))
        except RowProblem as exc:
            result.rejected.append(RejectedRow(result.dataset, raw.where, str(exc)))
    result.format = row_format.format if row_format else None


def _hold_out(
    sources: list[SourceResult], size: int | float, seed: int, *, strict: bool
) -> tuple[list[list[Rendered]], list[Rendered]]:
    """Split each dataset's valid rows into training rows and held-out eval rows.

    A fraction holds out that share of every dataset; a count is shared out in proportion to
    the datasets' sizes. Held-out rows are picked before weighting, so no row is in both.
    Unless `strict`, a count larger than the rows read (a sample or a skipped dataset) is capped.
    """
    sizes = [len(result.examples) for result in sources]
    total = sum(sizes)
    if isinstance(size, float):
        counts = [round(size * count) for count in sizes]
        if total and not any(counts):
            counts[sizes.index(max(sizes))] = 1
    elif size >= total and strict:
        raise DataError(f"data.eval.size {size} leaves no training rows: the data has {total} valid rows")
    else:
        counts = _share_out(min(size, max(total - 1, 0)), sizes) if total else [0] * len(sizes)
    train_pools: list[list[Rendered]] = []
    held_out: list[Rendered] = []
    for result, count in zip(sources, counts):
        order = list(range(len(result.examples)))
        random.Random(f"gptoss-ft:{seed}:{result.key}:eval").shuffle(order)
        chosen = set(order[:count])
        held_out += [result.examples[index] for index in sorted(chosen)]
        train_pools.append([row for index, row in enumerate(result.examples) if index not in chosen])
    return train_pools, held_out


def _share_out(count: int, sizes: list[int]) -> list[int]:
    """Split `count` in proportion to `sizes` with the largest-remainder method."""
    total = sum(sizes)
    exact = [count * size / total for size in sizes]
    shares = [int(value) for value in exact]
    by_remainder = sorted(range(len(sizes)), key=lambda index: exact[index] - shares[index], reverse=True)
    for index in by_remainder[: count - sum(shares)]:
        shares[index] += 1
    return shares


def _apply_weight(rows: list[Rendered], weight: float, rng: random.Random) -> list[Rendered]:
    """Repeat every row int(weight) times and add a random sample for the fractional part."""
    whole = int(weight)
    extra = round((weight - whole) * len(rows))
    return rows * whole + rng.sample(rows, extra)


def fit_length(example: Rendered, max_length: int, too_long: str) -> Rendered | None:
    """Cut a row to max_length (or drop it); None when nothing trainable is left."""
    if len(example.input_ids) > max_length:
        if too_long == "drop":
            return None
        example = Rendered(example.input_ids[:max_length], example.assistant_masks[:max_length])
    if 1 not in example.assistant_masks:
        return None
    return example


def first_rejections(rejected: list[RejectedRow], limit: int = 5) -> str:
    """Return the first rejected rows as one line, for errors."""
    shown = "; ".join(str(row) for row in rejected[:limit])
    more = f"; and {len(rejected) - limit} more" if len(rejected) > limit else ""
    return shown + more
