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

import csv
import datetime as dt
import io
import itertools
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

__all__ = ["FIELD_SIZE_LIMIT", "SourceInfo", "iter_rows", "preview", "sniff"]

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
    records = _xlsx_records(info) if info.format == "xlsx" else _csv_records(info)
    return _data_rows(info, records)


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
    col0 = info.first_column - 1
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
        n = len(values)
        if n == width:
            if _is_blank(values):
                continue
        elif n < width:
            if _is_blank(values):
                continue
            values = values + [""] * (width - n)
        else:
            extra = next((i for i in range(width, n) if values[i].strip()), None)
            if extra is not None:
                raise FileProblem(
                    f"{name}, row {row}: this row has {_trimmed(values)} values but the header "
                    f"(row {header_row}) has {width} columns; there is an extra value in "
                    f"{column_label(col0 + extra)}: {_shorten(values[extra])!r}. "
                    + _ragged_hint(info),
                    path=path,
                    row=row,
                    column=column_letter(col0 + extra),
                )
            values = values[:width]
            if _is_blank(values):
                continue
        count += 1
        yield row, values
    if count == 0:
        raise FileProblem(
            f"{name} has a header row (row {header_row}) but no data rows. Export the data "
            "again including the records, or choose another file.",
            path=path,
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


class _LineFeeder:
    """Feeds text lines to ``csv.reader`` and remembers the current record's lines, so
    that a record ended by the end of the file (not by a line break) can be checked
    for a quote that was opened and never closed."""

    def __init__(self, stream: io.TextIOBase, skip_first: bool) -> None:
        self._it = iter(stream)
        self.lines: list[str] = []
        self.exhausted = False
        if skip_first:
            next(self._it, None)

    def __iter__(self) -> _LineFeeder:
        return self

    def __next__(self) -> str:
        try:
            line = next(self._it)
        except StopIteration:
            self.exhausted = True
            raise
        self.lines.append(line)
        return line


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


def _csv_records(info: SourceInfo) -> Generator[tuple[int, list[str]], None, None]:
    """Every record of the CSV (blank ones included) with its spreadsheet row."""
    path = info.path
    name = path.name
    csv.field_size_limit(FIELD_SIZE_LIMIT)  # process-wide; the default (128 KiB) is too small
    codec = info.encoding or "utf-8"
    bom_len = 0
    if info.has_bom:
        bom_len = {"utf-8-sig": 3, "utf-16-le": 2, "utf-16-be": 2}.get(codec, 4)
    if codec == "utf-8-sig":
        codec = "utf-8"
    delimiter = info.delimiter or ","
    quote = info.quotechar or '"'
    try:
        raw = path.open("rb")
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
    with raw:
        raw.seek(bom_len)
        stream = io.TextIOWrapper(raw, encoding=codec, errors="strict", newline="")
        feeder = _LineFeeder(stream, skip_first=info.sep_line)
        reader = csv.reader(feeder, delimiter=delimiter, quotechar=quote, doublequote=True)
        row = 0
        while True:
            feeder.lines.clear()
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise FileProblem(
                    f"{name}, row {row + 1}: a value here is longer than "
                    f"{FIELD_SIZE_LIMIT:,} characters. This usually means a double quote "
                    '(") opened in this row is never closed. Close the quote, or double it '
                    '("") if it is part of the text.',
                    path=path,
                    row=row + 1,
                ) from exc
            except UnicodeDecodeError as exc:
                raise FileProblem(
                    f"{name}, row {row + 1}: the text cannot be read as {info.encoding}. "
                    "The file may have changed since it was opened; open it again or "
                    "choose the encoding by hand.",
                    path=path,
                    row=row + 1,
                ) from exc
            row += 1
            if feeder.exhausted and quote in "".join(feeder.lines):
                col = _open_quote_column("".join(feeder.lines), delimiter, quote)
                if col is not None:
                    raise FileProblem(
                        f'{name}, row {row}, {column_label(col)}: a double quote (") opens '
                        "a value here and is never closed, so everything after it would be "
                        "read as one value. Add the closing quote, or double the quote "
                        '("") if it is part of the text.',
                        path=path,
                        row=row,
                        column=column_letter(col),
                    )
            yield row, record


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
        records = _sheet_records(ws)
        header_row, raw = _split_header(path, records, empty)
        sample = list(itertools.islice(records, CHECK_ROWS))
        info.header_row = header_row
        info.headers = _resolve_headers(path, header_row, raw, sample, info.first_column - 1)
        _check_first_rows(info, (header_row, raw), sample, records)
        return info
    finally:
        wb.close()


def _xlsx_records(info: SourceInfo) -> Iterator[tuple[int, list[str]]]:
    path = info.path
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
        yield from _sheet_records(ws)
    finally:
        wb.close()


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
