"""File → Export scored accounts…: pull accounts with their Recotap scores into a file.

One dialog, three pages on a stack:

``options``   what to pull (full · since the last complete pull of this connection ·
              since a date in UTC), optional filters (domains from a file, minimum
              score, journey stages), the output file and its label row;
``progress``  accounts received, rate and time left (when the engine knows a total),
              Cancel (stops between pages; nothing changes);
``summary``   the counts, a chart of the score distribution and of the journey stages
              (:class:`~recotap_desktop.ui.score_chart.ScoreChart`), the accounts that are
              not scored yet, the engine's message (mode used, whether the sync time was
              stored), Open file and Show in folder.

The pull itself is :func:`recotap_desktop.engine.export.export_accounts`, run on a
:class:`~recotap_desktop.ui.workers.Worker`: the GUI thread never waits for the
network, the keychain or the file. A cancelled or failed pull returns to the options
page with a banner in plain words; nothing was written and the sync time is unchanged.

Keyboard: Enter starts (the default button), Esc closes, or while a pull runs asks
whether to stop it; F1 opens the help.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDateTime, Qt, QTimeZone, QUrl
from PySide6.QtGui import (
    QDesktopServices,
    QFont,
)
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDateTimeEdit,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from recotap_desktop.domain.editions import rules_for
from recotap_desktop.engine.connection import ConnectionSpec
from recotap_desktop.engine.export import (
    HISTOGRAM_LABELS,
    KNOWN_STAGES,
    SYNC_RESOURCE,
    DomainList,
    ExportError,
    ExportOptions,
    ExportResult,
    default_mode,
    export_accounts,
    load_domains,
    parse_since,
)
from recotap_desktop.engine.progress import ProgressSnapshot
from recotap_desktop.engine.states import RunState
from recotap_desktop.ui.job_dialog import Banner, JobDialog, follow, rate_and_eta
from recotap_desktop.ui.messages import describe_error
from recotap_desktop.ui.score_chart import ScoreChart
from recotap_desktop.ui.services import NoApiKey, Services
from recotap_desktop.ui.workers import SignalProgress, Worker

__all__ = ["UNSCORED_EXPLANATION", "ExportDialog", "describe_sync_time", "export_help_html"]

log = logging.getLogger(__name__)

#: Why accounts can have all-zero scores (recotap-api.md §8.4, §11 item 14).
UNSCORED_EXPLANATION = (
    "Recotap recalculates scores on a schedule (journey stages once a day); accounts "
    "pushed recently show 0 until then."
)

LABEL_ROW_HELP = (
    "Adds a second row under the column names with readable labels (\u201cAccount score\u201d "
    "for rtp_account_score). Handy for people reading the file. Leave it off when the file "
    "will be imported into a CRM or read by a script: an importer would take the label row "
    "for an account."
)

_PAGE_OPTIONS, _PAGE_PROGRESS, _PAGE_SUMMARY = range(3)


def _hint(text: str) -> QLabel:
    """A muted, wrapped line of explanation (the palette's disabled text colour)."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setEnabled(False)
    label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    return label


def describe_sync_time(value: str | None, now: datetime | None = None) -> str:
    """A stored sync time for people: ``2026-05-01 10:00 UTC (3 hours ago)``."""
    if not value:
        return "never"
    try:
        moment = parse_since(value)
    except ExportError:
        return value
    now = now or datetime.now(UTC)
    text = moment.strftime("%Y-%m-%d %H:%M UTC")
    age = now - moment
    if age < timedelta(0):
        return text
    if age < timedelta(minutes=1):
        ago = "just now"
    elif age < timedelta(hours=1):
        minutes = int(age.total_seconds() // 60)
        ago = f"{minutes} minute{'s' if minutes != 1 else ''} ago"
    elif age < timedelta(days=2):
        hours = int(age.total_seconds() // 3600)
        ago = f"{hours} hour{'s' if hours != 1 else ''} ago"
    else:
        ago = f"{age.days} days ago"
    return f"{text} ({ago})"


def export_help_html() -> str:
    """The help text of the export dialog (F1)."""
    return f"""
<h3>Export scored accounts</h3>
<p>Pulls your accounts from Recotap, with their scores and journey stage, into a CSV or
Excel file. Nothing in Recotap is changed.</p>
<h4>What to pull</h4>
<ul>
<li><b>Everything (full)</b> downloads every account. Use it the first time, and now and
then afterwards: Recotap never reports deleted accounts, so only a full pull drops them.</li>
<li><b>Changed since the last complete pull</b> (delta) downloads only the accounts that
changed after the <i>sync time</i> of this connection. It is the default once a complete
pull is on record, and it is much faster.</li>
<li><b>Changed since a date</b> downloads accounts changed after a moment you choose, in
UTC (Coordinated Universal Time, the time zone Recotap uses).</li>
</ul>
<h4>The sync time</h4>
<p>At the start of every pull Recotap tells the app its current time. After a pull that
finished and holds every changed account (a full or delta pull without filters), the app
stores that time for this connection; the next delta pull asks only for accounts changed
after it. Accounts that change while a pull runs are therefore picked up again next time
rather than missed.</p>
<p>A pull with filters (domains, minimum score, journey stages), a cancelled pull and a
failed pull leave the sync time as it was, so the next delta pull misses nothing.
Cancel stops between pages: no file is written and nothing changes.</p>
<h4>Filters</h4>
<p>The domain list comes from a file: one domain per line, or a CSV/Excel file with a
domain column. The External API filters domains on the server; the CRM API cannot, so every
account is downloaded and the filter is applied on this computer. The minimum score and
the journey stages are always applied after download.</p>
<h4>Accounts that are not scored yet</h4>
<p>An account whose scores are all 0 and that has no journey stage has not been scored yet.
{html.escape(UNSCORED_EXPLANATION)} Such accounts are in the file, counted separately in
the summary and left out of the chart.</p>
<h4>The label row</h4>
<p>{html.escape(LABEL_ROW_HELP)}</p>
"""


class ExportDialog(JobDialog):
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
    OWN_WORDS = (ExportError, NoApiKey)

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

        layout = QVBoxLayout(self)
        self.stack = QStackedWidget()
        self.stack.addWidget(self._build_options())
        self.stack.addWidget(self._build_progress())
        self.stack.addWidget(self._build_summary())
        layout.addWidget(self.stack, 1)
        layout.addLayout(self._build_buttons())

        self._load_connection()
        self._show_page(_PAGE_OPTIONS)
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

    def _build_mode_group(self) -> QWidget:
        """What to pull: everything, the changes since the last pull, or since a date."""
        # -- what to pull
        mode_box = QGroupBox("What to pull")
        mode_layout = QGridLayout(mode_box)
        self.mode_group = QButtonGroup(self)
        self.full_radio = QRadioButton("&Everything (full pull)")
        self.full_radio.setToolTip(
            "Every account in Recotap. Also the only way to notice accounts that were deleted."
        )
        self.delta_radio = QRadioButton(
            "&Only accounts changed since the last complete pull of this connection"
        )
        self.delta_radio.setToolTip(
            "Uses the sync time stored after the last complete pull; much faster than a full pull."
        )
        self.since_radio = QRadioButton("Accounts changed s&ince")
        for i, radio in enumerate((self.full_radio, self.delta_radio, self.since_radio)):
            self.mode_group.addButton(radio, i)
        self.last_sync_label = QLabel()
        self.last_sync_label.setObjectName("last-sync")
        self.last_sync_label.setIndent(24)
        self.last_sync_label.setEnabled(False)  # palette's muted text, both themes
        self.last_sync_label.setWordWrap(True)
        self.since_edit = QDateTimeEdit()
        self.since_edit.setTimeZone(QTimeZone.utc())
        self.since_edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.since_edit.setCalendarPopup(True)
        self.since_edit.setToolTip("A moment in UTC (Coordinated Universal Time).")
        self.since_edit.setAccessibleName("Changed since (UTC)")
        now = QDateTime.currentDateTimeUtc().addDays(-7)
        self.since_edit.setDateTime(now)
        since_row = QHBoxLayout()
        since_row.addWidget(self.since_radio)
        since_row.addWidget(self.since_edit)
        since_row.addWidget(QLabel("UTC"))
        since_row.addStretch(1)
        mode_layout.addWidget(self.full_radio, 0, 0)
        mode_layout.addWidget(self.delta_radio, 1, 0)
        mode_layout.addWidget(self.last_sync_label, 2, 0)
        mode_layout.addLayout(since_row, 3, 0)
        self.mode_group.idToggled.connect(lambda *_: self._mode_changed())
        return mode_box

    def _build_filter_group(self) -> QWidget:
        """Optional filters: a domain list, a minimum score, journey stages."""
        filter_box = QGroupBox("Filters (optional)")
        form = QFormLayout(filter_box)
        form.addRow("Domains:", self._build_domain_field())

        self.min_score = QSpinBox()
        self.min_score.setRange(0, 1000)
        self.min_score.setSpecialValueText("Any score")
        self.min_score.setToolTip(
            "Only accounts whose account score is at least this. Scores are usually 0–100."
        )
        self.min_score.setAccessibleName("Minimum account score")
        form.addRow("Minimum s&core:", self.min_score)
        self._build_stage_field(form)
        return filter_box

    def _build_domain_field(self) -> QWidget:
        """The domain list: its file (Choose file…, Clear) and where it is applied."""
        domain_field = QWidget()
        domain_column = QVBoxLayout(domain_field)
        domain_column.setContentsMargins(0, 0, 0, 0)
        domain_column.setSpacing(2)
        domain_row = QHBoxLayout()
        self.domain_label = QLabel("All domains")
        self.domain_label.setObjectName("domain-filter")
        # one line that never widens the dialog; the whole text is in the tooltip
        self.domain_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.domain_button = QPushButton("Choose &file…")
        self.domain_button.setToolTip(
            "A text file with one domain per line, or a CSV/Excel file with a domain column."
        )
        self.domain_button.clicked.connect(self.choose_domain_file)
        self.domain_clear = QPushButton("Clear")
        self.domain_clear.clicked.connect(self.clear_domains)
        self.domain_clear.setEnabled(False)
        domain_row.addWidget(self.domain_label, 1)
        domain_row.addWidget(self.domain_button)
        domain_row.addWidget(self.domain_clear)
        domain_column.addLayout(domain_row)
        self.domain_note = _hint("")
        domain_column.addWidget(self.domain_note)
        return domain_field

    def _build_stage_field(self, form: QFormLayout) -> None:
        """The journey stages: a box per known stage, "No stage", and other stages."""
        stages = QWidget()
        stage_layout = QGridLayout(stages)
        stage_layout.setContentsMargins(0, 0, 0, 0)
        self.stage_boxes: dict[str, QCheckBox] = {}
        for i, name in enumerate((*KNOWN_STAGES, "")):
            box = QCheckBox(name or "No stage")
            if not name:
                box.setToolTip("Accounts without a journey stage (often: not scored yet).")
            self.stage_boxes[name] = box
            stage_layout.addWidget(box, i // 3, i % 3)
        self.other_stages = QLineEdit()
        self.other_stages.setPlaceholderText("Other stages, separated by commas")
        self.other_stages.setAccessibleName("Other journey stages")
        stage_layout.addWidget(self.other_stages, 2, 0, 1, 3)
        form.addRow("Journey s&tages:", stages)
        stage_layout.addWidget(
            _hint("Nothing ticked: every stage. A filtered pull does not move the last sync time."),
            3,
            0,
            1,
            3,
        )

    def _build_output_group(self) -> QWidget:
        """Where the file goes, and whether it gets a label row."""
        # -- output
        out_box = QGroupBox("Save to")
        out_layout = QVBoxLayout(out_box)
        path_row = QHBoxLayout()
        self.path_edit = QLineEdit()
        self.path_edit.setObjectName("export-path")
        self.path_edit.setPlaceholderText("A .xlsx or .csv file")
        self.path_edit.setAccessibleName("Output file")
        self.path_edit.textChanged.connect(self._path_changed)
        self.browse_button = QPushButton("&Browse…")
        self.browse_button.clicked.connect(self.choose_output)
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.browse_button)
        out_layout.addLayout(path_row)
        label_row = QHBoxLayout()
        self.label_row = QCheckBox("Add a &label row under the column names")
        self.label_row.setToolTip(LABEL_ROW_HELP)
        self.label_row.clicked.connect(self._label_row_clicked)
        label_help = QLabel()
        label_help.setPixmap(
            self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxQuestion).pixmap(16, 16)
        )
        label_help.setToolTip(LABEL_ROW_HELP)
        label_row.addWidget(self.label_row)
        label_row.addWidget(label_help)
        label_row.addStretch(1)
        out_layout.addLayout(label_row)
        self.label_row_hint = QLabel()
        self.label_row_hint.setWordWrap(True)
        self.label_row_hint.setEnabled(False)
        out_layout.addWidget(self.label_row_hint)
        return out_box

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

    def _build_summary(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        self.summary_title = QLabel()
        self.summary_title.setObjectName("summary-title")
        font = QFont(self.font())
        font.setBold(True)
        font.setPointSizeF(max(font.pointSizeF(), 1.0) * 1.2)
        self.summary_title.setFont(font)
        self.summary_title.setWordWrap(True)
        self.summary_title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.summary_title)

        tiles = QHBoxLayout()
        self.count_labels: dict[str, QLabel] = {}
        big = QFont(self.font())
        big.setBold(True)
        big.setPointSizeF(max(big.pointSizeF(), 1.0) * 1.6)
        for key, caption in (
            ("exported", "exported"),
            ("duplicates", "duplicates skipped"),
            ("filtered", "filtered out"),
            ("unscored", "not yet scored"),
        ):
            tile = QFrame()
            tile.setFrameShape(QFrame.Shape.StyledPanel)
            tile_layout = QVBoxLayout(tile)
            number = QLabel("0")
            number.setObjectName(f"count-{key}")
            number.setFont(big)
            number.setAlignment(Qt.AlignmentFlag.AlignCenter)
            text = QLabel(caption)
            text.setAlignment(Qt.AlignmentFlag.AlignCenter)
            tile_layout.addWidget(number)
            tile_layout.addWidget(text)
            self.count_labels[key] = number
            tiles.addWidget(tile)
        layout.addLayout(tiles)

        self.chart = ScoreChart()
        self.chart.setMinimumHeight(260)
        layout.addWidget(self.chart, 1)

        layout.addSpacing(4)
        self.unscored_label = QLabel()
        self.unscored_label.setObjectName("unscored")
        self.unscored_label.setWordWrap(True)
        layout.addWidget(self.unscored_label)
        layout.addSpacing(4)
        self.message_label = QLabel()
        self.message_label.setObjectName("export-message")
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.message_label)
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

    def _show_last_sync(self) -> None:
        """The last complete pull of this connection, and the pull it makes the default."""
        profile = self.profile
        history = self._services.history
        last: str | None = None
        mode = "full"
        if profile is not None and history is not None:
            # no key needed to know where this profile's sync time is kept
            where = ConnectionSpec(
                base_url=profile.base_url or None, edition=profile.edition, profile=profile.name
            )
            last = history.last_sync(profile.name, SYNC_RESOURCE, host=where.host)
            mode = default_mode(history, where)
        self.last_sync = last
        if last:
            self.last_sync_label.setText(f"Last complete pull: {describe_sync_time(last)}")
            self.delta_radio.setEnabled(True)
            moment = QDateTime.fromString(last, Qt.DateFormat.ISODateWithMs)
            if not moment.isValid():
                moment = QDateTime.fromString(last, Qt.DateFormat.ISODate)
            if moment.isValid():
                self.since_edit.setDateTime(moment.toUTC())
        else:
            self.last_sync_label.setText(
                "No complete pull of this connection yet: the first pull is a full pull."
            )
            self.delta_radio.setEnabled(False)
        (self.delta_radio if mode == "delta" else self.full_radio).setChecked(True)

    def _mode_changed(self) -> None:
        self.since_edit.setEnabled(self.since_radio.isChecked())

    def _path_changed(self, text: str) -> None:
        self._confirmed_path = None
        self._update_label_hint()
        self._update_start()

    def _label_row_clicked(self) -> None:
        self._update_label_hint()

    def _update_label_hint(self) -> None:
        if self.label_row.isChecked():
            self.label_row_hint.setText(
                "On: good for reading. Turn it off if the file goes back into a CRM import."
            )
        else:
            self.label_row_hint.setText("Off: one header row, ready for a CRM import or a script.")

    def _update_start(self) -> None:
        self.start_button.setEnabled(
            getattr(self, "_can_run", False)
            and bool(self.path_edit.text().strip())
            and self._domain_job is None
        )

    def _show_page(self, index: int) -> None:
        self.stack.setCurrentIndex(index)
        options, running, summary = (
            index == _PAGE_OPTIONS,
            index == _PAGE_PROGRESS,
            index == _PAGE_SUMMARY,
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
        return ("options", "progress", "summary")[self.stack.currentIndex()]

    def show_banner(self, text: str, *, warning: bool) -> None:
        """Show ``text`` at the top of the options page (an error or a note)."""
        self.banner.show_message(text, warning=warning)

    def banner_text(self) -> str:
        """The banner's message (``""`` when hidden)."""
        return self.banner.message()

    # ================================================================== options
    def output_path(self) -> Path | None:
        """The output file as typed (``.xlsx`` added when there is no suffix)."""
        text = self.path_edit.text().strip()
        if not text:
            return None
        path = Path(text).expanduser()
        if not path.suffix:
            path = path.with_suffix(".xlsx")
        return path

    def options(self) -> ExportOptions:
        """The :class:`ExportOptions` the dialog currently describes."""
        if self.since_radio.isChecked():
            mode = "since"
        elif self.delta_radio.isChecked():
            mode = "delta"
        else:
            mode = "full"
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

    def choose_output(self) -> None:
        """Browse… : pick the output file (CSV or XLSX); remembers the folder."""
        current = self.output_path()
        start = str(current) if current else str(self.last_folder())
        xlsx, csv = "Excel workbook (*.xlsx)", "CSV, comma-separated (*.csv)"
        chosen, selected = QFileDialog.getSaveFileName(
            self,
            "Export scored accounts to",
            start,
            f"{xlsx};;{csv}",
            csv if current and current.suffix.lower() == ".csv" else xlsx,
        )
        if not chosen:
            return
        path = Path(chosen)
        if not path.suffix:
            path = path.with_suffix(".csv" if selected == csv else ".xlsx")
        self.path_edit.setText(str(path))
        self._confirmed_path = path  # the file dialog already asked about replacing it
        self.remember_folder(path.parent)

    def choose_domain_file(self) -> None:
        """Choose a domain list file and read it in the background."""
        start = str(self.last_folder())
        chosen, _ = QFileDialog.getOpenFileName(
            self,
            "Only export these domains",
            start,
            "Domain lists (*.txt *.csv *.tsv *.xlsx);;All files (*)",
        )
        if chosen:
            self.load_domain_file(Path(chosen))

    def load_domain_file(self, path: Path) -> Worker:
        """Read ``path`` with :func:`load_domains` on a worker; shows the outcome."""
        self.domain_label.setText(f"Reading {path.name}…")
        self.domain_button.setEnabled(False)

        def read(progress: SignalProgress) -> DomainList:
            return load_domains(path)

        def done(result: DomainList) -> None:
            self.domain_list = result
            self.domain_file = path
            where = f"column “{result.column}” of " if result.column else ""
            text = f"{len(result.domains):,} domains from {where}{path.name}"
            if result.rejected:
                shown = ", ".join(f"row {r}: {v!r}" for r, v in result.rejected[:3])
                more = " …" if len(result.rejected) > 3 else ""
                text += (
                    f" ({len(result.rejected):,} values skipped, not domain names: {shown}{more})"
                )
            self.domain_label.setText(text)
            self.domain_label.setToolTip(text)
            self.domain_clear.setEnabled(True)

        def failed(exc: BaseException) -> None:
            message = exc.message if isinstance(exc, ExportError) else describe_error(exc)
            self.domain_label.setText("All domains")
            self.show_banner(f"The domain list could not be used: {message}", warning=True)

        def finished() -> None:
            self._domain_job = None
            self.domain_button.setEnabled(True)
            self._update_start()

        job = Worker(read, name="load-domains", parent=self)
        job.succeeded.connect(done)
        job.failed.connect(failed)
        job.finished.connect(finished)
        self._domain_job = job
        self._update_start()
        return job.start()

    def clear_domains(self) -> None:
        """Drop the domain filter."""
        self.domain_list = None
        self.domain_file = None
        self.domain_label.setText("All domains")
        self.domain_label.setToolTip("")
        self.domain_clear.setEnabled(False)

    # ================================================================== running
    def start(self) -> Worker | None:
        """Start the export with the current options (asks before replacing a file)."""
        if self.running or not self.start_button.isEnabled():
            return None
        out = self.output_path()
        if out is None:
            return None
        from recotap_desktop.engine.export import OUTPUT_SUFFIXES
        from recotap_desktop.files.targets import TargetProblem, check_target

        try:  # before anything is sent: the rule the CLI uses (files/targets.py)
            check_target(out, inputs=[self.domain_file], label="The export file",
                         suffixes=OUTPUT_SUFFIXES)
        except TargetProblem as exc:
            from recotap_desktop.ui.dialogs import another_name_question

            self.show_banner(exc.message, warning=True)
            self.target_box = another_name_question(self, exc.message, self.choose_output)
            return None
        if out.exists() and out != self._confirmed_path:
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
            return None
        return self._run(out, self.options())

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

        what = {
            "full": "every account",
            "delta": "accounts changed since the last complete pull",
            "since": "accounts changed since the chosen date",
        }[options.mode]
        host = self._services.host_of(profile)
        self.progress_title.setText(f"Pulling {what} from {host} into {out.name}…")
        self.progress_bar.setRange(0, 0)
        self.received_label.setText("Connecting…")
        self.rate_label.setText("")
        self.counts_label.setText("")
        self._show_page(_PAGE_PROGRESS)
        return self.start_job(
            pull,
            "export-accounts",
            on_ok=self._on_result,
            on_error=self._on_failed,
            on_cancelled=self._on_cancelled,
        )

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

    def _on_result(self, result: object) -> None:
        assert isinstance(result, ExportResult)
        self.export_result = result
        if result.state is RunState.FINISHED:
            self._show_summary(result)
            return
        self._show_page(_PAGE_OPTIONS)
        if result.state is RunState.CANCELLED:
            self.show_banner(result.message or "Cancelled: nothing changed.", warning=False)
        else:
            self.show_banner(f"The export stopped. {result.message}", warning=True)

    def _on_failed(self, exc: object) -> None:
        assert isinstance(exc, BaseException)
        message = self.error_text(exc)
        self._show_page(_PAGE_OPTIONS)
        self.show_banner(f"The export did not start: {message} Nothing was written.", warning=True)

    def _on_cancelled(self) -> None:
        self._show_page(_PAGE_OPTIONS)
        self.show_banner(
            "Cancelled before anything was pulled: no file was written and the "
            "last sync time is unchanged.",
            warning=False,
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

    # ================================================================== summary
    def _show_summary(self, result: ExportResult) -> None:
        name = result.path.name if result.path else "the file"
        self.summary_title.setText(f"Exported {result.exported:,} accounts to {name}")
        values = {
            "exported": result.exported,
            "duplicates": result.duplicates,
            "filtered": result.filtered_out,
            "unscored": result.unscored,
        }
        for key, value in values.items():
            self.count_labels[key].setText(f"{value:,}")
        self.chart.set_data(
            result.histogram, result.stages, unscored=result.unscored, labels=HISTOGRAM_LABELS
        )
        if result.unscored:
            self.unscored_label.setText(
                f"<b>{result.unscored:,} accounts are not scored yet</b>: all their scores "
                f"are 0 and they have no journey stage. {html.escape(UNSCORED_EXPLANATION)} "
                "They are in the file; the chart counts them apart (grey bar), not in the "
                "score histogram."
            )
            self.unscored_label.show()
        else:
            self.unscored_label.hide()
        self.message_label.setText(result.message)
        has_file = result.path is not None and result.path.exists()
        self.open_button.setEnabled(has_file)
        self.folder_button.setEnabled(has_file)
        self._show_page(_PAGE_SUMMARY)

    def open_file(self) -> None:
        """Open the exported file in its default application."""
        if self.export_result is not None and self.export_result.path is not None:
            self.open_url(QUrl.fromLocalFile(str(self.export_result.path.resolve())))

    def show_in_folder(self) -> None:
        """Open the folder that holds the exported file."""
        if self.export_result is not None and self.export_result.path is not None:
            self.open_url(QUrl.fromLocalFile(str(self.export_result.path.resolve().parent)))

    def new_export(self) -> None:
        """Back to the options page for another export (the mode default is re-read)."""
        self.banner.hide()
        self._load_connection()
        self._show_page(_PAGE_OPTIONS)

    # ================================================================== help
    def help_html(self) -> str:
        """F1 / Help: full vs delta, the sync time, unscored accounts."""
        return export_help_html()
