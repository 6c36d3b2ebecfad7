"""Read CSV/TSV/TXT and XLSX files as rows of strings, streaming.

``sniff(path)`` looks at a file once and returns a :class:`SourceInfo` (format, encoding,
delimiter, sheet, headers) or raises :class:`FileProblem`; ``iter_rows(info)`` then
streams ``(row_number, values)`` pairs; ``preview(info, n)`` gives the first rows.

Conventions (what a user sees in a spreadsheet):

* Row numbers are spreadsheet rows: the header is row 1 and the first data row is
  row 2 in the usual case. Records are counted, not text lines, so a quoted value
  with line breaks still occupies one row. Blank rows are skipped but keep their
  number, so row numbers always match the spreadsheet. An Excel ``sep=;`` first line
  is not a row (Excel hides it). If the header is preceded by blank rows it keeps its
  real row number (``SourceInfo.header_row``).
* Values are strings, returned verbatim (not stripped); header cells are stripped
  (and a stray BOM removed). Every row has ``len(headers)`` values: rows shorter than
  the header are padded with ``""`` (spreadsheets drop trailing empty cells when they
  save CSV). A row with a non-empty value beyond the last header is an error naming
  the row and column. A trailing header column that is blank in the header and empty
  in the data (the mark of a trailing delimiter) is ignored.
* XLSX values: dates ``2026-01-15``, date-times ``2026-01-15T10:30:00`` (seconds
  rounded), times ``10:30:00``, whole numbers without ``.0`` (``75000``), other
  numbers in plain positional form (``0.00001``, never ``1e-05``), booleans
  ``TRUE``/``FALSE`` (what Excel shows and what Excel writes when it saves the same
  sheet as CSV, so CSV and XLSX copies of a sheet read the same), formulas give their
  cached value (as last computed by Excel; a formula never calculated reads as empty),
  error cells (``#N/A``) read as empty. A date-time of exactly midnight reads as a
  date (python-calamine reports it so).
* The format comes from the file's first bytes, not its name: a workbook named
  ``.csv`` is read as a workbook and a CSV named ``.xlsx`` as CSV.

Memory: CSV is streamed record by record (constant memory apart from the current
record; a single value may be up to :data:`FIELD_SIZE_LIMIT` characters). XLSX is read
with python-calamine (chosen by measurement, see ``bench/bench_readers.py``), which
holds the chosen sheet's cells in compact native memory while Python values are made
one row at a time.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import itertools
import operator
import os
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from .detect import (
    SAMPLE_SIZE,
    EncodingChoice,
    classify,
    decode_sample,
    delimiter_name,
    detect_delimiter,
    detect_encoding,
    parse_sep_line,
    validate_encoding,
)
from .problems import FileProblem, column_label, column_letter
from .writers import REPORT_HEADERS, unneutralise
from .xlsx_bounds import bounded_cells, check_workbook

__all__ = ["FIELD_SIZE_LIMIT", "SourceInfo", "iter_row_blocks", "iter_rows", "preview", "sniff"]

#: Longest single CSV value accepted, in characters (Excel's own cell limit is 32 767;
#: CRM exports of notes can be longer). A longer "value" is nearly always a quote that
#: was opened and never closed, and is reported as such.
FIELD_SIZE_LIMIT = 16 * 1024 * 1024
#: Data rows ``sniff`` checks (ragged rows, empty trailing columns) before returning.
CHECK_ROWS = 1000

Format = Literal["csv", "xlsx"]


@dataclass
class SourceInfo:
    """What :func:`sniff` found out about a file; pass it to :func:`iter_rows`.

    ``encoding``/``delimiter``/``quotechar``/``has_bom`` are for CSV (``None``/``False``
    for XLSX); ``sheet``/``sheets`` for XLSX (``sheets`` lists the visible worksheets).
    ``header_row`` is the spreadsheet row of the header (1 unless blank rows precede
    it); ``first_column`` the 1-based spreadsheet column of the first header cell (1 = A;
    larger for a table that starts further right on its sheet); ``sep_line`` is True when
    the CSV starts with an Excel ``sep=`` line (which is not a row).
    """

    path: Path
    format: Format
    encoding: str | None
    delimiter: str | None
    quotechar: str | None
    sheet: str | None
    sheets: list[str]
    headers: list[str]
    has_bom: bool
    header_row: int = 1
    first_column: int = 1
    sep_line: bool = False


# ---------------------------------------------------------------------------- public


def sniff(
    path: str | os.PathLike[str],
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
) -> SourceInfo:
    """Inspect ``path`` and return how to read it; raise :class:`FileProblem` if it cannot
    be used. ``encoding``/``delimiter`` (CSV) and ``sheet`` (XLSX) override detection.

    The header and the first :data:`CHECK_ROWS` data rows are checked here (with the
    same rules as :func:`iter_rows`), so most problems surface before a run starts."""
    p = Path(path)
    head = _read_head(p)
    kind = classify(p, head[:4096])
    if kind == "xlsx":
        return _sniff_xlsx(p, sheet)
    return _sniff_csv(p, head, encoding, delimiter)


def _check_first_rows(
    info: SourceInfo,
    header: tuple[int, list[str]],
    sample: list[tuple[int, list[str]]],
    rest: Iterator[tuple[int, list[str]]],
) -> None:
    """Run the row checks of :func:`iter_rows` over the first rows already read."""
    records = itertools.chain([header], sample, rest)
    for _ in itertools.islice(_data_rows(info, records), CHECK_ROWS):
        pass


def iter_rows(info: SourceInfo) -> Iterator[tuple[int, list[str]]]:
    """Stream ``(spreadsheet row number, values)`` for every non-blank data row.

    ``values`` has exactly ``len(info.headers)`` strings. Raises :class:`FileProblem`
    for malformed rows (extra values, unclosed quotes), if the file vanished or changed,
    and at the end if the file had no data rows at all."""
    if info.format == "xlsx":
        return _data_rows(info, _xlsx_records(info))
    return _rows_of(_csv_blocks(info, 512))


def _csv_blocks(
    info: SourceInfo, size: int
) -> Generator[tuple[Sequence[int], list[list[str]]], None, None]:
    """:func:`_csv_row_blocks`; for a report or failures file this app wrote (its
    ``recotap_`` columns), with the neutralising apostrophes removed (writers.neutralise)."""
    if not REPORT_HEADERS.issubset(info.headers):
        return _csv_row_blocks(info, size)
    return _unneutralised(_csv_row_blocks(info, size))


def _unneutralised(
    blocks: Generator[tuple[Sequence[int], list[list[str]]], None, None],
) -> Generator[tuple[Sequence[int], list[list[str]]], None, None]:
    with contextlib.closing(blocks):
        for numbers, values in blocks:
            yield numbers, [[unneutralise(v) for v in row] for row in values]


def _rows_of(
    blocks: Generator[tuple[Sequence[int], list[list[str]]], None, None],
) -> Iterator[tuple[int, list[str]]]:
    """The rows of :func:`_csv_row_blocks` one by one (closing it when closed)."""
    with contextlib.closing(blocks):
        for numbers, values in blocks:
            yield from zip(numbers, values, strict=True)


def iter_row_blocks(
    info: SourceInfo, size: int = 512
) -> Iterator[tuple[Sequence[int], list[list[str]]]]:
    """:func:`iter_rows` in blocks: ``(row numbers, values)`` of up to ``size`` data
    rows read together, for callers that work a block at a time (the same rows, the
    same values and the same problems, in the same order)."""
    if info.format == "xlsx":
        rows = _data_rows(info, _xlsx_records(info))
        while True:
            block: list[tuple[int, list[str]]] = []
            problem: FileProblem | None = None
            try:
                block.extend(itertools.islice(rows, size))  # keeps the rows before a problem
            except FileProblem as exc:
                problem = exc
            if block:
                numbers, values = zip(*block, strict=True)
                yield numbers, list(values)
            if problem is not None:
                raise problem
            if not block:
                return
    yield from _csv_blocks(info, size)


def preview(info: SourceInfo, n: int = 20) -> list[list[str]]:
    """The values of the first ``n`` data rows (fewer if the file is shorter)."""
    return [values for _, values in itertools.islice(iter_rows(info), n)]


# ------------------------------------------------------------------------ shared core


def _read_head(path: Path) -> bytes:
    name = path.name
    if not path.exists():
        raise FileProblem(
            f"{name} does not exist (looked for {path}). It may have been moved, renamed "
            "or deleted; choose the file again.",
            path=path,
        )
    if path.is_dir():
        raise FileProblem(
            f"{name} is a folder, not a file. Choose a CSV or Excel file inside it.",
            path=path,
        )
    try:
        with path.open("rb") as fh:
            head = fh.read(SAMPLE_SIZE)
    except PermissionError as exc:
        raise FileProblem(
            f"{name} cannot be read: permission denied. Check that your account may open "
            "it, or that another program (Excel) is not locking it, then try again.",
            path=path,
        ) from exc
    except OSError as exc:
        raise FileProblem(
            f"{name} cannot be read ({exc.strerror or exc}). Check that the file is "
            "accessible (network drive connected, not locked by another program).",
            path=path,
        ) from exc
    if not head:
        raise FileProblem(
            f"{name} is empty (0 bytes). Export the data again from your CRM, or choose "
            "another file.",
            path=path,
        )
    return head


def _is_blank(values: Sequence[str]) -> bool:
    return not any(v.strip() for v in values)


def _clean_header(raw: list[str]) -> list[str]:
    headers = [h.strip() for h in raw]
    if headers:
        headers[0] = headers[0].lstrip("\ufeff").strip()
    return headers


def _resolve_headers(
    path: Path,
    header_row: int,
    raw: list[str],
    sample: list[tuple[int, list[str]]],
    first_column: int,
) -> list[str]:
    """Validate the header cells; drop trailing unnamed columns that are empty in
    ``sample``. Raises for blank and duplicate header cells."""
    name = path.name
    headers = _clean_header(raw)
    width = len(headers)
    while width and not headers[width - 1]:
        col = width - 1
        used = next((row for row, vals in sample if col < len(vals) and vals[col].strip()), None)
        if used is not None:
            raise FileProblem(
                f"{name}: {column_label(first_column + col)} has no header (row "
                f"{header_row} is blank there) but has values, e.g. in row {used}. "
                "Type a name for the column in the header row, or delete the column.",
                path=path,
                row=header_row,
                column=column_letter(first_column + col),
            )
        width -= 1
    headers = headers[:width]
    blanks = [i for i, h in enumerate(headers) if not h]
    if blanks:
        where = ", ".join(column_label(first_column + i) for i in blanks)
        plural = "cells are" if len(blanks) > 1 else "cell is"
        raise FileProblem(
            f"{name}: header {plural} blank in row {header_row}: {where}. Every column "
            "needs a name: type one in the header row, or delete the column if it is "
            "not needed.",
            path=path,
            row=header_row,
            column=column_letter(first_column + blanks[0]),
        )
    seen: dict[str, list[int]] = {}
    for i, h in enumerate(headers):
        seen.setdefault(h.casefold(), []).append(i)
    dupes = [cols for cols in seen.values() if len(cols) > 1]
    if dupes:
        parts = []
        for cols in dupes:
            letters = " and ".join(
                f"{column_letter(first_column + i)} ({first_column + i + 1})" for i in cols
            )
            parts.append(f'"{headers[cols[0]]}" in columns {letters}')
        raise FileProblem(
            f"{name}: column headers must be unique, but row {header_row} repeats "
            f"{'; '.join(parts)}. Rename or delete the extra columns so that each header "
            "appears once.",
            path=path,
            row=header_row,
            column=column_letter(first_column + dupes[0][1]),
        )
    return headers


def _split_header(
    path: Path, records: Iterator[tuple[int, list[str]]], empty_message: str
) -> tuple[int, list[str]]:
    for row, values in records:
        if not _is_blank(values):
            return row, values
    raise FileProblem(empty_message, path=path)


def _data_rows(
    info: SourceInfo, records: Iterator[tuple[int, list[str]]]
) -> Iterator[tuple[int, list[str]]]:
    path = info.path
    name = path.name
    width = len(info.headers)
    header_row, raw_header = _split_header(
        path,
        records,
        f"{name} no longer has a header row; it changed since it was opened. Open it again.",
    )
    if _clean_header(raw_header)[:width] != info.headers:
        raise FileProblem(
            f"{name} changed since it was opened (its header row is different now). Open it again.",
            path=path,
        )
    count = 0
    for row, values in records:
        if len(values) == width and values[0].strip():  # the usual row: nothing to fix
            count += 1
            yield row, values
            continue
        fitted = _fit_row(info, header_row, row, values, width)
        if fitted is not None:
            count += 1
            yield row, fitted
    if count == 0:
        raise _no_data_rows(info, header_row)


def _fit_row(
    info: SourceInfo, header_row: int, row: int, values: list[str], width: int
) -> list[str] | None:
    """``values`` made exactly ``width`` long (padded, or cut when the extra cells are
    empty); ``None`` for a blank row. Raises for a value beyond the last header."""
    n = len(values)
    if n == width:
        return None if _is_blank(values) else values
    if n < width:
        return None if _is_blank(values) else values + [""] * (width - n)
    extra = next((i for i in range(width, n) if values[i].strip()), None)
    if extra is not None:
        col0 = info.first_column - 1
        raise FileProblem(
            f"{info.path.name}, row {row}: this row has {_trimmed(values)} values but the "
            f"header (row {header_row}) has {width} columns; there is an extra value in "
            f"{column_label(col0 + extra)}: {_shorten(values[extra])!r}. "
            + _ragged_hint(info),
            path=info.path,
            row=row,
            column=column_letter(col0 + extra),
        )
    values = values[:width]
    return None if _is_blank(values) else values


def source_title(path: Path, sheet: str | None) -> str:
    """``accounts.csv``, or ``Sheet 'Q3' of accounts.xlsx`` for a worksheet (a workbook's
    sheets are told apart by name)."""
    return f"Sheet {sheet!r} of {path.name}" if sheet else path.name


def _no_data_rows(info: SourceInfo, header_row: int) -> FileProblem:
    other = "choose another sheet or file" if info.sheet else "choose another file"
    return FileProblem(
        f"{source_title(info.path, info.sheet)} has a header row (row {header_row}) but no "
        f"data rows. Export the data again including the records, or {other}.",
        path=info.path,
        row=header_row,
    )


def _trimmed(values: list[str]) -> int:
    n = len(values)
    while n and not values[n - 1].strip():
        n -= 1
    return n


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _ragged_hint(info: SourceInfo) -> str:
    if info.format == "csv" and info.delimiter:
        return (
            f"Usually a value contains the delimiter ({delimiter_name(info.delimiter)}) "
            'without being quoted: put the value in double quotes ("...") or remove the '
            "extra delimiter, or add a header for the extra column."
        )
    return "Add a header for that column, or delete the stray value."


# ------------------------------------------------------------------------------- CSV


def _sniff_csv(path: Path, head: bytes, encoding: str | None, delimiter: str | None) -> SourceInfo:
    name = path.name
    whole = len(head) < SAMPLE_SIZE
    if encoding:
        choice = _user_encoding(path, head, encoding)
    else:
        choice = detect_encoding(path, head, whole)
    text = decode_sample(head, choice, whole)
    sep = parse_sep_line(text.lstrip("\ufeff"))
    if delimiter is not None:
        if len(delimiter) != 1 or delimiter in '"\r\n':
            raise FileProblem(
                f"{delimiter!r} cannot be used as the delimiter for {name}: choose one "
                "character such as a comma, semicolon, tab or pipe.",
                path=path,
            )
        chosen = delimiter
    elif sep is not None:
        chosen = sep
    else:
        body = text.lstrip("\ufeff")
        chosen = detect_delimiter(body, whole)
    info = SourceInfo(
        path=path,
        format="csv",
        encoding=choice.name,
        delimiter=chosen,
        quotechar='"',
        sheet=None,
        sheets=[],
        headers=[],
        has_bom=choice.bom_len > 0,
        sep_line=sep is not None,
    )
    records = _csv_records(info)
    header_row, raw = _split_header(
        path,
        records,
        f"{name} contains only blank lines or spaces, no data. Export the data again "
        "from your CRM, or choose another file.",
    )
    try:
        sample = list(itertools.islice(records, CHECK_ROWS))
        info.header_row = header_row
        info.headers = _resolve_headers(path, header_row, raw, sample, 0)
        _check_first_rows(info, (header_row, raw), sample, records)
    finally:
        records.close()
    return info


def _user_encoding(path: Path, head: bytes, encoding: str) -> EncodingChoice:
    import codecs

    try:
        name = codecs.lookup(encoding).name
    except LookupError as exc:
        raise FileProblem(
            f"{encoding!r} is not a known text encoding, so {path.name} cannot be read "
            "with it. Choose another encoding (for example UTF-8 or Windows-1252), or let "
            "the app detect it.",
            path=path,
        ) from exc
    boms = {
        "utf-8": codecs.BOM_UTF8,
        "utf-8-sig": codecs.BOM_UTF8,
        "utf-16-le": codecs.BOM_UTF16_LE,
        "utf-16-be": codecs.BOM_UTF16_BE,
    }
    if name == "utf-16":
        if head.startswith(codecs.BOM_UTF16_BE):
            choice = EncodingChoice("utf-16-be", "utf-16-be", 2)
        else:
            le_bom = 2 if head.startswith(codecs.BOM_UTF16_LE) else 0
            choice = EncodingChoice("utf-16-le", "utf-16-le", le_bom)
    else:
        bom = boms.get(name)
        bom_len = len(bom) if bom and head.startswith(bom) else 0
        codec = "utf-8" if name == "utf-8-sig" else name
        shown = "utf-8-sig" if codec == "utf-8" and bom_len else name
        choice = EncodingChoice(shown, codec, bom_len)
    validate_encoding(path, choice)
    return choice


#: Characters (roughly) read per block when feeding ``csv.reader``.
_BLOCK_HINT = 1 << 16


class _BlockFeeder:
    """Feeds text lines to ``csv.reader`` a block at a time and keeps the last two
    blocks, so that a record ended by the end of the file (not by a line break) can be
    checked for a quote that was opened and never closed.

    The lines reach the reader through ``itertools.chain`` (C code); Python code runs
    once per block of lines, not once per line.
    """

    def __init__(self, stream: io.TextIOBase, skip_first: bool) -> None:
        self._stream = stream
        self._skip_first = skip_first
        #: True once the reader asked for a line after the end of the file.
        self.exhausted = False
        self._previous: list[str] = []
        self._last: list[str] = []
        #: lines delivered before ``_previous`` (``csv.reader.line_num`` counts alike)
        self._base = 0

    def lines(self) -> Iterator[str]:
        """The iterator to give ``csv.reader``."""
        return itertools.chain.from_iterable(self._blocks())

    def _blocks(self) -> Iterator[list[str]]:
        readlines = self._stream.readlines
        if self._skip_first:
            self._stream.readline()
        while True:
            block = readlines(_BLOCK_HINT)
            if not block:
                self.exhausted = True
                return
            self._base += len(self._previous)
            self._previous, self._last = self._last, block
            yield block

    def text_since(self, line: int) -> str | None:
        """Text of the lines delivered from 0-based line ``line`` on; ``None`` when
        they are no longer kept."""
        if line < self._base:
            return None
        return "".join((self._previous + self._last)[line - self._base :])


def _open_quote_column(text: str, delimiter: str, quote: str) -> int | None:
    """0-based field index where an unclosed quote starts in ``text`` (a record
    ended by the end of the file), following the reader's lenient rules; else None."""
    field_index = 0
    state = 0  # 0 start of field, 1 unquoted, 2 in quotes, 3 quote seen inside quotes
    opened = 0
    for ch in text:
        if state == 0:
            if ch == quote:
                state, opened = 2, field_index
            elif ch == delimiter:
                field_index += 1
            elif ch in "\r\n":
                pass
            else:
                state = 1
        elif state == 1:
            if ch == delimiter:
                field_index += 1
                state = 0
        elif state == 2:
            if ch == quote:
                state = 3
        else:  # state 3
            if ch == quote:
                state = 2
            elif ch == delimiter:
                field_index += 1
                state = 0
            else:
                state = 1
    return opened if state == 2 else None


