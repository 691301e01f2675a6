"""`gptoss-ft launch`: render, check and launch a recipe through SkyPilot."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from gptoss_ft.cli.console import make_console
from gptoss_ft.cli.errors import err_console, exit_on_user_error
from gptoss_ft.cli.options import (
    ClusterOption,
    InfraOption,
    MethodOption,
    ModelArgument,
    RecipeOption,
    SetOption,
    check_method,
)

console = make_console()


def launch(
    model: ModelArgument = None,
    method: MethodOption = "lora",
    recipe: RecipeOption = None,
    overrides: SetOption = None,
    infra: InfraOption = None,
    cluster: ClusterOption = None,
    dryrun: Annotated[
        bool, typer.Option("--dryrun", help="Render, validate and show SkyPilot's plan; provision nothing.")
    ] = False,
    detach: Annotated[
        bool, typer.Option("--detach", "-d", help="Return once the job is submitted; do not stream its logs.")
    ] = False,
    down: Annotated[
        bool, typer.Option("--down", help="Tear the cluster down when the job finishes (or after idle-minutes).")
    ] = False,
    idle_minutes: Annotated[
        Optional[int],
        typer.Option("--idle-minutes", min=0, help="Minutes of idleness before autostop (autodown with --down)."),
    ] = None,
    skip_data_check: Annotated[
        bool, typer.Option("--skip-data-check", help="Do not check local training data before launching.")
    ] = False,
) -> None:
    """Launch a fine-tuning run: a preset (MODEL --method) or a recipe file.

    Examples:

      gptoss-ft launch 120b --method lora --dryrun

      gptoss-ft launch tiny --method lora --infra slurm

      gptoss-ft launch --recipe my-recipe.yaml -c my-run --set training.max_steps=500 --detach
    """
    with exit_on_user_error():
        from gptoss_ft import launching  # noqa: PLC0415 - imports SkyPilot

        prepared = launching.prepare(
            model=model,
            method=check_method(method),
            recipe_file=recipe,
            overrides=overrides or [],
            infra=infra,
            cluster=cluster,
            check_data=not skip_data_check,
            console=console,
        )
        if dryrun:
            launching.dry_run(prepared, console=console)
            return
        if idle_minutes is None and down:
            idle_minutes = 0
        exit_code = launching.launch(
            prepared, detach=detach, down=down, idle_minutes=idle_minutes, console=console
        )
    if exit_code:
        err_console.print(
            f"job failed (SkyPilot exit code {exit_code}); "
            f"see `gptoss-ft logs {prepared.cluster}`"
        )
        raise typer.Exit(code=1)
