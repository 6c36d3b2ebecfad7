"""What the main window does with a past run: resume it, retry its failed rows, open its
results, undo its updates, save its report, and offer to resume an interrupted one.

:class:`RunActions` is a part of the main window, not a widget: the window creates one
(``MainWindow.run_actions``) and its public methods (``resume_run``, ``retry_failed_rows``,
``open_run_results``, ``undo_run_updates``, ``export_run_report``, ``offer_resume``) hand
over to it. Every dialog and message box it opens has the window as its parent, and it
starts its background jobs with the window's job helper, so quitting the window still
sees and stops them. When one action leads to another (a finished resume opens the
results, retry opens the results first), it goes through the window's public method, so
a window that replaces one of them (the tests record the calls) sees every use.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QMessageBox, QWidget

from recotap_desktop.store.settings import UI_LAST_FOLDER, Profile
from recotap_desktop.ui.kinds import IMPORT_KINDS
from recotap_desktop.ui.messages import describe_error
from recotap_desktop.ui.qt_compat import Qt
from recotap_desktop.ui.run_format import format_counts, format_when, kind_title, run_id
from recotap_desktop.ui.workers import SignalProgress, Worker

if TYPE_CHECKING:
    from PySide6.QtWidgets import QProgressDialog

    from recotap_desktop.store.history import History
    from recotap_desktop.ui.main_window import MainWindow
    from recotap_desktop.ui.services import Services

log = logging.getLogger(__name__)

#: The kinds of run that send rows (imports): only these can be resumed or shown as a grid.
IMPORT_KIND_NAMES = frozenset(kind for kind, _title in IMPORT_KINDS)

#: The file types offered when saving a run's report; "Failures only" ones write only the
#: rows that failed.
_REPORT_TYPES: dict[str, tuple[str, bool]] = {  # file type -> (suffix, failures only)
    "CSV file (*.csv)": (".csv", False),
    "Excel workbook (*.xlsx)": (".xlsx", False),
    "Failures only, CSV (*.csv)": (".csv", True),
    "Failures only, Excel (*.xlsx)": (".xlsx", True),
}
REPORT_FILE_TYPES = ";;".join(_REPORT_TYPES)


@dataclass(frozen=True)
class _Resume:
    """One resume: the history, the run, the connection its rows go to and its host."""

    history: History
    run_id: int
    run: Any
    profile: Profile
    host: str
    #: The user chose the connection (the run's own could not be used): a new run.
    explicit: bool


class RunActions:
    """The run actions of one main window (see the module's docstring)."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        #: Jobs that write a run's journal (resume): quitting waits for them.
        self.jobs: set[Worker] = set()

    @property
    def services(self) -> Services:
        """The window's services (history, settings, connections)."""
        return self.window.services

    # ------------------------------------------------------------------ resume offer
    def offer_resume(self) -> QMessageBox | None:
        """Offer to resume the most recent interrupted run (the window's ``resume_run``)."""
        runs = self._interrupted_runs()
        if not runs:
            return None
        run = runs[0]
        box = QMessageBox(QMessageBox.Icon.Question, "Resume interrupted sync?",
                          self._resume_question(run, len(runs) - 1),
                          QMessageBox.StandardButton.NoButton, self.window)
        box.setTextFormat(Qt.TextFormat.PlainText)
        resume = box.addButton("Resume", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Show history", QMessageBox.ButtonRole.ActionRole)
        box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        rid = run_id(run)

        def clicked(button: Any) -> None:
            if button is resume:
                self.window.resume_run(rid)
            elif box.buttonRole(button) == QMessageBox.ButtonRole.ActionRole:
                self.window.open_history()

        box.buttonClicked.connect(clicked)
        self.window._message_box = box
        box.open()
        return box

    def _interrupted_runs(self) -> list[Any]:
        """The interrupted runs, newest first; none when the history cannot tell."""
        history = self.services.history
        if history is None:
            return []
        try:
            return history.interrupted_runs()
        except Exception:
            log.warning("could not list interrupted runs", exc_info=True)
            return []

    @staticmethod
    def _resume_question(run: Any, others: int) -> str:
        """The question about ``run``: what, from which file, to where, how far it got."""
        more = f"\n\n{others} other interrupted run(s) are in the history." if others else ""
        done = format_counts(run) or "no rows answered yet"
        from recotap_desktop.engine.run_target import run_host

        where = f"{run.profile or 'a connection'} ({run_host(run)})"
        return (f"A sync did not finish: {kind_title(run.kind)} from "
                f"{run.file_name or 'a file'} to {where}, started "
                f"{format_when(run)} ({done}).\n\nResume it now? Rows already answered are "
                f"not sent again.{more}")

    # ------------------------------------------------------------------ resume
    def resume(self, run_id: int, target: Profile | None = None) -> Worker | None:
        """Continue an unfinished run on a worker (only rows without a final answer are sent),
        with a cancellable progress dialog; its results open when it ends.

        The rows go to the run's own connection, never simply the active one. When that
        connection is gone, points elsewhere, is not recorded or has no key, the user picks
        one explicitly (:class:`~recotap_desktop.ui.run_target_dialog.RunTargetDialog`, both
        hosts shown); ``target`` is that choice, and the rows then go there as a new run.
        """
        history = self.services.history
        run = self._resumable_run(history, run_id)
        if history is None or run is None:
            return None
        explicit = target is not None
        profile = target or self.services.run_profile(run)
        if profile is None:
            self.choose_target(run, self.services.run_connection_problem(run))
            return None
        host = self.services.target_of(profile).host
        plan = _Resume(history, run_id, run, profile, host, explicit)
        dialog = self._resume_progress_dialog(plan)
        job = self.window._run(self._resume_work(plan), name=f"resume-{run_id}")
        self.jobs.add(job)
        job.finished.connect(lambda: self.jobs.discard(job))
        self._follow_resume(job, dialog, plan)
        dialog.show()
        return job

    def _resumable_run(self, history: History | None, run_id: int) -> Any:
        """Run ``run_id`` when it can be resumed; else None, after saying why."""
        if history is None:
            self.window._inform("Cannot resume", "The sync history is not available.",
                                QMessageBox.Icon.Warning)
            return None
        run = history.get_run(run_id)
        if run.kind not in IMPORT_KIND_NAMES:
            self.window._inform("Cannot resume", "Only imports can be resumed; start the "
                                "export again (File → Export scored accounts…).")
            return None
        return run

    def _resume_work(self, plan: _Resume) -> Any:
        """The worker's part of a resume: check that the connection is still the run's own
        (unless the user chose it), look up the custom fields, then send."""
        services = self.services
        history = plan.history
        run, profile, explicit = plan.run, plan.profile, plan.explicit

        def work(progress: SignalProgress) -> object:
            from recotap_desktop.engine.jobs import resume
            from recotap_desktop.engine.run_target import check_run_target

            spec = services.connection_spec(profile)
            if not explicit:
                check_run_target(run, spec)  # before the custom-field lookup: nothing sent
            fields = services.custom_fields(run.kind, spec)
            return resume(history, plan.run_id, spec, custom_fields=fields, progress=progress,
                          cancel=progress.token, other_connection=explicit)

        return work

    def _resume_progress_dialog(self, plan: _Resume) -> QProgressDialog:
        """The "Resume run" progress dialog (with "Stop"), not shown yet."""
        from PySide6.QtWidgets import QProgressDialog

        dialog = QProgressDialog(
            f"Resuming run {plan.run_id} on {plan.profile.name} ({plan.host})…", "Stop",
            0, 0, self.window)
        dialog.setWindowTitle("Resume run")
        dialog.setMinimumDuration(0)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        return dialog

    def _follow_resume(self, job: Worker, dialog: QProgressDialog, plan: _Resume) -> None:
        """Show the job's progress in ``dialog``; at the end open the results, or ask for
        another connection when the run's own cannot be used, or say what went wrong."""
        rid, run, profile, host = plan.run_id, plan.run, plan.profile, plan.host

        def on_progress(snapshot: object) -> None:
            done = getattr(snapshot, "done", 0)
            total = getattr(snapshot, "total", None) or 0
            dialog.setMaximum(int(total))
            dialog.setValue(int(min(done, total)) if total else 0)
            dialog.setLabelText(f"Resuming run {rid} on {profile.name} ({host}): "
                                f"{done:,} of {total:,} rows")

        def finished_ok(result: object) -> None:
            dialog.close()
            self.window.refresh_history()
            self.window.open_run_results(getattr(result, "run_id", rid))

        def failed(exc: BaseException) -> None:
            from recotap_desktop.ui.run_target_dialog import own_connection_unusable

            dialog.close()
            self.window.refresh_history()
            problem = None if plan.explicit else own_connection_unusable(run, profile, host, exc)
            if problem is not None:
                self.choose_target(run, problem)
            else:
                self.window._inform(f"Run {rid} could not be resumed", describe_error(exc),
                                    QMessageBox.Icon.Warning)

        job.snapshot.connect(on_progress)
        job.succeeded.connect(finished_ok)
        job.failed.connect(failed)
        job.cancelled.connect(dialog.close)
        dialog.canceled.connect(lambda: job.cancel())

    def choose_target(self, run: Any, problem: str) -> QWidget:
        """Ask where the remaining rows of ``run`` go (both hosts shown), then resume there."""
        from recotap_desktop.ui.run_target_dialog import choose_run_target

        rid = run.id
        dialog = choose_run_target(self.services, run, problem, "be resumed", self.window,
                                   lambda profile: self.window.resume_run(rid, profile))
        self.window._dialogs["run-target"] = dialog
        return dialog

    # ------------------------------------------------------------------ results
    def open_results(self, run_id: int) -> QWidget:
        """Show the results grid of run ``run_id`` (every row, its state and message).

        An export run has no rows to show: it says where its file is instead.
        """
        history = self.services.history
        run = history.get_run(run_id) if history is not None else None
        if run is not None and run.kind not in IMPORT_KIND_NAMES:
            return self._show_export_run(run)
        from recotap_desktop.ui.results import open_results

        window = open_results(self.services, run_id, self.window)
        window.destroyed.connect(self.window._results_closed)
        return window

    def _show_export_run(self, run: Any) -> QMessageBox:
        """Say where an export run wrote its file, with "Show in folder" when it is there."""
        counts = format_counts(run) or "no accounts"
        path = Path(run.file_path or run.file_name or "")
        text = (f"Run {run.id} exported scored accounts ({counts}) to:\n{path}\n\n"
                f"{run.note or ''}").strip()
        box = self.window._inform(f"Export run {run.id}", text)
        if path.parent.is_dir():
            from PySide6.QtCore import QUrl
            from PySide6.QtGui import QDesktopServices

            folder = box.addButton("Show in folder", QMessageBox.ButtonRole.ActionRole)
            folder.clicked.connect(
                lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.parent))))
        return box

    def undo_updates(self, run_id: int) -> QWidget:
        """Open run ``run_id``'s results and start "Undo updates…" there (it asks first)."""
        window = self.window.open_run_results(run_id)
        view = getattr(window, "view", None)
        if view is not None:
            def start(_rid: int) -> None:
                view.loaded.disconnect(start)
                view.undo_updates()

            view.loaded.connect(start)
        return window

    def retry_failed(self, run_id: int) -> QWidget:
        """Open the run's results and send its failed and not-sent rows again (a new run)."""
        window = self.window.open_run_results(run_id)
        view = window.view  # type: ignore[attr-defined]
        view.loaded.connect(lambda _rows: view.retry_failed())
        return window

    # ------------------------------------------------------------------ report
    def export_report(self, run_id: int) -> None:
        """Save the report (every input column, row, state, message, ids) of run ``run_id``.

        The "Failures only" file types write the failures-only file.
        """
        history = self.services.history
        if history is None:
            self.window._inform("History unavailable", self.services.history_problem or "",
                                QMessageBox.Icon.Warning)
            return
        chosen = self._ask_report_file(run_id)
        if chosen is None:
            return
        path, failures_only = chosen
        self.services.settings.remember(UI_LAST_FOLDER, str(path.parent))
        self.window.statusBar().showMessage(f"Writing {path.name}…")

        def write(progress: SignalProgress) -> int:
            from recotap_desktop.engine.report import write_report

            return write_report(path, history, run_id, failures_only=failures_only)

        def done(rows: object) -> None:
            self.window.statusBar().showMessage(f"Saved {rows} rows to {path}", 10_000)

        def failed(exc: BaseException) -> None:
            self.window.statusBar().clearMessage()
            self.window._inform("Could not save the results", describe_error(exc),
                                QMessageBox.Icon.Warning)

        self.window._run(write, name="export-report", on_success=done, on_error=failed)

    def _ask_report_file(self, run_id: int) -> tuple[Path, bool] | None:
        """Ask where to save run ``run_id``'s report: the file (its suffix from the chosen
        type when it has none we write) and whether only failures go in; None: cancelled."""
        folder = str(self.services.settings.ui.get(UI_LAST_FOLDER) or Path.home())
        suggested = str(Path(folder) / f"recotap-run-{run_id}-results.csv")
        from PySide6.QtWidgets import QFileDialog

        path_text, chosen_filter = QFileDialog.getSaveFileName(
            self.window, f"Save the results of run {run_id}", suggested, REPORT_FILE_TYPES)
        if not path_text:
            return None
        path = Path(path_text)
        suffix, failures_only = _REPORT_TYPES.get(chosen_filter, (".csv", False))
        if path.suffix.lower() not in (".csv", ".xlsx"):
            path = path.with_suffix(suffix)
        return path, failures_only
