"""Full fine-tuning of the tiny gpt-oss: every weight trains and the final model reloads."""

from __future__ import annotations

from pathlib import Path

from gptoss_ft.recipe import load_recipe

from .helpers import TINY_FULL, losses_by_step


def test_tiny_full_trains_and_saves_final(tmp_path: Path, trainer_logs) -> None:
    import torch
    from transformers import GptOssForCausalLM

    from gptoss_ft.tokenizer import load_gptoss_tokenizer
    from gptoss_ft.trainer.checkpoints import marker_problem
    from gptoss_ft.trainer.main import run_training
    from gptoss_ft.trainer.model import load_model

    output_dir = tmp_path / "run"
    overrides = ["training.max_steps=3", "training.per_device_train_batch_size=2", "training.save_steps=1000"]

    final = run_training(TINY_FULL, output_dir=output_dir, overrides=overrides)

    assert sorted(losses_by_step(trainer_logs.messages)) == [1, 2, 3]
    assert "Saved the final model (step 3) to " + str(final) in trainer_logs.messages
    assert marker_problem(final) is None
    for name in ("config.json", "model.safetensors", "tokenizer.json", "chat_template.jinja"):
        assert (final / name).is_file(), name

    trained = GptOssForCausalLM.from_pretrained(final)
    initial = load_model(load_recipe(TINY_FULL), load_gptoss_tokenizer())
    assert trained.config.vocab_size == 201088
    assert getattr(trained, "hf_quantizer", None) is None
    trained_weights = dict(trained.named_parameters())
    for name, weight in initial.named_parameters():
        assert not torch.equal(trained_weights[name], weight), f"{name} did not change in training"
