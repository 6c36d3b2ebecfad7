"""Small widgets and widget habits shared by the windows: a Retry button for a failed
server lookup, grids that Tab leaves, labels that elide with a tooltip."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QAbstractItemModel, QSize
from PySide6.QtGui import QFontMetrics, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QLabel,
    QPushButton,
    QTableView,
    QWidget,
)


def retry_button(retry: Callable[[], Any], tooltip: str) -> QPushButton:
    """A hidden "Retry" button for the error of a server lookup; shown with the error."""
    button = QPushButton("&Retry")
    button.setObjectName("retryLookup")
    button.setToolTip(tooltip)
    button.setAccessibleName("Retry the lookup")
    button.clicked.connect(lambda _checked=False: retry())
    button.setVisible(False)
    return button


_View = TypeVar("_View", bound=QAbstractItemView)


def tooltip_names_choice(combo: QComboBox, help_text: str = "") -> None:
    """The combo box's tooltip starts with its current text, whole: a narrow combo box
    (a column chooser beside three others) shows a long column name cut."""

    def update(text: str) -> None:
        combo.setToolTip("\n".join(t for t in (text, help_text) if t))

    combo.currentTextChanged.connect(update)
    update(combo.currentText())


def resize_within_screen(window: QWidget, width: int, height: int) -> None:
    """``window.resize(width, height)``, but no larger than its screen's free area: on a
    laptop's 800 × 600 (or 1366 × 768 at 200 %) the window opens whole, not past the edge."""
    screen = window.screen()
    if screen is not None:
        area = screen.availableGeometry()
        width, height = min(width, area.width()), min(height, area.height())
    window.resize(width, height)


def tab_leaves(view: _View) -> _View:
    """Tab and Shift+Tab move to the next control; the arrow keys move between cells."""
    view.setTabKeyNavigation(False)
    return view


def row_table(model: QAbstractItemModel, name: str, accessible: str) -> QTableView:
    """A read-only grid of whole rows over ``model``: sortable (by the first column to
    start), one row selected at a time, alternating colours, no row numbers, and Tab
    leaving it (:func:`tab_leaves`)."""
    view = tab_leaves(QTableView())
    view.setObjectName(name)
    view.setAccessibleName(accessible)
    view.setModel(model)
    view.setSortingEnabled(True)
    from recotap_desktop.ui.qt_compat import Qt  # the namespace on first use only

    view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().setVisible(False)
    return view


def return_presses_buttons(root: QWidget) -> None:
    """Return/Enter press the focused push button of ``root`` (outside a dialog a
    QPushButton only answers Return when it is an auto-default button)."""
    for button in root.findChildren(QPushButton):
        button.setAutoDefault(True)


ELLIPSIS = "…"


def elide(text: str, metrics: QFontMetrics, width: int, *, middle: bool = False) -> str:
    """``text`` cut with "…" to fit ``width`` pixels (whole when it fits).

    ``middle`` keeps both ends (a host name at the end stays readable). Done by hand
    rather than with ``QFontMetrics.elidedText`` so that the first frame of the main
    window never builds the ``Qt`` enum namespace (see ``qt_compat``).
    """
    if metrics.horizontalAdvance(text) <= width:
        return text
    if metrics.horizontalAdvance(ELLIPSIS) > width:
        return ""

    def fits(keep: int) -> bool:
        return metrics.horizontalAdvance(_cut(text, keep, middle)) <= width

    low, high = 0, len(text)  # the most characters kept that still fit: binary search
    while low < high:
        mid = (low + high + 1) // 2
        if fits(mid):
            low = mid
        else:
            high = mid - 1
    return _cut(text, low, middle)


def _cut(text: str, keep: int, middle: bool) -> str:
    if not middle:
        return text[:keep].rstrip() + ELLIPSIS
    head = (keep + 1) // 2
    tail = keep - head
    return text[:head].rstrip() + ELLIPSIS + (text[len(text) - tail:].lstrip() if tail else "")


class ElidedLabel(QLabel):
    """A one-line label that may be narrower than its text: it then shows the text cut
    with "…" and the whole text as its tooltip (issue 18, finding 7). Plain text only.

    :meth:`set_full_text` sets the whole text (also its ``fullText`` property); ``text()`` is
    what is shown. The label asks for its whole width but accepts down to a few characters.
    """

    #: Characters a shrunk label still shows (besides the ellipsis).
    MIN_CHARS = 12

    def __init__(self, text: str = "", parent: QWidget | None = None, *,
                 middle: bool = False) -> None:
        super().__init__(parent)
        self._middle = middle
        self._full = ""
        self.set_full_text(text)

    def set_full_text(self, text: str) -> None:
        self._full = text
        self.setProperty("fullText", text)
        self.updateGeometry()
        self._elide()

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        margins = self.contentsMargins()
        extra = hint.width() - self.fontMetrics().horizontalAdvance(self.text())
        width = self.fontMetrics().horizontalAdvance(self._full) + max(
            extra, margins.left() + margins.right())
        return QSize(width, hint.height())

    def minimumSizeHint(self) -> QSize:
        hint = self.sizeHint()
        metrics = self.fontMetrics()
        short = metrics.horizontalAdvance(self._full[: self.MIN_CHARS] + ELLIPSIS)
        extra = hint.width() - metrics.horizontalAdvance(self._full)
        return QSize(min(hint.width(), short + extra), hint.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = self.contentsRect().width()
        shown = elide(self._full, self.fontMetrics(), width, middle=self._middle) \
            if width > 0 else self._full
        if shown != self.text():
            super().setText(shown)
        self.setToolTip(self._full if shown != self._full else "")
