"""Qt item models of the external-ID backfill assistant (review grid, badges, filter).

:class:`ReviewModel` holds one :class:`ReviewRow` per proposal (compact: the engine's
frozen :class:`~recotap_desktop.records.backfill_match.Proposal`, the user's choice and,
once sent, the row's result). The user's decision is ``choice``: ``None`` means skip,
otherwise the index of the chosen candidate. Defaults follow the matching rules:
domain matches are accepted, name matches wait for a tick, ambiguous and unmatched
accounts are skipped; an ambiguous account is only ever sent with a candidate the
user chose (:meth:`ReviewModel.set_choice`), never by a tick or a bulk action.

:class:`ReviewFilterProxy` filters by match kind, decision and free text;
:class:`BadgeDelegate` paints the match kind as a coloured pill whose colours come
from the view's palette (light and dark themes), with a symbol and a word so that
colour is never the only signal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QRectF,
    QSize,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from recotap_desktop.records.backfill_match import AcceptedMapping, MatchKind, Proposal

__all__ = [
    "COLUMNS",
    "COL_CRM",
    "COL_CRM_NAME",
    "COL_DOMAIN",
    "COL_ID",
    "COL_MATCH",
    "COL_NAME",
    "COL_RESULT",
    "COL_SEND",
    "KIND_SYMBOLS",
    "KIND_TITLES",
    "BadgeDelegate",
    "KindRole",
    "ReviewFilterProxy",
    "ReviewModel",
    "ReviewRow",
    "RowRole",
    "SortRole",
    "badge_colors",
]

_Index = QModelIndex | QPersistentModelIndex

#: Role returning the row's match kind (``MatchKind`` value string).
KindRole = Qt.ItemDataRole.UserRole + 11
#: Role returning the :class:`ReviewRow`.
RowRole = Qt.ItemDataRole.UserRole + 12
#: Role returning a sort key for the column.
SortRole = Qt.ItemDataRole.UserRole + 13

COL_SEND, COL_MATCH, COL_NAME, COL_DOMAIN, COL_ID, COL_CRM_NAME, COL_CRM, COL_RESULT = range(8)
COLUMNS = ("Send", "Match", "Recotap account", "Domain", "CRM ID", "CRM company", "CRM row",
           "Result")

KIND_TITLES: dict[str, str] = {
    MatchKind.DOMAIN.value: "Domain",
    MatchKind.NAME.value: "Name only",
    MatchKind.AMBIGUOUS.value: "Ambiguous",
    MatchKind.NONE.value: "No match",
}
#: A symbol per kind, so the badge does not rely on colour alone.
KIND_SYMBOLS: dict[str, str] = {
    MatchKind.DOMAIN.value: "\u2713",  # check mark
    MatchKind.NAME.value: "\u2248",  # almost equal
    MatchKind.AMBIGUOUS.value: "?",
    MatchKind.NONE.value: "\u2013",  # en dash
}
_KIND_ORDER = {k.value: i for i, k in enumerate(MatchKind)}
#: Hue per kind (HSL degrees); ``None``: grey.
_KIND_HUES: dict[str, int | None] = {
    MatchKind.DOMAIN.value: 135,
    MatchKind.NAME.value: 210,
    MatchKind.AMBIGUOUS.value: 35,
    MatchKind.NONE.value: None,
}
_SUCCESS = frozenset({"created", "updated", "upserted"})


def _is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Base).lightnessF() < 0.5


def badge_colors(kind: str, palette: QPalette) -> tuple[QColor, QColor]:
    """Background and text colour of the badge for ``kind`` in this palette.

    Light themes get a pale tint with dark text, dark themes a deep tint with light
    text; both keep a contrast well above 4.5:1.
    """
    hue = _KIND_HUES.get(kind)
    sat_bg, sat_fg = (0.0, 0.0) if hue is None else (0.5, 0.7)
    h = (hue or 0) / 360.0
    if _is_dark(palette):
        return QColor.fromHslF(h, sat_bg, 0.27), QColor.fromHslF(h, sat_fg * 0.8, 0.88)
    return QColor.fromHslF(h, sat_bg, 0.87), QColor.fromHslF(h, sat_fg, 0.22)


@dataclass
class ReviewRow:
    """One proposal in the review grid, the user's decision and, once sent, the result."""

    proposal: Proposal
    #: ``None``: skip; otherwise the index of the chosen candidate.
    choice: int | None = None
    round: int = 1
    #: Row state after sending (``updated``, ``failed``, ``not sent``...), ``""`` before.
    state: str = ""
    message: str = ""
    run_id: int | None = None

    @property
    def kind(self) -> str:
        return self.proposal.match.value

    @property
    def sent(self) -> bool:
        """True once the row was part of a send (its result is final for this session)."""
        return bool(self.state)

    @property
    def succeeded(self) -> bool:
        return self.state in _SUCCESS

    @property
    def accepted(self) -> bool:
        return self.choice is not None

    @property
    def can_send(self) -> bool:
        """The account has a domain and a CRM row to take the ID from."""
        return bool(self.proposal.domain and self.proposal.candidates)

    @property
    def chosen_id(self) -> str:
        if self.choice is None:
            return ""
        return self.proposal.candidates[self.choice].external_id

    def decision(self) -> AcceptedMapping | None:
        """The mapping to send, or ``None`` when skipped."""
        if self.choice is None or not self.can_send:
            return None
        return self.proposal.accept(self.choice)


