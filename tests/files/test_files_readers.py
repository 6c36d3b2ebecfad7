"""Reader behaviour beyond the corpus: overrides, sheets, big files, changes on disk."""

from __future__ import annotations

import codecs
import csv
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from recotap_desktop.files import FileProblem, column_letter, iter_rows, preview, sniff
from recotap_desktop.files import readers as readers_mod
from recotap_desktop.files.detect import SAMPLE_SIZE, _looks_western, detect_delimiter

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture(autouse=True)
def _restore_field_limit() -> Iterator[None]:
    before = csv.field_size_limit()
    yield
    csv.field_size_limit(before)


def _problem(path: Path, **kwargs: str) -> FileProblem:
    with pytest.raises(FileProblem) as caught:
        list(iter_rows(sniff(path, **kwargs)))
    return caught.value


def test_missing_file(tmp_path: Path) -> None:
    problem = _problem(tmp_path / "gone.csv")
    assert "gone.csv does not exist" in problem.message
    assert "choose the file again" in problem.message


def test_directory(tmp_path: Path) -> None:
    folder = tmp_path / "exports.csv"
    folder.mkdir()
    assert "exports.csv is a folder, not a file" in _problem(folder).message


def test_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "locked.csv"
    target.write_text("a,b\n1,2\n")

    def deny(self: Path, *args: object, **kwargs: object) -> object:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", deny)
    problem = _problem(target)
    assert "locked.csv cannot be read: permission denied" in problem.message


