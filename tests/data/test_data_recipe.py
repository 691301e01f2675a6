"""The data keys of a recipe: defaults, mixes, eval splits, and packing rejected."""

from __future__ import annotations

import pytest
import yaml

from gptoss_ft.recipe import RecipeError, dump_recipe, load_recipe, preset_names, preset_path, validate_recipe


def recipe_with(data: dict):
    return validate_recipe({"name": "data-keys", "model": {"tiny": {}}, "method": "full", "data": data}, "test")


@pytest.mark.parametrize("name", preset_names())
def test_presets_still_valid(name):
    recipe = load_recipe(preset_path(name))
    assert recipe.data.packing is False
    assert recipe.data.current_date == "2025-08-05"


def test_defaults():
    data = recipe_with({"dataset": "builtin:gsm8k-chat"}).data
    assert data.format == "auto"
    assert data.train_turns == "last"
    assert data.reasoning_effort == "medium"
    assert data.too_long == "truncate"
    assert data.eval is None


def test_packing_rejected_with_reason():
    with pytest.raises(RecipeError, match="packing is not supported for gpt-oss.*attend to each other.*0.50") as error:
        recipe_with({"dataset": "builtin:gsm8k-chat", "packing": True})
    assert error.value.key == "data.packing"


def test_mix():
    data = recipe_with(
        {"mix": [{"dataset": "a.jsonl", "weight": 2}, {"dataset": "org/name", "split": "test", "format": "messages"}]}
    ).data
    assert data.dataset is None
    assert [entry.weight for entry in data.mix] == [2, 1]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "set data.dataset .one dataset. or data.mix"),
        ({"dataset": "a.jsonl", "mix": [{"dataset": "b.jsonl"}]}, "not both"),
        ({"mix": [{"dataset": "b.jsonl"}], "format": "gsm8k"}, "set format on each mix entry"),
        ({"mix": [{"dataset": "b.jsonl", "weight": 0}]}, "greater than 0"),
        ({"mix": []}, "at least 1 item"),
        ({"dataset": "a.jsonl", "fields": {"question": "q", "bogus": "b"}}, "unknown field 'bogus'"),
        ({"dataset": "a.jsonl", "roles": {"bot": "robot"}}, "'robot' is not one of"),
        ({"dataset": "a.jsonl", "current_date": "2025-02-30"}, "not a calendar date"),
        ({"dataset": "a.jsonl", "current_date": "today"}, "should match pattern"),
        ({"dataset": "a.jsonl", "train_turns": "first"}, "'last' or 'all'"),
    ],
)
def test_invalid_data_sections(data, message):
    with pytest.raises(RecipeError, match=message):
        recipe_with(data)


@pytest.mark.parametrize(
    ("evaluation", "expected"),
    [({"size": 200}, 200), ({"size": 0.05}, 0.05), ({"split": "test"}, None), ({"dataset": "eval.jsonl"}, None)],
)
def test_eval_forms(evaluation, expected):
    data = recipe_with({"dataset": "org/name", "eval": evaluation}).data
    assert data.eval.size == expected


@pytest.mark.parametrize(
    ("evaluation", "message"),
    [
        ({}, "needs size"),
        ({"size": 1.0}, "neither a row count nor a fraction"),
        ({"size": 0}, "at least 1 row"),
        ({"size": 10, "split": "test"}, "not both"),
        ({"steps": 0, "size": 5}, "greater than or equal to 1"),
    ],
)
def test_invalid_eval(evaluation, message):
    with pytest.raises(RecipeError, match=message):
        recipe_with({"dataset": "org/name", "eval": evaluation})


def test_eval_split_with_mix_rejected():
    with pytest.raises(RecipeError, match="with data.mix use data.eval.size or data.eval.dataset"):
        recipe_with({"mix": [{"dataset": "a.jsonl"}], "eval": {"split": "test"}})


def test_dumped_mix_recipe_loads_again():
    recipe = recipe_with({"mix": [{"dataset": "a.jsonl", "weight": 0.5}, {"dataset": "b.jsonl"}], "eval": {"size": 3}})
    again = validate_recipe(yaml.safe_load(dump_recipe(recipe)), "dumped")
    assert again == recipe


def test_override_data_keys(tmp_path):
    path = tmp_path / "recipe.yaml"
    path.write_text(preset_path("tiny-lora").read_text())
    recipe = load_recipe(path, ["data.eval.size=0.1", "data.train_turns=all", "data.fields.question=q"])
    assert recipe.data.eval.size == 0.1
    assert recipe.data.train_turns == "all"
    assert recipe.data.fields == {"question": "q"}
