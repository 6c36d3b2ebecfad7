"""The results grid: every row of a run with its final state, message and ids.

:class:`ResultsView` is the widget (used by the wizard's last page and by
:class:`ResultsWindow`); :func:`open_results` opens a window for any run in the history.
Loading, exporting and retrying run on workers; the grid itself is a
:class:`~recotap_desktop.ui.results.model.ResultsModel` over compact storage.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QProgressBar,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from recotap_desktop.engine.run_target import run_host
from recotap_desktop.store.history import HistoryError
from recotap_desktop.store.settings import UI_LAST_FOLDER, Profile
from recotap_desktop.ui.messages import describe_error
from recotap_desktop.ui.models import kind_title
from recotap_desktop.ui.results.data import PROBLEM_NAMES, STATE_ORDER, ResultsData, load_run
from recotap_desktop.ui.results.model import ResultsModel, is_dark
from recotap_desktop.ui.results.summary_bar import StateSummaryBar
from recotap_desktop.ui.services import Services
from recotap_desktop.ui.widgets import resize_within_screen, return_presses_buttons, tab_leaves
from recotap_desktop.ui.workers import SignalProgress, Worker

log = logging.getLogger(__name__)

#: Most rows Ctrl+C puts on the clipboard at once.
COPY_LIMIT = 100_000
_ALL = "all"
_PROBLEMS = "problems"
_CUSTOM = "custom"
_TEXT_DELAY_MS = 250


class ResultsTable(QTableView):
    """A table view whose Ctrl+C copies the selection as tab-separated text."""

    copied = Signal(int)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_selection()
            event.accept()
            return
        super().keyPressEvent(event)

    def copy_selection(self) -> int:
        """Copy the selected cells (rows × columns of the selection) as TSV; returns rows."""
        model = self.model()
        selection = self.selectionModel()
        if not isinstance(model, ResultsModel) or selection is None:
            return 0
        rows: set[int] = set()
        columns: set[int] = set()
        chosen = selection.selection()
        for k in range(chosen.count()):
            rng = chosen.at(k)
            rows.update(range(rng.top(), min(rng.bottom() + 1, rng.top() + COPY_LIMIT + 1)))
            columns.update(range(rng.left(), rng.right() + 1))
            if len(rows) > COPY_LIMIT:
                break
        if not rows:
            current = self.currentIndex()
            if not current.isValid():
                return 0
            rows, columns = {current.row()}, {current.column()}
        visible = [c for c in sorted(columns) if not self.isColumnHidden(c)]
        text, n = model.copy_text(rows, visible, header=len(rows) > 1, limit=COPY_LIMIT)
        QGuiApplication.clipboard().setText(text)
        self.copied.emit(n)
        return n


class ResultsView(QWidget):
    """Summary bar, filters, the grid, export and retry for one run."""

    #: Emitted when a run's rows are shown (run id).
    loaded = Signal(int)
    #: Emitted when a retry run finished and is shown (new run id).
    retried = Signal(int)
    #: Emitted when an export was written (path, rows).
    exported = Signal(object, int)

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.run_id: int | None = None
        self.run: Any = None
        #: Extra keyword arguments for the API client of a retry (tests: fast back-off).
        self.client_kwargs: dict[str, Any] = {}
        self.load_job: Worker | None = None
        self.export_job: Worker | None = None
        #: "Choose another file": the chosen file cannot be written (files/targets.py).
        self.target_box: Any = None
        self.retry_job: Worker | None = None
        self.undo_job: Worker | None = None
        #: The confirmation of an undo, while it is open.
        self.undo_dialog: Any = None
        self.target_dialog: QWidget | None = None
        self.error: str | None = None
        self._build()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        """The view's parts, top to bottom (their order is the Tab order)."""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self._build_heading(layout)
        layout.addLayout(self._build_filters())
        layout.addWidget(self._build_table(), 1)
        layout.addLayout(self._build_actions())
        self._fill_state_combo({})
        self._update_buttons()

    def _build_heading(self, layout: QVBoxLayout) -> None:
        """The run's title, then the bar of row counts per state (a click filters)."""
        self.title_label = QLabel()
        self.title_label.setObjectName("resultsTitle")
        self.title_label.setWordWrap(True)
        self.title_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.title_label)
        self.summary = StateSummaryBar()
        self.summary.setObjectName("resultsSummary")
        self.summary.stateClicked.connect(self._on_state_clicked)
        self.summary.stateToggled.connect(self._on_state_toggled)
        layout.addWidget(self.summary)

    def _build_filters(self) -> QHBoxLayout:
        """"Show:" (which states), "Find:" (text, row number or state) and the row count."""
        filters = QHBoxLayout()
        state_caption = QLabel("&Show:")
        self.state_combo = QComboBox()
        self.state_combo.setObjectName("stateFilter")
        state_caption.setBuddy(self.state_combo)
        self.state_combo.activated.connect(self._on_combo)
        filters.addWidget(state_caption)
        filters.addWidget(self.state_combo)
        self._build_search(filters)
        self.count_label = QLabel()
        self.count_label.setObjectName("resultsCount")
        filters.addWidget(self.count_label)
        return filters

    def _build_search(self, filters: QHBoxLayout) -> None:
        """"Find:" and its box; the grid follows the text a moment after typing stops."""
        find_caption = QLabel("F&ind:")
        self.search = QLineEdit()
        self.search.setObjectName("resultsSearch")
        self.search.setPlaceholderText("Text in any column, a row number or a state…")
        self.search.setClearButtonEnabled(True)
        find_caption.setBuddy(self.search)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(_TEXT_DELAY_MS)
        self._search_timer.timeout.connect(self.apply_search)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.search.returnPressed.connect(self.apply_search)
        filters.addWidget(find_caption)
        filters.addWidget(self.search, 1)

    def _build_table(self) -> ResultsTable:
        """The grid: one line per file row, sortable, cells selectable and copied with
        Ctrl+C."""
        self.model = ResultsModel(self)
        self.model.set_dark(is_dark(self.palette()))
        self.model.viewChanged.connect(self._on_view_changed)
        self.table = tab_leaves(ResultsTable())
        self.table.setObjectName("resultsTable")
        self.table.setAccessibleName("Results, one row per file row")
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        vheader = self.table.verticalHeader()
        vheader.setVisible(False)
        vheader.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vheader.setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.table.copied.connect(
            lambda n: self._status(f"Copied {n:,} row(s) to the clipboard"
                                   + (f" (at most {COPY_LIMIT:,} at a time)"
                                      if n >= COPY_LIMIT else ""))
        )
        return self.table

    def _build_actions(self) -> QHBoxLayout:
        """Progress and status, then Copy, Export…, Retry failed rows and Undo updates…"""
        actions = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setObjectName("resultsProgress")
        self.progress.setVisible(False)
        self.progress.setMaximumWidth(220)
        self.status_label = QLabel()
        self.status_label.setObjectName("resultsStatus")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        actions.addWidget(self.progress)
        actions.addWidget(self.status_label, 1)
        self.copy_button = QPushButton("&Copy")
        self.copy_button.setToolTip("Copy the selected cells as tab-separated text (Ctrl+C)")
        self.copy_button.clicked.connect(self.table.copy_selection)
        actions.addWidget(self.copy_button)
        actions.addWidget(self._build_export_button())
        self.retry_button = QPushButton("&Retry failed rows")
        self.retry_button.setObjectName("retryFailed")
        self.retry_button.setToolTip(
            "Send again the rows that failed for a temporary reason or were not sent. "
            "Rows the server rejected for their data are not retried: fix them first.")
        self.retry_button.clicked.connect(lambda _=False: self.retry_failed())
        actions.addWidget(self.retry_button)
        self.undo_button = QPushButton("&Undo updates…")
        self.undo_button.setObjectName("undoUpdates")
        self.undo_button.setToolTip(
            "Send back the values this run overwrote, after comparing them with Recotap now: "
            "a value someone changed since the run is never overwritten.")
        self.undo_button.clicked.connect(lambda _=False: self.undo_updates())
        actions.addWidget(self.undo_button)
        return actions

    def _build_export_button(self) -> QPushButton:
        """"Export…" with its menu: all rows, or only the failures (to fix and import)."""
        self.export_button = QPushButton("&Export…")
        self.export_button.setObjectName("exportResults")
        menu = QMenu(self.export_button)
        self.export_all_action = QAction("&All rows…", menu)
        self.export_all_action.triggered.connect(lambda: self.choose_export(False))
        self.export_failures_action = QAction("&Failures only (fix and import again)…", menu)
        self.export_failures_action.triggered.connect(lambda: self.choose_export(True))
        menu.addAction(self.export_all_action)
        menu.addAction(self.export_failures_action)
        self.export_button.setMenu(menu)
        return self.export_button

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self.model.set_dark(is_dark(self.palette()))
            self.table.viewport().update()
        super().changeEvent(event)

    # ------------------------------------------------------------------ loading
    def load_run(self, run_id: int) -> Worker | None:
        """Read the rows of ``run_id`` (history + its file) on a worker and show them."""
        history = self.services.history
        if history is None:
            self.error = self.services.history_problem or "The sync history is unavailable."
            self._status(self.error)
            return None
        if self.load_job is not None and self.load_job.running:
            self.load_job.cancel(stop_now=True)
        self.run_id = run_id
        self.error = None
        self.title_label.setText(f"Loading the results of run {run_id}…")
        self._busy(True)

        def load(progress: SignalProgress) -> ResultsData:
            def tick(n: int) -> None:
                progress.raise_if_cancelled()
                progress.update(n, -1, f"{n:,} rows read")

            return load_run(history, run_id, tick)

        job = Worker(load, name="load-results", parent=self)
        job.progress.connect(lambda d, _t, m: self._status(m) if d >= 0 else None)
        job.succeeded.connect(lambda data: self._on_loaded(job, data))
        job.failed.connect(lambda exc: self._on_load_failed(job, exc))
        job.finished.connect(lambda: self._busy(False))
        self.load_job = job.start()
        return job

    def _on_loaded(self, job: Worker, data: ResultsData) -> None:
        if job is not self.load_job:
            return
        self.set_results(data)
        self.loaded.emit(self.run_id or 0)

    def _on_load_failed(self, job: Worker, exc: BaseException) -> None:
        if job is not self.load_job:
            return
        self.error = describe_error(exc)
        self.title_label.setText(f"The results of run {self.run_id} could not be read.")
        self._status(self.error)

    def set_results(self, data: ResultsData) -> None:
        """Show ``data`` (already loaded)."""
        self.run = data.run
        if data.run is not None:
            self.run_id = data.run.id
        self.model.set_results(data)
        counts = data.counts()
        self.summary.set_counts(counts)
        self._fill_state_combo(counts)
        self._title()
        self._size_columns()
        missing = data.run is not None and not data.input_headers and len(data)
        self._status(
            "The file of this run is no longer where it was, so only row numbers, states and "
            "messages are shown." if missing else "")
        self._update_buttons()

    def _title(self) -> None:
        run = self.run
        if run is None:
            self.title_label.setText("")
            return
        parent = f" (retry of run {run.parent_run_id})" if run.parent_run_id else ""
        earlier = self._parent_elsewhere(run)
        if earlier is not None:
            parent = (f" (continues run {earlier.id}, whose rows went to "
                      f"{_escape(run_host(earlier))})")
        note = f"<br>{_escape(run.note)}" if run.note else ""
        self.title_label.setText(
            f"<b>Run {run.id}</b>{parent}: {kind_title(run.kind)} from "
            f"<b>{_escape(run.file_name or 'a file')}</b> to {_escape(run.profile or '')} "
            f"at <b>{_escape(run_host(run))}</b> — {_escape(run.state)}{note}")

    def _parent_elsewhere(self, run: Any) -> Any:
        """The run ``run`` continues when that one sent its rows to another connection."""
        history = self.services.history
        if not run.parent_run_id or history is None:
            return None
        from recotap_desktop.engine.run_target import RunTarget

        try:
            parent = history.get_run(run.parent_run_id)
        except (KeyError, HistoryError):
            return None
        return None if RunTarget.of_run(parent) == RunTarget.of_run(run) else parent

    def _size_columns(self) -> None:
        fm = self.fontMetrics()
        header = self.table.horizontalHeader()
        widths = {0: fm.horizontalAdvance("0000000") + 16,
                  1: fm.horizontalAdvance("not sent") + 44,
                  2: fm.horizontalAdvance("M" * 24)}
        for column in range(self.model.columnCount()):
            title = str(self.model.headerData(column, Qt.Orientation.Horizontal) or "")
            width = widths.get(column, max(fm.horizontalAdvance(title) + 28,
                                           fm.horizontalAdvance("M" * 10)))
            header.resizeSection(column, width)

    # ------------------------------------------------------------------ filters
    def _fill_state_combo(self, counts: dict[str, int]) -> None:
        combo = self.state_combo
        combo.clear()
        total = sum(counts.values())
        combo.addItem(f"All rows ({total:,})", _ALL)
        problems = sum(n for s, n in counts.items() if s in PROBLEM_NAMES)
        combo.addItem(f"Not successful ({problems:,})", _PROBLEMS)
        for state in [*STATE_ORDER, *[s for s in counts if s not in STATE_ORDER]]:
            if counts.get(state):
                combo.addItem(f"{state.capitalize()} ({counts[state]:,})", state)
        self._sync_combo()

    def _sync_combo(self) -> None:
        states = self.model.state_filter
        if states is None:
            target = _ALL
        elif states == PROBLEM_NAMES:
            target = _PROBLEMS
        elif len(states) == 1:
            target = next(iter(states))
        else:
            target = _CUSTOM
        index = self.state_combo.findData(target)
        if index < 0:
            self.state_combo.addItem("Selected states", _CUSTOM)
            index = self.state_combo.count() - 1
        self.state_combo.setCurrentIndex(index)
        self.summary.set_selected(states)

    def _on_combo(self, index: int) -> None:
        value = self.state_combo.itemData(index)
        if value == _ALL:
            self.set_state_filter(None)
        elif value == _PROBLEMS:
            self.set_state_filter(PROBLEM_NAMES)
        elif value != _CUSTOM:
            self.set_state_filter({value})

    def _on_state_clicked(self, state: str) -> None:
        current = self.model.state_filter
        self.set_state_filter(None if current == frozenset({state}) else {state})

    def _on_state_toggled(self, state: str) -> None:
        current = set(self.model.state_filter or ())
        current ^= {state}
        self.set_state_filter(current or None)

    def set_state_filter(self, states: Any) -> None:
        """Show only rows in ``states`` (None: every row)."""
        self.model.set_state_filter(None if states is None else frozenset(states))
        self._sync_combo()

    def apply_search(self) -> None:
        """Apply the search text now (normally after a short pause in typing)."""
        self._search_timer.stop()
        if self.search.text() != self.model.text_filter:
            self.model.set_text_filter(self.search.text())

    def _on_view_changed(self, visible: int, total: int) -> None:
        self.count_label.setText(f"{visible:,} of {total:,} rows" if visible != total
                                 else f"{total:,} rows")

    # ------------------------------------------------------------------ export
    def choose_export(self, failures_only: bool) -> None:
        """Ask for a file name, then :meth:`export_to`."""
        if self.run_id is None:
            return
        folder = str(self.services.settings.ui.get(UI_LAST_FOLDER) or Path.home())
        stem = f"recotap-run-{self.run_id}-" + ("failures" if failures_only else "results")
        path_text, chosen = QFileDialog.getSaveFileName(
            self, "Export failures only" if failures_only else "Export all rows",
            str(Path(folder) / f"{stem}.csv"), "CSV file (*.csv);;Excel workbook (*.xlsx)")
        if not path_text:
            return
        path = Path(path_text)
        if path.suffix.lower() not in (".csv", ".xlsx"):
            path = path.with_suffix(".xlsx" if "xlsx" in chosen else ".csv")
        self.services.settings.remember(UI_LAST_FOLDER, str(path.parent))
        self.export_to(path, failures_only=failures_only)

    def export_to(self, path: Path, *, failures_only: bool = False) -> Worker | None:
        """Write the run's rows (all, or only the unsuccessful ones) to CSV/XLSX on a worker.

        Exporting all rows of a run with failures also writes the failures-only file
        next to it (``name.failures.csv``), ready to fix and import again.
        """
        from recotap_desktop.engine.report import failures_path, write_report_file
        from recotap_desktop.files.targets import TargetProblem, check_target

        history = self.services.history
        if history is None or self.run_id is None:
            return None
        run_id = self.run_id
        counts = self.model.results.counts()
        also_failures = not failures_only and any(counts.get(s) for s in PROBLEM_NAMES)
        try:  # before writing anything: the rule the CLI uses (files/targets.py)
            inputs = [history.get_run(run_id).file_path]
            check_target(path, inputs=inputs, label="The file", suffixes=(".csv", ".xlsx"))
            if also_failures:
                check_target(failures_path(path), inputs=inputs,
                             label="The failures-only file beside it")
        except TargetProblem as exc:
            from recotap_desktop.ui.dialogs import another_name_question

            self._status("Not saved: " + exc.message)
            self.target_box = another_name_question(
                self, exc.message, lambda: self.choose_export(failures_only))
            return None

        def write(progress: SignalProgress) -> tuple[Path, int, Path | None]:
            written, rows = write_report_file(path, history, run_id, failures_only=failures_only)
            extra = None
            if also_failures:
                extra, _n = write_report_file(failures_path(path), history, run_id,
                                              failures_only=True)
            return written, rows, extra

        def done(result: tuple[Path, int, Path | None]) -> None:
            written, rows, extra = result
            more = f"; failures only: {extra.name}" if extra else ""
            moved = (f" ({path.name} is open in another program, such as Excel, so it was "
                     "saved under this name)" if written != path else "")
            self._status(f"Saved {rows:,} rows to {written}{moved}{more}")
            self.exported.emit(written, rows)

        def failed(exc: BaseException) -> None:
            self._status("Could not save the results: " + describe_error(exc))

        self._status(f"Writing {path.name}…")
        job = Worker(write, name="export-results", parent=self)
        job.succeeded.connect(done)
        job.failed.connect(failed)
        job.finished.connect(self._update_buttons)
        self.export_job = job.start()
        self._update_buttons()
        return job

    # ------------------------------------------------------------------ retry
    def retry_failed(self, target: Profile | None = None) -> Worker | None:
        """Send the retryable rows again as a new run (engine ``retry``), then show it.

        The rows go to the run's own connection. When it is gone, points elsewhere, is not
        recorded or has no key, the user picks one explicitly (both hosts shown) and
        ``target`` is that choice.
        """
        history = self.services.history
        if history is None or self.run is None:
            return None
        run = self.run
        services = self.services
        explicit = target is not None
        profile = target or services.run_profile(run)
        if profile is None:
            self._choose_target(run, services.run_connection_problem(run))
            return None
        client_kwargs = dict(self.client_kwargs)
        old_id = run.id

        def work(progress: SignalProgress) -> Any:
            from recotap_desktop.engine.jobs import NothingToRetry, retry, retryable_rows
            from recotap_desktop.engine.run_target import check_run_target

            rows = retryable_rows(history, old_id)
            if not rows:
                return None
            spec = services.connection_spec(profile)
            if not explicit:
                check_run_target(run, spec)  # before the custom-field lookup: nothing sent
            custom = services.custom_fields(run.kind, spec, **client_kwargs)
            try:
                return retry(history, old_id, spec, custom_fields=custom, progress=progress,
                             cancel=progress.token, rows=rows, client_kwargs=client_kwargs,
                             other_connection=explicit)
            except NothingToRetry as exc:  # read again first: every row was processed
                return exc

        def done(result: Any) -> None:
            from recotap_desktop.engine.jobs import NothingToRetry

            if isinstance(result, NothingToRetry):
                self._status(result.message)
                self.load_run(old_id)  # its rows now say created / updated
                return
            if result is None:
                self._status("No row of this run can be retried: the failed rows were rejected "
                             "for their data or already exist in Recotap, so sending them again "
                             "unchanged would fail the same way. Export the failures to see why.")
                return
            self._status(f"Retry finished: run {result.run_id} ({result.state.value}).")
            job = self.load_run(result.run_id)
            if job is not None:
                job.succeeded.connect(lambda _d: self.retried.emit(result.run_id))

        def failed(exc: BaseException) -> None:
            from recotap_desktop.ui.run_target_dialog import own_connection_unusable

            self._status("The retry could not run: " + describe_error(exc))
            problem = None if explicit else own_connection_unusable(
                run, profile, run_host(run), exc)
            if problem is not None:
                self._choose_target(run, problem)

        self._status(f"Retrying the failed rows of run {old_id}…")
        job = Worker(work, name="retry-run", parent=self)
        job.snapshot.connect(self._on_retry_progress)
        job.succeeded.connect(done)
        job.failed.connect(failed)
        job.cancelled.connect(lambda: self._status("Retry cancelled."))
        job.finished.connect(lambda: self._busy(False))
        self._busy(True)
        self.retry_job = job.start()
        return job

    def _choose_target(self, run: Any, problem: str) -> QWidget:
        """Ask where the rows to retry go (both hosts shown), then retry there."""
        from recotap_desktop.ui.run_target_dialog import choose_run_target

        self._status(problem)
        self.target_dialog = choose_run_target(self.services, run, problem, "be retried", self,
                                               lambda profile: self.retry_failed(profile))
        return self.target_dialog

    def _on_retry_progress(self, snapshot: Any) -> None:
        if snapshot.total:
            self.progress.setRange(0, snapshot.total)
            self.progress.setValue(snapshot.done)
            self._status(f"Retrying: {snapshot.done:,} of {snapshot.total:,} rows")

    # ------------------------------------------------------------------ undo
    def undo_updates(self) -> Worker | None:
        """Compare what this run overwrote with Recotap now (worker), ask, then send back."""
        history, run, services = self.services.history, self.run, self.services
        if history is None or run is None or services.paths is None:
            return None
        profile = services.run_profile(run)
        if profile is None:
            self._status("The undo goes to the run's own connection, which cannot be used "
                         "now: " + services.run_connection_problem(run))
            return None
        client_kwargs = dict(self.client_kwargs)
        data_dir = services.paths.data_dir

        def work(progress: SignalProgress) -> Any:
            from recotap_desktop.engine.revert import plan_revert

            spec = services.connection_spec(profile)
            return spec, plan_revert(history, run.id, spec, data_dir, cancel=progress.token,
                                     progress=progress, client_kwargs=client_kwargs)

        def done(result: Any) -> None:
            spec, plan = result
            self._status(plan.summary())
            self.confirm_undo(plan, spec)

        self._status(f"Comparing what run {run.id} changed with Recotap now…")
        job = Worker(work, name="plan-undo", parent=self)
        job.succeeded.connect(done)
        job.failed.connect(lambda exc: self._status("The undo could not be prepared: "
                                                    + describe_error(exc)))
        job.cancelled.connect(lambda: self._status("Undo cancelled; nothing was sent."))
        job.finished.connect(lambda: self._busy(False))
        self._busy(True)
        self.undo_job = job.start()
        return job

    def confirm_undo(self, plan: Any, spec: Any) -> Any:
        """Show what goes back and what is refused; send only on the explicit button."""
        from recotap_desktop.ui.undo_dialog import UndoDialog

        dialog = UndoDialog(plan, spec.host, self)
        self.undo_dialog = dialog
        dialog.accepted.connect(lambda: self._send_undo(plan, spec))
        dialog.finished.connect(lambda _r: setattr(self, "undo_dialog", None))
        dialog.open()
        return dialog

    def _send_undo(self, plan: Any, spec: Any) -> Worker | None:
        history = self.services.history
        if history is None:
            return None
        client_kwargs = dict(self.client_kwargs)

        def work(progress: SignalProgress) -> Any:
            from recotap_desktop.engine.revert import run_revert

            return run_revert(history, plan, spec, cancel=progress.token,
                              client_kwargs=client_kwargs)

        def done(result: Any) -> None:
            self._status(f"Undo finished: run {result.run_id} ({result.state.value}). "
                         + result.message)
            job = self.load_run(result.run_id)
            if job is not None:
                job.succeeded.connect(lambda _d: self.retried.emit(result.run_id))

        job = Worker(work, name="send-undo", parent=self)
        job.succeeded.connect(done)
        job.failed.connect(lambda exc: self._status("The undo stopped: " + describe_error(exc)))
        job.finished.connect(lambda: self._busy(False))
        self._busy(True)
        self._status(f"Sending back the values run {plan.run_id} overwrote…")
        self.undo_job = job.start()
        return job

    # ------------------------------------------------------------------ misc
    @property
    def busy(self) -> bool:
        return any(j is not None and j.running
                   for j in (self.load_job, self.export_job, self.retry_job, self.undo_job))

    def cancel_jobs(self) -> None:
        """Stop loading/retrying (closing the window)."""
        for job in (self.load_job, self.retry_job, self.undo_job):
            if job is not None and job.running:
                job.cancel(stop_now=True)

    def _busy(self, on: bool) -> None:
        self.progress.setVisible(on)
        if on:
            self.progress.setRange(0, 0)
        self._update_buttons()

    def _update_buttons(self) -> None:
        has_rows = self.model.results is not None and len(self.model.results) > 0
        retry_busy = self.retry_job is not None and self.retry_job.running
        self.export_button.setEnabled(has_rows and not (
            self.export_job is not None and self.export_job.running))
        retryable = self.model.results.retryable if has_rows else 0
        self.retry_button.setEnabled(
            has_rows and not retry_busy and self.services.history is not None
            and retryable > 0 and not (self.run is not None and self.run.state == "running"))
        self.retry_button.setToolTip(
            f"Send again the {retryable} row(s) that failed for a temporary reason or were "
            "not sent." if retryable else
            "Nothing to retry: the failed rows were rejected for their data or already exist "
            "in Recotap, so sending them again unchanged would fail the same way.")
        self.copy_button.setEnabled(has_rows)
        updated = self.model.results.counts().get("updated", 0) if has_rows else 0
        undoable = (self.run is not None and self.run.kind in UNDOABLE_KINDS
                    and self.run.state != "running" and updated > 0)
        self.undo_button.setVisible(self.run is not None and self.run.kind in UNDOABLE_KINDS)
        self.undo_button.setEnabled(bool(undoable) and not self.busy
                                    and self.services.history is not None)

    def _status(self, text: str) -> None:
        self.status_label.setText(text)

