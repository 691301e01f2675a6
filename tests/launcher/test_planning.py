"""Memory planning: recipes that cannot fit are rejected before anything is provisioned."""

from __future__ import annotations

import pytest

from gptoss_ft.planning import check_fits, plan_memory
from gptoss_ft.recipe import RecipeError, load_recipe, preset_path


@pytest.mark.parametrize("name", ["20b-full", "20b-lora", "120b-full", "120b-lora"])
def test_gpu_presets_fit(name: str) -> None:
    recipe = load_recipe(preset_path(name))
    plan = check_fits(recipe, name)
    assert plan is not None
    assert plan.fits


def test_120b_full_needs_about_1_9_tb() -> None:
    plan = plan_memory(load_recipe(preset_path("120b-full")))
    assert plan is not None
    assert 1800 < plan.total_state_gb < 1950
    assert plan.gpus == 32


def test_120b_full_on_two_nodes_rejected() -> None:
    recipe = load_recipe(preset_path("120b-full"), ["resources.num_nodes=2"])
    with pytest.raises(RecipeError) as info:
        check_fits(recipe, "120b-full.yaml")
    message = str(info.value)
    assert info.value.key == "resources"
    assert "does not fit" in message
    assert "num_nodes: 4" in message


def test_120b_lora_without_fsdp_rejected() -> None:
    recipe = load_recipe(preset_path("120b-lora"), ["distributed.strategy=ddp"])
    with pytest.raises(RecipeError, match="set distributed.strategy: fsdp"):
        check_fits(recipe, "120b-lora.yaml")


def test_real_model_without_gpus_rejected() -> None:
    recipe = load_recipe(preset_path("20b-lora"), ["resources.accelerators=null", "distributed.strategy=none"])
    with pytest.raises(RecipeError, match="needs GPUs"):
        check_fits(recipe, "20b-lora.yaml")


def test_h200_gives_headroom() -> None:
    recipe = load_recipe(preset_path("120b-full"), ["resources.accelerators=H200:8", "resources.num_nodes=2"])
    plan = check_fits(recipe, "x")
    assert plan is not None
    assert plan.gpu_memory_gb == 141


def test_unknown_model_not_planned() -> None:
    recipe = load_recipe(preset_path("20b-lora"), ["model.id=my-org/my-model"])
    assert plan_memory(recipe) is None
