"""Reading, the pinned date, mixes, held-out eval rows, the cut to max_length and the trainer API."""

from __future__ import annotations

import datetime
import importlib.util
import json
from pathlib import Path

import pytest

import gptoss_ft.chatdata.harmony as harmony
from gptoss_ft.chatdata import (
    DataError,
    check_data,
    check_recipe_data,
    load_examples,
    local_data_files,
    sft_kwargs,
    stage_local_files,
    tokenize_examples,
)
from gptoss_ft.chatdata.harmony import RETURN, START, encode_text
from gptoss_ft.chatdata.sources import iter_file_rows
from gptoss_ft.recipe import validate_recipe

def make_recipe(data: dict, **training):
    raw = {"name": "pipeline", "model": {"tiny": {}}, "method": "full", "data": data, "training": training}
    return validate_recipe(raw, "test")


def write_rows(path: Path, count: int, start: int = 0) -> Path:
    rows = [{"question": f"What is {n} + {n}?", "answer": f"Double {n}.\n#### {2 * n}"} for n in range(start, start + count)]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


# --- the pinned date ---------------------------------------------------------------------------


def test_date_is_pinned(monkeypatch):
    row = [{"question": "q", "answer": "r\n#### 1"}]
    first = tokenize_examples(row)

    class NextYear(datetime.date):
        @classmethod
        def today(cls):
            return cls(2027, 1, 1)

    monkeypatch.setattr(datetime, "date", NextYear)
    assert tokenize_examples(row) == first
    assert "Current date: 2025-08-05" in harmony.system_message_text(harmony.RenderSettings(), has_tools=False)


def test_date_comes_from_recipe():
    row = [{"question": "q", "answer": "r\n#### 1"}]
    default = tokenize_examples(row)[0]["input_ids"]
    recipe = make_recipe({"dataset": "rows", "current_date": "2030-01-31"})
    other = tokenize_examples(row, recipe.data)[0]["input_ids"]
    assert other != default
    date_tokens = encode_text("2030-01-31")
    assert any(other[i : i + len(date_tokens)] == date_tokens for i in range(len(other)))


# --- readers ----------------------------------------------------------------------------------


def test_json_array_and_json_lines_in_json(tmp_path):
    rows = [{"question": "q", "answer": "r\n#### 1"}] * 3
    array = tmp_path / "array.json"
    array.write_text(json.dumps(rows, indent=2))
    lines = tmp_path / "lines.json"
    lines.write_text("\n".join(json.dumps(row) for row in rows))
    assert [row.where for row in iter_file_rows(array)] == ["row 1", "row 2", "row 3"]
    assert [row.where for row in iter_file_rows(lines)] == ["line 1", "line 2", "line 3"]


def test_blank_lines_keep_line_numbers(tmp_path):
    path = tmp_path / "gaps.jsonl"
    path.write_text('{"a": 1}\n\n\n{"a": 2}\n')
    assert [row.where for row in iter_file_rows(path)] == ["line 1", "line 4"]


@pytest.mark.skipif(importlib.util.find_spec("pyarrow") is not None, reason="pyarrow is installed here")
def test_parquet_needs_pyarrow(tmp_path):
    path = tmp_path / "rows.parquet"
    path.write_bytes(b"PAR1")
    with pytest.raises(DataError, match="reading Parquet needs pyarrow"):
        list(iter_file_rows(path))


def test_missing_local_file_named_before_anything_runs(tmp_path):
    recipe = make_recipe({"mix": [{"dataset": "here.jsonl"}, {"dataset": "gone.jsonl"}, {"dataset": "org/hub"}]})
    write_rows(tmp_path / "here.jsonl", 2)
    with pytest.raises(DataError, match=r"local data file not found: data.mix.1.dataset '.*gone.jsonl'"):
        check_recipe_data(recipe, tmp_path)


def test_hub_dataset_skipped_before_launch(tmp_path):
    recipe = make_recipe({"mix": [{"dataset": "local.jsonl"}, {"dataset": "org/hub-set"}]})
    write_rows(tmp_path / "local.jsonl", 4)
    report = check_recipe_data(recipe, tmp_path)
    assert report.rows_read == 4
    assert report.skipped == ["hub dataset 'org/hub-set' not read; `gptoss-ft data check` reads a sample of it"]
    assert "org/hub-set" in report.summary_line()


