"""Step 2 of the backfill assistant: the CRM export (Choose file… or drop it on the
dialog; CSV, TSV, XLSX), read on a worker with
:func:`~recotap_desktop.engine.backfill.read_crm_file`; the columns used for the external
ID, domain and company name, detected by :func:`~recotap_desktop.engine.backfill.automap_crm`
and changeable with combo boxes. *Find matches* starts a
:class:`~recotap_desktop.engine.backfill.BackfillSession` and its first round."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from recotap_desktop.engine.backfill import (
    CRM_FIELD_NAMES,
    WINDOW,
    BackfillOptions,
    BackfillSession,
    CrmFile,
    crm_fields,
    read_crm_file,
)
from recotap_desktop.records import ColumnMapping
from recotap_desktop.records.backfill_match import Proposal
from recotap_desktop.ui.backfill.base import BackfillBase, hint
from recotap_desktop.ui.backfill.help import window_note
from recotap_desktop.ui.workers import SignalProgress, Worker

__all__ = ["CRM_SUFFIXES", "MatchPage"]

_NOT_USED = "(not used)"
_CRM_FILTER = "CRM exports (*.csv *.tsv *.txt *.xlsx);;All files (*)"
#: The files the match step reads (and the dialog takes when dropped).
CRM_SUFFIXES = {".csv", ".tsv", ".txt", ".xlsx"}


class MatchPage(BackfillBase):
    """The match step: its page, reading the CRM file, its columns, Find matches."""

    def _build_match_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        intro = QLabel(
            "Choose an export of your CRM's companies (CSV, TSV or Excel) with their IDs and "
            "domains or names, or drop the file on this window. Nothing is sent in this step."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)

        layout.addLayout(self._build_crm_file_row())
        layout.addWidget(self._build_columns_group())

        self.crm_summary = QLabel("")
        self.crm_summary.setObjectName("crm-summary")
        self.crm_summary.setWordWrap(True)
        self.crm_summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.crm_summary)

        self.scan_check = QCheckBox(
            f"&Look through every account when Recotap's list is full ({WINDOW} accounts)"
        )
        self.scan_check.setChecked(True)
        self.scan_check.setToolTip(window_note())
        layout.addWidget(self.scan_check)
        layout.addWidget(
            hint(
                "Matching: same domain first (www., https:// and capitals "
                "ignored), then same company name (legal suffixes such as "
                "Inc, Ltd or GmbH ignored). Ambiguous cases are never guessed. "
                "F1 explains the rules."
            )
        )
        layout.addStretch(1)
        self._set_columns_enabled(False)
        return page

    def _build_crm_file_row(self) -> QHBoxLayout:
        """CRM file: the path (Enter reads it) and Choose file…"""
        file_row = QHBoxLayout()
        file_label = QLabel("CRM &file:")
        self.crm_edit = QLineEdit()
        self.crm_edit.setObjectName("crm-path")
        self.crm_edit.setPlaceholderText("A .csv, .tsv or .xlsx export of your CRM's companies")
        self.crm_edit.setAccessibleName("CRM file")
        self.crm_edit.returnPressed.connect(self._crm_path_entered)
        file_label.setBuddy(self.crm_edit)
        self.crm_browse = QPushButton("&Choose file…")
        self.crm_browse.setAutoDefault(False)
        self.crm_browse.clicked.connect(self.choose_crm_file)
        file_row.addWidget(file_label)
        file_row.addWidget(self.crm_edit, 1)
        file_row.addWidget(self.crm_browse)
        return file_row

    def _build_columns_group(self) -> QGroupBox:
        """The sheet and the columns used for the external ID, the domain and the name."""
        box = QGroupBox("Columns used")
        form = QFormLayout(box)
        self.sheet_combo = QComboBox()
        self.sheet_combo.setAccessibleName("Sheet")
        self.sheet_combo.activated.connect(lambda *_: self._reread())
        self.sheet_label = QLabel("S&heet:")
        self.sheet_label.setBuddy(self.sheet_combo)
        form.addRow(self.sheet_label, self.sheet_combo)
        self.column_combos: dict[str, QComboBox] = {}
        mnemonics = {"externalId": "External &ID", "domain": "&Domain", "name": "Company &name"}
        tips = {f.name: f.help for f in crm_fields()}
        for name in CRM_FIELD_NAMES:
            combo = QComboBox()
            combo.setObjectName(f"column-{name}")
            combo.setAccessibleName(mnemonics[name].replace("&", "") + " column")
            combo.setToolTip(tips.get(name, ""))
            combo.activated.connect(lambda *_: self._reread())
            label = QLabel(mnemonics[name] + ":")
            label.setBuddy(combo)
            form.addRow(label, combo)
            self.column_combos[name] = combo
        self.columns_hint = hint("Choose a file to see its columns.")
        form.addRow(self.columns_hint)
        return box

    def choose_crm_file(self) -> None:
        """Choose file…: pick the CRM export and read it."""
        start = str(self.last_folder())
        chosen, _ = QFileDialog.getOpenFileName(
            self, "CRM export with account IDs", start, _CRM_FILTER
        )
        if chosen:
            self.load_crm(Path(chosen))

    def _crm_path_entered(self) -> None:
        text = self.crm_edit.text().strip()
        if text:
            self.load_crm(Path(text).expanduser())

    def load_crm(
        self, path: Path, *, mapping: ColumnMapping | None = None, sheet: str | None = None
    ) -> Worker | None:
        """Read the CRM export ``path`` on a worker (columns detected unless ``mapping``)."""
        if self.running:
            return None
        self.crm_path = path
        self.crm = None
        if self.crm_edit.text() != str(path):
            self.crm_edit.setText(str(path))
        self.crm_summary.setText(f"Reading {path.name}…")
        new_file = mapping is None and sheet is None

        def read(progress: SignalProgress) -> CrmFile:
            return read_crm_file(path, mapping=mapping, sheet=sheet, cancel=progress.token)

        def done(crm: object) -> None:
            assert isinstance(crm, CrmFile)
            self.crm = crm
            self.remember_folder(path.parent)
            self._fill_columns(crm.source.headers, crm.mapping, crm.source.sheets, crm.source.sheet)
            how = (
                "detected automatically; change them if one is wrong"
                if crm.automapped
                else "as chosen"
            )
            self.columns_hint.setText(f"Columns {how}.")
            self.crm_summary.setText(f"{path.name}: {crm.summary()}.")
            self._update_buttons()

        return self._start(
            read,
            "read-crm",
            f"Reading {path.name}…",
            done,
            on_error=lambda exc: self._crm_failed(exc, new_file),
        )

    def _crm_failed(self, exc: object, new_file: bool) -> None:
        self.crm = None
        self.crm_summary.setText("The file cannot be used: " + self.error_text(exc))
        if new_file:
            self._fill_columns([], ColumnMapping(), [], None)

    def _fill_columns(
        self,
        headers: Sequence[str],
        mapping: ColumnMapping,
        sheets: Sequence[str],
        sheet: str | None,
    ) -> None:
        for name, combo in self.column_combos.items():
            combo.blockSignals(True)
            combo.clear()
            if headers:
                combo.addItem(_NOT_USED, "")
                for h in headers:
                    combo.addItem(h, h)
                combo.setCurrentIndex(max(0, combo.findData(mapping.columns.get(name, ""))))
            combo.blockSignals(False)
        self.sheet_combo.blockSignals(True)
        self.sheet_combo.clear()
        self.sheet_combo.addItems(list(sheets))
        if sheet:
            self.sheet_combo.setCurrentText(sheet)
        self.sheet_combo.blockSignals(False)
        many = len(sheets) > 1
        self.sheet_combo.setVisible(many)
        self.sheet_label.setVisible(many)

    def _set_columns_enabled(self, enabled: bool) -> None:
        for combo in (*self.column_combos.values(), self.sheet_combo):
            combo.setEnabled(enabled)

    def column_mapping(self) -> ColumnMapping:
        """The CRM columns chosen in the combo boxes."""
        columns = {
            name: str(combo.currentData() or "") for name, combo in self.column_combos.items()
        }
        return ColumnMapping(columns={k: v for k, v in columns.items() if v})

    def set_column(self, field_name: str, header: str) -> Worker | None:
        """Use ``header`` for ``field_name`` (externalId, domain or name; "" for none)."""
        combo = self.column_combos[field_name]
        combo.setCurrentIndex(max(0, combo.findData(header)))
        return self._reread()

    def _reread(self) -> Worker | None:
        if self.crm_path is None or self.running:
            return None
        sheet = self.sheet_combo.currentText() if self.sheet_combo.count() > 1 else None
        return self.load_crm(self.crm_path, mapping=self.column_mapping(), sheet=sheet)

    def find_matches(self) -> Worker | None:
        """Find matches: start a backfill session and its first round on a worker."""
        if self.running or self.crm is None or self._problem:
            return None
        profile, history = self.profile, self._services.history
        assert profile is not None and history is not None
        services, crm = self._services, self.crm
        client_kwargs = dict(self._client_kwargs)
        options = BackfillOptions(scan=self.scan_check.isChecked())
        data_dir = services.paths.data_dir

        def start(progress: SignalProgress) -> tuple[BackfillSession, list[Proposal]]:
            spec = services.connection_spec(profile)
            session = BackfillSession(
                spec,
                crm,
                history,
                data_dir,
                options=options,
                progress=progress,
                cancel=progress.token,
                client_kwargs=client_kwargs,
            )
            return session, session.next_round()

        return self._start(
            start, "backfill-match", "Listing accounts and matching them…", self._on_matched
        )
