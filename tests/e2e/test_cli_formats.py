"""Real-world-shaped exports through ``recotap import deals … --dry-run --report``: each
column's date order and decimal mark are decided from its values (or a file hint, or a
flag), and the payload carries exactly the values the file meant (issue 14)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from recotap_desktop.cli import main
from recotap_desktop.sandbox import DEMO_API_KEY, SandboxServer

ENV = {"RECOTAP_API_KEY": DEMO_API_KEY}
HEADERS = ["Deal ID", "Deal Name", "Amount", "Close Date"]


def _write(path: Path, rows: list[list[str]], *, delimiter: str = ",",
           encoding: str = "utf-8") -> Path:
    with path.open("w", newline="", encoding=encoding) as fh:
        writer = csv.writer(fh, delimiter=delimiter)
        writer.writerow(HEADERS)
        writer.writerows(rows)
    return path


def _dry_run(sandbox: SandboxServer, tmp: Path, path: Path, *flags: str) -> tuple[int, str, Path]:
    report = tmp / f"{path.stem}.report.csv"
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["--data-dir", str(tmp / "d"), "--base-url", sandbox.base_url("crm"),
         "import", "deals", str(path), "--dry-run", "--report", str(report), *flags],
        stdin=io.StringIO(""), stdout=out, stderr=err, env=ENV,
    )
    return code, err.getvalue(), report


def _payloads(report: Path) -> dict[str, dict[str, object]]:
    with report.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = {}
    for r in rows:
        assert r["recotap_state"] == "not sent", r
        payload = json.loads(r["recotap_payload"])
        out[payload["externalDealId"]] = payload
    return out


# name → (rows as written, delimiter, encoding, flags, expected (amount, closeDate) by id)
CORPUS: dict[str, tuple[list[list[str]], str, str, tuple[str, ...],
                        dict[str, tuple[object, str]]]] = {
    "US": (
        [["d1", "A", "$77,000", "5/1/2026"], ["d2", "B", "$1,250,000.50", "1/13/2026"],
         ["d3", "C", "$500", "12/31/2026"]],
        ",", "utf-8", (),
        {"d1": (77000, "2026-05-01T00:00:00Z"), "d2": (1250000.5, "2026-01-13T00:00:00Z"),
         "d3": (500, "2026-12-31T00:00:00Z")},
    ),
    "UK": (
        [["d1", "A", "£77,000.00", "05/01/2026"], ["d2", "B", "£1,250", "31/01/2026"]],
        ",", "utf-8", (),
        {"d1": (77000, "2026-01-05T00:00:00Z"), "d2": (1250, "2026-01-31T00:00:00Z")},
    ),
    "German": (
        [["d1", "A", "285.000 €", "05.01.2026"], ["d2", "B", "206.000,25 €", "31.01.2026"],
         ["d3", "C", "1.234.567 €", "01.02.2026"]],
        ";", "utf-8-sig", (),
        {"d1": (285000, "2026-01-05T00:00:00Z"), "d2": (206000.25, "2026-01-31T00:00:00Z"),
         "d3": (1234567, "2026-02-01T00:00:00Z")},
    ),
    "French": (
        [["d1", "A", "1 234,50 €", "05/01/2026"], ["d2", "B", "12\u202f000 €", "02/03/2026"]],
        ";", "utf-8", (),
        {"d1": (1234.5, "2026-01-05T00:00:00Z"), "d2": (12000, "2026-03-02T00:00:00Z")},
    ),
    "Swiss": (
        [["d1", "A", "CHF 1'234.50", "05.01.2026"], ["d2", "B", "CHF 12'000", "13.01.2026"]],
        ",", "utf-8", (),
        {"d1": (1234.5, "2026-01-05T00:00:00Z"), "d2": (12000, "2026-01-13T00:00:00Z")},
    ),
    "ISO": (
        [["d1", "A", "1234.5", "2026-01-05"], ["d2", "B", "99", "2026-01-05T10:30:00+02:00"]],
        ",", "utf-8", (),
        {"d1": (1234.5, "2026-01-05T00:00:00Z"), "d2": (99, "2026-01-05T08:30:00Z")},
    ),
    "flag decides": (
        [["d1", "A", "1.500", "03/04/2026"], ["d2", "B", "2.000", "04/05/2026"]],
        ",", "utf-8", ("--date-order", "MDY", "--decimal", "comma"),
        {"d1": (1500, "2026-03-04T00:00:00Z"), "d2": (2000, "2026-04-05T00:00:00Z")},
    ),
}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_payloads(small_sandbox: SandboxServer, tmp_path: Path, name: str) -> None:
    rows, delimiter, encoding, flags, expected = CORPUS[name]
    path = _write(tmp_path / f"{name}.csv", rows, delimiter=delimiter, encoding=encoding)
    code, err, report = _dry_run(small_sandbox, tmp_path, path, *flags)
    assert code == 0, err
    payloads = _payloads(report)
    assert {k: (p.get("amount"), p.get("closedDate")) for k, p in payloads.items()} == expected
    assert small_sandbox.state.deals == {}


def test_excel_date_serials_in_csv_are_invalid_with_a_hint(
    small_sandbox: SandboxServer, tmp_path: Path
) -> None:
    """A CSV holds the serial number Excel shows for an unformatted date cell: never
    sent as a guess; the row is invalid and the message says how to fix it."""
    path = _write(tmp_path / "serials.csv", [["d1", "A", "10", "46023"]])
    code, err, report = _dry_run(small_sandbox, tmp_path, path)
    assert code == 1, err
    with report.open(encoding="utf-8-sig", newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["recotap_state"] == "invalid"
    assert "“46023”" in row["recotap_message"]
    assert "spreadsheet date number" in row["recotap_message"]


def test_undecidable_columns_exit_2_naming_the_flag(
    small_sandbox: SandboxServer, tmp_path: Path
) -> None:
    path = _write(tmp_path / "undecided.csv",
                  [["d1", "A", "$77,000", "5/1/2026"], ["d2", "B", "$12,500", "3/4/2026"]])
    code, err, report = _dry_run(small_sandbox, tmp_path, path)
    assert code == 2
    assert not report.exists()
    assert "Close Date: needs a choice — no value settles it: 2 values such as 5/1/2026" in err
    assert "Pass --date-order DMY|MDY|YMD" in err
    assert "Amount: needs a choice — no value settles it: 2 values such as $77,000" in err
    assert "Pass --decimal point|comma" in err
    code, err, report = _dry_run(
        small_sandbox, tmp_path, path, "--date-order", "mdy", "--decimal", "point"
    )
    assert code == 0, err
    assert _payloads(report)["d1"]["closedDate"] == "2026-05-01T00:00:00Z"
    assert _payloads(report)["d1"]["amount"] == 77000


def test_contradictory_column_is_reported_once_with_rows_on_each_side(
    small_sandbox: SandboxServer, tmp_path: Path
) -> None:
    path = _write(tmp_path / "mixed.csv",
                  [["d1", "A", "1", "13/1/2026"], ["d2", "B", "2", "1/13/2026"],
                   ["d3", "C", "3", "14/1/2026"]])
    code, err, _ = _dry_run(small_sandbox, tmp_path, path)
    assert code == 2
    assert err.count("contradict") == 1
    assert "rows 2, 4 (such as 13/1/2026) fit only day/month/year" in err
    assert "row 3 (such as 1/13/2026) fits only month/day/year" in err
    code, err, report = _dry_run(small_sandbox, tmp_path, path, "--date-order", "DMY")
    assert code == 1  # the month-first row is invalid, never read another way
    with report.open(encoding="utf-8-sig", newline="") as fh:
        states = {r["Deal ID"]: (r["recotap_state"], r["recotap_message"])
                  for r in csv.DictReader(fh)}
    assert states["d2"][0] == "invalid"
    assert "“1/13/2026” is not a date in the day/month/year order" in states["d2"][1]
    assert states["d1"][0] == states["d3"][0] == "not sent"


def test_semicolon_file_hints_european_conventions(
    small_sandbox: SandboxServer, tmp_path: Path
) -> None:
    """No value settles either column; the file is ;-separated, as Excel writes CSV
    where the decimal mark is a comma: day-first dates and a decimal comma."""
    path = _write(tmp_path / "eu.csv", [["d1", "A", "1.500", "03/04/2026"]], delimiter=";")
    code, err, report = _dry_run(small_sandbox, tmp_path, path)
    assert code == 0, err
    assert "separated by “;”" in err
    assert _payloads(report)["d1"]["amount"] == 1500
    assert _payloads(report)["d1"]["closedDate"] == "2026-04-03T00:00:00Z"


def test_other_columns_of_the_file_hint(small_sandbox: SandboxServer, tmp_path: Path) -> None:
    """Close Date settles nothing, but Create Date in the same file is day-first; Amount
    settles nothing, but the file's dates are month-first (US)."""
    headers = ["Deal ID", "Deal Name", "Amount", "Close Date", "Create Date"]
    path = tmp_path / "hints.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([headers, ["d1", "A", "1500", "03/04/2026", "31/01/2026"]])
    code, err, report = _dry_run(small_sandbox, tmp_path, path)
    assert code == 0, err
    assert "Close Date: day/month/year — no value settles it; the file's other dates are " \
        "day/month/year" in err
    assert _payloads(report)["d1"]["closedDate"] == "2026-04-03T00:00:00Z"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([headers, ["d1", "A", "1,500", "03/04/2026", "1/31/2026"]])
    code, err, report = _dry_run(small_sandbox, tmp_path, path)
    assert code == 0, err
    assert "Amount: decimal point — no value settles it; the file's dates are month-first" in err
    assert _payloads(report)["d1"]["amount"] == 1500
    assert _payloads(report)["d1"]["closedDate"] == "2026-03-04T00:00:00Z"


