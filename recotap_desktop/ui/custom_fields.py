"""Connection → Custom fields…: list the account custom fields; create a new one.

Recotap derives a field's key from its label (spaces → ``_``, upper case, ``_C``
appended; see ``records.base.custom_field_key``). The form shows that key before
anything is sent and warns when it collides with an existing field; a 409 from the
server says the same in plain words.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from recotap_desktop.records.base import custom_field_key
from recotap_desktop.store.settings import Profile
from recotap_desktop.ui.messages import describe_error
from recotap_desktop.ui.models import LABEL_TYPES, SELECTION_TYPES, custom_field_model, make_proxy
from recotap_desktop.ui.services import Services
from recotap_desktop.ui.widgets import resize_within_screen, tab_leaves
from recotap_desktop.ui.workers import SignalProgress, Worker

log = logging.getLogger(__name__)


class CustomFieldsDialog(QDialog):
    """Account custom fields of a connection's workspace."""

    #: Emitted after the list arrived (number of fields).
    loaded = Signal(int)
    #: Emitted after a field was created (the CustomField).
    created = Signal(object)

    def __init__(self, services: Services, profile: Profile,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.profile = profile
        self.load_job: Worker | None = None
        self.create_job: Worker | None = None
        self.setWindowTitle(f"Account custom fields — {profile.name}")
        resize_within_screen(self, 820, 600)
        self._build()
        self.refresh()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        """The dialog's parts, top to bottom (their order is the Tab order)."""
        layout = QVBoxLayout(self)
        layout.addLayout(self._build_top())
        layout.addWidget(self._build_list(), 1)
        layout.addWidget(self._build_create_box())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._update_form()

    def _build_top(self) -> QHBoxLayout:
        """What the fields are for, beside "Refresh"."""
        top = QHBoxLayout()
        top.addWidget(QLabel("Custom fields your accounts can carry. Use the key as the "
                             "column of an account-field-values import."), 1)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        top.addWidget(self.refresh_button)
        return top

    def _build_list(self) -> QStackedWidget:
        """The fields' table, or in its place a line saying what is going on (loading,
        none yet, a problem)."""
        self.model = custom_field_model(self)
        self.proxy = make_proxy(self.model, self)
        self.view = tab_leaves(QTableView())
        self.view.setObjectName("customFieldTable")
        self.view.setAccessibleName("Custom fields")
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(1, Qt.SortOrder.AscendingOrder)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().setVisible(False)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.state_label = QLabel()
        self.state_label.setObjectName("fieldsState")
        self.state_label.setWordWrap(True)
        self.state_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.state_label)
        return self.stack

    def _build_create_box(self) -> QGroupBox:
        """"Create a field": the field's inputs, then "Create field" and its outcome."""
        box = QGroupBox("Create a field")
        form = QFormLayout(box)
        self._build_field_inputs(form)
        self._build_create_row(form)
        return box

    def _build_field_inputs(self, form: QFormLayout) -> None:
        """Label, the key Recotap will derive from it, type, options, description."""
        self.label_edit = QLineEdit()
        self.label_edit.setObjectName("labelEdit")
        self.label_edit.setPlaceholderText("e.g. Contract Value")
        self.label_edit.textChanged.connect(self._update_form)
        form.addRow("Label:", self.label_edit)
        self.key_label = QLabel()
        self.key_label.setObjectName("keyPreview")
        self.key_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow("Key Recotap will create:", self.key_label)
        self.type_combo = QComboBox()
        self.type_combo.setObjectName("typeCombo")
        for value, text in LABEL_TYPES:
            self.type_combo.addItem(text, value)
        self.type_combo.currentIndexChanged.connect(self._update_form)
        form.addRow("Type:", self.type_combo)
        self.options_edit = QPlainTextEdit()
        self.options_edit.setObjectName("optionsEdit")
        self.options_edit.setAccessibleName("Options, one per line")
        self.options_edit.setPlaceholderText("One option per line")
        self.options_edit.setFixedHeight(80)
        self.options_edit.textChanged.connect(self._update_form)
        self.options_caption = QLabel("Options:")
        form.addRow(self.options_caption, self.options_edit)
        self.description_edit = QLineEdit()
        self.description_edit.setObjectName("descriptionEdit")
        self.description_edit.setPlaceholderText("Optional")
        form.addRow("Description:", self.description_edit)

    def _build_create_row(self, form: QFormLayout) -> None:
        """Why the form cannot be sent yet, "Create field", and what creating answered."""
        self.form_problem = QLabel()
        self.form_problem.setObjectName("formProblem")
        self.form_problem.setWordWrap(True)
        form.addRow("", self.form_problem)
        row = QHBoxLayout()
        self.create_button = QPushButton("Create field")
        self.create_button.setObjectName("createButton")
        self.create_button.clicked.connect(self.create_field)
        row.addWidget(self.create_button)
        row.addStretch(1)
        form.addRow("", row)
        self.result_label = QLabel()
        self.result_label.setObjectName("createResult")
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow("", self.result_label)

    # ------------------------------------------------------------------ list
    def refresh(self) -> Worker:
        """Load the fields on a worker."""
        services, profile = self.services, self.profile
        self._show_state(f"Loading custom fields from {self.services.host_of(profile)}…")
        self.refresh_button.setEnabled(False)

        def load(progress: SignalProgress) -> list[Any]:
            with services.make_client(profile, cancel_event=progress.cancel_event) as client:
                return list(client.list_custom_fields())

        job = Worker(load, name="custom-fields", parent=self)
        job.succeeded.connect(self._on_loaded)
        job.failed.connect(lambda exc: self._show_state(
            "The custom fields could not be loaded.\n\n"
            + describe_error(exc, self.services.host_of(profile))
            + "\n\nPress Refresh to try again."))
        job.finished.connect(lambda: self.refresh_button.setEnabled(True))
        self.load_job = job.start()
        return job

    def _on_loaded(self, fields: Any) -> None:
        self.model.set_rows(fields)
        if fields:
            self.stack.setCurrentWidget(self.view)
        else:
            self._show_state("No custom fields yet. Create the first one below.")
        self._update_form()
        self.loaded.emit(len(fields))

    def _show_state(self, text: str) -> None:
        self.state_label.setText(text)
        self.stack.setCurrentWidget(self.state_label)

    @property
    def existing_keys(self) -> set[str]:
        """Keys of the fields listed."""
        return {str(f.key) for f in self.model.rows}

    # ------------------------------------------------------------------ form
    def options(self) -> list[str]:
        """The options typed, one per line, blanks dropped."""
        return [line.strip() for line in self.options_edit.toPlainText().splitlines()
                if line.strip()]

    def label_type(self) -> str:
        """The chosen ``labelType``."""
        return str(self.type_combo.currentData())

    def form_problem_text(self) -> str | None:
        """What stops the form from being sent, or None."""
        label = self.label_edit.text().strip()
        if not label:
            return "Enter a label."
        key = custom_field_key(label)
        if key in self.existing_keys:
            return f"A field with key {key} already exists; choose another label."
        if self.label_type() in SELECTION_TYPES and not self.options():
            return "Selection fields need at least one option (one per line)."
        return None

    def _update_form(self) -> None:
        label = self.label_edit.text().strip()
        self.key_label.setText(custom_field_key(label) if label else "—")
        selection = self.label_type() in SELECTION_TYPES
        self.options_edit.setEnabled(selection)
        self.options_caption.setEnabled(selection)
        problem = self.form_problem_text()
        busy = self.create_job is not None and self.create_job.running
        self.form_problem.setText(("⚠ " + problem) if problem and label else "")
        self.create_button.setEnabled(problem is None and not busy)

    def create_field(self) -> Worker | None:
        """Send the form (on a worker) after a last check."""
        if self.form_problem_text() is not None:
            self._update_form()
            return None
        services, profile = self.services, self.profile
        label = self.label_edit.text().strip()
        label_type = self.label_type()
        options = self.options() if label_type in SELECTION_TYPES else None
        description = self.description_edit.text().strip() or None
        key = custom_field_key(label)

        def create(progress: SignalProgress) -> Any:
            with services.make_client(profile, cancel_event=progress.cancel_event) as client:
                return client.create_custom_field(label, label_type, description=description,
                                                  options=options)

        self.result_label.setText(f"Creating {key}…")
        job = Worker(create, name="create-custom-field", parent=self)
        job.succeeded.connect(self._on_created)
        job.failed.connect(lambda exc: self._on_create_failed(exc, key))
        job.finished.connect(self._update_form)
        self.create_job = job.start()
        self._update_form()
        return job

    def _on_created(self, field: Any) -> None:
        self.result_label.setText(f"✔ Created {field.key} ({field.label}).")
        self.model.append_rows([field])
        self.stack.setCurrentWidget(self.view)
        self.label_edit.clear()
        self.options_edit.clear()
        self.description_edit.clear()
        self.created.emit(field)

    def _on_create_failed(self, exc: BaseException, key: str) -> None:
        from recotap_desktop.api.errors import Conflict

        if isinstance(exc, Conflict):
            self.result_label.setText(f"✖ A field with key {key} already exists.")
            self.refresh()  # someone else created it: show it
        else:
            host = self.services.host_of(self.profile)
            self.result_label.setText("✖ " + describe_error(exc, host))
