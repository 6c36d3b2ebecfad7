"""Page 1: choose or drop the file; encoding, delimiter and sheet; a preview of the rows."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWizardPage,
)

from recotap_desktop.files import FileProblem, SourceInfo, preview, sniff
from recotap_desktop.files.network import local_copy_if_remote
from recotap_desktop.store.settings import UI_LAST_FOLDER
from recotap_desktop.ui.kinds import OPENABLE_SUFFIXES, is_openable
from recotap_desktop.ui.widgets import tab_leaves
from recotap_desktop.ui.wizard.models import PreviewModel
from recotap_desktop.ui.workers import SignalProgress, Worker

if TYPE_CHECKING:
    from recotap_desktop.ui.wizard.wizard import ImportWizard

log = logging.getLogger(__name__)

PREVIEW_ROWS = 20
ENCODINGS: tuple[tuple[str, str | None], ...] = (
    ("Detect automatically", None),
    ("UTF-8", "utf-8"),
    ("UTF-8 with BOM", "utf-8-sig"),
    ("UTF-16", "utf-16"),
    ("Windows-1252 (Western Europe)", "cp1252"),
    ("ISO-8859-1 (Latin-1)", "latin-1"),
    ("ISO-8859-15 (Latin-9)", "iso8859-15"),
    ("Windows-1250 (Central Europe)", "cp1250"),
    ("Windows-1251 (Cyrillic)", "cp1251"),
    ("Mac Roman", "mac-roman"),
    ("Shift JIS (Japanese)", "shift_jis"),
)
DELIMITERS: tuple[tuple[str, str | None], ...] = (
    ("Detect automatically", None),
    ("Comma  ,", ","),
    ("Semicolon  ;", ";"),
    ("Tab", "\t"),
    ("Pipe  |", "|"),
)
_DELIMITER_WORDS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


class FilePage(QWizardPage):
    """Choose the file and check that it can be read."""

    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.ctx = wizard.ctx
        self.info: SourceInfo | None = None
        self.problem: str | None = None
        self.job: Worker | None = None
        self._generation = 0
        kind = self.ctx.kind
        self.setTitle(f"Import {kind.title.lower()}: choose the file")
        self.setSubTitle("A CSV, TSV or TXT export, or an Excel workbook (.xlsx). "
                         "You can also drop the file here.")
        self.setAcceptDrops(True)
        self._build()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        caption = QLabel("&File:")
        self.path_edit = QLineEdit()
        self.path_edit.setObjectName("pathEdit")
        self.path_edit.setPlaceholderText("Choose a file, or drop one on this page")
        self.path_edit.returnPressed.connect(self._on_return)
        caption.setBuddy(self.path_edit)
        self.browse_button = QPushButton("&Browse…")
        self.browse_button.setObjectName("browseButton")
        self.browse_button.clicked.connect(self.browse)
        row.addWidget(caption)
        row.addWidget(self.path_edit, 1)
        row.addWidget(self.browse_button)
        layout.addLayout(row)
        self.registerField("path*", self.path_edit)

        box = QGroupBox("How the file is read")
        form = QFormLayout(box)
        self.encoding_combo = QComboBox()
        self.encoding_combo.setObjectName("encodingCombo")
        for text, value in ENCODINGS:
            self.encoding_combo.addItem(text, value)
        self.encoding_combo.activated.connect(lambda _i: self.reload())
        self.delimiter_combo = QComboBox()
        self.delimiter_combo.setObjectName("delimiterCombo")
        for text, value in DELIMITERS:
            self.delimiter_combo.addItem(text, value)
        self.delimiter_combo.activated.connect(lambda _i: self.reload())
        self.sheet_combo = QComboBox()
        self.sheet_combo.setObjectName("sheetCombo")
        self.sheet_combo.activated.connect(lambda _i: self.reload())
        self.detected_label = QLabel("—")
        self.detected_label.setObjectName("detectedLabel")
        self.detected_label.setWordWrap(True)
        enc_label = QLabel("&Encoding:")
        enc_label.setBuddy(self.encoding_combo)
        del_label = QLabel("&Delimiter:")
        del_label.setBuddy(self.delimiter_combo)
        sheet_label = QLabel("S&heet:")
        sheet_label.setBuddy(self.sheet_combo)
        form.addRow("Detected:", self.detected_label)
        form.addRow(enc_label, self.encoding_combo)
        form.addRow(del_label, self.delimiter_combo)
        form.addRow(sheet_label, self.sheet_combo)
        layout.addWidget(box)

        self.problem_label = QLabel()
        self.problem_label.setObjectName("fileProblem")
        self.problem_label.setWordWrap(True)
        self.problem_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problem_label.setVisible(False)
        layout.addWidget(self.problem_label)

        self.preview_caption = QLabel(f"Preview (first {PREVIEW_ROWS} rows):")
        layout.addWidget(self.preview_caption)
        self.preview_model = PreviewModel(self)
        self.preview_view = tab_leaves(QTableView())
        self.preview_view.setObjectName("previewTable")
        self.preview_view.setAccessibleName("Preview of the file")
        self.preview_view.setModel(self.preview_model)
        self.preview_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.preview_view.setAlternatingRowColors(True)
        self.preview_view.setWordWrap(False)
        self.preview_view.verticalHeader().setDefaultSectionSize(
            self.fontMetrics().height() + 6)
        layout.addWidget(self.preview_view, 1)
        self._show_formats(None)

    # ------------------------------------------------------------------ choosing
    def browse(self) -> None:
        """Open a file dialog in the last folder used."""
        settings = self.ctx.services.settings
        start = str(settings.ui.get(UI_LAST_FOLDER) or Path.home())
        patterns = " ".join(f"*{s}" for s in OPENABLE_SUFFIXES)
        chosen, _f = QFileDialog.getOpenFileName(
            self, "Choose the file to import", start,
            f"Spreadsheets ({patterns});;All files (*)")
        if chosen:
            self.set_path(chosen)

    def _on_return(self) -> None:
        # Enter on an already-read path falls through to the default button (Next).
        text = self.path_edit.text().strip()
        if self.info is not None and Path(text).expanduser() == Path(self.info.path):
            return
        self.set_path(text)

    def set_path(self, path: str | Path) -> Worker | None:
        """Use ``path`` (detection reset to automatic); reads it on a worker."""
        text = str(path).strip()
        if not text:
            return None
        p = Path(text).expanduser()
        self.path_edit.setText(str(p))
        self.encoding_combo.setCurrentIndex(0)
        self.delimiter_combo.setCurrentIndex(0)
        self.sheet_combo.clear()
        settings = self.ctx.services.settings
        if p.parent.is_dir():
            settings.remember(UI_LAST_FOLDER, str(p.parent))
        return self.reload()

    def reload(self) -> Worker | None:
        """Read the file again with the chosen encoding/delimiter/sheet."""
        text = self.path_edit.text().strip()
        if not text:
            return None
        path = Path(text)
        encoding = self.encoding_combo.currentData()
        delimiter = self.delimiter_combo.currentData()
        sheet = self.sheet_combo.currentData() if self.sheet_combo.count() else None
        self._generation += 1
        generation = self._generation
        self.info = None
        self.problem = None
        self.problem_label.setVisible(False)
        self.detected_label.setText(f"Reading {path.name}…")
        self.completeChanged.emit()

        cache_dir = self.ctx.services.paths.cache_dir

        def read(progress: SignalProgress) -> tuple[SourceInfo, list[list[str]]]:
            if not path.exists():
                raise FileProblem(f"The file {path} does not exist. Choose it again.", path=path)
            # A file on a network share is read once into a local copy the run uses.
            local = local_copy_if_remote(path, cache_dir)
            info = sniff(local, encoding=encoding, delimiter=delimiter, sheet=sheet)
            return info, preview(info, PREVIEW_ROWS)

        if self.job is not None and self.job.running:
            self.job.cancel()
        job = Worker(read, name="read-file", parent=self)
        job.succeeded.connect(lambda result: self._on_read(generation, result))
        job.failed.connect(lambda exc: self._on_failed(generation, exc))
        job.finished.connect(self.completeChanged.emit)
        self.job = job.start()
        return job

    def _on_read(self, generation: int, result: tuple[SourceInfo, list[list[str]]]) -> None:
        if generation != self._generation:
            return
        info, rows = result
        self.info = info
        self.problem = None
        self.problem_label.setVisible(False)
        self.preview_model.set_preview(info.headers, rows, info.header_row + 1)
        self.preview_view.resizeColumnsToContents()
        for c in range(self.preview_model.columnCount()):
            if self.preview_view.columnWidth(c) > 260:
                self.preview_view.setColumnWidth(c, 260)
        self._show_formats(info)
        self.completeChanged.emit()

    def _on_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self.info = None
        self.problem = getattr(exc, "message", None) or str(exc)
        self.problem_label.setText("✖ " + self.problem)
        self.problem_label.setVisible(True)
        self.preview_model.clear()
        self.detected_label.setText("The file could not be read (see below).")
        self.completeChanged.emit()

    def _show_formats(self, info: SourceInfo | None) -> None:
        is_xlsx = info is not None and info.format == "xlsx"
        is_csv = info is not None and info.format == "csv"
        self.encoding_combo.setEnabled(is_csv)
        self.delimiter_combo.setEnabled(is_csv)
        self.sheet_combo.setEnabled(is_xlsx and len(info.sheets) > 1 if info else False)
        if info is None:
            if not self.problem:
                self.detected_label.setText("—")
            return
        if is_xlsx:
            current = info.sheet
            self.sheet_combo.clear()
            for name in info.sheets:
                self.sheet_combo.addItem(name, name)
            if current is not None:
                self.sheet_combo.setCurrentIndex(max(0, self.sheet_combo.findData(current)))
            self.detected_label.setText(
                f"Excel workbook, sheet “{info.sheet}” ({len(info.sheets)} sheet(s)); "
                f"{len(info.headers)} columns")
        else:
            delimiter = _DELIMITER_WORDS.get(info.delimiter or "", repr(info.delimiter))
            bom = " with BOM" if info.has_bom else ""
            self.detected_label.setText(
                f"Text file, encoding {info.encoding}{bom}, delimiter {delimiter}; "
                f"{len(info.headers)} columns")

    # ------------------------------------------------------------------ drag & drop
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        if len(urls) == 1 and urls[0].isLocalFile() and is_openable(urls[0].toLocalFile()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            event.acceptProposedAction()
            self.set_path(urls[0].toLocalFile())

    # ------------------------------------------------------------------ QWizardPage
    def isComplete(self) -> bool:
        return self.info is not None and self.ctx.profile is not None

    def validatePage(self) -> bool:
        if self.info is None:
            return False
        self.ctx.source = self.info
        return True

    def cleanupPage(self) -> None:
        """Keep the choices when going back (nothing to reset)."""


