"""`gptoss-ft logs`: stream a run's job log."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from gptoss_ft.cli.errors import exit_on_user_error


def logs(
    cluster: Annotated[str, typer.Argument(help="Cluster name, as `gptoss-ft status` shows it.")],
    job_id: Annotated[Optional[int], typer.Option("--job", help="Job id. Default: the latest job.")] = None,
    follow: Annotated[bool, typer.Option("--follow/--no-follow", help="Keep streaming until the job ends.")] = True,
) -> None:
    """Stream the training log of a run.

    Examples:

      gptoss-ft logs gptoss-tiny-lora

      gptoss-ft logs gptoss-20b-lora --no-follow
    """
    with exit_on_user_error():
        from gptoss_ft import skypilot  # noqa: PLC0415 - imports SkyPilot
        from gptoss_ft.staging import check_cluster_name  # noqa: PLC0415

        exit_code = skypilot.tail_logs(check_cluster_name(cluster), job_id, follow=follow)
    raise typer.Exit(code=0 if exit_code == 0 else 1)
