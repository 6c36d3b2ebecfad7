"""A run belongs to its connection (issue 18, finding 1): two sandboxes on 127.0.0.1 play
two workspaces; a run started on "B" is only ever continued on "B"."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from recotap_desktop.domain.editions import rules_for
from recotap_desktop.engine.connection import ConnectionSpec
from recotap_desktop.engine.jobs import resume, retry
from recotap_desktop.engine.plan import ImportJob, ImportOptions, build_plan
from recotap_desktop.engine.progress import CancelMode, CancelToken, ProgressSnapshot
from recotap_desktop.engine.run_target import RunTarget, WrongConnection, run_host
from recotap_desktop.engine.runner import ImportRunner
from recotap_desktop.engine.states import RunState
from recotap_desktop.files import sniff
from recotap_desktop.records import ConvertContext, get_kind
from recotap_desktop.sandbox import DEMO_API_KEY, SandboxServer
from recotap_desktop.store import history as history_mod
from recotap_desktop.store.history import History
from tests.factories import ACCOUNT_HEADERS, account_rows, write_csv

N = 400


@pytest.fixture
def workspace_a() -> Iterator[SandboxServer]:
    with SandboxServer(accounts=5, seed=1) as server:
        yield server


@pytest.fixture
def workspace_b() -> Iterator[SandboxServer]:
    with SandboxServer(accounts=5, seed=2) as server:
        yield server


@pytest.fixture
def history(tmp_path: Path) -> Iterator[History]:
    h = History(tmp_path / "history.sqlite3")
    yield h
    h.close()


def _spec(server: SandboxServer, profile: str, edition: str = "crm",
          base_url: str | None = None) -> ConnectionSpec:
    return ConnectionSpec(base_url=base_url or server.base_url(edition), edition=edition,
                          api_key=DEMO_API_KEY, profile=profile)


def _job(path: Path) -> ImportJob:
    rules = rules_for("crm")
    mapping = get_kind("accounts").automap(sniff(path).headers, ConvertContext.build(rules, []))
    return ImportJob(kind="accounts", path=path, mapping=mapping, rules=rules,
                     options=ImportOptions(concurrency=1))


class _CancelAfter:
    def __init__(self, token: CancelToken, rows: int) -> None:
        self.token, self.rows = token, rows

    def update(self, snapshot: ProgressSnapshot) -> None:
        if snapshot.phase.value == "send" and snapshot.done >= self.rows:
            self.token.cancel(CancelMode.FINISH_IN_FLIGHT)


def _stopped_run_on(server: SandboxServer, history: History, tmp_path: Path) -> int:
    """A run on connection "B" (``server``) cancelled part-way: some rows created there."""
    path = write_csv(tmp_path / "acc.csv", ACCOUNT_HEADERS, account_rows(N, prefix="ws"))
    token = CancelToken()
    server.faults.latency = 0.02
    result = ImportRunner(build_plan(_job(path)), _spec(server, "B"), history,
                          progress=_CancelAfter(token, 100), cancel=token).run()
    server.faults.latency = 0.0
    assert result.state is RunState.CANCELLED
    return result.run_id


def _ours(server: SandboxServer) -> list[dict]:
    return [a for a in server.state.all_accounts()
            if str(a.get("externalId", "")).startswith("ws-")]


def test_a_run_records_its_connection(workspace_b, history, tmp_path):
    run_id = _stopped_run_on(workspace_b, history, tmp_path)
    run = history.get_run(run_id)
    assert (run.profile, run.edition) == ("B", "crm")
    assert run.base_url == workspace_b.base_url("crm")
    assert run.host == f"127.0.0.1:{workspace_b.port}" == run_host(run)
    assert RunTarget.of_run(run) == RunTarget.of(_spec(workspace_b, "B"))
    assert DEMO_API_KEY not in repr(history._conn.execute("SELECT * FROM runs").fetchall())


def test_resume_on_another_connection_is_refused_and_sends_nothing(
    workspace_a, workspace_b, history, tmp_path
):
    run_id = _stopped_run_on(workspace_b, history, tmp_path)
    before = history.outcomes(run_id)
    sent_to_b = len(workspace_b.state.request_log)
    refused = [
        _spec(workspace_a, "A"),  # another connection (what the active "Demo" was)
        _spec(workspace_a, "B"),  # "B" now points to another server
        _spec(workspace_b, "B", edition="external"),  # same server, other edition
        _spec(workspace_b, "A"),  # same server under another name: maybe another key/workspace
    ]
    for spec in refused:
        with pytest.raises(WrongConnection) as info:
            resume(history, run_id, spec)
        assert info.value.reason == "other"
        assert f"127.0.0.1:{workspace_b.port}" in info.value.message
        assert "nothing was sent" in info.value.message
        # The engine checks by itself, whoever calls it.
        with pytest.raises(WrongConnection):
            ImportRunner(build_plan(_job(tmp_path / "acc.csv")), spec, history,
                         run_id=run_id).run()
    with pytest.raises(WrongConnection) as info:
        resume(history, run_id, _spec(workspace_a, "A"))
    assert f"127.0.0.1:{workspace_a.port}" in info.value.message  # both hosts are named
    assert len(workspace_a.state.request_log) == 0
    assert len(workspace_b.state.request_log) == sent_to_b
    assert _ours(workspace_a) == []
    assert history.outcomes(run_id) == before
    assert history.get_run(run_id).state == "cancelled"
    assert [r.id for r in history.list_runs()] == [run_id]


def test_retry_on_another_connection_is_refused_and_sends_nothing(
    workspace_a, workspace_b, history, tmp_path
):
    run_id = _stopped_run_on(workspace_b, history, tmp_path)
    with pytest.raises(WrongConnection):
        retry(history, run_id, _spec(workspace_a, "A"))
    with pytest.raises(WrongConnection):  # the engine's own check, for a follow-up run
        ImportRunner(build_plan(_job(tmp_path / "acc.csv")), _spec(workspace_a, "A"), history,
                     parent_run_id=run_id).run()
    assert len(workspace_a.state.request_log) == 0
    assert [r.id for r in history.list_runs()] == [run_id]


def test_resume_on_its_own_connection_goes_on(workspace_b, history, tmp_path):
    run_id = _stopped_run_on(workspace_b, history, tmp_path)
    # The same base URL written differently (no trailing slash) is the same connection.
    spec = _spec(workspace_b, "B", base_url=workspace_b.base_url("crm").rstrip("/"))
    result = resume(history, run_id, spec)
    assert result.run_id == run_id and result.state is RunState.FINISHED
    assert len(_ours(workspace_b)) == N
    retried = retry(history, run_id, spec, rows={2})  # retry: on its own connection too
    assert history.get_run(retried.run_id).base_url == workspace_b.base_url("crm")


def test_explicit_other_connection_is_a_new_run_linked_to_the_old(
    workspace_a, workspace_b, history, tmp_path
):
    run_id = _stopped_run_on(workspace_b, history, tmp_path)
    answered = {r for r, o in history.outcomes(run_id).items() if o.state == "created"}
    on_b = len(_ours(workspace_b))
    assert on_b == len(answered) > 0
    result = resume(history, run_id, _spec(workspace_a, "A"), other_connection=True)
    assert result.run_id != run_id and result.state is RunState.FINISHED
    new = history.get_run(result.run_id)
    assert new.parent_run_id == run_id
    assert (new.profile, new.base_url) == ("A", workspace_a.base_url("crm"))
    # Rows B answered stay on B; only the others went to A, each once.
    assert len(_ours(workspace_b)) == on_b
    assert len(_ours(workspace_a)) == N - on_b
    assert set(history.outcomes(result.run_id)) == set(range(2, N + 2)) - answered
    old = history.get_run(run_id)
    assert old.state == "finished"
    assert f"127.0.0.1:{workspace_a.port}" in old.note and f"run {result.run_id}" in old.note


def test_a_run_recorded_before_connections_were_kept_is_unknown(
    workspace_a, tmp_path
):
    # A schema-1 history (before this fix), with an interrupted run on "B".
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    for statement in history_mod.MIGRATIONS[0]:
        conn.execute(statement)
    conn.execute(
        "INSERT INTO runs (kind, file_name, file_path, profile, edition, host, state, "
        "started_at) VALUES ('accounts', 'acc.csv', ?, 'B', 'crm', 'crm.example:8443', "
        "'interrupted', '2026-01-01T00:00:00')", (str(tmp_path / "acc.csv"),))
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    with History(path) as h:
        run = h.get_run(1)
        assert run.base_url is None and RunTarget.of_run(run) is None
        assert run_host(run) == "crm.example:8443"
        for spec in (_spec(workspace_a, "A"), _spec(workspace_a, "B")):
            with pytest.raises(WrongConnection) as info:
                resume(h, 1, spec)
            assert info.value.reason == "unknown"
            assert "crm.example:8443" in info.value.message
            assert "explicitly" in info.value.message
    assert len(workspace_a.state.request_log) == 0
