"""Main window: connection at a glance, first start, history, resume offer, files, prefs."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from ui_helpers import PROFILE

from recotap_desktop.store.history import RunInfo
from recotap_desktop.ui.connection_dialog import ConnectionDialog
from recotap_desktop.ui.dialogs import KindDialog
from recotap_desktop.ui.history_view import HistoryDialog
from recotap_desktop.ui.main_window import UI_MAIN_GEOMETRY, MainWindow
from tests.helpers.windows import show_main_window

WAIT = 30_000


class RecordingWindow(MainWindow):
    """The main window with its hooks recorded instead of showing "coming next"."""

    def __init__(self, services) -> None:
        self.calls: list[tuple] = []
        super().__init__(services)

    def open_import_wizard(self, kind: str, path: Path | None = None) -> None:
        self.calls.append(("import", kind, path))

    def resume_run(self, run_id: int) -> None:
        self.calls.append(("resume", run_id))

    def retry_failed_rows(self, run_id: int) -> None:
        self.calls.append(("retry", run_id))

    def open_run_results(self, run_id: int) -> None:
        self.calls.append(("results", run_id))

    def export_run_report(self, run_id: int) -> None:
        self.calls.append(("report", run_id))


def _runs(services):
    h = services.history
    done = h.create_run(RunInfo(kind="accounts", file_name="accounts.csv", profile=PROFILE,
                                edition="crm", host="127.0.0.1", total_rows=3))
    h.finish_run(done, "finished", {"created": 2, "failed": 1})
    broken = h.create_run(RunInfo(kind="deals", file_name="deals.xlsx", profile=PROFILE,
                                  total_rows=10))
    h.finish_run(broken, "interrupted", {"created": 4})
    return done, broken


def test_connection_at_a_glance_and_test(qtbot, services):
    window = show_main_window(qtbot, services)
    card = window.card
    assert card.name_label.text() == PROFILE
    assert card.edition_label.text().startswith("CRM API")
    assert card.host_label.text().startswith("127.0.0.1:")
    assert card.key_label.text() == "Stored in MemoryKeyring"
    assert card.verified_label.text() == "never"
    job = window.test_connection()
    qtbot.waitUntil(lambda: job.is_finished, timeout=WAIT)
    assert card.result_label.text().startswith("✔ Connected to 127.0.0.1")
    assert services.settings.get_profile(PROFILE).last_verified
    assert card.verified_label.text() != "never"
    assert not window.demo_badge.isVisible()


def test_test_connection_finds_a_workspace_that_speaks_the_other_edition(
        qtbot, bare_services, memory_keyring):
    """Finding 8 in the main window: "Test connection" probes both paths; a connection
    saved as the CRM API whose server answers only the External API is switched to it."""
    from recotap_desktop.sandbox import DEMO_API_KEY, SandboxServer
    from recotap_desktop.store.settings import Profile

    with SandboxServer(accounts=3, editions=["external"]) as server:
        bare_services.settings.upsert_profile(
            Profile(name="W", edition="crm", base_url=server.base_url("crm")))
        bare_services.set_active("W")
        bare_services.keystore.set("W", DEMO_API_KEY)
        window = show_main_window(qtbot, bare_services)
        job = window.test_connection()
        qtbot.waitUntil(lambda: job.is_finished, timeout=WAIT)
        text = window.card.result_label.text()
        assert text.startswith("✔ Connected to 127.0.0.1"), text
        assert "speaks the External API" in text
        saved = bare_services.settings.get_profile("W")
        assert (saved.edition, saved.base_url) == ("external", server.base_url("external"))
        assert window.card.edition_label.text().startswith("External API")


def test_first_start_opens_connection_dialog(qtbot, bare_services):
    window = show_main_window(qtbot, bare_services)
    assert window.card.name_label.text() == "No connection yet"
    assert not window.card.test_button.isEnabled()
    window.run_startup_checks()
    dialog = window._dialogs.get("connections")
    assert isinstance(dialog, ConnectionDialog) and dialog.isVisible()
    dialog.reject()


def test_recent_runs_history_dialog_and_hooks(qtbot, services):
    done, broken = _runs(services)
    window = show_main_window(qtbot, services, RecordingWindow)
    model = window.runs_model
    assert model.rowCount() == 2
    assert not window.runs_empty_label.isVisible()
    assert [model.horizontalHeaderItem(c).text() for c in range(model.columnCount())] == [
        "When", "Kind", "File", "Connection", "Rows", "Duration", "State"]
    newest = [model.item(0, c).text() for c in range(1, model.columnCount())]
    assert newest[:2] == ["Deals", "deals.xlsx"] and newest[-1] == "interrupted"
    assert model.item(1, 4).text() == "2 created · 1 failed"
    assert model.item(1, 3).toolTip() == "127.0.0.1 (crm)"
    window.runs_view.doubleClicked.emit(model.index(1, 2))
    assert window.calls.pop() == ("results", done)
    dialog = window.open_history()
    assert isinstance(dialog, HistoryDialog)
    assert dialog.model.rowCount() == 2
    assert dialog.select_run(done)
    assert dialog.retry_button.isEnabled() and not dialog.resume_button.isEnabled()
    dialog.retry_button.click()
    dialog.results_button.click()
    dialog.report_button.click()
    assert dialog.select_run(broken)
    assert dialog.resume_button.isEnabled() and not dialog.retry_button.isEnabled()
    dialog.resume_button.click()
    assert window.calls == [("retry", done), ("results", done), ("report", done),
                            ("resume", broken)]
    qtbot.keyClicks(dialog.search, "deals.x")
    assert dialog.proxy.rowCount() == 1


def test_offers_to_resume_interrupted_run(qtbot, services):
    _done, broken = _runs(services)
    window = show_main_window(qtbot, services, RecordingWindow)
    box = window.offer_resume()
    assert box is not None
    assert "deals.xlsx" in box.text() and "4 created (of 10)" in box.text()
    resume = next(b for b in box.buttons() if b.text() == "Resume")
    resume.click()
    assert window.calls == [("resume", broken)]


def test_import_buttons_open_the_wizard(qtbot, services):
    from recotap_desktop.ui.wizard import ImportWizard

    window = show_main_window(qtbot, services)
    window.import_buttons["deals"].click()
    wizard = window.findChild(ImportWizard)
    assert wizard is not None and wizard.isVisible()
    wizard.reject()


def test_open_file_guesses_kind_and_opens_wizard(qtbot, services, tmp_path):
    csv = tmp_path / "hubspot-deals.csv"
    csv.write_text("Deal ID,Deal Name,Amount,Deal Stage,Close Date,Pipeline,Company Domain\n"
                   "d1,Big deal,1000,won,2024-05-01,Sales,acme.com\n", encoding="utf-8")
    window = show_main_window(qtbot, services, RecordingWindow)
    job = window.open_file(csv)
    qtbot.waitUntil(lambda: job.is_finished, timeout=WAIT)
    dialog = window._dialogs["kind"]
    assert isinstance(dialog, KindDialog)
    chosen = dialog.kind
    assert chosen is not None
    dialog.choose("deals")
    dialog.accept()
    assert window.calls == [("import", "deals", csv)]


def test_drop_a_file_asks_which_kind(qtbot, services, tmp_path):
    csv = tmp_path / "accounts.csv"
    csv.write_text("Company Name,Website,Record ID\nACME,acme.com,1\n", encoding="utf-8")
    window = show_main_window(qtbot, services, RecordingWindow)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(csv))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    qtbot.waitUntil(lambda: "kind" in window._dialogs, timeout=WAIT)
    dialog = window._dialogs["kind"]
    assert dialog.kind == "accounts"  # guessed from the headers
    dialog.accept()
    assert window.calls == [("import", "accounts", csv)]


def test_geometry_is_remembered(qtbot, services):
    window = show_main_window(qtbot, services)
    window.resize(800, 600)
    window.close()
    assert services.settings.ui[UI_MAIN_GEOMETRY]
    again = show_main_window(qtbot, services)
    assert abs(again.size().width() - 800) <= 8  # window-manager frames may differ a little
    assert abs(again.size().height() - 600) <= 8


def test_preferences_concurrency(qtbot, services):
    window = show_main_window(qtbot, services)
    dialog = window.open_preferences()
    assert dialog.concurrency.value() == 4
    assert dialog.concurrency.maximum() == 16 and dialog.concurrency.minimum() == 1
    dialog.concurrency.setValue(8)
    dialog.accept()
    assert services.settings.ui["concurrency"] == 8


def test_help_and_about(qtbot, services):
    window = show_main_window(qtbot, services)
    help_dialog = window.show_help()
    text = help_dialog.browser.toPlainText()
    assert "API key" in text and "RECOTAP_API_KEY" in text and str(services.paths.data_dir) in text
    box = window.show_about()
    assert "0." in box.text()
    box.close()
    help_dialog.close()


def test_shortcuts(qtbot, services):
    window = show_main_window(qtbot, services)
    actions = {a.objectName(): a for a in window.findChildren(type(window.open_action))}
    assert actions["actionOpen"].shortcut().toString() == "Ctrl+O"
    assert actions["actionQuit"].shortcut().toString() == "Ctrl+Q"
    assert actions["actionHistory"].shortcut().toString() == "Ctrl+H"
    assert actions["actionHelp"].shortcut().toString() == "F1"
    assert "Ctrl+," in [s.toString() for s in actions["actionPreferences"].shortcuts()]


def test_demo_mode_without_keychain(qtbot, data_dir):
    from keyring.backends.fail import Keyring as FailKeyring

    from recotap_desktop.app import build_parser, create_services
    from recotap_desktop.store.secrets import KeyStore

    args = build_parser().parse_args(["--demo", "--data-dir", str(data_dir)])
    services = create_services(args, keystore=KeyStore(FailKeyring()), env={})
    try:
        window = show_main_window(qtbot, services)
        assert window.demo_badge.isVisible()
        assert window.card.name_label.text() == "Demo"
        assert window.card.key_label.text() == "Demo key, kept in memory only"
        job = window.test_connection()
        qtbot.waitUntil(lambda: job.is_finished, timeout=WAIT)
        assert window.card.result_label.text().startswith("✔ Connected")
        window.close()
    finally:
        services.close()


def test_export_and_backfill_open_their_dialogs(qtbot, services):
    from recotap_desktop.ui.backfill import BackfillDialog
    from recotap_desktop.ui.export import ExportDialog

    window = show_main_window(qtbot, services)
    window.export_button.click()
    export = window.findChild(ExportDialog)
    assert export is not None and export.isVisible()
    export.reject()
    window.backfill_button.click()
    backfill = window.findChild(BackfillDialog)
    assert backfill is not None and backfill.isVisible()
    qtbot.waitUntil(lambda: not backfill.running, timeout=WAIT)
    backfill.reject()


def test_open_with_a_file_whose_headers_settle_the_kind_opens_the_wizard(qtbot, services,
                                                                         tmp_path):
    """Issue 18, finding 9: `recotap-desktop FILE` (and a later launch's hand-over)."""
    csv = tmp_path / "accounts.csv"
    csv.write_text("Company Name,Website,Record ID\nACME,acme.com,1\n", encoding="utf-8")
    window = show_main_window(qtbot, services, RecordingWindow)
    job = window.open_files([csv])
    assert job is not None
    qtbot.waitUntil(lambda: job.is_finished, timeout=WAIT)
    assert window.calls == [("import", "accounts", csv)]  # not asked: the headers settle it
    assert "kind" not in window._dialogs


def test_open_with_a_file_of_unsure_kind_asks(qtbot, services, tmp_path):
    csv = tmp_path / "export.csv"
    csv.write_text("Owner,Region\nAnna,EMEA\n", encoding="utf-8")  # no kind fits
    window = show_main_window(qtbot, services, RecordingWindow)
    job = window.open_files([csv])
    qtbot.waitUntil(lambda: job.is_finished, timeout=WAIT)
    dialog = window._dialogs["kind"]
    assert isinstance(dialog, KindDialog) and window.calls == []
    dialog.choose("accounts")
    dialog.accept()
    assert window.calls == [("import", "accounts", csv)]


def test_open_with_a_file_that_cannot_be_imported_says_so(qtbot, services, tmp_path):
    window = show_main_window(qtbot, services, RecordingWindow)
    assert window.open_files([tmp_path / "missing.csv"]) is None
    assert window.calls == []
