"""Build TRL's SFTConfig from a recipe."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from trl import SFTConfig

from gptoss_ft.cli.errors import UserError
from gptoss_ft.recipe import Recipe


def build_sft_config(recipe: Recipe, output_dir: Path, data_settings: dict[str, Any]) -> SFTConfig:
    """Return the SFTConfig for a recipe, with `data_settings` from gptoss_ft.chatdata.sft_kwargs.

    Every setting whose SFTConfig default differs from the recipe's intent is set explicitly:
    SFTConfig defaults to bf16=True and gradient checkpointing on, and it rejects warmup_ratio
    (a float below 1 in warmup_steps is a ratio in transformers 5.25).
    """
    training = recipe.training
    if data_settings.get("packing") and recipe.model.attn_implementation == "eager":
        # GptOssModel does not pass position_ids to its causal-mask builder, so with eager attention
        # packed documents attend to each other without any error (transformers 5.25).
        raise UserError(
            "packing with model.attn_implementation eager lets packed examples attend to each other; "
            "turn packing off or use kernels-community/vllm-flash-attn3 on Hopper GPUs"
        )

    scheduler_kwargs = {}
    if training.lr_scheduler_type == "cosine_with_min_lr":
        scheduler_kwargs = {"min_lr_rate": training.min_lr_rate}

    settings: dict[str, Any] = {
        "output_dir": str(output_dir),
        "run_name": recipe.name,
        "learning_rate": training.learning_rate,
        "lr_scheduler_type": training.lr_scheduler_type,
        "lr_scheduler_kwargs": scheduler_kwargs,
        "warmup_steps": training.warmup_ratio,
        "num_train_epochs": training.num_train_epochs,
        "max_steps": training.max_steps,
        "per_device_train_batch_size": training.per_device_train_batch_size,
        "gradient_accumulation_steps": training.gradient_accumulation_steps,
        "activation_checkpointing": training.gradient_checkpointing,
        "activation_checkpointing_kwargs": {"use_reentrant": False} if training.gradient_checkpointing else None,
        "weight_decay": training.weight_decay,
        "max_grad_norm": training.max_grad_norm,
        "seed": training.seed,
        "logging_strategy": "steps",
        "logging_steps": training.logging_steps,
        "save_strategy": "steps",
        "save_steps": training.save_steps,
        # Rotation happens in CheckpointMarkerCallback, after the newest checkpoint is marked complete.
        "save_total_limit": None,
        "report_to": [] if training.report_to == "none" else [training.report_to],
        "bf16": recipe.distributed.mixed_precision == "bf16",
        "fp16": False,
        "use_cpu": not torch.cuda.is_available(),
        # Progress bars fill the SkyPilot logs with carriage returns, so metrics go through logging.
        "disable_tqdm": True,
    }
    if recipe.distributed.strategy == "fsdp":
        # NOTE: not run yet: it needs several GPUs. FSDP2 shards each decoder layer (the model's
        # _no_split_modules), and does its own activation checkpointing, which avoids the redundant
        # all-gather of the Trainer's checkpointing.
        settings["fsdp"] = True
        settings["fsdp_config"] = {
            "version": 2,
            "reshard_after_forward": True,
            "activation_checkpointing": training.gradient_checkpointing,
            "state_dict_type": "FULL_STATE_DICT",
        }
        settings["activation_checkpointing"] = False
        settings["activation_checkpointing_kwargs"] = None

    settings.update(data_settings)
    return SFTConfig(**settings)
