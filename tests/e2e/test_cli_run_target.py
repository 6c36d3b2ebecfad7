"""``recotap resume``/``retry`` send to the run's own connection (issue 18, finding 1).

Two sandboxes on 127.0.0.1 are two workspaces: "A" (the active, default profile) and
"B" (where the run was started). The assertions are on what each server received.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from recotap_desktop.cli import main
from recotap_desktop.domain.editions import rules_for
from recotap_desktop.engine.connection import ConnectionSpec
from recotap_desktop.engine.plan import ImportJob, ImportOptions, build_plan
from recotap_desktop.engine.progress import CancelMode, CancelToken, ProgressSnapshot
from recotap_desktop.engine.runner import ImportRunner
from recotap_desktop.files import sniff
from recotap_desktop.records import ConvertContext, get_kind
from recotap_desktop.sandbox import DEMO_API_KEY, SandboxServer
from recotap_desktop.store.history import History
from recotap_desktop.store.paths import app_paths
from recotap_desktop.store.settings import Profile, Settings
from tests.factories import ACCOUNT_HEADERS, account_rows, write_csv

ENV = {"RECOTAP_API_KEY": DEMO_API_KEY}
N = 300


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _run(args: list[str], stdin: io.StringIO | None = None) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(args, stdin=stdin or io.StringIO(""), stdout=out, stderr=err, env=dict(ENV))
    return code, err.getvalue()


@pytest.fixture
def workspaces() -> Iterator[tuple[SandboxServer, SandboxServer]]:
    with SandboxServer(accounts=5, seed=1) as a, SandboxServer(accounts=5, seed=2) as b:
        yield a, b


class _CancelAfter:
    def __init__(self, token: CancelToken) -> None:
        self.token = token

    def update(self, snapshot: ProgressSnapshot) -> None:
        if snapshot.phase.value == "send" and snapshot.done >= 100:
            self.token.cancel(CancelMode.FINISH_IN_FLIGHT)


def _setup(tmp_path: Path, a: SandboxServer, b: SandboxServer) -> tuple[Path, int]:
    """Profiles A (active) and B; a run started on B, cancelled after about 100 rows."""
    data = tmp_path / "data"
    paths = app_paths(data).ensure()
    settings = Settings.load(paths)
    settings.upsert_profile(Profile(name="A", edition="crm", base_url=a.base_url("crm")))
    settings.upsert_profile(Profile(name="B", edition="crm", base_url=b.base_url("crm")))
    settings.active_profile = "A"
    settings.save()
    path = write_csv(tmp_path / "acc.csv", ACCOUNT_HEADERS, account_rows(N, prefix="cli"))
    rules = rules_for("crm")
    mapping = get_kind("accounts").automap(sniff(path).headers, ConvertContext.build(rules, []))
    job = ImportJob(kind="accounts", path=path, mapping=mapping, rules=rules,
                    options=ImportOptions(concurrency=1))
    spec = ConnectionSpec(base_url=b.base_url("crm"), edition="crm", api_key=DEMO_API_KEY,
                          profile="B")
    token = CancelToken()
    b.faults.latency = 0.02
    with History(paths.history_file) as history:
        result = ImportRunner(build_plan(job), spec, history, progress=_CancelAfter(token),
                              cancel=token).run()
    b.faults.latency = 0.0
    assert result.state.value == "cancelled"
    return data, result.run_id


def _ours(server: SandboxServer) -> int:
    return sum(1 for a in server.state.all_accounts()
               if str(a.get("externalId", "")).startswith("cli-"))


def test_resume_sends_to_the_runs_connection_not_the_default(workspaces, tmp_path):
    a, b = workspaces
    data, run_id = _setup(tmp_path, a, b)
    code, err = _run(["--data-dir", str(data), "resume", str(run_id)])
    assert code == 0, err
    assert _ours(b) == N
    assert len(a.state.request_log) == 0  # the active profile "A" got nothing


def test_retry_sends_to_the_runs_connection_not_the_default(workspaces, tmp_path):
    a, b = workspaces
    data, run_id = _setup(tmp_path, a, b)
    code, err = _run(["--data-dir", str(data), "retry", str(run_id)])
    assert code == 0, err
    assert _ours(b) == N
    assert len(a.state.request_log) == 0


def test_another_profile_is_refused_unless_named_with_to_profile(workspaces, tmp_path):
    a, b = workspaces
    data, run_id = _setup(tmp_path, a, b)
    sent_to_b = len(b.state.request_log)
    code, err = _run(["--data-dir", str(data), "--profile", "A", "resume", str(run_id)])
    assert code == 2
    assert f"127.0.0.1:{b.port}" in err and "--to-profile A" in err
    code, err = _run(["--data-dir", str(data), "--base-url", a.base_url("crm"), "resume",
                      str(run_id)])
    assert code == 2 and f"127.0.0.1:{a.port}" in err and f"127.0.0.1:{b.port}" in err
    assert len(a.state.request_log) == 0 and len(b.state.request_log) == sent_to_b
    # A refused retry does not first say it is retrying (issue 18): nothing was sent.
    code, err = _run(["--data-dir", str(data), "--profile", "A", "retry", str(run_id)])
    assert code == 2 and "--to-profile A" in err
    assert "Retrying" not in err, err
    assert len(a.state.request_log) == 0 and len(b.state.request_log) == sent_to_b


def test_connection_gone_then_explicit_to_profile_with_confirmation(workspaces, tmp_path):
    a, b = workspaces
    data, run_id = _setup(tmp_path, a, b)
    settings = Settings.load(app_paths(data))
    settings.remove_profile("B")
    settings.save()
    on_b = _ours(b)
    sent_to_b = len(b.state.request_log)

    code, err = _run(["--data-dir", str(data), "resume", str(run_id)])
    assert code == 2
    assert "no longer exists" in err and f"127.0.0.1:{b.port}" in err
    assert f"recotap resume {run_id} --to-profile NAME" in err

    code, err = _run(["--data-dir", str(data), "resume", str(run_id), "--to-profile", "Nope"])
    assert code == 2 and "no connection named 'Nope'" in err
    # Without a terminal, --to-profile needs --yes; the question names both hosts.
    code, err = _run(["--data-dir", str(data), "resume", str(run_id), "--to-profile", "A"])
    assert code == 2 and "--yes" in err
    assert f"127.0.0.1:{b.port}" in err and f"127.0.0.1:{a.port}" in err
    # On a terminal, "no" sends nothing.
    code, err = _run(["--data-dir", str(data), "resume", str(run_id), "--to-profile", "A"],
                     stdin=_Tty("n\n"))
    assert code == 130
    assert len(a.state.request_log) == 0 and len(b.state.request_log) == sent_to_b

    code, err = _run(["--data-dir", str(data), "resume", str(run_id), "--to-profile", "A"],
                     stdin=_Tty("y\n"))
    assert code == 0, err
    assert _ours(a) == N - on_b and _ours(b) == on_b
    with History(app_paths(data).history_file) as history:
        new = history.list_runs()[0]
        assert new.id != run_id and new.parent_run_id == run_id
        assert (new.profile, new.base_url) == ("A", a.base_url("crm"))
        assert history.get_run(run_id).state == "finished"


def test_a_run_recorded_without_its_connection_needs_an_explicit_choice(workspaces, tmp_path):
    a, b = workspaces
    data, run_id = _setup(tmp_path, a, b)
    # As a run written before the history kept the base URL (schema 1) reads after migration.
    with History(app_paths(data).history_file) as history:
        history._conn.execute("UPDATE runs SET base_url = NULL WHERE id = ?", (run_id,))
    on_b = _ours(b)
    code, err = _run(["--data-dir", str(data), "resume", str(run_id)])
    assert code == 2 and "not known which workspace" in err
    assert f"127.0.0.1:{b.port}" in err and "--to-profile NAME" in err
    assert len(a.state.request_log) == 0
    code, err = _run(["--data-dir", str(data), "resume", str(run_id), "--to-profile", "B",
                      "--yes"])
    assert code == 0, err
    assert _ours(b) == N and len(a.state.request_log) == 0  # the rest, each row once
    with History(app_paths(data).history_file) as history:
        new = history.list_runs()[0]
        assert new.parent_run_id == run_id and new.base_url == b.base_url("crm")
        assert sum(history.counts(new.id).values()) == N - on_b
