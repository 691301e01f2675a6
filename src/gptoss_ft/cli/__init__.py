"""The `gptoss-ft` command line: one small module per command, each parses, calls and prints.

No module here imports SkyPilot or the training stack at import time, so `--help` and `render`
stay fast.
"""

from __future__ import annotations

import typer

from gptoss_ft.cli import train as train_cmd

app = typer.Typer(
    name="gptoss-ft",
    help="Fine-tune gpt-oss-20b and gpt-oss-120b (full or LoRA) through SkyPilot.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("train")(train_cmd.train)


def main() -> None:
    app()
