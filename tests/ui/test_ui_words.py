"""Words and states that match what happened (issue 18, finding 6), one test per item."""

from __future__ import annotations

from pathlib import Path

from ui_helpers import PROFILE

from recotap_desktop.engine.export import EXPORT_KIND
from recotap_desktop.store.history import History, RunInfo
from recotap_desktop.ui.main_window import MainWindow
from recotap_desktop.ui.run_format import HISTORY_COLUMNS

WAIT = 30_000


def _rows_cell(history: History, run_id: int) -> str:
    column = next(c for c in HISTORY_COLUMNS if c.title == "Rows")
    return column.text(history.get_run(run_id))


def test_a_zero_row_export_shows_0_rows_in_history(tmp_path: Path) -> None:
    history = History(tmp_path / "history.sqlite3")
    try:
        run_id = history.create_run(RunInfo(kind=EXPORT_KIND, file_name="delta.csv"))
        history.finish_run(run_id, "finished", {"exported": 0})  # a delta with nothing new
        assert _rows_cell(history, run_id) == "0 rows"
    finally:
        history.close()


def _window(qtbot, services) -> MainWindow:
    window = MainWindow(services)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: window.card.key_label.text() != "checking…", timeout=WAIT)
    return window


def test_a_run_the_server_answered_updates_last_verified(qtbot, services) -> None:
    window = _window(qtbot, services)
    assert window.card.verified_label.text() == "never"
    history = services.history
    dry = history.create_run(RunInfo(kind="accounts", profile=PROFILE, total_rows=3))
    history.finish_run(dry, "finished", {"not sent": 3})  # a dry run asked the server nothing
    window.refresh_history()
    assert window.card.verified_label.text() == "never"
    assert services.settings.get_profile(PROFILE).last_verified is None

    sent = history.create_run(RunInfo(kind="accounts", profile=PROFILE, total_rows=3))
    history.finish_run(sent, "finished", {"created": 2, "failed": 1})
    window.refresh_history()
    assert window.card.verified_label.text() != "never"
    assert services.settings.get_profile(PROFILE).last_verified