def test_encoding_and_delimiter_flags(small_sandbox: SandboxServer, tmp_path: Path) -> None:
    path = _write(tmp_path / "pipes.csv", [["d1", "Café", "12,50", "31/01/2026"]],
                  delimiter="|", encoding="cp1252")
    code, err, report = _dry_run(
        small_sandbox, tmp_path, path, "--encoding", "cp1252", "--delimiter", "|"
    )
    assert code == 0, err
    payload = _payloads(report)["d1"]
    assert (payload["name"], payload["amount"]) == ("Café", 12.5)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_failures_file_edited_and_imported_again_sends_the_original_values(
    small_sandbox: SandboxServer, tmp_path: Path, suffix: str
) -> None:
    """Formula-like values (neutralised in the CSV failures file, typed as text in
    XLSX) reach the server exactly as in the original file after the round trip."""
    import openpyxl

    path = _write(tmp_path / "deals.csv", [
        ["=dl5", "+x", "12abc", "2026-01-05"],
        ["dl6", "-y", "100 TBD", "2026-01-06"],
        ["'dl7", "@z", "7", "2026-01-07"],
    ])
    base = ["--data-dir", str(tmp_path / "d"), "--base-url", small_sandbox.base_url("crm")]
    report = tmp_path / f"run{suffix}"

    def run(*args: str) -> tuple[int, str]:
        err = io.StringIO()
        code = main([*base, *args], stdin=io.StringIO(""), stdout=io.StringIO(), stderr=err,
                    env=ENV)
        return code, err.getvalue()

    code, err = run("import", "deals", str(path), "--yes", "--report", str(report))
    assert code == 1, err  # two rows invalid: "12abc" and "100 TBD" are not numbers
    assert set(small_sandbox.state.deals) == {"'dl7"}
    failures = tmp_path / f"run.failures{suffix}"
    fixed = {"12abc": "12", "100 TBD": "100"}
    if suffix == ".csv":
        with failures.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
        assert rows[1][:2] == ["'=dl5", "'+x"]  # neutralised for spreadsheets
        for row in rows[1:]:
            row[2] = fixed[row[2]]
        with failures.open("w", encoding="utf-8-sig", newline="") as fh:
            csv.writer(fh).writerows(rows)
    else:
        wb = openpyxl.load_workbook(failures)
        ws = wb.active
        assert [c.value for c in ws[2]][:2] == ["=dl5", "+x"]  # text cells, no apostrophe
        assert ws["A2"].data_type == "s"
        for (cell,) in ws.iter_rows(min_row=2, min_col=3, max_col=3):
            cell.value = fixed[cell.value]
        wb.save(failures)
    code, err = run("import", "deals", str(failures), "--yes")
    assert code == 0, err
    deals = small_sandbox.state.deals
    assert set(deals) == {"=dl5", "dl6", "'dl7"}
    assert (deals["=dl5"]["name"], deals["=dl5"]["amount"]) == ("+x", 12)
    assert (deals["dl6"]["name"], deals["dl6"]["amount"]) == ("-y", 100)
    assert deals["'dl7"]["name"] == "@z"


