"""Every path a CLI run writes is checked before its first request (issue 15, findings 1
and 8; issue 19's report-target traps): exit 2, nothing sent, the input untouched."""

from __future__ import annotations

import io
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from recotap_desktop.cli import main
from recotap_desktop.sandbox import DEMO_API_KEY, SandboxServer
from tests.factories import ACCOUNT_HEADERS, account_rows, write_csv
from tests.tmpfs import tmpfs

ENV = {"RECOTAP_API_KEY": DEMO_API_KEY}


def _run(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(args, stdin=io.StringIO(""), stdout=out, stderr=err, env=ENV)
    return code, out.getvalue(), err.getvalue()


def _two_sheet_book(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Accounts"
    ws.append(list(ACCOUNT_HEADERS))
    for row in account_rows(5, prefix="xl"):
        ws.append(row)
    wb.create_sheet("Notes").append(["keep me"])
    wb.save(path)
    return path


def test_the_input_is_never_overwritten_by_the_report(
    small_sandbox: SandboxServer, tmp_path: Path
) -> None:
    book = _two_sheet_book(tmp_path / "book.xlsx")
    csv_in = write_csv(tmp_path / "accounts.csv", ACCOUNT_HEADERS, account_rows(5))
    (tmp_path / "links").mkdir()
    os.link(csv_in, tmp_path / "links" / "hard.csv")
    (tmp_path / "links" / "soft.xlsx").symlink_to(book)
    before = {p: p.read_bytes() for p in (book, csv_in)}
    base = ["--data-dir", str(tmp_path / "d"), "--base-url", small_sandbox.base_url("crm")]
    cases = [
        (book, book), (csv_in, csv_in), (csv_in, tmp_path / "links" / "hard.csv"),
        (book, tmp_path / "links" / "soft.xlsx"),
        # the failures-only file beside the report would be the input
        (write_csv(tmp_path / "in.failures.csv", ACCOUNT_HEADERS, account_rows(3)),
         tmp_path / "in.csv"),
    ]
    for source, report in cases:
        code, _, err = _run([*base, "import", "accounts", str(source), "--yes",
                             "--report", str(report)])
        assert code == 2, err
        assert "input file" in err and "Nothing was sent" in err
        assert "Report:" not in err
    assert {p: p.read_bytes() for p in before} == before
    assert openpyxl.load_workbook(book).sheetnames == ["Accounts", "Notes"]
    assert list(small_sandbox.state.request_log) == []  # not even a GET


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    with tmpfs(tmp_path / "ro", read_only=True) as folder:
        yield folder


def test_report_into_a_read_only_folder_sends_nothing(
    small_sandbox: SandboxServer, tmp_path: Path, read_only_folder: Path
) -> None:
    source = write_csv(tmp_path / "accounts.csv", ACCOUNT_HEADERS, account_rows(5))
    base = ["--data-dir", str(tmp_path / "d"), "--base-url", small_sandbox.base_url("crm")]
    code, _, err = _run([*base, "import", "accounts", str(source), "--yes",
                         "--report", str(read_only_folder / "report.csv")])
    assert code == 2, err
    assert "read-only" in err and "Report:" not in err
    assert list(small_sandbox.state.request_log) == []
    code, _, err = _run([*base, "export", "accounts", str(read_only_folder / "out.csv")])
    assert code == 2 and "read-only" in err
    code, _, err = _run(["--data-dir", str(read_only_folder), "--base-url",
                         small_sandbox.base_url("crm"), "import", "accounts", str(source), "--yes"])
    assert code == 2 and "read-only" in err and "Traceback" not in err
    assert list(small_sandbox.state.request_log) == []


def test_unportable_names_and_the_export_input(
    small_sandbox: SandboxServer, tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "accounts.csv", ACCOUNT_HEADERS, account_rows(5))
    base = ["--data-dir", str(tmp_path / "d"), "--base-url", small_sandbox.base_url("crm")]
    for name in ("CON.csv", "nul.xlsx", "report.csv.", "report.csv "):
        code, _, err = _run([*base, "import", "accounts", str(source), "--yes",
                             "--report", str(tmp_path / name)])
        assert code == 2 and "Windows" in err, err
    domains = tmp_path / "domains.csv"
    domains.write_text("domain\nacme.com\n", encoding="utf-8")
    code, _, err = _run([*base, "export", "accounts", str(domains), "--domains", str(domains)])
    assert code == 2 and "input file" in err
    assert domains.read_text(encoding="utf-8") == "domain\nacme.com\n"
    assert list(small_sandbox.state.request_log) == []


def test_a_target_locked_before_the_run_is_refused_with_another_name(
    small_sandbox: SandboxServer, tmp_path: Path
) -> None:
    """Windows keeps a file open in Excel locked; ``chattr +i`` makes a file that even root
    cannot open for writing, which is what the check meets there."""
    source = write_csv(tmp_path / "accounts.csv", ACCOUNT_HEADERS, account_rows(5))
    report = tmp_path / "report.csv"
    report.write_text("open elsewhere")
    if subprocess.run(["chattr", "+i", str(report)], capture_output=True,
                      check=False).returncode != 0:
        pytest.skip("needs chattr +i (root on a Linux file system that supports it)")
    try:
        base = ["--data-dir", str(tmp_path / "d"), "--base-url", small_sandbox.base_url("crm")]
        code, _, err = _run([*base, "import", "accounts", str(source), "--yes",
                             "--report", str(report)])
    finally:
        subprocess.run(["chattr", "-i", str(report)], check=False)
    assert code == 2, err
    assert "cannot be replaced" in err and "report (2).csv" in err
    assert list(small_sandbox.state.request_log) == []


def test_no_room_for_the_journal_sends_nothing(
    small_sandbox: SandboxServer, tmp_path: Path
) -> None:
    """A data folder on a 6 MiB disk: room for the history, not for the journal of 5 000
    rows (the runner's check, shared by the GUI): refused before it is recorded or sent."""
    with tmpfs(tmp_path / "disk", size="6m") as disk:
        source = write_csv(tmp_path / "accounts.csv", ACCOUNT_HEADERS, account_rows(5000))
        code, _, err = _run(["--data-dir", str(disk / "d"), "--base-url",
                             small_sandbox.base_url("crm"), "import", "accounts", str(source),
                             "--yes"])
        assert code == 2, err
        assert "MB free" in err and "5,000 rows" in err and "Nothing was sent" in err
        assert [r for r in small_sandbox.state.request_log if r.method == "POST"] == []
        code, out, _ = _run(["--data-dir", str(disk / "d"), "history"])
        assert code == 0 and out.strip() == "No runs yet."


def test_a_report_locked_at_the_end_goes_beside_it_and_says_where(
    small_sandbox: SandboxServer, tmp_path: Path
) -> None:
    """The report became locked during the run (Windows: opened in Excel); ``chattr +i``
    makes the final replace fail the same way here. The report goes to ``report (2).csv``
    and the closing lines say so; "Report:" names the file that was written."""
    from types import SimpleNamespace

    from recotap_desktop.cli import _write_reports
    from recotap_desktop.store.history import History

    source = write_csv(tmp_path / "accounts.csv", ACCOUNT_HEADERS, account_rows(5))
    data = tmp_path / "d"
    base = ["--data-dir", str(data), "--base-url", small_sandbox.base_url("crm")]
    assert _run([*base, "import", "accounts", str(source), "--yes"])[0] == 0
    report = tmp_path / "report.csv"
    report.write_text("open in Excel")
    if subprocess.run(["chattr", "+i", str(report)], capture_output=True,
                      check=False).returncode != 0:
        pytest.skip("needs chattr +i (root on a Linux file system that supports it)")
    try:
        with History(data / "data" / "history.sqlite3") as history:
            written = _write_reports(SimpleNamespace(history=history), 1, report)  # type: ignore[arg-type]
    finally:
        subprocess.run(["chattr", "-i", str(report)], check=False)
    lines = written.lines()
    assert report.read_text() == "open in Excel"
    sibling = tmp_path / "report (2).csv"
    assert sibling.read_text(encoding="utf-8-sig").startswith("Record ID")
    assert any("could not be replaced" in line and str(sibling) in line for line in lines)
    assert f"Report: {sibling}" in lines and f"Report: {report}" not in lines


def test_a_backfill_report_locked_at_the_end_names_where_it_went(tmp_path: Path) -> None:
    """The backfill report, like an import's, goes beside a target locked at the end
    (``chattr +i`` here, Excel on Windows), and ``report_path`` says where."""
    from recotap_desktop.engine.backfill import BackfillSession

    report = tmp_path / "backfill.csv"
    report.write_text("open in Excel")
    session = BackfillSession.__new__(BackfillSession)  # only its report is used here
    session.report_rows = lambda: []  # type: ignore[method-assign]
    if subprocess.run(["chattr", "+i", str(report)], capture_output=True,
                      check=False).returncode != 0:
        pytest.skip("needs chattr +i (root on a Linux file system that supports it)")
    try:
        assert session.write_report(report) == 0
    finally:
        subprocess.run(["chattr", "-i", str(report)], check=False)
    assert session.report_path == tmp_path / "backfill (2).csv"
    assert report.read_text() == "open in Excel"
