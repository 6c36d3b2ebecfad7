"""The ``recotap`` CLI against the sandbox over real sockets: faults, crash and resume."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from recotap_desktop.cli import main
from recotap_desktop.sandbox import DEMO_API_KEY, SandboxServer
from tests.factories import ACCOUNT_HEADERS, DEAL_HEADERS, account_rows, deal_rows, write_csv

ENV = {"RECOTAP_API_KEY": DEMO_API_KEY}


def _run(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(args, stdin=io.StringIO(""), stdout=out, stderr=err, env=env or ENV)
    return code, out.getvalue(), err.getvalue()


def _report(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_import_with_faults_accounts_for_every_row(
    small_sandbox: SandboxServer, tmp_path: Path
) -> None:
    n = 5000
    rows = account_rows(n, prefix="flt")
    rows[10][2] = "bad domain"  # one invalid row, never sent
    path = write_csv(tmp_path / "accounts.csv", ACCOUNT_HEADERS, rows)
    small_sandbox.faults.update(
        rate_5xx=0.10,
        rate_429=0.05,
        rate_drop_before=0.03,
        rate_drop_after=0.02,
        retry_after=0.05,
        seed=11,
    )
    report = tmp_path / "report.csv"
    base = ["--data-dir", str(tmp_path / "d"), "--base-url", small_sandbox.base_url("crm")]
    code, _out, err = _run([*base, "import", "accounts", str(path), "--yes", "--report",
                            str(report)])
    # One batch in a few hundred meets six failed attempts in a row at these rates and the
    # run stops (exit 3) with its rows accounted for; then the user resumes it, as here.
    for _ in range(3):
        if code != 3:
            break
        found = re.search(r"recotap resume (\d+)", err)
        assert found is not None, err
        code, _out, err = _run([*base, "resume", found.group(1), "--report", str(report)])
    assert code == 1, err  # one invalid row
    assert sum(small_sandbox.state.fault_counts.values()) > 0
    lines = _report(report)
    assert [int(r["recotap_row"]) for r in lines] == list(range(2, n + 2))  # each row exactly once
    states = Counter(r["recotap_state"] for r in lines)
    assert states == {"created": n - 1, "invalid": 1}
    by_ext = {r["Record ID"]: r for r in lines}
    for i, row in enumerate(rows):
        acc = small_sandbox.state.account_by_external_id(row[0])
        if i == 10:
            assert acc is None
            assert by_ext[row[0]]["recotap_state"] == "invalid"
        else:
            assert acc is not None and acc["name"] == row[1]
            assert by_ext[row[0]]["recotap_rtp_aid"] == acc["rtp_aid"]
    # The failures-only file holds just the invalid row, with the input columns first.
    failures = _report(tmp_path / "report.failures.csv")
    assert [f["Record ID"] for f in failures] == [rows[10][0]]
    assert list(failures[0])[:4] == list(ACCOUNT_HEADERS)


def test_exit_codes(small_sandbox: SandboxServer, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "deals.csv", DEAL_HEADERS, deal_rows(20))
    base = ["--data-dir", str(tmp_path / "d"), "--base-url", small_sandbox.base_url("crm")]
    assert _run([*base, "import", "deals", str(path), "--yes"])[0] == 0
    code, _, err = _run(
        [*base, "import", "deals", str(path), "--yes"], env={"RECOTAP_API_KEY": "wrong"}
    )
    assert code == 3 and "API access may" in err
    code, _, err = _run([*base, "import", "deals", str(tmp_path / "missing.csv"), "--yes"])
    assert code == 2 and "missing.csv" in err
    unmappable = write_csv(tmp_path / "x.csv", ["Foo", "Bar"], [["1", "2"]])
    code, _, err = _run([*base, "import", "deals", str(unmappable), "--yes"])
    assert code == 2 and "required" in err
    code, _, err = _run(
        [
            "--data-dir",
            str(tmp_path / "d"),
            "--base-url",
            "http://127.0.0.1:9/api/v1/crm/",
            "import",
            "deals",
            str(path),
            "--yes",
        ]
    )
    assert code == 3
    assert DEMO_API_KEY not in err


def test_dry_run_sends_nothing(small_sandbox: SandboxServer, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "deals.csv", DEAL_HEADERS, deal_rows(30))
    report = tmp_path / "dry.csv"
    code, _, err = _run(
        [
            "--data-dir",
            str(tmp_path / "d"),
            "--base-url",
            small_sandbox.base_url("crm"),
            "import",
            "deals",
            str(path),
            "--dry-run",
            "--report",
            str(report),
        ]
    )
    assert code == 0, err  # every row would be sent
    assert small_sandbox.state.deals == {}
    assert not (tmp_path / "dry.failures.csv").exists()
    lines = _report(report)
    assert len(lines) == 30 and {r["recotap_state"] for r in lines} == {"not sent"}
    assert all('"externalDealId"' in r["recotap_payload"] for r in lines)


def _created_by_kill_run(server: SandboxServer) -> list[dict]:
    """The accounts the killed run (external IDs ``kill-…``) created in the sandbox."""
    return [
        a
        for a in server.state.all_accounts()
        if str(a.get("externalId", "")).startswith("kill-")
    ]


def _step_kill_mid_run(server: SandboxServer, data: Path, path: Path, n: int) -> None:
    """Step 1: a slow import started in a subprocess is SIGKILLed after a few batches;
    some, not all, of its rows were created."""
    server.faults.update(latency=0.15)
    args = [
        "--data-dir",
        str(data),
        "--base-url",
        server.base_url("crm"),
        "import",
        "accounts",
        str(path),
        "--yes",
        "--concurrency",
        "2",
    ]
    env = {**os.environ, **ENV}
    proc = subprocess.Popen(
        [sys.executable, "-m", "recotap_desktop.cli", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            posts = [r for r in server.state.request_log if r.method == "POST"]
            if len(posts) >= 6:
                break
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            time.sleep(0.01)
        proc.kill()  # SIGKILL on POSIX, TerminateProcess on Windows: no clean-up runs
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
        if proc.stderr is not None:
            proc.stderr.close()
    created_before = len(_created_by_kill_run(server))
    assert 0 < created_before < n


def _step_resume(server: SandboxServer, data: Path, report: Path) -> list[dict[str, str]]:
    """Step 2: ``recotap resume 1`` finishes the killed run; returns its report's lines."""
    server.faults.update(latency=0.0)
    code, _, err = _run(
        [
            "--data-dir",
            str(data),
            "--base-url",
            server.base_url("crm"),
            "resume",
            "1",
            "--report",
            str(report),
        ]
    )
    assert code == 0, err
    return _report(report)