class _CsvSource:
    """An open CSV file: ``reader`` (a ``csv.reader``) and the checks around it."""

    def __init__(self, info: SourceInfo) -> None:
        path = info.path
        name = path.name
        csv.field_size_limit(FIELD_SIZE_LIMIT)  # process-wide; the default (128 KiB) is too small
        codec = info.encoding or "utf-8"
        bom_len = 0
        if info.has_bom:
            bom_len = {"utf-8-sig": 3, "utf-16-le": 2, "utf-16-be": 2}.get(codec, 4)
        if codec == "utf-8-sig":
            codec = "utf-8"
        self.info = info
        self.delimiter = info.delimiter or ","
        self.quote = info.quotechar or '"'
        self._codec = codec
        self._bom_len = bom_len
        try:
            self._raw = path.open("rb")
        except FileNotFoundError as exc:
            raise FileProblem(
                f"{name} no longer exists (it was moved or deleted after it was opened). "
                "Choose the file again.",
                path=path,
            ) from exc
        except OSError as exc:
            raise FileProblem(
                f"{name} cannot be read any more ({exc.strerror or exc}). Check the file and "
                "try again.",
                path=path,
            ) from exc
        self._raw.seek(bom_len)
        stream = io.TextIOWrapper(self._raw, encoding=codec, errors="strict", newline="")
        self.feeder = _BlockFeeder(stream, skip_first=info.sep_line)
        self.reader = csv.reader(
            self.feeder.lines(), delimiter=self.delimiter, quotechar=self.quote,
            doublequote=True,
        )

    def close(self) -> None:
        self._raw.close()

    def read_error(self, exc: Exception, row: int) -> FileProblem:
        """The FileProblem for an error raised while reading record ``row``."""
        info = self.info
        name = info.path.name
        if isinstance(exc, csv.Error):
            return FileProblem(
                f"{name}, row {row}: a value here is longer than "
                f"{FIELD_SIZE_LIMIT:,} characters. This usually means a double quote "
                '(") opened in this row is never closed. Close the quote, or double it '
                '("") if it is part of the text.',
                path=info.path,
                row=row,
            )
        return FileProblem(
            f"{name}, row {row}: the text cannot be read as {info.encoding}. "
            "The file may have changed since it was opened; open it again or "
            "choose the encoding by hand.",
            path=info.path,
            row=row,
        )

    def read_header(self) -> int:
        """Read up to the header row, check it is the one :func:`sniff` found and return
        its spreadsheet row. Raises :class:`FileProblem` when the file changed since."""
        info = self.info
        name = info.path.name
        width = len(info.headers)
        reader = self.reader
        row = 0
        line = 0
        try:
            for record in reader:
                row += 1
                if self.feeder.exhausted:
                    self.check_last(row, line)
                line = reader.line_num
                if not _is_blank(record):
                    if _clean_header(record)[:width] != info.headers:
                        raise FileProblem(
                            f"{name} changed since it was opened (its header row is different "
                            "now). Open it again.",
                            path=info.path,
                        )
                    return row
        except (csv.Error, UnicodeDecodeError) as exc:
            raise self.read_error(exc, row + 1) from exc
        raise FileProblem(
            f"{name} no longer has a header row; it changed since it was opened. "
            "Open it again.",
            path=info.path,
        )

    def check_last(self, row: int, first_line: int) -> None:
        """Record ``row`` (starting at 0-based line ``first_line``) ended with the
        file: raise if a quote opened in it is never closed."""
        text = self.feeder.text_since(first_line)
        if text is None:  # a very long last record: read its lines again
            text = self._lines_from(first_line)
        if self.quote not in text:
            return
        col = _open_quote_column(text, self.delimiter, self.quote)
        if col is not None:
            raise FileProblem(
                f'{self.info.path.name}, row {row}, {column_label(col)}: a double quote (") '
                "opens a value here and is never closed, so everything after it would be "
                "read as one value. Add the closing quote, or double the quote "
                '("") if it is part of the text.',
                path=self.info.path,
                row=row,
                column=column_letter(col),
            )

    def _lines_from(self, start: int) -> str:
        with self.info.path.open("rb") as raw:
            raw.seek(self._bom_len)
            lines = iter(io.TextIOWrapper(raw, encoding=self._codec, newline=""))
            if self.info.sep_line:
                next(lines, None)
            return "".join(itertools.islice(lines, start, None))


