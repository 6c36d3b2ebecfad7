"""Tools → Backfill external IDs…: give Recotap accounts that have no ID their CRM's ID.

Three steps on one dialog (a stack with a step title, Back and the step's main button):

``list``    the accounts Recotap lists as having no external ID (§9.4), fetched on a
            worker, in a sortable grid, with the count and what the API's
            100-at-a-time listing means; *Find all* pages through every account;
            *Export list…* writes them to CSV/XLSX.
``match``   the CRM export (Choose file… or drop it on the dialog; CSV, TSV, XLSX),
            read on a worker with :func:`~recotap_desktop.engine.backfill.read_crm_file`;
            the columns used for the external ID, domain and company name, detected by
            :func:`~recotap_desktop.engine.backfill.automap_crm` and changeable with
            combo boxes. *Find matches* starts a
            :class:`~recotap_desktop.engine.backfill.BackfillSession` and its first round.
``review``  every proposal with a colour-and-word badge for how it was found, a
            Send checkbox per row, filters (match kind, decision, text), bulk actions and
            a details pane where an ambiguous account gets a candidate chosen by the
            user (or stays skipped: never guessed). *Send…* asks once (with the
            overwrite check) and sends on a worker with progress and Cancel; then
            each row shows Recotap's answer, the run id (an ordinary ``id-mappings``
            run: the history can resume it and save its report), *Save report…*,
            and *Next round* when the listing brings accounts not seen before.

Defaults: domain matches ticked, name matches not (the user ticks them), ambiguous and
unmatched accounts skipped. The GUI thread never waits for the network, the keychain
or a file. Keyboard: every control has a mnemonic; Space ticks the current row of
the grid; Enter runs the step's main button; Esc closes (or asks to stop a running
job); F1 opens the help on the matching rules.
"""

from __future__ import annotations

import html
import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import (
    QDragEnterEvent,
    QDropEvent,
    QFont,
    QKeyEvent,
    QKeySequence,
    QShortcut,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from recotap_desktop.engine.backfill import (
    CRM_FIELD_NAMES,
    REPORT_HEADERS,
    WINDOW,
    BackfillCancelled,
    BackfillError,
    BackfillOptions,
    BackfillSession,
    CrmFile,
    UnmappedListing,
    crm_fields,
    list_unmapped,
    read_crm_file,
)
from recotap_desktop.engine.progress import Phase, ProgressSnapshot
from recotap_desktop.engine.runner import RunResult
from recotap_desktop.engine.states import RunState
from recotap_desktop.files import TableWriter
from recotap_desktop.records import ColumnMapping
from recotap_desktop.records.backfill_match import LEGAL_SUFFIXES, MatchKind, Proposal
from recotap_desktop.ui.backfill_model import (
    COL_CRM,
    COL_CRM_NAME,
    COL_DOMAIN,
    COL_ID,
    COL_MATCH,
    COL_NAME,
    COL_SEND,
    KIND_SYMBOLS,
    KIND_TITLES,
    BadgeDelegate,
    ReviewFilterProxy,
    ReviewModel,
    badge_colors,
)
from recotap_desktop.ui.job_dialog import Banner, JobDialog, follow
from recotap_desktop.ui.messages import describe_error
from recotap_desktop.ui.models import Column, RecordTableModel, make_proxy
from recotap_desktop.ui.services import NoApiKey, Services, host_of
from recotap_desktop.ui.widgets import resize_within_screen, tab_leaves
from recotap_desktop.ui.workers import SignalProgress, Worker

__all__ = ["BackfillDialog", "SendOutcome", "backfill_help_html"]

log = logging.getLogger(__name__)

_PAGE_LIST, _PAGE_MATCH, _PAGE_REVIEW = range(3)
_PAGE_NAMES = ("list", "match", "review")
_STEP_TITLES = (
    "Accounts without an external ID",
    "Match them with a CRM export",
    "Review and send",
)
_NOT_USED = "(not used)"
_CRM_FILTER = "CRM exports (*.csv *.tsv *.txt *.xlsx);;All files (*)"
_CRM_SUFFIXES = {".csv", ".tsv", ".txt", ".xlsx"}
_KIND_FILTERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("All match kinds", ()),
    ("Matched by domain", (MatchKind.DOMAIN.value,)),
    ("Matched by name only", (MatchKind.NAME.value,)),
    ("Ambiguous", (MatchKind.AMBIGUOUS.value,)),
    ("No match", (MatchKind.NONE.value,)),
    ("Domain or name matches", (MatchKind.DOMAIN.value, MatchKind.NAME.value)),
)
_DECISION_FILTERS = (
    ("Every decision", "all"),
    ("Ticked to send", "accepted"),
    ("Skipped", "skipped"),
    ("Sent", "sent"),
    ("Failed or not sent", "failed"),
)
_I = {h: i for i, h in enumerate(REPORT_HEADERS)}


def _hint(text: str = "") -> QLabel:
    """A muted, wrapped line of explanation (the palette's disabled text colour)."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setEnabled(False)
    return label


def window_note() -> str:
    """Plain words on the API's 100-at-a-time listing."""
    return (
        f"Recotap lists at most {WINDOW} accounts without an ID at a time and cannot page "
        "further: once some of them get an ID, the next ones appear. Accounts that cannot "
        "be matched stay at the front of that list, so when the list is full the assistant "
        "looks through every account once (one request per 100 accounts) to find them all."
    )


