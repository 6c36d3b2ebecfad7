"""What every step of the backfill assistant shares: its state, its one job at a time
(the progress row below the pages) and the banner above them.

The steps are mixins of :class:`BackfillBase` (``list_page``, ``match_page``,
``review_page``, ``send``); :class:`~recotap_desktop.ui.backfill.dialog.BackfillDialog`
puts them together and owns the shell (step title, banner, buttons, progress row).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QWidget,
)

from recotap_desktop.engine.backfill import (
    BackfillCancelled,
    BackfillError,
    BackfillSession,
    CrmFile,
    UnmappedListing,
)
from recotap_desktop.engine.progress import Phase, ProgressSnapshot
from recotap_desktop.engine.runner import RunResult
from recotap_desktop.records.backfill_match import Proposal
from recotap_desktop.ui.backfill.model import ReviewModel
from recotap_desktop.ui.job_dialog import Banner, JobDialog, follow
from recotap_desktop.ui.services import NoApiKey
from recotap_desktop.ui.workers import SignalProgress, Worker

__all__ = ["PAGE_LIST", "PAGE_MATCH", "PAGE_REVIEW", "BackfillBase", "hint"]

#: The steps, in order (the pages of the stack).
PAGE_LIST, PAGE_MATCH, PAGE_REVIEW = range(3)


def hint(text: str = "") -> QLabel:
    """A muted, wrapped line of explanation (the palette's disabled text colour)."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setEnabled(False)
    return label


class BackfillBase(JobDialog):
    """The assistant's state and job plumbing, shared by its steps."""

    OWN_WORDS = (BackfillError, NoApiKey)

    # built by the dialog shell
    banner: Banner
    stack: QStackedWidget
    progress_box: QWidget
    progress_bar: QProgressBar
    progress_label: QLabel
    stop_button: QPushButton
    # built by the review step (locked while a job runs)
    review_model: ReviewModel

    def _init_state(self) -> None:
        self.listing: UnmappedListing | None = None
        self.crm: CrmFile | None = None
        self.crm_path: Path | None = None
        self.session: BackfillSession | None = None
        #: Results of every send of this dialog, in order.
        self.runs: list[RunResult] = []
        self.pending: list[Proposal] = []
        self._pending_round = 0
        self._problem = ""
        self._details_row: int | None = None

    # ------------------------------------------------------------------ the shell's part
    def _update_buttons(self) -> None:
        """Show and enable the step's buttons (the dialog shell)."""
        raise NotImplementedError

    def _show_page(self, page: int) -> None:
        """Go to step ``page`` (the dialog shell)."""
        raise NotImplementedError

    def _on_matched(self, payload: object) -> None:
        """The first round's proposals (the review step)."""
        raise NotImplementedError

    def banner_text(self) -> str:
        """The banner's message ("" when hidden)."""
        return self.banner.message()

    def show_banner(self, text: str) -> None:
        """Show a message above the pages (errors, cancellations)."""
        self.banner.show_message(text, warning=True)

    # ================================================================== jobs
    def _start(
        self,
        fn: Callable[[SignalProgress], Any],
        name: str,
        text: str,
        on_ok: Callable[[Any], None],
        *,
        stop_text: str = "S&top",
        on_error: Callable[[object], None] | None = None,
    ) -> Worker:
        """Run ``fn`` on a worker with the progress row showing ``text``; failures go to
        ``on_error`` (default: the banner)."""
        assert not self.running, "one job at a time"
        self.banner.hide()
        self.progress_label.setText(text)
        self.progress_bar.setRange(0, 0)
        self.stop_button.setText(stop_text)
        self.stop_button.setEnabled(True)
        self.progress_box.show()
        return self.start_job(
            fn,
            name,
            on_ok=on_ok,
            on_error=on_error or self._on_failed,
            on_cancelled=lambda: self.show_banner("Cancelled."),
        )

    def _job_started(self) -> None:
        self.review_model.set_locked(True)
        self._update_buttons()

    def _on_snapshot(self, snapshot: object) -> None:
        if not isinstance(snapshot, ProgressSnapshot):
            return
        done, total = snapshot.done, snapshot.total
        follow(self.progress_bar, snapshot)
        if snapshot.phase is Phase.PULL:
            found = snapshot.counts.get("unmapped", 0)
            text = (
                f"Looking through every account: {done:,} read, {found:,} without an external ID…"
            )
        elif snapshot.phase is Phase.SEND:
            counts = ", ".join(f"{n:,} {s}" for s, n in snapshot.counts.items() if n)
            text = f"Sending: {done:,} of {total or 0:,} mappings"
            if counts:
                text += f" ({counts})"
        else:
            text = snapshot.message or "Preparing…"
        if self.stopping:
            text += " · stopping…"
        self.progress_label.setText(text)

    def _on_failed(self, exc: object) -> None:
        if isinstance(exc, BackfillCancelled):
            self.show_banner("Cancelled. Nothing was sent.")
            return
        self.show_banner(self.error_text(exc))

    def _job_ended(self) -> None:
        self.progress_box.hide()
        self.review_model.set_locked(False)
        self._update_buttons()

    def _cancel_requested(self) -> None:
        # a send finishes the batches already in flight
        self.stop_button.setEnabled(False)
        self.progress_label.setText(self.progress_label.text() + " · stopping…")

    def _save_path(self, title: str, name: str) -> Path | None:
        start = self.last_folder()
        xlsx, csv = "Excel workbook (*.xlsx)", "CSV, comma-separated (*.csv)"
        chosen, selected = QFileDialog.getSaveFileName(
            self, title, str(start / name), f"{xlsx};;{csv}", xlsx
        )
        if not chosen:
            return None
        path = Path(chosen)
        if path.suffix.lower() not in {".xlsx", ".csv"}:
            path = path.with_suffix(".csv" if selected == csv else ".xlsx")
        self.remember_folder(path.parent)
        return path
