"""Shared paths and parsers for the trainer tests."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sys
from collections.abc import Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
TINY_LORA = REPO_ROOT / "recipes" / "tiny-lora.yaml"
TINY_FULL = REPO_ROOT / "recipes" / "tiny-full.yaml"
# The console script of the venv running the tests.
GPTOSS_FT = Path(sys.executable).parent / "gptoss-ft"

METRICS_LINE = re.compile(r"GPTOSS_FT_METRICS (\{.*\})")


def parse_metrics(lines: list[str]) -> list[dict]:
    """Return the JSON record of every GPTOSS_FT_METRICS line, in order."""
    records = []
    for line in lines:
        match = METRICS_LINE.search(line)
        if match:
            records.append(json.loads(match.group(1)))
    return records


def losses_by_step(lines: list[str]) -> dict[int, float]:
    """Return {step: loss} from the per-step metrics lines."""
    return {record["step"]: record["loss"] for record in parse_metrics(lines) if "loss" in record}


@contextlib.contextmanager
def captured_trainer_log() -> Iterator[list[str]]:
    """Collect the messages of gptoss_ft's loggers at INFO, for fixtures that cannot use caplog."""
    messages: list[str] = []

    class _Collector(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    handler = _Collector(level=logging.INFO)
    logger = logging.getLogger("gptoss_ft")
    previous_level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous_level)


def set_options(overrides: list[str]) -> list[str]:
    """Return `--set KEY=VALUE` options for the command line."""
    return [option for override in overrides for option in ("--set", override)]