def test_a_real_run_report_shows_each_value_as_read_beside_the_value_as_sent(
    tmp_path: Path,
) -> None:
    """Issue 14: the report of a real run carries the value as sent next to the value as
    read, so a day-first date or a decimal comma can be checked against what the server
    received, row by row."""
    path = _write(tmp_path / "uk.csv", [["d1", "A", "£77,000.50", "05/01/2026"],
                                        ["d2", "B", "£1,250", "31/01/2026"]])
    report = tmp_path / "uk.report.csv"
    with SandboxServer(port=0, accounts=0) as sandbox:
        out, err = io.StringIO(), io.StringIO()
        code = main(
            ["--data-dir", str(tmp_path / "d"), "--base-url", sandbox.base_url("crm"),
             "import", "deals", str(path), "--yes", "--report", str(report)],
            stdin=io.StringIO(""), stdout=out, stderr=err, env=ENV,
        )
        assert code == 0, err.getvalue()
        stored = dict(sandbox.state.deals)
    with report.open(encoding="utf-8-sig", newline="") as fh:
        rows = {r["Deal ID"]: r for r in csv.DictReader(fh)}
    assert set(rows) == {"d1", "d2"}
    for deal_id, amount, date in (("d1", 77000.5, "2026-01-05T00:00:00Z"),
                                  ("d2", 1250, "2026-01-31T00:00:00Z")):
        row = rows[deal_id]
        assert row["recotap_state"] == "upserted"
        sent = json.loads(row["recotap_payload"])
        assert (sent["amount"], sent["closedDate"]) == (amount, date)
        # what the report says was sent is what the server holds
        assert (stored[deal_id]["amount"], stored[deal_id]["closedDate"]) == (amount, date)
    assert (rows["d1"]["Amount"], rows["d1"]["Close Date"]) == ("£77,000.50", "05/01/2026")
