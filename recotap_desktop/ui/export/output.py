"""Where the file goes (CSV or XLSX, chosen with Browse… or typed) and whether it gets a
label row under the column names."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from recotap_desktop.ui.export.base import ExportBase
from recotap_desktop.ui.export.help import LABEL_ROW_HELP

__all__ = ["OutputGroup"]


class OutputGroup(ExportBase):
    """The "Save to" group: the output file and the label row."""

    # ================================================================== building
    def _build_output_group(self) -> QWidget:
        """Where the file goes, and whether it gets a label row."""
        out_box = QGroupBox("Save to")
        out_layout = QVBoxLayout(out_box)
        path_row = QHBoxLayout()
        self.path_edit = QLineEdit()
        self.path_edit.setObjectName("export-path")
        self.path_edit.setPlaceholderText("A .xlsx or .csv file")
        self.path_edit.setAccessibleName("Output file")
        self.path_edit.textChanged.connect(self._path_changed)
        self.browse_button = QPushButton("&Browse…")
        self.browse_button.clicked.connect(self.choose_output)
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.browse_button)
        out_layout.addLayout(path_row)
        out_layout.addLayout(self._build_label_row())
        self.label_row_hint = QLabel()
        self.label_row_hint.setWordWrap(True)
        self.label_row_hint.setEnabled(False)
        out_layout.addWidget(self.label_row_hint)
        return out_box

    def _build_label_row(self) -> QHBoxLayout:
        """The label row's check box and its help icon (the help in its tooltip)."""
        label_row = QHBoxLayout()
        self.label_row = QCheckBox("Add a &label row under the column names")
        self.label_row.setToolTip(LABEL_ROW_HELP)
        self.label_row.clicked.connect(self._label_row_clicked)
        label_help = QLabel()
        label_help.setPixmap(
            self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxQuestion).pixmap(16, 16)
        )
        label_help.setToolTip(LABEL_ROW_HELP)
        label_row.addWidget(self.label_row)
        label_row.addWidget(label_help)
        label_row.addStretch(1)
        return label_row

    # ================================================================== the file
    def output_path(self) -> Path | None:
        """The output file as typed (``.xlsx`` added when there is no suffix)."""
        text = self.path_edit.text().strip()
        if not text:
            return None
        path = Path(text).expanduser()
        if not path.suffix:
            path = path.with_suffix(".xlsx")
        return path

    def choose_output(self) -> None:
        """Browse… : pick the output file (CSV or XLSX); remembers the folder."""
        current = self.output_path()
        start = str(current) if current else str(self.last_folder())
        xlsx, csv = "Excel workbook (*.xlsx)", "CSV, comma-separated (*.csv)"
        chosen, selected = QFileDialog.getSaveFileName(
            self,
            "Export scored accounts to",
            start,
            f"{xlsx};;{csv}",
            csv if current and current.suffix.lower() == ".csv" else xlsx,
        )
        if not chosen:
            return
        path = Path(chosen)
        if not path.suffix:
            path = path.with_suffix(".csv" if selected == csv else ".xlsx")
        self.path_edit.setText(str(path))
        self._confirmed_path = path  # the file dialog already asked about replacing it
        self.remember_folder(path.parent)

    def _path_changed(self, text: str) -> None:
        self._confirmed_path = None
        self._update_label_hint()
        self._update_start()

    # ================================================================== the label row
    def _label_row_clicked(self) -> None:
        self._update_label_hint()

    def _update_label_hint(self) -> None:
        if self.label_row.isChecked():
            self.label_row_hint.setText(
                "On: good for reading. Turn it off if the file goes back into a CRM import."
            )
        else:
            self.label_row_hint.setText("Off: one header row, ready for a CRM import or a script.")
