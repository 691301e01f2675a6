"""Options shared by `launch` and `render`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

ModelArgument = Annotated[
    Optional[str],
    typer.Argument(help="Model preset: 20b, 120b or tiny (a small random-weight gpt-oss for CPUs)."),
]
MethodOption = Annotated[str, typer.Option("--method", "-m", help="lora or full.")]
RecipeOption = Annotated[
    Optional[Path], typer.Option("--recipe", "-r", help="A recipe YAML file, in place of MODEL.")
]
SetOption = Annotated[
    Optional[list[str]],
    typer.Option("--set", help="Override a recipe key: --set training.learning_rate=1e-4. Repeatable."),
]
InfraOption = Annotated[
    Optional[str],
    typer.Option("--infra", help="SkyPilot infra, e.g. aws, gcp/us-central1, k8s, slurm. Overrides resources.infra."),
]
ClusterOption = Annotated[
    Optional[str],
    typer.Option("--cluster", "-c", help="Cluster name. Default: gptoss-<recipe name>; relaunching it resumes."),
]


def check_method(method: str) -> str:
    if method not in ("lora", "full"):
        raise typer.BadParameter(f"{method!r} is not a method; use lora or full", param_hint="--method")
    return method
