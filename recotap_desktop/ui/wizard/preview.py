"""The Check page's "What will change" tab: every row's planned action, old -> new.

The preview is made on a worker (:func:`start_preview`): Recotap's accounts are read into
the connection's mirror (a delta: one request when nothing changed; progress and cancel
like every other wait), then each row of the checked plan is compared with them
(:mod:`recotap_desktop.engine.preview`). The grid lists the rows, filterable by planned
action and by text; the counts sit above it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from recotap_desktop.engine.baseline import Baseline, prepare_baseline
from recotap_desktop.engine.plan import Plan
from recotap_desktop.engine.preview import (
    HISTORY_KINDS,
    PREVIEW_KINDS,
    Planned,
    Preview,
    preview_from_history,
    preview_plan,
)
from recotap_desktop.engine.run_target import RunTarget
from recotap_desktop.store.mirror import AccountMirror, MirrorError
from recotap_desktop.ui.messages import describe_error
from recotap_desktop.ui.widgets import row_table
from recotap_desktop.ui.workers import SignalProgress, Worker

COLUMNS = ("Row", "Account", "Planned", "What changes (old \u2192 new)")
#: Planned actions in the filter, in the order a user reads them.
ACTIONS = tuple(Planned)

_Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class PreviewOutcome:
    """What the worker hands back: the preview and the note of a refresh that failed."""

    preview: Preview
    baseline: Baseline


def can_preview(kind: str) -> bool:
    return kind in PREVIEW_KINDS or kind in HISTORY_KINDS


def start_preview(parent: QWidget, plan: Plan, spec: Any, data_dir: Any,
                  client_kwargs: dict[str, Any], history: Any = None) -> Worker:
    """Read Recotap's accounts (or, for what the API does not list, the history) and plan
    every row, on a worker."""

    def work(progress: SignalProgress) -> PreviewOutcome:
        baseline = prepare_baseline(plan, spec, data_dir, cancel=progress.token,
                                    client_kwargs=client_kwargs, progress=progress,
                                    history=history)
        assert baseline is not None
        if not baseline.compared:
            raise MirrorError(baseline.note)
        if baseline.known is not None:
            preview = preview_from_history(plan, history, RunTarget.of(spec), progress.token)
            return PreviewOutcome(preview, baseline)
        info = baseline.index.info() if isinstance(baseline.index, AccountMirror) else None
        return PreviewOutcome(preview_plan(plan, baseline.index, info, progress.token), baseline)

    return Worker(work, name="preview", parent=parent)


class PreviewModel(QAbstractTableModel):
    """Rows of a :class:`Preview` as (row, planned, changes) tuples."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[tuple[int, str, str, str]] = []

    def set_preview(self, preview: Preview | None) -> None:
        self.beginResetModel()
        self.rows = [] if preview is None else [
            (row, p.subject, p.action.value, p.changes_text())
            for row, p in sorted(preview.rows.items())
        ]
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        value = self.rows[index.row()][index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return value
        if role == Qt.ItemDataRole.UserRole:  # sort key: rows as numbers
            return value
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None


class PreviewProxy(QSortFilterProxyModel):
    """Filter by planned action and by text in any column."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.action: str | None = None
        self.text = ""
        self.setSortRole(Qt.ItemDataRole.UserRole)

    def set_action(self, action: str | None) -> None:
        self.beginFilterChange()
        self.action = action
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_text(self, text: str) -> None:
        self.beginFilterChange()
        self.text = text.strip().casefold()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:
        model = self.sourceModel()
        assert isinstance(model, PreviewModel)
        row, subject, action, changes = model.rows[source_row]
        if self.action is not None and action != self.action:
            return False
        if self.text:
            return self.text in f"{row} {subject} {action} {changes}".casefold()
        return True


class PreviewPanel(QWidget):
    """Counts, filters and the grid of planned actions."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        status_row = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setObjectName("previewProgress")
        self.progress.setRange(0, 0)
        self.progress.setVisible(False)
        self.stop_button = QPushButton("S&top reading")
        self.stop_button.setObjectName("stopPreview")
        self.stop_button.setVisible(False)
        self.again_button = QPushButton("R&ead again")
        self.again_button.setObjectName("previewAgain")
        self.again_button.setToolTip("Read Recotap's accounts again and compare every row")
        self.again_button.setVisible(False)
        status_row.addWidget(self.progress, 1)
        status_row.addStretch(0)
        status_row.addWidget(self.stop_button)
        status_row.addWidget(self.again_button)
        layout.addLayout(status_row)
        self.summary = QLabel("The comparison with Recotap's accounts appears here once the "
                              "rows are checked.")
        self.summary.setObjectName("previewSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.summary)

        filters = QHBoxLayout()
        find = QLabel("F&ilter rows:")
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("previewFilter")
        self.filter_edit.setPlaceholderText("Row, domain, field or value…")
        self.filter_edit.setClearButtonEnabled(True)
        find.setBuddy(self.filter_edit)
        self.action_combo = QComboBox()
        self.action_combo.setObjectName("previewAction")
        self.action_combo.setAccessibleName("Show planned action")
        self.action_combo.addItem("Every planned action", None)
        for action in ACTIONS:
            self.action_combo.addItem(action.value.capitalize(), action.value)
        filters.addWidget(find)
        filters.addWidget(self.filter_edit, 1)
        filters.addWidget(self.action_combo)
        layout.addLayout(filters)

        self.model = PreviewModel(self)
        self.proxy = PreviewProxy(self)
        self.proxy.setSourceModel(self.model)
        self.filter_edit.textChanged.connect(self.proxy.set_text)
        self.action_combo.currentIndexChanged.connect(
            lambda _i: self.proxy.set_action(self.action_combo.currentData()))
        self.view = row_table(self.proxy, "previewTable", "Planned action of every row")
        header = self.view.horizontalHeader()
        header.setStretchLastSection(True)
        fm = self.fontMetrics()
        header.resizeSection(0, fm.horizontalAdvance("Row 100000") + 12)
        header.resizeSection(1, fm.horizontalAdvance("a-long-company-domain.com") + 12)
        header.resizeSection(2, fm.horizontalAdvance("not found  ") + 24)
        layout.addWidget(self.view, 1)

    def busy(self, message: str) -> None:
        self.model.set_preview(None)
        self.summary.setText(message)
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.stop_button.setVisible(True)
        self.again_button.setVisible(False)

    def on_progress(self, done: int, total: int, message: str) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(min(done, total))
        if done >= 0:
            self.summary.setText(f"Reading Recotap's accounts… {done:,} received"
                                 + (f" of about {total:,}" if total > 0 else ""))

    def show_result(self, outcome: PreviewOutcome, *, upsert_hint: bool) -> None:
        preview, baseline = outcome.preview, outcome.baseline
        self.model.set_preview(preview)
        self.view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        parts = [preview.summary()]
        if baseline.note:
            parts.append("⚠ " + baseline.note)
        elif preview.counts.get(Planned.UNCHANGED.value):
            parts.append("Unchanged rows are not sent (Options: “Send unchanged rows too”).")
        if upsert_hint and preview.counts.get(Planned.CONFLICT.value):
            parts.append("Accounts that exist with other values are updated only with "
                         "“Update accounts that already exist” (Options).")
        self.summary.setText(" ".join(parts))
        self.done()

    def show_error(self, exc: BaseException) -> None:
        self.summary.setText("✖ Recotap's accounts could not be read: " + describe_error(exc)
                             + " The rows can still be sent; every row is then sent.")
        self.done()

    def done(self) -> None:
        self.progress.setVisible(False)
        self.stop_button.setVisible(False)
        self.again_button.setVisible(True)


