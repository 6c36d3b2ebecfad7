"""``iter_row_blocks`` gives exactly what ``iter_rows`` gives: the same rows with the
same numbers, and the same problem (message, row, column) after the same rows, for
every file of the corpus and for files whose trouble sits at block boundaries."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from recotap_desktop.files import FileProblem, iter_row_blocks, iter_rows, sniff
from recotap_desktop.files.readers import CHECK_ROWS

DATA = Path(__file__).resolve().parent.parent / "data"


def _outcome_rows(info: Any) -> tuple[list[tuple[int, list[str]]], tuple[Any, ...] | None]:
    rows: list[tuple[int, list[str]]] = []
    try:
        for row in iter_rows(info):
            rows.append(row)
    except FileProblem as exc:
        return rows, (exc.message, exc.row, exc.column)
    return rows, None


def _outcome_blocks(
    info: Any, size: int
) -> tuple[list[tuple[int, list[str]]], tuple[Any, ...] | None]:
    rows: list[tuple[int, list[str]]] = []
    try:
        for numbers, values in iter_row_blocks(info, size):
            assert len(numbers) == len(values) and 0 < len(values) <= size
            rows.extend(zip(numbers, values, strict=True))
    except FileProblem as exc:
        return rows, (exc.message, exc.row, exc.column)
    return rows, None


Problem = tuple[str, int | None, str | None]  # message, row, column


def _problem(exc: FileProblem) -> Problem:
    return exc.message, exc.row, exc.column


def _read(path: Path, sizes: tuple[int, ...] = (1, 2, 3, 512)) -> tuple[
        list[tuple[int, list[str]]], Problem | None, str]:
    """Read ``path`` both ways and check they agree; return the rows, the problem and where
    it was found: ``"sniff"`` (the file is refused before either way starts, so both ways
    refuse it alike), ``"stream"`` (while reading rows) or ``""`` (no problem)."""
    try:
        info = sniff(path)
    except FileProblem as exc:
        assert path.name in exc.message, exc.message  # the refusal names the file
        return [], _problem(exc), "sniff"
    want_rows, want_problem = _outcome_rows(info)
    for size in sizes:
        got_rows, got_problem = _outcome_blocks(info, size)
        assert got_problem == want_problem, (path.name, size)
        assert got_rows == want_rows, (path.name, size)  # every row before a problem too
    return want_rows, want_problem, "stream" if want_problem else ""


#: The corpus files that are refused before any row is read: what the message says, the
#: row and the column it names. Every other file of the corpus reads without a problem.
REFUSED = {
    "blank_header.csv": ("header cells are blank", 1, "B"),
    "corrupt_truncated.xlsx": ("damaged", None, None),
    "duplicate_headers.csv": ("must be unique", 1, "E"),
    "empty.csv": ("is empty (0 bytes)", None, None),
    "empty_sheet.xlsx": ("sheet 'Empty' is empty", None, None),
    "header_only.csv": ("no data rows", 1, None),
    "nul_bytes.csv": ("binary file", None, None),
    "password_protected.xlsx": ("password-protected", None, None),
    "png_named.csv": ("PNG image", None, None),
    "ragged_extra.csv": ("extra value", 3, "D"),
    "trailing_column_with_value.csv": ("has no header", 1, "C"),
    "unbalanced_quote.csv": ("never closed", 3, "C"),
    "whitespace_only.csv": ("only blank lines or spaces", None, None),
    "xlsx_header_only.xlsx": ("no data rows", 1, None),
    "xlsx_value_without_header.xlsx": ("has no header", 1, "D"),
    "zip_named.csv": ("ZIP archive", None, None),
}
CORPUS = sorted(p.name for p in DATA.iterdir() if p.suffix in {".csv", ".txt", ".tsv", ".xlsx"})


def test_the_refused_list_names_corpus_files() -> None:
    assert set(REFUSED) <= set(CORPUS)


@pytest.mark.parametrize("name", CORPUS)
def test_corpus_files_read_alike(name: str) -> None:
    rows, problem, where = _read(DATA / name)
    if name in REFUSED:
        fragment, row, column = REFUSED[name]
        assert where == "sniff" and problem is not None, name
        assert fragment in problem[0] and problem[1:] == (row, column), problem
    else:
        assert (where, problem) == ("", None) and rows, name


def _line(i: int) -> str:
    return f"Company {i},c{i}.example.com,{'note ' * 8}{i}\n"


#: Endings with a problem in their first line: what the message says, and the column.
BAD_TAILS = {
    'Last,last.com,"never closed': ("is never closed", "C"),
    'Last,"last.com\nmore\nand more': ("is never closed", "B"),
    "x,y,z,extra\n": ("there is an extra value in column D", "D"),
}
#: Endings that add no row.
EMPTY_TAILS = {"", ",,\n\n"}


@pytest.mark.parametrize(
    "tail",
    [
        "",  # ends with a line break
        "Last,last.com,no break",
        'Last,last.com,"never closed',
        'Last,last.com,"two\nlines"',
        'Last,"last.com\nmore\nand more',
        ",,\n\n",
        "x,y,z,extra\n",
        "x,y,,\n",
        "x,y\n",
    ],
)
@pytest.mark.parametrize("rows", [0, 1, 510, 511, 512, 513, 1024, 3000])
def test_endings_at_block_boundaries(tmp_path: Path, rows: int, tail: str) -> None:
    path = tmp_path / "x.csv"
    path.write_text("Name,Domain,Note\n" + "".join(_line(i) for i in range(rows)) + tail)
    got_rows, problem, where = _read(path, (512,) if rows > 600 else (1, 512))
    if tail in BAD_TAILS:
        # The problem is on the row after the good ones: sniff refuses the file when that
        # row is among the rows it checks; past them, both ways stop there after every row.
        fragment, column = BAD_TAILS[tail]
        bad_row = rows + 2
        assert where == ("sniff" if bad_row <= CHECK_ROWS + 1 else "stream")
        assert problem is not None and fragment in problem[0]
        assert problem[1:] == (bad_row, column)
        assert len(got_rows) == (0 if where == "sniff" else rows)
    elif tail in EMPTY_TAILS and rows == 0:
        assert where == "sniff" and problem is not None and "no data rows" in problem[0]
    else:
        assert (where, problem) == ("", None)
        assert len(got_rows) == rows + (tail not in EMPTY_TAILS)


@pytest.mark.parametrize("tail", sorted(BAD_TAILS))
def test_a_bad_row_is_told_alike_by_sniff_and_while_streaming(tmp_path: Path, tail: str) -> None:
    """A problem sniff finds (in its first rows) reads as the same problem found later
    while the rows stream, only the row number differs."""
    said = {}
    for rows in (7, CHECK_ROWS + 500):
        path = tmp_path / "x.csv"
        path.write_text("Name,Domain,Note\n" + "".join(_line(i) for i in range(rows)) + tail)
        _rows, problem, where = _read(path, (512,))
        assert problem is not None and problem[1] == rows + 2
        said[where] = (problem[0].replace(f"row {rows + 2}", "row N"), problem[2])
    assert set(said) == {"sniff", "stream"}
    assert said["sniff"] == said["stream"]


def test_random_awkward_files_read_alike(tmp_path: Path) -> None:
    rnd = random.Random("awkward")
    pieces = [
        "A,a.com,x\n", "\n", ",,\n", " , , \n", "B,b.com\n", "C,c.com,x,\n", 'D,"d\n.com",x\n',
        'E,e.com,"say ""hi"""\n', "\r\n", "G,g.com,x\r\n",
    ]
    bad = ["F,f.com,x,y\n", 'H,h.com,"x\n']  # an extra value; a quote never closed
    found: list[str] = []
    for k in range(40):
        body = [rnd.choice(pieces) for _ in range(rnd.randint(1, 3000))]
        if k % 2:  # one bad row, anywhere: in the rows sniff checks or further down
            body.insert(rnd.randrange(len(body) + 1), rnd.choice(bad))
        path = tmp_path / f"f{k}.csv"
        path.write_text("Name,Domain,Note\n" + "".join(body), newline="")
        _rows, problem, where = _read(path, (1, 7, 512))
        if where == "sniff":  # the header is good: a refusal names the row at fault
            assert problem is not None and problem[1] is not None and problem[1] > 1, problem
        found.append(where)
    # Each way of ending is met: refused by sniff, failing while streaming, read whole.
    assert set(found) == {"sniff", "stream", ""}, found


