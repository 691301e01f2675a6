"""`gptoss-ft status`: the clusters this tool launched, with state and training progress."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from gptoss_ft.cli.console import make_console
from gptoss_ft.cli.errors import exit_on_user_error

console = make_console()


def status(
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Read each job's log for its latest step and loss.")
    ] = True,
) -> None:
    """Show the clusters and jobs launched by gptoss-ft: recipe, state, latest step and loss.

    Examples:

      gptoss-ft status

      gptoss-ft status --no-progress    # faster: skips reading the job logs
    """
    with exit_on_user_error():
        from gptoss_ft.monitoring import collect_status  # noqa: PLC0415 - imports SkyPilot

        rows = collect_status(read_progress=progress)
    if not rows:
        console.print("No runs launched by gptoss-ft. Start one: gptoss-ft launch tiny --method lora --infra slurm")
        return
    table = Table("cluster", "recipe", "cluster state", "job", "job state", "step", "loss", "launched")
    for row in rows:
        table.add_row(
            row.cluster,
            row.recipe,
            row.cluster_state,
            "" if row.job_id is None else str(row.job_id),
            row.job_state,
            "" if row.step is None else str(row.step),
            "" if row.loss is None else f"{row.loss:.4f}",
            row.launched_at,
        )
    console.print(table)
