"""`gptoss-ft data check`: read, render and count training data locally, before any GPU runs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.text import Text
from rich.table import Table

from gptoss_ft.cli.console import make_console
from gptoss_ft.cli.errors import err_console, exit_on_user_error
from gptoss_ft.cli.options import SetOption

if TYPE_CHECKING:
    from gptoss_ft.chatdata.check import CheckReport
    from gptoss_ft.recipe import Recipe

app = typer.Typer(
    help="Check training data in the gpt-oss chat format before paying for GPUs.",
    no_args_is_help=True,
    add_completion=False,
)
console = make_console()

RECIPE_SUFFIXES = (".yaml", ".yml")


@app.callback()
def data() -> None:
    """Check training data in the gpt-oss chat format before paying for GPUs."""
    # A callback keeps `check` a subcommand, also while it is the group's only command.


@app.command("check")
def check(
    target: Annotated[
        Path, typer.Argument(help="A recipe YAML file, or a .jsonl, .json or .parquet data file.")
    ],
    max_length: Annotated[
        Optional[int],
        typer.Option("--max-length", min=16, help="Maximum tokens per row (sets data.max_length). Default: the recipe's, or 1024."),
    ] = None,
    data_format: Annotated[
        Optional[str],
        typer.Option("--format", help="Row format: auto, messages, prompt_completion, alpaca or gsm8k (sets data.format)."),
    ] = None,
    train_turns: Annotated[
        Optional[str],
        typer.Option("--train-turns", help="Assistant turns that train: last or all (sets data.train_turns)."),
    ] = None,
    overrides: SetOption = None,
    sample: Annotated[
        int, typer.Option("--sample", min=1, help="Rows read from a hub dataset, when the hub is reachable.")
    ] = 1000,
    show: Annotated[int, typer.Option("--show", min=0, help="Rejected rows listed in full.")] = 20,
) -> None:
    """Check every row: read, convert, render with the gpt-oss tokenizer, and count.

    Reports rows read and rejected (with row numbers and reasons), tokens per row,
    rows over max_length and the tokens trained per epoch.
    Exits with 1 when any row is rejected, with 2 when the data cannot be read.

    Examples:

      gptoss-ft data check recipes/tiny-lora.yaml

      gptoss-ft data check train.jsonl --max-length 2048

      gptoss-ft data check qa.jsonl --format gsm8k --set data.fields.question=prompt
    """
    with exit_on_user_error():
        from gptoss_ft.chatdata.check import check_data  # noqa: PLC0415 - loads the tokenizer data

        settings = []
        if max_length is not None:
            settings.append(f"data.max_length={max_length}")
        if data_format is not None:
            settings.append(f"data.format={data_format}")
        if train_turns is not None:
            settings.append(f"data.train_turns={train_turns}")
        recipe, base_dir = _load_target(target, settings + list(overrides or []))
        report = check_data(recipe, base_dir, hub_sample=sample)
    _print_report(report, target, show)
    if report.rejected:
        err_console.print(
            Text.assemble(
                (f"{len(report.rejected):,} of {report.rows_read:,} rows rejected", "bold red"),
                ": fix them or remove them before training",
            )
        )
        raise typer.Exit(code=1)


def _load_target(target: Path, overrides: list[str]) -> tuple[Recipe, Path]:
    """Return the recipe to check and the folder its relative paths resolve against."""
    from gptoss_ft.chatdata.sources import LOCAL_SUFFIXES, DataError  # noqa: PLC0415
    from gptoss_ft.recipe import apply_overrides, load_recipe, validate_recipe  # noqa: PLC0415

    suffix = target.suffix.lower()
    if suffix in RECIPE_SUFFIXES:
        return load_recipe(target, overrides), target.resolve().parent
    if suffix not in LOCAL_SUFFIXES:
        raise DataError(f"{target}: expected a recipe (.yaml) or a data file (.jsonl, .json or .parquet)")
    # A data file is checked as the data of a minimal recipe, so every data.* key applies.
    data_recipe = {
        "name": "data-check",
        "model": {"tiny": {}},
        "method": "full",
        "data": {"dataset": str(target) if target.is_absolute() else f"./{target}"},
    }
    return validate_recipe(apply_overrides(data_recipe, overrides), str(target)), Path.cwd()


def _print_report(report: CheckReport, target: Path, show: int) -> None:
    prepared = report.prepared
    console.print(Text.assemble(("data check", "bold"), f": {target}"))

    sources = Table(show_edge=False, header_style="bold")
    sources.add_column("dataset", overflow="fold")
    sources.add_column("format")
    sources.add_column("rows read", justify="right")
    sources.add_column("rejected", justify="right")
    sources.add_column("note")
    results = prepared.sources + ([prepared.eval_source] if prepared.eval_source else [])
    for result in results:
        note = ""
        if result.skipped:
            note = "not read"
        elif result.sampled:
            note = "first rows only"
        if result.key == "data.eval":
            note = f"eval; {note}" if note else "eval"
        elif result.weight != 1:
            note = f"weight {result.weight:g}; {note}" if note else f"weight {result.weight:g}"
        sources.add_row(result.dataset, result.format or "-", f"{result.rows_read:,}", f"{len(result.rejected):,}", note)
    console.print(sources)
    for reason in report.skipped:
        console.print(Text.assemble(("note", "yellow"), f": {reason}"))

    summary = Table(show_header=False, show_edge=False, box=None, padding=(0, 2))
    summary.add_column(style="bold")
    summary.add_column()
    summary.add_row("rows read", f"{report.rows_read:,}")
    summary.add_row("rows rejected", f"{len(report.rejected):,}")
    summary.add_row("train rows", f"{report.train_rows:,}")
    if report.eval_rows is not None:
        summary.add_row("eval rows", f"{report.eval_rows:,}")
    lengths = report.lengths
    if lengths is not None:
        summary.add_row(
            "tokens per row",
            f"min {lengths.min:,}, median {lengths.median:,}, p95 {lengths.p95:,}, max {lengths.max:,}",
        )
    action = "dropped: too_long is drop" if prepared.too_long == "drop" else "truncated"
    summary.add_row(f"over max_length {prepared.max_length:,}", f"{report.over_max_length:,} rows ({action})")
    if prepared.train_dropped:
        summary.add_row("train rows left out", f"{prepared.train_dropped:,} (over max_length, or nothing trained after the cut)")
    share = f" of {report.train_tokens:,}" if report.train_tokens else ""
    summary.add_row("trained tokens", f"{report.trained_tokens:,}{share} per epoch")
    console.print(summary)

    if report.rejected:
        console.print(Text("rejected rows:", style="bold"))
        for row in report.rejected[:show]:
            console.print(f"  {row.where}: {row.reason}" if len(results) == 1 else f"  {row}")
        if len(report.rejected) > show:
            console.print(f"  ... and {len(report.rejected) - show:,} more (--show N lists more)")