def test_encoding_override(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes("Name,City\nMüller,Köln\n".encode("latin-1"))
    info = sniff(path, encoding="latin-1")
    assert info.encoding == "iso8859-1"
    assert list(iter_rows(info)) == [(2, ["Müller", "Köln"])]


def test_encoding_override_that_does_not_fit_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes("Name,City\nAcme,Paris\nMüller,Köln\n".encode("cp1252"))
    problem = _problem(path, encoding="utf-8")
    assert "x.csv cannot be read as utf-8 text: line 3 contains bytes" in problem.message


def test_unknown_encoding_name(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    assert "'klingon' is not a known text encoding" in _problem(path, encoding="klingon").message


def test_utf8_override_on_bom_file_strips_bom() -> None:
    info = sniff(DATA / "utf8_bom.csv", encoding="utf-8")
    assert info.encoding == "utf-8-sig"
    assert info.headers == ["Name", "City"]


def test_delimiter_override(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a;b,c\n1;2,3\n")
    assert sniff(path).delimiter == ","
    info = sniff(path, delimiter=";")
    assert info.headers == ["a", "b,c"]
    assert list(iter_rows(info)) == [(2, ["1", "2,3"])]


def test_bad_delimiter_override(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    assert "cannot be used as the delimiter" in _problem(path, delimiter=";;").message


def test_single_column_file(tmp_path: Path) -> None:
    path = tmp_path / "domains.csv"
    path.write_text("Domain\nacme.com\nbeta.io\n")
    info = sniff(path)
    assert info.headers == ["Domain"]
    assert [r for r, _ in iter_rows(info)] == [2, 3]


def test_utf16_big_endian_and_without_bom(tmp_path: Path) -> None:
    be = tmp_path / "be.txt"
    be.write_bytes(codecs.BOM_UTF16_BE + "A\tB\r\n1\tü\r\n".encode("utf-16-be"))
    info = sniff(be)
    assert (info.encoding, info.has_bom) == ("utf-16-be", True)
    assert list(iter_rows(info)) == [(2, ["1", "ü"])]
    nobom = tmp_path / "le.txt"
    nobom.write_bytes("A\tB\r\n1\t2\r\n".encode("utf-16-le"))
    info = sniff(nobom)
    assert (info.encoding, info.has_bom) == ("utf-16-le", False)
    assert list(iter_rows(info)) == [(2, ["1", "2"])]


def test_non_utf8_byte_after_the_sample_is_found(tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    lines = ["Name,City"] + [f"Company {i},Town" for i in range(SAMPLE_SIZE // 10)]
    lines.append("Müller,Köln")
    path.write_bytes(("\n".join(lines) + "\n").encode("cp1252"))
    info = sniff(path)
    assert info.encoding == "cp1252"
    last = list(iter_rows(info))[-1]
    assert last == (len(lines), ["Müller", "Köln"])


def test_long_field_is_read(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    note = "x" * 300_000  # longer than the csv module's default 131 072 limit
    path.write_text(f'Name,Note\nAcme,"{note}"\nBeta,short\n')
    assert list(iter_rows(sniff(path))) == [(2, ["Acme", note]), (3, ["Beta", "short"])]


def test_too_long_field_blames_an_open_quote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readers_mod, "FIELD_SIZE_LIMIT", 1000)
    path = tmp_path / "open.csv"
    rows = "".join(f"Row{i},{i}\n" for i in range(500))
    path.write_text(f'Name,Note\nAcme,ok\nBeta,"oops\n{rows}')
    problem = _problem(path)
    assert problem.row == 3
    assert "open.csv, row 3: a value here is longer than 1,000 characters" in problem.message
    assert 'a double quote (") opened in this row is never closed' in problem.message


def test_unbalanced_quote_in_last_line_without_newline(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text('a,b\n1,2\n3,"x')
    problem = _problem(path)
    assert (problem.row, problem.column) == (3, "B")


def test_stray_quote_inside_a_value_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text('a,b\n1,5" screen\n2,x"y')
    assert list(iter_rows(sniff(path))) == [(2, ["1", '5" screen']), (3, ["2", 'x"y'])]


def test_ragged_row_after_the_checked_rows_is_found_while_streaming(tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    body = "".join(f"C{i},d{i}.com\n" for i in range(readers_mod.CHECK_ROWS + 10))
    path.write_text("Name,Domain\n" + body + "Bad,bad.com,extra\n")
    info = sniff(path)  # the first rows are fine
    with pytest.raises(FileProblem) as caught:
        list(iter_rows(info))
    bad_row = readers_mod.CHECK_ROWS + 10 + 2
    assert caught.value.row == bad_row
    assert f"late.csv, row {bad_row}: this row has 3 values" in caught.value.message


def test_file_changed_after_sniff(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("Name,Domain\nAcme,acme.com\n")
    info = sniff(path)
    path.write_text("Company,Website\nAcme,acme.com\n")
    with pytest.raises(FileProblem, match="changed since it was opened"):
        list(iter_rows(info))
    path.unlink()
    with pytest.raises(FileProblem, match="no longer exists"):
        list(iter_rows(info))


def test_preview_and_row_numbers_with_quoted_newlines(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text('Name,Note\r\nA,"1\r\n2\r\n3"\r\n\r\nB,x\r\nC,y\r\n')
    info = sniff(path)
    assert preview(info, 2) == [["A", "1\r\n2\r\n3"], ["B", "x"]]
    assert [r for r, _ in iter_rows(info)] == [2, 4, 5]


def test_sheet_choice() -> None:
    path = DATA / "multi_sheet.xlsx"
    info = sniff(path)
    assert info.sheets == ["Notes", "Accounts", "Deals"]  # hidden "Secret" not listed
    assert info.sheet == "Notes"
    info = sniff(path, sheet="accounts")  # case-insensitive
    assert info.sheet == "Accounts"
    assert list(iter_rows(info)) == [(2, ["Acme", "acme.com"]), (3, ["Beta", "beta.io"])]
    assert sniff(path, sheet="Secret").headers == ["Key"]  # hidden, but named explicitly
    offset = sniff(DATA / "offset_table.xlsx")
    assert (offset.header_row, offset.first_column) == (3, 3)


def test_missing_sheet_lists_sheets() -> None:
    problem = _problem(DATA / "multi_sheet.xlsx", sheet="Contacts")
    assert problem.message == (
        "multi_sheet.xlsx has no sheet named 'Contacts'. Its sheets are: 'Notes', "
        "'Accounts', 'Deals'. Choose one of them."
    )


def test_second_sheet_of_workbook_with_empty_first_sheet() -> None:
    info = sniff(DATA / "empty_sheet.xlsx", sheet="Accounts")
    assert info.headers == ["Name", "Domain"]


def test_offset_table_columns_in_messages(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws["C3"], ws["D3"] = "Name", "Name"
    ws["C4"], ws["D4"] = "a", "b"
    path = tmp_path / "dup.xlsx"
    wb.save(path)
    problem = _problem(path)
    assert '"Name" in columns C (3) and D (4)' in problem.message
    assert (problem.row, problem.column) == (3, "D")


def test_openpyxl_written_workbook_values(tmp_path: Path) -> None:
    import datetime as dt

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["Name", "When", "Amount", "Flag"])
    ws.append(["Acme", dt.datetime(2026, 1, 15, 10, 30), 75000, True])
    ws.append(["Beta", dt.date(2026, 1, 15), 12.5, False])
    path = tmp_path / "w.xlsx"
    wb.save(path)
    assert list(iter_rows(sniff(path))) == [
        (2, ["Acme", "2026-01-15T10:30:00", "75000", "TRUE"]),
        (3, ["Beta", "2026-01-15", "12.5", "FALSE"]),
    ]


def test_iter_rows_streams_in_constant_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("Name,Domain,Country,Note\r\n")
        for i in range(60_000):
            fh.write(f'Company {i},c{i}.example.com,DE,"note, with comma {i}"\r\n')
    assert path.stat().st_size > 3_000_000
    info = sniff(path)
    tracemalloc.start()
    try:
        count = sum(1 for _ in iter_rows(info))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 60_000
    assert peak < 1_000_000  # a fraction of the 3 MB file


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Name,City\nMüller,Köln\nSociété,Zürich €\n", True),
        ("Ïðèâåò ìèð, Ìîñêâà", False),  # cp1251 Cyrillic read as cp1252
        ("plain ascii", True),
    ],
)
def test_western_heuristic(text: str, expected: bool) -> None:
    assert _looks_western(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a,b,c\n1,2,3\n4,5,6\n", ","),
        ("a;b;c\n1,5;2;3\n4;5,5;6\n", ";"),
        ("a\tb\n1,2\t3\n", "\t"),
        ("a|b\n1|2\n", "|"),
        ('a,b\n"x;y;z",1\n"p;q",2\n', ","),
        ("only\none\n", ","),
    ],
)
def test_detect_delimiter(text: str, expected: str) -> None:
    assert detect_delimiter(text, whole=True) == expected


def test_column_letter() -> None:
    assert [column_letter(i) for i in (0, 25, 26, 51, 701, 702)] == [
        "A",
        "Z",
        "AA",
        "AZ",
        "ZZ",
        "AAA",
    ]


def test_an_empty_sheet_is_named_in_the_message(tmp_path: Path) -> None:
    """Issue 18, finding 6: choosing a sheet with only a header names the sheet."""
    from openpyxl import Workbook

    wb = Workbook()
    data = wb.active
    assert data is not None
    data.title = "Data"
    data.append(["Name", "Domain"])
    data.append(["Acme", "acme.com"])
    empty = wb.create_sheet("Q3")
    empty.append(["Name", "Domain"])
    path = tmp_path / "accounts.xlsx"
    wb.save(path)
    with pytest.raises(FileProblem) as caught:
        list(iter_rows(sniff(path, sheet="Q3")))
    assert caught.value.message.startswith(
        "Sheet 'Q3' of accounts.xlsx has a header row (row 1) but no data rows.")
    assert "choose another sheet or file" in caught.value.message
