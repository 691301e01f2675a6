"""`gptoss-ft down`: tear a cluster down."""

from __future__ import annotations

from typing import Annotated

import typer

from gptoss_ft.cli.console import make_console
from gptoss_ft.cli.errors import exit_on_user_error

console = make_console()


def down(
    cluster: Annotated[str, typer.Argument(help="Cluster name, as `gptoss-ft status` shows it.")],
) -> None:
    """Tear down a cluster; all billing for it stops. Output in a bucket or the login home stays.

    Example: gptoss-ft down gptoss-20b-lora
    """
    with exit_on_user_error():
        from gptoss_ft import monitoring  # noqa: PLC0415 - imports SkyPilot

        message = monitoring.tear_down(cluster)
    console.print(message)
