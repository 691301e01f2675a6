"""Render a recipe into a SkyPilot task YAML and an Accelerate config, and validate the task.

Values from recipes and the command line reach the task in three ways, each inert:
- YAML values go through the `yaml` filter (a JSON string is a valid YAML scalar);
- shell words in setup and run go through `shquote` (shlex.quote);
- everything else (dataset names, hyperparameters) stays in the uploaded recipe.yaml, which only
  the trainer reads. Template syntax inside a value is never evaluated: Jinja2 renders values as
  data.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import yaml

from gptoss_ft.recipe import Recipe

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
_PLAIN_SCALAR = re.compile(r"[A-Za-z0-9_/][A-Za-z0-9_./:+-]*")


class RenderError(ValueError):
    """A rendered task that SkyPilot's parser rejects."""


def _yaml_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        # Plain when YAML reads it back as the same string (H100:8, 2+), quoted otherwise.
        if _PLAIN_SCALAR.fullmatch(value) and yaml.safe_load(value) == value:
            return value
        # ASCII escapes: YAML treats some Unicode characters (U+2028, U+0085) as line breaks.
        return json.dumps(value, ensure_ascii=True)
    raise TypeError(f"cannot render a {type(value).__name__} as a YAML scalar")


def _comment_text(value: Any) -> str:
    """Make a value safe inside a `#` comment: every character outside printable ASCII is escaped."""
    text = str(value)
    return "".join(ch if " " <= ch <= "~" else ch.encode("unicode_escape").decode("ascii") for ch in text)


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - YAML and shell, not HTML; values go through filters
    )
    env.filters["yaml"] = _yaml_scalar
    env.filters["shquote"] = lambda value: shlex.quote(str(value))
    env.filters["comment"] = _comment_text
    return env


@dataclass(frozen=True)
class RenderedTask:
    task_yaml: str
    accelerate_yaml: str | None
    setup_script: str
    run_script: str

    def task_config(self) -> dict[str, Any]:
        return yaml.safe_load(self.task_yaml)


def _summary(recipe: Recipe) -> str:
    model = recipe.model.id or "tiny gpt-oss (random weights)"
    method = "LoRA" if recipe.method == "lora" else "full fine-tuning"
    return f"{model}, {method}, {recipe.hardware}"


def render_task(
    recipe: Recipe,
    *,
    source: str,
    stage_dir: Path,
    run_name: str,
) -> RenderedTask:
    """Render the task YAML, its setup and run scripts, and the Accelerate config."""
    env = _environment()
    output_dir_absolute = recipe.output.dir.startswith("/")
    context: dict[str, Any] = {
        "recipe": recipe,
        "summary": _summary(recipe),
        "source": source,
        "task_name": run_name,
        "run_name": run_name,
        "resources": recipe.resources,
        "output": recipe.output,
        "bucket": recipe.output.bucket,
        "output_dir": recipe.output.dir,
        "output_dir_absolute": output_dir_absolute,
        "stage_dir": str(stage_dir),
        "envs": recipe.envs,
        "secrets": recipe.secrets,
        "strategy": recipe.distributed.strategy,
        "mixed_precision": recipe.distributed.mixed_precision,
        "gradient_checkpointing": recipe.training.gradient_checkpointing,
        "gpus_per_node": recipe.gpus_per_node,
        "torch_requirement": recipe.setup.torch,
        "find_links": recipe.setup.find_links,
    }
    setup_script = env.get_template("setup.sh.j2").render(context)
    run_script = env.get_template("run.sh.j2").render(context)
    accelerate_yaml = None
    if recipe.distributed.strategy != "none":
        accelerate_yaml = env.get_template("accelerate.yaml.j2").render(context)
    task_yaml = env.get_template("task.yaml.j2").render(
        context, setup_script=setup_script, run_script=run_script
    )
    return RenderedTask(task_yaml, accelerate_yaml, setup_script, run_script)


def parse_task(rendered: RenderedTask) -> Any:
    """Parse the rendered YAML with SkyPilot's own parser and return the `sky.Task`.

    Raises RenderError with SkyPilot's message when the parser rejects the task.
    """
    import sky  # noqa: PLC0415 - 1.3 s import, only when validating

    config = rendered.task_config()
    try:
        # from_yaml_config pops keys from the dict it gets: hand it a copy.
        return sky.Task.from_yaml_config(copy.deepcopy(config))
    except (ValueError, TypeError, KeyError) as exc:
        raise RenderError(f"SkyPilot rejected the rendered task: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - SkyPilot raises its own exception types here
        if type(exc).__module__.startswith(("sky.", "jsonschema")):
            raise RenderError(f"SkyPilot rejected the rendered task: {exc}") from None
        raise
