"""Bounded workbooks: an XLSX file is checked before python-calamine loads it.

python-calamine reads the shared strings when the workbook opens and a whole sheet when
it is loaded, so a small file whose XML expands enormously (a "zip bomb": 2 MB on disk,
2 GiB of shared strings) would take gigabytes of memory before the first row is seen.
:func:`check_workbook` looks at the archive first, in bounded memory:

* the **shared strings** (``xl/sharedStrings.xml``) and **each worksheet**
  (``xl/worksheets/*.xml``) may expand to at most :data:`MAX_PART_BYTES`. The sizes the
  archive declares are checked first (an honest bomb is refused without decompressing
  anything); then each part is decompressed as a stream, counting bytes and stopping at
  the limit, so a part whose declared size is false is caught too (the archive's
  checksum must then also match);
* **one cell** may hold at most :data:`~recotap_desktop.files.readers.FIELD_SIZE_LIMIT`
  characters, the CSV field limit: :func:`bounded_cells` checks each cell's length while
  the rows are read, but only when a part is bigger than that limit (otherwise no cell
  can be), so ordinary workbooks pay nothing for it.

A refused workbook is a :class:`~recotap_desktop.files.problems.FileProblem` (the CLI's
exit 2), raised before any run is recorded or anything is sent.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .problems import FileProblem, column_letter

__all__ = ["MAX_PART_BYTES", "WorkbookBounds", "bounded_cells", "check_workbook"]

#: The most a worksheet's XML, or the shared strings, may expand to (per part). A CRM
#: export of 100 000 rows x 30 columns is about 100 MB of sheet XML.
MAX_PART_BYTES = 512 * 1024 * 1024

_CHUNK = 1 << 16


@dataclass(frozen=True, slots=True)
class WorkbookBounds:
    """What :func:`check_workbook` found: whether one cell could exceed the cell limit."""

    cells_may_exceed: bool


def _bounded_parts(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    return [
        info for info in archive.infolist()
        if info.filename.lower() == "xl/sharedstrings.xml"
        or (info.filename.lower().startswith("xl/worksheets/")
            and info.filename.lower().endswith(".xml"))
    ]


def _too_big(path: Path, part: str, limit: int) -> FileProblem:
    what = "its shared strings" if "sharedstrings" in part.lower() else f"its sheet part {part}"
    return FileProblem(
        f"{path.name} is too big to read safely: {what} expand to more than "
        f"{limit // (1024 * 1024):,} MB (the file is {path.stat().st_size / 1e6:,.1f} MB on "
        "disk). Save the sheet as CSV, or split it into smaller workbooks.",
        path=path,
    )


def _streamed_size(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> int:
    """Decompress one part as a stream (bounded memory); stop once past ``limit``."""
    total = 0
    with archive.open(info) as stream:
        while True:
            chunk = stream.read(_CHUNK)
            if not chunk:
                return total
            total += len(chunk)
            if total > limit:
                return total


def check_workbook(
    path: Path, *, part_limit: int = MAX_PART_BYTES, cell_limit: int | None = None
) -> WorkbookBounds:
    """Refuse a workbook whose parts expand past ``part_limit`` (see the module)."""
    if cell_limit is None:
        from .readers import FIELD_SIZE_LIMIT

        cell_limit = FIELD_SIZE_LIMIT
    try:
        with zipfile.ZipFile(path) as archive:
            parts = _bounded_parts(archive)
            for info in parts:  # what the archive declares: no decompression
                if info.file_size > part_limit:
                    raise _too_big(path, info.filename, part_limit)
            biggest = 0
            for info in parts:
                size = _streamed_size(archive, info, part_limit)
                if size > part_limit:
                    raise _too_big(path, info.filename, part_limit)
                biggest = max(biggest, size)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
        raise FileProblem(
            f"{path.name} is a damaged Excel workbook and cannot be read ({exc}). Open it in "
            "Excel, let Excel repair it if it offers to, and save a new copy; or fetch the "
            "file again.",
            path=path,
        ) from exc
    # A cell's text is at most its part's size in UTF-8 bytes, so at most that many characters.
    return WorkbookBounds(cells_may_exceed=biggest > cell_limit)


def bounded_cells(
    records: Iterator[tuple[int, list[str]]],
    path: Path,
    bounds: WorkbookBounds,
    *,
    first_column: int = 1,
    cell_limit: int | None = None,
) -> Iterator[tuple[int, list[str]]]:
    """``records`` unchanged, refusing a cell longer than the CSV field limit."""
    if not bounds.cells_may_exceed:
        yield from records
        return
    if cell_limit is None:
        from .readers import FIELD_SIZE_LIMIT

        cell_limit = FIELD_SIZE_LIMIT
    for row, cells in records:
        for i, value in enumerate(cells):
            if len(value) > cell_limit:
                column = column_letter(first_column - 1 + i)
                raise FileProblem(
                    f"{path.name}, row {row}, column {column}: the cell holds "
                    f"{len(value):,} characters; the most a cell may hold is {cell_limit:,}. "
                    "Shorten it, or remove it if it is not data.",
                    path=path,
                    row=row,
                    column=column,
                )
        yield row, cells
