"""``iter_row_blocks`` gives exactly what ``iter_rows`` gives: the same rows with the
same numbers, and the same problem (message, row, column) after the same rows, for
every file of the corpus and for files whose trouble sits at block boundaries."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from recotap_desktop.files import FileProblem, iter_row_blocks, iter_rows, sniff

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


def _same(path: Path, sizes: tuple[int, ...] = (1, 2, 3, 512)) -> None:
    try:
        info = sniff(path)
    except FileProblem:
        return  # not readable at all: iter_rows is never reached
    want_rows, want_problem = _outcome_rows(info)
    for size in sizes:
        got_rows, got_problem = _outcome_blocks(info, size)
        assert got_problem == want_problem, (path.name, size)
        assert got_rows == want_rows, (path.name, size)  # every row before a problem too


@pytest.mark.parametrize(
    "name", sorted(p.name for p in DATA.iterdir() if p.suffix in {".csv", ".txt", ".tsv", ".xlsx"})
)
def test_corpus_files_read_alike(name: str) -> None:
    _same(DATA / name)


def _line(i: int) -> str:
    return f"Company {i},c{i}.example.com,{'note ' * 8}{i}\n"


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
    _same(path, (512,) if rows > 600 else (1, 512))


def test_random_awkward_files_read_alike(tmp_path: Path) -> None:
    rnd = random.Random("awkward")
    pieces = [
        "A,a.com,x\n", "\n", ",,\n", " , , \n", "B,b.com\n", "C,c.com,x,\n", 'D,"d\n.com",x\n',
        'E,e.com,"say ""hi"""\n', "F,f.com,x,y\n", "\r\n", "G,g.com,x\r\n", 'H,h.com,"x\n',
    ]
    for k in range(40):
        body = "".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 1500)))
        path = tmp_path / f"f{k}.csv"
        path.write_text("Name,Domain,Note\n" + body, newline="")
        _same(path, (1, 7, 512))


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
        try:
            info = sniff(path)
        except FileProblem:
            assert rows <= 1000  # sniff found it (it checks the first rows itself)
            continue
        want_rows, want_problem = _outcome_rows(info)
        assert want_problem is not None and len(want_rows) == rows
        _same(path, (4, 512))
