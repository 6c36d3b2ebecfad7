"""Why each row ended so is stored as a code (issue 17, item 1), and every rule that reads
meaning reads the code: a dry run's rows are never retried, whatever their message says;
rejected rows and rows that exist on the server are not retried; duplicates in the file
are counted from the problem's code."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from recotap_desktop.engine.connection import ConnectionSpec
from recotap_desktop.engine.jobs import retry, retryable_rows
from recotap_desktop.engine.plan import ImportJob, ImportOptions, PlanError, build_plan
from recotap_desktop.engine.runner import ImportRunner
from recotap_desktop.engine.states import Reason, RunState
from recotap_desktop.files import sniff
from recotap_desktop.records import ConvertContext, get_kind
from recotap_desktop.sandbox import DEMO_API_KEY, SandboxServer
from recotap_desktop.store import history as history_mod
from recotap_desktop.store.history import History, RowOutcome
from tests.factories import ACCOUNT_HEADERS, account_rows, write_csv


def _job(path: Path, **options: object) -> ImportJob:
    from recotap_desktop.domain.editions import rules_for

    rules = rules_for("crm")
    kind = get_kind("accounts")
    source = sniff(path)
    mapping = kind.automap(source.headers, ConvertContext.build(rules, []))
    return ImportJob(kind="accounts", path=path, mapping=mapping, rules=rules,
                     options=ImportOptions(**options))  # type: ignore[arg-type]


def _conn(server: SandboxServer) -> ConnectionSpec:
    return ConnectionSpec(base_url=server.base_url("crm"), edition="crm",
                          api_key=DEMO_API_KEY, profile="test")


@pytest.fixture
def history(tmp_path: Path):
    h = History(tmp_path / "history.sqlite3")
    yield h
    h.close()


def test_a_dry_runs_rows_are_never_retried(small_sandbox: SandboxServer, history: History,
                                           tmp_path: Path) -> None:
    path = write_csv(tmp_path / "acc.csv", ACCOUNT_HEADERS, account_rows(30, prefix="dry"))
    result = ImportRunner(build_plan(_job(path, dry_run=True)), _conn(small_sandbox),
                          history).run()
    assert result.state is RunState.FINISHED
    outcomes = history.outcomes(result.run_id)
    assert {o.reason for o in outcomes.values()} == {Reason.DRY_RUN}
    # The code decides, not the words: a message reworded still leaves them alone.
    history.set_outcomes(result.run_id, [replace(o, message="Prepared, not sent.")
                                         for o in outcomes.values()])
    assert retryable_rows(history, result.run_id) == set()
    before = small_sandbox.state.counts()["accounts"]
    with pytest.raises(PlanError, match="no rows to retry"):
        retry(history, result.run_id, _conn(small_sandbox))
    assert small_sandbox.state.counts()["accounts"] == before  # nothing was sent


def test_each_outcome_carries_why(small_sandbox: SandboxServer, history: History,
                                  tmp_path: Path) -> None:
    rows = account_rows(6, prefix="why")
    rows[2][2] = "not a website"          # invalid
    rows[3][0] = rows[1][0]               # the same externalId as row 3: duplicate in file
    existing = next(iter(small_sandbox.state.all_accounts()))
    rows[4][2] = existing["domain"]       # already on the server
    path = write_csv(tmp_path / "acc.csv", ACCOUNT_HEADERS, rows)
    plan = build_plan(_job(path))
    assert plan.duplicate_rows == 1       # counted from the problem's code
    result = ImportRunner(plan, _conn(small_sandbox), history).run()
    reasons = {row: (o.state, o.reason) for row, o in history.outcomes(result.run_id).items()}
    assert reasons[4] == ("invalid", Reason.INVALID)
    assert reasons[5] == ("invalid", Reason.DUPLICATE_IN_FILE)
    assert reasons[6] == ("failed", Reason.ALREADY_EXISTS)
    assert reasons[2] == ("created", Reason.NONE)
    # a failure for a record that exists is not retried; nothing else is left to retry
    assert retryable_rows(history, result.run_id) == set()


def test_outcomes_of_an_older_history_get_their_codes_once(tmp_path: Path) -> None:
    """Schema 2 → 3: the codes of rows recorded before are derived in the migration from
    the texts earlier versions wrote; after that only the code is read."""
    db = tmp_path / "history.sqlite3"
    conn = sqlite3.connect(db)
    for step in history_mod.MIGRATIONS[:2]:
        for statement in step:
            conn.execute(statement)
    conn.execute("INSERT INTO runs (kind, state, started_at) "
                 "VALUES ('accounts', 'finished', '2026-01-01')")
    old = [
        (2, "not sent", "Dry run: would be sent.", 0),
        (3, "not sent", "Not sent: the run was cancelled before this row was sent.", 0),
        (4, "failed", "Rejected by the server: domain must be valid", 0),
        (5, "failed", "Account with domain 'a.example' already exists", 0),
        (6, "created", "Delivered: … (reconciled).", 1),
        (7, "invalid", "External ID: “x” is already on row 2; rows 2 and 7 …", 0),
        (8, "invalid", "Domain: not a website", 0),
        (9, "failed", "The server answered 503.", 0),
        (10, "not sent", "Excluded before sending.", 0),
    ]
    conn.executemany("INSERT INTO row_outcomes (run_id, row, state, message, reconciled) "
                     "VALUES (1, ?, ?, ?, ?)", old)
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()
    with History(db) as h:
        got = {row: o.reason for row, o in h.outcomes(1).items()}
        assert got == {2: "dry run", 3: "", 4: "isolated", 5: "already exists",
                       6: "reconciled", 7: "duplicate in file", 8: "invalid", 9: "",
                       10: "excluded"}
        assert retryable_rows(h, 1) == {3, 9, 10}
        h.set_outcomes(1, [RowOutcome(11, "not sent", "x", reason=Reason.CANCELLED)])
        assert h.outcomes(1)[11].reason == "cancelled"
