"""The streaming CSV path (lines fed to csv.reader in blocks) and the XLSX sheet
that sniff hands on to iter_rows."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from recotap_desktop.files import FileProblem, iter_rows, sniff
from recotap_desktop.files import readers as readers_mod

ROWS = 3000  # about 300 000 characters: several blocks of lines


def _body(n: int = ROWS) -> str:
    return "".join(f"Company {i},c{i}.example.com,{'note ' * 15}{i}\n" for i in range(n))


def _problem(path: Path) -> FileProblem:
    with pytest.raises(FileProblem) as caught:
        list(iter_rows(sniff(path)))
    return caught.value


def test_unclosed_quote_on_the_last_line_of_a_long_file(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("Name,Domain,Note\n" + _body() + 'Last,last.com,"never closed')
    problem = _problem(path)
    assert problem.row == ROWS + 2
    assert problem.column == "C"
    assert "is never closed" in problem.message


def test_unclosed_quote_swallowing_many_blocks(tmp_path: Path) -> None:
    """The open quote is far before the end: its record spans more lines than are kept,
    so they are read again to find the column."""
    path = tmp_path / "x.csv"
    path.write_text("Name,Domain,Note\n" + _body(1200) + 'Open,"open.com\n' + _body())
    problem = _problem(path)
    assert problem.row == 1200 + 2
    assert problem.column == "B"


def test_sep_line_and_unclosed_quote(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("sep=;\nName;Domain\n" + "A;a.com\n" * 1500 + 'B;"b.com\nmore\n')
    problem = _problem(path)
    assert problem.row == 1500 + 2
    assert problem.column == "B"


def test_closed_multiline_value_at_the_very_end(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("Name,Domain,Note\n" + _body() + 'Last,last.com,"two\nlines"')
    rows = list(iter_rows(sniff(path)))
    assert len(rows) == ROWS + 1
    assert rows[-1] == (ROWS + 2, ["Last", "last.com", "two\nlines"])


def test_rows_match_csv_module_with_blank_short_and_multiline_rows(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    lines = ["Name,Domain,Note\n"]
    for i in range(4000):
        if i % 97 == 0:
            lines.append("\n")  # blank row: skipped, keeps its number
        elif i % 89 == 0:
            lines.append(" , ,\n")  # blank cells only: skipped
        elif i % 83 == 0:
            lines.append(f"Short {i}\n")  # padded
        elif i % 79 == 0:
            lines.append(f',"d{i}.com","a\nb"\n')  # empty first cell, quoted line break
        else:
            lines.append(f"N{i},d{i}.com,x\n")
    path.write_text("".join(lines))
    with path.open(newline="") as fh:
        records = list(csv.reader(fh))
    expected = [
        (number, (rec + [""] * 3)[:3])
        for number, rec in enumerate(records, start=1)
        if number > 1 and any(v.strip() for v in rec)
    ]
    assert list(iter_rows(sniff(path))) == expected


def test_utf16_file_streams(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    text = "Name\tDomain\n" + "".join(f"Zoë {i}\tz{i}.com\n" for i in range(2000))
    path.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    rows = list(iter_rows(sniff(path)))
    assert len(rows) == 2000
    assert rows[-1] == (2001, ["Zoë 1999", "z1999.com"])


def _xlsx(path: Path, names: list[str]) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["Name", "Domain"])
    for name in names:
        ws.append([name, f"{name.lower()}.com"])
    wb.save(path)
    return path


def test_xlsx_sniff_then_iter_rows_opens_the_workbook_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _xlsx(tmp_path / "x.xlsx", ["Acme", "Beta"])
    opened = []
    real = readers_mod._open_workbook

    def counting(p: Path) -> object:
        opened.append(p)
        return real(p)

    monkeypatch.setattr(readers_mod, "_open_workbook", counting)
    info = sniff(path)
    assert list(iter_rows(info)) == [(2, ["Acme", "acme.com"]), (3, ["Beta", "beta.com"])]
    assert len(opened) == 1
    # the kept sheet serves one reading; the next one opens the file again
    assert list(iter_rows(info)) == [(2, ["Acme", "acme.com"]), (3, ["Beta", "beta.com"])]
    assert len(opened) == 2


def test_xlsx_changed_after_sniff_is_read_again(tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "x.xlsx", ["Acme", "Beta"])
    info = sniff(path)
    _xlsx(path, ["Gamma"])
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10_000_000))
    assert list(iter_rows(info)) == [(2, ["Gamma", "gamma.com"])]