@pytest.mark.skipif(importlib.util.find_spec("datasets") is not None, reason="datasets is installed here")
def test_hub_dataset_without_datasets_package(tmp_path):
    report = check_data(make_recipe({"dataset": "org/hub-set"}), tmp_path)
    assert report.rows_read == 0
    assert "the `datasets` package is not installed here" in report.skipped[0]


def test_check_recipe_data_raises_with_first_rows(tmp_path):
    path = write_rows(tmp_path / "rows.jsonl", 3)
    with path.open("a") as handle:
        handle.write('{"question": "q"}\n')
    with pytest.raises(DataError, match=r"data check: 1 of 4 rows cannot be trained on: .*rows.jsonl line 4: missing field 'answer'"):
        check_recipe_data(make_recipe({"dataset": "rows.jsonl"}), tmp_path)


# --- mixes and eval rows ------------------------------------------------------------------------


def test_mix_weights(tmp_path):
    write_rows(tmp_path / "a.jsonl", 10)
    write_rows(tmp_path / "b.jsonl", 8, start=100)
    recipe = make_recipe({"mix": [{"dataset": "a.jsonl", "weight": 2}, {"dataset": "b.jsonl", "weight": 0.5}]})
    examples = load_examples(recipe, tmp_path)
    assert len(examples["train"]) == 2 * 10 + 4
    assert examples["eval"] is None
    again = load_examples(recipe, tmp_path)
    assert again == examples


