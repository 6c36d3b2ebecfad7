"""Connection → Connections…: profiles (one per workspace), their API keys, a live test.

The dialog edits copies of the profiles; nothing is written until OK. On OK a worker
stores typed keys in the OS keychain (or, when none is usable, keeps them in memory
for this session only — never in a file), moves keys of renamed profiles, deletes keys
of removed ones; then the settings file is saved and the dialog closes.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from recotap_desktop.api.detect import Detection, detect_edition
from recotap_desktop.api.errors import ConfigError
from recotap_desktop.api.urls import normalise_base_url
from recotap_desktop.domain.editions import Edition, rules_for
from recotap_desktop.store.secrets import ENV_VAR, KeychainUnavailable
from recotap_desktop.store.settings import Profile
from recotap_desktop.ui.messages import describe_error
from recotap_desktop.ui.services import Services, now_iso
from recotap_desktop.ui.widgets import resize_within_screen
from recotap_desktop.ui.workers import SignalProgress, Worker

log = logging.getLogger(__name__)

EDITION_CHOICES: tuple[tuple[str, str], ...] = (
    (Edition.CRM.value, "CRM API (default)"),
    (Edition.EXTERNAL.value, "External API"),
)


@dataclass
class _Entry:
    """One profile being edited: a copy, its name when the dialog opened, a typed key."""

    profile: Profile
    original_name: str | None = None
    new_key: str = ""
    has_stored_key: bool = False
    #: "Test connection" found the edition for the form as it is now.
    detected: bool = False

    def __repr__(self) -> str:  # never show the key
        return f"_Entry({self.profile.name!r}, original={self.original_name!r})"


@dataclass(frozen=True)
class KeychainStatus:
    """What the dialog learnt about the keychain when it opened (no key values)."""

    backend: str
    problem: str | None
    stored: frozenset[str]


class ConnectionDialog(QDialog):
    """Edit connection profiles; test one; store keys in the keychain on OK."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        #: What saving could not do, for the main window to show (no key values).
        self.saved_notes: list[str] = []
        self.services = services
        self.setWindowTitle("Connections")
        resize_within_screen(self, 900, 600)
        self._entries: list[_Entry] = [
            _Entry(replace(p), original_name=p.name) for p in services.profiles
        ]
        self._removed: list[str] = []
        active = services.active_profile
        self._active_name: str | None = active.name if active else None
        self._current: _Entry | None = None
        self._loading = False
        self.keychain: KeychainStatus | None = None
        self.test_job: Worker | None = None
        self.save_job: Worker | None = None
        self.keychain_job: Worker | None = None
        self._build()
        self._fill_list()
        if not self._entries:
            self.add_profile()
        else:
            index = next((i for i, e in enumerate(self._entries)
                          if e.profile.name == self._active_name), 0)
            self.profile_list.setCurrentRow(index)
        self._check_keychain()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        """The dialog's parts: the list of connections beside the selected one's details,
        then where to find a key and OK/Cancel (their order is the Tab order)."""
        outer = QVBoxLayout(self)
        body = QHBoxLayout()
        outer.addLayout(body, 1)
        body.addLayout(self._build_list_side(), 2)
        body.addWidget(self._build_details_box(), 3)
        help_label = QLabel(
            "Create the API key in Recotap under Settings → Workspace → Tech Settings → API "
            "Access Key. It is shown only once; generating a new one stops the old one.")
        help_label.setWordWrap(True)
        help_label.setEnabled(False)
        outer.addWidget(help_label)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        outer.addWidget(self.buttons)

    def _build_list_side(self) -> QVBoxLayout:
        """The connections, one per workspace, with Add, Remove and "Use this one"."""
        left = QVBoxLayout()
        left.addWidget(QLabel("Connections (one per Recotap workspace):"))
        self.profile_list = QListWidget()
        self.profile_list.setObjectName("profileList")
        self.profile_list.setAccessibleName("Connections")
        self.profile_list.currentRowChanged.connect(self._on_row_changed)
        left.addWidget(self.profile_list, 1)
        row = QHBoxLayout()
        self.add_button = QPushButton("Add")
        self.add_button.clicked.connect(lambda: self.add_profile())
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_current)
        self.active_button = QPushButton("Use this one")
        self.active_button.setToolTip("Make the selected connection the active one")
        self.active_button.clicked.connect(self.set_current_active)
        for button in (self.add_button, self.remove_button, self.active_button):
            row.addWidget(button)
        left.addLayout(row)
        return left

    def _build_details_box(self) -> QGroupBox:
        """"Connection details": name and edition, address, key, test, and the manual
        edition choice (Advanced)."""
        form_box = QGroupBox("Connection details")
        form = QFormLayout(form_box)
        self._build_name_and_edition(form)
        self._build_address_rows(form)
        self._build_key_rows(form)
        self._build_test_rows(form)
        form.addRow(self._build_advanced())
        return form_box

    def _build_name_and_edition(self, form: QFormLayout) -> None:
        """The connection's name, and the edition it speaks (the line here; its combo box
        goes under Advanced)."""
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("nameEdit")
        self.name_edit.setPlaceholderText("e.g. ACME workspace")
        self.name_edit.textEdited.connect(self._on_name_edited)
        form.addRow("Name:", self.name_edit)
        self.edition_combo = QComboBox()
        self.edition_combo.setObjectName("editionCombo")
        for value, text in EDITION_CHOICES:
            self.edition_combo.addItem(text, value)
        self.edition_combo.setToolTip(
            "CRM API: accounts are identified by your CRM's ID (externalId).\n"
            "External API: accounts are identified by their domain; supports upsert.")
        self.edition_combo.currentIndexChanged.connect(self._on_edition_changed)
        self.edition_label = QLabel()
        self.edition_label.setObjectName("editionLabel")
        self.edition_label.setWordWrap(True)
        form.addRow("Edition:", self.edition_label)

    def _build_address_rows(self, form: QFormLayout) -> None:
        """The base URL, what is wrong with it, and the consent to plain http://."""
        self.url_edit = QLineEdit()
        self.url_edit.setObjectName("urlEdit")
        self.url_edit.setToolTip("Leave empty to use Recotap's address for the chosen edition.")
        self.url_edit.textEdited.connect(self._on_url_edited)
        form.addRow("Base URL:", self.url_edit)
        self.url_problem = QLabel()
        self.url_problem.setWordWrap(True)
        self.url_problem.setVisible(False)
        form.addRow("", self.url_problem)
        self.insecure_check = QCheckBox(
            "Send my API key unencrypted (plain http://) to this server")
        self.insecure_check.setObjectName("insecureCheck")
        self.insecure_check.setToolTip(
            "Anyone on the network between you and the server could read and use your key. "
            "Only tick this if you know why the server has no https:// address.")
        self.insecure_check.setVisible(False)
        self.insecure_check.toggled.connect(self._on_insecure_toggled)
        form.addRow("", self.insecure_check)

    def _build_key_rows(self, form: QFormLayout) -> None:
        """The API key (hidden unless "Show"), a hint about it, and where it is stored."""
        key_row = QHBoxLayout()
        self.key_edit = QLineEdit()
        self.key_edit.setObjectName("keyEdit")
        self.key_edit.setAccessibleName("API key")
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.textEdited.connect(self._on_key_edited)
        key_row.addWidget(self.key_edit, 1)
        self.show_key = QCheckBox("Show")
        self.show_key.toggled.connect(
            lambda on: self.key_edit.setEchoMode(
                QLineEdit.EchoMode.Normal if on else QLineEdit.EchoMode.Password))
        key_row.addWidget(self.show_key)
        form.addRow("API key:", key_row)
        self.key_hint = QLabel()
        self.key_hint.setWordWrap(True)
        form.addRow("", self.key_hint)
        self.storage_label = QLabel("Checking the system keychain…")
        self.storage_label.setObjectName("storageLabel")
        self.storage_label.setWordWrap(True)
        self.storage_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow("Stored in:", self.storage_label)

    def _build_test_rows(self, form: QFormLayout) -> None:
        """"Test connection" and what the test found."""
        test_row = QHBoxLayout()
        self.test_button = QPushButton("Test connection")
        self.test_button.setObjectName("testButton")
        self.test_button.clicked.connect(self.test_connection)
        test_row.addWidget(self.test_button)
        test_row.addStretch(1)
        form.addRow("", test_row)
        self.result_label = QLabel()
        self.result_label.setObjectName("resultLabel")
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow("", self.result_label)

    def _build_advanced(self) -> QWidget:
        """The manual edition choice, collapsed: "Test connection" detects it (finding 8)."""
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        self.advanced_toggle = QToolButton()
        self.advanced_toggle.setObjectName("advancedToggle")
        self.advanced_toggle.setText("Advanced")
        self.advanced_toggle.setCheckable(True)
        self.advanced_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced_toggle.setAutoRaise(True)
        layout.addWidget(self.advanced_toggle)
        self.advanced_box = QWidget()
        self.advanced_box.setObjectName("advancedBox")
        inner = QFormLayout(self.advanced_box)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.addRow("Edition (manual):", self.edition_combo)
        self.advanced_box.setVisible(False)
        layout.addWidget(self.advanced_box)

        def toggled(on: bool) -> None:
            self.advanced_box.setVisible(on)
            self.advanced_toggle.setArrowType(
                Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)

        self.advanced_toggle.toggled.connect(toggled)
        return box

    def _show_edition(self, detected: bool = False) -> None:
        edition = self.edition_combo.currentData() or Edition.CRM.value
        title = rules_for(edition).title
        self.edition_label.setText(
            f"{title} (detected)" if detected
            else f"{title}. “Test connection” finds out which one the workspace speaks.")

    # ------------------------------------------------------------------ list
    def _fill_list(self) -> None:
        self.profile_list.blockSignals(True)
        current = self.profile_list.currentRow()
        self.profile_list.clear()
        for entry in self._entries:
            item = QListWidgetItem(self._item_text(entry))
            if entry.profile.name == self._active_name:
                font = QFont(item.font())
                font.setBold(True)
                item.setFont(font)
            self.profile_list.addItem(item)
        if 0 <= current < len(self._entries):
            self.profile_list.setCurrentRow(current)
        self.profile_list.blockSignals(False)
        self._update_buttons()

    def _item_text(self, entry: _Entry) -> str:
        name = entry.profile.name or "(no name)"
        return f"{name}   (active)" if entry.profile.name == self._active_name else name

    def _refresh_item(self) -> None:
        row = self.profile_list.currentRow()
        if self._current is not None and 0 <= row < self.profile_list.count():
            self.profile_list.item(row).setText(self._item_text(self._current))

    def _update_buttons(self) -> None:
        has = self._current is not None
        self.remove_button.setEnabled(has)
        self.active_button.setEnabled(has and self._current is not None
                                      and self._current.profile.name != self._active_name)
        for widget in (self.name_edit, self.edition_combo, self.url_edit, self.key_edit,
                       self.test_button):
            widget.setEnabled(has)
        if has and self._current is not None and self.services.is_demo(
                self._current.original_name):
            self.key_edit.setEnabled(False)

    @property
    def entries(self) -> list[Profile]:
        """The profiles as currently edited (copies)."""
        return [e.profile for e in self._entries]

    def select(self, name: str) -> None:
        """Select the profile called ``name``."""
        for i, entry in enumerate(self._entries):
            if entry.profile.name == name:
                self.profile_list.setCurrentRow(i)
                return
        raise KeyError(name)

    def add_profile(self, name: str | None = None) -> None:
        """Add a new profile (edition CRM, default URL) and select it."""
        taken = {e.profile.name for e in self._entries}
        if name is None:
            n = len(self._entries) + 1
            name = "My workspace" if "My workspace" not in taken else f"Workspace {n}"
            while name in taken:
                n += 1
                name = f"Workspace {n}"
        self._entries.append(_Entry(Profile(name=name)))
        if self._active_name is None:
            self._active_name = name
        self._fill_list()
        self.profile_list.setCurrentRow(len(self._entries) - 1)
        self.name_edit.setFocus()
        self.name_edit.selectAll()

    def remove_current(self) -> None:
        """Remove the selected profile (its stored key is deleted on OK)."""
        row = self.profile_list.currentRow()
        if not (0 <= row < len(self._entries)):
            return
        entry = self._entries.pop(row)
        if entry.original_name is not None:
            self._removed.append(entry.original_name)
        if entry.profile.name == self._active_name:
            self._active_name = self._entries[0].profile.name if self._entries else None
        self._current = None
        self._fill_list()
        if self._entries:
            self.profile_list.setCurrentRow(min(row, len(self._entries) - 1))
        else:
            self._load(None)

    def set_current_active(self) -> None:
        """Make the selected profile the active one."""
        if self._current is None:
            return
        self._active_name = self._current.profile.name
        self._fill_list()

    # ------------------------------------------------------------------ form
    def _on_row_changed(self, row: int) -> None:
        self._load(self._entries[row] if 0 <= row < len(self._entries) else None)

    def _load(self, entry: _Entry | None) -> None:
        self._loading = True
        self._current = entry
        try:
            self.result_label.clear()
            if entry is None:
                for edit in (self.name_edit, self.url_edit, self.key_edit):
                    edit.clear()
                self.url_problem.setVisible(False)
                self.insecure_check.setVisible(False)
                return
            profile = entry.profile
            self.name_edit.setText(profile.name)
            index = self.edition_combo.findData(rules_for(profile.edition).name)
            self.edition_combo.setCurrentIndex(max(0, index))
            self.url_edit.setText(profile.base_url or "")
            self.key_edit.setText(entry.new_key)
            self.insecure_check.setChecked(profile.allow_insecure_http)
            self._update_placeholders()
            self._validate_url()
            self._update_key_hint()
        finally:
            self._loading = False
            self._update_buttons()

    def _update_placeholders(self) -> None:
        edition = self.edition_combo.currentData() or Edition.CRM.value
        self.url_edit.setPlaceholderText(rules_for(edition).default_base_url)
        self._show_edition()

    def _on_name_edited(self, text: str) -> None:
        if self._current is None:
            return
        old = self._current.profile.name
        new = text.strip()
        self._current.profile.name = new
        if self._active_name == old:
            self._active_name = new
        self._refresh_item()

    def _on_edition_changed(self, _index: int) -> None:
        self._update_placeholders()
        if self._loading or self._current is None:
            return
        self._current.profile.edition = str(self.edition_combo.currentData())
        self._validate_url()

    def _on_url_edited(self, text: str) -> None:
        if self._current is None:
            return
        self._current.profile.base_url = text.strip() or None
        self._validate_url()

    def _on_insecure_toggled(self, checked: bool) -> None:
        if self._loading or self._current is None:
            return
        self._current.profile.allow_insecure_http = checked
        self._validate_url()

    def _on_key_edited(self, text: str) -> None:
        if self._current is not None:
            self._current.new_key = text.strip()
            self._update_key_hint()

    def _validate_url(self) -> str | None:
        """Check the URL of the current entry; show the problem; return it (None if fine)."""
        if self._current is None:
            return None
        profile = self._current.profile
        url = (profile.base_url or "").strip()
        needs_consent = False
        if url:
            try:
                normalise_base_url(url, profile.edition, False)
            except ConfigError:
                needs_consent = urlsplit(url if "://" in url else "https://" + url
                                         ).scheme.lower() == "http"
        self.insecure_check.setVisible(needs_consent)
        if not needs_consent:
            profile.allow_insecure_http = False
        try:
            normalise_base_url(url or None, profile.edition,
                               needs_consent and self.insecure_check.isChecked())
        except ConfigError as exc:
            self.url_problem.setText("⚠ " + exc.message)
            self.url_problem.setVisible(True)
            return exc.message
        self.url_problem.setVisible(False)
        return None

    def _update_key_hint(self) -> None:
        entry = self._current
        if entry is None:
            self.key_hint.clear()
            return
        if self.services.is_demo(entry.original_name):
            self.key_edit.setPlaceholderText("demo key")
            self.key_hint.setText("The demo connection uses a built-in key kept in memory only.")
            return
        if self.services.env.get(ENV_VAR, "").strip():
            self.key_hint.setText(f"{ENV_VAR} is set: that key is used for every connection "
                                  "while it is set.")
        elif entry.new_key:
            self.key_hint.setText("The new key is saved when you press OK.")
        elif entry.has_stored_key:
            self.key_hint.setText("A key is stored for this connection. Type a new one to "
                                  "replace it, or leave the field empty to keep it.")
        else:
            self.key_hint.setText("Paste the API key from Recotap.")
        self.key_edit.setPlaceholderText(
            "•••••••• stored — type to replace" if entry.has_stored_key else "Paste your API key")

    # ------------------------------------------------------------------ keychain
    def _check_keychain(self) -> None:
        services = self.services
        names = [e.original_name for e in self._entries if e.original_name]

        def probe(progress: SignalProgress) -> KeychainStatus:
            backend = services.keystore.backend_name()
            try:
                services.keystore.check()
            except KeychainUnavailable as exc:
                return KeychainStatus(backend, exc.message, frozenset())
            stored = frozenset(n for n in names if services.keystore.get(n))
            return KeychainStatus(backend, None, stored)

        job = Worker(probe, name="keychain-probe", parent=self)
        job.succeeded.connect(self._on_keychain_status)
        job.failed.connect(lambda exc: self._on_keychain_status(
            KeychainStatus(services.keystore.backend_name(), describe_error(exc), frozenset())))
        self.keychain_job = job.start()

    def _on_keychain_status(self, status: KeychainStatus) -> None:
        self.keychain = status
        if status.problem:
            self.storage_label.setText(
                "⚠ " + status.problem + " For now, a key you enter here is kept in memory "
                "only, until you close the app.")
        else:
            self.storage_label.setText(
                f"Your key will be stored in {html.escape(status.backend)} (the system "
                "keychain), never in a file.")
        for entry in self._entries:
            entry.has_stored_key = entry.original_name in status.stored
        self._update_key_hint()

    # ------------------------------------------------------------------ test
    def test_connection(self) -> Worker | None:
        """Check the form's URL and key against the server, on a worker."""
        entry = self._current
        if entry is None:
            return None
        problem = self._validate_url()
        if problem:
            self.result_label.setText("✖ " + problem)
            return None
        profile = replace(entry.profile)
        typed = entry.new_key
        lookup = entry.original_name
        services = self.services
        if services.is_demo(lookup):
            typed = services.demo_key or typed
        host = services.host_of(profile)  # RECOTAP_BASE_URL applies, as when sending

        def verify(progress: SignalProgress) -> Detection:
            key = typed
            if not key and lookup:
                key = services.key_for(lookup)[0] or ""
            if not key:
                raise ConfigError("Enter the API key first.")
            spec = services.connection_spec(profile, key)
            return detect_edition(key, base_url=spec.base_url, preferred=profile.edition,
                                  allow_insecure_http=profile.allow_insecure_http,
                                  cancel_event=progress.cancel_event, timeout=spec.timeout)

        self.result_label.setText(f"Testing the connection to {host} (both API editions)…")
        self.test_button.setEnabled(False)
        job = Worker(verify, name="test-connection", parent=self)
        job.succeeded.connect(lambda found: self._on_detected(entry, found, host))
        job.failed.connect(lambda exc: self._on_test_failed(exc, host))
        job.finished.connect(lambda: self.test_button.setEnabled(self._current is not None))
        self.test_job = job.start()
        return job

    def _on_detected(self, entry: _Entry, found: Detection, host: str) -> None:
        """Keep the edition that answered (and its base URL when one was typed)."""
        if found.chosen is None:  # the words `recotap auth test` prints (one owner)
            self.result_label.setText("✖ " + found.message[:1].upper() + found.message[1:])
            return
        entry.profile.last_verified = now_iso()
        entry.detected = True
        entry.profile.edition = found.chosen.rules.name
        if entry.profile.base_url and not self.services.base_url_overridden(entry.profile):
            entry.profile.base_url = found.chosen.base_url
        if entry is self._current:
            self._load(entry)
            self._show_edition(detected=True)
        self.result_label.setText(
            f"✔ Connected to {host}: the API key works; {found.message}.")

    def _on_test_failed(self, exc: BaseException, host: str) -> None:
        self.result_label.setText("✖ " + describe_error(exc, host))

    # ------------------------------------------------------------------ OK
    def validate(self) -> str | None:
        """Check every profile; select the first bad one and return the problem."""
        seen: set[str] = set()
        for i, entry in enumerate(self._entries):
            name = entry.profile.name.strip()
            problem = None
            if not name:
                problem = "Every connection needs a name."
            elif name in seen:
                problem = f"Two connections are called “{name}”; rename one."
            seen.add(name)
            if problem is None:
                try:
                    normalise_base_url(entry.profile.base_url, entry.profile.edition,
                                       entry.profile.allow_insecure_http)
                except ConfigError as exc:
                    problem = exc.message
            if problem is not None:
                self.profile_list.setCurrentRow(i)
                self.result_label.setText("✖ " + problem)
                return problem
        return None

    def accept(self) -> None:
        """Validate, store keys (worker), save settings, close."""
        if self.save_job is not None and self.save_job.running:
            return
        if self.validate() is not None:
            return
        services = self.services
        removed = [n for n in self._removed
                   if not services.is_demo(n)
                   and n not in {e.profile.name for e in self._entries}]
        plan: list[tuple[str | None, str, str]] = [
            (e.original_name, e.profile.name.strip(), e.new_key) for e in self._entries
            if not services.is_demo(e.original_name)
        ]
        # A new connection is probed like "Test connection" does (issue 18, finding 8): the
        # edition that answers is kept; when neither does, it is saved as set, unverified.
        probes = [(e, replace(e.profile), e.new_key) for e in self._entries
                  if e.original_name is None and e.new_key and not e.detected]

        def store_keys(progress: SignalProgress) -> tuple[list[str], list[tuple[Any, ...]]]:
            notes, found_editions = _probe_new_connections(services, probes,
                                                           progress.cancel_event)
            return notes + _store_keys(services, plan, removed), found_editions

        self.buttons.setEnabled(False)
        self.result_label.setText("Saving…")
        job = Worker(store_keys, name="store-keys", parent=self)
        job.succeeded.connect(self._on_saved)
        job.failed.connect(self._on_save_failed)
        self.save_job = job.start()

    def _on_saved(self, result: Any) -> None:
        notes, found_editions = result
        for entry, edition, base_url in found_editions:
            entry.profile.edition = edition
            if entry.profile.base_url and not self.services.base_url_overridden(entry.profile):
                entry.profile.base_url = base_url
            entry.profile.last_verified = now_iso()
            entry.detected = True
        settings = self.services.settings
        self.saved_notes = list(notes or [])
        try:
            # one owner of the rules (unique names, the active one kept or the first)
            settings.replace_profiles([e.profile for e in self._entries],
                                      (self._active_name or "").strip() or None)
            self.services.set_active(settings.active_profile)
        except Exception as exc:
            self.buttons.setEnabled(True)
            self.result_label.setText("✖ " + describe_error(exc))
            return
        for note in self.saved_notes:
            log.info("connection saved: %s", note)
        super().accept()

    def _on_save_failed(self, exc: BaseException) -> None:
        self.buttons.setEnabled(True)
        log.warning("saving connections failed: %s", exc)
        self.result_label.setText("✖ The connections could not be saved: " + describe_error(exc))


