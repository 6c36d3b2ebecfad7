"""Page 2: which file column feeds which field (auto-mapped, remembered, templates)."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Property, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)

from recotap_desktop.records import ColumnMapping, FieldType, TargetField
from recotap_desktop.store.settings import UI_LAST_FOLDER, header_signature
from recotap_desktop.ui.messages import describe_error
from recotap_desktop.ui.widgets import retry_button, tooltip_names_choice

if TYPE_CHECKING:
    from recotap_desktop.ui.wizard.wizard import ImportWizard

log = logging.getLogger(__name__)

NOT_USED = "(not used)"
TYPE_WORDS: dict[str, str] = {
    FieldType.TEXT: "Text",
    FieldType.EMAIL: "E-mail",
    FieldType.URL: "Web address",
    FieldType.DOMAIN: "Domain",
    FieldType.DATETIME: "Date and time",
    FieldType.DATE: "Date",
    FieldType.NUMBER: "Number",
    FieldType.INTEGER: "Whole number",
    FieldType.CHOICE: "One of a list",
    FieldType.LIST: "List",
    FieldType.MULTI_CHOICE: "Several of a list",
    FieldType.DURATION: "Duration",
}
DATE_TYPES = frozenset({FieldType.DATE, FieldType.DATETIME})
#: A full stop that ends a sentence (not the one of "e.g." or "i.e.").
_SENTENCE_END = re.compile(r"(?<!e\.g)(?<!i\.e)\.\s+(?=[A-Z])")


def short_help(text: str, limit: int = 110) -> str:
    """The first sentence of a help text (at most ``limit`` characters)."""
    first = _SENTENCE_END.split(text, maxsplit=1)[0].strip()
    if not first.endswith("."):
        first += "."
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "…"


class ColumnMapper(QWidget):
    """One line per target field: column combo + fixed value. Exposes the mapping as the
    Qt property ``mappingJson`` (registered as a wizard field)."""

    mappingChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        #: field name → convention chosen for its column (ColumnMapping.formats)
        self.formats: dict[str, str] = {}
        self.fields: list[TargetField] = []
        self.headers: list[str] = []
        self.combos: dict[str, QComboBox] = {}
        self.constants: dict[str, QLineEdit] = {}
        self._grid = QGridLayout(self)
        self._grid.setColumnStretch(0, 3)
        self._grid.setColumnStretch(2, 2)
        self._grid.setColumnStretch(3, 2)
        self._grid.setHorizontalSpacing(12)
        self._updating = False

    def set_fields(self, fields: Sequence[TargetField], headers: Sequence[str],
                   mapping: ColumnMapping) -> None:
        """Rebuild the lines for ``fields`` and choose ``mapping``."""
        while self._grid.count():
            item = self._grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.fields = list(fields)
        self.headers = list(headers)
        self.combos.clear()
        self.constants.clear()
        for col, title in enumerate(("Recotap field", "Type", "Column of your file",
                                     "Fixed value (optional)")):
            label = QLabel(f"<b>{title}</b>")
            self._grid.addWidget(label, 0, col)
        row = 1
        for f in self.fields:
            name = QLabel(f"<b>{_esc(f.label)}</b>{' *' if f.required else ''}")
            name.setToolTip(f.help)
            helper = QLabel(short_help(f.help))
            helper.setObjectName(f"help:{f.name}")
            helper.setWordWrap(True)
            helper.setToolTip(f.help)
            font = helper.font()
            font.setPointSizeF(max(7.0, font.pointSizeF() * 0.9))
            helper.setFont(font)
            cell = QVBoxLayout()
            cell.setSpacing(0)
            cell.addWidget(name)
            cell.addWidget(helper)
            holder = QWidget()
            holder.setLayout(cell)
            cell.setContentsMargins(0, 2, 0, 2)
            type_text = TYPE_WORDS.get(f.type, str(f.type))
            if f.choices:
                type_text += f" ({len(f.choices)} options)"
            type_label = QLabel(type_text)
            type_label.setToolTip(", ".join(f.choices) if f.choices else f.help)
            combo = QComboBox()
            combo.setObjectName(f"column:{f.name}")
            combo.setAccessibleName(f"Column for {f.label}")
            combo.addItem(NOT_USED, "")
            for h in self.headers:
                combo.addItem(h, h)
            tooltip_names_choice(combo, f.help)
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(14)
            combo.currentIndexChanged.connect(self._changed)
            name.setBuddy(combo)
            constant = QLineEdit()
            constant.setObjectName(f"constant:{f.name}")
            constant.setAccessibleName(f"Fixed value for {f.label}")
            constant.setPlaceholderText("same value for every row")
            constant.setToolTip("Used for every row (or where the column's cell is empty).")
            constant.textChanged.connect(self._changed)
            self._grid.addWidget(holder, row, 0)
            self._grid.addWidget(type_label, row, 1, Qt.AlignmentFlag.AlignTop)
            self._grid.addWidget(combo, row, 2, Qt.AlignmentFlag.AlignTop)
            self._grid.addWidget(constant, row, 3, Qt.AlignmentFlag.AlignTop)
            self.combos[f.name] = combo
            self.constants[f.name] = constant
            row += 1
        self._grid.setRowStretch(row, 1)
        self.set_mapping(mapping)

    def set_mapping(self, mapping: ColumnMapping) -> None:
        """Choose the columns and constants of ``mapping`` (unknown names are ignored)."""
        self._updating = True
        try:
            for name, combo in self.combos.items():
                header = mapping.columns.get(name, "")
                index = combo.findData(header) if header else 0
                combo.setCurrentIndex(max(0, index))
            for name, edit in self.constants.items():
                edit.setText(mapping.constants.get(name, ""))
            self.formats = dict(mapping.formats)
        finally:
            self._updating = False
        self.mappingChanged.emit()

    def mapping(self) -> ColumnMapping:
        """The chosen mapping."""
        columns = {n: c.currentData() for n, c in self.combos.items() if c.currentData()}
        constants = {n: e.text() for n, e in self.constants.items() if e.text().strip()}
        # how a column is written (chosen on the Check page or in a template) stays with it
        formats = {n: c for n, c in self.formats.items() if n in columns}
        return ColumnMapping(columns=columns, constants=constants, formats=formats)

    def missing_required(self) -> list[str]:
        """Labels of required fields with neither a column nor a fixed value."""
        mapping = self.mapping()
        return [f.label for f in self.fields
                if f.required and not (f.name in mapping.columns or f.name in mapping.constants)]

    def unused_headers(self) -> list[str]:
        used = set(self.mapping().columns.values())
        return [h for h in self.headers if h not in used]

    def _changed(self, *_args: Any) -> None:
        if not self._updating:
            self.mappingChanged.emit()

    def _get_json(self) -> str:
        return self.mapping().to_json()

    def _set_json(self, text: str) -> None:
        if text:
            self.set_mapping(ColumnMapping.from_json(text))

    mappingJson = Property(str, _get_json, _set_json, notify=mappingChanged)


class ColumnsPage(QWizardPage):
    """Match file columns to fields; required fields block Next until matched."""

    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.ctx = wizard.ctx
        self._built_for: tuple[Any, ...] | None = None
        self.setTitle("Match the columns")
        self.setSubTitle("Fields marked * are required. Choose the column of your file for each "
                         "field, or type a fixed value used for every row.")
        self._build()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.origin_label = QLabel()
        self.origin_label.setObjectName("mappingOrigin")
        self.origin_label.setWordWrap(True)
        layout.addWidget(self.origin_label)
        self.mapper = ColumnMapper()
        self.mapper.setObjectName("columnMapper")
        self.mapper.mappingChanged.connect(self._on_changed)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.StyledPanel)
        scroll.setWidget(self.mapper)
        layout.addWidget(scroll, 1)
        self.registerField("mapping", self.mapper, "mappingJson", self.mapper.mappingChanged)

        self.missing_label = QLabel()
        self.missing_label.setObjectName("missingLabel")
        self.missing_label.setWordWrap(True)
        layout.addWidget(self.missing_label)
        self.unused_label = QLabel()
        self.unused_label.setObjectName("unusedLabel")
        self.unused_label.setWordWrap(True)
        self.unused_label.setEnabled(False)
        layout.addWidget(self.unused_label)
        self.custom_label = QLabel()
        self.custom_label.setObjectName("customFieldsState")
        self.custom_label.setWordWrap(True)
        self.custom_label.setVisible(self.ctx.needs_custom_fields)
        custom_row = QHBoxLayout()
        custom_row.addWidget(self.custom_label, 1)
        self.retry_button = retry_button(self._wizard.load_connection, "Load the workspace's "
                                         "custom fields again")
        custom_row.addWidget(self.retry_button)
        layout.addLayout(custom_row)

        buttons = QHBoxLayout()
        self.automap_button = QPushButton("&Match automatically")
        self.automap_button.setObjectName("automapButton")
        self.automap_button.clicked.connect(self.automap)
        self.load_button = QPushButton("&Load template…")
        self.load_button.setObjectName("loadTemplate")
        self.load_button.clicked.connect(self.choose_template)
        self.save_button = QPushButton("&Save template…")
        self.save_button.setObjectName("saveTemplate")
        self.save_button.clicked.connect(self.choose_save_template)
        self.create_field_button = QPushButton("Create custom &field…")
        self.create_field_button.setObjectName("createCustomField")
        self.create_field_button.setToolTip(
            "Define a new account custom field in Recotap (then match a column to it)")
        self.create_field_button.clicked.connect(self.create_custom_field)
        self.create_field_button.setVisible(self.ctx.needs_custom_fields)
        for b in (self.automap_button, self.load_button, self.save_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.create_field_button)
        layout.addLayout(buttons)
        self._wizard.connectionReady.connect(self._on_connection_ready)
        self._wizard.connectionLoading.connect(self._show_custom_state)

    # ------------------------------------------------------------------ building
    def _fields(self) -> list[TargetField]:
        return self.ctx.kind.fields(self.ctx.convert_context())

    def initializePage(self) -> None:
        if self.ctx.needs_custom_fields and self.ctx.connection_error \
                and not self.ctx.connection_loading:
            self._wizard.load_connection()  # entering the page again asks afresh
        self._build_mapping()

    def _build_mapping(self) -> None:
        source = self.ctx.source
        if source is None:
            return
        key = (str(source.path), tuple(source.headers),
               tuple(getattr(f, "key", "") for f in self.ctx.custom_fields))
        self._show_custom_state()
        if self.ctx.needs_custom_fields and self.ctx.connection_loading:
            self.origin_label.setText("Loading the workspace's custom fields…")
            return  # built when they arrive (_on_connection_ready)
        if key == self._built_for:
            return  # same file and fields: keep the user's choices
        keep = self.mapper.mapping() if self._built_for is not None and \
            self._built_for[1] == key[1] else None
        self._built_for = key
        remembered = None if keep is not None else self._remembered(source.headers)
        if keep is not None:
            # Same file, new custom fields: keep the choices, match the new fields' columns.
            auto = self.ctx.kind.automap(source.headers, self.ctx.convert_context())
            used = set(keep.columns.values())
            added = 0
            for name, header in auto.columns.items():
                if name not in keep.columns and header not in used:
                    keep.columns[name] = header
                    used.add(header)
                    added += 1
            mapping = keep
            origin = self.origin_label.text() + (
                f" {added} column(s) matched to new custom fields." if added else "")
        elif remembered is not None:
            mapping = remembered
            origin = ("Restored the matching you used last time for a file with these columns. "
                      "“Match automatically” starts over.")
        else:
            mapping = self.ctx.kind.automap(source.headers, self.ctx.convert_context())
            origin = (f"Matched {len(mapping.columns)} of {len(source.headers)} columns "
                      "automatically by their names. Check them below.")
        self.mapper.set_fields(self._fields(), source.headers, mapping)
        self.origin_label.setText(origin)
        self._on_changed()

    def _remembered(self, headers: Sequence[str]) -> ColumnMapping | None:
        data = self.ctx.services.settings.mapping_for(
            header_signature(self.ctx.kind.name, headers))
        if not data:
            return None
        try:
            mapping = (ColumnMapping.from_json(data) if isinstance(data, str)
                       else ColumnMapping.from_dict(data))
        except ValueError:
            return None
        names = {f.name for f in self._fields()}
        return ColumnMapping(
            columns={k: v for k, v in mapping.for_headers(headers).columns.items() if k in names},
            constants={k: v for k, v in mapping.constants.items() if k in names},
            formats={k: v for k, v in mapping.for_headers(headers).formats.items() if k in names},
        )

    def _show_custom_state(self) -> None:
        self.retry_button.setVisible(self.ctx.needs_custom_fields and not
                                     self.ctx.connection_loading and
                                     self.ctx.connection_error is not None)
        if not self.ctx.needs_custom_fields:
            return
        if self.ctx.connection_loading:
            text = "Loading the workspace's custom fields…"
        elif self.ctx.connection_error:
            text = ("The custom fields could not be loaded, so custom-field columns cannot be "
                    "matched: " + self.ctx.connection_error + " Press Retry to ask again.")
        else:
            n = len(self.ctx.custom_fields)
            name = self.ctx.profile.name if self.ctx.profile else ""
            text = (f"{n} active custom field(s) of “{name}” can be filled." if n
                    else "The workspace has no active custom fields yet.")
        self.custom_label.setText(text)

    def _on_connection_ready(self) -> None:
        self._show_custom_state()
        if self._wizard.currentPage() is self and self.ctx.source is not None:
            self._build_mapping()
        self.completeChanged.emit()

    # ------------------------------------------------------------------ actions
    def automap(self) -> None:
        """Match the columns by their names again."""
        if self.ctx.source is None:
            return
        self.mapper.set_mapping(self.ctx.kind.automap(self.ctx.source.headers,
                                                      self.ctx.convert_context()))
        self.origin_label.setText("Matched automatically by the column names.")

    def choose_template(self) -> None:
        start = str(self.ctx.services.settings.ui.get(UI_LAST_FOLDER) or Path.home())
        chosen, _f = QFileDialog.getOpenFileName(self, "Load a column template", start,
                                                 "Column templates (*.json);;All files (*)")
        if chosen:
            self.load_template(Path(chosen))

    def load_template(self, path: Path) -> bool:
        """Apply a template saved with :meth:`save_template` (columns this file lacks are
        left out); the outcome is shown on the page."""
        try:
            mapping = ColumnMapping.load(path)
        except (OSError, ValueError) as exc:
            self.origin_label.setText(f"✖ The template {path.name} cannot be used: "
                                      f"{describe_error(exc)}")
            return False
        headers = self.mapper.headers
        applied = mapping.for_headers(headers)
        dropped = sorted(set(mapping.columns) - set(applied.columns))
        self.mapper.set_mapping(applied)
        note = (f" {len(dropped)} matched column(s) are not in this file." if dropped else "")
        self.origin_label.setText(f"Loaded the template {path.name}.{note}")
        return True

    def choose_save_template(self) -> None:
        start = str(self.ctx.services.settings.ui.get(UI_LAST_FOLDER) or Path.home())
        suggested = str(Path(start) / f"{self.ctx.kind.name}-columns.json")
        chosen, _f = QFileDialog.getSaveFileName(self, "Save the column template", suggested,
                                                 "Column templates (*.json)")
        if chosen:
            path = Path(chosen)
            self.save_template(path if path.suffix else path.with_suffix(".json"))

    def save_template(self, path: Path) -> bool:
        try:
            self.mapper.mapping().save(path)
        except OSError as exc:
            self.origin_label.setText(f"✖ Could not save the template: {describe_error(exc)}")
            return False
        self.origin_label.setText(f"Saved the template {path.name}.")
        return True

    def create_custom_field(self) -> Any:
        """Open the shell's custom fields dialog; reload the fields when it closes."""
        profile = self.ctx.profile
        if profile is None:
            return None
        from recotap_desktop.ui.custom_fields import CustomFieldsDialog

        dialog = CustomFieldsDialog(self.ctx.services, profile, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _r: self._wizard.load_connection())
        self._dialog = dialog
        dialog.open()
        return dialog

    # ------------------------------------------------------------------ state
    def _on_changed(self) -> None:
        missing = self.mapper.missing_required()
        if missing:
            self.missing_label.setText("✖ Still needed (required): " + ", ".join(missing)
                                       + ". Choose a column or type a fixed value.")
        else:
            self.missing_label.setText("✔ Every required field has a column or a fixed value.")
        unused = self.mapper.unused_headers()
        self.unused_label.setText(
            ("Columns of the file not used: " + ", ".join(unused[:12])
             + (f" and {len(unused) - 12} more" if len(unused) > 12 else ""))
            if unused else "")
        self.unused_label.setVisible(bool(unused))
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        if self.ctx.needs_custom_fields and self.ctx.connection_loading:
            return False
        return bool(self.mapper.fields) and not self.mapper.missing_required()

    def validatePage(self) -> bool:
        mapping = self.mapper.mapping()
        self.ctx.mapping = mapping
        source = self.ctx.source
        if source is not None:
            services = self.ctx.services
            services.settings.remember_mapping(
                header_signature(self.ctx.kind.name, source.headers), mapping.to_dict())
            try:
                services.save_settings()
            except Exception:
                log.warning("could not remember the column mapping", exc_info=True)
        return True

    def cleanupPage(self) -> None:
        """Keep the choices when going back."""


def _esc(text: str) -> str:
    import html

    return html.escape(text)


