"""What every part of the export dialog shares: its state, its pages and the banner.

The parts are mixins of :class:`ExportBase` (``mode``, ``filters``, ``output``, ``run``,
``summary``); :class:`~recotap_desktop.ui.export.dialog.ExportDialog` puts them together
and owns the shell (the options page, the buttons, which page shows).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QLabel, QMessageBox, QPushButton, QStackedWidget

from recotap_desktop.engine.export import DomainList, ExportError, ExportOptions, ExportResult
from recotap_desktop.ui.job_dialog import Banner, JobDialog
from recotap_desktop.ui.services import NoApiKey
from recotap_desktop.ui.workers import Worker

__all__ = ["PAGE_OPTIONS", "PAGE_PROGRESS", "PAGE_SUMMARY", "ExportBase", "hint"]

#: The pages of the stack, in order.
PAGE_OPTIONS, PAGE_PROGRESS, PAGE_SUMMARY = range(3)


def hint(text: str) -> QLabel:
    """A muted, wrapped line of explanation (the palette's disabled text colour)."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setEnabled(False)
    label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    return label


class ExportBase(JobDialog):
    """The dialog's state, shared by its parts."""

    OWN_WORDS = (ExportError, NoApiKey)

    # built by the dialog shell
    banner: Banner
    stack: QStackedWidget
    start_button: QPushButton
    cancel_button: QPushButton
    open_button: QPushButton
    folder_button: QPushButton

    def _init_state(self) -> None:
        #: The last finished (or cancelled/failed) export, once there is one.
        self.export_result: ExportResult | None = None
        self.domain_list: DomainList | None = None
        self.domain_file: Path | None = None
        #: "Choose another file": the output cannot be written there (files/targets.py).
        self.target_box: QMessageBox | None = None
        #: How URLs are opened (tests replace it).
        self.open_url: Callable[[QUrl], object] = QDesktopServices.openUrl
        self._confirmed_path: Path | None = None
        self._domain_job: Worker | None = None

    # ------------------------------------------------------------------ the shell's part
    def _show_page(self, index: int) -> None:
        """Show page ``index`` with its buttons (the dialog shell)."""
        raise NotImplementedError

    def _update_start(self) -> None:
        """Enable Start export when the options allow a run (the dialog shell)."""
        raise NotImplementedError

    def _load_connection(self) -> None:
        """Show the connection and the default options again (the dialog shell)."""
        raise NotImplementedError

    def options(self) -> ExportOptions:
        """The options the dialog describes (the dialog shell)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ the other parts
    def output_path(self) -> Path | None:
        """The output file as typed (the output group)."""
        raise NotImplementedError

    def choose_output(self) -> None:
        """Browse… for the output file (the output group)."""
        raise NotImplementedError

    def _show_summary(self, result: ExportResult) -> None:
        """Show a finished export on the summary page (the summary)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ the banner
    def show_banner(self, text: str, *, warning: bool) -> None:
        """Show ``text`` at the top of the options page (an error or a note)."""
        self.banner.show_message(text, warning=warning)

    def banner_text(self) -> str:
        """The banner's message (``""`` when hidden)."""
        return self.banner.message()
