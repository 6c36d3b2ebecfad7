"""File → Quit during a run obeys the answer (issue 18, finding 2).

A real sandbox with latency keeps the run mid-way. "Keep running" keeps the app and the
window; "finish batches in flight" and "stop now" keep the window (with the progress) until
the run has stopped and its journal is closed; only then does the last window close (the
app's ``aboutToQuit`` then closes the history).
"""

from __future__ import annotations

import logging

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QMessageBox

from recotap_desktop.engine.states import RunState
from recotap_desktop.ui.main_window import MainWindow
from recotap_desktop.ui.wizard.wizard import RUN_PAGE, ImportWizard
from tests.factories import DEAL_HEADERS, deal_rows, write_csv
from tests.helpers.wizard import COMMIT, WAIT, activate, click, to_check


def _visible_windows() -> list[object]:
    return [w for w in QApplication.topLevelWidgets() if w.isVisible()]


def _step_start_a_slow_run(qtbot, services, sandbox,
                           tmp_path) -> tuple[MainWindow, ImportWizard, int]:
    """Step 1: the wizard sends 1500 deals one request at a time, slowly; returns the main
    window, the wizard and the run's id once the run is under way."""
    path = write_csv(tmp_path / "deals.csv", DEAL_HEADERS, deal_rows(1500, prefix="q"))
    main = MainWindow(services)
    qtbot.addWidget(main)
    main.show()
    qtbot.waitExposed(main)
    main.open_import_wizard("deals", path)
    wizard = main._dialogs["wizard"]
    qtbot.waitExposed(wizard)
    activate(qtbot, wizard)
    to_check(qtbot, wizard)
    click(qtbot, wizard)
    qtbot.waitUntil(lambda: wizard.ctx.spec is not None, timeout=WAIT)
    wizard.options_page.concurrency_spin.setValue(1)
    wizard.options_page.confirm_check.setChecked(True)
    sandbox.faults.latency = 0.05
    click(qtbot, wizard, COMMIT)
    page = wizard.run_page
    qtbot.waitUntil(lambda: page.progress.value() >= 100, timeout=WAIT)
    (run,) = services.history.list_runs(limit=5)
    assert run.state == RunState.RUNNING.value
    return main, wizard, run.id


def _step_quit_and_answer(qtbot, main: MainWindow, wizard: ImportWizard, answer: str) -> None:
    """Step 2: File → Quit asks how to stop, with every window still up; the user answers."""
    page = wizard.run_page
    main.findChild(QAction, "actionQuit").trigger()
    box = page.cancel_box
    assert isinstance(box, QMessageBox) and box.isVisible(), "Quit asks how to stop"
    assert main.isVisible(), "the main window stays until the answer"
    assert wizard.isVisible() and page.running
    button = {"keep": page.keep_button, "finish": page.finish_button,
              "stop": page.stop_button}[answer]
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _step_kept_running(qtbot, services, sandbox, main: MainWindow, wizard: ImportWizard,
                       run_id: int) -> None:
    """Step 3 for "keep": the app, the window and the run go on until the run finishes."""
    page = wizard.run_page
    assert main.isVisible() and wizard.isVisible() and page.running
    sandbox.faults.latency = 0.0
    qtbot.waitUntil(lambda: not page.running, timeout=WAIT)
    assert services.history.get_run(run_id).state == RunState.FINISHED.value
    assert main.isVisible() and wizard.isVisible()
    assert wizard.currentId() == RUN_PAGE
    assert not main.isHidden()


def _step_stopped_then_closed(qtbot, services, main: MainWindow, wizard: ImportWizard,
                              run_id: int) -> None:
    """Step 3 for "finish" and "stop": the window stays while the run stops, then every
    window closes and the run is recorded as stopped."""
    page = wizard.run_page
    # The window (with the progress) stays while the run stops.
    assert main.isVisible() and wizard.isVisible() and page.running
    assert page.numbers.text().startswith(("Stopping", "Finishing"))
    # Then every window closes: with none left visible the app quits (Qt's
    # quitOnLastWindowClosed; qtbot's event loop is not QApplication.exec, so
    # lastWindowClosed is not emitted here).
    qtbot.waitUntil(lambda: not _visible_windows(), timeout=WAIT)
    assert not page.running
    assert QApplication.quitOnLastWindowClosed()
    # The run was recorded as stopped; the history closes after (aboutToQuit).
    assert services.history.get_run(run_id).state == RunState.CANCELLED.value
    services.close()


@pytest.mark.parametrize("answer", ["keep", "finish", "stop"])
def test_quit_during_a_run_obeys_the_answer(qtbot, services, sandbox, tmp_path, caplog,
                                            answer):
    caplog.set_level(logging.WARNING)
    main, wizard, run_id = _step_start_a_slow_run(qtbot, services, sandbox, tmp_path)
    try:
        _step_quit_and_answer(qtbot, main, wizard, answer)
        if answer == "keep":
            _step_kept_running(qtbot, services, sandbox, main, wizard, run_id)
        else:
            _step_stopped_then_closed(qtbot, services, main, wizard, run_id)
    finally:
        sandbox.faults.latency = 0.0
    critical = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert critical == [], [r.getMessage() for r in critical]