def default_choice(proposal: Proposal) -> int | None:
    """Domain matches accepted; name matches, ambiguous and unmatched skipped."""
    if proposal.match is MatchKind.DOMAIN and proposal.domain and proposal.candidates:
        return 0
    return None


class ReviewModel(QAbstractTableModel):
    """The proposals of a backfill with the user's decisions (see the module notes)."""

    #: Emitted with a source row when the user tried to tick an ambiguous account that
    #: has no chosen candidate (the dialog then offers the candidates).
    choiceNeeded = Signal(int)
    #: Emitted whenever a decision changes (counts need updating).
    decisionsChanged = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[ReviewRow] = []
        self._locked = False

    # ------------------------------------------------------------------ contents
    @property
    def rows(self) -> list[ReviewRow]:
        """The rows (do not modify the list in place)."""
        return self._rows

    def row(self, row: int) -> ReviewRow:
        return self._rows[row]

    def set_proposals(self, proposals: Iterable[Proposal], round_no: int = 1) -> None:
        """Replace the grid with ``proposals`` (default decisions)."""
        self.beginResetModel()
        self._rows = [ReviewRow(p, default_choice(p), round_no) for p in proposals]
        self.endResetModel()
        self.decisionsChanged.emit()

    def append_proposals(self, proposals: Iterable[Proposal], round_no: int) -> int:
        """Add the proposals of another round; returns the first new row."""
        new = [ReviewRow(p, default_choice(p), round_no) for p in proposals]
        first = len(self._rows)
        if new:
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            self._rows.extend(new)
            self.endInsertRows()
            self.decisionsChanged.emit()
        return first

    def find_domain(self, domain: str) -> int:
        """The row of the account with this (normalised) domain, or -1."""
        for i, r in enumerate(self._rows):
            if r.proposal.domain == domain:
                return i
        return -1

    # ------------------------------------------------------------------ decisions
    @property
    def locked(self) -> bool:
        """True while decisions cannot change (a send is running)."""
        return self._locked

    def set_locked(self, locked: bool) -> None:
        """Freeze (or unfreeze) every decision."""
        if locked == self._locked:
            return
        self._locked = locked
        if self._rows:
            self.dataChanged.emit(self.index(0, COL_SEND), self.index(len(self._rows) - 1,
                                                                      COL_SEND))

    def editable(self, row: int) -> bool:
        """True when the user may change the decision of ``row``."""
        r = self._rows[row]
        return r.can_send and not r.sent and not self._locked

    def set_choice(self, row: int, choice: int | None) -> bool:
        """Set the decision of ``row`` (``None``: skip). False when not possible."""
        r = self._rows[row]
        if not self.editable(row):
            return False
        if choice is not None and not 0 <= choice < len(r.proposal.candidates):
            return False
        if r.choice == choice:
            return True
        r.choice = choice
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))
        self.decisionsChanged.emit()
        return True

    def _bulk(self, decide: Callable[[int, ReviewRow], int | None]) -> int:
        changed = 0
        for i, r in enumerate(self._rows):
            if not self.editable(i):
                continue
            new = decide(i, r)
            if new != r.choice:
                r.choice = new
                changed += 1
        if changed and self._rows:
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(len(self._rows) - 1, len(COLUMNS) - 1))
            self.decisionsChanged.emit()
        return changed

    def accept_kind(self, kind: MatchKind, rows: Iterable[int] | None = None) -> int:
        """Accept every (editable) domain or name match; returns how many changed."""
        if kind not in (MatchKind.DOMAIN, MatchKind.NAME):
            raise ValueError("only domain and name matches can be accepted in bulk")
        only = None if rows is None else set(rows)

        def decide(i: int, r: ReviewRow) -> int | None:
            if r.proposal.match is kind and (only is None or i in only):
                return 0
            return r.choice

        return self._bulk(decide)

    def skip_all(self) -> int:
        """Skip every row that has not been sent."""
        return self._bulk(lambda i, r: None)

    def invert(self) -> int:
        """Accepted rows become skipped and skipped domain/name matches accepted.
        Ambiguous accounts are only ever skipped by this, never given a candidate."""

        def decide(i: int, r: ReviewRow) -> int | None:
            if r.choice is not None:
                return None
            if r.proposal.match in (MatchKind.DOMAIN, MatchKind.NAME):
                return 0
            return None

        return self._bulk(decide)

    def decisions(self) -> list[AcceptedMapping]:
        """The mappings to send: accepted rows not sent yet."""
        out: list[AcceptedMapping] = []
        for r in self._rows:
            if r.sent:
                continue
            d = r.decision()
            if d is not None:
                out.append(d)
        return out

    def counts(self) -> dict[str, int]:
        """Rows per match kind (all kinds present)."""
        counts = {k.value: 0 for k in MatchKind}
        for r in self._rows:
            counts[r.kind] += 1
        return counts

    def accepted_counts(self) -> dict[str, int]:
        """Accepted rows not sent yet, per match kind."""
        counts = {k.value: 0 for k in MatchKind}
        for r in self._rows:
            if r.accepted and not r.sent:
                counts[r.kind] += 1
        return counts

    def apply_results(self, results: Mapping[str, tuple[str, str, int | None]]) -> int:
        """Record send results (domain -> (state, message, run id)); returns rows updated."""
        changed = 0
        for i, r in enumerate(self._rows):
            res = results.get(r.proposal.domain) if r.proposal.domain else None
            if res is None:
                continue
            r.state, r.message, r.run_id = res
            changed += 1
            self.dataChanged.emit(self.index(i, 0), self.index(i, len(COLUMNS) - 1))
        if changed:
            self.decisionsChanged.emit()
        return changed

    # ------------------------------------------------------------------ Qt API
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return _HEADER_TIPS[section]
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == COL_SEND and self.editable(index.row()):
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        col = index.column()
        if not 0 <= col < len(COLUMNS):
            return None
        r = self._rows[index.row()]
        p = r.proposal
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(r, col)
        if role == Qt.ItemDataRole.CheckStateRole and col == COL_SEND:
            # A sent row has its result, not a tick "to send" (issue 18: 6).
            if not r.can_send or r.sent:
                return None
            return Qt.CheckState.Checked if r.accepted else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(r, col)
        if role == Qt.ItemDataRole.AccessibleTextRole and col == COL_SEND:
            return "sent" if r.sent else "send" if r.accepted else "skip"
        if role == KindRole:
            return p.match.value
        if role == RowRole:
            return r
        if role == SortRole:
            return self._sort_key(r, col)
        if role == Qt.ItemDataRole.TextAlignmentRole and col == COL_CRM:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if (not index.isValid() or index.column() != COL_SEND
                or role != Qt.ItemDataRole.CheckStateRole):
            return False
        row = index.row()
        if not self.editable(row):
            return False
        state = Qt.CheckState(value) if isinstance(value, int) else value
        r = self._rows[row]
        if state == Qt.CheckState.Checked:
            if r.accepted:
                return True
            if r.proposal.match is MatchKind.AMBIGUOUS:
                self.choiceNeeded.emit(row)  # never guess: the user picks a candidate
                return False
            return self.set_choice(row, 0)
        return self.set_choice(row, None)

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _text(r: ReviewRow, col: int) -> str:
        p = r.proposal
        if col == COL_SEND:
            return ""
        if col == COL_MATCH:
            return KIND_TITLES[p.match.value]
        if col == COL_NAME:
            return p.name
        if col == COL_DOMAIN:
            return p.domain or "(no domain)"
        if col == COL_ID:
            if p.match is MatchKind.AMBIGUOUS:
                if r.choice is not None:
                    return p.candidates[r.choice].external_id
                return f"choose 1 of {len(p.candidates)}\u2026"
            return p.candidates[0].external_id if p.candidates else ""
        if col == COL_CRM_NAME:
            c = _shown_candidate(r)
            if c is None:
                return " | ".join(x.name or x.domain for x in p.candidates)
            return f"{c.name} ({c.domain})" if c.name and c.domain else (c.name or c.domain)
        if col == COL_CRM:
            c = _shown_candidate(r)
            if c is None:
                return f"{len(p.candidates)} rows" if p.candidates else ""
            return f"{c.crm_row:,}"
        if col == COL_RESULT:
            if not r.state:
                if p.previous_external_id and r.accepted and (
                        r.chosen_id != p.previous_external_id):
                    return f"overwrites {p.previous_external_id}"
                return ""
            if r.succeeded:
                return f"\u2714 {r.state}"
            return f"\u2716 {r.state}: {r.message}" if r.message else f"\u2716 {r.state}"
        return ""

    @staticmethod
    def _tooltip(r: ReviewRow, col: int) -> str:
        p = r.proposal
        if col in (COL_CRM, COL_ID, COL_CRM_NAME):
            c = _shown_candidate(r)
            if c is not None:
                return f"CRM row {c.crm_row}: {c.name or '(no name)'} \u00b7 " \
                       f"{c.domain or 'no domain'} \u00b7 ID {c.external_id}"
            return "\n".join(f"Row {c.crm_row}: ID {c.external_id} \u00b7 {c.name or c.domain}"
                             for c in p.candidates)
        if col == COL_RESULT and r.state:
            run = f" (run {r.run_id})" if r.run_id else ""
            return f"{r.state}{run}: {r.message}" if r.message else f"{r.state}{run}"
        if col == COL_SEND:
            if not r.can_send:
                return "Nothing to send: " + p.reason
            if r.sent:
                return "Already sent in this backfill."
            if p.match is MatchKind.AMBIGUOUS and r.choice is None:
                return "Choose a candidate below to send this account."
        return p.reason

    @staticmethod
    def _sort_key(r: ReviewRow, col: int) -> Any:
        p = r.proposal
        if col == COL_SEND:
            return (0 if r.accepted else 1, _KIND_ORDER[p.match.value])
        if col == COL_MATCH:
            return _KIND_ORDER[p.match.value]
        if col == COL_CRM:
            c = _shown_candidate(r)
            return c.crm_row if c is not None else 1 << 40
        if col == COL_RESULT:
            return (r.state or "~", r.message)
        return ReviewModel._text(r, col).casefold()


