"""Errors shared by every command."""


class CommandError(Exception):
    """A user-facing error: printed as one line by `rung`, exit code 1."""
