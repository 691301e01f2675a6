"""The tiny gpt-oss built from a recipe, and loading a checkpoint folder through model.id."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gptoss_ft.recipe import load_recipe

from .helpers import TINY_FULL


@pytest.fixture(scope="module")
def tokenizer():
    from gptoss_ft.tokenizer import load_gptoss_tokenizer

    return load_gptoss_tokenizer()


def test_tiny_model_matches_tokenizer(tokenizer) -> None:
    from gptoss_ft.trainer.model import load_model

    model = load_model(load_recipe(TINY_FULL), tokenizer)

    assert model.config.vocab_size == len(tokenizer) == 201088
    assert model.config.max_position_embeddings == 131072
    assert model.config._attn_implementation == "eager"
    assert model.config.num_hidden_layers == 2
    assert model.config.num_local_experts == 4
    assert model.config.eos_token_id == tokenizer.eos_token_id
    assert model.config.pad_token_id == tokenizer.pad_token_id
    assert model.config.use_cache is False
    assert next(model.parameters()).dtype.is_floating_point
    assert str(next(model.parameters()).dtype) == "torch.float32"


def test_tiny_seed_fixes_weights(tokenizer) -> None:
    import torch

    from gptoss_ft.trainer.model import load_model

    first = load_model(load_recipe(TINY_FULL), tokenizer)
    same = load_model(load_recipe(TINY_FULL), tokenizer)
    other = load_model(load_recipe(TINY_FULL, ["model.tiny.seed=1"]), tokenizer)
    name = "model.layers.0.mlp.experts.gate_up_proj"

    assert torch.equal(dict(first.named_parameters())[name], dict(same.named_parameters())[name])
    assert not torch.equal(dict(first.named_parameters())[name], dict(other.named_parameters())[name])


def test_mxfp4_detection() -> None:
    from gptoss_ft.trainer.model import is_mxfp4_checkpoint

    assert is_mxfp4_checkpoint({"quantization_config": {"quant_method": "mxfp4"}})
    assert not is_mxfp4_checkpoint({"quantization_config": {"quant_method": "bitsandbytes"}})
    assert not is_mxfp4_checkpoint({"quantization_config": None})
    assert not is_mxfp4_checkpoint({})


def test_local_checkpoint_loads_unquantized(tokenizer, tmp_path: Path) -> None:
    import torch

    from gptoss_ft.tokenizer import load_tokenizer
    from gptoss_ft.trainer.model import load_model

    folder = tmp_path / "checkpoint"
    load_model(load_recipe(TINY_FULL), tokenizer).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    assert "quantization_config" not in json.loads((folder / "config.json").read_text())
    recipe = load_recipe(TINY_FULL, ["model.tiny=null", f"model.id={folder}", "model.dtype=bfloat16"])

    loaded_tokenizer = load_tokenizer(recipe)
    model = load_model(recipe, loaded_tokenizer)

    assert len(loaded_tokenizer) == 201088
    assert getattr(model, "hf_quantizer", None) is None, "Mxfp4Config must not be applied to a bf16/fp32 checkpoint"
    assert next(model.parameters()).dtype == torch.bfloat16
    assert model.config._attn_implementation == "eager"


def test_missing_model_id_is_user_error(tmp_path: Path) -> None:
    from gptoss_ft.cli.errors import UserError
    from gptoss_ft.trainer.model import load_hub_model

    with pytest.raises(UserError, match="cannot read the config of model.id"):
        load_hub_model(str(tmp_path / "no-such-model"), dtype=None, attn_implementation="eager")
