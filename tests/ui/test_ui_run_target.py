"""Resume and retry from the real window go to the run's own connection (issue 18, finding 1).

The run is started on the profile "Sandbox" (one sandbox server); then ``--demo`` makes
"Demo" (a second sandbox server) active, as at every start with ``--demo``. The
assertions are on what each server received.
"""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox
from ui_helpers import PROFILE

from recotap_desktop.ui.main_window import MainWindow
from recotap_desktop.ui.results import ResultsWindow
from recotap_desktop.ui.run_target_dialog import RunTargetDialog
from recotap_desktop.ui.services import open_demo
from tests.helpers.runs import cancelled_run
from tests.helpers.windows import save_shot

WAIT = 60_000
N = 600  # rows of cancelled_run


def _ours(server) -> int:
    return sum(1 for a in server.state.all_accounts()
               if str(a.get("externalId", "")).startswith("ui-"))


def _demo_window(qtbot, services, sandbox, tmp_path):
    run_id = cancelled_run(services, sandbox, tmp_path, PROFILE)
    open_demo(services)
    assert services.active_profile.name == "Demo"
    window = MainWindow(services)
    qtbot.addWidget(window)
    return window, run_id, services.demo_server


def _results(qtbot, window) -> ResultsWindow:
    qtbot.waitUntil(lambda: window.findChild(ResultsWindow) is not None, timeout=WAIT)
    results = window.findChild(ResultsWindow)
    qtbot.waitUntil(lambda: results.view.run is not None, timeout=WAIT)
    return results


def _target_dialog(qtbot, window) -> RunTargetDialog:
    qtbot.waitUntil(lambda: window.findChild(RunTargetDialog) is not None, timeout=WAIT)
    return window.findChild(RunTargetDialog)


def _assert_all_on_own_server(qtbot, window, services, sandbox, demo, run_id):
    results = _results(qtbot, window)
    assert services.history.get_run(run_id).state == "finished"
    assert _ours(sandbox) == N
    assert len(demo.state.request_log) == 0  # the active Demo server got nothing
    assert _ours(demo) == 0
    title = results.view.title_label.text()
    assert f"127.0.0.1:{sandbox.port}" in title and f":{demo.port}" not in title
    for w in window.findChildren(ResultsWindow):
        w.close()


def test_resume_with_demo_active_sends_to_the_runs_server(qtbot, services, sandbox, tmp_path):
    window, run_id, demo = _demo_window(qtbot, services, sandbox, tmp_path)
    assert window.resume_run(run_id) is not None
    _assert_all_on_own_server(qtbot, window, services, sandbox, demo, run_id)


def test_startup_prompt_resume_with_demo_active(qtbot, services, sandbox, tmp_path):
    window, run_id, demo = _demo_window(qtbot, services, sandbox, tmp_path)
    services.history.finish_run(run_id, "interrupted", services.history.counts(run_id))
    box = window.offer_resume()
    assert box is not None and f"127.0.0.1:{sandbox.port}" in box.text()
    resume = next(b for b in box.buttons() if b.text() == "Resume")
    resume.click()
    _assert_all_on_own_server(qtbot, window, services, sandbox, demo, run_id)


def test_history_resume_with_demo_active(qtbot, services, sandbox, tmp_path):
    window, run_id, demo = _demo_window(qtbot, services, sandbox, tmp_path)
    dialog = window.open_history()
    dialog.resumeRequested.emit(run_id)
    _assert_all_on_own_server(qtbot, window, services, sandbox, demo, run_id)
    dialog.close()


def test_retry_when_the_connection_now_points_elsewhere_asks_first(
    qtbot, services, sandbox, tmp_path
):
    window, run_id, demo = _demo_window(qtbot, services, sandbox, tmp_path)
    created = _ours(sandbox)
    # The run's profile was edited to point at another server since: not the run's connection.
    profile = services.settings.get_profile(PROFILE)
    profile.base_url = demo.base_url("crm")
    services.settings.upsert_profile(profile)
    results = window.open_run_results(run_id)
    qtbot.waitUntil(lambda: results.view.run is not None, timeout=WAIT)
    assert results.view.retry_failed() is None
    dialog = _target_dialog(qtbot, results.view)
    text = dialog.problem_label.text()
    assert f"127.0.0.1:{sandbox.port}" in text and f"127.0.0.1:{demo.port}" in text
    assert len(demo.state.request_log) == 0 and _ours(sandbox) == created
    dialog.reject()
    assert len(demo.state.request_log) == 0
    results.close()


def test_missing_connection_offers_an_explicit_choice_showing_both_hosts(
    qtbot, services, sandbox, tmp_path
):
    window, run_id, demo = _demo_window(qtbot, services, sandbox, tmp_path)
    created = _ours(sandbox)
    sent = len(sandbox.state.request_log)
    services.settings.remove_profile(PROFILE)
    assert window.resume_run(run_id) is None
    dialog = _target_dialog(qtbot, window)
    assert "no longer exists" in dialog.problem_label.text()
    assert f"127.0.0.1:{sandbox.port}" in dialog.problem_label.text()
    assert dialog.was_label.text() == f"127.0.0.1:{sandbox.port}"
    assert dialog.chosen.name == "Demo"
    assert f"127.0.0.1:{demo.port}" in dialog.combo.currentText()
    summary = dialog.summary_label.text()
    assert f"127.0.0.1:{sandbox.port}" in summary and f"127.0.0.1:{demo.port}" in summary
    assert len(demo.state.request_log) == 0 and len(sandbox.state.request_log) == sent
    save_shot(dialog, "target-choose-connection.png")
    dialog.send_button.click()
    results = _results(qtbot, window)
    results.resize(1000, 500)
    qtbot.waitUntil(lambda: results.view.model.rowCount() > 0 and not results.view.busy,
                    timeout=WAIT)
    save_shot(results, "target-results-header.png")
    new = results.view.run
    assert new.id != run_id and new.parent_run_id == run_id and new.profile == "Demo"
    assert _ours(demo) == N - created and _ours(sandbox) == created
    title = results.view.title_label.text()
    assert f"to Demo at <b>127.0.0.1:{demo.port}</b>" in title
    assert f"continues run {run_id}, whose rows went to 127.0.0.1:{sandbox.port}" in title
    results.close()


def test_key_gone_offers_an_explicit_choice(qtbot, services, sandbox, tmp_path):
    window, run_id, demo = _demo_window(qtbot, services, sandbox, tmp_path)
    services.keystore.delete(PROFILE)
    job = window.resume_run(run_id)
    assert job is not None
    dialog = _target_dialog(qtbot, window)
    assert "API key" in dialog.problem_label.text()
    assert f"127.0.0.1:{sandbox.port}" in dialog.problem_label.text()
    assert len(demo.state.request_log) == 0
    dialog.reject()
    boxes = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    assert boxes == []
