"""Small dialogs: which import kind, preferences, help, about, and the crash report."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from recotap_desktop import APP_DISPLAY_NAME, __version__
from recotap_desktop.store.secrets import ENV_VAR
from recotap_desktop.store.settings import UI_CONCURRENCY
from recotap_desktop.ui.kinds import IMPORT_KINDS, KIND_HELP
from recotap_desktop.ui.services import Services

DEFAULT_CONCURRENCY = 4
MAX_CONCURRENCY = 16


def concurrency_setting(services: Services) -> int:
    """The remembered default number of parallel requests (1–16, default 4)."""
    value = services.settings.ui.get(UI_CONCURRENCY, DEFAULT_CONCURRENCY)
    if not isinstance(value, int) or isinstance(value, bool):
        return DEFAULT_CONCURRENCY
    return min(MAX_CONCURRENCY, max(1, value))


class KindDialog(QDialog):
    """Asks which kind of records a file holds; preselects the guess."""

    def __init__(self, file_name: str, guessed: str | None, *,
                 complete: Sequence[str] = (), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("What does this file contain?")
        layout = QVBoxLayout(self)
        intro = QLabel(
            f"<b>{html.escape(file_name)}</b><br>What should be imported from this file?"
            + ("<br>The columns look like the highlighted choice." if guessed else
               "<br>Its columns did not clearly match one kind; please choose.")
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self._group = QButtonGroup(self)
        self._buttons: dict[str, QRadioButton] = {}
        for name, text in IMPORT_KINDS:
            label = text
            if name == guessed:
                label += "   (looks like this)"
            elif name in complete:
                label += "   (possible)"
            button = QRadioButton(label)
            button.setObjectName(f"kind-{name}")
            button.setToolTip(KIND_HELP.get(name, ""))
            self._group.addButton(button)
            self._buttons[name] = button
            layout.addWidget(button)
            hint = QLabel(KIND_HELP.get(name, ""))
            hint.setIndent(24)
            hint.setEnabled(False)  # the palette's disabled text: readable in both themes
            layout.addWidget(hint)
        if guessed in self._buttons:
            self._buttons[guessed].setChecked(True)
        self._box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                     | QDialogButtonBox.StandardButton.Cancel)
        ok = self._box.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Continue")
        ok.setEnabled(guessed in self._buttons)
        self._group.buttonToggled.connect(lambda *_: ok.setEnabled(self.kind is not None))
        self._box.accepted.connect(self.accept)
        self._box.rejected.connect(self.reject)
        layout.addWidget(self._box)

    @property
    def kind(self) -> str | None:
        """The chosen kind name, or None."""
        for name, button in self._buttons.items():
            if button.isChecked():
                return name
        return None

    def choose(self, kind: str) -> None:
        """Select ``kind`` (used by tests and keyboard users)."""
        self._buttons[kind].setChecked(True)


class PreferencesDialog(QDialog):
    """Default concurrency and where the app keeps its data."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self.setWindowTitle("Preferences")
        layout = QVBoxLayout(self)

        sync = QGroupBox("Sending")
        form = QFormLayout(sync)
        self.concurrency = QSpinBox()
        self.concurrency.setRange(1, MAX_CONCURRENCY)
        self.concurrency.setValue(concurrency_setting(services))
        self.concurrency.setToolTip(
            "How many requests are sent to Recotap at the same time. Lower it if Recotap "
            "asks the app to slow down; the app also slows down by itself when asked."
        )
        form.addRow("Parallel requests (default):", self.concurrency)
        layout.addWidget(sync)

        data = QGroupBox("Where data is stored")
        grid = QFormLayout(data)
        paths = services.paths
        for title, path in (("Sync history", paths.data_dir), ("Settings", paths.config_dir),
                            ("Log files", paths.log_dir), ("Cache", paths.cache_dir)):
            grid.addRow(f"{title}:", _path_row(path))
        note = QLabel("API keys are never stored in these folders: they are kept in your "
                      f"system keychain ({html.escape(services.keystore.backend_name())}).")
        note.setWordWrap(True)
        grid.addRow(note)
        layout.addWidget(data)

        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                               | QDialogButtonBox.StandardButton.Cancel)
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        layout.addWidget(box)

    def accept(self) -> None:
        """Save the preferences and close."""
        self._services.settings.remember(UI_CONCURRENCY, int(self.concurrency.value()))
        super().accept()


def _path_row(path: Path) -> QWidget:
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    label = QLabel(str(path))
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    layout.addWidget(label, 1)
    button = QPushButton("Open")
    button.setToolTip(f"Open {path} in the file manager")
    button.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))))
    layout.addWidget(button)
    return row