def _csv_records(info: SourceInfo) -> Generator[tuple[int, list[str]], None, None]:
    """Every record of the CSV (blank ones included) with its spreadsheet row."""
    source = _CsvSource(info)
    reader = source.reader
    feeder = source.feeder
    row = 0
    line = 0
    try:
        try:
            for record in reader:
                row += 1
                if feeder.exhausted:
                    source.check_last(row, line)
                line = reader.line_num
                yield row, record
        except (csv.Error, UnicodeDecodeError) as exc:
            raise source.read_error(exc, row + 1) from exc
    finally:
        source.close()


def _csv_row_blocks(
    info: SourceInfo, size: int
) -> Generator[tuple[Sequence[int], list[list[str]]], None, None]:
    """:func:`iter_row_blocks` for CSV (and, one row at a time, :func:`iter_rows`). A
    block of well-formed records costs a few C loops; any other block is fitted record
    by record. Problems come in file order: the rows before a malformed record, a read
    error or an unclosed quote at the end are yielded first."""
    width = len(info.headers)
    source = _CsvSource(info)
    reader = source.reader
    feeder = source.feeder
    first_cell = operator.itemgetter(0)
    strip = str.strip
    count = 0

    def fit(
        first: int, records: list[list[str]]
    ) -> tuple[Sequence[int], list[list[str]], FileProblem | None]:
        """The data rows of ``records`` (blank ones dropped, short ones padded), and the
        problem of the first malformed record: the rows before it are still returned."""
        if (
            min(map(len, records)) == width == max(map(len, records))
            and all(map(strip, map(first_cell, records)))
        ):
            return range(first, first + len(records)), records, None
        numbers: list[int] = []
        kept: list[list[str]] = []
        for number, record in enumerate(records, first):
            try:
                values = _fit_row(info, header_row, number, record, width)
            except FileProblem as problem:
                return numbers, kept, problem
            if values is not None:
                numbers.append(number)
                kept.append(values)
        return numbers, kept, None

    def fitted(
        first: int, records: list[list[str]]
    ) -> Iterator[tuple[Sequence[int], list[list[str]]]]:
        nonlocal count
        numbers, values, problem = fit(first, records)
        if numbers:
            count += len(numbers)
            yield numbers, values
        if problem is not None:
            raise problem

    try:
        header_row = row = source.read_header()
        while True:
            line = reader.line_num
            records: list[list[str]] = []
            error: Exception | None = None
            try:
                records.extend(itertools.islice(reader, size))  # keeps what it read
            except (csv.Error, UnicodeDecodeError) as exc:
                error = exc
            first = row + 1
            row += len(records)
            last: list[str] | None = None
            if feeder.exhausted and records and error is None:
                # the last record may have been ended by the end of the file
                last = records.pop()
            if records:
                yield from fitted(first, records)
            if error is not None:
                raise source.read_error(error, row + 1) from error
            if last is not None:
                source.check_last(row, line + _last_record_line(source, line))
                yield from fitted(row, [last])
            if last is not None or not records:
                break
    finally:
        source.close()
    if count == 0:
        raise _no_data_rows(info, header_row)


