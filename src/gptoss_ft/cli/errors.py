"""Turn expected user errors into one red line and exit code 2, never a traceback."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import typer
from rich.text import Text

from gptoss_ft.cli.console import make_console

from gptoss_ft.errors import UserError
from gptoss_ft.recipe import RecipeError

__all__ = ["UserError", "err_console", "exit_on_user_error"]

err_console = make_console(stderr=True)


def user_error_types() -> tuple[type[Exception], ...]:
    from gptoss_ft.chatdata.sources import DataError  # noqa: PLC0415
    from gptoss_ft.render import RenderError  # noqa: PLC0415

    return (UserError, RecipeError, DataError, RenderError)


@contextlib.contextmanager
def exit_on_user_error() -> Iterator[None]:
    try:
        yield
    except user_error_types() as exc:
        err_console.print(Text.assemble(("error:", "bold red"), f" {exc}"))
        raise typer.Exit(code=2) from None
    except KeyboardInterrupt:
        err_console.print(Text("interrupted", style="yellow"))
        raise typer.Exit(code=130) from None
