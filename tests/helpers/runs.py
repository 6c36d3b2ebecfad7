"""Import jobs and runs against a sandbox, for the engine and GUI tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from recotap_desktop.domain.editions import rules_for
from recotap_desktop.engine.connection import ConnectionSpec
from recotap_desktop.engine.jobs import run_import
from recotap_desktop.engine.plan import ImportJob, ImportOptions, build_plan
from recotap_desktop.engine.progress import CancelMode, CancelToken, ProgressSnapshot
from recotap_desktop.engine.runner import ImportRunner, RunResult
from recotap_desktop.files import sniff
from recotap_desktop.records import ConvertContext, get_kind
from recotap_desktop.sandbox import DEMO_API_KEY, SandboxServer
from recotap_desktop.store.history import History
from tests.factories import ACCOUNT_HEADERS, account_rows, write_csv


def import_job(kind: str, path: Path, edition: str = "crm", **options: object) -> ImportJob:
    """An import of ``path`` as ``kind`` with the automatic mapping and ``options``."""
    rules = rules_for(edition)
    mapping = get_kind(kind).automap(sniff(path).headers, ConvertContext.build(rules, []))
    return ImportJob(
        kind=kind, path=path, mapping=mapping, rules=rules, options=ImportOptions(**options)
    )  # type: ignore[arg-type]


def sandbox_conn(server: SandboxServer, edition: str = "crm") -> ConnectionSpec:
    """The connection to ``server`` with the demo key (profile "test")."""
    return ConnectionSpec(
        base_url=server.base_url(edition), edition=edition, api_key=DEMO_API_KEY, profile="test"
    )


def row_states(history: History, run_id: int) -> dict[int, str]:
    """Each row's final state in run ``run_id``."""
    return {row: o.state for row, o in history.outcomes(run_id).items()}


class CancelAt:
    """A progress sink that cancels (finishing the requests in flight) after ``rows``."""

    def __init__(self, token: CancelToken, rows: int, *, phase: str | None = None) -> None:
        self.token, self.rows, self.phase = token, rows, phase

    def update(self, snapshot: ProgressSnapshot) -> None:
        if self.phase is not None and snapshot.phase.value != self.phase:
            return
        if snapshot.done >= self.rows:
            self.token.cancel(CancelMode.FINISH_IN_FLIGHT)


def sandbox_run(services: Any, sandbox: SandboxServer, tmp_path: Path, n: int, *,
                cancel_after: int | None = None, headers: Any = ACCOUNT_HEADERS,
                rows: Any = None) -> tuple[Path, RunResult]:
    """An accounts import of ``n`` rows (or ``rows``) into ``sandbox``, recorded in the
    services' history, cancelled after ``cancel_after`` rows if given."""
    rows = account_rows(n, prefix="rg") if rows is None else rows
    path = write_csv(tmp_path / "grid.csv", headers, rows)
    job = import_job("accounts", path, concurrency=1)
    spec = ConnectionSpec(base_url=sandbox.base_url("crm"), api_key=DEMO_API_KEY,
                          profile=services.active_profile.name)
    token = CancelToken()
    progress = CancelAt(token, cancel_after) if cancel_after is not None else None
    result = ImportRunner(build_plan(job), spec, services.history, progress=progress,
                          cancel=token).run()
    return path, result


def cancelled_run(services: Any, sandbox: SandboxServer, tmp_path: Path, profile: str) -> int:
    """A run of 600 accounts on ``profile``, cancelled after 100 rows were sent."""
    path = write_csv(tmp_path / "acc.csv", ACCOUNT_HEADERS, account_rows(600, prefix="ui"))
    spec = services.connection_spec(services.settings.get_profile(profile))
    kind = get_kind("accounts")
    mapping = kind.automap(sniff(path).headers, ConvertContext.build(spec.rules, []))
    job = ImportJob(
        kind="accounts",
        path=path,
        mapping=mapping,
        rules=spec.rules,
        options=ImportOptions(concurrency=1),
    )
    token = CancelToken()
    sandbox.faults.latency = 0.05
    result = run_import(
        job,
        spec,
        services.history,
        plan=build_plan(job),
        progress=CancelAt(token, 100, phase="send"),
        cancel=token,
    )
    sandbox.faults.latency = 0.0
    assert result.state.value == "cancelled"
    return result.run_id