def _last_record_line(source: _CsvSource, line: int) -> int:
    """Lines from 0-based line ``line`` (a record boundary) to the first line of the
    last record of the file, found by reading that text again with the same reader."""
    text = source.feeder.text_since(line)
    if text is None:
        text = source._lines_from(line)
    again = csv.reader(
        io.StringIO(text, newline=""), delimiter=source.delimiter, quotechar=source.quote,
        doublequote=True,
    )
    start = previous = 0
    for _record in again:
        start, previous = previous, again.line_num
    return start


# ------------------------------------------------------------------------------ XLSX


def _open_workbook(path: Path) -> Any:
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        return CalamineWorkbook.from_path(str(path))
    except FileNotFoundError as exc:
        raise FileProblem(
            f"{path.name} no longer exists (it was moved or deleted). Choose the file again.",
            path=path,
        ) from exc
    except PermissionError as exc:
        raise FileProblem(
            f"{path.name} cannot be read: permission denied. Close it in Excel if it is "
            "open there, check your access rights, and try again.",
            path=path,
        ) from exc
    except (CalamineError, ValueError, OSError) as exc:
        raise FileProblem(
            f"{path.name} is a damaged Excel workbook and cannot be read ({exc}). Open it "
            "in Excel, let Excel repair it if it offers to, and save a new copy; or fetch "
            "the file again.",
            path=path,
        ) from exc


