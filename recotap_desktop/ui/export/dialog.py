"""The export dialog's shell: the options page (the banner, the connection line and the
groups of :mod:`.mode`, :mod:`.filters` and :mod:`.output`), the progress page of
:mod:`.run`, the summary page of :mod:`.summary`, and the buttons; which page shows and
which button is the default."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QStackedWidget, QVBoxLayout, QWidget

from recotap_desktop.domain.editions import rules_for
from recotap_desktop.engine.export import ExportOptions
from recotap_desktop.ui.export.base import PAGE_OPTIONS, PAGE_PROGRESS, PAGE_SUMMARY
from recotap_desktop.ui.export.filters import FilterGroup
from recotap_desktop.ui.export.help import export_help_html
from recotap_desktop.ui.export.mode import ModeGroup
from recotap_desktop.ui.export.output import OutputGroup
from recotap_desktop.ui.export.run import RunStep
from recotap_desktop.ui.export.summary import SummaryPage
from recotap_desktop.ui.job_dialog import Banner
from recotap_desktop.ui.services import Services

__all__ = ["ExportDialog"]

_PAGE_NAMES = ("options", "progress", "summary")


class ExportDialog(ModeGroup, FilterGroup, OutputGroup, RunStep, SummaryPage):
    """The "Export scored accounts" dialog for the active connection of ``services``.

    ``client_kwargs`` go to the API client (tests pass a short
    :class:`~recotap_desktop.api.RetryPolicy`). Open it with ``open()`` or ``show()``;
    it runs its own background job.
    """

    STOP_TITLE = "Stop the export?"
    STOP_TEXT = (
        "Stop the export after the page being received?\n\nNothing changes: no file is "
        "written and the last sync time stays as it was."
    )
    STOP_BUTTON = "Stop export"
    CANCEL_STOP_NOW = True  # between pages: nothing is written, nothing changes
    HELP_TITLE = "Export scored accounts — help"
    HELP_OBJECT_NAME = "export-help"
    HELP_SIZE = (560, 520)

    def __init__(
        self,
        services: Services,
        parent: QWidget | None = None,
        *,
        client_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(services, parent, client_kwargs=client_kwargs)
        self.setObjectName("export-dialog")
        self.setWindowTitle("Export scored accounts")
        self._init_state()

        layout = QVBoxLayout(self)
        self.stack = QStackedWidget()
        self.stack.addWidget(self._build_options())
        self.stack.addWidget(self._build_progress())
        self.stack.addWidget(self._build_summary())
        layout.addWidget(self.stack, 1)
        layout.addLayout(self._build_buttons())

        self._load_connection()
        self._show_page(PAGE_OPTIONS)
        self.resize(self.sizeHint().expandedTo(self.minimumSizeHint()))

    # ================================================================== building
    def _build_options(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        self.banner = Banner("export-banner")
        layout.addWidget(self.banner)
        self.connection_label = QLabel()
        self.connection_label.setWordWrap(True)
        layout.addWidget(self.connection_label)
        layout.addWidget(self._build_mode_group())
        layout.addWidget(self._build_filter_group())
        layout.addWidget(self._build_output_group())
        layout.addStretch(1)
        return page

    def _build_buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.help_button = QPushButton("&Help")
        self.help_button.setAutoDefault(False)
        self.help_button.setToolTip("Full and delta pulls, the sync time, unscored accounts (F1)")
        self.help_button.clicked.connect(self.show_help)
        row.addWidget(self.help_button)
        row.addStretch(1)
        self.open_button = QPushButton("&Open file")
        self.open_button.clicked.connect(self.open_file)
        self.folder_button = QPushButton("Show in &folder")
        self.folder_button.clicked.connect(self.show_in_folder)
        self.again_button = QPushButton("&New export…")
        self.again_button.clicked.connect(self.new_export)
        self.start_button = QPushButton("&Start export")
        self.start_button.setObjectName("start-export")
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self._cancel_clicked)
        for button in (
            self.open_button,
            self.folder_button,
            self.again_button,
            self.start_button,
            self.cancel_button,
        ):
            row.addWidget(button)
        return row

    # ================================================================== state
    def _load_connection(self) -> None:
        """Show the active connection, its last sync time and the default options."""
        problem = self._show_connection()
        self._show_last_sync()
        folder = self.last_folder()
        stamp = datetime.now(UTC).strftime("%Y-%m-%d")
        self.path_edit.setText(str(folder / f"recotap-accounts-{stamp}.xlsx"))
        self._mode_changed()
        if problem:
            self.show_banner(problem, warning=True)
        self._can_run = not problem
        self._update_start()

    def _show_connection(self) -> str:
        """The connection line and the domain filter's note; why the export cannot run
        (``""`` when it can)."""
        profile = self.profile
        problem = ""
        if profile is None:
            problem = (
                "There is no connection yet. Open Connection → Connections… and add "
                "one, then export."
            )
            self.connection_label.setText("No connection.")
        else:
            rules = rules_for(profile.edition)
            self.connection_label.setText(self.connection_text(profile))
            if rules.supports_domain_filter:
                self.domain_note.setText(
                    "Recotap filters the domains on the server: only "
                    "matching accounts are downloaded."
                )
            else:
                self.domain_note.setText(
                    f"The {rules.title} cannot filter by domain: every "
                    "account is downloaded and filtered after download."
                )
        if self._services.history is None:
            problem = (
                f"The sync history could not be opened, so the export cannot run: "
                f"{self._services.history_problem or 'unknown problem'}"
            )
        return problem

    def _update_start(self) -> None:
        self.start_button.setEnabled(
            getattr(self, "_can_run", False)
            and bool(self.path_edit.text().strip())
            and self._domain_job is None
        )

    def _show_page(self, index: int) -> None:
        self.stack.setCurrentIndex(index)
        options, running, summary = (
            index == PAGE_OPTIONS,
            index == PAGE_PROGRESS,
            index == PAGE_SUMMARY,
        )
        self.start_button.setVisible(options)
        self.open_button.setVisible(summary)
        self.folder_button.setVisible(summary)
        self.again_button.setVisible(summary)
        self.cancel_button.setText(
            "Cancel export" if running else ("Close" if summary else "Cancel")
        )
        self.cancel_button.setEnabled(True)
        for button in (
            self.open_button,
            self.folder_button,
            self.again_button,
            self.cancel_button,
            self.start_button,
        ):
            button.setDefault(False)
        if options:
            self.start_button.setDefault(True)
            self.path_edit.setFocus()
        elif summary:
            self.cancel_button.setDefault(True)
            self.cancel_button.setFocus()
        else:
            self.cancel_button.setAutoDefault(False)
            self.cancel_button.setFocus()

    @property
    def page(self) -> str:
        """``"options"``, ``"progress"`` or ``"summary"``."""
        return _PAGE_NAMES[self.stack.currentIndex()]

    # ================================================================== options
    def options(self) -> ExportOptions:
        """The :class:`ExportOptions` the dialog currently describes."""
        mode = self._mode()
        since = None
        if mode == "since":
            since = self.since_edit.dateTime().toUTC().toString(Qt.DateFormat.ISODate)
        stages = [name for name, box in self.stage_boxes.items() if box.isChecked()]
        stages += [s.strip() for s in self.other_stages.text().split(",") if s.strip()]
        score = self.min_score.value()
        return ExportOptions(
            mode=mode,
            since=since,
            domains=list(self.domain_list.domains) if self.domain_list else None,
            min_score=float(score) if score > 0 else None,
            stages=stages or None,
            label_row=self.label_row.isChecked(),
        )

    # ================================================================== help
    def help_html(self) -> str:
        """F1 / Help: full vs delta, the sync time, unscored accounts."""
        return export_help_html()
