"""Stage the folder that a launch uploads as the task's workdir.

The stage contains the resolved recipe (overrides applied, local data paths rewritten), the local
data files, the gptoss_ft package itself and the Accelerate config. The cluster installs the
package from there, never from a package index or a git host.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import yaml

from gptoss_ft.recipe import Recipe, RecipeError

PACKAGE_DIR = Path(__file__).resolve().parent
# Cluster names: SkyPilot's own rule, kept stricter so names are also safe file and shell words.
CLUSTER_NAME_PATTERN = r"^[a-z][a-z0-9-]{0,46}[a-z0-9]$"


def state_dir() -> Path:
    """Return the folder for stages and run records: $GPTOSS_FT_HOME or ~/.gptoss-ft."""
    return Path(os.environ.get("GPTOSS_FT_HOME") or Path.home() / ".gptoss-ft")


def stage_path(run_name: str) -> Path:
    return state_dir() / "stage" / run_name


def default_cluster_name(recipe: Recipe) -> str:
    return f"gptoss-{recipe.name}"


def check_cluster_name(name: str) -> str:
    if not re.fullmatch(CLUSTER_NAME_PATTERN, name):
        raise RecipeError(
            f"invalid cluster name {name!r}: use 2-48 lowercase letters, digits and '-', "
            "starting with a letter and not ending with '-'",
            source="--cluster",
        )
    return name


def _link_or_copy(source: Path | str, target: Path | str) -> None:
    """Hard-link where possible (fast, no extra disk), else copy."""
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def stage_workdir(recipe: Recipe, *, base_dir: Path, run_name: str, accelerate_yaml: str | None) -> Path:
    """Write the workdir for `run_name` and return its path; an older stage is replaced."""
    check_cluster_name(run_name)
    stage = stage_path(run_name)
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)

    shutil.copytree(
        PACKAGE_DIR,
        stage / "gptoss_ft",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        copy_function=_link_or_copy,
    )

    from gptoss_ft.chatdata.sources import stage_local_files  # noqa: PLC0415

    staged_recipe, files = stage_local_files(recipe, base_dir)
    for relative, source in files.items():
        _link_or_copy(source, stage / relative)

    data = staged_recipe.model_dump(mode="json", exclude_none=True)
    (stage / "recipe.yaml").write_text(
        "# Resolved by gptoss-ft at launch: overrides applied, local data paths rewritten.\n"
        + yaml.safe_dump(data, sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )
    if accelerate_yaml is not None:
        (stage / "accelerate.yaml").write_text(accelerate_yaml, encoding="utf-8")
    return stage
