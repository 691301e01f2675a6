"""The offline gpt-oss tokenizer against openai-harmony's o200k_harmony, and its cache."""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import shutil
from pathlib import Path

import pytest

from gptoss_ft.tokenizer import (
    GPTOSS_VOCAB_SIZE,
    HARMONY_NAMED_TOKENS,
    harmony_special_tokens,
    load_gptoss_tokenizer,
    tokenizer_cache_dir,
)

SAMPLE_TEXTS = [
    "Hello world, 123456 it's DON'T  \n\n x",
    "Ünïcödé 日本語のテキスト 😀 emojis\t\ttabs\r\n",
    "def f(x):\n    return x**2  # comment\n\n\n",
    "   leading spaces and trailing   ",
    "I'LL we've They'RE a/b/c\n/d 3.14159 -42",
    "Natalia sold clips to 48 of her friends in April, and then half as many in May.",
]


@pytest.fixture(scope="module")
def tokenizer():
    return load_gptoss_tokenizer()


@pytest.fixture(scope="module")
def harmony_encoding(tmp_path_factory: pytest.TempPathFactory):
    """openai-harmony's gpt-oss encoding, reading o200k_base from the bpe-openai wheel instead of the web."""
    harmony = pytest.importorskip("openai_harmony")
    folder = tmp_path_factory.mktemp("tiktoken")
    # The spec locates the wheel's data without importing bpe_openai, which loads every vocabulary.
    package_dir = Path(next(iter(importlib.util.find_spec("bpe_openai").submodule_search_locations)))
    packed = package_dir / "data" / "o200k_base.tiktoken.gz"
    with gzip.open(packed) as source, (folder / "o200k_base.tiktoken").open("wb") as target:
        shutil.copyfileobj(source, target)
    os.environ["TIKTOKEN_ENCODINGS_BASE"] = str(folder)
    try:
        return harmony.load_harmony_encoding(harmony.HarmonyEncodingName.HARMONY_GPT_OSS)
    finally:
        del os.environ["TIKTOKEN_ENCODINGS_BASE"]


def test_vocabulary_size_and_roles(tokenizer) -> None:
    assert len(tokenizer) == GPTOSS_VOCAB_SIZE == 201088
    assert tokenizer.bos_token_id == 199998
    assert tokenizer.eos_token == "<|return|>"
    assert tokenizer.eos_token_id == 200002
    assert tokenizer.pad_token_id == 199999
    for token, token_id in HARMONY_NAMED_TOKENS.items():
        assert tokenizer.convert_tokens_to_ids(token) == token_id, token


def test_special_ids_match_harmony(harmony_encoding) -> None:
    ours = harmony_special_tokens()
    theirs = {token: harmony_encoding.encode(token, allowed_special="all") for token in harmony_encoding.special_tokens_set}

    for token, token_id in ours.items():
        assert theirs.get(token) == [token_id], token
    # openai-harmony 0.0.8 also defines one id past the model's 201088-row embedding.
    assert set(theirs) - set(ours) == {"<|reserved_201088|>"}


def test_text_ids_match_harmony(tokenizer, harmony_encoding) -> None:
    for text in SAMPLE_TEXTS:
        assert tokenizer.encode(text, add_special_tokens=False) == harmony_encoding.encode(text), text


def test_rendered_chat_ids_match_harmony(tokenizer, harmony_encoding) -> None:
    messages = [
        {"role": "user", "content": "What is 6 times 7?"},
        {"role": "assistant", "thinking": "6 * 7 = 42.", "content": "42"},
    ]
    rendered = tokenizer.apply_chat_template(messages, tokenize=False)

    assert "<|start|>assistant<|channel|>analysis<|message|>6 * 7 = 42.<|end|>" in rendered
    assert rendered.endswith("<|start|>assistant<|channel|>final<|message|>42<|return|>")
    ours = tokenizer(rendered, add_special_tokens=False)["input_ids"]
    assert ours == harmony_encoding.encode(rendered, allowed_special="all")


def test_trl_swaps_in_training_template(tokenizer) -> None:
    from trl.chat_template_utils import get_training_chat_template

    training_template = get_training_chat_template(tokenizer)

    assert training_template is not None
    assert "{% generation %}" in training_template
    assert "{% generation %}" not in tokenizer.chat_template


def test_cache_is_written_and_reused(tokenizer) -> None:
    # The module fixture built the tokenizer into the session's XDG_CACHE_HOME.
    cache_dir = tokenizer_cache_dir()
    tokenizer_json = cache_dir / "tokenizer.json"
    assert tokenizer_json.is_file()
    written_at = tokenizer_json.stat().st_mtime_ns

    reloaded = load_gptoss_tokenizer()

    assert tokenizer_json.stat().st_mtime_ns == written_at, "a valid cache was rebuilt"
    assert reloaded.encode(SAMPLE_TEXTS[0]) == tokenizer.encode(SAMPLE_TEXTS[0])
    assert reloaded.chat_template == tokenizer.chat_template
    staging = [path.name for path in cache_dir.parent.iterdir() if path.name.startswith(".")]
    assert staging == [], "a staging folder was left behind"


def test_corrupt_cache_is_rebuilt(tokenizer, tmp_path: Path) -> None:
    cache_dir = tmp_path / "tokenizer"
    shutil.copytree(tokenizer_cache_dir(), cache_dir)
    (cache_dir / "tokenizer.json").write_text('{"truncated": ')

    rebuilt = load_gptoss_tokenizer(cache_dir)

    assert len(rebuilt) == GPTOSS_VOCAB_SIZE
    assert json.loads((cache_dir / "tokenizer.json").read_text())["model"]["type"] == "BPE"


def test_cache_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))

    assert tokenizer_cache_dir().parent == tmp_path / "gptoss-ft"