def _worksheets(wb: Any) -> tuple[list[str], list[str]]:
    """(visible worksheet names, all worksheet names) in workbook order."""
    from python_calamine import SheetTypeEnum, SheetVisibleEnum

    visible: list[str] = []
    every: list[str] = []
    for meta in wb.sheets_metadata:
        if meta.typ != SheetTypeEnum.WorkSheet:
            continue
        every.append(meta.name)
        if meta.visible == SheetVisibleEnum.Visible:
            visible.append(meta.name)
    return visible, every


def _load_sheet(path: Path, wb: Any, sheet: str) -> Any:
    from python_calamine import CalamineError

    try:
        return wb.get_sheet_by_name(sheet)
    except (CalamineError, ValueError) as exc:
        raise FileProblem(
            f"{path.name}: sheet {sheet!r} is damaged and cannot be read ({exc}). Open the "
            "workbook in Excel and save a new copy.",
            path=path,
        ) from exc


def _sniff_xlsx(path: Path, sheet: str | None) -> SourceInfo:
    name = path.name
    bounds = check_workbook(path)  # before calamine loads anything (xlsx_bounds.py)
    wb = _open_workbook(path)
    try:
        visible, every = _worksheets(wb)
        listed = visible or every
        if not every:
            raise FileProblem(
                f"{name} has no worksheets (only charts or macros). Choose a workbook with "
                "the data on a worksheet.",
                path=path,
            )
        if sheet is None:
            chosen = listed[0]
        elif sheet in every:
            chosen = sheet
        else:
            folded = {s.casefold(): s for s in every}
            if sheet.casefold() not in folded:
                names = ", ".join(repr(s) for s in listed)
                raise FileProblem(
                    f"{name} has no sheet named {sheet!r}. Its sheets are: {names}. "
                    "Choose one of them.",
                    path=path,
                )
            chosen = folded[sheet.casefold()]
        info = SourceInfo(
            path=path,
            format="xlsx",
            encoding=None,
            delimiter=None,
            quotechar=None,
            sheet=chosen,
            sheets=list(listed),
            headers=[],
            has_bom=False,
        )
        ws = _load_sheet(path, wb, chosen)
        empty = f"{name}: sheet {chosen!r} is empty. Choose the sheet that holds the data" + (
            f" (sheets: {', '.join(repr(s) for s in listed)})." if len(listed) > 1 else "."
        )
        if ws.start is None:
            raise FileProblem(empty, path=path)
        info.first_column = ws.start[1] + 1
        setattr(info, _BOUNDS, bounds)
        records = _bounded_records(info, ws)
        header_row, raw = _split_header(path, records, empty)
        sample = list(itertools.islice(records, CHECK_ROWS))
        info.header_row = header_row
        info.headers = _resolve_headers(path, header_row, raw, sample, info.first_column - 1)
        _check_first_rows(info, (header_row, raw), sample, records)
        _keep_sheet(info, ws)
        return info
    finally:
        wb.close()