def _shown_candidate(r: ReviewRow) -> Any:
    p = r.proposal
    if r.choice is not None:
        return p.candidates[r.choice]
    if p.match is not MatchKind.AMBIGUOUS and p.candidates:
        return p.candidates[0]
    return None


_HEADER_TIPS = (
    "Ticked: the CRM ID is written onto this account when you send (Space toggles).",
    "How the CRM row was found: by domain, by company name only, ambiguous, or not at all.",
    "The company name in Recotap.",
    "The account's domain in Recotap (normalised); IDs are written by domain.",
    "The ID from the CRM file that would be written onto the account.",
    "The company name and domain of that CRM row.",
    "The row of the CRM file the ID comes from.",
    "What Recotap answered after sending.",
)


class ReviewFilterProxy(QSortFilterProxyModel):
    """Filters the review grid by match kind, decision and free text (name, domain,
    CRM IDs and names of the candidates)."""

    DECISIONS = ("all", "accepted", "skipped", "sent", "failed")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._kinds: frozenset[str] = frozenset()
        self._decision = "all"
        self._text = ""
        self.setSortRole(SortRole)
        self.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

    def set_kinds(self, kinds: Iterable[str]) -> None:
        """Show only these match kinds (empty: all)."""
        self.beginFilterChange()
        self._kinds = frozenset(kinds)
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_decision(self, decision: str) -> None:
        """``all``, ``accepted``, ``skipped``, ``sent`` or ``failed``."""
        if decision not in self.DECISIONS:
            raise ValueError(decision)
        self.beginFilterChange()
        self._decision = decision
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_text(self, text: str) -> None:
        """Case-insensitive search text."""
        self.beginFilterChange()
        self._text = text.strip().casefold()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:
        model = self.sourceModel()
        if not isinstance(model, ReviewModel) or not 0 <= source_row < model.rowCount():
            return True
        r = model.row(source_row)
        if self._kinds and r.kind not in self._kinds:
            return False
        d = self._decision
        if d == "accepted" and not (r.accepted and not r.sent):
            return False
        if d == "skipped" and (r.accepted or r.sent):
            return False
        if d == "sent" and not r.sent:
            return False
        if d == "failed" and not (r.sent and not r.succeeded):
            return False
        if self._text:
            p = r.proposal
            hay = [p.name, p.domain, r.state, r.message]
            for c in p.candidates:
                hay += [c.external_id, c.name, c.domain]
            if not any(self._text in h.casefold() for h in hay if h):
                return False
        return True


