"""`gptoss-ft train`: the command the cluster runs; it also runs locally."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from gptoss_ft.cli.errors import UserError, exit_on_user_error


def train(
    recipe: Annotated[Path, typer.Argument(help="Recipe YAML file to train.")],
    output_dir: Annotated[
        Optional[Path],
        typer.Option("--output-dir", "-o", help="Where checkpoints and the final model go. "
                     "Default: output.dir/<recipe name>, relative to the current directory."),
    ] = None,
    overrides: Annotated[
        Optional[list[str]],
        typer.Option("--set", help="Override a recipe key, e.g. --set training.max_steps=10. Repeatable."),
    ] = None,
) -> None:
    """Train a recipe with TRL's SFTTrainer, resuming from the newest complete checkpoint.

    Examples:

      gptoss-ft train recipes/tiny-lora.yaml

      gptoss-ft train my-recipe.yaml -o /checkpoints/run1 --set training.max_steps=20
    """
    with exit_on_user_error():
        from gptoss_ft.recipe import load_recipe  # noqa: PLC0415

        load_recipe(recipe, overrides or [])
        try:
            from gptoss_ft.trainer.main import run_training  # noqa: PLC0415 - imports torch
        except ImportError as exc:
            raise UserError(
                f"the training stack is not installed here ({exc.name} is missing): "
                "pip install -e '.[train]' in another venv (scripts/setup-venvs.sh train makes .venv-train), "
                "because it cannot share one with SkyPilot"
            ) from None

        run_training(recipe, output_dir=output_dir, overrides=overrides or [])
