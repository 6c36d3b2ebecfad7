r"""Write reports and exports as CSV or XLSX: formula-safe, streaming and atomic.

* :func:`neutralise` guards against formula injection (CSV/spreadsheet injection,
  OWASP): a text that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
  return gets a leading apostrophe so that Excel/LibreOffice show it as text instead of
  running it. Decision: plain numbers (``-12.5``, ``+3``, ``-1e5``) are left intact;
  a spreadsheet treats them as numbers, not formulas, and prefixing them would turn
  every negative amount in a report into text. Everything else with a leading sign is
  prefixed, including phone numbers such as ``+44 20 7946 0958``.
* :class:`TableWriter` picks the format by suffix: ``.csv`` (comma), ``.tsv`` and
  ``.txt`` (tab; Excel's "Text (Tab delimited)" uses ``.txt``) are written as UTF-8
  with a BOM (so Excel detects UTF-8), minimal quoting and CRLF line ends (RFC 4180,
  what Excel writes); ``.xlsx`` is written with openpyxl's write-only mode. Strings
  are neutralised in text files (XLSX cells are typed as text: no formula, no
  apostrophe); ints/floats go into XLSX as numbers and into text files as their plain
  text, never prefixed; ``None`` is an empty cell; ``bool`` is ``TRUE``/``FALSE``;
  dates are ISO text.
* Writing is atomic: rows go to a temporary file beside the target, which replaces
  the target (``os.replace``) only on a successful :meth:`TableWriter.close`; on an
  exception inside ``with`` (or :meth:`TableWriter.abort`) the temporary file is
  deleted and the target is untouched. Rows are streamed (constant memory).
* A target that cannot be replaced at the end (``PermissionError``: on Windows, the file
  is open in Excel) is not lost work: the file goes to the first free sibling name
  (``report (2).csv``; :func:`~recotap_desktop.files.targets.sibling_name`), and
  :attr:`TableWriter.path` / :attr:`TableWriter.diverted_from` say where it went.
  Windows paths of 260 characters or more are written through their ``\\?\`` form.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import stat
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from .targets import native_path, sibling_name

__all__ = ["REPORT_HEADERS", "TableWriter", "neutralise", "unneutralise"]

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")
# openpyxl refuses control characters that XML 1.0 cannot carry.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def neutralise(value: str) -> str:
    """Make ``value`` safe to open in a spreadsheet: prefix ``'`` to a text starting
    with ``=``, ``+``, ``-``, ``@``, tab or CR, unless it is a plain number. A text that
    already starts with ``'`` gets one more, so :func:`unneutralise` gives back exactly
    the value written (``'x`` → ``''x`` → ``'x``)."""
    if value.startswith(_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    if value.startswith("'"):
        return "'" + value
    return value


def unneutralise(value: str) -> str:
    """Undo :func:`neutralise` for a cell of a file this app wrote (a report or a
    failures file read back): one leading ``'`` is removed."""
    return value[1:] if value.startswith("'") else value


#: Headers that mark a file as a report or failures file written by this app
#: (engine.report): its CSV cells were neutralised and are read back unneutralised.
REPORT_HEADERS = frozenset({"recotap_row", "recotap_state"})


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _umask() -> int:
    """The process's umask, read without changing it where the OS can say (Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere: read by setting it back at once
    os.umask(mask)
    return mask


def user_file_mode(path: Path) -> int:
    """The permissions a file the user asked for gets: those of the file it replaces, else
    what the umask gives a new file (``mkstemp``'s 0600 is for the app's private files only;
    a report in a shared folder must stay readable by whoever can read the folder)."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o666 & ~_umask()