@pytest.mark.parametrize("rows", [3, 511, 1501])
def test_rows_before_a_late_malformed_row_are_all_given(tmp_path: Path, rows: int) -> None:
    """sniff checks the first rows only: a row with a value beyond the last header further
    down is found while streaming, after every row before it (CSV and XLSX)."""
    good = [[f"Company {i}", f"c{i}.example.com"] for i in range(rows)]
    bad = ["Extra", "extra.example.com", "a value without a header"]
    csv_path = tmp_path / "late.csv"
    csv_path.write_text(
        "Name,Domain\n" + "".join(f"{a},{b}\n" for a, b in good) + ",".join(bad) + "\n"
    )
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Name", "Domain"])
    for row in [*good, bad]:
        sheet.append(row)
    xlsx_path = tmp_path / "late.xlsx"
    book.save(xlsx_path)
    for path in (csv_path, xlsx_path):
        got_rows, problem, where = _read(path, (4, 512))
        # sniff finds it when it is among the rows it checks itself
        assert where == ("sniff" if rows + 2 <= CHECK_ROWS + 1 else "stream"), path.name
        # (refused by sniff, an XLSX names the header cell the value lacks: row 1)
        assert problem is not None and f"row {rows + 2}" in problem[0], problem
        assert problem[2] == "C" and problem[1] in {rows + 2, 1 if where == "sniff" else None}
        assert len(got_rows) == (0 if where == "sniff" else rows)
