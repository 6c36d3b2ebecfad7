"""Page 3: read and check every row (on a worker) and list the problems."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)

from recotap_desktop.engine.plan import MAX_PROBLEMS, Plan, PlanCancelled, build_plan
from recotap_desktop.engine.preview import HISTORY_KINDS
from recotap_desktop.records.formats import ColumnFormat
from recotap_desktop.store.settings import UI_LAST_FOLDER, header_signature
from recotap_desktop.ui.messages import describe_error
from recotap_desktop.ui.widgets import row_table
from recotap_desktop.ui.wizard.models import (
    PROBLEM_COLUMNS,
    ProblemsModel,
    ProblemsProxy,
    problem_cells,
)
from recotap_desktop.ui.wizard.preview import (
    PreviewOutcome,
    PreviewPanel,
    can_preview,
    start_preview,
)
from recotap_desktop.ui.workers import SignalProgress, Worker

if TYPE_CHECKING:
    from recotap_desktop.ui.wizard.wizard import ImportWizard

log = logging.getLogger(__name__)

#: What a button that chooses a convention says.
CHOICE_TEXT = {
    "DMY": "Day first (31/12/2026)",
    "MDY": "Month first (12/31/2026)",
    "YMD": "Year first (26/12/31)",
    "point": "Decimal point (1,234.50)",
    "comma": "Decimal comma (1.234,50)",
    "auto": "Decide from the values",
}


class CheckPage(QWizardPage):
    """Counts and problems of the file with the chosen mapping."""

    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.ctx = wizard.ctx
        self.job: Worker | None = None
        self.preview_job: Worker | None = None
        self._preview_options: tuple[bool, bool] | None = None
        self._compared_with: object = None
        self.error: str | None = None
        self.setTitle("Check the rows")
        self.setSubTitle("Every row is read and checked before anything is sent. Invalid rows "
                         "are never sent.")
        self._build()
        wizard.connectionReady.connect(self._on_connection_ready)
        # Back from Options does not initialise this page again: follow its choices here.
        wizard.currentIdChanged.connect(lambda _id: self._on_shown_again())

    def _build(self) -> None:
        """The page's parts, top to bottom (their order is the Tab order)."""
        layout = QVBoxLayout(self)
        layout.addLayout(self._build_progress_row())
        self.status_label = QLabel()
        self.status_label.setObjectName("checkStatus")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.status_label)
        layout.addLayout(self._build_counts())
        layout.addWidget(self._build_formats_box())
        layout.addWidget(self._build_tabs(), 1)
        self.exclude_check = QCheckBox("E&xclude invalid rows and continue")
        self.exclude_check.setObjectName("excludeInvalid")
        self.exclude_check.toggled.connect(lambda _c: self.completeChanged.emit())
        layout.addWidget(self.exclude_check)
        self.registerField("excludeInvalid", self.exclude_check)

    def _build_progress_row(self) -> QHBoxLayout:
        """The check's progress (rows read), "Stop checking" and "Check again"."""
        progress_row = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setObjectName("checkProgress")
        self.progress.setRange(0, 0)
        self.progress.setFormat("%v rows")
        self.cancel_button = QPushButton("&Stop checking")
        self.cancel_button.setObjectName("cancelCheck")
        self.cancel_button.clicked.connect(self.cancel_check)
        self.again_button = QPushButton("Check &again")
        self.again_button.setObjectName("checkAgain")
        self.again_button.clicked.connect(self.start_check)
        progress_row.addWidget(self.progress, 10)
        progress_row.addStretch(1)
        progress_row.addWidget(self.cancel_button)
        progress_row.addWidget(self.again_button)
        return progress_row

    def _build_counts(self) -> QGridLayout:
        """The counts in large type under their captions: rows read, valid, invalid,
        duplicates, warnings, to send."""
        grid = QGridLayout()
        self.count_labels: dict[str, QLabel] = {}
        for i, (key, title) in enumerate((("total", "Rows read"), ("valid", "Valid"),
                                          ("invalid", "Invalid"), ("duplicates", "Duplicates"),
                                          ("warnings", "Warnings"), ("send", "To send"))):
            caption = QLabel(title)
            value = QLabel("—")
            value.setObjectName(f"count:{key}")
            font = value.font()
            font.setBold(True)
            font.setPointSizeF(font.pointSizeF() * 1.25)
            value.setFont(font)
            grid.addWidget(caption, 0, i)
            grid.addWidget(value, 1, i)
            self.count_labels[key] = value
        return grid

    def _build_formats_box(self) -> QGroupBox:
        """How each date and number column is read, and why; a click changes it (filled
        once the file is checked, hidden until then)."""
        self.formats_box = QGroupBox("How dates and numbers are read")
        self.formats_box.setObjectName("formatsBox")
        self.formats_grid = QGridLayout(self.formats_box)
        self.formats_grid.setColumnStretch(0, 1)
        self.formats_box.setVisible(False)
        self.format_labels: dict[str, QLabel] = {}
        self.format_buttons: dict[tuple[str, str], QPushButton] = {}
        return self.formats_box

    def _build_tabs(self) -> QTabWidget:
        """Two tabs: the problems of the file, and what it will do in Recotap (for the kinds
        that can be previewed)."""
        self.tabs = QTabWidget()
        self.tabs.setObjectName("checkTabs")
        self.tabs.addTab(self._build_problems_tab(), "Pr&oblems")
        self.preview_panel = PreviewPanel()
        self.preview_panel.setObjectName("previewPanel")
        self.preview_panel.stop_button.clicked.connect(self.cancel_preview)
        self.preview_panel.again_button.clicked.connect(self.start_preview)
        self.tabs.addTab(self.preview_panel, "&What will change")
        self.tabs.setTabVisible(1, can_preview(self.ctx.kind.name))
        return self.tabs

    def _build_problems_tab(self) -> QWidget:
        """The "Problems" tab: its filters and export above the table of problems."""
        problems_tab = QWidget()
        problems = QVBoxLayout(problems_tab)
        problems.setContentsMargins(0, 0, 0, 0)
        problems.addLayout(self._build_problem_filters())
        problems.addWidget(self._build_problems_view(), 1)
        return problems_tab

    def _build_problem_filters(self) -> QHBoxLayout:
        """"Find problems:" (text), which problems to show, and "Export problems…"."""
        filters = QHBoxLayout()
        find = QLabel("&Find problems:")
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("problemFilter")
        self.filter_edit.setPlaceholderText("Row, column, value or reason…")
        self.filter_edit.setClearButtonEnabled(True)
        find.setBuddy(self.filter_edit)
        self.severity_combo = QComboBox()
        self.severity_combo.setObjectName("severityFilter")
        self.severity_combo.setAccessibleName("Show problems")
        self.severity_combo.addItem("Errors and warnings", None)
        self.severity_combo.addItem("Errors (row not sent)", "error")
        self.severity_combo.addItem("Warnings (value dropped)", "warning")
        self.export_button = QPushButton("Export &problems…")
        self.export_button.setObjectName("exportProblems")
        self.export_button.clicked.connect(self.choose_export)
        filters.addWidget(find)
        filters.addWidget(self.filter_edit, 1)
        filters.addWidget(self.severity_combo)
        filters.addWidget(self.export_button)
        return filters

    def _build_problems_view(self) -> QTableView:
        """The table of problems (row, column, value, reason, severity), filtered by the
        text and the severity chosen above it."""
        self.model = ProblemsModel(self)
        self.proxy = ProblemsProxy(self)
        self.proxy.setSourceModel(self.model)
        self.filter_edit.textChanged.connect(self.proxy.set_text)
        self.severity_combo.currentIndexChanged.connect(
            lambda _i: self.proxy.set_severity(self.severity_combo.currentData()))
        self.view = row_table(self.proxy, "problemTable", "Problems")
        self.view.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        fm = self.fontMetrics()
        for column, sample in ((0, "mapping  "), (1, "Company Domain Name"), (2, "a value shown"),
                               (4, "warning  ")):
            header.resizeSection(column, fm.horizontalAdvance(sample) + 24)
        return self.view

    # ------------------------------------------------------------------ checking
    @property
    def plan(self) -> Plan | None:
        return self.ctx.plan

    @property
    def running(self) -> bool:
        return self.job is not None and self.job.running

    def initializePage(self) -> None:
        if self.ctx.plan is None or self.ctx.plan_key != self.ctx.check_key():
            self.start_check()
        else:
            self._show_plan(self.ctx.plan)
            if self.ctx.preview is None or self._preview_options != self._options_key():
                self.start_preview()  # upsert or segment changed on the Options page

    def _on_shown_again(self) -> None:
        if self._wizard.currentPage() is not self or self.ctx.plan is None or self.running:
            return
        if self.ctx.plan_key == self.ctx.check_key() and self.ctx.preview is not None \
                and self._preview_options != self._options_key():
            self.start_preview()

    def _options_key(self) -> tuple[bool, bool]:
        options = self._wizard.options_page.options()
        return options.upsert, bool(options.segment_id)

    def _on_connection_ready(self) -> None:
        """The connection arrived after the check: compare the rows now."""
        running = self.preview_job is not None and self.preview_job.running
        if self.ctx.plan is not None and self.ctx.preview is None and not running \
                and self.isVisible():
            self.start_preview()

    def set_format(self, target: str, convention: str) -> None:
        """Read the column of ``target`` with ``convention`` (``"auto"``: decide from its
        values); the choice is part of the mapping (remembered, saved in templates)."""
        formats = dict(self.ctx.mapping.formats)
        if convention == "auto":
            formats.pop(target, None)
        else:
            formats[target] = convention
        self.ctx.mapping = replace(self.ctx.mapping, formats=formats)
        self._wizard.columns_page.mapper.formats = dict(formats)
        source = self.ctx.source
        if source is not None:
            settings = self.ctx.services.settings
            settings.remember_mapping(
                header_signature(self.ctx.kind.name, source.headers), self.ctx.mapping.to_dict())
            try:
                self.ctx.services.save_settings()
            except Exception:
                log.warning("could not remember the column formats", exc_info=True)
        self.start_check()

    def _show_formats(self, formats: list[ColumnFormat]) -> None:
        while self.formats_grid.count():
            item = self.formats_grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.format_labels.clear()
        self.format_buttons.clear()
        chosen = self.ctx.mapping.formats
        for row, fmt in enumerate(formats):
            label = QLabel(("⚠ " if fmt.needs_choice else "") + fmt.describe())
            label.setObjectName(f"format:{fmt.target}")
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            if fmt.needs_choice:
                font = label.font()
                font.setBold(True)
                label.setFont(font)
            self.formats_grid.addWidget(label, row, 0)
            self.format_labels[fmt.target] = label
            options = [c for c in fmt.choices if c != fmt.convention]
            if not fmt.needs_choice and fmt.kind == "date":
                options = [c for c in options if c != "YMD"]
            if fmt.target in chosen:
                options.append("auto")
            for col, convention in enumerate(options, start=1):
                button = QPushButton(CHOICE_TEXT[convention])
                button.setObjectName(f"format:{fmt.target}:{convention}")
                button.setAccessibleName(f"{fmt.column}: {CHOICE_TEXT[convention]}")
                button.clicked.connect(
                    lambda _c=False, t=fmt.target, c=convention: self.set_format(t, c))
                self.formats_grid.addWidget(button, row, col)
                self.format_buttons[(fmt.target, convention)] = button
        self.formats_box.setVisible(bool(formats))

    def start_check(self) -> Worker | None:
        """Run ``build_plan`` on a worker (progress, cancellable)."""
        if self.ctx.source is None:
            return None
        if self.job is not None and self.job.running:
            self.job.cancel()
        self.ctx.plan = None
        self.ctx.plan_key = None
        self.error = None
        self.model.set_problems([])
        for label in self.count_labels.values():
            label.setText("—")
        self.exclude_check.setChecked(False)
        self.exclude_check.setVisible(False)
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.cancel_button.setVisible(True)
        self.again_button.setVisible(False)
        self.status_label.setText(f"Checking {self.ctx.source.path.name}…")
        job_spec = self.ctx.job()
        key = self.ctx.check_key()

        def check(progress: SignalProgress) -> Plan:
            return build_plan(job_spec, progress=progress, cancel=progress.token)

        job = Worker(check, name="check-file", parent=self)
        job.progress.connect(self._on_progress)
        job.succeeded.connect(lambda plan: self._on_checked(job, key, plan))
        job.failed.connect(lambda exc: self._on_failed(job, exc))
        job.finished.connect(lambda: self._on_finished(job))
        self.job = job.start()
        self.completeChanged.emit()
        return job

    def cancel_check(self) -> None:
        if self.job is not None and self.job.running:
            self.job.cancel()

    def _on_progress(self, done: int, total: int, message: str) -> None:
        if done >= 0:
            self.progress.setValue(done) if self.progress.maximum() else None
            self.status_label.setText(f"Checking… {done:,} rows read")

    def _on_checked(self, job: Worker, key: tuple[Any, ...], plan: Plan) -> None:
        if job is not self.job:
            return
        self.ctx.plan = plan
        self.ctx.plan_key = key
        self._show_plan(plan)
        self.start_preview()

    # ------------------------------------------------------------------ preview
    def start_preview(self) -> Worker | None:
        """Compare every row with Recotap's accounts (kinds the API lists), on a worker."""
        plan, spec, services = self.ctx.plan, self.ctx.spec, self.ctx.services
        self.ctx.preview = None
        if plan is None or not can_preview(plan.job.kind) or plan.needs_choice:
            return None
        if spec is None or services.paths is None:
            self.preview_panel.summary.setText(
                "The comparison with Recotap's accounts needs the connection: "
                + (self.ctx.connection_error or "getting its API key…"))
            return None
        self.cancel_preview()
        options = self._wizard.options_page.options()
        self._preview_options = self._options_key()
        job_plan = replace(plan, job=replace(plan.job, options=options))
        self.preview_panel.busy(
            "Reading what this app sent before…" if plan.job.kind in HISTORY_KINDS
            else "Reading Recotap's accounts to compare every row…")
        job = start_preview(self, job_plan, spec, services.paths.data_dir,
                            dict(self.ctx.client_kwargs), services.history)
        job.progress.connect(self.preview_panel.on_progress)
        job.succeeded.connect(lambda outcome: self._on_previewed(job, outcome))
        job.failed.connect(lambda exc: self._on_preview_failed(job, exc))
        job.cancelled.connect(lambda: self._on_preview_cancelled(job))
        self.preview_job = job.start()
        return job

    def cancel_preview(self) -> None:
        if self.preview_job is not None and self.preview_job.running:
            self.preview_job.cancel()

    def _on_previewed(self, job: Worker, outcome: PreviewOutcome) -> None:
        if job is not self.preview_job:
            return
        self.ctx.preview = outcome.preview
        # Kept while the page lives, also while a new preview runs: one made again after
        # an option changed reuses the accounts read into memory (AccountMirror.snapshot).
        self._compared_with = outcome.preview.accounts
        plan = self.ctx.plan
        baseline = outcome.baseline
        left_out = sum(1 for p in outcome.preview.rows.values()
                       if baseline.skips(p) or baseline.refuses(p))
        if plan is not None and left_out:
            self.count_labels["send"].setText(
                f"{max(0, plan.rows_to_send - left_out):,} (of {plan.rows_to_send:,})")
            self.count_labels["send"].setToolTip(
                f"{left_out:,} rows are not sent: Recotap already holds their values, or "
                "refuses them for an account that exists (see “What will change”).")
        self.preview_panel.show_result(
            outcome, upsert_hint=self.ctx.rules.supports_upsert
            and self.ctx.kind.name == "accounts"
            and not self._wizard.options_page.options().upsert)

    def _on_preview_cancelled(self, job: Worker) -> None:
        if job is not self.preview_job:
            return
        self.preview_panel.summary.setText(
            "Reading Recotap's accounts was stopped; the rows are not compared (every row "
            "is then sent). Press “Read again” to compare them.")
        self.preview_panel.done()

    def _on_preview_failed(self, job: Worker, exc: BaseException) -> None:
        if job is not self.preview_job:
            return
        self.preview_panel.show_error(exc)

    def _on_failed(self, job: Worker, exc: BaseException) -> None:
        if job is not self.job:
            return
        if isinstance(exc, PlanCancelled):
            self.status_label.setText("Checking was stopped. Press “Check again” to check the "
                                      "file, or go Back.")
        else:
            self.error = describe_error(exc)
            self.status_label.setText("✖ " + self.error)

    def _on_finished(self, job: Worker) -> None:
        if job is not self.job:
            return
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)
        self.again_button.setVisible(True)
        self.completeChanged.emit()

    def _show_plan(self, plan: Plan) -> None:
        set_text = {k: v.setText for k, v in self.count_labels.items()}
        set_text["total"](f"{plan.total_rows:,}")
        set_text["valid"](f"{plan.valid_rows:,}")
        set_text["invalid"](f"{plan.invalid_rows:,}")
        set_text["duplicates"](f"{plan.duplicate_rows:,}")
        set_text["warnings"](f"{plan.warning_count:,}")
        set_text["send"](f"{plan.rows_to_send:,}")
        self.model.set_problems(plan.problems)
        self.view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        more = (f" The first {MAX_PROBLEMS:,} of {plan.problem_count + plan.warning_count:,} "
                "problems are listed." if len(plan.problems) >= MAX_PROBLEMS else "")
        kind = self.ctx.kind.title.lower()
        self._show_formats(plan.formats)
        if plan.needs_choice:
            text = ("⚠ Some columns can be read in more than one way: choose how below. "
                    "Nothing is sent until you do.")
        elif plan.rows_to_send == 0:
            text = "✖ No row can be sent. Fix the file or the column matching (Back)."
        elif plan.invalid_rows:
            text = (f"{plan.invalid_rows:,} invalid row(s) will not be sent. Go Back to change the "
                    "matching, or tick “Exclude invalid rows and continue”.")
        else:
            text = "✔ Every row can be sent."
        self.status_label.setText(
            f"{text} {plan.items:,} {kind} in {plan.batches:,} request(s).{more}")
        # while a column needs a choice, its rows are not "invalid": nothing to exclude yet
        self.exclude_check.setVisible(
            plan.invalid_rows > 0 and plan.rows_to_send > 0 and not plan.needs_choice)
        self.export_button.setEnabled(bool(plan.problems))
        self.completeChanged.emit()

    # ------------------------------------------------------------------ export
    def choose_export(self) -> None:
        start = str(self.ctx.services.settings.ui.get(UI_LAST_FOLDER) or Path.home())
        stem = self.ctx.source.path.stem if self.ctx.source else "file"
        chosen, selected = QFileDialog.getSaveFileName(
            self, "Export the problems", str(Path(start) / f"{stem}-problems.csv"),
            "CSV file (*.csv);;Excel workbook (*.xlsx)")
        if chosen:
            path = Path(chosen)
            if path.suffix.lower() not in (".csv", ".xlsx"):
                path = path.with_suffix(".xlsx" if "xlsx" in selected else ".csv")
            self.export_problems(path)

    def export_problems(self, path: Path) -> Worker:
        """Write every listed problem to CSV/XLSX (formula-safe) on a worker."""
        problems = list(self.model.problems)

        def write(progress: SignalProgress) -> int:
            from recotap_desktop.files.writers import TableWriter

            with TableWriter.open(path, list(PROBLEM_COLUMNS)) as writer:
                for p in problems:
                    writer.write_row(list(problem_cells(p)))
            return len(problems)

        job = Worker(write, name="export-problems", parent=self)
        job.succeeded.connect(
            lambda n: self.status_label.setText(f"Saved {n:,} problems to {path}."))
        job.failed.connect(lambda exc: self.status_label.setText(
            "✖ Could not save the problems: " + describe_error(exc)))
        return job.start()

    # ------------------------------------------------------------------ QWizardPage
    def isComplete(self) -> bool:
        plan = self.ctx.plan
        if plan is None or self.running or plan.rows_to_send <= 0 or plan.needs_choice:
            return False
        return plan.invalid_rows == 0 or self.exclude_check.isChecked()

    def cleanupPage(self) -> None:
        """Going back stops a check in progress (choices are kept)."""
        self.cancel_check()
        self.cancel_preview()
