"""The one exception the readers raise: :class:`FileProblem`.

Every problem with a user's file (missing, unreadable, wrong format, malformed rows)
is reported as a ``FileProblem`` whose ``message`` is plain words for the person who
picked the file: it names the file and, where it applies, the spreadsheet row and
column, and says what to do about it. Programming errors (bad arguments from our own
code) stay ``ValueError``/``TypeError``.
"""

from __future__ import annotations

from pathlib import Path

from recotap_desktop.errors import UserError

__all__ = ["FileProblem", "column_label", "column_letter"]


class FileProblem(UserError):
    """A file cannot be used as given; ``message`` says why, where, and what to do.

    Attributes:
        message: human text naming the file and, where applicable, row and column.
        path: the file concerned.
        row: spreadsheet row number (header = row 1) or ``None``.
        column: spreadsheet column letter (``"C"``) or ``None``.
    """

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = Path(path) if path is not None else None
        self.row = row
        self.column = column

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"FileProblem({self.message!r}, row={self.row!r}, column={self.column!r})"


def column_letter(index: int) -> str:
    """Spreadsheet letter of a 0-based column index: 0 -> ``"A"``, 26 -> ``"AA"``."""
    if index < 0:
        raise ValueError("column index must be >= 0")
    letters = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(ord("A") + rem) + letters
    return letters


def column_label(index: int) -> str:
    """Human label of a 0-based column index, e.g. ``"column C (3)"``."""
    return f"column {column_letter(index)} ({index + 1})"
