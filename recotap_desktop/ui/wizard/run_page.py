"""Page 5: the run (ImportRunner on a worker) with live progress, counts and Cancel."""

from __future__ import annotations

import html
import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWizardPage,
)

from recotap_desktop.engine.progress import Phase, ProgressSnapshot, format_duration
from recotap_desktop.engine.runner import ImportRunner, RunResult, summarise_failures
from recotap_desktop.engine.states import RunState
from recotap_desktop.ui.messages import describe_error
from recotap_desktop.ui.results.summary_bar import StateSummaryBar
from recotap_desktop.ui.run_format import items_line, run_numbers, settled_rows
from recotap_desktop.ui.target_badge import TargetBadge, where_to
from recotap_desktop.ui.workers import SignalProgress, Worker

if TYPE_CHECKING:
    from recotap_desktop.ui.wizard.wizard import ImportWizard

log = logging.getLogger(__name__)


class RunPage(QWizardPage):
    """Sends the checked rows; shows rows done, rate, ETA and counts by state."""

    #: Emitted when the run ended (the RunResult, or None when it could not start).
    runFinished = Signal(object)

    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.ctx = wizard.ctx
        self.job: Worker | None = None
        self.result: RunResult | None = None
        self.error: str | None = None
        self.cancel_box: QMessageBox | None = None
        self._on_stopped: list[Any] = []
        self.setTitle("Sending")
        self.setSubTitle("Every batch is recorded in the sync history before it is sent, "
                         "so an interrupted run can be resumed.")
        self._build()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.target_badge = TargetBadge()
        layout.addWidget(self.target_badge)
        self.heading = QLabel()
        self.heading.setObjectName("runHeading")
        self.heading.setWordWrap(True)
        layout.addWidget(self.heading)
        self.progress = QProgressBar()
        self.progress.setObjectName("runProgress")
        self.progress.setRange(0, 0)
        layout.addWidget(self.progress)
        self.numbers = QLabel("Starting…")
        self.numbers.setObjectName("runNumbers")
        layout.addWidget(self.numbers)
        self.summary = StateSummaryBar()
        self.summary.setObjectName("runSummary")
        self.summary.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        layout.addWidget(self.summary)
        self.message = QLabel()
        self.message.setObjectName("runMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.message)
        row = QHBoxLayout()
        row.addStretch(1)
        self.cancel_button = QPushButton("&Cancel run…")
        self.cancel_button.setObjectName("cancelRun")
        self.cancel_button.clicked.connect(self.ask_cancel)
        row.addWidget(self.cancel_button)
        layout.addLayout(row)
        layout.addStretch(1)

    @property
    def running(self) -> bool:
        return self.job is not None and self.job.running

    # ------------------------------------------------------------------ running
    def initializePage(self) -> None:
        if self.job is None:
            self.start()

    def start(self) -> Worker | None:
        plan = self.ctx.plan
        spec = self.ctx.spec
        history = self.ctx.services.history
        if plan is None or spec is None or history is None:
            self.error = "The run cannot start: the file was not checked or the connection " \
                         "or the history is not available."
            self.message.setText("✖ " + self.error)
            return None
        from dataclasses import replace

        plan.job = replace(plan.job, options=self.ctx.options)
        kind = self.ctx.kind.title.lower()
        verb = "Preparing (dry run)" if self.ctx.options.dry_run else "Sending"
        profile = self.ctx.profile
        self.target_badge.show_profile(self.ctx.services, profile)
        where = (where_to(self.ctx.services, profile) if profile is not None else
                 f"<b>{html.escape(spec.profile)}</b> at {html.escape(spec.host)}")
        self.heading.setText(f"{verb} <b>{plan.rows_to_send:,}</b> rows ({kind}) {where}…")
        client_kwargs = dict(self.ctx.client_kwargs)

        def run(progress: SignalProgress) -> RunResult:
            runner = ImportRunner(plan, spec, history, progress=progress, cancel=progress.token,
                                  client_kwargs=client_kwargs)
            return runner.run()

        job = Worker(run, name="import-run", parent=self)
        job.snapshot.connect(self._on_snapshot)
        job.succeeded.connect(self._on_done)
        job.failed.connect(self._on_failed)
        job.finished.connect(self._on_finished)
        self.job = job.start()
        self.completeChanged.emit()
        return job

    def _on_snapshot(self, snapshot: ProgressSnapshot) -> None:
        if snapshot.phase is Phase.PULL:
            # Before sending: Recotap's accounts are read to compare the rows (issue 16).
            self.progress.setRange(0, 0)
            self.numbers.setText(
                f"Reading Recotap's accounts to compare the rows: {snapshot.done:,} "
                "received" + (f" of about {snapshot.total:,}" if snapshot.total else ""))
            return
        if snapshot.total:
            # The bar counts rows with a final state: a row given up as "not sent" is not done.
            settled = snapshot.done - int(snapshot.counts.get("not sent", 0) or 0)
            self.progress.setRange(0, snapshot.total)
            self.progress.setValue(max(0, min(settled, snapshot.total)))
        rate = f"{snapshot.rate:,.0f} rows/s" if snapshot.rate else "-- rows/s"
        total = f"{snapshot.total:,}" if snapshot.total is not None else "?"
        self.numbers.setText(f"{snapshot.done:,} of {total} rows · {rate} · "
                             f"about {format_duration(snapshot.eta)} left")
        self.summary.set_counts(snapshot.counts)

    def _on_done(self, result: RunResult) -> None:
        self.result = result
        self.ctx.run_result = result
        self.ctx.run_id = result.run_id
        self.summary.set_counts(result.counts)
        total = sum(result.counts.values())
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(settled_rows(result.counts))
        headline = {
            RunState.FINISHED: "✔ Finished",
            RunState.CANCELLED: "Cancelled",
            RunState.ABORTED: "✖ Stopped",
        }.get(result.state, result.state.value)
        self.numbers.setText(run_numbers(headline, format_duration(result.duration),
                                         result.counts, result.requests, result.retries))
        lines = []
        if result.message:
            lines.append(result.message)
        if self.ctx.kind.groups_rows and result.item_counts:
            # In the Options page's units: "117 rows as 59 sales activities" (issue 18: 6).
            lines.append(items_line(result.counts, result.item_counts,
                                    self.ctx.kind.title.lower()))
        if result.state in (RunState.CANCELLED, RunState.ABORTED):
            lines.append(f"Run {result.run_id} can be resumed from the history (View → History…)"
                         ": only rows without a final answer are sent.")
        if result.isolation_requests:
            lines.append(f"{result.isolated_rows:,} row(s) were rejected by Recotap's checks "
                         f"({result.isolation_requests:,} extra requests found them).")
        if result.reconciled_rows:
            lines.append(f"{result.reconciled_rows:,} row(s) were reconciled after a lost answer.")
        lines.extend(summarise_failures(result.failure_groups))
        self.message.setText("\n".join(lines))
        self.runFinished.emit(result)

    def _on_failed(self, exc: BaseException) -> None:
        self.error = describe_error(exc)
        self.message.setText("✖ The run could not finish: " + self.error + "\nOpen the history "
                             "to resume it if it started.")
        self.numbers.setText("Stopped.")
        self.progress.setRange(0, 1)
        self.runFinished.emit(None)

    def _on_finished(self) -> None:
        self.cancel_button.setEnabled(False)
        if self.cancel_box is not None:
            self.cancel_box.close()
            self.cancel_box = None
        self.completeChanged.emit()

    # ------------------------------------------------------------------ cancel
    def ask_cancel(self, on_stopped: Any = None) -> QMessageBox | None:
        """Ask how to stop: finish the batches in flight, or stop now (non-blocking)."""
        if not self.running:
            return None
        if self.cancel_box is not None:  # asked already (Esc, then Quit): both callers hear
            if on_stopped is not None:
                self._on_stopped.append(on_stopped)
            self.cancel_box.raise_()
            return self.cancel_box
        self._on_stopped = [] if on_stopped is None else [on_stopped]
        box = QMessageBox(QMessageBox.Icon.Question, "Cancel the run?",
                          "How should the run stop?\n\n“Finish batches in flight” waits for the "
                          "requests already sent and records their answers. “Stop now” gives "
                          "up waiting at once; those rows may need a resume to be reconciled.\n\n"
                          "Rows not sent stay “not sent” and the run can be resumed later.",
                          QMessageBox.StandardButton.NoButton, self)
        finish = box.addButton("&Finish batches in flight", QMessageBox.ButtonRole.AcceptRole)
        stop = box.addButton("S&top now", QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton("&Keep running", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.finish_button, self.stop_button, self.keep_button = finish, stop, keep

        def clicked(button: Any) -> None:
            self.cancel_box = None
            if button is finish:
                self.cancel_run(stop_now=False)
            elif button is stop:
                self.cancel_run(stop_now=True)
            else:
                return
            if self.job is not None:
                for callback in self._on_stopped:
                    self.job.finished.connect(callback)

        box.buttonClicked.connect(clicked)
        self.cancel_box = box
        box.open()
        return box

    def cancel_run(self, *, stop_now: bool = False) -> None:
        """Cancel without asking (finish in flight, or stop now)."""
        if self.job is not None and self.job.running:
            self.job.cancel(stop_now=stop_now)
            self.numbers.setText("Stopping now…" if stop_now
                                 else "Finishing the batches in flight…")
            self.cancel_button.setEnabled(False)

    # ------------------------------------------------------------------ QWizardPage
    def isComplete(self) -> bool:
        return self.job is not None and not self.job.running and self.ctx.run_id is not None
