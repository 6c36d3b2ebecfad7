"""View → History…: every run with its kind, file, time, connection, counts and state.

The dialog only asks for actions through signals; the main window connects them
to its hooks (open results, export report, retry failed rows, resume).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from recotap_desktop.engine.states import RESUMABLE_RUN_STATES, RunState
from recotap_desktop.ui.messages import describe_error
from recotap_desktop.ui.models import ObjectRole, history_model, make_proxy, run_counts, run_id
from recotap_desktop.ui.services import Services
from recotap_desktop.ui.widgets import resize_within_screen, tab_leaves

#: Run states that can be continued where they stopped (not a run that is still going).
RESUMABLE_STATES = frozenset(str(s) for s in RESUMABLE_RUN_STATES if s is not RunState.RUNNING)
#: Row states worth sending again.
RETRYABLE_ROW_STATES = frozenset({"failed", "not sent", "unknown"})
#: Kinds whose runs change existing accounts (their updates can be undone).
UNDOABLE_KINDS = frozenset({"accounts", "account-fields", "id-mappings"})
HISTORY_LIMIT = 1000


class HistoryDialog(QDialog):
    """All sync runs, newest first, with their actions."""

    openResultsRequested = Signal(int)
    exportReportRequested = Signal(int)
    retryRequested = Signal(int)
    resumeRequested = Signal(int)
    undoRequested = Signal(int)

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.setWindowTitle("Sync history")
        resize_within_screen(self, 980, 560)
        layout = QVBoxLayout(self)

        filters = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setObjectName("historySearch")
        self.search.setAccessibleName("Search the history")
        self.search.setPlaceholderText("Search file, kind, connection…")
        self.search.setClearButtonEnabled(True)
        filters.addWidget(self.search, 1)
        self.profile_filter = QComboBox()
        self.profile_filter.setObjectName("historyProfile")
        self.profile_filter.setAccessibleName("Show runs of connection")
        filters.addWidget(QLabel("Connection:"))
        filters.addWidget(self.profile_filter)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.refresh)
        filters.addWidget(refresh)
        layout.addLayout(filters)

        self.model = history_model(self)
        self.proxy = make_proxy(self.model, self)
        self.search.textChanged.connect(lambda t: self.proxy.setFilterFixedString(t.strip()))
        self.view = tab_leaves(QTableView())
        self.view.setObjectName("historyTable")
        self.view.setAccessibleName("Sync history")
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().setVisible(False)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.view.doubleClicked.connect(lambda _i: self._emit(self.openResultsRequested))
        layout.addWidget(self.view, 1)
        self.state_label = QLabel()
        self.state_label.setObjectName("historyState")
        self.state_label.setWordWrap(True)
        layout.addWidget(self.state_label)

        actions = QHBoxLayout()
        self.results_button = QPushButton("Open results")
        self.results_button.clicked.connect(lambda: self._emit(self.openResultsRequested))
        self.report_button = QPushButton("Export report…")
        self.report_button.clicked.connect(lambda: self._emit(self.exportReportRequested))
        self.retry_button = QPushButton("Retry failed rows")
        self.retry_button.clicked.connect(lambda: self._emit(self.retryRequested))
        self.resume_button = QPushButton("Resume")
        self.resume_button.clicked.connect(lambda: self._emit(self.resumeRequested))
        self.undo_button = QPushButton("Undo updates…")
        self.undo_button.setObjectName("historyUndo")
        self.undo_button.setToolTip(
            "Send back the values this run overwrote (opens its results to confirm); a "
            "value changed since the run is never overwritten.")
        self.undo_button.clicked.connect(lambda: self._emit(self.undoRequested))
        for button in (self.results_button, self.report_button, self.retry_button,
                       self.resume_button, self.undo_button):
            actions.addWidget(button)
        actions.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        actions.addWidget(buttons)
        layout.addLayout(actions)

        self.profile_filter.currentIndexChanged.connect(lambda _i: self.refresh())
        self._fill_profiles()
        self.refresh()

    def _fill_profiles(self) -> None:
        self.profile_filter.blockSignals(True)
        self.profile_filter.clear()
        self.profile_filter.addItem("All", None)
        for profile in self.services.profiles:
            self.profile_filter.addItem(profile.name, profile.name)
        self.profile_filter.blockSignals(False)

    def refresh(self) -> None:
        """Reload the runs from the history database."""
        history = self.services.history
        if history is None:
            self.state_label.setText("The sync history cannot be used: "
                                     + (self.services.history_problem or ""))
            self.model.clear()
            self._update_buttons()
            return
        try:
            runs = history.list_runs(limit=HISTORY_LIMIT,
                                     profile=self.profile_filter.currentData())
        except Exception as exc:
            self.state_label.setText("The sync history could not be read: " + describe_error(exc))
            runs = []
        else:
            self.state_label.setText("No runs yet." if not runs else f"{len(runs)} runs")
        self.model.set_rows(runs)
        self._update_buttons()

    def selected_run(self) -> Any:
        """The selected run record, or None."""
        rows = self.view.selectionModel().selectedRows()
        return rows[0].data(ObjectRole) if rows else None

    def select_run(self, wanted: int) -> bool:
        """Select the row of run ``wanted``; returns whether it is shown."""
        for row in range(self.proxy.rowCount()):
            run = self.proxy.index(row, 0).data(ObjectRole)
            if run is not None and run_id(run) == wanted:
                self.view.selectRow(row)
                return True
        return False

    def _update_buttons(self) -> None:
        run = self.selected_run()
        has = run is not None
        self.results_button.setEnabled(has)
        self.report_button.setEnabled(has)
        counts = run_counts(run) if has else {}
        self.retry_button.setEnabled(has and any(counts.get(s) for s in RETRYABLE_ROW_STATES))
        self.resume_button.setEnabled(has and str(run.state) in RESUMABLE_STATES)
        self.undo_button.setEnabled(has and str(run.kind) in UNDOABLE_KINDS
                                    and bool(counts.get("updated"))
                                    and str(run.state) != "running")

    def _emit(self, signal: Any) -> None:
        run = self.selected_run()
        if run is not None:
            signal.emit(run_id(run))
