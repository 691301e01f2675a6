"""`gptoss-ft render`: print the SkyPilot task a launch would submit."""

from __future__ import annotations

import sys

import typer

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


def render(
    model: ModelArgument = None,
    method: MethodOption = "lora",
    recipe: RecipeOption = None,
    overrides: SetOption = None,
    infra: InfraOption = None,
    cluster: ClusterOption = None,
    accelerate: bool = typer.Option(False, "--accelerate", help="Print the Accelerate config instead."),
) -> None:
    """Render a recipe into a SkyPilot task YAML, check it with SkyPilot's parser, and print it.

    Examples:

      gptoss-ft render 20b --method lora

      gptoss-ft render --recipe my-recipe.yaml --set training.max_steps=100 > task.yaml
    """
    with exit_on_user_error():
        from gptoss_ft.prepare import prepare_launch  # noqa: PLC0415

        prepared = prepare_launch(
            model=model,
            method=check_method(method),
            recipe_file=recipe,
            overrides=overrides or [],
            infra=infra,
            cluster=cluster,
        )
    if accelerate:
        text = prepared.rendered.accelerate_yaml
        if text is None:
            err_console.print(
                f"{prepared.recipe.name} runs one process (distributed.strategy: none), "
                "so it has no Accelerate config"
            )
            raise typer.Exit(code=0)
        sys.stdout.write(text)
    else:
        sys.stdout.write(prepared.rendered.task_yaml)
