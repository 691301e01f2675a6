"""Everything a launch does before SkyPilot provisions anything.

load the recipe and overrides -> check that it fits -> stage the workdir -> render the task ->
parse it with SkyPilot's parser. `render` and `launch --dryrun` stop after these steps.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gptoss_ft.planning import MemoryPlan, check_fits
from gptoss_ft.recipe import Recipe, load_recipe, resolve_recipe_path
from gptoss_ft.render import RenderedTask, RenderError, parse_task, render_task
from gptoss_ft.staging import check_cluster_name, default_cluster_name, stage_path, stage_workdir


@dataclass(frozen=True)
class PreparedLaunch:
    recipe: Recipe
    source: Path
    cluster: str
    stage_dir: Path
    rendered: RenderedTask
    memory: MemoryPlan | None

    @property
    def task_config(self) -> dict[str, Any]:
        return self.rendered.task_config()


def prepare_launch(
    *,
    model: str | None,
    method: str | None,
    recipe_file: Path | None,
    overrides: list[str],
    infra: str | None = None,
    cluster: str | None = None,
    validate: bool = True,
) -> PreparedLaunch:
    """Load, check, stage and render a launch; raise RecipeError or RenderError on bad input."""
    source = resolve_recipe_path(model, method, recipe_file)
    all_overrides = list(overrides)
    if infra is not None:
        all_overrides.append(f"resources.infra={infra}")
    recipe = load_recipe(source, all_overrides)
    memory = check_fits(recipe, str(source))

    cluster_name = check_cluster_name(default_cluster_name(recipe) if cluster is None else cluster)
    rendered = render_task(
        recipe,
        source=_display_path(source),
        stage_dir=stage_path(cluster_name),
        run_name=cluster_name,
    )
    stage = stage_workdir(
        recipe,
        base_dir=source.resolve().parent,
        run_name=cluster_name,
        accelerate_yaml=rendered.accelerate_yaml,
    )
    if validate:
        try:
            parse_task(rendered)
        except RenderError as exc:
            raise RenderError(f"{_display_path(source)}: {exc}") from None
    return PreparedLaunch(recipe, source, cluster_name, stage, rendered, memory)


def _display_path(path: Path) -> str:
    """Show presets by name and user files relative to the current directory when possible."""
    from gptoss_ft.recipe import PRESETS_DIR  # noqa: PLC0415

    resolved = path.resolve()
    if resolved.parent == PRESETS_DIR:
        return f"preset {resolved.stem}"
    try:
        return os.path.relpath(resolved)
    except ValueError:
        return str(resolved)


def local_secrets(recipe: Recipe) -> tuple[dict[str, str], list[str]]:
    """Read the recipe's secrets from the local environment: (values, names not set)."""
    values = {}
    missing = []
    for name in recipe.secrets:
        value = os.environ.get(name)
        if value:
            values[name] = value
        else:
            missing.append(name)
    return values, missing


def without_secrets(task_config: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """Drop secrets that have no local value: SkyPilot cannot launch a secret without one."""
    secrets = task_config.get("secrets")
    if not secrets:
        return task_config
    kept = {name: value for name, value in secrets.items() if name not in names}
    result = dict(task_config)
    if kept:
        result["secrets"] = kept
    else:
        result.pop("secrets")
    return result
