"""Exceptions for errors a user can fix; the CLI prints them as one line, never a traceback."""


class UserError(Exception):
    """An error the user can fix; its message names the value and the next step."""


class SkyPilotError(UserError):
    """A SkyPilot call that failed for a reason the user can act on."""
