"""Readers and writers for users' files (no Qt, no network).

Readers: :func:`sniff` a CSV/TSV/TXT or XLSX file into a :class:`SourceInfo`, then
stream it with :func:`iter_rows` (or take a :func:`preview`). Every problem with a file
is a :class:`FileProblem` with a message for the user. Writers: :class:`TableWriter`
(CSV/TSV/XLSX, atomic, streaming) and :func:`neutralise` (formula-injection guard).
See ``readers.py`` and ``writers.py`` for the conventions (row numbers, value
formats, padding of short rows, formula safety).
"""

from __future__ import annotations

from .problems import FileProblem, column_letter
from .readers import (
    FIELD_SIZE_LIMIT,
    SourceInfo,
    iter_row_blocks,
    iter_rows,
    preview,
    sniff,
    source_title,
)
from .writers import TableWriter, neutralise

__all__ = [
    "FIELD_SIZE_LIMIT",
    "FileProblem",
    "SourceInfo",
    "TableWriter",
    "column_letter",
    "iter_row_blocks",
    "iter_rows",
    "neutralise",
    "preview",
    "sniff",
    "source_title",
]
