"""SFTTrainer (TRL 1.16) takes the rows of gptoss_ft.chatdata as they are and trains only masked tokens."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gptoss_ft.chatdata import DataError, check_data, load_examples, sft_kwargs
from gptoss_ft.recipe import validate_recipe


def make_recipe(data: dict, **training):
    raw = {"name": "trainer-data", "model": {"tiny": {}}, "method": "full", "data": data, "training": training}
    return validate_recipe(raw, "test")


def tiny_model():
    import torch  # noqa: PLC0415
    from transformers import GptOssConfig, GptOssForCausalLM  # noqa: PLC0415

    torch.manual_seed(0)
    # The embedding must hold every o200k_harmony id (up to 201087), as the real models' does.
    config = GptOssConfig(
        vocab_size=201088,
        num_hidden_layers=1,
        hidden_size=32,
        intermediate_size=32,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=16,
        num_local_experts=2,
        num_experts_per_tok=1,
        max_position_embeddings=131072,
        attn_implementation="eager",
    )
    return GptOssForCausalLM(config)


def test_sfttrainer_trains_masked_tokens_and_logs_eval_loss(tmp_path):
    from datasets import Dataset  # noqa: PLC0415
    from trl import SFTConfig, SFTTrainer  # noqa: PLC0415

    from gptoss_ft.tokenizer import build_gptoss_tokenizer  # noqa: PLC0415

    recipe = make_recipe(
        {"dataset": "builtin:gsm8k-chat", "max_length": 160, "eval": {"size": 2, "steps": 3}}, save_steps=3
    )
    examples = load_examples(recipe, Path("."))
    train = Dataset.from_list(examples["train"][:12])
    evaluation = Dataset.from_list(examples["eval"])
    args = SFTConfig(
        output_dir=str(tmp_path / "run"),
        max_steps=6,
        per_device_train_batch_size=2,
        learning_rate=5e-3,
        lr_scheduler_type="constant",
        logging_steps=1,
        save_strategy="no",
        use_cpu=True,
        bf16=False,
        activation_checkpointing=False,
        report_to=[],
        disable_tqdm=True,
        **sft_kwargs(recipe),
    )
    trainer = SFTTrainer(
        model=tiny_model(), args=args, train_dataset=train, eval_dataset=evaluation, processing_class=build_gptoss_tokenizer()
    )

    # SFTTrainer folds assistant_masks into labels: -100 wherever the mask is 0.
    assert trainer.train_dataset.column_names == ["input_ids", "labels"]
    for prepared, row in zip(trainer.train_dataset, examples["train"]):
        assert prepared["input_ids"] == row["input_ids"]
        assert prepared["labels"] == [token if mask else -100 for token, mask in zip(row["input_ids"], row["assistant_masks"])]

    trainer.train()
    history = trainer.state.log_history
    eval_losses = [record["eval_loss"] for record in history if "eval_loss" in record]
    assert len(eval_losses) == 2
    assert eval_losses[-1] < eval_losses[0]
    accuracy = [record["mean_token_accuracy"] for record in history if "mean_token_accuracy" in record]
    assert max(accuracy[len(accuracy) // 2 :]) > accuracy[0]


def test_parquet_rows(tmp_path):
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.parquet as pq  # noqa: PLC0415

    rows = [{"question": f"What is {n} + 1?", "answer": f"Add one.\n#### {n + 1}"} for n in range(5)]
    rows[3] = {"question": "Missing answer", "answer": None}
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "rows.parquet")
    report = check_data(make_recipe({"dataset": "rows.parquet"}), tmp_path)
    assert report.rows_read == 5
    assert [(row.where, row.reason) for row in report.rejected] == [("row 4", "missing field 'answer'")]


def test_unreachable_hub_dataset(tmp_path):
    recipe = make_recipe({"dataset": "gptoss-ft-tests/no-such-dataset"})
    report = check_data(recipe, tmp_path)
    assert report.rows_read == 0
    assert report.skipped[0].startswith("hub dataset 'gptoss-ft-tests/no-such-dataset' (split 'train') could not be read")
    with pytest.raises(DataError, match="could not be read"):
        load_examples(recipe, tmp_path)


def test_rows_are_json_serializable():
    examples = load_examples(make_recipe({"dataset": "builtin:gsm8k-chat"}), Path("."))
    assert json.loads(json.dumps(examples["train"][0])) == examples["train"][0]
