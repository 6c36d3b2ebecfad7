"""Connection → Segments… and the segment step of the account wizard.

Segments load page by page on a worker (rows appear as pages arrive); typing in the
search box filters them; the chosen one is remembered per connection
(``Profile.segment_id`` / ``segment_name``). :attr:`SegmentPickerDialog.choice` is
``(segment_id, name)``, or ``None`` for "No segment"; a cancelled dialog changes nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from recotap_desktop.store.settings import Profile
from recotap_desktop.ui.messages import describe_error
from recotap_desktop.ui.models import ObjectRole, make_proxy, segment_model
from recotap_desktop.ui.services import Services
from recotap_desktop.ui.widgets import tab_leaves
from recotap_desktop.ui.workers import SignalProgress, Worker

log = logging.getLogger(__name__)

PAGE_SIZE = 100


class SegmentPickerDialog(QDialog):
    """Pick a static segment of the connection's workspace (or none)."""

    #: Emitted when all pages have arrived (number of segments).
    loaded = Signal(int)

    def __init__(self, services: Services, profile: Profile,
                 parent: QWidget | None = None, *, remember: bool = True) -> None:
        super().__init__(parent)
        self.services = services
        self.profile = profile
        self.remember = remember
        self.choice: tuple[str, str] | None = None
        self.job: Worker | None = None
        self.error: str | None = None
        self.setWindowTitle(f"Segments — {profile.name}")
        self.resize(640, 480)
        self._build()
        self.refresh()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Accounts you import can be added to one static segment (active or draft). "
            "Dynamic segments are not offered by Recotap's API.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        row = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setObjectName("segmentSearch")
        self.search.setAccessibleName("Search segments")
        self.search.setPlaceholderText("Search segments…")
        self.search.setClearButtonEnabled(True)
        row.addWidget(self.search, 1)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        row.addWidget(self.refresh_button)
        layout.addLayout(row)

        self.model = segment_model(self)
        self.proxy = make_proxy(self.model, self)
        self.search.textChanged.connect(self._on_search)
        self.view = tab_leaves(QTableView())
        self.view.setObjectName("segmentTable")
        self.view.setAccessibleName("Segments")
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().setVisible(False)
        self.view.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.view.doubleClicked.connect(lambda _i: self.accept())
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())

        self.state_label = QLabel()
        self.state_label.setObjectName("segmentState")
        self.state_label.setWordWrap(True)
        self.state_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.state_label)
        layout.addWidget(self.stack, 1)
        self.status_label = QLabel()
        self.status_label.setObjectName("segmentStatus")
        layout.addWidget(self.status_label)
        self.current_label = QLabel(self._current_text())
        layout.addWidget(self.current_label)

        self.buttons = QDialogButtonBox()
        self.use_button = self.buttons.addButton("Use segment",
                                                 QDialogButtonBox.ButtonRole.AcceptRole)
        self.use_button.setObjectName("useSegment")
        self.none_button = self.buttons.addButton("No segment",
                                                  QDialogButtonBox.ButtonRole.ActionRole)
        self.none_button.setToolTip("Import accounts without adding them to a segment")
        self.none_button.clicked.connect(self.choose_none)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._update_buttons()

    def _current_text(self) -> str:
        if self.profile.segment_id:
            name = self.profile.segment_name or self.profile.segment_id
            return f"Currently remembered for this connection: {name}"
        return "No segment is remembered for this connection."

    # ------------------------------------------------------------------ loading
    def refresh(self) -> Worker:
        """(Re)load all segments on a worker; rows appear as pages arrive."""
        if self.job is not None and self.job.running:
            self.job.cancel(stop_now=True)
        self.model.clear()
        self.error = None
        self._show_state(f"Loading segments from {self.services.host_of(self.profile)}…")
        self.status_label.setText("Loading…")
        self.refresh_button.setEnabled(False)
        services, profile = self.services, self.profile

        def load(progress: SignalProgress) -> int:
            count = 0
            with services.make_client(profile, cancel_event=progress.cancel_event) as client:
                for page in client.iter_segments(limit=PAGE_SIZE):
                    progress.raise_if_cancelled()
                    count += len(page)
                    progress.report(list(page))
            return count

        job = Worker(load, name="segments", parent=self)
        job.item.connect(lambda page: self._on_page(job, page))
        job.succeeded.connect(lambda count: self._on_loaded(job, count))
        job.failed.connect(lambda exc: self._on_failed(job, exc))
        job.finished.connect(lambda: self.refresh_button.setEnabled(True))
        self.job = job.start()
        return job

    def _on_page(self, job: Worker, page: Any) -> None:
        if job is not self.job:
            return  # a page of a load that was replaced by Refresh
        self.model.append_rows(page)
        self.stack.setCurrentWidget(self.view)
        self.status_label.setText(f"{self.model.rowCount()} segments so far…")
        self._select_remembered()

    def _on_loaded(self, job: Worker, count: Any) -> None:
        if job is not self.job:
            return
        total = self.model.rowCount()
        if total == 0:
            self._show_state("This workspace has no static segments yet. Create one in "
                             "Recotap, then press Refresh — or continue with “No segment”.")
            self.status_label.setText("No segments")
        else:
            self.stack.setCurrentWidget(self.view)
            self.status_label.setText(f"{total} segments")
            self._on_search(self.search.text())
        self.loaded.emit(total)

    def _on_failed(self, job: Worker, exc: Any) -> None:
        if job is not self.job:
            return
        self.error = describe_error(exc, self.services.host_of(self.profile))
        self._show_state("The segments could not be loaded.\n\n" + self.error
                         + "\n\nPress Refresh to try again.")
        self.status_label.setText("Failed")

    def _show_state(self, text: str) -> None:
        self.state_label.setText(text)
        self.stack.setCurrentWidget(self.state_label)

    def _on_search(self, text: str) -> None:
        self.proxy.setFilterFixedString(text.strip())
        if self.model.rowCount() and self.proxy.rowCount() == 0:
            self.status_label.setText(f"No segment matches “{text.strip()}”")
        elif self.model.rowCount():
            shown = self.proxy.rowCount()
            total = self.model.rowCount()
            self.status_label.setText(f"{total} segments" if shown == total
                                      else f"{shown} of {total} segments")
        if self.proxy.rowCount() == 1:
            self.view.selectRow(0)
        self._update_buttons()

    def _select_remembered(self) -> None:
        if self.view.selectionModel().hasSelection() or not self.profile.segment_id:
            return
        for row in range(self.proxy.rowCount()):
            segment = self.proxy.index(row, 0).data(ObjectRole)
            if segment is not None and segment.segment_id == self.profile.segment_id:
                self.view.selectionModel().select(
                    self.proxy.index(row, 0),
                    QItemSelectionModel.SelectionFlag.ClearAndSelect
                    | QItemSelectionModel.SelectionFlag.Rows)
                self.view.scrollTo(self.proxy.index(row, 0))
                break

    # ------------------------------------------------------------------ choice
    def selected_segment(self) -> Any:
        """The selected ``Segment`` or None."""
        rows = self.view.selectionModel().selectedRows()
        if not rows:
            return None
        return rows[0].data(ObjectRole)

    def _update_buttons(self) -> None:
        self.use_button.setEnabled(self.selected_segment() is not None)

    def choose_none(self) -> None:
        """Continue without a segment (remembered as such)."""
        self.choice = None
        self._remember(None, None)
        super().accept()

    def accept(self) -> None:
        """Use the selected segment."""
        segment = self.selected_segment()
        if segment is None:
            return
        self.choice = (segment.segment_id, segment.name)
        self._remember(segment.segment_id, segment.name)
        super().accept()

    def reject(self) -> None:
        """Close without changing anything; stop loading."""
        if self.job is not None and self.job.running:
            self.job.cancel(stop_now=True)
        super().reject()

    def _remember(self, segment_id: str | None, name: str | None) -> None:
        if not self.remember:
            return
        self.profile.segment_id = segment_id
        self.profile.segment_name = name
        stored = self.services.settings.get_profile(self.profile.name)
        if stored is not None and stored is not self.profile:
            stored.segment_id, stored.segment_name = segment_id, name
        try:
            self.services.save_settings()
        except Exception:
            log.warning("could not remember the segment", exc_info=True)
