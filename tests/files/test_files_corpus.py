"""Every file of the tests/data corpus gives exactly the expected outcome."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from recotap_desktop.files import FileProblem, iter_rows, sniff

DATA = Path(__file__).resolve().parent.parent / "data"


def _load_make_corpus() -> Any:
    spec = importlib.util.spec_from_file_location("make_corpus", DATA / "make_corpus.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ACC = ["Name", "Domain"]
ACC_ROWS = [(2, ["Acme", "acme.com"]), (3, ["Beta", "beta.io"])]

# name -> (format, encoding, delimiter, headers, rows)
READABLE: dict[str, tuple[str, str | None, str | None, list[str], list[tuple[int, list[str]]]]] = {
    "utf8.csv": (
        "csv",
        "utf-8",
        ",",
        ["Name", "City"],
        [(2, ["Müller GmbH", "Köln"]), (3, ["Crème Café", "Paris €"])],
    ),
    "utf8_bom.csv": ("csv", "utf-8-sig", ",", ["Name", "City"], [(2, ["Müller GmbH", "Köln"])]),
    "utf16le_unicode_text.txt": (
        "csv",
        "utf-16-le",
        "\t",
        ["Name", "City"],
        [(2, ["Müller GmbH", "Köln"]), (3, ["Łódź Sp. z o.o.", "Łódź"])],
    ),
    "cp1252.csv": (
        "csv",
        "cp1252",
        ";",
        ["Name", "Revenue", "Note"],
        [
            (2, ["Société Générale", "1.000 €", "“big” deal"]),
            (3, ["Müller & Söhne", "250 €", "Straße"]),
        ],
    ),
    "latin1.csv": (
        "csv",
        "cp1252",
        ",",
        ["Name", "City"],
        [(2, ["Nuñez SA", "Peñíscola"]), (3, ["Groß AG", "Würzburg"])],
    ),
    "cp1251_cyrillic.csv": (
        "csv",
        "cp1251",
        ",",
        ["Название", "Город"],
        [
            (2, ["Романов и партнёры", "Москва"]),
            (3, ["Сибирская компания", "Новосибирск"]),
            (4, ["Уральский завод", "Екатеринбург"]),
        ],
    ),
    "semicolon_decimal_comma.csv": (
        "csv",
        "utf-8",
        ";",
        ["Name", "Revenue", "Score"],
        [(2, ["Acme", "1,5", "0,75"]), (3, ["Beta", "12,25", "1,0"]), (4, ["Gamma", "3", "2,5"])],
    ),
    "tab.tsv": (
        "csv",
        "utf-8",
        "\t",
        ["Name", "Domain", "Note"],
        [(2, ["Acme", "acme.com", "a, b; c"]), (3, ["Beta", "beta.io", ""])],
    ),
    "pipe.txt": (
        "csv",
        "utf-8",
        "|",
        ["Name", "Domain", "Note"],
        [(2, ["Acme", "acme.com", "a, b; c"]), (3, ["Beta", "beta.io", "x"])],
    ),
    "quoted_newlines.csv": (
        "csv",
        "utf-8",
        ",",
        ["Name", "Address", "Domain"],
        [
            (2, ["Acme", "1 Main St\nSuite 5\nSpringfield", "acme.com"]),
            (3, ["Beta", "Line 1\r\nLine 2", "beta.io"]),
            (4, ["Gamma", "Plain", "gamma.org"]),
        ],
    ),
    "doubled_quotes.csv": (
        "csv",
        "utf-8",
        ",",
        ["Name", "Note"],
        [(2, ['Acme "The Best" Inc', 'say "hi", then leave']), (3, ["Beta, Ltd", ""])],
    ),
    "sep_line.csv": (
        "csv",
        "utf-8",
        ";",
        ["Name", "Revenue"],
        [(2, ["Acme", "1,5"]), (3, ["Beta", "2"])],
    ),
    "crlf.csv": (
        "csv",
        "utf-8",
        ",",
        ["Name", "Domain", "Country"],
        [(2, ["Acme", "acme.com", "DE"]), (3, ["Beta", "beta.io", "FR"])],
    ),
    "cr_only.csv": (
        "csv",
        "utf-8",
        ",",
        ["Name", "Domain", "Country"],
        [(2, ["Acme", "acme.com", "DE"]), (3, ["Beta", "beta.io", "FR"])],
    ),
    "trailing_empty_lines.csv": ("csv", "utf-8", ",", ACC, ACC_ROWS),
    # blank line = row 3, ",": row 4 (blank), "" row 6: skipped but counted
    "blank_rows_middle.csv": (
        "csv",
        "utf-8",
        ",",
        ACC,
        [(2, ["Acme", "acme.com"]), (5, ["Beta", "beta.io"]), (7, ["Gamma", "g.org"])],
    ),
    "leading_blank_rows.csv": ("csv", "utf-8", ",", ACC, [(4, ["Acme", "acme.com"])]),
    "header_whitespace.csv": (
        "csv",
        "utf-8-sig",
        ",",
        ["Name", "Domain", "Country"],
        [(2, ["Acme", "acme.com", "DE"])],
    ),
    "trailing_delimiter.csv": ("csv", "utf-8", ",", ACC, ACC_ROWS),
    "short_rows.csv": (
        "csv",
        "utf-8",
        ",",
        ["Name", "Domain", "Country", "Owner"],
        [
            (2, ["Acme", "acme.com", "", ""]),
            (3, ["Beta", "beta.io", "FR", ""]),
            (4, ["Gamma", "", "", ""]),
        ],
    ),
    "csv_named.xlsx": ("csv", "utf-8", ",", ACC, ACC_ROWS),
    "xlsx_named.csv": ("xlsx", None, None, ACC, ACC_ROWS),
    "types.xlsx": (
        "xlsx",
        None,
        None,
        [
            "Name",
            "Founded",
            "Last touch",
            "Revenue",
            "Margin",
            "Active",
            "Total",
            "Label",
            "Due",
            "Call at",
            "Err",
        ],
        [
            (
                2,
                [
                    "Acme",
                    "2026-01-15",
                    "2026-01-15T10:30:00",
                    "75000",
                    "0.125",
                    "TRUE",
                    "150000",
                    "Acme!",
                    "2026-01-16",
                    "10:30:00",
                    "",
                ],
            ),
            # a date-time at exactly midnight reads as a date; 1e-05 in positional form
            (
                3,
                [
                    "Beta",
                    "2000-01-01",
                    "2026-01-15",
                    "-3",
                    "0.00001",
                    "FALSE",
                    "-6",
                    "Beta!",
                    "",
                    "",
                    "",
                ],
            ),
            (4, ["Gamma", "", "", "100000000000000000000", "", "", "", "", "", "", ""]),
        ],
    ),
    "multi_sheet.xlsx": ("xlsx", None, None, ["Read me"], [(2, ["Data is on the next sheets"])]),
    "offset_table.xlsx": (
        "xlsx",
        None,
        None,
        ACC,
        [(4, ["Acme", "acme.com"]), (6, ["Beta", "beta.io"])],
    ),
}

# name -> (substrings of the message, row, column)
PROBLEMS: dict[str, tuple[list[str], int | None, str | None]] = {
    "empty.csv": (["empty.csv is empty (0 bytes)", "Export the data again"], None, None),
    "whitespace_only.csv": (
        ["whitespace_only.csv contains only blank lines or spaces"],
        None,
        None,
    ),
    "header_only.csv": (["header_only.csv has a header row (row 1) but no data rows"], 1, None),
    "xlsx_header_only.xlsx": (["has a header row (row 1) but no data rows"], 1, None),
    "blank_header.csv": (
        [
            "blank_header.csv: header cells are blank in row 1: column B (2), column D (4)",
            "type one in the header row",
        ],
        1,
        "B",
    ),
    "duplicate_headers.csv": (
        [
            '"Name" in columns A (1) and E (5)',
            '"Email" in columns B (2) and D (4)',
            "each header appears once",
        ],
        1,
        "E",
    ),
    "ragged_extra.csv": (
        [
            "ragged_extra.csv, row 3: this row has 4 values but the header (row 1) has 3 columns",
            "extra value in column D (4): '500'",
            "delimiter (comma) without being quoted",
        ],
        3,
        "D",
    ),
    "trailing_column_with_value.csv": (
        ["column C (3) has no header", "e.g. in row 3", "Type a name for the column"],
        1,
        "C",
    ),
    "xlsx_value_without_header.xlsx": (["column D (4) has no header", "row 3"], 1, "D"),
    "unbalanced_quote.csv": (
        [
            'unbalanced_quote.csv, row 3, column C (3): a double quote (") opens a value here and '
            "is never closed",
            "Add the closing quote",
        ],
        3,
        "C",
    ),
    "png_named.csv": (["png_named.csv is a PNG image, not a spreadsheet or CSV file"], None, None),
    "nul_bytes.csv": (
        ["nul_bytes.csv is a binary file, not text (it contains NUL bytes)"],
        None,
        None,
    ),
    "zip_named.csv": (["zip_named.csv is a ZIP archive", "Extract it first"], None, None),
    "html_named.xls": (["is a web page (HTML)", "save it as .xlsx or as CSV"], None, None),
    "corrupt_truncated.xlsx": (
        ["corrupt_truncated.xlsx", "is damaged", "save a new copy"],
        None,
        None,
    ),
    "password_protected.xlsx": (
        ["password_protected.xlsx is password-protected", "save an unprotected copy"],
        None,
        None,
    ),
    "old_format.xls": (
        [
            "old_format.xls is an old-format Excel 97-2003 workbook (.xls)",
            "save it as Excel Workbook (.xlsx) or as CSV",
        ],
        None,
        None,
    ),
    "empty_sheet.xlsx": (
        ["empty_sheet.xlsx: sheet 'Empty' is empty", "(sheets: 'Empty', 'Accounts')"],
        None,
        None,
    ),
}


def test_corpus_is_big_enough_and_fully_covered() -> None:
    files = {p.name for p in DATA.iterdir() if p.name != "make_corpus.py" and p.is_file()}
    files.discard("__pycache__")
    assert len(files) >= 25
    assert files == set(READABLE) | set(PROBLEMS)


def test_committed_corpus_matches_generator(tmp_path: Path) -> None:
    module = _load_make_corpus()
    module.main(tmp_path)
    for generated in tmp_path.iterdir():
        assert (DATA / generated.name).read_bytes() == generated.read_bytes(), generated.name


@pytest.mark.parametrize("name", sorted(READABLE))
def test_readable_file(name: str) -> None:
    fmt, encoding, delimiter, headers, rows = READABLE[name]
    info = sniff(DATA / name)
    assert info.format == fmt
    assert info.encoding == encoding
    assert info.delimiter == delimiter
    assert info.headers == headers
    assert list(iter_rows(info)) == rows


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_problem_file(name: str) -> None:
    fragments, row, column = PROBLEMS[name]
    with pytest.raises(FileProblem) as caught:
        info = sniff(DATA / name)
        list(iter_rows(info))
    problem = caught.value
    for fragment in fragments:
        assert fragment in problem.message
    assert problem.row == row
    assert problem.column == column
    assert problem.path == DATA / name
    assert str(problem) == problem.message
