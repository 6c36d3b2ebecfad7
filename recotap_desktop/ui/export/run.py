"""Running the export: Start export (the output's checks, asking before replacing a
file), the pull on a worker, the progress page with Cancel, and how the pull ended."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QMessageBox, QProgressBar, QVBoxLayout, QWidget

from recotap_desktop.engine.export import ExportOptions, ExportResult, export_accounts
from recotap_desktop.engine.progress import ProgressSnapshot
from recotap_desktop.engine.states import RunState
from recotap_desktop.ui.export.base import PAGE_OPTIONS, PAGE_PROGRESS, ExportBase
from recotap_desktop.ui.job_dialog import follow, rate_and_eta
from recotap_desktop.ui.workers import SignalProgress, Worker

__all__ = ["RunStep"]

#: What a mode pulls, for the progress page's title.
_WHAT = {
    "full": "every account",
    "delta": "accounts changed since the last complete pull",
    "since": "accounts changed since the chosen date",
}


class RunStep(ExportBase):
    """Start export, the progress page and the pull's outcome."""

    # ================================================================== building
    def _build_progress(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        self.progress_title = QLabel()
        font = QFont(self.font())
        font.setBold(True)
        font.setPointSizeF(max(font.pointSizeF(), 1.0) * 1.15)
        self.progress_title.setFont(font)
        self.progress_title.setWordWrap(True)
        layout.addWidget(self.progress_title)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 0)
        self.progress_bar.setTextVisible(False)
        layout.addWidget(self.progress_bar)
        self.received_label = QLabel("Connecting…")
        self.received_label.setObjectName("received")
        self.rate_label = QLabel("")
        self.counts_label = QLabel("")
        self.counts_label.setEnabled(False)
        for label in (self.received_label, self.rate_label, self.counts_label):
            label.setWordWrap(True)
            layout.addWidget(label)
        note = QLabel(
            "Cancel stops between pages. Nothing changes when you cancel: no file is "
            "written and the last sync time stays as it was."
        )
        note.setWordWrap(True)
        note.setEnabled(False)
        layout.addSpacing(12)
        layout.addWidget(note)
        layout.addStretch(1)
        return page

    # ================================================================== starting
    def start(self) -> Worker | None:
        """Start the export with the current options (asks before replacing a file)."""
        if self.running or not self.start_button.isEnabled():
            return None
        out = self.output_path()
        if out is None:
            return None
        if not self._target_ok(out):
            return None
        if out.exists() and out != self._confirmed_path:
            self._ask_replace(out)
            return None
        return self._run(out, self.options())

    def _target_ok(self, out: Path) -> bool:
        """Whether ``out`` can be written; if not, the banner says why and a question
        offers to choose another file."""
        from recotap_desktop.engine.export import OUTPUT_SUFFIXES
        from recotap_desktop.files.targets import TargetProblem, check_target

        try:  # before anything is sent: the rule the CLI uses (files/targets.py)
            check_target(out, inputs=[self.domain_file], label="The export file",
                         suffixes=OUTPUT_SUFFIXES)
        except TargetProblem as exc:
            from recotap_desktop.ui.dialogs import another_name_question

            self.show_banner(exc.message, warning=True)
            self.target_box = another_name_question(self, exc.message, self.choose_output)
            return False
        return True

    def _ask_replace(self, out: Path) -> None:
        """Ask whether to replace the existing ``out``; Yes starts the export."""
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Replace the file?",
            f"{out.name} already exists in {out.parent}. Replace it?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        box.setDefaultButton(QMessageBox.StandardButton.No)
        self.confirm_box = box

        def answered(button: int) -> None:
            self.confirm_box = None
            if button == QMessageBox.StandardButton.Yes:
                self._confirmed_path = out
                self.start()

        box.finished.connect(answered)
        box.open()

    def _run(self, out: Path, options: ExportOptions) -> Worker:
        profile = self.profile
        history = self._services.history
        assert profile is not None and history is not None
        services = self._services
        client_kwargs = dict(self._client_kwargs)
        self.remember_folder(out.parent)
        self.banner.hide()
        self.export_result = None
        self._close_when_done = False

        def pull(progress: SignalProgress) -> ExportResult:  # worker thread: no widgets here
            spec = services.connection_spec(profile)
            return export_accounts(
                spec,
                out,
                history,
                options,
                progress=progress,
                cancel=progress.token,
                client_kwargs=client_kwargs,
            )

        host = self._services.host_of(profile)
        self._show_progress(f"Pulling {_WHAT[options.mode]} from {host} into {out.name}…")
        return self.start_job(
            pull,
            "export-accounts",
            on_ok=self._on_result,
            on_error=self._on_failed,
            on_cancelled=self._on_cancelled,
        )

    def _show_progress(self, title: str) -> None:
        """The progress page, fresh, under ``title``."""
        self.progress_title.setText(title)
        self.progress_bar.setRange(0, 0)
        self.received_label.setText("Connecting…")
        self.rate_label.setText("")
        self.counts_label.setText("")
        self._show_page(PAGE_PROGRESS)

    # ================================================================== while it runs
    def _on_snapshot(self, snapshot: object) -> None:
        if not isinstance(snapshot, ProgressSnapshot):
            return
        done, total = snapshot.done, snapshot.total
        follow(self.progress_bar, snapshot)
        if total:
            self.received_label.setText(f"Received {done:,} of about {total:,} accounts")
        else:
            self.received_label.setText(
                f"Received {done:,} accounts" if done else (snapshot.message or "Connecting…")
            )
        parts = rate_and_eta(snapshot, "accounts")
        if self.stopping:
            parts.append("stopping after the current page…")
        self.rate_label.setText(" · ".join(parts))
        counts = snapshot.counts
        if counts:
            self.counts_label.setText(
                f"Written {counts.get('exported', 0):,} · duplicates skipped "
                f"{counts.get('duplicates', 0):,} · filtered out {counts.get('filtered', 0):,}"
            )

    def _cancel_requested(self) -> None:
        # the pull stops between pages: nothing is written, nothing changes
        self.cancel_button.setEnabled(False)
        self.rate_label.setText("Stopping after the current page…")

    def _cancel_clicked(self) -> None:
        if self.running:
            self.cancel()
        else:
            self.reject()

    # ================================================================== how it ended
    def _on_result(self, result: object) -> None:
        assert isinstance(result, ExportResult)
        self.export_result = result
        if result.state is RunState.FINISHED:
            self._show_summary(result)
            return
        self._show_page(PAGE_OPTIONS)
        if result.state is RunState.CANCELLED:
            self.show_banner(result.message or "Cancelled: nothing changed.", warning=False)
        else:
            self.show_banner(f"The export stopped. {result.message}", warning=True)

    def _on_failed(self, exc: object) -> None:
        assert isinstance(exc, BaseException)
        message = self.error_text(exc)
        self._show_page(PAGE_OPTIONS)
        self.show_banner(f"The export did not start: {message} Nothing was written.", warning=True)

    def _on_cancelled(self) -> None:
        self._show_page(PAGE_OPTIONS)
        self.show_banner(
            "Cancelled before anything was pulled: no file was written and the "
            "last sync time is unchanged.",
            warning=False,
        )
