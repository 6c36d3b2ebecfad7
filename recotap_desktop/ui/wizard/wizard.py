"""The import wizard: one shape for every kind (file → columns → check → options → run →
results). Pages validate themselves (``isComplete``), fields are registered, Back keeps
the choices, Esc and closing ask first, F1 and the Help button explain each page.

    wizard = ImportWizard(services, "accounts", path=None, parent=main_window)
    wizard.show()
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QMessageBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from recotap_desktop.ui.messages import describe_error
from recotap_desktop.ui.results.view import ResultsView
from recotap_desktop.ui.services import Services
from recotap_desktop.ui.wizard import help as help_text
from recotap_desktop.ui.wizard.check_page import CheckPage
from recotap_desktop.ui.wizard.columns_page import ColumnsPage
from recotap_desktop.ui.wizard.context import ImportContext
from recotap_desktop.ui.wizard.file_page import FilePage
from recotap_desktop.ui.wizard.options_page import OptionsPage
from recotap_desktop.ui.wizard.run_page import RunPage
from recotap_desktop.ui.workers import SignalProgress, Worker

log = logging.getLogger(__name__)

FILE_PAGE, COLUMNS_PAGE, CHECK_PAGE, OPTIONS_PAGE, RUN_PAGE, RESULTS_PAGE = range(6)


class ResultsPage(QWizardPage):
    """Page 6: the results grid of the run."""

    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.ctx = wizard.ctx
        self.setTitle("Results")
        self.setSubTitle("Every row with its final state. Click a colour to filter; export the "
                         "failures to fix them; retry rows that failed for a temporary reason.")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.view = ResultsView(wizard.ctx.services, self)
        layout.addWidget(self.view)
        self._loaded_run: int | None = None

    def initializePage(self) -> None:
        run_id = self.ctx.run_id
        if run_id is not None and run_id != self._loaded_run:
            self._loaded_run = run_id
            self.view.client_kwargs = dict(self.ctx.client_kwargs)
            self.view.load_run(run_id)


class HelpDialog(QDialog):
    """The help text of one page (non-modal)."""

    def __init__(self, html: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import help")
        self.resize(560, 480)
        layout = QVBoxLayout(self)
        self.browser = QTextBrowser()
        self.browser.setObjectName("helpText")
        self.browser.setAccessibleName("Help")
        self.browser.setOpenExternalLinks(True)
        self.browser.setHtml(html)
        layout.addWidget(self.browser)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)

    def set_html(self, html: str) -> None:
        self.browser.setHtml(html)


class ImportWizard(QWizard):
    """Import one file of ``kind`` through the active connection.

    ``client_kwargs`` go to every API client the wizard opens for the run (tests use it for
    short retry delays).
    """

    #: The active connection's key and (where needed) custom fields are known (or failed).
    connectionReady = Signal()
    #: A (new) lookup of the key and custom fields started (pages show "loading", hide Retry).
    connectionLoading = Signal()
    #: The run ended: the RunResult (or None when it failed to start).
    runFinished = Signal(object)

    def __init__(self, services: Services, kind: str, path: Path | None = None,
                 parent: QWidget | None = None, *,
                 client_kwargs: dict[str, Any] | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.ctx = ImportContext.create(services, kind)
        self.ctx.client_kwargs = dict(client_kwargs or {})
        self.connection_job: Worker | None = None
        self.message_box: QMessageBox | None = None
        self.help_dialog: HelpDialog | None = None
        self._discard_confirmed = False
        self.setWindowTitle(f"Import {self.ctx.kind.title.lower()}")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOptions(QWizard.WizardOption.HaveHelpButton
                        | QWizard.WizardOption.NoBackButtonOnLastPage
                        | QWizard.WizardOption.NoCancelButtonOnLastPage
                        | QWizard.WizardOption.NoBackButtonOnStartPage)
        self.setButtonText(QWizard.WizardButton.NextButton, "&Next >")
        self.setButtonText(QWizard.WizardButton.BackButton, "< &Back")
        self.setButtonText(QWizard.WizardButton.HelpButton, "&Help")
        self.file_page = FilePage(self)
        self.columns_page = ColumnsPage(self)
        self.check_page = CheckPage(self)
        self.options_page = OptionsPage(self)
        self.run_page = RunPage(self)
        self.results_page = ResultsPage(self)
        for page_id, page in ((FILE_PAGE, self.file_page), (COLUMNS_PAGE, self.columns_page),
                              (CHECK_PAGE, self.check_page), (OPTIONS_PAGE, self.options_page),
                              (RUN_PAGE, self.run_page), (RESULTS_PAGE, self.results_page)):
            self.setPage(page_id, page)
        self.run_page.runFinished.connect(self._on_run_finished)
        self.helpRequested.connect(self.show_help)
        shortcut = QShortcut(QKeySequence(QKeySequence.StandardKey.HelpContents), self)
        shortcut.activated.connect(self.show_help)
        self.resize(980, 720)
        if self.ctx.profile is None:
            self.file_page.problem_label.setText(
                "✖ There is no connection yet. Add one (Connection → Connections…), then "
                "open the import again.")
            self.file_page.problem_label.setVisible(True)
        else:
            self.load_connection()
        if path is not None:
            self.file_page.set_path(path)

    @property
    def client_kwargs(self) -> dict[str, Any]:
        return self.ctx.client_kwargs

    @property
    def results_view(self) -> ResultsView:
        return self.results_page.view

    # ------------------------------------------------------------------ connection
    def load_connection(self) -> Worker | None:
        """Resolve the API key and (accounts, account fields) load the active custom fields."""
        profile = self.ctx.profile
        if profile is None:
            return None
        if self.connection_job is not None and self.connection_job.running:
            return self.connection_job
        services, kind = self.services, self.ctx.kind.name
        client_kwargs = dict(self.ctx.client_kwargs)
        self.ctx.connection_loading = True
        self.ctx.connection_error = None
        self.connectionLoading.emit()

        def load(progress: SignalProgress) -> tuple[Any, list[Any]]:
            spec = services.connection_spec(profile)
            return spec, services.custom_fields(kind, spec, cancel_event=progress.cancel_event,
                                                **client_kwargs)

        def done(result: tuple[Any, list[Any]]) -> None:
            self.ctx.spec, self.ctx.custom_fields = result

        def failed(exc: BaseException) -> None:
            self.ctx.connection_error = describe_error(exc)

        def finished() -> None:
            self.ctx.connection_loading = False
            self.connectionReady.emit()

        job = Worker(load, name="wizard-connection", parent=self)
        job.succeeded.connect(done)
        job.failed.connect(failed)
        job.finished.connect(finished)
        self.connection_job = job.start()
        return job

    # ------------------------------------------------------------------ help
    def show_help(self) -> HelpDialog:
        """Explain the current page (F1 / Help)."""
        index = max(0, self.currentId())
        html = help_text.PAGES[min(index, len(help_text.PAGES) - 1)]
        if self.help_dialog is None:
            self.help_dialog = HelpDialog(html, self)
            self.help_dialog.finished.connect(lambda _r: setattr(self, "help_dialog", None))
            self.help_dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            self.help_dialog.show()
        else:
            self.help_dialog.set_html(html)
            self.help_dialog.activateWindow()
        return self.help_dialog

    # ------------------------------------------------------------------ run
    def _on_run_finished(self, result: Any) -> None:
        self.runFinished.emit(result)
        if self.currentId() == RUN_PAGE:
            self.button(QWizard.WizardButton.NextButton).setFocus()

    @property
    def running(self) -> bool:
        return self.run_page.running

    def ask_stop(self, on_stopped: Any = None) -> QMessageBox | None:
        """Ask how the run should stop (finish in flight / stop now / keep running);
        ``on_stopped`` is called once it has stopped and its journal is closed."""
        self.message_box = self.run_page.ask_cancel(on_stopped=on_stopped)
        return self.message_box

    # ------------------------------------------------------------------ closing
    def reject(self) -> None:
        """Esc / Cancel / closing: ask first when a run is going or choices would be lost."""
        if self.running:
            self.ask_stop(on_stopped=self._close_after_run)
            return
        if self._discard_confirmed or self.currentId() >= RUN_PAGE or (
                self.ctx.source is None and self.currentId() == FILE_PAGE):
            self._stop_jobs()
            super().reject()
            return
        box = QMessageBox(QMessageBox.Icon.Question, "Discard this import?",
                          "Close the import? Nothing has been sent; your column matching is "
                          "remembered for files with the same columns.",
                          QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
                          self)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def clicked(button: Any) -> None:
            if box.standardButton(button) == QMessageBox.StandardButton.Discard:
                self._discard_confirmed = True
                self.reject()

        box.buttonClicked.connect(clicked)
        self.message_box = box
        box.open()

    def _close_after_run(self) -> None:
        self._discard_confirmed = True
        self.reject()

    def _stop_jobs(self) -> None:
        for job in (self.connection_job, self.file_page.job, self.check_page.job,
                    self.check_page.preview_job):
            if job is not None and job.running:
                job.cancel(stop_now=True)
        self.results_view.cancel_jobs()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.running or not (self._discard_confirmed or self.currentId() >= RUN_PAGE
                                or self.ctx.source is None):
            event.ignore()
            self.reject()
            return
        super().closeEvent(event)
