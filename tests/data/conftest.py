"""Fixtures for the data tests: openai-harmony with the real o200k vocabulary, offline."""

from __future__ import annotations

import gzip
import os
import shutil
from collections.abc import Iterator
from importlib import resources
from typing import Any

import pytest


@pytest.fixture(scope="session")
def harmony_encoding(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """openai-harmony's gpt-oss encoding, with o200k_base from the bpe-openai wheel.

    openai-harmony 0.0.8 downloads `o200k_base.tiktoken` unless TIKTOKEN_ENCODINGS_BASE names a
    folder that contains it; the bpe-openai wheel ships the same ranks gzipped.
    """
    folder = tmp_path_factory.mktemp("tiktoken")
    source = resources.files("bpe_openai.data").joinpath("o200k_base.tiktoken.gz")
    with source.open("rb") as raw, gzip.open(raw) as ranks, (folder / "o200k_base.tiktoken").open("wb") as out:
        shutil.copyfileobj(ranks, out)
    previous = os.environ.get("TIKTOKEN_ENCODINGS_BASE")
    os.environ["TIKTOKEN_ENCODINGS_BASE"] = str(folder)
    try:
        import openai_harmony  # noqa: PLC0415

        yield openai_harmony.load_harmony_encoding(openai_harmony.HarmonyEncodingName.HARMONY_GPT_OSS)
    finally:
        if previous is None:
            os.environ.pop("TIKTOKEN_ENCODINGS_BASE", None)
        else:
            os.environ["TIKTOKEN_ENCODINGS_BASE"] = previous