#: Attribute of a SourceInfo that holds the sheet sniff loaded, for the next iter_rows.
_KEPT_SHEET = "_kept_sheet"


def _keep_sheet(info: SourceInfo, ws: Any) -> None:
    """Leave the sheet :func:`sniff` loaded on ``info`` for one :func:`iter_rows`, so a
    workbook is parsed once, not twice, when a file is sniffed and then read (loading
    is most of the cost of reading a workbook). It is used only if the file's size
    and modification time are still the same, and dropped once used."""
    st = info.path.stat()
    setattr(info, _KEPT_SHEET, (st.st_size, st.st_mtime_ns, ws))


def _take_sheet(info: SourceInfo) -> Any | None:
    kept = getattr(info, _KEPT_SHEET, None)
    if kept is None:
        return None
    delattr(info, _KEPT_SHEET)
    size, mtime_ns, ws = kept
    try:
        st = info.path.stat()
    except OSError:
        return None
    return ws if (st.st_size, st.st_mtime_ns) == (size, mtime_ns) else None


def _xlsx_records(info: SourceInfo) -> Iterator[tuple[int, list[str]]]:
    path = info.path
    kept = _take_sheet(info)
    if kept is not None:
        yield from _bounded_records(info, kept)
        return
    setattr(info, _BOUNDS, check_workbook(path))
    wb = _open_workbook(path)
    try:
        _visible, every = _worksheets(wb)
        if info.sheet not in every:
            raise FileProblem(
                f"{path.name} no longer has a sheet named {info.sheet!r} (it changed since "
                "it was opened). Open it again.",
                path=path,
            )
        ws = _load_sheet(path, wb, info.sheet or "")
        yield from _bounded_records(info, ws)
    finally:
        wb.close()


