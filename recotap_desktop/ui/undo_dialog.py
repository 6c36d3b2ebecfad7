"""Confirm undoing a run's updates: what goes back, what is refused and why (issue 16).

Shown once :func:`recotap_desktop.engine.revert.plan_revert` has compared the run's
recorded values with Recotap's accounts as they are now. Nothing is sent until the user
presses the send button; the accounts the run created (which the API cannot remove) can
be saved to a file from here.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from recotap_desktop.engine.revert import FieldRevert, RevertPlan, Verdict, write_created_list
from recotap_desktop.ui.messages import describe_error
from recotap_desktop.ui.widgets import resize_within_screen, tab_leaves

_VERDICT_WORDS = {
    Verdict.RESTORE: "goes back",
    Verdict.CHANGED: "refused: changed since",
    Verdict.CANNOT: "cannot be written back",
    Verdict.ALREADY: "already back",
}


class UndoDialog(QDialog):
    """The plan of an undo, field by field, and the one button that sends it."""

    def __init__(self, plan: RevertPlan, host: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plan = plan
        self.setObjectName("undoDialog")
        self.setWindowTitle(f"Undo the updates of run {plan.run_id}")
        layout = QVBoxLayout(self)
        self.summary = QLabel(plan.summary() + " Values someone changed since the run are "
                              "never overwritten.")
        self.summary.setObjectName("undoSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.summary)

        self.tree = tab_leaves(QTreeWidget())
        self.tree.setObjectName("undoTree")
        self.tree.setAccessibleName("What the undo sends back, per account and field")
        self.tree.setColumnCount(4)
        self.tree.setHeaderLabels(["Row / field", "Now in Recotap", "Goes back to", "Verdict"])
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setUniformRowHeights(True)
        for row in plan.rows:
            parent_item = QTreeWidgetItem([f"Row {row.row}  {row.domain}", "", "",
                                           _row_verdict(row.fields)])
            for f in row.fields:
                child = QTreeWidgetItem([f.field, _cell(f.current), _cell(f.old),
                                         _VERDICT_WORDS[f.verdict] + (f": {f.why}" if f.why
                                                                      else "")])
                child.setToolTip(3, f.text())
                parent_item.addChild(child)
            self.tree.addTopLevelItem(parent_item)
        self.tree.expandAll()
        header = self.tree.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        for column in (1, 2):
            header.resizeSection(column, self.fontMetrics().horizontalAdvance("x" * 30))
        layout.addWidget(self.tree, 1)

        created_row = QHBoxLayout()
        self.created_label = QLabel()
        self.created_label.setObjectName("undoCreated")
        self.created_label.setWordWrap(True)
        self.created_button = QPushButton("Save the &list of created accounts…")
        self.created_button.setObjectName("saveCreated")
        self.created_button.clicked.connect(self.save_created)
        created_row.addWidget(self.created_label, 1)
        created_row.addWidget(self.created_button)
        layout.addLayout(created_row)
        if plan.created:
            self.created_label.setText(
                f"{len(plan.created):,} accounts this run created cannot be removed: the API "
                "has no delete. Save their list to remove them in Recotap.")
        self.created_label.setVisible(bool(plan.created))
        self.created_button.setVisible(bool(plan.created))

        restores = sum(len(r.restores) for r in plan.rows)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.send_button = self.buttons.addButton(
            f"&Send {restores:,} values back to {host}" if restores else "Nothing to send",
            QDialogButtonBox.ButtonRole.AcceptRole)
        self.send_button.setObjectName("sendUndo")
        self.send_button.setEnabled(restores > 0)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.cancel_button = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setDefault(True)  # sending needs a deliberate choice
        resize_within_screen(self, 820, 520)

    def save_created(self, path: Path | None = None) -> Path | None:
        if path is None:
            chosen, _f = QFileDialog.getSaveFileName(
                self, "Save the accounts this run created",
                str(Path.home() / f"run-{self.plan.run_id}-created.csv"),
                "CSV file (*.csv);;Excel workbook (*.xlsx)")
            if not chosen:
                return None
            path = Path(chosen)
        try:
            n = write_created_list(self.plan, path)
        except OSError as exc:
            self.created_label.setText("✖ Could not save the list: " + describe_error(exc))
            return None
        self.created_label.setText(f"Saved the {n:,} created accounts to {path}.")
        return path


def _cell(value: object) -> str:
    if value is None:
        return "\u2205 (empty)"
    if isinstance(value, list):
        return "; ".join(map(str, value))
    return str(value)


def _row_verdict(fields: list[FieldRevert]) -> str:
    verdicts = {f.verdict for f in fields}
    if verdicts == {Verdict.RESTORE}:
        return "goes back"
    if Verdict.RESTORE in verdicts:
        return "partly goes back"
    if verdicts == {Verdict.ALREADY}:
        return "already back"
    return "nothing goes back"
