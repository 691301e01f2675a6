"""Rendering: golden files, SkyPilot's parser, hostile values, secrets."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from gptoss_ft.prepare import prepare_launch
from gptoss_ft.recipe import load_recipe, preset_path
from gptoss_ft.render import parse_task, render_task

GOLDEN_DIR = Path(__file__).resolve().parent.parent / "golden"
PRESETS = ["120b-full", "120b-lora", "20b-full", "20b-lora", "tiny-full", "tiny-lora"]
STAGE_PLACEHOLDER = "<GPTOSS_FT_HOME>"


def _check_golden(name: str, text: str, state_dir: Path) -> None:
    text = text.replace(str(state_dir), STAGE_PLACEHOLDER)
    path = GOLDEN_DIR / name
    if os.environ.get("GPTOSS_FT_UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run with GPTOSS_FT_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


@pytest.mark.parametrize("name", PRESETS)
def test_preset_matches_golden(name: str, _isolated_state: Path) -> None:
    prepared = prepare_launch(model=None, method=None, recipe_file=preset_path(name), overrides=[])
    _check_golden(f"{name}.task.yaml", prepared.rendered.task_yaml, _isolated_state)
    if prepared.rendered.accelerate_yaml is not None:
        _check_golden(f"{name}.accelerate.yaml", prepared.rendered.accelerate_yaml, _isolated_state)


@pytest.mark.parametrize("name", PRESETS)
def test_skypilot_parses_resources(name: str) -> None:
    prepared = prepare_launch(model=None, method=None, recipe_file=preset_path(name), overrides=[])
    task = parse_task(prepared.rendered)
    recipe = prepared.recipe
    assert task.num_nodes == recipe.resources.num_nodes
    (resources,) = list(task.resources)
    if recipe.resources.accelerators:
        gpu, count = recipe.resources.accelerators.split(":")
        assert resources.accelerators == {gpu: int(count)}
    else:
        assert resources.accelerators is None
    if recipe.resources.disk_size:
        assert resources.disk_size == recipe.resources.disk_size
    assert task.workdir == str(prepared.stage_dir)
    # SkyPilot keeps a secret without a value out of task.secrets until launch supplies one.
    assert set(prepared.task_config["secrets"]) == set(recipe.secrets)
    assert task.secrets == {}


def test_stage_holds_recipe_and_package() -> None:
    prepared = prepare_launch(model="20b", method="full", recipe_file=None, overrides=[])
    stage = prepared.stage_dir
    staged = load_recipe(stage / "recipe.yaml")
    assert staged == prepared.recipe
    assert (stage / "gptoss_ft" / "__init__.py").is_file()
    assert (stage / "gptoss_ft" / "trainer" / "requirements.txt").is_file()
    assert (stage / "accelerate.yaml").read_text() == prepared.rendered.accelerate_yaml
    assert not list(stage.rglob("__pycache__"))


def test_multinode_run_uses_skypilot_env() -> None:
    prepared = prepare_launch(model="120b", method="full", recipe_file=None, overrides=[])
    run = prepared.rendered.run_script
    assert 'MAIN_ADDRESS=$(echo "$SKYPILOT_NODE_IPS" | head -n1)' in run
    assert '--num_machines "$SKYPILOT_NUM_NODES"' in run
    assert '--machine_rank "$SKYPILOT_NODE_RANK"' in run
    assert '--num_processes "$((SKYPILOT_NUM_NODES * SKYPILOT_NUM_GPUS_PER_NODE))"' in run
    assert '--main_process_ip "$MAIN_ADDRESS"' in run


def test_rendered_yaml_has_no_empty_keys() -> None:
    for name in PRESETS:
        prepared = prepare_launch(model=None, method=None, recipe_file=preset_path(name), overrides=[])
        config = yaml.safe_load(prepared.rendered.task_yaml)
        for key, value in config.items():
            if key == "secrets":
                continue
            assert value not in (None, "", {}, []), f"{name}: empty key {key}"


HOSTILE = [
    "; rm -rf ~",
    "x && touch {marker}",
    "$(touch {marker})",
    "`touch {marker}`",
    "it's \"quoted\"",
    "line one\nline two; touch {marker}",
    "{{ 7 * 7 }} {% raw %}",
    "---\nname: evil\n...",
    "'; touch {marker}; echo '",
]


@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_dataset_leaves_scripts_unchanged(payload: str, tmp_path: Path) -> None:
    baseline = render_task(
        load_recipe(preset_path("tiny-lora")), source="t", stage_dir=tmp_path, run_name="gptoss-x"
    )
    hostile_recipe = load_recipe(preset_path("tiny-lora")).model_copy(deep=True)
    hostile_recipe.data.dataset = payload.replace("{marker}", str(tmp_path / "pwned"))
    hostile = render_task(hostile_recipe, source="t", stage_dir=tmp_path, run_name="gptoss-x")
    assert hostile.run_script == baseline.run_script
    assert hostile.setup_script == baseline.setup_script
    assert hostile.task_yaml == baseline.task_yaml


@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_output_dir_stays_one_word(payload: str, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    value = payload.replace("{marker}", str(marker))
    recipe = load_recipe(preset_path("tiny-lora"), [])
    recipe.output.dir = "/" + value
    rendered = render_task(recipe, source="t", stage_dir=tmp_path, run_name="gptoss-x")
    parsed = yaml.safe_load(rendered.task_yaml)
    assert parsed["run"] == rendered.run_script
    assert parsed["name"] == "gptoss-x"
    line = next(text for text in rendered.run_script.splitlines() if text.startswith("OUTPUT_DIR="))
    # Evaluate the assignment in a shell: the value must come back unchanged and run nothing.
    result = subprocess.run(
        ["bash", "-c", f'{_assignment_block(rendered.run_script)}\nprintf %s "$OUTPUT_DIR"'],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    )
    assert result.stdout == f"/{value}/gptoss-x/tiny-lora", line
    assert not marker.exists()


def _assignment_block(run_script: str) -> str:
    """Return the OUTPUT_DIR assignment with its continuation lines, if any."""
    lines = run_script.split("\n")
    start = next(i for i, text in enumerate(lines) if text.startswith("OUTPUT_DIR="))
    end = next(i for i, text in enumerate(lines) if text.startswith("mkdir -p"))
    return "\n".join(lines[start:end])


@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_env_value_reaches_skypilot_intact(payload: str, tmp_path: Path) -> None:
    value = payload.replace("{marker}", str(tmp_path / "pwned"))
    recipe = load_recipe(preset_path("tiny-lora"))
    recipe.envs = {"MY_SETTING": value}
    rendered = render_task(recipe, source="t", stage_dir=tmp_path, run_name="gptoss-x")
    task = parse_task(rendered)
    assert task.envs["MY_SETTING"] == value
    assert task.run == rendered.run_script
    assert task.setup == rendered.setup_script


def test_secrets_never_rendered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_SECRET_VALUE_123")
    monkeypatch.setenv("WANDB_API_KEY", "wandb_SECRET_VALUE_456")
    for name in PRESETS:
        prepared = prepare_launch(model=None, method=None, recipe_file=preset_path(name), overrides=[])
        texts = [prepared.rendered.task_yaml, prepared.rendered.accelerate_yaml or ""]
        texts += [path.read_text(errors="replace") for path in prepared.stage_dir.rglob("*.y*ml")]
        for text in texts:
            assert "SECRET_VALUE" not in text
        config = yaml.safe_load(prepared.rendered.task_yaml)
        assert config["secrets"] == {"HF_TOKEN": None, "WANDB_API_KEY": None}
        assert "HF_TOKEN" not in config["envs"]
