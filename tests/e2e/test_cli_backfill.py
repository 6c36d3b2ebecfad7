"""``recotap unmapped`` and ``recotap backfill`` against the sandbox over real sockets."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from recotap_desktop.cli import main
from recotap_desktop.sandbox import DEMO_API_KEY, Faults, SandboxServer
from tests.helpers.backfill import Dataset, build_dataset

ENV = {"RECOTAP_API_KEY": DEMO_API_KEY}


class _Terminal(io.StringIO):
    """A stdin that claims to be a terminal and runs ``before`` when read."""

    def __init__(self, text: str, before: Callable[[], None] | None = None) -> None:
        super().__init__(text)
        self.before = before

    def isatty(self) -> bool:
        return True

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        if self.before is not None:
            self.before()
        return super().readline(size if size is not None else -1)


def _run(
    args: list[str], stdin: io.StringIO | None = None, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(args, stdin=stdin or io.StringIO(""), stdout=out, stderr=err, env=env or ENV)
    return code, out.getvalue(), err.getvalue()


def _report(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def empty_sandbox() -> Iterator[SandboxServer]:
    server = SandboxServer(port=0, accounts=0, faults=Faults(seed=8)).start()
    try:
        yield server
    finally:
        server.stop()


def _base(server: SandboxServer, tmp_path: Path, edition: str = "crm") -> list[str]:
    args = ["--data-dir", str(tmp_path / "d"), "--base-url", server.base_url(edition)]
    if edition != "crm":
        args += ["--edition", edition]
    return args


def _external_ids(server: SandboxServer) -> dict[str, str | None]:
    return {a["domain"]: a["externalId"] for a in server.state.all_accounts()}


# ---------------------------------------------------------------- unmapped
def test_unmapped_shows_at_most_100_and_says_so(
    empty_sandbox: SandboxServer, tmp_path: Path
) -> None:
    empty_sandbox.state.add_accounts(
        [{"name": f"Company {i}", "domain": f"company{i}.example.com"} for i in range(150)]
    )
    code, out, err = _run([*_base(empty_sandbox, tmp_path), "unmapped"])
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "DOMAIN"] and len(lines) == 101
    assert lines[1].split() == ["Company", "0", "company0.example.com"]
    assert "at most 100 at a time" in err and "reveals the next ones" in err

    out_file = tmp_path / "unmapped.csv"
    code, out, err = _run(
        [*_base(empty_sandbox, tmp_path), "unmapped", "--all", "--out", str(out_file)]
    )
    assert code == 0, err
    assert out == ""
    rows = _report(out_file)
    assert len(rows) == 150 and {r["domain"] for r in rows} == {
        f"company{i}.example.com" for i in range(150)
    }
    assert "150 accounts have no external ID" in err


def test_unmapped_with_few_accounts_shows_all(empty_sandbox: SandboxServer, tmp_path: Path) -> None:
    empty_sandbox.state.add_accounts([{"name": "Solo", "domain": "solo.example.com"}])
    out_file = tmp_path / "unmapped.xlsx"
    code, _out, err = _run(
        [*_base(empty_sandbox, tmp_path, "external"), "unmapped", "--out", str(out_file)]
    )
    assert code == 0, err
    assert "All 1 accounts without an external ID are shown" in err
    from openpyxl import load_workbook

    ws = load_workbook(out_file).active
    assert ws is not None
    assert [tuple(r) for r in ws.iter_rows(values_only=True)] == [
        ("name", "domain"),
        ("Solo", "solo.example.com"),
    ]


# ---------------------------------------------------------------- backfill
def _step_backfill_domain_matches(
    server: SandboxServer, tmp_path: Path, crm: Path, ds: Dataset
) -> None:
    """Step 1: a plain ``recotap backfill`` writes the domain matches only, and reports
    every account with its fate."""
    report = tmp_path / "report.csv"
    code, _out, err = _run(
        [*_base(server, tmp_path), "backfill", str(crm), "--report", str(report)]
    )
    assert code == 0, err
    assert "matched by domain: 1,700" in err
    assert "matched by company name only: 150 (not sent: add --include-name-matches)" in err
    assert "ambiguous (never sent automatically): 50" in err
    assert "no match: 100" in err
    assert "at most 100 at a time" in err
    ids = _external_ids(server)
    assert {d: ids[d] for d in ds.domain} == ds.domain
    assert all(ids[d] is None for d in (*ds.name, *ds.ambiguous, *ds.none))
    rows = _report(report)
    assert len(rows) == 2000
    assert Counter((r["match"], r["recotap_state"]) for r in rows) == {
        ("domain", "updated"): 1700,
        ("name", "skipped"): 150,
        ("ambiguous", "skipped"): 50,
        ("none", "skipped"): 100,
    }


def _step_backfill_name_matches(
    server: SandboxServer, tmp_path: Path, crm: Path, ds: Dataset
) -> None:
    """Step 2: again with ``--include-name-matches``: the name matches are written too; the
    xlsx report lists the accounts still left."""
    report2 = tmp_path / "report2.xlsx"
    code, _out, err = _run(
        [
            *_base(server, tmp_path),
            "backfill",
            str(crm),
            "--include-name-matches",
            "--report",
            str(report2),
        ]
    )
    assert code == 0, err
    ids = _external_ids(server)
    assert {d: ids[d] for d in ds.name} == ds.name
    assert {d: ids[d] for d in ds.domain} == ds.domain
    assert server.state.counts()["accounts_without_external_id"] == 150
    from openpyxl import load_workbook

    ws = load_workbook(report2).active
    assert ws is not None
    values = list(ws.iter_rows(values_only=True))
    header = list(values[0])
    match_col, state_col = header.index("match"), header.index("recotap_state")
    assert Counter((r[match_col], r[state_col]) for r in values[1:]) == {
        ("name", "updated"): 150,
        ("ambiguous", "skipped"): 50,
        ("none", "skipped"): 100,
    }


def _step_two_id_mapping_runs_in_history(server: SandboxServer, tmp_path: Path) -> None:
    """Step 3: both runs are ordinary id-mappings runs in the history."""
    code, out, _err = _run([*_base(server, tmp_path), "history"])
    assert code == 0 and out.count("id-mappings") == 2


def test_backfill_domain_matches_then_name_matches(
    empty_sandbox: SandboxServer, tmp_path: Path
) -> None:
    ds = build_dataset()
    empty_sandbox.state.add_accounts(ds.accounts)
    crm = ds.write_crm(tmp_path / "hubspot-companies.csv")
    _step_backfill_domain_matches(empty_sandbox, tmp_path, crm, ds)
    _step_backfill_name_matches(empty_sandbox, tmp_path, crm, ds)
    _step_two_id_mapping_runs_in_history(empty_sandbox, tmp_path)


def test_backfill_external_edition_with_mapping_file(
    empty_sandbox: SandboxServer, tmp_path: Path
) -> None:
    ds = build_dataset(120, 30, 4, 4, 2, 10)
    empty_sandbox.state.add_accounts(ds.accounts)
    crm = ds.write_crm(tmp_path / "crm.csv", headers=("Key", "Label", "Site", "Notes"))
    mapping = tmp_path / "mapping.json"
    mapping.write_text(
        json.dumps({"columns": {"externalId": "Key", "name": "Label", "domain": "Site"}}),
        encoding="utf-8",
    )
    code, _out, err = _run(
        [
            *_base(empty_sandbox, tmp_path, "external"),
            "backfill",
            str(crm),
            "--mapping",
            str(mapping),
            "--include-name-matches",
        ]
    )
    assert code == 0, err
    assert "External ID <- column 'Key'" in err
    ids = _external_ids(empty_sandbox)
    assert {d: ids[d] for d in (*ds.domain, *ds.name)} == {**ds.domain, **ds.name}
    assert empty_sandbox.state.counts()["accounts_without_external_id"] == len(ds.ambiguous) + 10
    assert len(ds.ambiguous) == 12


def test_backfill_dry_run_sends_nothing(empty_sandbox: SandboxServer, tmp_path: Path) -> None:
    ds = build_dataset(60, 10, 2, 2, 1, 5)
    empty_sandbox.state.add_accounts(ds.accounts)
    report = tmp_path / "dry.csv"
    code, _out, err = _run(
        [
            *_base(empty_sandbox, tmp_path),
            "backfill",
            str(ds.write_crm(tmp_path / "crm.csv")),
            "--dry-run",
            "--include-name-matches",
            "--report",
            str(report),
        ]
    )
    assert code == 0, err
    assert "Dry run: 70 external IDs would be written" in err
    assert all(v is None for v in _external_ids(empty_sandbox).values())
    assert Counter(r["recotap_state"] for r in _report(report)) == {"not sent": 70, "skipped": 11}


def test_backfill_asks_once_and_a_no_sends_nothing(
    empty_sandbox: SandboxServer, tmp_path: Path
) -> None:
    ds = build_dataset(30, 0, 0, 0, 0, 0)
    empty_sandbox.state.add_accounts(ds.accounts)
    crm = ds.write_crm(tmp_path / "crm.csv")
    code, _out, err = _run(
        [*_base(empty_sandbox, tmp_path), "backfill", str(crm)], stdin=_Terminal("n\n")
    )
    assert code == 130, err
    assert "Write 30 external IDs to 127.0.0.1" in err
    assert "overwrites an existing external ID without warning" in err
    assert "Nothing was sent." in err
    assert all(v is None for v in _external_ids(empty_sandbox).values())

    code, _out, err = _run(
        [*_base(empty_sandbox, tmp_path), "backfill", str(crm)], stdin=_Terminal("y\n")
    )
    assert code == 0, err
    assert err.count("[y/N]") == 1
    assert {d: v for d, v in _external_ids(empty_sandbox).items()} == ds.domain


def test_backfill_domain_gone_before_sending_exits_1(
    empty_sandbox: SandboxServer, tmp_path: Path
) -> None:
    ds = build_dataset(10, 0, 0, 0, 0, 0)
    empty_sandbox.state.add_accounts(ds.accounts)
    state = empty_sandbox.state

    def delete_one_account() -> None:
        # Someone deletes an account in Recotap while the user reads the question.
        with state.lock:
            aid = state._by_domain.pop("dom3.example.com")
            state.accounts.pop(aid)
            state._aids.remove(aid)

    report = tmp_path / "r.csv"
    code, _out, err = _run(
        [
            *_base(empty_sandbox, tmp_path),
            "backfill",
            str(ds.write_crm(tmp_path / "crm.csv")),
            "--report",
            str(report),
        ],
        stdin=_Terminal("yes\n", before=delete_one_account),
    )
    assert code == 1, err
    rows = {r["recotap_domain"]: r for r in _report(report)}
    assert rows["dom3.example.com"]["recotap_state"] == "failed"
    assert "No Recotap account has the domain" in rows["dom3.example.com"]["recotap_message"]
    assert Counter(r["recotap_state"] for r in rows.values()) == {"updated": 9, "failed": 1}


def test_backfill_bad_input_exits_2_without_requests(
    empty_sandbox: SandboxServer, tmp_path: Path
) -> None:
    crm = tmp_path / "crm.csv"
    crm.write_text("Company name,Website\nAcme,acme.com\n", encoding="utf-8")
    code, _out, err = _run([*_base(empty_sandbox, tmp_path), "backfill", str(crm)])
    assert code == 2
    assert "account ID" in err
    bad_mapping = tmp_path / "m.json"
    bad_mapping.write_text("[1, 2]", encoding="utf-8")
    code, _out, err = _run(
        [*_base(empty_sandbox, tmp_path), "backfill", str(crm), "--mapping", str(bad_mapping)]
    )
    assert code == 2 and "not a column mapping" in err
    code, _out, err = _run(
        [*_base(empty_sandbox, tmp_path), "backfill", str(tmp_path / "missing.csv")]
    )
    assert code == 2 and "does not exist" in err
    assert len(empty_sandbox.state.request_log) == 0


def test_backfill_refused_key_exits_3(empty_sandbox: SandboxServer, tmp_path: Path) -> None:
    ds = build_dataset(5, 0, 0, 0, 0, 0)
    empty_sandbox.state.add_accounts(ds.accounts)
    code, _out, err = _run(
        [*_base(empty_sandbox, tmp_path), "backfill", str(ds.write_crm(tmp_path / "c.csv"))],
        env={"RECOTAP_API_KEY": "rtp_wrong_key_123"},
    )
    assert code == 3, err
    assert "rtp_wrong_key_123" not in err
    assert all(v is None for v in _external_ids(empty_sandbox).values())
