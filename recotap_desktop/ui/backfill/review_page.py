"""Step 3 of the backfill assistant, the review: every proposal with a colour-and-word
badge for how it was found, a Send checkbox per row, filters (match kind, decision,
text), bulk actions and a details pane where an ambiguous account gets a candidate
chosen by the user (or stays skipped: never guessed). Space ticks the current row."""

from __future__ import annotations

import html

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from recotap_desktop.engine.backfill import WINDOW, BackfillSession
from recotap_desktop.records.backfill_match import MatchKind, Proposal
from recotap_desktop.ui.backfill.base import PAGE_REVIEW, BackfillBase
from recotap_desktop.ui.backfill.model import (
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
from recotap_desktop.ui.widgets import tab_leaves

__all__ = ["ReviewPage"]

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


class ReviewPage(BackfillBase):
    """The review step: its page, the grid's selection, details and decisions."""

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
        self._show_page(PAGE_REVIEW)
        self._select_first()

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


class _ReviewView(QTableView):
    """The review grid: Space ticks/unticks the current row, whatever the column."""

    def __init__(self, dialog: ReviewPage) -> None:
        super().__init__()
        self._dialog = dialog

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Space, Qt.Key.Key_Select) and not event.modifiers():
            self._dialog.toggle_current()
            event.accept()
            return
        super().keyPressEvent(event)
