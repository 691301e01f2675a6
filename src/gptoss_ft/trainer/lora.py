"""LoRA settings from the recipe, checked against the model before they reach PEFT.

PEFT raises only when no target at all matches, so a misspelled entry next to a valid one is
dropped with a warning at most (peft 0.21.2). `check_lora_targets` rejects each entry that
matches nothing.
"""

from __future__ import annotations

import logging

from peft import LoraConfig
from peft.tuners.lora import ParamWrapper
from torch import nn

from gptoss_ft.cli.errors import UserError
from gptoss_ft.recipe import LoraSection

logger = logging.getLogger(__name__)


def expand_target_parameters(names: list[str], num_layers: int) -> list[str]:
    """Expand each parameter name to one entry per decoder layer: `{i}.{name}` for i < num_layers."""
    return [f"{layer}.{name}" for name in names for layer in range(num_layers)]


def build_lora_config(lora: LoraSection, num_layers: int) -> LoraConfig:
    """Return the PEFT LoraConfig for a recipe's lora section."""
    return LoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=lora.target_modules,
        target_parameters=expand_target_parameters(lora.target_parameters, num_layers) or None,
        bias="none",
        task_type="CAUSAL_LM",
    )


def _matches(name: str, target: str) -> bool:
    # PEFT's rule for a plain string target: the full name, or a suffix after a dot.
    return name == target or name.endswith(f".{target}")


def check_lora_targets(model: nn.Module, lora: LoraSection, num_layers: int) -> None:
    """Raise UserError naming each lora target module or parameter that matches nothing in the model."""
    module_names = [name for name, _ in model.named_modules() if name]
    if isinstance(lora.target_modules, list):
        for target in lora.target_modules:
            if not any(_matches(name, target) for name in module_names):
                linear_names = sorted(
                    {name.rsplit(".", 1)[-1] for name, module in model.named_modules() if isinstance(module, nn.Linear)}
                )
                raise UserError(
                    f"lora.target_modules entry {target!r} matches no module of {type(model).__name__}; "
                    f"linear modules it has: {', '.join(linear_names)}, or use all-linear"
                )
    elif not any(isinstance(module, nn.Linear) for module in model.modules()):
        raise UserError(f"lora.target_modules is all-linear but {type(model).__name__} has no linear module")

    parameter_names = [name for name, _ in model.named_parameters()]
    for target in lora.target_parameters:
        missing_layers = [
            layer
            for layer in range(num_layers)
            if not any(_matches(name, f"{layer}.{target}") for name in parameter_names)
        ]
        if missing_layers:
            candidates = sorted(
                {name.split(".", 3)[-1] for name in parameter_names if name.startswith("model.layers.0.")}
            )
            where = "any decoder layer" if len(missing_layers) == num_layers else f"decoder layers {missing_layers}"
            raise UserError(
                f"lora.target_parameters entry {target!r} matches no parameter in {where}; "
                f"parameters of a decoder layer: {', '.join(candidates)}"
            )


def check_lora_applied(model: nn.Module, lora: LoraSection, num_layers: int) -> None:
    """Raise RuntimeError when PEFT left a target parameter of some decoder layer without LoRA weights."""
    wrapped = set()
    for name, module in model.named_modules():
        if isinstance(module, ParamWrapper):
            # Two parameters of one module nest two wrappers: `experts` and `experts.base_layer`.
            owner = name.replace(".base_layer", "")
            wrapped.add(f"{owner}.{module.parameter_name}")
    for target in expand_target_parameters(lora.target_parameters, num_layers):
        if not any(_matches(name, target) for name in wrapped):
            raise RuntimeError(f"PEFT added no LoRA weights for target parameter {target!r}")

    trainable = sum(parameter.numel() for parameter in model.parameters() if parameter.requires_grad)
    total = sum(parameter.numel() for parameter in model.parameters())
    logger.info(
        "LoRA r=%d alpha=%d on %s and %s: %.2fM trainable of %.1fM parameters",
        lora.r,
        lora.alpha,
        lora.target_modules,
        ", ".join(lora.target_parameters) or "no expert parameters",
        trainable / 1e6,
        total / 1e6,
    )
