"""LoRA on the tiny gpt-oss: expert targets, loud failures for unmatched targets, a 30-step run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gptoss_ft.cli.errors import UserError
from gptoss_ft.recipe import LoraSection, load_recipe

from .helpers import TINY_LORA, parse_metrics


@pytest.fixture(scope="module")
def tiny_model_factory():
    from gptoss_ft.tokenizer import load_gptoss_tokenizer
    from gptoss_ft.trainer.model import load_model

    recipe = load_recipe(TINY_LORA)
    tokenizer = load_gptoss_tokenizer()
    return lambda: load_model(recipe, tokenizer)


def test_expand_target_parameters() -> None:
    from gptoss_ft.trainer.lora import expand_target_parameters

    expanded = expand_target_parameters(["mlp.experts.gate_up_proj", "mlp.experts.down_proj"], 2)

    assert expanded == [
        "0.mlp.experts.gate_up_proj",
        "1.mlp.experts.gate_up_proj",
        "0.mlp.experts.down_proj",
        "1.mlp.experts.down_proj",
    ]


def test_expert_parameters_get_trainable_lora(tiny_model_factory) -> None:
    from peft import get_peft_model

    from gptoss_ft.trainer.lora import build_lora_config, check_lora_applied

    lora = LoraSection()
    model = get_peft_model(tiny_model_factory(), build_lora_config(lora, num_layers=2))
    check_lora_applied(model, lora, num_layers=2)
    trainable = {name: parameter for name, parameter in model.named_parameters() if parameter.requires_grad}

    for layer in (0, 1):
        experts = f"base_model.model.model.layers.{layer}.mlp.experts"
        # Two parameters on one module nest two wrappers, and the inner one contains gate_up_proj.
        gate_up_b = trainable[f"{experts}.base_layer.lora_B.default.weight"]
        down_b = trainable[f"{experts}.lora_B.default.weight"]
        assert gate_up_b.shape[0] == 2 * 64, "gate_up_proj's LoRA B must produce gate and up halves"
        assert down_b.shape[0] == 64
        assert f"{experts}.base_layer.lora_A.default.weight" in trainable
        assert f"{experts}.lora_A.default.weight" in trainable
        assert f"base_model.model.model.layers.{layer}.self_attn.q_proj.lora_B.default.weight" in trainable
    frozen = dict(model.named_parameters())
    assert not frozen["base_model.model.model.layers.0.mlp.experts.base_layer.base_layer.gate_up_proj"].requires_grad
    assert not any("lm_head" in name or "embed" in name for name in trainable)


def test_unmatched_target_module_raises(tiny_model_factory) -> None:
    from gptoss_ft.trainer.lora import check_lora_targets

    lora = LoraSection(target_modules=["q_proj", "qkv_proj"])

    with pytest.raises(UserError, match="'qkv_proj' matches no module") as error:
        check_lora_targets(tiny_model_factory(), lora, num_layers=2)
    assert "q_proj" in str(error.value), "the message should list the linear modules to choose from"


def test_unmatched_target_parameter_raises(tmp_path: Path) -> None:
    from gptoss_ft.trainer.main import run_training

    overrides = ["lora.target_parameters=[mlp.experts.gate_up_proj, mlp.experts.up_proj]"]

    with pytest.raises(UserError, match="'mlp.experts.up_proj' matches no parameter in any decoder layer") as error:
        run_training(TINY_LORA, output_dir=tmp_path / "run", overrides=overrides)
    assert "mlp.experts.gate_up_proj" in str(error.value), "the message should list the valid parameters"
    assert not list((tmp_path / "run").glob("checkpoint-*"))


def test_tiny_lora_trains_30_steps(tmp_path: Path, trainer_logs) -> None:
    from safetensors.torch import load_file

    from gptoss_ft.trainer.checkpoints import MARKER_NAME, marker_problem
    from gptoss_ft.trainer.main import run_training

    output_dir = tmp_path / "run"
    overrides = [
        "training.per_device_train_batch_size=2",
        "training.save_steps=1000",
        "data.eval={size: 8, steps: 15}",
    ]

    final = run_training(TINY_LORA, output_dir=output_dir, overrides=overrides)

    records = parse_metrics(trainer_logs.messages)
    steps = [record for record in records if "loss" in record]
    evaluations = [record for record in records if "eval_loss" in record]
    assert [record["step"] for record in evaluations] == [15, 30]
    assert [record["step"] for record in steps] == list(range(1, 31))
    for key in ("grad_norm", "learning_rate", "mean_token_accuracy", "num_tokens", "epoch"):
        assert key in steps[0], key
    assert steps[-1]["loss"] < steps[0]["loss"], f"loss went from {steps[0]['loss']} to {steps[-1]['loss']}"

    assert final == output_dir / "final"
    assert (final / "adapter_config.json").is_file()
    assert marker_problem(final) is None, (final / MARKER_NAME)
    config = json.loads((final / "adapter_config.json").read_text())
    assert sorted(config["target_parameters"]) == [
        "0.mlp.experts.down_proj",
        "0.mlp.experts.gate_up_proj",
        "1.mlp.experts.down_proj",
        "1.mlp.experts.gate_up_proj",
    ]
    adapter = load_file(final / "adapter_model.safetensors")
    prefix = "base_model.model.model.layers"
    for layer in (0, 1):
        for name in ("mlp.experts.base_layer", "mlp.experts", "self_attn.q_proj", "self_attn.o_proj"):
            lora_b = adapter[f"{prefix}.{layer}.{name}.lora_B.weight"]
            # PEFT starts every B at zero, so a non-zero B was changed by training.
            assert lora_b.abs().max() > 0, f"layer {layer} {name} LoRA B is still zero"
    # The saved template is the inference one, not TRL's training variant.
    assert "{% generation %}" not in (final / "chat_template.jinja").read_text()
    # The Trainer always saves when it reaches max_steps, whatever save_steps is.
    assert [path.name for path in output_dir.glob("checkpoint-*")] == ["checkpoint-30"]