def _step_every_row_created_once(
    server: SandboxServer, lines: list[dict[str, str]], n: int
) -> None:
    """Step 3: every row is in the report once, created, and in Recotap exactly once."""
    assert [int(r["recotap_row"]) for r in lines] == list(range(2, n + 2))
    assert {r["recotap_state"] for r in lines} == {"created"}
    created = _created_by_kill_run(server)
    assert len(created) == n
    assert len({a["externalId"] for a in created}) == n


@pytest.mark.slow
def test_sigkill_mid_run_then_resume(small_sandbox: SandboxServer, tmp_path: Path) -> None:
    n = 3000
    rows = account_rows(n, prefix="kill")
    path = write_csv(tmp_path / "accounts.csv", ACCOUNT_HEADERS, rows)
    data = tmp_path / "d"
    _step_kill_mid_run(small_sandbox, data, path, n)
    lines = _step_resume(small_sandbox, data, tmp_path / "after.csv")
    _step_every_row_created_once(small_sandbox, lines, n)


def test_mapping_template_and_constant(small_sandbox: SandboxServer, tmp_path: Path) -> None:
    from recotap_desktop.records import ColumnMapping

    path = write_csv(
        tmp_path / "deals.csv", ["ID", "Title", "Value"], [["x-1", "Deal one", "1,500"]]
    )
    template = tmp_path / "mapping.json"
    ColumnMapping(
        {"externalDealId": "ID", "name": "Title", "amount": "Value"},
        {"ownerEmail": "owner@yourcompany.example"},
        {"amount": "point"},  # "1,500" alone could be 1.5: the template says how to read it
    ).save(template)
    code, _, err = _run(
        [
            "--data-dir",
            str(tmp_path / "d"),
            "--base-url",
            small_sandbox.base_url("crm"),
            "import",
            "deals",
            str(path),
            "--mapping",
            str(template),
            "--yes",
        ]
    )
    assert code == 0, err
    deal = small_sandbox.state.deals["x-1"]
    assert deal["amount"] == 1500 and deal["ownerEmail"] == "owner@yourcompany.example"
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    code, _, err = _run(
        [
            "--data-dir",
            str(tmp_path / "d"),
            "--base-url",
            small_sandbox.base_url("crm"),
            "import",
            "deals",
            str(path),
            "--mapping",
            str(bad),
            "--yes",
        ]
    )
    assert code == 2 and "not valid JSON" in err


