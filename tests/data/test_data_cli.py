"""`gptoss-ft data check` on real datasets and on a file with three broken rows."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from gptoss_ft.cli import data

from .helpers import FIXTURES, SHARED_DATASETS, write_broken_gsm8k

runner = CliRunner()


def run_check(*arguments: str):
    return runner.invoke(data.app, ["check", *arguments], terminal_width=200)


def summary_value(output: str, label: str) -> str:
    match = re.search(rf"^\s*{re.escape(label)}\s+(.+?)\s*$", output, re.MULTILINE)
    assert match, f"no {label!r} line in:\n{output}"
    return match.group(1)


@pytest.mark.skipif(not (SHARED_DATASETS / "gsm8k/train.jsonl").is_file(), reason="the shared GSM8K file is not here")
def test_check_gsm8k_train():
    result = run_check(str(SHARED_DATASETS / "gsm8k/train.jsonl"))
    assert result.exit_code == 0, result.output
    assert summary_value(result.output, "rows read") == "7,473"
    assert summary_value(result.output, "rows rejected") == "0"
    assert summary_value(result.output, "train rows") == "7,473"
    assert summary_value(result.output, "tokens per row") == "min 112, median 199, p95 304, max 487"
    assert summary_value(result.output, "over max_length 1,024") == "0 rows (truncated)"
    assert summary_value(result.output, "trained tokens") == "635,532 of 1,560,604 per epoch"


@pytest.mark.skipif(
    not (SHARED_DATASETS / "llamafactory/reason_tool_use_demo_50.jsonl").is_file(),
    reason="the shared LLaMA-Factory file is not here",
)
def test_check_llamafactory_demo():
    result = run_check(str(SHARED_DATASETS / "llamafactory/reason_tool_use_demo_50.jsonl"), "--max-length", "4096")
    assert result.exit_code == 1, result.output
    assert summary_value(result.output, "rows read") == "50"
    assert summary_value(result.output, "rows rejected") == "7"
    assert summary_value(result.output, "train rows") == "43"
    assert summary_value(result.output, "over max_length 4,096") == "0 rows (truncated)"
    # The 7 rows end with parallel tool calls that have no results.
    rejected = re.findall(r"^\s+line (\d+): message 3: (\d) tool calls end the conversation", result.output, re.MULTILINE)
    assert [int(line) for line, _ in rejected] == [8, 10, 19, 23, 25, 38, 50]


def test_check_llamafactory_fixture():
    result = run_check(str(FIXTURES / "llamafactory-reason-tool-use-8.jsonl"), "--max-length", "4096")
    assert result.exit_code == 1, result.output
    assert summary_value(result.output, "rows read") == "8"
    assert summary_value(result.output, "rows rejected") == "1"
    assert re.search(r"^\s+line 5: message 3: 2 tool calls end the conversation", result.output, re.MULTILINE)


def test_check_names_three_broken_rows(tmp_path):
    path = tmp_path / "broken.jsonl"
    write_broken_gsm8k(path)
    result = run_check(str(path))
    assert result.exit_code == 1
    assert summary_value(result.output, "rows read") == "9"
    assert summary_value(result.output, "rows rejected") == "3"
    listed = re.findall(r"^\s+line (\d+): (.*)$", result.output, re.MULTILINE)
    assert [line for line, _ in listed] == ["4", "7", "9"]
    assert listed[0][1].startswith("invalid JSON")
    assert listed[1][1] == "missing field 'answer'"
    assert "<|channel|>" in listed[2][1]
    assert "3 of 9 rows rejected" in result.output


def test_check_recipe_with_eval(tmp_path):
    from gptoss_ft.recipe import preset_path  # noqa: PLC0415

    result = run_check(str(preset_path("tiny-lora")), "--set", "data.eval.size=16")
    assert result.exit_code == 0, result.output
    assert summary_value(result.output, "train rows") == "240"
    assert summary_value(result.output, "eval rows") == "16"
    assert summary_value(result.output, "over max_length 512") == "0 rows (truncated)"


def test_check_options_reach_the_data_section(tmp_path):
    path = tmp_path / "qa.jsonl"
    path.write_text('{"q": "What is 2 + 2?", "a": "Two and two.\\n#### 4"}\n')
    result = run_check(str(path), "--format", "gsm8k", "--set", "data.fields.question=q", "--set", "data.fields.answer=a", "--max-length", "64")
    assert result.exit_code == 0, result.output
    assert summary_value(result.output, "over max_length 64") == "1 rows (truncated)"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["missing.jsonl"], "local data file not found"),
        (["notes.txt"], "expected a recipe (.yaml) or a data file"),
        (["rows.jsonl", "--format", "csv"], "data.format"),
    ],
)
def test_check_user_errors(tmp_path, monkeypatch, arguments, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rows.jsonl").write_text('{"question": "q", "answer": "r\\n#### 1"}\n')
    result = run_check(*arguments)
    assert result.exit_code == 2
    assert message in result.output
