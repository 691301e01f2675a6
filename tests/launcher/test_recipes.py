"""Recipe loading: presets, schema errors with key paths, overrides, unsafe YAML."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gptoss_ft.recipe import (
    RecipeError,
    apply_overrides,
    load_recipe,
    preset_names,
    preset_path,
    resolve_recipe_path,
)

PRESETS = ["120b-full", "120b-lora", "20b-full", "20b-lora", "tiny-full", "tiny-lora"]


def write_recipe(tmp_path: Path, data: dict | str, name: str = "recipe.yaml") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data), encoding="utf-8")
    return path


def tiny_data() -> dict:
    return yaml.safe_load(preset_path("tiny-lora").read_text())


def test_presets_listed() -> None:
    assert preset_names() == PRESETS


@pytest.mark.parametrize("name", PRESETS)
def test_preset_loads(name: str) -> None:
    recipe = load_recipe(preset_path(name))
    assert recipe.name == name
    assert recipe.method == name.split("-")[1]


def test_lora_presets_target_experts() -> None:
    for name in ("20b-lora", "120b-lora", "tiny-lora"):
        lora = load_recipe(preset_path(name)).lora
        assert lora is not None
        assert lora.r == 8
        assert lora.alpha == 16
        assert lora.target_modules == "all-linear"
        assert lora.target_parameters == ["mlp.experts.gate_up_proj", "mlp.experts.down_proj"]


def test_gpu_presets_follow_skypilot_example() -> None:
    expected = {"20b-full": ("H100:8", 1), "20b-lora": ("H100:2", 1), "120b-lora": ("H100:8", 1)}
    for name, (accelerators, nodes) in expected.items():
        recipe = load_recipe(preset_path(name))
        assert recipe.resources.accelerators == accelerators
        assert recipe.resources.num_nodes == nodes
        assert recipe.data.dataset == "HuggingFaceH4/Multilingual-Thinking"
        assert recipe.data.max_length == 1024
        assert recipe.training.lr_scheduler_type == "cosine_with_min_lr"
        assert recipe.training.min_lr_rate == 0.1


def test_model_preset_resolution() -> None:
    assert resolve_recipe_path("20b", "lora", None).name == "20b-lora.yaml"
    assert resolve_recipe_path("tiny", "full", None).name == "tiny-full.yaml"
    with pytest.raises(RecipeError, match="unknown model '7b'"):
        resolve_recipe_path("7b", "lora", None)
    with pytest.raises(RecipeError, match="either MODEL or --recipe"):
        resolve_recipe_path("20b", "lora", Path("x.yaml"))


@pytest.mark.parametrize(
    ("change", "key", "message"),
    [
        ({"training": {"learning_rate": -1}}, "training.learning_rate", "greater than 0"),
        ({"training": {"lr": 1e-4}}, "training.lr", "unknown key; allowed keys here: learning_rate"),
        ({"resources": {"num_nodes": "two"}}, "resources.num_nodes", "valid integer"),
        ({"resources": {"accelerators": "H100"}}, "resources.accelerators", "should match pattern"),
        ({"lora": {"r": 0}}, "lora.r", "greater than or equal to 1"),
        ({"method": "qlora"}, "method", "'lora' or 'full'"),
        ({"surprise": 1}, "surprise", "unknown key; allowed keys here: name, model, method"),
        ({"envs": {"HF_TOKEN": "x"}}, "envs", "HF_TOKEN is a secret"),
        ({"lora": {"r": True}}, "lora", "r: expected a number, got True"),
        ({"training": {"max_grad_norm": float("inf")}}, "training.max_grad_norm", "finite number"),
    ],
)
def test_schema_error_names_key(tmp_path: Path, change: dict, key: str, message: str) -> None:
    data = tiny_data()
    for section, value in change.items():
        if isinstance(value, dict) and isinstance(data.get(section), dict):
            data[section].update(value)
        else:
            data[section] = value
    path = write_recipe(tmp_path, data)
    with pytest.raises(RecipeError) as info:
        load_recipe(path)
    assert info.value.source == str(path)
    assert info.value.key == key
    assert message in str(info.value)


def test_missing_key_reported(tmp_path: Path) -> None:
    data = tiny_data()
    del data["data"]
    with pytest.raises(RecipeError, match="data: required key is missing"):
        load_recipe(write_recipe(tmp_path, data))


def test_full_method_rejects_lora_section(tmp_path: Path) -> None:
    data = tiny_data()
    data["method"] = "full"
    with pytest.raises(RecipeError, match="lora section applies only to method: lora"):
        load_recipe(write_recipe(tmp_path, data))


def test_override_sets_nested_value() -> None:
    recipe = load_recipe(preset_path("tiny-lora"), ["training.max_steps=7", "lora.r=4", "envs.FOO=bar"])
    assert recipe.training.max_steps == 7
    assert recipe.lora is not None
    assert recipe.lora.r == 4
    assert recipe.envs == {"FOO": "bar"}


def test_override_parses_yaml_values() -> None:
    data = apply_overrides({}, ["training.learning_rate=1e-4", "lora.target_modules=[q_proj, k_proj]"])
    assert data["lora"]["target_modules"] == ["q_proj", "k_proj"]
    recipe = load_recipe(preset_path("tiny-lora"), ["training.learning_rate=1e-4"])
    assert recipe.training.learning_rate == pytest.approx(1e-4)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("training.max_steps", "expected key.path=value"),
        ("=3", "expected key.path=value"),
        ("training.nope=1", "unknown key 'nope'"),
        ("name.sub=1", "name has no sub-keys"),
        ("envs.A.B=1", "envs takes one level of keys"),
    ],
)
def test_override_errors(override: str, message: str) -> None:
    with pytest.raises(RecipeError, match=message) as info:
        load_recipe(preset_path("tiny-lora"), [override])
    assert info.value.source == "--set"


def test_override_value_error_blames_set() -> None:
    with pytest.raises(RecipeError) as info:
        load_recipe(preset_path("tiny-lora"), ["training.learning_rate=abc"])
    assert info.value.source == "--set"
    assert info.value.key == "training.learning_rate"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("- a\n- b\n", "expected a mapping"),
        ("name: !!python/object/apply:os.system ['true']\n", "invalid YAML"),
        ("a: &x [1]\nb: *x\n", "YAML aliases"),
        ("name: [unclosed\n", "invalid YAML"),
    ],
)
def test_unsafe_or_broken_yaml(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(RecipeError, match=message):
        load_recipe(write_recipe(tmp_path, text))


def test_directory_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RecipeError, match="is a directory"):
        load_recipe(tmp_path)
    with pytest.raises(RecipeError, match="file not found"):
        load_recipe(tmp_path / "absent.yaml")
