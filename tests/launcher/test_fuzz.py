"""Property-based test: any recipe file and `--set` overrides give a valid task or one clear error.

For every generated case, `gptoss-ft render` either prints a task that SkyPilot's parser accepts,
or exits with code 2 and a single `error:` line that names where the problem is. A traceback, or
any other exit, fails the test. Failing examples found so far are pinned with @example.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from gptoss_ft.cli import app
from gptoss_ft.recipe import preset_path
from gptoss_ft.render import RenderedTask, parse_task

FUZZ_EXAMPLES = int(os.environ.get("GPTOSS_FT_FUZZ_EXAMPLES", "2000"))
BASE_RECIPES = {name: yaml.safe_load(preset_path(name).read_text()) for name in ("tiny-lora", "20b-lora", "120b-full")}

odd_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)),
    max_size=40,
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    odd_text,
    st.sampled_from(["H100:8", "2+", "lora", "full", "fsdp", "eager", "builtin:gsm8k-chat", "", "~", "null"]),
)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(odd_text, children, max_size=3),
    max_leaves=6,
)
key_paths = st.sampled_from(
    [
        "name",
        "method",
        "model.id",
        "model.tiny.hidden_size",
        "model.dtype",
        "lora.r",
        "lora.target_modules",
        "lora.target_parameters",
        "data.dataset",
        "data.max_length",
        "training.learning_rate",
        "training.max_steps",
        "training.seed",
        "training.nope",
        "output.dir",
        "output.bucket",
        "resources.accelerators",
        "resources.num_nodes",
        "resources.infra",
        "resources.cpus",
        "distributed.strategy",
        "setup.torch",
        "secrets",
        "envs.MY_VAR",
        "envs",
        "unknown",
    ]
)


@st.composite
def mutated_recipe(draw: st.DrawFn) -> dict[str, Any]:
    data = copy.deepcopy(BASE_RECIPES[draw(st.sampled_from(sorted(BASE_RECIPES)))])
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        path = draw(key_paths).split(".")
        node = data
        for part in path[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        if draw(st.booleans()) and path[-1] in node:
            del node[path[-1]]
        else:
            node[path[-1]] = draw(values)
    return data


def _yaml_text(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


raw_texts = st.one_of(
    st.just(""),
    st.just("name: !!python/object/apply:os.system ['echo pwned']\n"),
    st.just("base: &base {r: 8}\nlora: *base\n"),
    st.just("--- \nname: a\n---\nname: b\n"),
    st.just("name: tiny-lora\nmodel: {tiny: {}}\nmethod: lora\ndata: {dataset: x}\n...\n"),
    st.just("\x00\x01"),
    odd_text,
)
overrides = st.lists(
    st.one_of(
        st.builds(lambda key, value: f"{key}={value}", key_paths, odd_text),
        st.builds(lambda key, value: f"{key}={_yaml_flow(value)}", key_paths, values),
        odd_text,
    ),
    max_size=3,
)


def _yaml_flow(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True).strip().removesuffix("...").strip()


def _check_cli(tmp_path: Path, recipe_text: str | None, extra: list[str], is_dir: bool = False) -> None:
    recipe_path = tmp_path / "case.yaml"
    if is_dir:
        recipe_path = tmp_path / "case-dir"
        recipe_path.mkdir(exist_ok=True)
    else:
        recipe_path.write_text(recipe_text or "", encoding="utf-8")
    args = ["render", "--recipe", str(recipe_path), "-c", "gptoss-fuzz"]
    for item in extra:
        args += ["--set", item]

    result = CliRunner().invoke(app, args)

    if result.exit_code == 0:
        assert result.exception is None
        parse_task(RenderedTask(result.stdout, None, "", ""))
        return
    # Anything but a clean SystemExit(2) means an exception escaped: a traceback for the user.
    assert isinstance(result.exception, SystemExit), f"{args}: {result.exception!r}"
    assert result.exit_code == 2, (args, result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), result.stderr
    # The message says where: the file, an override, or the option at fault.
    assert any(marker in lines[0] for marker in ("case.yaml", "case-dir", "--set", "--cluster", "data.")), lines[0]


@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(recipe=st.one_of(mutated_recipe().map(_yaml_text), raw_texts), extra=overrides)
@example(recipe=_yaml_text(BASE_RECIPES["tiny-lora"]), extra=[])
@example(recipe=_yaml_text(BASE_RECIPES["tiny-lora"]), extra=["data.dataset=a\x00b"])
@example(recipe=_yaml_text(BASE_RECIPES["tiny-lora"]), extra=["training.seed=99999999999999999999"])
@example(recipe=_yaml_text(BASE_RECIPES["tiny-lora"]), extra=["training.max_grad_norm=.inf"])
@example(recipe=_yaml_text(BASE_RECIPES["tiny-lora"]), extra=["envs={A: {B: 1}}"])
def test_render_never_crashes(tmp_path: Path, recipe: str, extra: list[str]) -> None:
    _check_cli(tmp_path, recipe, extra)


def test_directory_as_recipe(tmp_path: Path) -> None:
    _check_cli(tmp_path, None, [], is_dir=True)