class TableWriter:
    """Streaming, atomic, formula-safe table writer; use :meth:`open`.

    >>> with TableWriter.open(path, ["Row", "Status"]) as w:   # doctest: +SKIP
    ...     w.write_row([2, "created"])
    """

    def __init__(
        self,
        path: Path,
        headers: Sequence[str],
        *,
        kind: str,
        delimiter: str = ",",
        sheet_title: str = "Sheet1",
        replace: Any = None,
    ) -> None:
        self.path = path
        #: The target asked for, when the file had to go to a sibling name (see the module).
        self.diverted_from: Path | None = None
        self._replace = replace or os.replace
        self.headers = list(headers)
        self.kind = kind
        self.rows_written = 0
        self._closed = False
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                                   dir=native_path(path.parent.absolute()))
        self._tmp = Path(tmp)
        if os.name == "posix":
            try:
                os.chmod(fd, user_file_mode(path))
            except OSError:
                pass  # the file stays private: never a reason to fail the report
        self._fh: IO[str] | None = None
        self._csv: Any = None
        self._wb: Any = None
        self._ws: Any = None
        try:
            if kind == "xlsx":
                os.close(fd)
                from openpyxl import Workbook

                self._wb = Workbook(write_only=True)
                self._ws = self._wb.create_sheet(title=sheet_title[:31] or "Sheet1")
            else:
                self._fh = os.fdopen(fd, "w", encoding="utf-8-sig", newline="")
                self._csv = csv.writer(
                    self._fh,
                    delimiter=delimiter,
                    quotechar='"',
                    doublequote=True,
                    quoting=csv.QUOTE_MINIMAL,
                    lineterminator="\r\n",
                )
            self._write(self.headers)
        except BaseException:
            self.abort()
            raise

    @classmethod
    def open(
        cls, path: str | os.PathLike[str], headers: Sequence[str], *, sheet_title: str = "Sheet1",
        replace: Any = None,
    ) -> TableWriter:
        """Start writing ``path`` with a header row; the format follows the suffix
        (``.csv``, ``.tsv``, ``.txt``, ``.xlsx``). Raises ``ValueError`` for another suffix
        and ``OSError`` if the folder cannot be written. ``replace`` moves the finished
        file into place (``os.replace``; a seam for tests of a locked target)."""
        p = Path(path)
        suffix = p.suffix.lower()
        if suffix == ".xlsx":
            return cls(p, headers, kind="xlsx", sheet_title=sheet_title, replace=replace)
        if suffix == ".csv":
            return cls(p, headers, kind="csv", delimiter=",", replace=replace)
        if suffix in (".tsv", ".txt"):
            return cls(p, headers, kind="csv", delimiter="\t", replace=replace)
        raise ValueError(f"cannot write {p.name}: use a .csv, .tsv, .txt or .xlsx name")

    def write_row(self, values: Sequence[object]) -> None:
        """Append one row; it must have one value per header."""
        if self._closed:
            raise ValueError("write_row() on a closed TableWriter")
        if len(values) != len(self.headers):
            raise ValueError(f"row has {len(values)} values, expected {len(self.headers)}")
        self._write(values)
        self.rows_written += 1

    def _write(self, values: Sequence[object]) -> None:
        if self._ws is not None:
            self._ws.append([self._xlsx_cell(v) for v in values])
        else:
            self._csv.writerow(
                [_text(v) if type(v) in (int, float) else neutralise(_text(v)) for v in values]
            )

    def _xlsx_cell(self, value: object) -> object:
        from openpyxl.cell import WriteOnlyCell

        if value is None:
            return None
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            return value
        # A text cell, typed as text: never a formula, and no apostrophe needed (it would
        # be part of the value read back).
        cell = WriteOnlyCell(self._ws, value=_ILLEGAL_XML.sub("", _text(value)))
        cell.data_type = "s"
        return cell

    def close(self) -> None:
        """Finish the file and move it into place (atomic replace)."""
        if self._closed:
            return
        try:
            if self._wb is not None:
                self._wb.save(self._tmp)
            elif self._fh is not None:
                self._fh.flush()
                os.fsync(self._fh.fileno())
                self._fh.close()
            self._move_into_place()
        except BaseException:
            self.abort()
            raise
        self._closed = True

    def _move_into_place(self) -> None:
        target = native_path(self.path.absolute())
        try:
            self._replace(str(self._tmp), target)
        except PermissionError:
            if not self.path.exists():
                raise  # the folder refuses it: not a locked file
            other = sibling_name(self.path)
            self._replace(str(self._tmp), native_path(other.absolute()))
            self.diverted_from, self.path = self.path, other

    def abort(self) -> None:
        """Discard everything written; the target file is left as it was."""
        self._closed = True
        if self._fh is not None and not self._fh.closed:
            self._fh.close()
        if self._ws is not None and self._wb is not None:
            self._discard_xlsx_rows()
        self._wb = None
        self._ws = None
        try:
            self._tmp.unlink()
        except FileNotFoundError:
            pass

    def _discard_xlsx_rows(self) -> None:
        # openpyxl's write-only sheet streams rows into its own temporary file through
        # a generator; finish and delete it now rather than leaving it to the garbage
        # collector (which would write into a closed file) and to openpyxl's atexit hook.
        ws = self._ws
        try:
            if not ws.closed:
                ws.close()
        except Exception:  # already broken: nothing more to finish
            return
        writer = getattr(ws, "_writer", None)
        if writer is not None:
            try:
                writer.cleanup()
            except (OSError, ValueError):
                pass

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