def test_mix_of_formats(tmp_path):
    write_rows(tmp_path / "math.jsonl", 3)
    chat = tmp_path / "chat.jsonl"
    chat.write_text(json.dumps({"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}) + "\n")
    recipe = make_recipe({"mix": [{"dataset": "math.jsonl"}, {"dataset": "chat.jsonl", "weight": 3}]})
    report = check_data(recipe, tmp_path)
    assert [result.format for result in report.prepared.sources] == ["gsm8k", "messages"]
    assert report.train_rows == 3 + 3


def test_eval_count_is_held_out(tmp_path):
    write_rows(tmp_path / "rows.jsonl", 40)
    recipe = make_recipe({"dataset": "rows.jsonl", "eval": {"size": 10}}, seed=7)
    examples = load_examples(recipe, tmp_path)
    assert len(examples["train"]) == 30
    assert len(examples["eval"]) == 10
    train_ids = {tuple(row["input_ids"]) for row in examples["train"]}
    assert not train_ids & {tuple(row["input_ids"]) for row in examples["eval"]}
    assert load_examples(recipe, tmp_path) == examples
    other_seed = load_examples(make_recipe({"dataset": "rows.jsonl", "eval": {"size": 10}}, seed=8), tmp_path)
    assert other_seed["eval"] != examples["eval"]


def test_eval_fraction_across_mix(tmp_path):
    write_rows(tmp_path / "a.jsonl", 40)
    write_rows(tmp_path / "b.jsonl", 20, start=100)
    recipe = make_recipe({"mix": [{"dataset": "a.jsonl", "weight": 2}, {"dataset": "b.jsonl"}], "eval": {"size": 0.25}})
    examples = load_examples(recipe, tmp_path)
    assert len(examples["eval"]) == 10 + 5
    # Held-out rows are picked before weighting, so a repeated row is never in both sets.
    assert len(examples["train"]) == 2 * 30 + 15
    train_ids = {tuple(row["input_ids"]) for row in examples["train"]}
    assert not train_ids & {tuple(row["input_ids"]) for row in examples["eval"]}


def test_eval_count_too_large(tmp_path):
    write_rows(tmp_path / "rows.jsonl", 5)
    with pytest.raises(DataError, match="data.eval.size 5 leaves no training rows"):
        load_examples(make_recipe({"dataset": "rows.jsonl", "eval": {"size": 5}}), tmp_path)


def test_eval_dataset_file(tmp_path):
    write_rows(tmp_path / "train.jsonl", 6)
    write_rows(tmp_path / "eval.jsonl", 2, start=50)
    examples = load_examples(make_recipe({"dataset": "train.jsonl", "eval": {"dataset": "eval.jsonl"}}), tmp_path)
    assert (len(examples["train"]), len(examples["eval"])) == (6, 2)


def test_eval_split_of_local_file_rejected(tmp_path):
    write_rows(tmp_path / "train.jsonl", 6)
    with pytest.raises(DataError, match="is a local file, which has no named splits"):
        load_examples(make_recipe({"dataset": "train.jsonl", "eval": {"split": "test"}}), tmp_path)


def test_sft_kwargs():
    plain = sft_kwargs(make_recipe({"dataset": "builtin:gsm8k-chat", "max_length": 300}))
    assert plain == {
        "assistant_only_loss": False,
        "completion_only_loss": False,
        "packing": False,
        "max_length": 300,
        "eval_strategy": "no",
    }
    with_eval = sft_kwargs(make_recipe({"dataset": "builtin:gsm8k-chat", "eval": {"size": 8}}, save_steps=25))
    assert with_eval["eval_strategy"] == "steps"
    assert with_eval["eval_steps"] == 25
    assert with_eval["per_device_eval_batch_size"] == 4
    explicit = sft_kwargs(make_recipe({"dataset": "builtin:gsm8k-chat", "eval": {"size": 8, "steps": 5}}))
    assert explicit["eval_steps"] == 5


# --- the cut to max_length --------------------------------------------------------------------------


def test_rows_cut_to_max_length(tmp_path):
    recipe = make_recipe({"dataset": "builtin:gsm8k-chat", "max_length": 150})
    report = check_data(recipe, tmp_path)
    assert report.over_max_length > 0
    assert all(len(row.input_ids) <= 150 for row in report.prepared.train)
    assert all(1 in row.assistant_masks for row in report.prepared.train)
    full = check_data(make_recipe({"dataset": "builtin:gsm8k-chat"}), tmp_path)
    assert report.train_rows + report.prepared.train_dropped == full.train_rows
    assert report.trained_tokens < full.trained_tokens


def test_drop_long_rows(tmp_path):
    recipe = make_recipe({"dataset": "builtin:gsm8k-chat", "max_length": 200, "too_long": "drop"})
    report = check_data(recipe, tmp_path)
    assert report.prepared.train_dropped == report.over_max_length > 0
    assert report.train_rows == 256 - report.over_max_length
    assert all(row.input_ids[-1] == RETURN for row in report.prepared.train)


def test_load_examples_shape():
    examples = load_examples(make_recipe({"dataset": "builtin:gsm8k-chat"}), Path("."))
    assert set(examples) == {"train", "eval"}
    row = examples["train"][0]
    assert set(row) == {"input_ids", "assistant_masks"}
    assert len(row["input_ids"]) == len(row["assistant_masks"])
    assert row["input_ids"][0] == START
    assert set(row["assistant_masks"]) == {0, 1}


def test_gsm8k_builtin_counts():
    report = check_data(make_recipe({"dataset": "builtin:gsm8k-chat", "max_length": 512}), Path("."))
    assert (report.rows_read, len(report.rejected), report.train_rows) == (256, 0, 256)
    assert report.over_max_length == 0
    assert report.lengths.min <= report.lengths.median <= report.lengths.p95 <= report.lengths.max <= 512


# --- staging for the cluster -------------------------------------------------------------------


def test_stage_local_files(tmp_path):
    write_rows(tmp_path / "a.jsonl", 2)
    (tmp_path / "sub").mkdir()
    write_rows(tmp_path / "sub" / "a.jsonl", 2)
    write_rows(tmp_path / "eval.jsonl", 2)
    recipe = make_recipe(
        {"mix": [{"dataset": "a.jsonl"}, {"dataset": "sub/a.jsonl"}, {"dataset": "builtin:gsm8k-chat"}, {"dataset": "org/hub"}],
         "eval": {"dataset": "eval.jsonl"}}
    )  # fmt: skip
    staged, files = stage_local_files(recipe, tmp_path)
    assert [entry.dataset for entry in staged.data.mix] == ["data/1-a.jsonl", "data/2-a.jsonl", "builtin:gsm8k-chat", "org/hub"]
    assert staged.data.eval.dataset == "data/3-eval.jsonl"
    assert files == {
        "data/1-a.jsonl": tmp_path / "a.jsonl",
        "data/2-a.jsonl": tmp_path / "sub" / "a.jsonl",
        "data/3-eval.jsonl": tmp_path / "eval.jsonl",
    }
    assert recipe.data.mix[0].dataset == "a.jsonl"
    assert local_data_files(recipe, tmp_path) == list(files.values())
