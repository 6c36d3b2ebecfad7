"""Answers the server gave are never thrown away, and only real repeats are reconciled.

Each test replaces the runner's sender to produce one hard-to-reach situation against a
real sandbox, then resumes the run and checks the final states.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from recotap_desktop.api import CancelledError, RequestRejected, TransportError
from recotap_desktop.engine.jobs import resume
from recotap_desktop.engine.plan import build_plan
from recotap_desktop.engine.runner import ImportRunner
from recotap_desktop.engine.senders import send_accounts
from recotap_desktop.engine.states import RunState
from recotap_desktop.sandbox import SandboxServer
from recotap_desktop.store.history import History
from tests.factories import ACCOUNT_HEADERS, account_rows, write_csv
from tests.helpers.runs import import_job, row_states, sandbox_conn


@pytest.fixture
def history(tmp_path: Path):
    h = History(tmp_path / "history.sqlite3")
    yield h
    h.close()


def _validation_400() -> RequestRejected:
    return RequestRejected(
        "bad",
        status_code=400,
        server_message="accounts.3.domain should not be empty",
        details=["accounts.3.domain should not be empty"],
        is_validation=True,
    )


def test_answers_from_a_split_batch_survive_an_abort(
    small_sandbox: SandboxServer, history: History, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "a.csv", ACCOUNT_HEADERS, account_rows(4, prefix="bis"))
    calls: list[int] = []

    def sender(client, items, options, repeated):  # type: ignore[no-untyped-def]
        calls.append(len(items))
        if len(calls) == 1:
            raise _validation_400()
        if len(calls) == 2:
            return send_accounts(client, items, options, repeated)  # left half: created
        raise TransportError("connection refused", kind="connect")  # right half: never sent

    runner = ImportRunner(
        build_plan(import_job("accounts", path)),
        sandbox_conn(small_sandbox),
        history,
        sender=sender,
    )
    result = runner.run()
    assert result.state is RunState.ABORTED
    assert row_states(history, result.run_id) == {
        2: "created",
        3: "created",
        4: "not sent",
        5: "not sent",
    }
    assert history.unanswered_batches(result.run_id) == []  # nothing unanswered reached the server
    again = resume(history, result.run_id, sandbox_conn(small_sandbox))
    assert again.state is RunState.FINISHED
    assert set(row_states(history, result.run_id).values()) == {"created"}
    assert not any(o.reconciled for o in history.outcomes(result.run_id).values())


def test_possibly_repeated_error_keeps_the_journal_open_for_reconciliation(
    small_sandbox: SandboxServer, history: History, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "a.csv", ACCOUNT_HEADERS, account_rows(3, prefix="pr"))

    def sender(client, items, options, repeated):  # type: ignore[no-untyped-def]
        send_accounts(client, items, options, repeated)  # processed, but the client never knew
        raise TransportError("connect failed", kind="connect", possibly_repeated=True)

    runner = ImportRunner(
        build_plan(import_job("accounts", path)),
        sandbox_conn(small_sandbox),
        history,
        sender=sender,
    )
    result = runner.run()
    # Read again after the run: Recotap lists the accounts with the rows' values (issue
    # 16), so every row has its outcome: the run is finished and its journal entry closed
    assert result.state is RunState.FINISHED, result.message
    outcomes = history.outcomes(result.run_id)
    assert {o.state for o in outcomes.values()} == {"created"}
    assert all(o.reconciled for o in outcomes.values())
    assert history.unanswered_batches(result.run_id) == []  # the entry is closed


def test_nothing_sent_means_real_duplicates_stay_failures(
    small_sandbox: SandboxServer, history: History, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "a.csv", ACCOUNT_HEADERS, account_rows(2, prefix="dup"))
    plan = build_plan(import_job("accounts", path))
    first = ImportRunner(plan, sandbox_conn(small_sandbox), history).run()
    assert set(row_states(history, first.run_id).values()) == {"created"}


    def sender(client, items, options, repeated):  # type: ignore[no-untyped-def]
        raise CancelledError("Cancelled.", possibly_repeated=False)  # nothing left the machine

    runner = ImportRunner(
        build_plan(import_job("accounts", path)),
        sandbox_conn(small_sandbox),
        history,
        sender=sender,
    )
    result = runner.run()
    assert history.unanswered_batches(result.run_id) == []
    history.finish_run(result.run_id, "cancelled", history.counts(result.run_id))
    resume(history, result.run_id, sandbox_conn(small_sandbox))
    outcomes = history.outcomes(result.run_id)
    assert {o.state for o in outcomes.values()} == {"failed"}  # they existed before this run
    assert not any(o.reconciled for o in outcomes.values())
    assert all("already exists" in o.message for o in outcomes.values())
    assert all("account field values import" in o.message for o in outcomes.values())
