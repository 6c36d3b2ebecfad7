"""The backfill assistant's shell: the step title, the connection line, the banner, the
three steps on a stack (:mod:`.list_page`, :mod:`.match_page`, :mod:`.review_page` with
:mod:`.send`), the progress row with Stop, and the buttons (Back and the step's main
button); dropping a CRM file on it opens the match step."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtGui import QDragEnterEvent, QDropEvent, QFont
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from recotap_desktop.ui.backfill.base import PAGE_LIST, PAGE_MATCH, PAGE_REVIEW
from recotap_desktop.ui.backfill.help import backfill_help_html
from recotap_desktop.ui.backfill.list_page import ListPage
from recotap_desktop.ui.backfill.match_page import CRM_SUFFIXES, MatchPage
from recotap_desktop.ui.backfill.send import SendStep
from recotap_desktop.ui.job_dialog import Banner
from recotap_desktop.ui.services import Services
from recotap_desktop.ui.widgets import resize_within_screen

__all__ = ["BackfillDialog"]

_PAGE_NAMES = ("list", "match", "review")
_STEP_TITLES = (
    "Accounts without an external ID",
    "Match them with a CRM export",
    "Review and send",
)


class BackfillDialog(ListPage, MatchPage, SendStep):
    """The external-ID backfill assistant for the active connection of ``services``.

    ``client_kwargs`` go to the API client (tests pass a short
    :class:`~recotap_desktop.api.RetryPolicy`). Open it with ``open()`` or ``show()``;
    it fetches the unmapped accounts at once.
    """

    STOP_TITLE = "Stop the backfill?"
    STOP_TEXT = (
        "Stop now and close? A send finishes the batches already on their way; the rest "
        "stays unsent and the run can be resumed from the sync history."
    )
    STOP_BUTTON = "Stop and close"
    HELP_TITLE = "Backfill external IDs — help"
    HELP_OBJECT_NAME = "backfill-help"
    HELP_SIZE = (600, 560)

    def __init__(
        self,
        services: Services,
        parent: QWidget | None = None,
        *,
        client_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(services, parent, client_kwargs=client_kwargs)
        self.setObjectName("backfill-dialog")
        self.setWindowTitle("Backfill external IDs")
        self.setAcceptDrops(True)
        self._init_state()

        layout = QVBoxLayout(self)
        self._build_header(layout)
        self.banner = Banner("backfill-banner", icon=False, margins=(8, 4, 8, 4))
        layout.addWidget(self.banner)

        self.stack = QStackedWidget()
        self.stack.addWidget(self._build_list_page())
        self.stack.addWidget(self._build_match_page())
        self.stack.addWidget(self._build_review_page())
        layout.addWidget(self.stack, 1)
        layout.addWidget(self._build_progress_row())
        layout.addLayout(self._build_buttons())

        self._load_connection()
        self._show_page(PAGE_LIST)
        resize_within_screen(self, 1000, 680)
        if not self._problem:
            self.refresh_list()

    # ================================================================== building
    def _build_header(self, layout: QVBoxLayout) -> None:
        """The step title and the connection line."""
        self.step_label = QLabel()
        self.step_label.setObjectName("backfill-step")
        font = QFont(self.font())
        font.setBold(True)
        font.setPointSizeF(max(font.pointSizeF(), 1.0) * 1.2)
        self.step_label.setFont(font)
        layout.addWidget(self.step_label)
        self.connection_label = QLabel()
        self.connection_label.setWordWrap(True)
        layout.addWidget(self.connection_label)

    def _build_progress_row(self) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 0)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setMaximumWidth(260)
        self.progress_label = QLabel("")
        self.progress_label.setObjectName("backfill-progress")
        self.stop_button = QPushButton("S&top")
        self.stop_button.setAutoDefault(False)
        self.stop_button.clicked.connect(self.cancel)
        row.addWidget(self.progress_bar)
        row.addWidget(self.progress_label, 1)
        row.addWidget(self.stop_button)
        box.hide()
        self.progress_box = box
        return box

    def _build_buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.help_button = QPushButton("&Help")
        self.help_button.setAutoDefault(False)
        self.help_button.setToolTip(
            "How accounts are matched, and why ambiguous cases are never guessed (F1)"
        )
        self.help_button.clicked.connect(self.show_help)
        row.addWidget(self.help_button)
        row.addStretch(1)
        self.report_button = QPushButton("Save &report…")
        self.report_button.clicked.connect(self.choose_report)
        self.next_round_button = QPushButton("Next ro&und")
        self.next_round_button.setObjectName("next-round")
        self.next_round_button.clicked.connect(self.next_round)
        self.back_button = QPushButton("< &Back")
        self.back_button.clicked.connect(self.back)
        self.next_button = QPushButton("&Next: match with a CRM export >")
        self.next_button.setObjectName("to-match")
        self.next_button.clicked.connect(lambda: self._show_page(PAGE_MATCH))
        self.match_button = QPushButton("&Find matches >")
        self.match_button.setObjectName("find-matches")
        self.match_button.clicked.connect(self.find_matches)
        self.send_button = QPushButton("&Send…")
        self.send_button.setObjectName("send")
        self.send_button.clicked.connect(self.send)
        self.close_button = QPushButton("Close")
        self.close_button.setAutoDefault(False)
        self.close_button.clicked.connect(self.reject)
        for button in (
            self.report_button,
            self.next_round_button,
            self.back_button,
            self.next_button,
            self.match_button,
            self.send_button,
        ):
            button.setAutoDefault(False)
            row.addWidget(button)
        row.addWidget(self.close_button)
        return row

    # ================================================================== state
    @property
    def page(self) -> str:
        """``list``, ``match`` or ``review``."""
        return _PAGE_NAMES[self.stack.currentIndex()]

    def _load_connection(self) -> None:
        profile = self.profile
        if profile is None:
            self._problem = (
                "There is no connection yet. Open Connection → Connections… and "
                "add one, then start the backfill."
            )
            self.connection_label.setText("No connection.")
        else:
            self.connection_label.setText(self.connection_text(profile))
        if self._services.history is None:
            self._problem = (
                "The sync history could not be opened, so IDs cannot be sent "
                "(every send is recorded there): "
                f"{self._services.history_problem or 'unknown problem'}"
            )
        if self._problem:
            self.show_banner(self._problem)
            self.list_count_label.setText("")

    def _show_page(self, page: int) -> None:
        self.stack.setCurrentIndex(page)
        self.step_label.setText(f"Step {page + 1} of 3 · {_STEP_TITLES[page]}")
        self._update_buttons()
        if page == PAGE_MATCH and not self.crm_edit.text():
            self.crm_browse.setFocus()
        elif page == PAGE_REVIEW:
            self.review_view.setFocus()

    def back(self) -> None:
        """Back one step."""
        if self.running:
            return
        self._show_page(max(0, self.stack.currentIndex() - 1))

    def _update_buttons(self) -> None:
        page = self.stack.currentIndex()
        busy = self.running
        ok = not self._problem
        self.back_button.setVisible(page != PAGE_LIST)
        self.back_button.setEnabled(not busy)
        self.next_button.setVisible(page == PAGE_LIST)
        self.next_button.setEnabled(ok and not busy)
        self.match_button.setVisible(page == PAGE_MATCH)
        self.match_button.setEnabled(ok and not busy and self.crm is not None)
        self.send_button.setVisible(page == PAGE_REVIEW)
        n = len(self.review_model.decisions()) if page == PAGE_REVIEW else 0
        self.send_button.setText(f"&Send {n:,} ID{'s' if n != 1 else ''}…")
        self.send_button.setEnabled(ok and not busy and self.session is not None and n > 0)
        self.report_button.setVisible(page == PAGE_REVIEW)
        self.report_button.setEnabled(not busy and self.session is not None)
        self.next_round_button.setVisible(page == PAGE_REVIEW and bool(self.pending))
        self.next_round_button.setEnabled(not busy)
        if self.pending:
            self.next_round_button.setText(
                f"Next ro&und ({len(self.pending):,} more account"
                f"{'s' if len(self.pending) != 1 else ''})"
            )
        for button in (*self.bulk_buttons,):
            button.setEnabled(not busy)
        self.refresh_button.setEnabled(ok and not busy)
        self.find_all_button.setVisible(self.listing is not None and not self.listing.complete)
        self.find_all_button.setEnabled(ok and not busy)
        self.export_list_button.setEnabled(not busy and bool(self.unmapped_model.rows))
        self.crm_browse.setEnabled(not busy)
        self.crm_edit.setEnabled(not busy)
        self._set_columns_enabled(
            not busy
            and self.crm_path is not None
            and bool(self.column_combos["externalId"].count())
        )
        self.review_view.setEnabled(True)
        self.candidate_combo.setEnabled(not busy and self._candidate_row() is not None)
        default = {
            PAGE_LIST: self.next_button,
            PAGE_MATCH: self.match_button,
            PAGE_REVIEW: self.send_button,
        }[page]
        for button in (self.next_button, self.match_button, self.send_button):
            button.setDefault(button is default)

    # ================================================================== dropping a file, help
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if not self.running and self._dropped_file(event.mimeData().urls()) is not None:
            event.acceptProposedAction()
            return
        event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        path = self._dropped_file(event.mimeData().urls())
        if path is None or self.running:
            event.ignore()
            return
        event.acceptProposedAction()
        self._show_page(PAGE_MATCH)
        self.load_crm(path)

    @staticmethod
    def _dropped_file(urls: Sequence[Any]) -> Path | None:
        for url in urls:
            if url.isLocalFile():
                path = Path(url.toLocalFile())
                if path.suffix.lower() in CRM_SUFFIXES:
                    return path
        return None

    def help_html(self) -> str:
        """F1 / Help: the matching rules, ambiguity, the overwrite warning."""
        return backfill_help_html()
