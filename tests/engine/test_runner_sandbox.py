"""The import runner against the sandbox over real sockets: isolation, abort, cancel, resume."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from recotap_desktop.api import RetryPolicy
from recotap_desktop.engine.jobs import resume, retry, retryable_rows
from recotap_desktop.engine.plan import build_plan
from recotap_desktop.engine.progress import CancelMode, CancelToken, ProgressSnapshot
from recotap_desktop.engine.runner import ISOLATION_PREFIX, ImportRunner
from recotap_desktop.engine.states import RunState
from recotap_desktop.sandbox import SandboxServer
from recotap_desktop.store.history import History
from tests.factories import (
    ACCOUNT_HEADERS,
    ACTIVITY_HEADERS,
    DEAL_HEADERS,
    account_rows,
    activity_rows,
    deal_rows,
    write_csv,
)
from tests.helpers.runs import import_job, row_states, sandbox_conn

FAST_RETRY = {"retry": RetryPolicy(max_attempts=8, base_delay=0.01, max_delay=0.05, max_total=30)}


@pytest.fixture
def history(tmp_path: Path):
    h = History(tmp_path / "history.sqlite3")
    yield h
    h.close()


def test_deals_isolation_fails_exactly_the_rejected_rows(
    small_sandbox: SandboxServer, history: History, tmp_path: Path
) -> None:
    rows = deal_rows(1000)
    bad = [3, 150, 151, 420, 555, 777, 999]  # 150 and 151 share a batch
    for i in bad:
        rows[i][7] = "XYZ"  # not an ISO-4217 code: the sandbox rejects the whole request
    path = write_csv(tmp_path / "deals.csv", DEAL_HEADERS, rows)
    plan = build_plan(import_job("deals", path, concurrency=4))
    assert plan.invalid_rows == 0, "the client does not check currency codes itself"
    result = ImportRunner(plan, sandbox_conn(small_sandbox), history).run()

    assert result.state is RunState.FINISHED
    states = row_states(history, result.run_id)
    failed_rows = sorted(r for r, s in states.items() if s == "failed")
    assert failed_rows == [i + 2 for i in bad]
    outcomes = history.outcomes(result.run_id)
    for r in failed_rows:
        assert outcomes[r].message.startswith(ISOLATION_PREFIX)
        assert "dealCurrencyCode" in outcomes[r].message
    assert sum(1 for s in states.values() if s == "upserted") == 993
    good_ids = {rows[i][0] for i in range(1000) if i not in bad}
    assert set(small_sandbox.state.deals) == good_ids
    # Bounded extra cost: about 2*log2(batch) requests per offending row.
    minimum = math.ceil(1000 / 100)
    assert result.requests == minimum + result.isolation_requests
    assert result.isolation_requests <= len(bad) * 2 * math.ceil(math.log2(100))
    assert result.isolated_rows == 7
    assert result.failure_groups[0][1] == 7
    assert "dealCurrencyCode" in result.failure_groups[0][0]


def test_activities_isolation_in_batches_of_fifty(
    small_sandbox: SandboxServer, history: History, tmp_path: Path
) -> None:
    rows = activity_rows(300)
    bad = [0, 49, 50, 51, 299]
    for i in bad:
        rows[i][5] = "S" * 300  # subject longer than the sandbox allows
    path = write_csv(tmp_path / "acts.csv", ACTIVITY_HEADERS, rows)
    plan = build_plan(import_job("activities", path))
    assert plan.invalid_rows == 0
    assert plan.batches == 6
    result = ImportRunner(plan, sandbox_conn(small_sandbox), history).run()
    states = row_states(history, result.run_id)
    assert sorted(r for r, s in states.items() if s == "failed") == [i + 2 for i in bad]
    assert sum(1 for s in states.values() if s == "created") == 295
    assert set(small_sandbox.state.activities) == {rows[i][0] for i in range(300) if i not in bad}
    assert all("subject" in history.outcomes(result.run_id)[i + 2].message for i in bad)


def test_accounts_isolation(small_sandbox: SandboxServer, history: History, tmp_path: Path) -> None:
    rows = account_rows(450, prefix="iso")
    bad = [10, 11, 205, 449]
    for i in bad:
        rows[i][1] = "N" * 300
    path = write_csv(tmp_path / "acc.csv", ACCOUNT_HEADERS, rows)
    plan = build_plan(import_job("accounts", path))
    result = ImportRunner(plan, sandbox_conn(small_sandbox), history).run()
    states = row_states(history, result.run_id)
    assert sorted(r for r, s in states.items() if s == "failed") == [i + 2 for i in bad]
    assert sum(1 for s in states.values() if s == "created") == 446
    for i in range(450):
        acc = small_sandbox.state.account_by_external_id(rows[i][0])
        assert (acc is None) == (i in bad)


def test_segment_error_stops_the_run_without_splitting(
    small_sandbox: SandboxServer, history: History, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "acc.csv", ACCOUNT_HEADERS, account_rows(500, prefix="seg"))
    job = import_job("accounts", path, concurrency=1, segment_id="no-such-segment")
    result = ImportRunner(build_plan(job), sandbox_conn(small_sandbox), history).run()
    assert result.state is RunState.ABORTED
    assert result.requests == 1
    assert result.isolation_requests == 0
    assert "no-such-segment" in result.message
    states = row_states(history, result.run_id)
    assert len(states) == 500
    assert set(states.values()) == {"not sent"}
    assert small_sandbox.state.account_by_external_id("seg-crm-000000") is None


class _CancelAfter:
    def __init__(self, token: CancelToken, rows: int, mode: CancelMode) -> None:
        self.token, self.rows, self.mode = token, rows, mode

    def update(self, snapshot: ProgressSnapshot) -> None:
        if snapshot.phase.value == "send" and snapshot.done >= self.rows:
            self.token.cancel(self.mode)


@pytest.mark.parametrize("mode", [CancelMode.FINISH_IN_FLIGHT, CancelMode.STOP_NOW])
def test_cancel_then_resume_sends_every_row_once(
    small_sandbox: SandboxServer, history: History, tmp_path: Path, mode: CancelMode
) -> None:
    small_sandbox.faults.latency = 0.05
    rows = account_rows(1500, prefix=f"cr{mode.value}")
    path = write_csv(tmp_path / "acc.csv", ACCOUNT_HEADERS, rows)
    token = CancelToken()
    job = import_job("accounts", path, concurrency=2)
    result = ImportRunner(
        build_plan(job),
        sandbox_conn(small_sandbox),
        history,
        progress=_CancelAfter(token, 300, mode),
        cancel=token,
    ).run()
    assert result.state is RunState.CANCELLED
    first = row_states(history, result.run_id)
    assert len(first) == 1500
    assert 300 <= sum(1 for s in first.values() if s == "created") < 1500
    assert {s for s in first.values()} <= {"created", "not sent"}

    small_sandbox.faults.latency = 0.0
    again = resume(history, result.run_id, sandbox_conn(small_sandbox))
    assert again.run_id == result.run_id
    assert again.state is RunState.FINISHED
    final = row_states(history, result.run_id)
    assert set(final.values()) == {"created"}
    created = [
        a
        for a in small_sandbox.state.all_accounts()
        if str(a.get("externalId", "")).startswith(f"cr{mode.value}-")
    ]
    assert len(created) == 1500
    assert history.get_run(result.run_id).state == "finished"


def test_lost_answers_are_reconciled_not_duplicated(
    small_sandbox: SandboxServer, history: History, tmp_path: Path
) -> None:
    small_sandbox.faults.update(rate_drop_after=0.3, rate_5xx=0.1, seed=5)
    rows = activity_rows(400, prefix="rec")
    path = write_csv(tmp_path / "acts.csv", ACTIVITY_HEADERS, rows)
    result = ImportRunner(
        build_plan(import_job("activities", path)),
        sandbox_conn(small_sandbox),
        history,
        client_kwargs=FAST_RETRY,
    ).run()
    assert result.state is RunState.FINISHED
    states = row_states(history, result.run_id)
    assert set(states.values()) == {"created"}
    assert result.reconciled_rows > 0
    assert len(small_sandbox.state.activities) == 400


def test_retry_sends_only_retryable_rows(
    small_sandbox: SandboxServer, history: History, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "acc.csv", ACCOUNT_HEADERS, account_rows(300, prefix="rt"))
    job = import_job("accounts", path, concurrency=1, segment_id="no-such-segment")
    first = ImportRunner(build_plan(job), sandbox_conn(small_sandbox), history).run()
    assert first.state is RunState.ABORTED
    assert retryable_rows(history, first.run_id) == set(range(2, 302))
    # A run that stopped on a network error: retry sends exactly its not-sent rows.
    small_sandbox.faults.update(rate_drop_before=1.0)
    job2 = import_job("accounts", path, concurrency=1)
    second = ImportRunner(
        build_plan(job2),
        sandbox_conn(small_sandbox),
        history,
        client_kwargs={"retry": RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.01)},
    ).run()
    assert second.state is RunState.ABORTED
    assert set(row_states(history, second.run_id).values()) == {"not sent"}
    small_sandbox.faults.update(rate_drop_before=0.0)
    third = retry(history, second.run_id, sandbox_conn(small_sandbox))
    assert third.state is RunState.FINISHED
    assert history.get_run(third.run_id).parent_run_id == second.run_id
    assert set(row_states(history, third.run_id).values()) == {"created"}
    assert len(row_states(history, third.run_id)) == 300


def test_rows_of_a_request_answered_500_say_so_not_lost(
    small_sandbox: SandboxServer, history: History, tmp_path: Path
) -> None:
    """Issue 18, finding 6: a definite 500 is not 'the answer was lost'."""
    small_sandbox.faults.update(rate_5xx=1.0, seed=1)
    path = write_csv(tmp_path / "acc.csv", ACCOUNT_HEADERS, account_rows(20, prefix="five"))
    fast = {"retry": RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02,
                                 max_total=30)}
    result = ImportRunner(build_plan(import_job("accounts", path, concurrency=1)),
                          sandbox_conn(small_sandbox), history, client_kwargs=fast).run()
    assert result.state is RunState.ABORTED
    sent_first = [o for o in history.outcomes(result.run_id).values() if o.message]
    assert sent_first, "the first batch's rows carry a note"
    for o in sent_first:
        assert o.state == "not sent"
        assert "answer was lost" not in o.message and "mid-request" not in o.message
    statuses = {o.message.split("answered ")[1][:3] for o in sent_first
                if "the server answered" in o.message}
    assert statuses and statuses <= {"500", "503"}
    assert any("to all 3 attempts" in o.message for o in sent_first)