def backfill_help_html() -> str:
    """The help text of the assistant (F1): the matching rules and the overwrite warning."""
    suffixes = ", ".join(
        sorted(
            s.upper() if len(s) <= 3 else s.capitalize()
            for s in LEGAL_SUFFIXES
            if s
            in {
                "inc",
                "llc",
                "ltd",
                "limited",
                "gmbh",
                "ag",
                "sa",
                "bv",
                "plc",
                "corp",
                "co",
                "pty",
                "ab",
                "oy",
            }
        )
    )
    return f"""
<h3>Backfill external IDs</h3>
<p>Accounts created in Recotap by other means (tracking, enrichment, the web app) have no
<i>external ID</i>: nothing ties them to the accounts of your CRM, so imports by CRM ID
cannot reach them. This assistant finds those accounts, matches them to the rows of an
export from your CRM and writes each row's ID onto its account.</p>
<h4>1. The list</h4>
<p>{html.escape(window_note())}</p>
<h4>2. How accounts are matched</h4>
<ul>
<li><b>{KIND_SYMBOLS["domain"]} Domain</b>: the account's domain equals the domain of a CRM
row once both are <i>normalised</i>: the scheme (<code>https://</code>), <code>www.</code>,
paths, ports and capitals are ignored, so <code>https://www.Acme.com/about</code>,
<code>ACME.COM</code> and <code>www.acme.com</code> are all <code>acme.com</code>. These are
ticked to send.</li>
<li><b>{KIND_SYMBOLS["name"]} Name only</b>: no CRM row has the domain, but a row has the same
company name once case, accents, punctuation and legal suffixes ({html.escape(suffixes)} and
the like) are ignored: <i>Acme, Inc.</i> = <i>ACME GmbH</i> = <i>acme</i>. Different companies
can share a name, so these are <b>not</b> ticked: look at them and tick the right ones.</li>
<li><b>{KIND_SYMBOLS["ambiguous"]} Ambiguous</b>: several CRM rows with different IDs fit (the
same domain or name twice in your CRM), or one CRM row fits several accounts. The assistant
never guesses: select the row and choose the right candidate in <i>Selected account</i>, or
leave it skipped. An ID can go to one account only.</li>
<li><b>{KIND_SYMBOLS["none"]} No match</b>: no CRM row has the domain or the name. Nothing is
sent for these accounts; an account without a domain cannot get an ID here at all, because
IDs are written by domain.</li>
</ul>
<h4>3. Sending</h4>
<p><b>Recotap overwrites an existing external ID without warning.</b> The accounts listed had
no ID when they were listed, but another tool (or a run minutes ago that Recotap has not
shown yet) may have written one since. Before sending, the assistant checks the history of
this connection for IDs earlier runs wrote onto the same domains, tells you how many would
be overwritten and asks once.</p>
<p>Sending is an ordinary <i>ID mappings</i> run: it is in the sync history, can be resumed
if it is cancelled or interrupted, and its report can be saved from there. A domain Recotap
does not find any more (the account was deleted meanwhile) fails on its own row; the others
are written. <i>Save report</i> lists every account with its match, candidates and outcome.</p>
<p>After sending, the assistant asks Recotap for the list again. If it brings accounts not
seen before, <i>Next round</i> adds them to the grid; otherwise the backfill is finished.</p>
<h4>Keyboard</h4>
<p>Space ticks or unticks the current row; Alt+C moves to the candidate list of the selected
account; Enter runs the main button of the step; Esc closes; F1 shows this help.</p>
"""


@dataclass
class SendOutcome:
    """What a send job brings back to the GUI thread."""

    result: RunResult | None
    #: domain -> (row state, message, run id) for the decisions that were sent.
    results: dict[str, tuple[str, str, int | None]] = field(default_factory=dict)
    #: Proposals of the next round (accounts not seen before).
    more: list[Proposal] = field(default_factory=list)
    round_no: int = 0
    finished: bool = False
    blocked: bool = False
    #: Why the next round could not be fetched ("" when it was).
    next_problem: str = ""


