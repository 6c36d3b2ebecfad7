"""The one base of every error written for the user (issue 17).

A :class:`UserError` carries ``message``: plain sentences for a marketing-ops person,
saying what went wrong and what to do, written once, by the layer that knows (the API
layer words a refused key or an expired certificate; the store words a full disk). Both
faces show that same sentence: the CLI prints it (``error: …``) and ends with
``exit_code``; the GUI shows it, with its context around it (which window, which host).

This module imports nothing of the app, so every layer may derive from it.
"""

from __future__ import annotations

from typing import ClassVar

#: The CLI's exit codes (README, "Exit codes").
EXIT_OK = 0
EXIT_ROWS_FAILED = 1
EXIT_USAGE = 2
EXIT_API = 3
EXIT_CANCELLED = 130


class UserError(Exception):
    """An error whose :attr:`message` is meant for the user; the CLI ends with
    :attr:`exit_code` (by default 2: the command did not do its work; nothing was sent)."""

    exit_code: ClassVar[int] = EXIT_USAGE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
