"""The `gptoss-ft` command line: one small module per command, each parses, calls and prints.

No module here imports SkyPilot or the training stack at import time, so `--help` and `render`
stay fast.
"""

from __future__ import annotations

import typer

from gptoss_ft.cli import data as data_cmd
from gptoss_ft.cli import down as down_cmd
from gptoss_ft.cli import launch as launch_cmd
from gptoss_ft.cli import logs as logs_cmd
from gptoss_ft.cli import recipes_cmd, render_cmd
from gptoss_ft.cli import status as status_cmd
from gptoss_ft.cli import train as train_cmd

app = typer.Typer(
    name="gptoss-ft",
    help="Fine-tune gpt-oss-20b and gpt-oss-120b (full or LoRA) through SkyPilot.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("launch")(launch_cmd.launch)
app.command("render")(render_cmd.render)
app.command("status")(status_cmd.status)
app.command("logs")(logs_cmd.logs)
app.command("down")(down_cmd.down)
app.add_typer(recipes_cmd.app, name="recipes")
app.add_typer(data_cmd.app, name="data")
app.command("train")(train_cmd.train)


def main() -> None:
    app()