#: Kinds whose runs change existing accounts, so their updates can be undone.
UNDOABLE_KINDS = frozenset({"accounts", "account-fields", "id-mappings"})


def _escape(text: str) -> str:
    import html

    return html.escape(str(text))


class ResultsWindow(QMainWindow):
    """A window with the results grid of one run (from the wizard or the history)."""

    def __init__(self, services: Services, run_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowFlag(Qt.WindowType.Window, True)
        self.services = services
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 8, 8)
        self.view = ResultsView(services, central)
        self.view.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.view, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        self.close_button = QPushButton("Close")
        self.close_button.setObjectName("closeResults")
        self.close_button.setToolTip("Close this window (Esc)")
        self.close_button.clicked.connect(self.close)
        row.addWidget(self.close_button)
        layout.addLayout(row)
        self.setCentralWidget(central)
        self.setWindowTitle(f"Results of run {run_id}")
        self.view.loaded.connect(lambda rid: self.setWindowTitle(f"Results of run {rid}"))
        resize_within_screen(self, 1100, 680)
        close = QAction("Close", self)
        close.setShortcut(QKeySequence(QKeySequence.StandardKey.Close))
        close.triggered.connect(self.close)
        self.addAction(close)
        escape = QAction("Close", self)
        escape.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        escape.triggered.connect(self.close)
        self.addAction(escape)
        return_presses_buttons(central)
        self.view.load_run(run_id)

    @property
    def run_id(self) -> int | None:
        return self.view.run_id

    def closeEvent(self, event: QCloseEvent) -> None:
        self.view.cancel_jobs()
        super().closeEvent(event)


def open_results(services: Services, run_id: int, parent: QWidget | None = None
                 ) -> ResultsWindow:
    """Open (show) a results window for ``run_id``; it deletes itself when closed."""
    window = ResultsWindow(services, run_id, parent)
    window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    window.show()
    return window

