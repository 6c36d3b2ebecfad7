"""The shared shape of a dialog that runs background jobs (export, backfill).

:class:`JobDialog` owns what every such dialog does the same way:

* one background job at a time (``job``), run on a :class:`~recotap_desktop.ui.workers.Worker`
  by :meth:`JobDialog.start_job`; one rule for ``running`` (the job is between its start
  and its end); :meth:`JobDialog.cancel`;
* Esc or closing the window while a job runs asks before stopping it, and closes once it
  has stopped (``STOP_TITLE``, ``STOP_TEXT``, ``STOP_BUTTON``);
* F1 and Help open the dialog's help window (``HELP_TITLE``, :meth:`JobDialog.help_html`);
* the message strip above the pages (:class:`Banner`), and the progress bar that follows
  the engine's :class:`~recotap_desktop.engine.progress.ProgressSnapshot`
  (:func:`follow`, :func:`rate_and_eta`);
* the connection line and the folder of the last file opened or saved
  (:meth:`JobDialog.last_folder`, :meth:`JobDialog.remember_folder`, through
  ``Settings.remember``).

A subclass builds its pages, then reacts through small hooks: ``_job_started``,
``_job_ended``, ``_cancel_requested`` and ``_on_snapshot``.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QStyle,
    QWidget,
)

from recotap_desktop.domain.editions import rules_for
from recotap_desktop.engine.progress import ProgressSnapshot, format_duration
from recotap_desktop.store.settings import UI_LAST_FOLDER, Profile
from recotap_desktop.ui.dialogs import help_window, present
from recotap_desktop.ui.messages import describe_error
from recotap_desktop.ui.services import NoApiKey, Services
from recotap_desktop.ui.workers import SignalProgress, Worker

__all__ = ["Banner", "JobDialog", "follow", "rate_and_eta", "stop_question"]


def stop_question(parent: QWidget, title: str, text: str, stop_text: str) -> QMessageBox:
    """"Stop the running job?" with "Keep going" as the default and Esc answer."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text,
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, parent)
    box.button(QMessageBox.StandardButton.Yes).setText(stop_text)
    box.button(QMessageBox.StandardButton.No).setText("Keep going")
    box.setDefaultButton(QMessageBox.StandardButton.No)
    box.setEscapeButton(QMessageBox.StandardButton.No)
    return box


class Banner(QFrame):
    """A message strip (an error or a note), hidden until there is a message.

    ``icon``: a warning or information icon beside the text; ``margins``: the strip's
    contents margins (``None``: the style's).
    """

    def __init__(self, object_name: str, *, icon: bool = True,
                 margins: tuple[int, int, int, int] | None = None) -> None:
        super().__init__()
        self.setObjectName(object_name)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QHBoxLayout(self)
        if margins is not None:
            layout.setContentsMargins(*margins)
        self.icon_label: QLabel | None = None
        if icon:
            self.icon_label = QLabel()
            self.icon_label.setAlignment(Qt.AlignmentFlag.AlignTop)
            layout.addWidget(self.icon_label)
        self.text_label = QLabel()
        self.text_label.setWordWrap(True)
        self.text_label.setTextFormat(Qt.TextFormat.PlainText)
        self.text_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.text_label, 1)
        self.hide()

    def show_message(self, text: str, *, warning: bool) -> None:
        """Show ``text`` (``warning``: with the warning icon, else the information one)."""
        self.setProperty("warning", warning)
        if self.icon_label is not None:
            icon = (
                QStyle.StandardPixmap.SP_MessageBoxWarning
                if warning
                else QStyle.StandardPixmap.SP_MessageBoxInformation
            )
            size = self.style().pixelMetric(QStyle.PixelMetric.PM_LargeIconSize)
            self.icon_label.setPixmap(self.style().standardIcon(icon).pixmap(size, size))
        self.text_label.setText(text)
        self.show()

    def message(self) -> str:
        """The message shown (``""`` when hidden)."""
        return self.text_label.text() if not self.isHidden() else ""


def follow(bar: QProgressBar, snapshot: ProgressSnapshot) -> None:
    """Move ``bar`` to ``snapshot``: a share of its total, or busy when there is none."""
    done, total = snapshot.done, snapshot.total
    if total:
        bar.setRange(0, total)
        bar.setValue(min(done, total))
    else:
        bar.setRange(0, 0)


def rate_and_eta(snapshot: ProgressSnapshot, unit: str) -> list[str]:
    """``["120 accounts/s", "about 2 minutes left"]``, as far as the engine knows them
    (the time left only with a total)."""
    parts = []
    if snapshot.rate:
        parts.append(f"{snapshot.rate:,.0f} {unit}/s")
    if snapshot.eta is not None and snapshot.total:
        parts.append(f"about {format_duration(snapshot.eta)} left")
    return parts