#: Attribute of a SourceInfo that holds its workbook's :class:`WorkbookBounds`.
_BOUNDS = "_xlsx_bounds"


def _bounded_records(info: SourceInfo, ws: Any) -> Iterator[tuple[int, list[str]]]:
    """The sheet's records, each cell within the CSV field limit (see xlsx_bounds.py)."""
    bounds = getattr(info, _BOUNDS, None) or check_workbook(info.path)
    return bounded_cells(_sheet_records(ws), info.path, bounds,
                         first_column=info.first_column or 1)


def _sheet_records(ws: Any) -> Iterator[tuple[int, list[str]]]:
    # python-calamine's iter_rows() yields rows from the sheet's first row (row 1),
    # padding rows above the data with empty rows, and columns from the first used
    # column (ws.start[1]); so the spreadsheet row is the 1-based position.
    text = _cell_text
    for index, cells in enumerate(ws.iter_rows(), start=1):
        yield index, [c if type(c) is str else text(c) for c in cells]


def _cell_text(value: object) -> str:
    """Text of a calamine cell value, as documented in the module docstring."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        if value != value or value in (float("inf"), float("-inf")):
            return ""
        return format(Decimal(repr(value)), "f")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        rounded = (value + dt.timedelta(microseconds=500_000)).replace(microsecond=0)
        return rounded.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, dt.timedelta):
        seconds = round(value.total_seconds())
        sign = "-" if seconds < 0 else ""
        hours, rest = divmod(abs(seconds), 3600)
        minutes, secs = divmod(rest, 60)
        return f"{sign}{hours}:{minutes:02d}:{secs:02d}"
    if value is None:
        return ""
    return str(value)
