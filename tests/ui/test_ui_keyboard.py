"""Keyboard and screen-reader walk over every window, wizard page and dialog (issue 18,
finding 5): unique Alt letters among visible, enabled controls; every control named
(the rule is in ``widget_walk``); Tab leaves the grids; Return presses the focused
button of the main window; Escape and Close close a results window."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QWidget

from recotap_desktop.ui.backfill import BackfillDialog
from recotap_desktop.ui.dialogs import KindDialog
from recotap_desktop.ui.export import ExportDialog
from recotap_desktop.ui.main_window import MainWindow
from recotap_desktop.ui.results.view import ResultsWindow
from tests.factories import ACCOUNT_HEADERS, account_rows, write_csv
from tests.helpers.wizard import COMMIT, WAIT, activate, click, open_wizard
from tests.ui.widget_walk import mnemonic, problems


def test_mnemonic_letters():
    assert mnemonic("E&xport problems…") == "x"
    assert mnemonic("Fish && &Chips") == "c"
    assert mnemonic("No letter") is None


def assert_tab_leaves(qtbot: Any, view: Any) -> None:
    """Down moves one row; Tab leaves the grid (not the next cell)."""
    assert not view.tabKeyNavigation()
    view.setFocus()
    view.setCurrentIndex(view.model().index(0, 0))
    qtbot.waitUntil(view.hasFocus, timeout=WAIT)
    qtbot.keyClick(view, Qt.Key.Key_Down)
    assert view.currentIndex().row() == 1
    qtbot.keyClick(view, Qt.Key.Key_Tab)
    assert not view.hasFocus(), "Tab stays in the grid"
    assert view.currentIndex().row() == 1


def _shown(qtbot: Any, widget: QWidget) -> QWidget:
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _accounts_run_windows(qtbot: Any, services: Any, tmp_path: Any) -> list[str]:
    """Walk every wizard page (accounts: every option shown) through a run to its results."""
    found: list[str] = []
    rows = account_rows(12, prefix="kb")
    rows[3][2] = rows[5][2] = "not a website"  # the Check page lists problems, Exclude
    path = write_csv(tmp_path / "acc.csv", ACCOUNT_HEADERS, rows)
    wizard = open_wizard(qtbot, services, "accounts", path)
    qtbot.waitUntil(lambda: wizard.file_page.isComplete()
                    and not wizard.ctx.connection_loading, timeout=WAIT)
    found += problems(wizard, "wizard page 1 (file)")
    click(qtbot, wizard)
    qtbot.waitUntil(wizard.columns_page.isComplete, timeout=WAIT)
    found += problems(wizard, "wizard page 2 (columns)")
    click(qtbot, wizard)
    qtbot.waitUntil(lambda: wizard.ctx.plan is not None and not wizard.check_page.running,
                    timeout=WAIT)
    found += problems(wizard, "wizard page 3 (check)")
    assert_tab_leaves(qtbot, wizard.check_page.view)
    wizard.check_page.exclude_check.setChecked(True)
    click(qtbot, wizard)
    qtbot.waitUntil(lambda: wizard.ctx.spec is not None, timeout=WAIT)
    wizard.options_page.confirm_check.setChecked(True)
    found += problems(wizard, "wizard page 4 (options)")
    click(qtbot, wizard, COMMIT)
    found += problems(wizard, "wizard page 5 (run)")
    qtbot.waitUntil(wizard.run_page.isComplete, timeout=WAIT)
    found += problems(wizard, "wizard page 5 (run, finished)")
    click(qtbot, wizard)
    view = wizard.results_view
    qtbot.waitUntil(lambda: view.model.rowCount() > 0 and not view.busy, timeout=WAIT)
    found += problems(wizard, "wizard page 6 (results)")
    found += problems(wizard.show_help(), "wizard help")
    results = _shown(qtbot, ResultsWindow(services, wizard.ctx.run_id))
    qtbot.waitUntil(lambda: results.view.model.rowCount() > 0 and not results.view.busy,
                    timeout=WAIT)
    found += problems(results, "results window")
    activate(qtbot, results)
    assert_tab_leaves(qtbot, results.view.table)
    # Escape closes the window; so does its Close button.
    qtbot.keyClick(results.view.table, Qt.Key.Key_Escape)
    assert not results.isVisible()
    again = _shown(qtbot, ResultsWindow(services, wizard.ctx.run_id))
    qtbot.mouseClick(again.close_button, Qt.MouseButton.LeftButton)
    assert not again.isVisible()
    wizard.help_dialog.close()
    return found


def test_every_window_has_unique_alt_letters_and_named_controls(qtbot, services, sandbox,
                                                                tmp_path):
    found: list[str] = []
    main = _shown(qtbot, MainWindow(services))
    qtbot.waitUntil(lambda: main.card.key_label.text() != "checking…", timeout=WAIT)
    found += problems(main, "main window")
    for name, opener in (("connections", main.open_connections),
                         ("preferences", main.open_preferences), ("help", main.show_help),
                         ("history", main.open_history), ("segments", main.open_segments),
                         ("custom fields", main.open_custom_fields)):
        dialog = opener()
        qtbot.waitExposed(dialog)
        for attr in ("job", "load_job"):  # the lists loaded: their tables are shown
            job = getattr(dialog, attr, None)
            if job is not None:
                qtbot.waitUntil(lambda job=job: not job.running, timeout=WAIT)
        found += problems(dialog, name)
        dialog.close()
    kind = _shown(qtbot, KindDialog("accounts.csv", "accounts"))
    found += problems(kind, "kind of file")
    kind.close()
    export = _shown(qtbot, ExportDialog(services))
    for page in range(3):
        export._show_page(page)
        found += problems(export, f"export page {page + 1}")
    export._show_page(0)
    export.close()
    backfill = _shown(qtbot, BackfillDialog(services))
    assert not backfill.review_view.tabKeyNavigation()
    for page in range(3):
        backfill._show_page(page)
        found += problems(backfill, f"backfill page {page + 1}")
    backfill._show_page(0)
    backfill.close()
    found += _accounts_run_windows(qtbot, services, tmp_path)
    assert found == [], "\n".join(found)


def test_return_presses_the_focused_button_of_the_main_window(qtbot, services):
    main = _shown(qtbot, MainWindow(services))
    activate(qtbot, main)
    button = main.import_buttons["deals"]
    button.setFocus()
    qtbot.waitUntil(button.hasFocus, timeout=WAIT)
    qtbot.keyClick(button, Qt.Key.Key_Return)
    wizard = main._dialogs.get("wizard")
    assert isinstance(wizard, QDialog) and wizard.isVisible()
    assert wizard.ctx.kind.name == "deals"
    wizard.close()
