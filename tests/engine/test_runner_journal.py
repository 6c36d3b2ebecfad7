"""The batch journal is written by one thread with group commits, ahead of the sends.

What must hold whatever the timing: a batch is on disk as "about to send" before its
request leaves; a batch journaled but never sent is closed as ``not sent``; a journal
that cannot be written stops the run with the disk's error.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from recotap_desktop.engine.jobs import resume
from recotap_desktop.engine.plan import build_plan
from recotap_desktop.engine.progress import CancelToken
from recotap_desktop.engine.runner import ImportRunner
from recotap_desktop.engine.senders import send_accounts
from recotap_desktop.engine.states import RunState
from recotap_desktop.sandbox import SandboxServer
from recotap_desktop.store.history import History, HistoryDiskError
from tests.factories import ACCOUNT_HEADERS, account_rows, write_csv
from tests.helpers.runs import import_job, row_states, sandbox_conn


@pytest.fixture
def history(tmp_path: Path):
    h = History(tmp_path / "history.sqlite3")
    yield h
    h.close()


def _slow_journal(monkeypatch: pytest.MonkeyPatch, delay: float) -> dict[str, list[int]]:
    """Make every journal commit take ``delay`` longer; returns the batches per commit:
    ``"started"`` (entries opened) and ``"answered"`` (entries closed)."""
    write_journal, batch_started = History.write_journal, History.batch_started
    sizes: dict[str, list[int]] = {"started": [], "answered": []}

    def slow(self, run_id, *, started=(), answered=(), outcomes=()):  # type: ignore[no-untyped-def]
        time.sleep(delay)
        if started:
            sizes["started"].append(len(started))
        if answered:
            sizes["answered"].append(len(answered))
        return write_journal(self, run_id, started=started, answered=answered, outcomes=outcomes)

    def slow_started(self, run_id, batch_no, rows):  # type: ignore[no-untyped-def]
        time.sleep(delay)
        sizes["started"].append(1)
        return batch_started(self, run_id, batch_no, rows)

    monkeypatch.setattr(History, "write_journal", slow)
    monkeypatch.setattr(History, "batch_started", slow_started)
    return sizes


def test_every_batch_is_on_disk_before_its_request_leaves(
    small_sandbox: SandboxServer, history: History, tmp_path: Path, monkeypatch
) -> None:
    sizes = _slow_journal(monkeypatch, 0.03)
    path = write_csv(tmp_path / "a.csv", ACCOUNT_HEADERS, account_rows(1_200, prefix="jrn"))
    unjournaled: list[list[int]] = []
    lock = threading.Lock()

    def sender(client, items, options, repeated):  # type: ignore[no-untyped-def]
        # What another process would find on disk now: committed data only.
        other = sqlite3.connect(history.path)
        try:
            entries = other.execute("SELECT rows_json FROM batches WHERE answered_at IS NULL")
            journaled = {row for (rows_json,) in entries for row in json.loads(rows_json)}
        finally:
            other.close()
        sent_rows = {int(i["externalId"].rsplit("-", 1)[1]) + 2 for i in items}  # row = i + 2
        with lock:
            unjournaled.extend(sorted(sent_rows - journaled))
        return send_accounts(client, items, options, repeated)

    runner = ImportRunner(
        build_plan(import_job("accounts", path, concurrency=4)),
        sandbox_conn(small_sandbox),
        history,
        sender=sender,
    )
    result = runner.run()
    assert result.state is RunState.FINISHED
    assert unjournaled == []
    assert set(row_states(history, result.run_id).values()) == {"created"}
    assert history.unanswered_batches(result.run_id) == []
    # 12 batches: each opened on its own before its request, and the answers, queued while
    # a slow commit runs, closed together (a group commit), every one of them.
    assert sizes["started"] == [1] * 12
    assert sum(sizes["answered"]) == 12
    assert len(sizes["answered"]) < 12


def test_batches_waiting_for_a_worker_are_not_sent_after_a_cancel(
    small_sandbox: SandboxServer, history: History, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "a.csv", ACCOUNT_HEADERS, account_rows(600, prefix="cls"))
    cancel = CancelToken()
    calls = 0

    def sender(client, items, options, repeated):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        time.sleep(0.2)  # meanwhile the next batches wait in memory for the worker
        cancel.cancel()
        return send_accounts(client, items, options, repeated)

    runner = ImportRunner(
        build_plan(import_job("accounts", path, concurrency=1)),
        sandbox_conn(small_sandbox),
        history,
        cancel=cancel,
        sender=sender,
    )
    result = runner.run()
    assert result.state is RunState.CANCELLED
    assert calls == 1
    states = row_states(history, result.run_id)
    assert [states[r] for r in range(2, 102)] == ["created"] * 100
    assert {states[r] for r in range(102, 602)} == {"not sent"}
    assert history.unanswered_batches(result.run_id) == []  # nothing to reconcile
    again = resume(history, result.run_id, sandbox_conn(small_sandbox))
    assert again.state is RunState.FINISHED
    assert set(row_states(history, result.run_id).values()) == {"created"}
    assert not any(o.reconciled for o in history.outcomes(result.run_id).values())


def test_after_a_kill_rows_never_sent_are_not_reconciled(
    small_sandbox: SandboxServer, tmp_path: Path
) -> None:
    """What is on disk while a batch's answer is in hand is what a SIGKILL leaves; resume
    must reconcile only batches whose request may have left (review finding: batches
    journaled ahead of sending were reconciled, so real duplicates became "created")."""
    # Rows 102..201 (batch 2) already exist on the server, created earlier by someone else.
    earlier = write_csv(
        tmp_path / "earlier.csv", ACCOUNT_HEADERS, account_rows(100, prefix="kil", start=100)
    )
    with History(tmp_path / "other.sqlite3") as other:
        plan = build_plan(import_job("accounts", earlier))
        ImportRunner(plan, sandbox_conn(small_sandbox), other).run()

    path = write_csv(tmp_path / "a.csv", ACCOUNT_HEADERS, account_rows(200, prefix="kil"))
    history = History(tmp_path / "h.sqlite3")
    killed = tmp_path / "killed.sqlite3"
    calls = 0

    def sender(client, items, options, repeated):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        answer = send_accounts(client, items, options, repeated)
        if calls == 1:
            time.sleep(0.3)  # the dispatcher has batch 2 ready and waits
            source, copy = sqlite3.connect(history.path), sqlite3.connect(killed)
            try:
                source.backup(copy)
            finally:
                source.close()
                copy.close()
        return answer

    runner = ImportRunner(
        build_plan(import_job("accounts", path, concurrency=1)),
        sandbox_conn(small_sandbox),
        history,
        sender=sender,
    )
    run_id = runner.run().run_id
    history.close()

    with History(killed) as after_kill:
        assert [no for no, _rows in after_kill.unanswered_batches(run_id)] == [1]
        resume(after_kill, run_id, sandbox_conn(small_sandbox))
        outcomes = after_kill.outcomes(run_id)
        assert all(outcomes[r].state == "created" for r in range(2, 102))  # batch 1: reconciled
        second = [outcomes[r] for r in range(102, 202)]
        assert {o.state for o in second} == {"failed"}  # real duplicates stay failures
        assert not any(o.reconciled for o in second)


def test_a_journal_that_cannot_be_written_stops_the_run_with_the_disk_error(
    small_sandbox: SandboxServer, history: History, tmp_path: Path, monkeypatch
) -> None:
    original = History.write_journal
    commits = 0

    def failing(self, run_id, **parts):  # type: ignore[no-untyped-def]
        nonlocal commits
        commits += 1
        if commits == 3:
            raise HistoryDiskError("The disk is full.", path=self.path, reason="full")
        return original(self, run_id, **parts)

    monkeypatch.setattr(History, "write_journal", failing)
    path = write_csv(tmp_path / "a.csv", ACCOUNT_HEADERS, account_rows(2_000, prefix="dsk"))
    sent = 0

    def sender(client, items, options, repeated):  # type: ignore[no-untyped-def]
        nonlocal sent
        sent += 1
        return send_accounts(client, items, options, repeated)

    runner = ImportRunner(
        build_plan(import_job("accounts", path, concurrency=2)),
        sandbox_conn(small_sandbox),
        history,
        sender=sender,
    )
    result = runner.run()
    # Rows were sent: the run is aborted (resumable), never "nothing sent" (issue 15, #10).
    assert result.state is RunState.ABORTED
    assert "disk is full" in result.message and "resumed" in result.message
    assert history.get_run(result.run_id).state == "aborted"
    assert sent < 20  # the run stopped; it did not go on sending without a journal
    # The writer and the workers are gone (the sandbox's own threads may linger).
    assert [t.name for t in threading.enumerate() if t.name.startswith("recotap-")] == []


def test_an_entry_that_cannot_be_written_stops_the_run_before_its_request(
    small_sandbox: SandboxServer, history: History, tmp_path: Path, monkeypatch
) -> None:
    original = History.batch_started
    starts = 0

    def failing(self, run_id, batch_no, rows):  # type: ignore[no-untyped-def]
        nonlocal starts
        starts += 1
        if starts == 3:
            raise HistoryDiskError("The disk is full.", path=self.path, reason="full")
        return original(self, run_id, batch_no, rows)

    monkeypatch.setattr(History, "batch_started", failing)
    path = write_csv(tmp_path / "a.csv", ACCOUNT_HEADERS, account_rows(2_000, prefix="dsb"))
    sent: list[int] = []

    def sender(client, items, options, repeated):  # type: ignore[no-untyped-def]
        sent.append(len(items))
        return send_accounts(client, items, options, repeated)

    runner = ImportRunner(
        build_plan(import_job("accounts", path, concurrency=2)),
        sandbox_conn(small_sandbox),
        history,
        sender=sender,
    )
    result = runner.run()
    assert result.state is RunState.ABORTED and "disk is full" in result.message
    # Only batches whose entry is on disk went out: the third entry failed, and no later
    # entry was tried once the error was known (a worker may have started one before).
    assert len(sent) <= starts - 1
    assert len(sent) < 20
    assert [t.name for t in threading.enumerate() if t.name.startswith("recotap-")] == []