class JobDialog(QDialog):
    """A dialog for the active connection of ``services`` that runs background jobs, one
    at a time. See the module docstring.

    ``client_kwargs`` go to the API client (tests pass a short
    :class:`~recotap_desktop.api.RetryPolicy`).
    """

    STOP_TITLE = "Stop?"
    STOP_TEXT = ""
    STOP_BUTTON = "Stop"
    #: Whether Cancel stops the job at once (between pages) or lets requests in flight end.
    CANCEL_STOP_NOW = False
    HELP_TITLE = ""
    HELP_OBJECT_NAME = ""
    HELP_SIZE = (560, 520)
    #: Errors that carry their own words for people (``exc.message``).
    OWN_WORDS: tuple[type[Exception], ...] = (NoApiKey,)

    def __init__(
        self,
        services: Services,
        parent: QWidget | None = None,
        *,
        client_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._client_kwargs = dict(client_kwargs or {})
        self.profile: Profile | None = services.active_profile
        #: The job running now, or the last one (``None`` before the first).
        self.job: Worker | None = None
        self.confirm_box: QMessageBox | None = None
        self.help_dialog: QDialog | None = None
        self._close_when_done = False
        QShortcut(QKeySequence(QKeySequence.StandardKey.HelpContents), self, self.show_help)

    # ------------------------------------------------------------------ jobs
    @property
    def running(self) -> bool:
        """True while a job runs (between its start and its end)."""
        return self.job is not None and self.job.running

    def start_job(
        self,
        fn: Callable[[SignalProgress], Any],
        name: str,
        *,
        on_ok: Callable[[Any], None],
        on_error: Callable[[object], None],
        on_cancelled: Callable[[], None],
    ) -> Worker:
        """Run ``fn`` on a worker; its snapshots go to :meth:`_on_snapshot`, its end to
        ``on_ok``, ``on_error`` or ``on_cancelled``, then :meth:`_job_ended`."""
        assert not self.running, "one job at a time"
        job = Worker(fn, name=name, parent=self)
        job.snapshot.connect(self._on_snapshot)
        job.succeeded.connect(on_ok)
        job.failed.connect(on_error)
        job.cancelled.connect(on_cancelled)
        job.finished.connect(self._on_job_finished)
        self.job = job
        job.start()
        self._job_started()
        return job

    def cancel(self) -> None:
        """Ask the running job to stop (``CANCEL_STOP_NOW``: at once, between pages)."""
        if self.running and self.job is not None:
            self.job.cancel(stop_now=self.CANCEL_STOP_NOW)
            self._cancel_requested()

    @property
    def stopping(self) -> bool:
        """True once Cancel was asked of the running job."""
        return self.job is not None and self.job.cancel_requested

    def _on_job_finished(self) -> None:
        self._job_ended()
        if self._close_when_done:
            self._close_when_done = False
            super().reject()

    def _on_snapshot(self, snapshot: object) -> None:
        """A progress snapshot of the running job (subclasses show it)."""

    def _job_started(self) -> None:
        """Called once a job has started (subclasses update their controls)."""

    def _job_ended(self) -> None:
        """Called once the job has ended, after its outcome was shown."""

    def _cancel_requested(self) -> None:
        """Called once Cancel was asked of the running job (subclasses say so)."""

    def error_text(self, exc: object) -> str:
        """What went wrong, in words for people (with the connection's host)."""
        if isinstance(exc, self.OWN_WORDS):
            return str(getattr(exc, "message", exc))
        if isinstance(exc, BaseException):
            host = self._services.host_of(self.profile) if self.profile else ""
            return describe_error(exc, host)
        return str(exc)

    # ------------------------------------------------------------------ connection, files
    def connection_text(self, profile: Profile) -> str:
        """``Connection: <b>name</b> · host · edition`` (rich text)."""
        rules = rules_for(profile.edition)
        return (
            f"Connection: <b>{html.escape(profile.name)}</b> · "
            f"{html.escape(self._services.host_of(profile))} · {html.escape(rules.title)}"
        )

    def last_folder(self) -> Path:
        """The folder of the last file opened or saved (the home folder at first)."""
        return Path(str(self._services.settings.ui.get(UI_LAST_FOLDER) or Path.home()))

    def remember_folder(self, folder: Path) -> None:
        """Remember ``folder`` as the place of the last file opened or saved."""
        self._services.settings.remember(UI_LAST_FOLDER, str(folder))

    # ------------------------------------------------------------------ help, closing
    def help_html(self) -> str:
        """The dialog's help text (HTML)."""
        raise NotImplementedError

    def show_help(self) -> QDialog:
        """F1 / Help: the dialog's help window (one, brought to the front when open)."""
        if self.help_dialog is None:
            self.help_dialog = help_window(
                self,
                self.HELP_TITLE,
                self.help_html(),
                object_name=self.HELP_OBJECT_NAME,
                size=self.HELP_SIZE,
            )
        return present(self.help_dialog)

    def reject(self) -> None:
        """Esc / Close: closes, or while a job runs asks whether to stop it."""
        if not self.running:
            super().reject()
            return
        if self.confirm_box is not None:
            return
        box = stop_question(self, self.STOP_TITLE, self.STOP_TEXT, self.STOP_BUTTON)
        self.confirm_box = box

        def answered(button: int) -> None:
            self.confirm_box = None
            if button == QMessageBox.StandardButton.Yes and self.running:
                self._close_when_done = True
                self.cancel()

        box.finished.connect(answered)
        box.open()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # A QShortcut handles F1 in a running app; this covers synthetic key events.
        if event.matches(QKeySequence.StandardKey.HelpContents):
            self.show_help()
            event.accept()
            return
        super().keyPressEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.running:
            event.ignore()
            self.reject()
            return
        super().closeEvent(event)
