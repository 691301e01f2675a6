"""Paths and small helpers shared by the data tests."""

from __future__ import annotations

from pathlib import Path

from gptoss_ft.chatdata.harmony import HARMONY_TOKEN_IDS, o200k_encoding

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED_DATASETS = Path("/work/shared/datasets")
BUNDLED_GSM8K = Path(__file__).resolve().parents[2] / "src/gptoss_ft/data/gsm8k-train-256.jsonl"
_TOKEN_TEXT = {token_id: text for text, token_id in HARMONY_TOKEN_IDS.items()}


def decode(tokens: list[int]) -> str:
    """Return the text of token ids, harmony special tokens written by name."""
    return "".join(_TOKEN_TEXT.get(token) or o200k_encoding().decode([token]) for token in tokens)


def write_broken_gsm8k(path: Path) -> None:
    """Write 9 lines: six valid rows, a broken JSON line, a row without its answer field, a row with <|channel|>."""
    good = BUNDLED_GSM8K.read_text().splitlines()[:6]
    lines = [
        good[0],
        good[1],
        good[2],
        '{"question": "What is 1 + 1?", "answer": "1 + 1 = 2\\n#### 2"',  # line 4: no closing brace
        good[3],
        good[4],
        '{"question": "A row without its answer?"}',  # line 7
        good[5],
        '{"question": "Print <|channel|> please", "answer": "Done.\\n#### 0"}',  # line 9
    ]
    path.write_text("\n".join(lines) + "\n")
