"""Resume, results and retry from the main window, over a real sandbox."""

from __future__ import annotations

from ui_helpers import PROFILE

from recotap_desktop.ui.main_window import MainWindow
from recotap_desktop.ui.results import ResultsWindow
from tests.helpers.runs import cancelled_run

WAIT = 60_000


def test_resume_from_the_main_window_then_results(qtbot, services, sandbox, tmp_path):
    run_id = cancelled_run(services, sandbox, tmp_path, PROFILE)
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