class BadgeDelegate(QStyledItemDelegate):
    """Paints the match kind as a pill: symbol + word on a palette-derived tint."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        kind = index.data(KindRole)
        if not isinstance(kind, str) or kind not in KIND_TITLES:
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = opt.widget
        style = widget.style() if isinstance(widget, QWidget) else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        bg, fg = badge_colors(kind, opt.palette)
        text = f"{KIND_SYMBOLS[kind]}  {KIND_TITLES[kind]}"
        fm = opt.fontMetrics
        rect: QRect = opt.rect
        height = min(rect.height() - 4, fm.height() + 4)
        width = min(rect.width() - 8, fm.horizontalAdvance(text) + 16)
        pill = QRectF(rect.left() + 4, rect.top() + (rect.height() - height) / 2, width, height)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(bg)
        painter.drawRoundedRect(pill, height / 2, height / 2)
        painter.setPen(fg)
        painter.drawText(pill, int(Qt.AlignmentFlag.AlignCenter), text)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        size = super().sizeHint(option, index)
        kind = index.data(KindRole)
        if isinstance(kind, str) and kind in KIND_TITLES:
            text = f"{KIND_SYMBOLS[kind]}  {KIND_TITLES[kind]}"
            size.setWidth(max(size.width(), option.fontMetrics.horizontalAdvance(text) + 28))
        return size