# ---------------------------------------------------------------- saving (on a worker)
def _probe_new_connections(
    services: Services, probes: list[tuple[_Entry, Profile, str]], cancel_event: Any,
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """A new connection is probed like "Test connection" does (issue 18, finding 8): the
    edition that answers is kept (applied on the GUI thread from the returned
    ``(entry, edition, base_url)``); when neither does, a note says it is saved as set."""
    notes: list[str] = []
    found_editions: list[tuple[Any, ...]] = []
    for entry, profile, key in probes:
        try:
            spec = services.connection_spec(profile, key)
            found = detect_edition(
                key, base_url=spec.base_url, preferred=profile.edition,
                allow_insecure_http=profile.allow_insecure_http,
                cancel_event=cancel_event, timeout=spec.timeout)
        except Exception as exc:  # offline, refused...: save it as set, say so
            notes.append(f"{profile.name}: not verified ({describe_error(exc)})")
            continue
        if found.chosen is None:
            notes.append(f"{profile.name}: not verified ({found.message})")
            continue
        found_editions.append((entry, found.chosen.rules.name, found.chosen.base_url))
    return notes, found_editions


def _store_keys(services: Services, plan: list[tuple[str | None, str, str]],
                removed: list[str]) -> list[str]:
    """Keys follow the edits of ``plan`` (``(original name, name, new key)``) and
    ``removed`` at once (renames and swaps included); new keys go to the keychain, or
    to memory with a note when there is none."""
    notes: list[str] = []
    try:  # removals, renames and swaps at once (the memory-only keys follow too)
        services.move_keys({o: n for o, n, _key in plan if o}, removed)
    except KeychainUnavailable:
        pass  # no keychain: nothing stored there to move
    for _original, name, key in plan:
        if not key:
            continue
        try:
            services.keystore.set(name, key)
            services.forget_session_key(name)
        except KeychainUnavailable as exc:
            services.remember_session_key(name, key)
            notes.append(f"{name}: the key is kept in memory until you close the "
                         f"app. {exc.message}")
    return notes