def test_bad_report_path_and_unknown_run_fail_before_sending(
    small_sandbox: SandboxServer, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "deals.csv", DEAL_HEADERS, deal_rows(5))
    base = ["--data-dir", str(tmp_path / "d"), "--base-url", small_sandbox.base_url("crm")]
    for target in (tmp_path / "nodir" / "x.csv", tmp_path / "x.pdf"):
        code, _, err = _run([*base, "import", "deals", str(path), "--yes", "--report", str(target)])
        assert code == 2 and "--report" in err
    assert small_sandbox.state.deals == {}
    for command in (["history", "999"], ["resume", "999"], ["retry", "999"]):
        code, _, err = _run([*base, *command])
        assert code == 2 and "no run 999" in err


def test_report_of_a_changed_file_drops_the_input_columns(
    small_sandbox: SandboxServer, tmp_path: Path
) -> None:
    rows = deal_rows(5)
    path = write_csv(tmp_path / "deals.csv", DEAL_HEADERS, rows)
    base = ["--data-dir", str(tmp_path / "d"), "--base-url", small_sandbox.base_url("crm")]
    assert _run([*base, "import", "deals", str(path), "--yes"])[0] == 0
    write_csv(path, DEAL_HEADERS, list(reversed(rows)))  # same rows, other order
    report = tmp_path / "after.csv"
    code, _, err = _run([*base, "history", "1", "--report", str(report)])
    assert code == 0, err
    lines = _report(report)
    assert "Deal ID" not in lines[0]  # never pair outcomes with the wrong input rows
    assert [r["recotap_externalDealId"] for r in lines] == [r[0] for r in rows]


def test_fields_create_checks_locally_and_reports_conflicts(
    small_sandbox: SandboxServer, tmp_path: Path
) -> None:
    base = ["--data-dir", str(tmp_path / "d"), "--base-url", small_sandbox.base_url("crm")]
    before = len(small_sandbox.state.request_log)
    code, _, err = _run([*base, "fields", "create", "Tier", "--type", "singleSelection"])
    assert code == 2 and "--option" in err
    assert len(small_sandbox.state.request_log) == before
    code, out, err = _run(
        [
            *base,
            "fields",
            "create",
            "Deal Tier",
            "--type",
            "singleSelection",
            "--option",
            "Gold",
            "--option",
            "Silver",
        ]
    )
    assert code == 0 and "DEAL_TIER_C" in out, err
    code, _, err = _run([*base, "fields", "create", "deal tier", "--type", "number"])
    assert code == 2 and "DEAL_TIER_C already exists" in err
