"""Resume, results and retry from the main window, over a real sandbox."""

from __future__ import annotations

from pathlib import Path

from ui_helpers import PROFILE

from recotap_desktop.engine.jobs import run_import
from recotap_desktop.engine.plan import ImportJob, ImportOptions, build_plan
from recotap_desktop.engine.progress import CancelMode, CancelToken, ProgressSnapshot
from recotap_desktop.files import sniff
from recotap_desktop.records import ConvertContext, get_kind
from recotap_desktop.ui.main_window import MainWindow
from recotap_desktop.ui.results import ResultsWindow
from tests.factories import ACCOUNT_HEADERS, account_rows, write_csv

WAIT = 60_000


class _CancelAt:
    def __init__(self, token: CancelToken, rows: int) -> None:
        self.token, self.rows = token, rows

    def update(self, snapshot: ProgressSnapshot) -> None:
        if snapshot.phase.value == "send" and snapshot.done >= self.rows:
            self.token.cancel(CancelMode.FINISH_IN_FLIGHT)


def _cancelled_run(services, sandbox, tmp_path: Path) -> int:
    path = write_csv(tmp_path / "acc.csv", ACCOUNT_HEADERS, account_rows(600, prefix="ui"))
    spec = services.connection_spec(services.settings.get_profile(PROFILE))
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
        progress=_CancelAt(token, 100),
        cancel=token,
    )
    sandbox.faults.latency = 0.0
    assert result.state.value == "cancelled"
    return result.run_id


def test_resume_from_the_main_window_then_results(qtbot, services, sandbox, tmp_path):
    run_id = _cancelled_run(services, sandbox, tmp_path)
    window = MainWindow(services)
    qtbot.addWidget(window)
    job = window.resume_run(run_id)
    assert job is not None
    qtbot.waitUntil(lambda: window.findChild(ResultsWindow) is not None, timeout=WAIT)
    assert services.history.get_run(run_id).state == "finished"
    assert services.history.counts(run_id) == {"created": 600}
    created = [
        a for a in sandbox.state.all_accounts() if str(a.get("externalId", "")).startswith("ui-")
    ]
    assert len(created) == 600
    for w in window.findChildren(ResultsWindow):
        w.close()


def test_export_run_shows_its_file_not_an_empty_grid(qtbot, services, sandbox, tmp_path):
    from PySide6.QtWidgets import QMessageBox

    from recotap_desktop.engine.export import ExportOptions, export_accounts

    spec = services.connection_spec(services.settings.get_profile(PROFILE))
    out = tmp_path / "scored.csv"
    result = export_accounts(spec, out, services.history, ExportOptions(mode="full"))
    window = MainWindow(services)
    qtbot.addWidget(window)
    box = window.open_run_results(result.run_id)
    assert isinstance(box, QMessageBox)
    assert str(out) in box.text() or out.name in box.text()
    exported = services.history.get_run(result.run_id).counts["exported"]
    assert f"({exported} exported" in box.text()  # was always "(no accounts)"
    assert window.findChild(ResultsWindow) is None
    assert window.resume_run(result.run_id) is None
    box.close()