class BackfillDialog(JobDialog):
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
    OWN_WORDS = (BackfillError, NoApiKey)

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

        layout = QVBoxLayout(self)
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
        self._show_page(_PAGE_LIST)
        resize_within_screen(self, 1000, 680)
        if not self._problem:
            self.refresh_list()

    # ================================================================== building
    def _build_list_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        intro = QLabel(
            "These accounts exist in Recotap but carry no external ID, so imports keyed by "
            "your CRM's IDs cannot reach them. Next, match them with an export from your CRM."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.list_count_label = QLabel("Asking Recotap…")
        self.list_count_label.setObjectName("unmapped-count")
        bold = QFont(self.font())
        bold.setBold(True)
        self.list_count_label.setFont(bold)
        self.list_count_label.setWordWrap(True)
        layout.addWidget(self.list_count_label)
        self.list_note = _hint(window_note())
        layout.addWidget(self.list_note)

        self.unmapped_model: RecordTableModel[Any] = RecordTableModel(
            [
                Column("Company name", lambda a: str(a.name or "")),
                Column("Domain", lambda a: str(a.domain or "")),
            ],
            self,
        )
        self.unmapped_proxy = make_proxy(self.unmapped_model, self)
        self.unmapped_view = tab_leaves(QTableView())
        self.unmapped_view.setObjectName("unmapped-view")
        self.unmapped_view.setModel(self.unmapped_proxy)
        self.unmapped_view.setSortingEnabled(True)
        self.unmapped_view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.unmapped_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.unmapped_view.setAlternatingRowColors(True)
        self.unmapped_view.verticalHeader().hide()
        self.unmapped_view.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.Stretch
        )
        self.unmapped_view.horizontalHeader().setSectionResizeMode(
            1, QHeaderView.ResizeMode.Stretch
        )
        self.unmapped_view.setAccessibleName("Accounts without an external ID")
        layout.addWidget(self.unmapped_view, 1)

        row = QHBoxLayout()
        self.refresh_button = QPushButton("&Refresh")
        self.refresh_button.setAutoDefault(False)
        self.refresh_button.clicked.connect(lambda: self.refresh_list())
        self.find_all_button = QPushButton("Find &all (look through every account)")
        self.find_all_button.setAutoDefault(False)
        self.find_all_button.setToolTip(
            "Pages once through every account of the workspace "
            "(one request per 100 accounts) to list them all."
        )
        self.find_all_button.clicked.connect(lambda: self.refresh_list(scan=True))
        self.export_list_button = QPushButton("&Export list…")
        self.export_list_button.setAutoDefault(False)
        self.export_list_button.clicked.connect(self.choose_export_list)
        self.list_status = _hint()
        self.list_status.setObjectName("list-status")
        row.addWidget(self.refresh_button)
        row.addWidget(self.find_all_button)
        row.addWidget(self.list_status, 1)
        row.addWidget(self.export_list_button)
        layout.addLayout(row)
        return page

    def _build_match_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        intro = QLabel(
            "Choose an export of your CRM's companies (CSV, TSV or Excel) with their IDs and "
            "domains or names, or drop the file on this window. Nothing is sent in this step."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)

        file_row = QHBoxLayout()
        file_label = QLabel("CRM &file:")
        self.crm_edit = QLineEdit()
        self.crm_edit.setObjectName("crm-path")
        self.crm_edit.setPlaceholderText("A .csv, .tsv or .xlsx export of your CRM's companies")
        self.crm_edit.setAccessibleName("CRM file")
        self.crm_edit.returnPressed.connect(self._crm_path_entered)
        file_label.setBuddy(self.crm_edit)
        self.crm_browse = QPushButton("&Choose file…")
        self.crm_browse.setAutoDefault(False)
        self.crm_browse.clicked.connect(self.choose_crm_file)
        file_row.addWidget(file_label)
        file_row.addWidget(self.crm_edit, 1)
        file_row.addWidget(self.crm_browse)
        layout.addLayout(file_row)

        box = QGroupBox("Columns used")
        form = QFormLayout(box)
        self.sheet_combo = QComboBox()
        self.sheet_combo.setAccessibleName("Sheet")
        self.sheet_combo.activated.connect(lambda *_: self._reread())
        self.sheet_label = QLabel("S&heet:")
        self.sheet_label.setBuddy(self.sheet_combo)
        form.addRow(self.sheet_label, self.sheet_combo)
        self.column_combos: dict[str, QComboBox] = {}
        mnemonics = {"externalId": "External &ID", "domain": "&Domain", "name": "Company &name"}
        tips = {f.name: f.help for f in crm_fields()}
        for name in CRM_FIELD_NAMES:
            combo = QComboBox()
            combo.setObjectName(f"column-{name}")
            combo.setAccessibleName(mnemonics[name].replace("&", "") + " column")
            combo.setToolTip(tips.get(name, ""))
            combo.activated.connect(lambda *_: self._reread())
            label = QLabel(mnemonics[name] + ":")
            label.setBuddy(combo)
            form.addRow(label, combo)
            self.column_combos[name] = combo
        self.columns_hint = _hint("Choose a file to see its columns.")
        form.addRow(self.columns_hint)
        layout.addWidget(box)

        self.crm_summary = QLabel("")
        self.crm_summary.setObjectName("crm-summary")
        self.crm_summary.setWordWrap(True)
        self.crm_summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.crm_summary)

        self.scan_check = QCheckBox(
            f"&Look through every account when Recotap's list is full ({WINDOW} accounts)"
        )
        self.scan_check.setChecked(True)
        self.scan_check.setToolTip(window_note())
        layout.addWidget(self.scan_check)
        layout.addWidget(
            _hint(
                "Matching: same domain first (www., https:// and capitals "
                "ignored), then same company name (legal suffixes such as "
                "Inc, Ltd or GmbH ignored). Ambiguous cases are never guessed. "
                "F1 explains the rules."
            )
        )
        layout.addStretch(1)
        self._set_columns_enabled(False)
        return page

    def _build_review_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        self.kinds_label = QLabel()
        self.kinds_label.setObjectName("kinds-summary")
        self.kinds_label.setWordWrap(True)
        self.kinds_label.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.kinds_label)
        layout.addLayout(self._build_review_filters(page))
        self.review_model = ReviewModel(self)
        self.review_proxy = ReviewFilterProxy(self)
        self.review_proxy.setSourceModel(self.review_model)
        self.kind_filter.currentIndexChanged.connect(
            lambda i: self.review_proxy.set_kinds(_KIND_FILTERS[i][1])
        )
        self.decision_filter.currentIndexChanged.connect(
            lambda i: self.review_proxy.set_decision(_DECISION_FILTERS[i][1])
        )
        self.search_edit.textChanged.connect(self.review_proxy.set_text)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self._build_review_view())
        splitter.addWidget(self._build_review_details())
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 0)
        splitter.setCollapsible(0, False)
        layout.addWidget(splitter, 1)
        layout.addLayout(self._build_review_bulk())
        self.decision_label = QLabel("")
        self.decision_label.setObjectName("decision-summary")
        self.decision_label.setWordWrap(True)
        layout.addWidget(self.decision_label)
        self.result_label = QLabel("")
        self.result_label.setObjectName("send-result")
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result_label.hide()
        layout.addWidget(self.result_label)
        return page

    def _build_review_filters(self, page: QWidget) -> QHBoxLayout:
        """Which proposals are shown: by match kind, by decision, by text (Ctrl+F)."""
        filters = QHBoxLayout()
        self.kind_filter = QComboBox()
        self.kind_filter.setObjectName("kind-filter")
        for title, _kinds in _KIND_FILTERS:
            self.kind_filter.addItem(title)
        self.kind_filter.setAccessibleName("Show match kind")
        kind_label = QLabel("Sho&w:")
        kind_label.setBuddy(self.kind_filter)
        self.decision_filter = QComboBox()
        self.decision_filter.setObjectName("decision-filter")
        for title, _key in _DECISION_FILTERS:
            self.decision_filter.addItem(title)
        self.decision_filter.setAccessibleName("Show decision")
        self.search_edit = QLineEdit()
        self.search_edit.setObjectName("review-search")
        self.search_edit.setPlaceholderText("Search name, domain, CRM ID…")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setAccessibleName("Search")
        QShortcut(
            QKeySequence(QKeySequence.StandardKey.Find),
            page,
            lambda: self.search_edit.setFocus(Qt.FocusReason.ShortcutFocusReason),
        )
        filters.addWidget(kind_label)
        filters.addWidget(self.kind_filter)
        filters.addWidget(self.decision_filter)
        filters.addWidget(self.search_edit, 1)
        return filters

    def _build_review_view(self) -> QTableView:
        """The grid of proposed mappings (sorted, one row selected at a time)."""
        self.review_view = tab_leaves(_ReviewView(self))
        self.review_view.setObjectName("review-view")
        self.review_view.setModel(self.review_proxy)
        self.review_view.setItemDelegateForColumn(COL_MATCH, BadgeDelegate(self.review_view))
        self.review_view.setSortingEnabled(True)
        self.review_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.review_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.review_view.setAlternatingRowColors(True)
        self.review_view.setWordWrap(False)
        self.review_view.verticalHeader().hide()
        self.review_view.setAccessibleName("Proposed mappings")
        header = self.review_view.horizontalHeader()
        header.setStretchLastSection(True)
        for col, mode in (
            (COL_SEND, QHeaderView.ResizeMode.ResizeToContents),
            (COL_MATCH, QHeaderView.ResizeMode.ResizeToContents),
            (COL_NAME, QHeaderView.ResizeMode.Interactive),
            (COL_DOMAIN, QHeaderView.ResizeMode.Interactive),
            (COL_ID, QHeaderView.ResizeMode.Interactive),
            (COL_CRM_NAME, QHeaderView.ResizeMode.Interactive),
            (COL_CRM, QHeaderView.ResizeMode.ResizeToContents),
        ):
            header.setSectionResizeMode(col, mode)
        header.resizeSection(COL_NAME, 200)
        header.resizeSection(COL_DOMAIN, 160)
        header.resizeSection(COL_ID, 110)
        header.resizeSection(COL_CRM_NAME, 250)
        self.review_view.verticalHeader().setDefaultSectionSize(
            self.review_view.fontMetrics().height() + 10
        )
        self.review_view.selectionModel().currentRowChanged.connect(lambda *_: self._show_details())
        self.review_model.dataChanged.connect(lambda *_: self._show_details(rebuild=False))
        self.review_model.modelReset.connect(lambda: self._show_details())
        self.review_model.decisionsChanged.connect(self._update_decision_summary)
        self.review_model.choiceNeeded.connect(self._choice_needed)
        return self.review_view

    def _build_review_details(self) -> QGroupBox:
        """The selected account: why it was proposed, and its candidate CRM rows."""
        details = QGroupBox("Selected account")
        details_layout = QVBoxLayout(details)
        self.details_title = QLabel("")
        self.details_title.setObjectName("details-title")
        self.details_title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details_reason = QLabel("")
        self.details_reason.setObjectName("details-reason")
        self.details_reason.setWordWrap(True)
        self.details_reason.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        choice_row = QHBoxLayout()
        self.candidate_combo = QComboBox()
        self.candidate_combo.setObjectName("candidate-combo")
        self.candidate_combo.setAccessibleName("Candidate CRM row")
        self.candidate_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.candidate_combo.setMinimumContentsLength(40)
        self.candidate_combo.activated.connect(self._candidate_chosen)
        candidate_label = QLabel("&Candidate:")
        candidate_label.setBuddy(self.candidate_combo)
        choice_row.addWidget(candidate_label)
        choice_row.addWidget(self.candidate_combo, 1)
        details_layout.addWidget(self.details_title)
        details_layout.addWidget(self.details_reason)
        details_layout.addLayout(choice_row)
        return details

    def _build_review_bulk(self) -> QHBoxLayout:
        """Tick or skip many proposals at once."""
        bulk = QHBoxLayout()
        self.accept_domain_button = QPushButton("Tick all &domain matches")
        self.accept_domain_button.clicked.connect(
            lambda: self.review_model.accept_kind(MatchKind.DOMAIN)
        )
        self.accept_name_button = QPushButton("Tick all &name matches")
        self.accept_name_button.setToolTip("Name matches are a weaker guess: look at them first.")
        self.accept_name_button.clicked.connect(
            lambda: self.review_model.accept_kind(MatchKind.NAME)
        )
        self.skip_all_button = QPushButton("S&kip all")
        self.skip_all_button.clicked.connect(self.review_model.skip_all)
        self.invert_button = QPushButton("In&vert")
        self.invert_button.setToolTip(
            "Ticked rows are skipped and skipped domain/name matches "
            "ticked. Ambiguous accounts are never ticked by this."
        )
        self.invert_button.clicked.connect(self.review_model.invert)
        self.bulk_buttons = (
            self.accept_domain_button,
            self.accept_name_button,
            self.skip_all_button,
            self.invert_button,
        )
        for button in self.bulk_buttons:
            button.setAutoDefault(False)
            bulk.addWidget(button)
        bulk.addStretch(1)
        return bulk

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
        self.next_button.clicked.connect(lambda: self._show_page(_PAGE_MATCH))
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

    def banner_text(self) -> str:
        """The banner's message ("" when hidden)."""
        return self.banner.message()

    def show_banner(self, text: str) -> None:
        """Show a message above the pages (errors, cancellations)."""
        self.banner.show_message(text, warning=True)

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
        if page == _PAGE_MATCH and not self.crm_edit.text():
            self.crm_browse.setFocus()
        elif page == _PAGE_REVIEW:
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
        self.back_button.setVisible(page != _PAGE_LIST)
        self.back_button.setEnabled(not busy)
        self.next_button.setVisible(page == _PAGE_LIST)
        self.next_button.setEnabled(ok and not busy)
        self.match_button.setVisible(page == _PAGE_MATCH)
        self.match_button.setEnabled(ok and not busy and self.crm is not None)
        self.send_button.setVisible(page == _PAGE_REVIEW)
        n = len(self.review_model.decisions()) if page == _PAGE_REVIEW else 0
        self.send_button.setText(f"&Send {n:,} ID{'s' if n != 1 else ''}…")
        self.send_button.setEnabled(ok and not busy and self.session is not None and n > 0)
        self.report_button.setVisible(page == _PAGE_REVIEW)
        self.report_button.setEnabled(not busy and self.session is not None)
        self.next_round_button.setVisible(page == _PAGE_REVIEW and bool(self.pending))
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
            _PAGE_LIST: self.next_button,
            _PAGE_MATCH: self.match_button,
            _PAGE_REVIEW: self.send_button,
        }[page]
        for button in (self.next_button, self.match_button, self.send_button):
            button.setDefault(button is default)

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

    # ================================================================== step 1: list
    def refresh_list(self, scan: bool = False) -> Worker | None:
        """Fetch the accounts without an external ID (``scan``: page through all)."""
        if self.running or self._problem:
            return None
        profile = self.profile
        assert profile is not None
        services = self._services
        client_kwargs = dict(self._client_kwargs)

        def fetch(progress: SignalProgress) -> UnmappedListing:  # worker thread
            spec = services.connection_spec(profile)
            with spec.open(cancel_event=progress.stop_event, **client_kwargs) as client:
                return list_unmapped(client, scan=scan, progress=progress, cancel=progress.token)

        self.list_count_label.setText("Asking Recotap…")
        text = (
            "Looking through every account…"
            if scan
            else "Asking Recotap for accounts without an external ID…"
        )
        return self._start(fetch, "list-unmapped", text, self._on_listing)

    def _on_listing(self, listing: object) -> None:
        assert isinstance(listing, UnmappedListing)
        self.listing = listing
        self.unmapped_model.set_rows(listing.accounts)
        n = len(listing.accounts)
        if not n:
            text = "Every account in Recotap has an external ID: nothing to backfill."
        elif listing.scanned:
            text = (
                f"{n:,} accounts have no external ID (found by looking through all "
                f"{listing.scanned_accounts:,} accounts)."
            )
        elif listing.complete:
            text = f"{n:,} account{'s have' if n != 1 else ' has'} no external ID."
        else:
            text = (
                f"At least {n:,} accounts have no external ID: Recotap shows {WINDOW} at "
                "a time, maybe more are waiting. Find all lists every one."
            )
        self.list_count_label.setText(text)

    def export_list(self, path: Path) -> Worker:
        """Write the listed accounts (name, domain) to ``path`` (CSV or XLSX)."""
        accounts = list(self.unmapped_model.rows)

        def write(progress: SignalProgress) -> int:
            with TableWriter.open(path, ["name", "domain"]) as writer:
                for acc in accounts:
                    writer.write_row([acc.name, acc.domain])
            return len(accounts)

        def done(n: object) -> None:
            self.list_status.setText(f"Saved {n:,} accounts to {path.name}.")

        return self._start(write, "export-unmapped", f"Writing {path.name}…", done)

    def choose_export_list(self) -> None:
        """Export list…: choose a CSV/XLSX file and write the list."""
        path = self._save_path(
            "Export the accounts without an external ID", "accounts-without-external-id.xlsx"
        )
        if path is not None:
            self.export_list(path)

    # ================================================================== step 2: match
    def choose_crm_file(self) -> None:
        """Choose file…: pick the CRM export and read it."""
        start = str(self.last_folder())
        chosen, _ = QFileDialog.getOpenFileName(
            self, "CRM export with account IDs", start, _CRM_FILTER
        )
        if chosen:
            self.load_crm(Path(chosen))

    def _crm_path_entered(self) -> None:
        text = self.crm_edit.text().strip()
        if text:
            self.load_crm(Path(text).expanduser())

    def load_crm(
        self, path: Path, *, mapping: ColumnMapping | None = None, sheet: str | None = None
    ) -> Worker | None:
        """Read the CRM export ``path`` on a worker (columns detected unless ``mapping``)."""
        if self.running:
            return None
        self.crm_path = path
        self.crm = None
        if self.crm_edit.text() != str(path):
            self.crm_edit.setText(str(path))
        self.crm_summary.setText(f"Reading {path.name}…")
        new_file = mapping is None and sheet is None

        def read(progress: SignalProgress) -> CrmFile:
            return read_crm_file(path, mapping=mapping, sheet=sheet, cancel=progress.token)

        def done(crm: object) -> None:
            assert isinstance(crm, CrmFile)
            self.crm = crm
            self.remember_folder(path.parent)
            self._fill_columns(crm.source.headers, crm.mapping, crm.source.sheets, crm.source.sheet)
            how = (
                "detected automatically; change them if one is wrong"
                if crm.automapped
                else "as chosen"
            )
            self.columns_hint.setText(f"Columns {how}.")
            self.crm_summary.setText(f"{path.name}: {crm.summary()}.")
            self._update_buttons()

        return self._start(
            read,
            "read-crm",
            f"Reading {path.name}…",
            done,
            on_error=lambda exc: self._crm_failed(exc, new_file),
        )

    def _crm_failed(self, exc: object, new_file: bool) -> None:
        self.crm = None
        self.crm_summary.setText("The file cannot be used: " + self.error_text(exc))
        if new_file:
            self._fill_columns([], ColumnMapping(), [], None)

    def _fill_columns(
        self,
        headers: Sequence[str],
        mapping: ColumnMapping,
        sheets: Sequence[str],
        sheet: str | None,
    ) -> None:
        for name, combo in self.column_combos.items():
            combo.blockSignals(True)
            combo.clear()
            if headers:
                combo.addItem(_NOT_USED, "")
                for h in headers:
                    combo.addItem(h, h)
                combo.setCurrentIndex(max(0, combo.findData(mapping.columns.get(name, ""))))
            combo.blockSignals(False)
        self.sheet_combo.blockSignals(True)
        self.sheet_combo.clear()
        self.sheet_combo.addItems(list(sheets))
        if sheet:
            self.sheet_combo.setCurrentText(sheet)
        self.sheet_combo.blockSignals(False)
        many = len(sheets) > 1
        self.sheet_combo.setVisible(many)
        self.sheet_label.setVisible(many)

    def _set_columns_enabled(self, enabled: bool) -> None:
        for combo in (*self.column_combos.values(), self.sheet_combo):
            combo.setEnabled(enabled)

    def column_mapping(self) -> ColumnMapping:
        """The CRM columns chosen in the combo boxes."""
        columns = {
            name: str(combo.currentData() or "") for name, combo in self.column_combos.items()
        }
        return ColumnMapping(columns={k: v for k, v in columns.items() if v})

    def set_column(self, field_name: str, header: str) -> Worker | None:
        """Use ``header`` for ``field_name`` (externalId, domain or name; "" for none)."""
        combo = self.column_combos[field_name]
        combo.setCurrentIndex(max(0, combo.findData(header)))
        return self._reread()

    def _reread(self) -> Worker | None:
        if self.crm_path is None or self.running:
            return None
        sheet = self.sheet_combo.currentText() if self.sheet_combo.count() > 1 else None
        return self.load_crm(self.crm_path, mapping=self.column_mapping(), sheet=sheet)

    def find_matches(self) -> Worker | None:
        """Find matches: start a backfill session and its first round on a worker."""
        if self.running or self.crm is None or self._problem:
            return None
        profile, history = self.profile, self._services.history
        assert profile is not None and history is not None
        services, crm = self._services, self.crm
        client_kwargs = dict(self._client_kwargs)
        options = BackfillOptions(scan=self.scan_check.isChecked())
        data_dir = services.paths.data_dir

        def start(progress: SignalProgress) -> tuple[BackfillSession, list[Proposal]]:
            spec = services.connection_spec(profile)
            session = BackfillSession(
                spec,
                crm,
                history,
                data_dir,
                options=options,
                progress=progress,
                cancel=progress.token,
                client_kwargs=client_kwargs,
            )
            return session, session.next_round()

        return self._start(
            start, "backfill-match", "Listing accounts and matching them…", self._on_matched
        )

    def _on_matched(self, payload: object) -> None:
        assert isinstance(payload, tuple)
        session: BackfillSession = payload[0]
        proposals: list[Proposal] = payload[1]
        self.session = session
        self.pending = []
        self.result_label.hide()
        self.review_model.set_proposals(proposals, session.rounds)
        self.review_view.sortByColumn(COL_NAME, Qt.SortOrder.AscendingOrder)
        self._update_kinds()
        if not proposals:
            self.result_label.setText(
                "Every account in Recotap has an external ID: nothing to backfill."
            )
            self.result_label.show()
        self._show_page(_PAGE_REVIEW)
        self._select_first()

    # ================================================================== step 3: review
    def _update_kinds(self) -> None:
        counts = self.review_model.counts()
        palette = self.palette()
        parts = []
        for kind in MatchKind:
            bg, fg = badge_colors(kind.value, palette)
            parts.append(
                f"<span style='background-color:{bg.name()}; color:{fg.name()};'>"
                f"&nbsp;{KIND_SYMBOLS[kind.value]}&nbsp;{KIND_TITLES[kind.value]}&nbsp;</span>"
                f"&nbsp;<b>{counts[kind.value]:,}</b>"
            )
        session = self.session
        where = ""
        if session is not None:
            if session.scanned:
                where = f" (found by looking through all {session.scanned_accounts:,} accounts)"
            elif not session.listing_complete:
                where = f" (Recotap lists {WINDOW} at a time: more may follow in later rounds)"
        total = sum(counts.values())
        self.kinds_label.setText(
            f"{total:,} accounts without an external ID{html.escape(where)}: "
            + " &nbsp; ".join(parts)
        )

    def _update_decision_summary(self) -> None:
        acc = self.review_model.accepted_counts()
        n = sum(acc.values())
        if not self.review_model.rows:
            self.decision_label.setText("")
        elif not n:
            self.decision_label.setText("Nothing ticked to send.")
        else:
            parts = [f"{acc['domain']:,} by domain", f"{acc['name']:,} by name"]
            if acc["ambiguous"]:
                parts.append(f"{acc['ambiguous']:,} chosen among candidates")
            text = f"Ticked to send: {n:,} IDs ({', '.join(parts)})."
            if self.session is not None and not self.running:
                check = self.session.overwrite_check(self.review_model.decisions())
                text += (
                    f" {check.count:,} would overwrite an ID an earlier run wrote."
                    if check.count
                    else " None would overwrite an ID written earlier."
                )
            self.decision_label.setText(text)
        self._update_buttons()

    def _select_first(self) -> None:
        if self.review_proxy.rowCount():
            self.review_view.setCurrentIndex(self.review_proxy.index(0, COL_SEND))
        self._show_details()

    def current_source_row(self) -> int | None:
        """The source row of the grid's current row, if any."""
        index = self.review_view.currentIndex()
        if not index.isValid():
            return None
        return self.review_proxy.mapToSource(index).row()

    def select_domain(self, domain: str) -> bool:
        """Make the account with ``domain`` the current row (clears filters if needed)."""
        row = self.review_model.find_domain(domain)
        if row < 0:
            return False
        proxy_index = self.review_proxy.mapFromSource(self.review_model.index(row, COL_SEND))
        if not proxy_index.isValid():
            self.kind_filter.setCurrentIndex(0)
            self.decision_filter.setCurrentIndex(0)
            self.search_edit.clear()
            proxy_index = self.review_proxy.mapFromSource(self.review_model.index(row, COL_SEND))
        self.review_view.selectionModel().setCurrentIndex(
            proxy_index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.review_view.scrollTo(proxy_index)
        return True

    def _candidate_row(self) -> int | None:
        row = self.current_source_row()
        if row is None or not self.review_model.editable(row):
            return None
        return row

    def _show_details(self, rebuild: bool = True) -> None:
        """Fill the details pane for the current row. ``rebuild=False`` (a decision
        changed) keeps the candidate list of the same row and only updates its choice."""
        row = self.current_source_row()
        combo = self.candidate_combo
        if row is None:
            self._details_row = None
            self.details_title.setText("Select a row to see how it was matched.")
            self.details_reason.setText("")
            combo.clear()
            combo.setEnabled(False)
            return
        r = self.review_model.row(row)
        p = r.proposal
        self.details_title.setText(
            f"<b>{html.escape(p.name or '(no name)')}</b> · {html.escape(p.domain or 'no domain')}"
            f" · {KIND_SYMBOLS[p.match.value]} {KIND_TITLES[p.match.value]}"
        )
        reason = p.reason
        if p.previous_external_id:
            reason += (
                f" An earlier run of this connection wrote the ID "
                f"{p.previous_external_id} onto this domain."
            )
        if r.sent:
            reason += f" Sent: {r.state}" + (f" ({r.message})" if r.message else "") + "."
        self.details_reason.setText(reason)
        combo.blockSignals(True)
        if rebuild or row != self._details_row:
            combo.clear()
            if p.candidates:
                combo.addItem("Skip: send nothing for this account", -1)
                for i, c in enumerate(p.candidates):
                    combo.addItem(
                        f"Row {c.crm_row:,}: ID {c.external_id} · "
                        f"{c.name or '(no name)'} · {c.domain or 'no domain'}",
                        i,
                    )
            else:
                combo.addItem("No CRM row to choose from", -1)
        if p.candidates:
            combo.setCurrentIndex(0 if r.choice is None else r.choice + 1)
        combo.blockSignals(False)
        self._details_row = row
        combo.setEnabled(self.review_model.editable(row))

    def _candidate_chosen(self, index: int) -> None:
        row = self._candidate_row()
        if row is None:
            return
        data = self.candidate_combo.itemData(index)
        choice = int(data) if isinstance(data, int) else -1
        self.review_model.set_choice(row, None if choice < 0 else choice)

    def choose_candidate(self, domain: str, external_id: str | None) -> bool:
        """Choose the candidate with ``external_id`` for ``domain`` (``None``: skip)."""
        row = self.review_model.find_domain(domain)
        if row < 0:
            return False
        cands = self.review_model.row(row).proposal.candidates
        if external_id is None:
            return self.review_model.set_choice(row, None)
        for i, c in enumerate(cands):
            if c.external_id == external_id:
                return self.review_model.set_choice(row, i)
        return False

    def _choice_needed(self, row: int) -> None:
        # Ticking an ambiguous account: never guess, point at the candidates instead.
        domain = self.review_model.row(row).proposal.domain
        self.select_domain(domain)
        self.details_reason.setText(
            self.details_reason.text() + " Choose the right CRM row under Candidate to send it."
        )
        self.candidate_combo.setFocus(Qt.FocusReason.OtherFocusReason)

    def toggle_current(self) -> None:
        """Space in the grid: tick or untick the current row."""
        row = self.current_source_row()
        if row is None or not self.review_model.editable(row):
            return
        index = self.review_model.index(row, COL_SEND)
        checked = self.review_model.data(index, Qt.ItemDataRole.CheckStateRole)
        new = Qt.CheckState.Unchecked if checked == Qt.CheckState.Checked else Qt.CheckState.Checked
        self.review_model.setData(index, new, Qt.ItemDataRole.CheckStateRole)

    # ------------------------------------------------------------------ sending
    def send(self) -> QMessageBox | None:
        """Send…: check the ticked mappings, ask once (overwrite check), then send."""
        session = self.session
        if self.running or session is None or self.confirm_box is not None:
            return None
        decisions = self.review_model.decisions()
        if not decisions:
            return None
        problems = session.check(decisions)
        if problems:
            shown = "\n".join(f"- {p}" for p in problems[:10])
            self.show_banner(f"These mappings cannot be sent; change them first:\n{shown}")
            return None
        check = session.overwrite_check(decisions)
        kinds = Counter(d.match.value for d in decisions)
        host = host_of(self.profile) if self.profile else ""
        profile = self.profile.name if self.profile else ""
        text = f"Write {len(decisions):,} external IDs onto Recotap accounts at {host} ({profile})?"
        info = (
            f"{kinds.get('domain', 0):,} matched by domain, {kinds.get('name', 0):,} by "
            f"name, {kinds.get('ambiguous', 0):,} chosen among candidates.\n\n"
            f"{check.message()}"
        )
        box = QMessageBox(
            QMessageBox.Icon.Warning if check.count else QMessageBox.Icon.Question,
            "Send external IDs?",
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        box.setInformativeText(info)
        if check.count:
            box.setDetailedText(
                "\n".join(f"{dom}: {old} -> {new}" for dom, old, new in check.overwrites)
            )
        yes = box.button(QMessageBox.StandardButton.Yes)
        yes.setText(f"Send {len(decisions):,} IDs")
        box.button(QMessageBox.StandardButton.No).setText("Not now")
        box.setDefaultButton(
            QMessageBox.StandardButton.No if check.count else QMessageBox.StandardButton.Yes
        )
        box.setEscapeButton(QMessageBox.StandardButton.No)
        self.confirm_box = box

        def answered(button: int) -> None:
            self.confirm_box = None
            if button == QMessageBox.StandardButton.Yes:
                self._send(decisions)

        box.finished.connect(answered)
        box.open()
        return box

    def _send(self, decisions: list[Any]) -> Worker | None:
        session = self.session
        if session is None or self.running:
            return None
        domains = {d.domain for d in decisions}
        host = host_of(self.profile) if self.profile else ""

        def run(progress: SignalProgress) -> SendOutcome:  # worker thread
            session.progress = progress
            session.cancel = progress.token
            result = session.send(decisions)
            out = SendOutcome(result)
            for row in session.report_rows():
                dom = str(row[_I["recotap_domain"]])
                state = str(row[_I["recotap_state"]])
                if dom in domains and state != "skipped":
                    run_id = row[_I["recotap_run"]]
                    out.results[dom] = (
                        state,
                        str(row[_I["recotap_message"]]),
                        int(run_id) if isinstance(run_id, int) else None,
                    )
            if result is not None and result.state is RunState.FINISHED:
                progress.note("Asking Recotap for accounts not seen yet…")
                try:
                    out.more = session.next_round()
                except Exception as exc:  # the send itself succeeded: keep its results
                    out.next_problem = (
                        exc.message if isinstance(exc, BackfillError) else describe_error(exc, host)
                    )
            out.round_no = session.rounds
            out.finished = session.finished
            out.blocked = session.blocked
            return out

        return self._start(
            run,
            "backfill-send",
            f"Sending {len(decisions):,} mappings…",
            self._on_sent,
            stop_text="S&top sending",
        )

    def _on_sent(self, payload: object) -> None:
        assert isinstance(payload, SendOutcome)
        result = payload.result
        self.review_model.apply_results(payload.results)
        if result is not None:
            self.runs.append(result)
        if payload.more:
            self.pending = list(payload.more)
            self._pending_round = payload.round_no
        lines = []
        if result is not None:
            counts = ", ".join(f"{n:,} {s}" for s, n in sorted(result.counts.items()) if n)
            verb = {
                RunState.FINISHED: "finished",
                RunState.CANCELLED: "was cancelled",
                RunState.INTERRUPTED: "was interrupted",
                RunState.ABORTED: "stopped",
            }.get(result.state, str(result.state))
            lines.append(
                f"Run {result.run_id} (ID mappings) {verb}: {counts or 'nothing sent'}."
                " It is in the sync history like any run: resume it or save its "
                "report from there."
            )
            if result.state is not RunState.FINISHED and result.message:
                lines.append(result.message)
            failed = sum(n for s, n in result.counts.items() if s == "failed")
            if failed:
                lines.append(f"{failed:,} failed: see the Result column (filter: Failed).")
        lines.append(self._round_text(payload))
        self.result_label.setText("\n".join(x for x in lines if x))
        self.result_label.show()
        self._update_kinds()
        self._update_buttons()

    def _round_text(self, payload: SendOutcome) -> str:
        if payload.next_problem:
            return f"Could not ask Recotap for more accounts: {payload.next_problem}"
        if payload.more:
            return (
                f"Recotap now lists {len(payload.more):,} more accounts without an "
                "external ID: Next round adds them to the grid."
            )
        if payload.blocked:
            return (
                f"Finished, but more accounts may be hidden: Recotap lists {WINDOW} at a "
                "time and the first ones could not be matched. Go back and tick “Look "
                "through every account” to find them."
            )
        if payload.finished:
            return "Finished: Recotap lists no account that was not reviewed here."
        return ""

    def next_round(self) -> None:
        """Next round: add the accounts the last listing brought to the grid."""
        if self.running or not self.pending:
            return
        first = self.review_model.append_proposals(self.pending, self._pending_round)
        n = len(self.pending)
        self.pending = []
        self._update_kinds()
        self.result_label.setText(
            f"Round {self._pending_round}: {n:,} more accounts added (domain matches ticked)."
        )
        domain = self.review_model.row(first).proposal.domain
        if domain:
            self.select_domain(domain)
        self._update_buttons()

    # ------------------------------------------------------------------ report
    def save_report(self, path: Path) -> Worker | None:
        """Write the session's report (every account, match, candidates, outcome)."""
        session = self.session
        if session is None:
            return None

        def write(progress: SignalProgress) -> int:
            return session.write_report(path)

        def done(n: object) -> None:
            self.result_label.setText(
                (self.result_label.text() + "\n").lstrip()
                + f"Report saved: {path} ({n:,} accounts)."
            )
            self.result_label.show()

        return self._start(write, "backfill-report", f"Writing {path.name}…", done)

    def choose_report(self) -> None:
        """Save report…: choose a CSV/XLSX file."""
        path = self._save_path("Save the backfill report", "backfill-report.xlsx")
        if path is not None:
            self.save_report(path)

    # ================================================================== files, help, closing
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
        self._show_page(_PAGE_MATCH)
        self.load_crm(path)

    @staticmethod
    def _dropped_file(urls: Sequence[Any]) -> Path | None:
        for url in urls:
            if url.isLocalFile():
                path = Path(url.toLocalFile())
                if path.suffix.lower() in _CRM_SUFFIXES:
                    return path
        return None

    def help_html(self) -> str:
        """F1 / Help: the matching rules, ambiguity, the overwrite warning."""
        return backfill_help_html()


class _ReviewView(QTableView):
    """The review grid: Space ticks/unticks the current row, whatever the column."""

    def __init__(self, dialog: BackfillDialog) -> None:
        super().__init__()
        self._dialog = dialog

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Space, Qt.Key.Key_Select) and not event.modifiers():
            self._dialog.toggle_current()
            event.accept()
            return
        super().keyPressEvent(event)
