"""`gptoss-ft recipes ls | show | cp`: list, print and copy the presets."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import typer
from rich.table import Table

from gptoss_ft.cli.console import make_console
from gptoss_ft.cli.errors import UserError, exit_on_user_error
from gptoss_ft.recipe import load_recipe, preset_names, preset_path

app = typer.Typer(help="List, print and copy recipe presets.", no_args_is_help=True)
console = make_console()


@app.command("ls")
def list_presets() -> None:
    """List the presets with their model, method and resources.

    Example: gptoss-ft recipes ls
    """
    table = Table("name", "model", "method", "resources", "strategy")
    with exit_on_user_error():
        for name in preset_names():
            recipe = load_recipe(preset_path(name))
            model = recipe.model.id or "tiny (random weights)"
            table.add_row(name, model, recipe.method, recipe.hardware, recipe.distributed.strategy)
    console.print(table)
    console.print("Copy one to edit it: gptoss-ft recipes cp 20b-lora my-recipe.yaml")


@app.command("show")
def show(name: str = typer.Argument(help="Preset name, e.g. 20b-lora.")) -> None:
    """Print a preset, with its comments.

    Example: gptoss-ft recipes show 120b-full
    """
    with exit_on_user_error():
        path = preset_path(name)
    sys.stdout.write(path.read_text(encoding="utf-8"))


@app.command("cp")
def copy(
    name: str = typer.Argument(help="Preset name, e.g. 20b-lora."),
    destination: Path = typer.Argument(help="File or directory to copy to."),
    force: bool = typer.Option(False, "--force", "-f", help="Overwrite an existing file."),
) -> None:
    """Copy a preset to a file you can edit, then launch it with --recipe.

    Example: gptoss-ft recipes cp 20b-lora my-recipe.yaml
    """
    with exit_on_user_error():
        source = preset_path(name)
        target = destination / source.name if destination.is_dir() else destination
        if target.exists() and not force:
            raise UserError(f"{target} already exists; pass --force to overwrite it")
        if not target.parent.is_dir():
            raise UserError(f"directory {target.parent} does not exist")
        try:
            shutil.copyfile(source, target)
        except OSError as exc:
            raise UserError(f"cannot write {target}: {exc.strerror}") from None
    console.print(f"Copied {name} to {target}. Next: gptoss-ft launch --recipe {target} --dryrun")
