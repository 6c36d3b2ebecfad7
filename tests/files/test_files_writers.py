"""TableWriter and neutralise: formula safety, formats, atomic replace."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from openpyxl import load_workbook

from recotap_desktop.files import TableWriter, iter_rows, neutralise, sniff


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=SUM(A1:A2)", "'=SUM(A1:A2)"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(1)", "'@SUM(1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("+44 20 7946 0958", "'+44 20 7946 0958"),
        ("-", "'-"),
        # plain numbers stay numbers
        ("-12.5", "-12.5"),
        ("+3", "+3"),
        ("-1e5", "-1e5"),
        ("-0,75", "-0,75"),
        # harmless text is unchanged
        ("Acme", "Acme"),
        ("a=b", "a=b"),
        ("", ""),
        # an apostrophe of its own is doubled, so that reading back removes exactly one
        ("'quoted", "''quoted"),
    ],
)
def test_neutralise(value: str, expected: str) -> None:
    assert neutralise(value) == expected


def test_csv_format(tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    with TableWriter.open(path, ["Row", "Status", "Message"]) as writer:
        writer.write_row([2, "created", '=HYPERLINK("x")'])
        writer.write_row([3, None, 'a "quoted", value'])
        writer.write_row([4.0, True, dt.date(2026, 1, 15)])
    assert writer.rows_written == 3
    assert path.read_bytes() == (
        b"\xef\xbb\xbfRow,Status,Message\r\n"
        b'2,created,"\'=HYPERLINK(""x"")"\r\n'
        b'3,,"a ""quoted"", value"\r\n'
        b"4,TRUE,2026-01-15\r\n"
    )
    assert [p.name for p in tmp_path.iterdir()] == ["report.csv"]


@pytest.mark.parametrize("suffix", [".tsv", ".txt"])
def test_tab_separated(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"out{suffix}"
    with TableWriter.open(path, ["A", "B"]) as writer:
        writer.write_row(["x, y", "z"])
    assert path.read_bytes() == b"\xef\xbb\xbfA\tB\r\nx, y\tz\r\n"
    info = sniff(path)
    assert info.delimiter == "\t"
    assert list(iter_rows(info)) == [(2, ["x, y", "z"])]


def test_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "export.xlsx"
    with TableWriter.open(
        path, ["Name", "Score", "Ratio", "Formula", "Flag", "Ctl"], sheet_title="Accounts"
    ) as writer:
        writer.write_row(["Acme", 75, 0.5, "=1+1", True, "a\x00b\x1fc"])
        writer.write_row([None, -3, -1.5, "-12.5", False, "@x"])
    wb = load_workbook(path)
    ws = wb["Accounts"]
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert values == [
        ["Name", "Score", "Ratio", "Formula", "Flag", "Ctl"],
        ["Acme", 75, 0.5, "=1+1", True, "abc"],
        [None, -3, -1.5, "-12.5", False, "@x"],
    ]
    # text typed as text: never a formula, and no apostrophe that would be read back
    assert ws["D2"].data_type == "s" and ws["F3"].data_type == "s"
    info = sniff(path)
    assert info.sheet == "Accounts"
    assert list(iter_rows(info)) == [
        (2, ["Acme", "75", "0.5", "=1+1", "TRUE", "abc"]),
        (3, ["", "-3", "-1.5", "-12.5", "FALSE", "@x"]),
    ]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_atomic_on_error_keeps_the_old_file(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"report{suffix}"
    path.write_bytes(b"old contents")
    with pytest.raises(RuntimeError), TableWriter.open(path, ["A"]) as writer:
        writer.write_row(["new"])
        raise RuntimeError("boom")
    assert path.read_bytes() == b"old contents"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_atomic_replace_on_success(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"report{suffix}"
    path.write_bytes(b"old contents")
    writer = TableWriter.open(path, ["A"])
    writer.write_row(["new"])
    assert path.read_bytes() == b"old contents"  # nothing visible until close()
    writer.close()
    writer.close()  # idempotent
    assert list(iter_rows(sniff(path))) == [(2, ["new"])]
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_abort(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    writer = TableWriter.open(path, ["A"])
    writer.abort()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="closed"):
        writer.write_row(["a"])


def test_misuse(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.csv, \.tsv, \.txt or \.xlsx"):
        TableWriter.open(tmp_path / "x.json", ["A"])
    with (
        TableWriter.open(tmp_path / "x.csv", ["A", "B"]) as writer,
        pytest.raises(ValueError, match="expected 2"),
    ):
        writer.write_row(["only one"])
    with pytest.raises(FileNotFoundError):
        TableWriter.open(tmp_path / "missing-dir" / "x.csv", ["A"])


@pytest.mark.parametrize("suffix", [".csv", ".tsv"])
def test_a_report_read_back_gives_the_values_written(tmp_path: Path, suffix: str) -> None:
    """A file with this app's recotap_ columns is read back without the neutralising
    apostrophes: every value comes back exactly as it was written (issue 14)."""
    values = ["+x", "=dl5", "'quoted", "''two", "-", "-12.5", "@a", "plain", "\t=1"]
    path = tmp_path / f"failures{suffix}"
    with TableWriter.open(path, ["Name", "recotap_row", "recotap_state"]) as writer:
        for i, v in enumerate(values):
            writer.write_row([v, i + 2, "failed"])
    read = [row[0] for _, row in iter_rows(sniff(path))]
    assert read == values
    # the same cells in a file without the recotap_ columns are read as they stand
    other = tmp_path / f"other{suffix}"
    with TableWriter.open(other, ["Name"]) as writer:
        writer.write_row(["+x"])
    assert [row[0] for _, row in iter_rows(sniff(other))] == ["'+x"]


@pytest.mark.posix_only(reason="file modes are POSIX permissions")
def test_files_for_the_user_get_the_umask_mode_or_keep_the_replaced_files(tmp_path):
    """A report is the user's file, not the app's: 0644 under umask 022 (mkstemp alone
    gives 0600, which colleagues in a shared folder cannot read); a file it replaces keeps
    its own permissions."""
    import stat as _stat

    old = os.umask(0o022)
    try:
        for name in ("new.csv", "new.xlsx"):
            with TableWriter.open(tmp_path / name, ["a"]) as writer:
                writer.write_row(["1"])
            assert _stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644, name
        kept = tmp_path / "kept.csv"
        kept.write_text("x")
        kept.chmod(0o640)
        with TableWriter.open(kept, ["a"]) as writer:
            writer.write_row(["1"])
        assert _stat.S_IMODE(kept.stat().st_mode) == 0o640
    finally:
        os.umask(old)
