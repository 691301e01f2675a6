"""SFTConfig from a recipe, the output folder, and the user errors that stop a run before training."""

from __future__ import annotations

from pathlib import Path

import pytest

from gptoss_ft.chatdata import DataError
from gptoss_ft.cli.errors import UserError
from gptoss_ft.recipe import RecipeError, load_recipe

from .helpers import TINY_LORA


def sft_config(tmp_path: Path, overrides: list[str] | None = None, data_settings: dict | None = None):
    from gptoss_ft.chatdata import sft_kwargs
    from gptoss_ft.trainer.arguments import build_sft_config

    recipe = load_recipe(TINY_LORA, overrides)
    settings = sft_kwargs(recipe) if data_settings is None else data_settings
    return build_sft_config(recipe, tmp_path / "run", settings)


def test_tiny_recipe_settings(tmp_path: Path) -> None:
    import torch

    args = sft_config(tmp_path)

    assert args.output_dir == str(tmp_path / "run")
    assert args.learning_rate == 2e-3
    assert args.lr_scheduler_type == "cosine_with_min_lr"
    assert args.lr_scheduler_kwargs == {"min_lr_rate": 0.1}
    assert args.warmup_steps == 0.0
    assert args.max_steps == 30
    assert args.per_device_train_batch_size == 4
    assert args.gradient_accumulation_steps == 1
    # SFTConfig defaults both to True; the tiny recipes turn them off.
    assert args.gradient_checkpointing is False
    assert args.bf16 is False
    assert args.use_cpu is (not torch.cuda.is_available())
    assert args.logging_steps == 1
    assert args.save_steps == 10
    assert args.save_total_limit is None, "the Trainer's rotation must stay off"
    assert args.report_to == []
    assert args.seed == 42
    assert args.max_length == 512
    assert args.packing is False


def test_recipe_overrides_reach_config(tmp_path: Path) -> None:
    overrides = [
        "training.gradient_checkpointing=true",
        "training.warmup_ratio=0.1",
        "training.lr_scheduler_type=cosine",
        "training.report_to=tensorboard",
        "data.max_length=256",
    ]

    args = sft_config(tmp_path, overrides)

    assert args.gradient_checkpointing is True
    assert args.gradient_checkpointing_kwargs == {"use_reentrant": False}
    assert args.warmup_steps == 0.1
    assert args.lr_scheduler_kwargs == {}
    assert args.report_to == ["tensorboard"]
    assert args.max_length == 256


def test_bf16_follows_mixed_precision(tmp_path: Path) -> None:
    assert sft_config(tmp_path, ["distributed.mixed_precision=bf16"]).bf16 is True


def test_packing_with_eager_attention_rejected(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="packing with model.attn_implementation eager"):
        sft_config(tmp_path, data_settings={"packing": True, "max_length": 512})


def test_output_dir_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gptoss_ft.trainer.main import resolve_output_dir

    monkeypatch.chdir(tmp_path)
    recipe = load_recipe(TINY_LORA, ["output.dir=runs"])

    assert resolve_output_dir(recipe, None) == tmp_path / "runs" / "tiny-lora"
    assert resolve_output_dir(recipe, Path("elsewhere")) == tmp_path / "elsewhere"


def test_missing_data_file_is_user_error(tmp_path: Path) -> None:
    from gptoss_ft.trainer.main import run_training

    recipe_path = tmp_path / "recipe.yaml"
    recipe_path.write_text(TINY_LORA.read_text().replace("builtin:gsm8k-chat", "missing.jsonl"))

    with pytest.raises(DataError, match="missing.jsonl"):
        run_training(recipe_path, output_dir=tmp_path / "run", overrides=[])
    assert not (tmp_path / "run").exists(), "nothing should be written before the data is read"


def test_invalid_override_is_recipe_error(tmp_path: Path) -> None:
    from gptoss_ft.trainer.main import run_training

    with pytest.raises(RecipeError, match="training.max_stpes"):
        run_training(TINY_LORA, output_dir=tmp_path / "run", overrides=["training.max_stpes=3"])


def test_cli_prints_one_line_for_user_error(tmp_path: Path) -> None:
    import subprocess

    from .helpers import GPTOSS_FT

    overrides = ["--set", "lora.target_modules=[q_proj, qkv_proj]", "--set", "training.max_steps=1"]
    result = subprocess.run(
        [str(GPTOSS_FT), "train", str(TINY_LORA), "-o", str(tmp_path / "run"), *overrides],
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "error: lora.target_modules entry 'qkv_proj' matches no module" in result.stderr
