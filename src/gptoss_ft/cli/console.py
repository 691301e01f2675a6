"""Rich consoles for the CLI."""

from __future__ import annotations

import sys

from rich.console import Console

# Piped output is not cut to 80 columns: scripts and tests read whole table rows.
PIPED_WIDTH = 200


def make_console(*, stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else PIPED_WIDTH
    # Markup off: user values (paths, names) may contain [brackets]; styled text uses rich.text.Text.
    return Console(stderr=stderr, highlight=False, markup=False, soft_wrap=True, width=width)
