"""`gptoss-ft data check` and the launcher's pre-flight check: counts, lengths and rejected rows."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gptoss_ft.chatdata.pipeline import PreparedData, RejectedRow, first_rejections, prepare_data
from gptoss_ft.chatdata.sources import DataError, local_data_files
from gptoss_ft.recipe import Recipe


@dataclass(frozen=True)
class LengthSummary:
    """Token counts of the valid rows, before any cut to max_length."""

    min: int
    median: int
    p95: int
    max: int

    @classmethod
    def of(cls, lengths: list[int]) -> LengthSummary | None:
        if not lengths:
            return None
        ordered = sorted(lengths)
        # Nearest-rank percentiles: values that some row really has.
        return cls(
            min=ordered[0],
            median=ordered[(len(ordered) - 1) // 2],
            p95=ordered[max(0, -(-95 * len(ordered) // 100) - 1)],
            max=ordered[-1],
        )


@dataclass
class CheckReport:
    prepared: PreparedData

    @property
    def rows_read(self) -> int:
        return sum(result.rows_read for result in self._results)

    @property
    def rejected(self) -> list[RejectedRow]:
        return self.prepared.rejected

    @property
    def valid_rows(self) -> int:
        return sum(len(result.examples) for result in self._results)

    @property
    def lengths(self) -> LengthSummary | None:
        return LengthSummary.of([len(row.input_ids) for result in self._results for row in result.examples])

    @property
    def over_max_length(self) -> int:
        """Valid rows longer than max_length, which training cuts (or drops with too_long: drop)."""
        limit = self.prepared.max_length
        return sum(len(row.input_ids) > limit for result in self._results for row in result.examples)

    @property
    def train_rows(self) -> int:
        return len(self.prepared.train)

    @property
    def eval_rows(self) -> int | None:
        return None if self.prepared.eval is None else len(self.prepared.eval)

    @property
    def train_tokens(self) -> int:
        return sum(len(row.input_ids) for row in self.prepared.train)

    @property
    def trained_tokens(self) -> int:
        """Tokens whose labels are trained in one epoch, after weighting and the cut to max_length."""
        return sum(sum(row.assistant_masks) for row in self.prepared.train)

    @property
    def skipped(self) -> list[str]:
        return [result.skipped for result in self._results if result.skipped]

    @property
    def _results(self) -> list:
        prepared = self.prepared
        return prepared.sources + ([prepared.eval_source] if prepared.eval_source else [])

    def summary_line(self) -> str:
        """Return the whole report as one line, for the launcher."""
        parts = [f"{self.rows_read:,} rows read, {len(self.rejected):,} rejected"]
        eval_part = f", {self.eval_rows:,} eval" if self.eval_rows is not None else ""
        parts.append(f"{self.train_rows:,} train rows{eval_part}")
        lengths = self.lengths
        if lengths is not None:
            parts.append(
                f"tokens per row min {lengths.min:,}, median {lengths.median:,}, p95 {lengths.p95:,}, max {lengths.max:,}"
            )
        action = "dropped" if self.prepared.too_long == "drop" else "truncated"
        parts.append(f"{self.over_max_length:,} over max_length {self.prepared.max_length:,} ({action})")
        parts.append(f"{self.trained_tokens:,} trained tokens per epoch")
        parts += self.skipped
        return "; ".join(parts)


def check_data(recipe: Recipe, base_dir: Path, *, hub_sample: int | None = 1000, read_hub: bool = True) -> CheckReport:
    """Check every row of a recipe's data; hub datasets are sampled, or skipped if unreadable."""
    local_data_files(recipe, base_dir)
    prepared = prepare_data(recipe, base_dir, hub_sample=hub_sample, skip_unreadable_hub=True, read_hub=read_hub)
    return CheckReport(prepared)


def check_recipe_data(recipe: Recipe, base_dir: Path) -> CheckReport:
    """Check a recipe's local data before provisioning; hub datasets are left to the trainer.

    Raises DataError when a local file is missing or unreadable, or when any row is invalid.
    """
    report = check_data(recipe, base_dir, read_hub=False)
    if report.rejected:
        raise DataError(
            f"data check: {len(report.rejected):,} of {report.rows_read:,} rows cannot be trained on: "
            f"{first_rejections(report.rejected)}. `gptoss-ft data check RECIPE` lists them all; "
            "--skip-data-check launches anyway"
        )
    return report
