"""Property: rows written with TableWriter (CSV) read back identically via sniff/iter_rows."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recotap_desktop.files import TableWriter, iter_rows, neutralise, sniff

# Any text a CRM might hold, except NUL (a NUL byte marks a file as binary) and
# surrogates (not encodable). Includes quotes, delimiters, CR/LF, formula triggers.
ANY_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=30,
)
# Without the other candidate delimiters, so that detection cannot be fooled by a
# table whose every row happens to split more consistently on ";", tab or "|".
PLAIN_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00;\t|"),
    max_size=30,
)


def _header(text: st.SearchStrategy[str]) -> st.SearchStrategy[list[str]]:
    cell = text.map(str.strip).filter(lambda h: h and not h.startswith("\ufeff"))
    return st.lists(cell, min_size=2, max_size=5, unique_by=str.casefold)


@st.composite
def tables(draw: st.DrawFn, text: st.SearchStrategy[str]) -> tuple[list[str], list[list[str]]]:
    headers = draw(_header(text))
    row = st.lists(text, min_size=len(headers), max_size=len(headers)).filter(
        lambda r: any(v.strip() for v in r)  # blank rows are skipped by design
    )
    return headers, draw(st.lists(row, min_size=1, max_size=8))


def _roundtrip(
    headers: list[str], rows: list[list[str]], delimiter: str | None
) -> list[tuple[int, list[str]]]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.csv"
        with TableWriter.open(path, headers) as writer:
            for row in rows:
                writer.write_row(row)
        info = sniff(path, delimiter=delimiter)
        assert info.headers == [neutralise(h).strip() for h in headers]
        assert info.encoding == "utf-8-sig"
        return list(iter_rows(info))


def _expected(rows: list[list[str]]) -> list[tuple[int, list[str]]]:
    return [(i + 2, [neutralise(v) for v in row]) for i, row in enumerate(rows)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(PLAIN_TEXT))
def test_csv_roundtrip_with_detection(table: tuple[list[str], list[list[str]]]) -> None:
    headers, rows = table
    assert _roundtrip(headers, rows, None) == _expected(rows)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(ANY_TEXT))
def test_csv_roundtrip_any_text_known_delimiter(table: tuple[list[str], list[list[str]]]) -> None:
    headers, rows = table
    assert _roundtrip(headers, rows, ",") == _expected(rows)
