#!/usr/bin/env python3
"""Measure `gptoss-ft data check` throughput on a data file (default: GSM8K's 7,473 training rows).

Two figures, each the median of --repeat runs:
- the command in a fresh process: Python start, imports, the o200k vocabulary load, reading,
  rendering and counting every row, and printing the report;
- the check alone, in this process once the vocabulary is loaded, as rows per second.

    .venv/bin/python scripts/bench_data_check.py [FILE] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_FILE = Path("/work/shared/datasets/gsm8k/train.jsonl")
# Runs the `data check` command whether or not the `data` group is registered on gptoss-ft yet.
COMMAND = "import sys; from gptoss_ft.cli.data import app; sys.argv[0] = 'gptoss-ft data'; app()"


def time_command(path: Path, repeat: int) -> list[float]:
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-c", COMMAND, "check", str(path)], capture_output=True, text=True, check=False
        )
        seconds.append(time.perf_counter() - start)
        if result.returncode not in (0, 1):
            sys.exit(f"data check failed with exit code {result.returncode}:\n{result.stderr}")
    return seconds


def time_in_process(path: Path, repeat: int) -> tuple[list[float], int]:
    from gptoss_ft.chatdata import check_data  # noqa: PLC0415
    from gptoss_ft.chatdata.harmony import o200k_encoding  # noqa: PLC0415
    from gptoss_ft.recipe import validate_recipe  # noqa: PLC0415

    recipe = validate_recipe(
        {"name": "bench", "model": {"tiny": {}}, "method": "full", "data": {"dataset": str(path.resolve())}}, "bench"
    )
    o200k_encoding()
    seconds = []
    rows = 0
    for _ in range(repeat):
        start = time.perf_counter()
        report = check_data(recipe, Path.cwd())
        seconds.append(time.perf_counter() - start)
        rows = report.rows_read
    return seconds, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path, default=DEFAULT_FILE, help="a .jsonl, .json or .parquet file")
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure; the median is reported")
    args = parser.parse_args()
    if not args.file.is_file():
        sys.exit(f"{args.file}: file not found; pass a data file")

    command = statistics.median(time_command(args.file, args.repeat))
    in_process, rows = time_in_process(args.file, args.repeat)
    check = statistics.median(in_process)
    print(f"file: {args.file} ({rows:,} rows)")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"`data check` command, fresh process: {command:.2f} s (median of {args.repeat})")
    print(f"check alone, vocabulary loaded: {check:.2f} s, {rows / check:,.0f} rows/s (median of {args.repeat})")


if __name__ == "__main__":
    main()
