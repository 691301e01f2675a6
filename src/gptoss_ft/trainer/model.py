"""Load the model a recipe names: a hub checkpoint (or local folder), or a tiny gpt-oss with random weights."""

from __future__ import annotations

import logging
from typing import Any

import torch
from transformers import AutoModelForCausalLM, GptOssConfig, GptOssForCausalLM, Mxfp4Config, PreTrainedConfig
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from gptoss_ft.cli.errors import UserError
from gptoss_ft.recipe import Recipe, TinyModel

logger = logging.getLogger(__name__)

# GptOssConfig's default YaRN rotary scaling (factor 32 over 4096 positions) reaches 131072
# positions. A smaller max_position_embeddings makes transformers warn about the mismatch.
MAX_POSITION_EMBEDDINGS = 131072

TORCH_DTYPES = {"bfloat16": torch.bfloat16, "float32": torch.float32}


def load_model(recipe: Recipe, tokenizer: PreTrainedTokenizerBase) -> PreTrainedModel:
    """Load the recipe's model in recipe.model.dtype, with the cache off because training never uses it."""
    dtype = TORCH_DTYPES[recipe.model.dtype]
    if recipe.model.tiny is not None:
        model = build_tiny_model(recipe.model.tiny, tokenizer, dtype, recipe.model.attn_implementation)
    else:
        model = load_hub_model(recipe.model.id, dtype, recipe.model.attn_implementation)

    embedding_rows = model.get_input_embeddings().num_embeddings
    if len(tokenizer) > embedding_rows:
        raise UserError(
            f"the tokenizer has {len(tokenizer)} tokens but the model embeds only {embedding_rows}; "
            f"use the tokenizer that belongs to model.id {recipe.model.id!r}"
        )
    model.config.use_cache = False
    parameters = sum(parameter.numel() for parameter in model.parameters())
    logger.info("Loaded %s: %.1fM parameters, dtype %s", type(model).__name__, parameters / 1e6, dtype)
    return model


def tiny_config(tiny: TinyModel, tokenizer: PreTrainedTokenizerBase, attn_implementation: str) -> GptOssConfig:
    """Return a small GptOssConfig whose vocabulary and special token ids are the tokenizer's."""
    return GptOssConfig(
        vocab_size=len(tokenizer),
        hidden_size=tiny.hidden_size,
        intermediate_size=tiny.intermediate_size,
        num_hidden_layers=tiny.num_hidden_layers,
        num_attention_heads=tiny.num_attention_heads,
        num_key_value_heads=tiny.num_key_value_heads,
        head_dim=tiny.head_dim,
        num_local_experts=tiny.num_local_experts,
        num_experts_per_tok=tiny.num_experts_per_tok,
        max_position_embeddings=MAX_POSITION_EMBEDDINGS,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        attn_implementation=attn_implementation,
    )


def build_tiny_model(
    tiny: TinyModel, tokenizer: PreTrainedTokenizerBase, dtype: torch.dtype, attn_implementation: str
) -> GptOssForCausalLM:
    """Build GptOssForCausalLM from a small config with random weights; tiny.seed fixes the weights."""
    config = tiny_config(tiny, tokenizer, attn_implementation)
    # Weight init draws from torch's global generator. Forking it keeps tiny.seed from changing
    # the random state of the rest of the process.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(tiny.seed)
        model = GptOssForCausalLM(config)
    return model.to(dtype)


def checkpoint_config_dict(model_id: str) -> dict[str, Any]:
    """Return the raw config.json of a hub id or local folder, without building a config class."""
    try:
        config_dict, _ = PreTrainedConfig.get_config_dict(model_id)
    except OSError as exc:
        raise UserError(
            f"cannot read the config of model.id {model_id!r}: {exc}. "
            "Check the id or path, and set HF_TOKEN for a gated model"
        ) from None
    return config_dict


def is_mxfp4_checkpoint(config_dict: dict[str, Any]) -> bool:
    """Return whether config.json marks the weights as MXFP4, as the released gpt-oss checkpoints do."""
    quantization = config_dict.get("quantization_config") or {}
    return isinstance(quantization, dict) and quantization.get("quant_method") == "mxfp4"


def load_hub_model(model_id: str, dtype: torch.dtype, attn_implementation: str) -> PreTrainedModel:
    """Load a checkpoint, dequantizing MXFP4 expert weights to `dtype` so that they can train.

    Mxfp4Config is passed only for an MXFP4 checkpoint: on any other checkpoint it loads without an
    error but leaves the model marked quantized, and the Trainer then refuses to train it.
    """
    kwargs: dict[str, Any] = {"dtype": dtype, "attn_implementation": attn_implementation, "use_cache": False}
    if is_mxfp4_checkpoint(checkpoint_config_dict(model_id)):
        logger.info("%s has MXFP4 weights; dequantizing them to %s", model_id, dtype)
        kwargs["quantization_config"] = Mxfp4Config(dequantize=True)
    logger.info("Loading %s", model_id)
    try:
        return AutoModelForCausalLM.from_pretrained(model_id, **kwargs)
    except OSError as exc:
        raise UserError(f"cannot load the weights of model.id {model_id!r}: {exc}") from None


# Vocabulary columns per tile of TRL's fused LM head when it runs on the CPU. On a 2-core CPU,
# forward and backward of the tiny model (1020 tokens, 201088-token vocabulary, trl 1.16.0) took
# about 5.3 s with TRL's 32768 columns and about 1.7 s with 2048. The torch fallback makes several
# elementwise passes over each tile, and a smaller tile stays in cache between them.
CPU_LM_HEAD_TILE_COLUMNS = 2048


def use_cache_sized_lm_head_tiles() -> None:
    """Narrow the tiles of TRL's fused LM head for CPU training. GPUs keep TRL's Triton-tuned width.

    trl 1.16.0 reads the width from the private module constant `_CHUNKED_LOGPROB_CHUNK_SIZE` on
    every call. When a later trl drops it, nothing is changed and the run is only slower.
    """
    from trl.trainer import utils as trl_utils  # noqa: PLC0415

    if hasattr(trl_utils, "_CHUNKED_LOGPROB_CHUNK_SIZE"):
        trl_utils._CHUNKED_LOGPROB_CHUNK_SIZE = CPU_LM_HEAD_TILE_COLUMNS
    else:
        logger.warning("This trl has no _CHUNKED_LOGPROB_CHUNK_SIZE; CPU training keeps its LM head tile width")
