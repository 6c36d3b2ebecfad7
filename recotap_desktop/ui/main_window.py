"""The main window: active connection at a glance, the actions, recent runs.

It opens the import wizard (:meth:`MainWindow.open_import_wizard`), the export and
backfill dialogs, and acts on a past run: :meth:`MainWindow.resume_run`,
:meth:`MainWindow.retry_failed_rows`, :meth:`MainWindow.open_run_results`,
:meth:`MainWindow.undo_run_updates` and :meth:`MainWindow.export_run_report`. Those hand
over to the window's :class:`~recotap_desktop.ui.run_actions.RunActions`
(``ui/run_actions.py``), which does the work. Server calls run on workers (``ui/workers``).

Message boxes are opened with ``open()`` (window-modal, not a nested event loop), so
the window keeps painting and tests can drive them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QByteArray, QEvent, QObject, QTimer, Signal
from PySide6.QtGui import QAction, QFont, QKeySequence, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from recotap_desktop import APP_DISPLAY_NAME
from recotap_desktop.domain.editions import rules_for
from recotap_desktop.store.settings import UI_LAST_FOLDER, UI_WINDOW_GEOMETRY, Profile
from recotap_desktop.ui.kinds import IMPORT_KINDS, OPENABLE_SUFFIXES, KindGuess, is_openable
from recotap_desktop.ui.messages import describe_error
from recotap_desktop.ui.qt_compat import Qt
from recotap_desktop.ui.run_actions import RunActions
from recotap_desktop.ui.run_format import HISTORY_COLUMNS, run_id
from recotap_desktop.ui.services import Services
from recotap_desktop.ui.target_badge import TargetBadge
from recotap_desktop.ui.widgets import (
    ElidedLabel,
    resize_within_screen,
    return_presses_buttons,
    tab_leaves,
)
from recotap_desktop.ui.workers import SignalProgress, Worker

if TYPE_CHECKING:
    from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QMenu

    # Dialogs are imported when first opened (start-up time: bench/bench_startup.py); so
    # are the Qt classes only they and later actions use (each costs PySide 0.5-2 ms).
    from recotap_desktop.ui.dialogs import HelpDialog, KindDialog, PreferencesDialog

log = logging.getLogger(__name__)

#: settings.ui key of the main window's geometry (base64 of saveGeometry()).
UI_MAIN_GEOMETRY = UI_WINDOW_GEOMETRY
RECENT_RUNS = 12



def format_verified(value: str | None) -> str:
    """``last_verified`` in local time, or ``never``."""
    if not value:
        return "never"
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if when.tzinfo is not None:
        when = when.astimezone()
    return when.strftime("%Y-%m-%d %H:%M")


def when_first_painted(window: QWidget, callback: Callable[[], None]) -> QObject:
    """Call ``callback`` (from the event loop) after ``window`` has painted for the first time.

    Returns the event filter object; keep a reference to it while waiting.
    """

    class _FirstPaint(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                window.removeEventFilter(self)
                QTimer.singleShot(0, callback)
            return False

    watcher = _FirstPaint(window)
    window.installEventFilter(watcher)
    return watcher


class ConnectionCard(QGroupBox):
    """The active connection: name, edition, host, key, last verified; change and test."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Connection", parent)
        grid = QGridLayout(self)
        self.name_label = ElidedLabel()  # a long connection name is cut, whole in its tooltip
        font = QFont(self.name_label.font())
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.name_label.setFont(font)
        self.name_label.setObjectName("connectionName")
        self.edition_label = QLabel()
        self.host_label = QLabel()
        self.key_label = QLabel()
        self.key_label.setWordWrap(True)
        self.verified_label = QLabel()
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.change_button = QPushButton("Connections…")
        self.test_button = QPushButton("Test connection")
        grid.addWidget(self.name_label, 0, 0)
        # A form layout puts each caption beside the first line of a value that wraps.
        form = QFormLayout()
        form.addRow("Edition:", self.edition_label)
        form.addRow("Server:", self.host_label)
        form.addRow("API key:", self.key_label)
        form.addRow("Last verified:", self.verified_label)
        grid.addLayout(form, 1, 0)
        grid.addWidget(self.result_label, 2, 0)
        buttons = QVBoxLayout()
        buttons.addWidget(self.change_button)
        buttons.addWidget(self.test_button)
        buttons.addStretch(1)
        grid.addLayout(buttons, 0, 1, 3, 1)
        grid.setColumnStretch(0, 1)

    def show_profile(self, profile: Profile | None, host: str = "") -> None:
        """Fill the labels for ``profile`` (None: no connection yet) and the ``host`` it
        talks to."""
        if profile is None:
            self.name_label.set_full_text("No connection yet")
            self.edition_label.setText("—")
            self.host_label.setText("—")
            self.key_label.setText("Add a connection with your Recotap API key to start.")
            self.verified_label.setText("—")
            self.test_button.setEnabled(False)
            return
        self.name_label.set_full_text(profile.name)
        self.edition_label.setText(rules_for(profile.edition).title)
        self.host_label.setText(host)
        self.verified_label.setText(format_verified(profile.last_verified))
        self.test_button.setEnabled(True)

    def show_result(self, text: str, ok: bool | None) -> None:
        """Show the outcome of a test (``ok`` None: in progress)."""
        prefix = {True: "✔ ", False: "✖ ", None: ""}[ok]
        # Selectable, so an error can be copied; set here, not at start-up (qt_compat.Qt).
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result_label.setText(prefix + text)