def help_html(services: Services) -> str:
    """The help text (HTML) shown by Help → Help."""
    paths = services.paths
    backend = html.escape(services.keystore.backend_name())
    return f"""
<h2>{APP_DISPLAY_NAME}</h2>
<p>This app moves data between your CRM's files and Recotap, the account-based
marketing platform. It sends spreadsheets (CSV, TXT/TSV or Excel .xlsx) to Recotap and
saves Recotap's account scores to a spreadsheet. Every row ends in a clear state
(created, updated, failed …) that you can review and export.</p>

<h3>Your API key</h3>
<p>Recotap identifies you by an API key. Create one in Recotap under
<i>Settings → Workspace → Tech Settings → API Access Key</i>. It is shown only once:
copy it and paste it in <i>Connection → Connections…</i>. Creating a new key makes the
old one stop working. If Recotap refuses a correct key, API access may not be enabled
for your workspace yet; your Recotap account manager can switch it on.</p>
<p>The key is stored in your system keychain ({backend}), never in a file. Where no
keychain is available you can set the environment variable <code>{ENV_VAR}</code>
before starting the app.</p>

<h3>Editions</h3>
<p>Recotap offers two versions of its API. <b>CRM API</b> (the default) identifies
accounts by your CRM's ID (<code>externalId</code>). <b>External API</b> identifies
accounts by their web domain and can update existing accounts ("upsert"). Choose the
one your Recotap contact enabled for you; the app adapts the columns it asks for.</p>

<h3>Importing a file</h3>
<p>Choose an import (or drop a file on the window). The wizard reads the file, matches
its columns to Recotap's fields (check them; templates can be saved), then checks
<b>every</b> row before anything is sent: invalid rows are listed with their row,
column and reason and are never sent. Options come next (segment, concurrency, a dry
run that sends nothing), then the run with progress and Cancel, then the results.</p>
<p>What a row's state means: <b>created</b>, <b>updated</b> or <b>upserted</b> — Recotap
accepted it; <b>failed</b> — Recotap refused it, with its reason; <b>skipped</b> — Recotap
ignored it (e.g. an activity that is neither a call nor an email); <b>invalid</b> — the
app found a problem and did not send it; <b>not sent</b> — the run stopped first
(resume it from History).</p>
<p>With the CRM API, an account that already exists is <b>failed</b> on a second import:
that API cannot update accounts through an account import. Change their custom-field
values with <i>Import account field values</i>; the External API can update them
("upsert").</p>
<p>Interrupted runs (closed app, lost network) can be resumed from <i>View → History</i>:
only rows without an answer are sent, none twice.</p>

<h3>Several workspaces</h3>
<p>Agencies can keep one connection per client workspace; the active one is shown at
the top of the main window.</p>

<h3>Where your data is stored</h3>
<ul>
<li>Sync history and results: {html.escape(str(paths.data_dir))}</li>
<li>Settings: {html.escape(str(paths.config_dir))}</li>
<li>Log files (API keys are masked): {html.escape(str(paths.log_dir))}</li>
</ul>
<p>Nothing is sent to Recotap before you confirm it. A sync interrupted by a crash or a
closed laptop can be resumed from the history without sending rows twice.</p>
<p>Try everything safely with <code>recotap-desktop --demo</code>: a built-in demo
server on this computer, with sample data and no account needed.</p>
"""


class HelpDialog(QDialog):
    """Help → Help: plain words about the app, the key, editions and data locations."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{APP_DISPLAY_NAME} help")
        self.resize(640, 560)
        layout = QVBoxLayout(self)
        self.browser = QTextBrowser()
        self.browser.setAccessibleName("Help")
        self.browser.setOpenExternalLinks(True)
        self.browser.setHtml(help_html(services))
        layout.addWidget(self.browser)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        box.rejected.connect(self.reject)
        layout.addWidget(box)


def about_text() -> str:
    """Text of Help → About."""
    return (f"<h3>{APP_DISPLAY_NAME} {__version__}</h3>"
            "<p>Move CRM files in and out of Recotap through its HTTP API.</p>")


class CrashDialog(QDialog):
    """Shown for an unexpected error: what happened, where the log is, Copy details."""

    def __init__(self, summary: str, details: str, log_file: Path | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Something went wrong")
        self.details = details
        layout = QVBoxLayout(self)
        where = (f"The details were written to the log file:<br><code>{html.escape(str(log_file))}"
                 "</code>" if log_file else "The details are below.")
        text = QLabel(
            "<p><b>recotap-desktop hit an unexpected error.</b></p>"
            f"<p>{html.escape(summary)}</p><p>{where}</p>"
            "<p>Your data and sync history are safe. You can keep working; if the problem "
            "comes back, send the details to support (your API key is never included).</p>"
        )
        text.setWordWrap(True)
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(text)
        view = QPlainTextEdit(details)
        view.setReadOnly(True)
        view.setMinimumSize(560, 200)
        layout.addWidget(view)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = box.addButton("Copy details", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy_details)
        box.rejected.connect(self.reject)
        layout.addWidget(box)

    def copy_details(self) -> None:
        """Put the details on the clipboard."""
        QGuiApplication.clipboard().setText(self.details)
        self.copy_button.setText("Copied")


def help_window(parent: QWidget, title: str, html: str, *, object_name: str,
                size: tuple[int, int] = (560, 520)) -> QDialog:
    """A non-modal window showing ``html`` help text, with a Close button."""
    dialog = QDialog(parent)
    dialog.setWindowTitle(title)
    dialog.resize(*size)
    layout = QVBoxLayout(dialog)
    browser = QTextBrowser()
    browser.setAccessibleName("Details")
    browser.setObjectName(object_name)
    browser.setHtml(html)
    layout.addWidget(browser)
    box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    box.rejected.connect(dialog.reject)
    layout.addWidget(box)
    return dialog


def present(dialog: QDialog) -> QDialog:
    """Show ``dialog``, or bring it to the front when it is already open."""
    if dialog.isVisible():
        dialog.raise_()
        dialog.activateWindow()
    else:
        dialog.show()
    return dialog


def another_name_question(parent: QWidget, message: str, choose: object) -> QMessageBox:
    """A file cannot be written where the user asked (the rule and its words:
    :mod:`recotap_desktop.files.targets`): say why, and offer a save-as ("Choose another
    name…" calls ``choose``). Window-modal, opened (not exec'd); returned for tests."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Choose another file", message,
                      QMessageBox.StandardButton.Cancel, parent)
    other = box.addButton("Choose another name…", QMessageBox.ButtonRole.AcceptRole)
    box.setDefaultButton(other)

    def answered() -> None:
        if box.clickedButton() is other and callable(choose):
            choose()

    box.finished.connect(answered)
    box.open()
    return box