class MainWindow(QMainWindow):
    """The main window. Construct with a :class:`Services`; call :meth:`run_startup_checks`
    once it is shown."""

    #: Emitted after the active connection changed (name or None).
    connectionChanged = Signal(object)

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self._jobs: set[Worker] = set()
        #: Resume, retry, results, undo and report of a past run (ui/run_actions.py).
        self.run_actions = RunActions(self)
        self._message_box: QMessageBox | None = None
        self._dialogs: dict[str, QWidget] = {}
        self.setAcceptDrops(True)
        # Background jobs start once the first frame is on screen: creating a Worker loads
        # the Qt namespace (~20 ms, see qt_compat.Qt) and nothing they show is needed sooner.
        self._paint_watch: QObject | None = when_first_painted(self, self._first_frame_shown)
        self._build_ui()
        self._build_menus()
        self.refresh_connection()
        self.refresh_history()
        self._restore_geometry()

    # ------------------------------------------------------------------ layout
    def _build_ui(self) -> None:
        """The window's parts, top to bottom (their order is the Tab order)."""
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addLayout(self._build_title())
        layout.addWidget(self._build_connection_card())
        actions = QHBoxLayout()
        actions.addWidget(self._build_send_box(), 2)
        actions.addWidget(self._build_get_box(), 1)
        layout.addLayout(actions)
        layout.addWidget(self._build_recent_runs(), 1)
        self.setCentralWidget(central)
        return_presses_buttons(central)
        self.statusBar().showMessage("Ready")
        resize_within_screen(self, 960, 680)

    def _build_title(self) -> QHBoxLayout:
        """The app's name and what it does, beside the badge of where rows go."""
        top = QHBoxLayout()
        title = QLabel(f"<b>{APP_DISPLAY_NAME}</b> — move CRM files in and out of Recotap")
        top.addWidget(title, 1)
        # Where rows go: DEMO for the demo sandbox only, else the workspace and its host.
        self.target_badge = TargetBadge()
        self.demo_badge = self.target_badge.demo
        top.addWidget(self.target_badge)
        return top

    def _build_connection_card(self) -> ConnectionCard:
        """The active connection, with "Connections…" and "Test connection"."""
        self.card = ConnectionCard()
        self.card.change_button.clicked.connect(self.open_connections)
        self.card.test_button.clicked.connect(self.test_connection)
        return self.card

    def _build_send_box(self) -> QGroupBox:
        """"Send to Recotap": one button per import kind, two a row, and the drop hint."""
        send = QGroupBox("Send to Recotap")
        send_grid = QGridLayout(send)
        self.import_buttons: dict[str, QPushButton] = {}
        for i, (kind, text) in enumerate(IMPORT_KINDS):
            button = QPushButton(text + "…")
            button.setObjectName(f"import-{kind}")
            button.clicked.connect(lambda _=False, k=kind: self.open_import_wizard(k))
            send_grid.addWidget(button, i // 2, i % 2)
            self.import_buttons[kind] = button
        hint = QLabel("Tip: drop a CSV, TXT or Excel file on this window to import it.")
        hint.setEnabled(False)
        send_grid.addWidget(hint, 3, 0, 1, 2)
        return send

    def _build_get_box(self) -> QGroupBox:
        """"Get from Recotap": export the scored accounts, backfill external IDs."""
        get = QGroupBox("Get from Recotap")
        get_layout = QVBoxLayout(get)
        self.export_button = QPushButton("Export scored accounts…")
        self.export_button.setObjectName("export-accounts")
        self.export_button.clicked.connect(lambda: self.open_export())
        get_layout.addWidget(self.export_button)
        self.backfill_button = QPushButton("Backfill external IDs…")
        self.backfill_button.setObjectName("backfill-ids")
        self.backfill_button.setToolTip(
            "Find the Recotap accounts that have no ID from your CRM yet, match them to a CRM "
            "export by domain and company name, review, and write the IDs."
        )
        self.backfill_button.clicked.connect(lambda: self.open_backfill())
        get_layout.addWidget(self.backfill_button)
        get_layout.addStretch(1)
        return get

    def _build_recent_runs(self) -> QGroupBox:
        """"Recent runs": a problem line, the list (or its empty text) and "All runs…"."""
        runs = QGroupBox("Recent runs")
        runs_layout = QVBoxLayout(runs)
        self.history_problem_label = QLabel()
        self.history_problem_label.setWordWrap(True)
        self.history_problem_label.setVisible(False)
        runs_layout.addWidget(self.history_problem_label)
        self._build_runs_view()
        self.runs_empty_label = QLabel("No runs yet. Your imports and exports will be listed here.")
        self.runs_empty_label.setEnabled(False)
        runs_layout.addWidget(self.runs_empty_label)
        runs_layout.addWidget(self.runs_view, 1)
        runs_layout.addStretch(0)
        more = QHBoxLayout()
        more.addStretch(1)
        history_button = QPushButton("All runs…")
        history_button.clicked.connect(self.open_history)
        more.addWidget(history_button)
        runs_layout.addLayout(more)
        return runs

    def _build_runs_view(self) -> None:
        """The recent runs, newest first, one row selected at a time; a double-click opens
        a run's results."""
        # A C++ item model: the window's first frame needs no Python model (its headerData()
        # would load the Qt namespace; see qt_compat.Qt).
        self.runs_model = QStandardItemModel(0, len(HISTORY_COLUMNS), self)
        self.runs_model.setHorizontalHeaderLabels([c.title for c in HISTORY_COLUMNS])
        self._recent_runs: list[Any] = []
        self.runs_view = tab_leaves(QTableView())
        self.runs_view.setObjectName("recentRuns")
        self.runs_view.setModel(self.runs_model)
        self.runs_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.runs_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.runs_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.runs_view.verticalHeader().setVisible(False)
        self.runs_view.setAlternatingRowColors(True)
        header = self.runs_view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.runs_view.doubleClicked.connect(
            lambda index: self.open_run_results(run_id(self._recent_runs[index.row()])))

    def _action(self, text: str, slot: Any, shortcut: str | None = None,
                name: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            # setShortcuts([...]), not setShortcut(): resolving that overload loads the Qt
            # namespace (see qt_compat.Qt), ~20 ms before the first frame.
            action.setShortcuts([QKeySequence.fromString(shortcut)])
        action.triggered.connect(lambda _=False: slot())
        if name:
            action.setObjectName(name)
        return action

    def _build_menus(self) -> None:
        """File, Connection, View and Help, in that order in the menu bar."""
        bar = self.menuBar()
        self._build_file_menu(bar.addMenu("&File"))
        self._build_connection_menu(bar.addMenu("&Connection"))
        view = bar.addMenu("&View")
        view.addAction(self._action("&History…", self.open_history, "Ctrl+H", "actionHistory"))
        self._build_help_menu(bar.addMenu("&Help"))

    def _build_file_menu(self, file_menu: QMenu) -> None:
        """Open…, Import ▸ (one entry per kind), Export, Backfill, Preferences…, Quit."""
        self.open_action = self._action("&Open…", self.open_file, "Ctrl+O", "actionOpen")
        file_menu.addAction(self.open_action)
        file_menu.addSeparator()
        imports = file_menu.addMenu("&Import")
        for kind, text in IMPORT_KINDS:
            imports.addAction(self._action(text + "…", lambda k=kind: self.open_import_wizard(k),
                                           name=f"actionImport-{kind}"))
        file_menu.addAction(self._action("&Export scored accounts…", self.open_export,
                                         name="actionExport"))
        file_menu.addAction(self._action("&Backfill external IDs…", self.open_backfill,
                                         name="actionBackfill"))
        file_menu.addSeparator()
        self.preferences_action = self._action("&Preferences…", self.open_preferences,
                                               name="actionPreferences")
        self.preferences_action.setShortcuts([QKeySequence.fromString("Ctrl+,"),
                                              *QKeySequence.keyBindings(
                                                  QKeySequence.StandardKey.Preferences)])
        self.preferences_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        file_menu.addAction(self.preferences_action)
        file_menu.addSeparator()
        quit_action = self._action("&Quit", self.close, "Ctrl+Q", "actionQuit")
        quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        file_menu.addAction(quit_action)

    def _build_connection_menu(self, conn: QMenu) -> None:
        """Connections…, Test connection, Segments…, Custom fields…"""
        conn.addAction(self._action("&Connections…", self.open_connections,
                                    name="actionConnections"))
        self.test_action = self._action("&Test connection", self.test_connection,
                                        name="actionTest")
        conn.addAction(self.test_action)
        conn.addSeparator()
        conn.addAction(self._action("&Segments…", self.open_segments, name="actionSegments"))
        conn.addAction(self._action("Custom &fields…", self.open_custom_fields,
                                    name="actionCustomFields"))

    def _build_help_menu(self, help_menu: QMenu) -> None:
        """Help (F1) and About."""
        help_menu.addAction(self._action("&Help", self.show_help, "F1", "actionHelp"))
        about = self._action("&About", self.show_about, name="actionAbout")
        about.setMenuRole(QAction.MenuRole.AboutRole)
        help_menu.addAction(about)

    # ------------------------------------------------------------------ geometry
    def _restore_geometry(self) -> None:
        value = self.services.settings.ui.get(UI_MAIN_GEOMETRY)
        if isinstance(value, str) and value:
            self.restoreGeometry(QByteArray.fromBase64(value.encode("ascii")))

    def save_geometry(self) -> None:
        """Remember size and position in the settings."""
        data = self.saveGeometry().toBase64().data()
        # closing never fails because the disk is full: remembering only logs then
        self.services.settings.remember(UI_MAIN_GEOMETRY, bytes(data).decode("ascii"))

    def closeEvent(self, event: QCloseEvent) -> None:
        """Quit: while a run writes its journal, ask how it should stop and keep the window
        (with the progress) until it has stopped; then remember the geometry, stop the other
        background jobs and close (the history closes after, when the app quits)."""
        if self._stop_runs_before_quitting() or not self._close_other_windows():
            event.ignore()
            return
        self.save_geometry()
        for job in list(self._jobs):
            job.cancel(stop_now=True)
        super().closeEvent(event)

    def _stop_runs_before_quitting(self) -> bool:
        """True when a run is still going: its window asks how to stop (“keep running” keeps
        everything); once it has stopped, :meth:`close` is called again."""
        for window in self.children():
            ask_stop = getattr(window, "ask_stop", None)
            if (isinstance(window, QWidget) and window.isWindow() and callable(ask_stop)
                    and getattr(window, "running", False) is True):
                window.show()
                window.raise_()
                window.activateWindow()
                self._message_box = ask_stop(on_stopped=self.close)
                return True
        busy = [job for job in self.run_actions.jobs if job.running]
        for job in busy:  # a resume shows its own progress dialog with "Stop"
            job.cancel(stop_now=False)
            job.finished.connect(self.close)
        if busy:
            self.statusBar().showMessage("Stopping the run before quitting…")
        return bool(busy)

    def _close_other_windows(self) -> bool:
        """Close the wizards, dialogs and result windows this window opened (they would keep
        the app running); False when one declines (it asks, e.g. to discard an import)."""
        for window in self.children():
            if isinstance(window, QWidget) and window.isWindow() and window.isVisible() \
                    and not window.close():
                return False
        return True

    # ------------------------------------------------------------------ jobs
    def _run(self, fn: Any, *, name: str, on_success: Any = None, on_error: Any = None) -> Worker:
        job = Worker(fn, name=name, parent=self)
        self._jobs.add(job)
        if on_success is not None:
            job.succeeded.connect(on_success)
        if on_error is not None:
            job.failed.connect(on_error)
        job.finished.connect(lambda: self._jobs.discard(job))
        return job.start()

    def _inform(self, title: str, text: str,
                icon: QMessageBox.Icon = QMessageBox.Icon.Information) -> QMessageBox:
        box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._message_box = box
        box.open()
        return box

    # ------------------------------------------------------------------ connection
    def refresh_connection(self) -> None:
        """Show the active connection; look up where its key is (on a worker)."""
        profile = self.services.active_profile
        self.card.show_profile(profile, self.services.host_of(profile) if profile else "")
        self.target_badge.show_profile(self.services, profile)
        self.setWindowTitle(APP_DISPLAY_NAME + (
            "" if profile is None else " — Demo" if self.services.is_demo(profile)
            else f" — {profile.name} ({self.services.host_of(profile)})"))
        self.test_action.setEnabled(profile is not None)
        if profile is None:
            return
        self.card.key_label.setText("checking…")
        if self._paint_watch is None:  # else _first_frame_shown looks it up
            self._look_up_key_origin()

    def _first_frame_shown(self) -> None:
        self._paint_watch = None
        self._look_up_key_origin()

    def _look_up_key_origin(self) -> None:
        """Fill the key label with where the active connection's key is (on a worker)."""
        profile = self.services.active_profile
        if profile is None:
            return
        services = self.services

        def key_origin(progress: SignalProgress) -> str:
            from recotap_desktop.store.secrets import KeychainUnavailable

            try:
                _key, origin = services.key_for(profile)
            except KeychainUnavailable as exc:
                return "No key: the system keychain cannot be used. " + exc.message
            if origin is None:
                return "Not stored yet: open Connections… to enter it."
            text = services.describe_key_origin(origin)
            return text[:1].upper() + text[1:]

        self._run(key_origin, name="key-origin", on_success=self.card.key_label.setText,
                  on_error=lambda exc: self.card.key_label.setText(describe_error(exc)))

    def test_connection(self) -> Worker | None:
        """Check the active connection's key with the cheapest call, on a worker."""
        profile = self.services.active_profile
        if profile is None:
            self.open_connections()
            return None
        services = self.services
        host = self.services.host_of(profile)
        self.card.show_result(f"Testing the connection to {host}…", None)
        self.card.test_button.setEnabled(False)
        self.statusBar().showMessage(f"Testing the connection to {host}…")

        def verify(progress: SignalProgress) -> Any:
            # Both editions' paths are probed, as in the Connections dialog (issue 18,
            # finding 8): a workspace that moved to the other edition is found, not refused.
            from recotap_desktop.api.detect import detect_edition

            spec = services.connection_spec(profile)
            return detect_edition(spec.api_key, base_url=spec.base_url,
                                  preferred=profile.edition,
                                  allow_insecure_http=profile.allow_insecure_http,
                                  cancel_event=progress.cancel_event, timeout=spec.timeout)

        def ok(found: Any) -> None:
            if found.chosen is None:  # the words `recotap auth test` prints (one owner)
                self._say_failed(found.message[:1].upper() + found.message[1:])
                return
            moved = ""
            edition = found.chosen.rules.name
            if edition != profile.edition:
                services.update_profile_edition(profile.name, edition, found.chosen.base_url)
                moved = f" It speaks the {found.chosen.rules.title}; the connection now uses it."
            services.mark_verified(profile.name)
            self.card.show_result(f"Connected to {host}: the API key works.{moved}", True)
            self.statusBar().showMessage("Connection OK", 5000)
            self.refresh_connection()

        def failed(exc: BaseException) -> None:
            self._say_failed(describe_error(exc, host))

        job = self._run(verify, name="test-connection", on_success=ok, on_error=failed)
        job.finished.connect(lambda: self.card.test_button.setEnabled(True))
        return job

    def _say_failed(self, text: str) -> None:
        self.card.show_result(text, False)
        self.statusBar().showMessage("Connection failed", 5000)

    def open_connections(self) -> Any:
        """Connection → Connections… (non-blocking); refreshes the card when closed."""
        from recotap_desktop.ui.connection_dialog import ConnectionDialog

        dialog = ConnectionDialog(self.services, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _r: self._after_connections(dialog.saved_notes))
        self._dialogs["connections"] = dialog
        dialog.open()
        return dialog

    def _after_connections(self, notes: list[str] | None = None) -> None:
        self._dialogs.pop("connections", None)
        self.refresh_connection()
        # what saving could not do (a key kept in memory only, a connection not verified)
        self.card.show_result("\n".join(f"Note: {n}" for n in notes or []), None)
        active = self.services.active_profile
        self.connectionChanged.emit(active.name if active else None)

    def _require_profile(self) -> Profile | None:
        profile = self.services.active_profile
        if profile is None:
            self._inform("No connection", "Add a connection first (Connection → Connections…).")
        return profile

    def open_segments(self) -> Any:
        """Connection → Segments…: browse segments and remember one for account imports."""
        from recotap_desktop.ui.segment_picker import SegmentPickerDialog

        profile = self._require_profile()
        if profile is None:
            return None
        dialog = SegmentPickerDialog(self.services, profile, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._dialogs["segments"] = dialog
        dialog.open()
        return dialog

    def open_custom_fields(self) -> Any:
        """Connection → Custom fields…"""
        from recotap_desktop.ui.custom_fields import CustomFieldsDialog

        profile = self._require_profile()
        if profile is None:
            return None
        dialog = CustomFieldsDialog(self.services, profile, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._dialogs["custom-fields"] = dialog
        dialog.open()
        return dialog

    # ------------------------------------------------------------------ history
    def refresh_history(self) -> None:
        """Reload the recent runs from the history."""
        history = self.services.history
        if history is None:
            self.history_problem_label.setText(
                "The sync history cannot be used: " + (self.services.history_problem or ""))
            self.history_problem_label.setVisible(True)
            self._show_recent_runs([])
        else:
            try:
                runs = history.list_runs(limit=RECENT_RUNS)
                self._show_recent_runs(runs)
            except Exception as exc:
                self.history_problem_label.setText(
                    "The sync history could not be read: " + describe_error(exc))
                self.history_problem_label.setVisible(True)
            else:
                self._verified_by_runs(runs)
        empty = self.runs_model.rowCount() == 0
        self.runs_empty_label.setVisible(empty and history is not None)
        self.runs_view.setVisible(not empty)

    def _verified_by_runs(self, runs: list[Any]) -> None:
        """A run the server answered proves the connection ("Last verified")."""
        try:
            changed = self.services.mark_verified_by_runs(runs)
        except Exception as exc:  # settings not writable: the label simply stays as it was
            log.warning("cannot record the connection as verified: %s", describe_error(exc))
            return
        if changed:
            active = self.services.active_profile
            self.card.show_profile(active, self.services.host_of(active) if active else "")

    def _show_recent_runs(self, runs: list[Any]) -> None:
        # Every cell first: if formatting a run fails, the list and the rows stay as they were
        # (a double-click must open the run it shows).
        rows = []
        for run in runs:
            row = []
            for column in HISTORY_COLUMNS:
                item = QStandardItem(column.text(run))
                item.setEditable(False)
                if column.tooltip is not None:
                    item.setToolTip(column.tooltip(run))
                row.append(item)
            rows.append(row)
        model = self.runs_model
        model.setRowCount(0)
        for row in rows:
            model.appendRow(row)
        self._recent_runs = list(runs)

    def open_history(self) -> Any:
        """View → History…"""
        from recotap_desktop.ui.history_view import HistoryDialog

        if self.services.history is None:
            self._inform("History unavailable", self.services.history_problem or "",
                         QMessageBox.Icon.Warning)
            return None
        dialog = HistoryDialog(self.services, self)
        dialog.openResultsRequested.connect(self.open_run_results)
        dialog.exportReportRequested.connect(self.export_run_report)
        dialog.retryRequested.connect(self.retry_failed_rows)
        dialog.resumeRequested.connect(lambda rid: self.resume_run(rid))
        dialog.undoRequested.connect(self.undo_run_updates)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._dialogs["history"] = dialog
        dialog.show()
        return dialog

    # ------------------------------------------------------------------ misc dialogs
    def open_preferences(self) -> PreferencesDialog:
        """File → Preferences…"""
        from recotap_desktop.ui.dialogs import PreferencesDialog

        dialog = PreferencesDialog(self.services, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._dialogs["preferences"] = dialog
        dialog.open()
        return dialog

    def show_help(self) -> HelpDialog:
        """Help → Help (F1)."""
        from recotap_desktop.ui.dialogs import HelpDialog

        dialog = HelpDialog(self.services, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._dialogs["help"] = dialog
        dialog.show()
        return dialog

    def show_about(self) -> QMessageBox:
        """Help → About."""
        from recotap_desktop.ui.dialogs import about_text

        box = QMessageBox(QMessageBox.Icon.NoIcon, f"About {APP_DISPLAY_NAME}", about_text(),
                          QMessageBox.StandardButton.Ok, self)
        box.setIconPixmap(self.windowIcon().pixmap(64, 64))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._message_box = box
        box.open()
        return box

    # ------------------------------------------------------------------ files
    def open_files(self, paths: list[Path]) -> Worker | None:
        """Files given on the command line or by a later launch (issue 18: 9): bring the
        window forward and open the import wizard on the first; its kind is asked only
        when the headers leave it unsure."""
        if self.isMinimized():
            self.showNormal()
        else:
            self.show()
        self.raise_()
        self.activateWindow()
        if not paths:
            return None
        path, rest = paths[0], paths[1:]
        if rest:
            self.statusBar().showMessage(
                f"Opened {path.name}; import the other {len(rest)} file(s) one at a time.")
        if not path.is_file() or not is_openable(path):
            self._inform("Cannot open this file",
                         f"{path} is not a CSV, TSV, TXT or XLSX file that exists.")
            return None
        return self.open_file(path, ask_when_sure=False)

    def open_file(self, path: Path | str | None = None, *,
                  ask_when_sure: bool = True) -> Worker | None:
        """File → Open…: choose a file, guess its kind from the headers, ask, open the wizard.

        With ``ask_when_sure=False`` a kind the headers settle (:attr:`KindGuess.sure`)
        opens the wizard directly."""
        if path is None:
            from PySide6.QtWidgets import QFileDialog

            start = str(self.services.settings.ui.get(UI_LAST_FOLDER) or Path.home())
            patterns = " ".join(f"*{s}" for s in OPENABLE_SUFFIXES)
            chosen, _filter = QFileDialog.getOpenFileName(
                self, "Open a file to import", start,
                f"Spreadsheets ({patterns});;All files (*)")
            if not chosen:
                return None
            path = chosen
        path = Path(path)
        self.services.settings.remember(UI_LAST_FOLDER, str(path.parent))
        profile = self.services.active_profile
        edition = profile.edition if profile else "crm"
        self.statusBar().showMessage(f"Reading the columns of {path.name}…")

        def guess(progress: SignalProgress) -> KindGuess:
            from recotap_desktop.ui.kinds import guess_kind

            return guess_kind(path, edition)

        def ask(result: KindGuess) -> None:
            self.statusBar().clearMessage()
            if not ask_when_sure and result.sure and result.kind is not None:
                self.open_import_wizard(result.kind, path)
                return
            self.ask_kind(path, result.kind, result.complete)

        def failed(exc: BaseException) -> None:
            self.statusBar().clearMessage()
            log.info("could not read headers of %s: %s", path, exc)
            # Still let the user choose; the wizard will show the file problem in detail.
            self.ask_kind(path, None, (), problem=describe_error(exc))

        return self._run(guess, name="guess-kind", on_success=ask, on_error=failed)

    def ask_kind(self, path: Path, guessed: str | None, complete: Any = (),
                 problem: str = "") -> KindDialog:
        """Ask which kind of records ``path`` holds, then call :meth:`open_import_wizard`."""
        from recotap_desktop.ui.dialogs import KindDialog

        dialog = KindDialog(path.name, guessed, complete=tuple(complete), parent=self)
        if problem:
            dialog.setToolTip(problem)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def done(result: int) -> None:
            kind = dialog.kind
            self._dialogs.pop("kind", None)
            if result == KindDialog.DialogCode.Accepted and kind:
                self.open_import_wizard(kind, path)

        dialog.finished.connect(done)
        self._dialogs["kind"] = dialog
        dialog.open()
        return dialog

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Accept one local CSV/TSV/TXT/XLSX file."""
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        if len(urls) == 1 and urls[0].isLocalFile() and is_openable(urls[0].toLocalFile()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        """Open the dropped file like File → Open…"""
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile() and is_openable(urls[0].toLocalFile()):
            event.acceptProposedAction()
            # Leave the drag-and-drop handler before doing anything that may show a dialog.
            path = Path(urls[0].toLocalFile())
            QTimer.singleShot(0, lambda: self.open_file(path))
        else:
            event.ignore()

    # ------------------------------------------------------------------ start-up
    def run_startup_checks(self) -> None:
        """After the window is shown: first start → connection dialog; warnings; resume offer."""
        for warning in self.services.settings.warnings:
            self._inform("Settings", warning, QMessageBox.Icon.Warning)
        self.services.settings.warnings.clear()
        if not self.services.profiles:
            self.open_connections()
            return
        self.offer_resume()

    def offer_resume(self) -> QMessageBox | None:
        """Offer to resume the most recent interrupted run (calls :meth:`resume_run`)."""
        return self.run_actions.offer_resume()

    # ------------------------------------------------------------------ hooks
    def open_import_wizard(self, kind: str, path: Path | None = None) -> None:
        """Open the import wizard for ``kind`` (with ``path`` already chosen when given)."""
        if self.services.active_profile is None:
            self._inform("No connection", "Add a connection first (Connection → Connections…).")
            return
        from recotap_desktop.ui.wizard import ImportWizard

        log.info("import wizard opened: kind=%s file=%s", kind, path)
        wizard = ImportWizard(self.services, kind, path, self)
        wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        wizard.finished.connect(lambda _code: self.refresh_history())
        self._dialogs["wizard"] = wizard
        wizard.show()

    def open_backfill(self) -> None:
        """Open the external-ID backfill assistant for the active connection."""
        if self.services.active_profile is None:
            self._inform("No connection", "Add a connection first (Connection → Connections…).")
            return
        from recotap_desktop.ui.backfill import BackfillDialog

        dialog = BackfillDialog(self.services, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _code: self.refresh_history())
        dialog.open()

    def open_export(self) -> None:
        """Open the "Export scored accounts" dialog for the active connection."""
        if self.services.active_profile is None:
            self._inform("No connection", "Add a connection first (Connection → Connections…).")
            return
        from recotap_desktop.ui.export import ExportDialog

        dialog = ExportDialog(self.services, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _code: self.refresh_history())
        dialog.open()

    # ------------------------------------------------------------------ run actions
    # A past run's actions live in ui/run_actions.py (RunActions); these are the window's
    # entry points to them (the recent runs, the History dialog and the resume offer use them).
    def resume_run(self, run_id: int, target: Profile | None = None) -> Worker | None:
        """Continue an unfinished run on a worker, to its own connection or to ``target``
        when the user chose one (see :meth:`RunActions.resume`)."""
        return self.run_actions.resume(run_id, target)

    def open_run_results(self, run_id: int) -> QWidget:
        """Show the results grid of run ``run_id`` (an export run: where its file is)."""
        return self.run_actions.open_results(run_id)

    def undo_run_updates(self, run_id: int) -> QWidget:
        """Open run ``run_id``'s results and start "Undo updates…" there (it asks first)."""
        return self.run_actions.undo_updates(run_id)

    def retry_failed_rows(self, run_id: int) -> QWidget:
        """Open the run's results and send its failed and not-sent rows again (a new run)."""
        return self.run_actions.retry_failed(run_id)

    def export_run_report(self, run_id: int) -> None:
        """Save the report of run ``run_id`` (asks where; "Failures only" types exist)."""
        self.run_actions.export_report(run_id)

    def _results_closed(self, *_args: object) -> None:
        # The main window may already be gone when the app quits with a results window open.
        if shiboken6.isValid(self) and shiboken6.isValid(self.runs_model):
            self.refresh_history()
