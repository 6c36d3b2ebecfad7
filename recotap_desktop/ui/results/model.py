"""The results grid's Qt model: a window onto :class:`ResultsData` through an index array.

Why no ``QSortFilterProxyModel``: with a million rows the proxy calls the Python
``filterAcceptsRow`` once per row on every change (and ``lessThan`` ~20 million times
to sort); ``bench/bench_results_model.py`` measures both ways. Here the filter and the
sort order are computed in bulk by :class:`ResultsData` (C-level passes over arrays)
and the model shows ``view[row]``. ``data()`` creates nothing but the displayed value.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QPalette

from recotap_desktop.ui.results.colors import state_color
from recotap_desktop.ui.results.data import ResultsData

_Index = QModelIndex | QPersistentModelIndex
_DISPLAY = Qt.ItemDataRole.DisplayRole
_TOOLTIP = Qt.ItemDataRole.ToolTipRole
_DECORATION = Qt.ItemDataRole.DecorationRole
_ALIGN = Qt.ItemDataRole.TextAlignmentRole
#: Role returning the storage index of a row (tests and copy).
StorageIndexRole = Qt.ItemDataRole.UserRole + 10
ROW_COLUMN, STATE_COLUMN, MESSAGE_COLUMN = 0, 1, 2
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


class ResultsModel(QAbstractTableModel):
    """Rows of one run, filtered by a set of states and a free text, sortable by any column."""

    #: Emitted after the visible rows changed (filter, sort or new data): visible, total.
    viewChanged = Signal(int, int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._data = ResultsData.empty()
        #: Storage indexes of the visible rows (a ``range`` when nothing is filtered or sorted).
        self._view: array[int] | range = range(0)
        self._titles: list[str] = self._data.column_titles
        self._states: frozenset[str] | None = None
        self._text = ""
        self._order: array[int] | None = None
        self._sort: tuple[int, Qt.SortOrder] | None = None
        self._colors: dict[int, QColor] = {}
        self._dark = False

    # ------------------------------------------------------------------ data
    @property
    def results(self) -> ResultsData:
        """The storage shown."""
        return self._data

    def set_results(self, data: ResultsData) -> None:
        """Show ``data`` (filter and sort are kept)."""
        self.beginResetModel()
        self._data = data
        self._titles = data.column_titles
        self._order = None
        if self._sort is not None and self._sort[0] < len(self._titles):
            column, order = self._sort
            self._order = data.sort_order(column, order == Qt.SortOrder.DescendingOrder)
        self._view = self._select()
        self._colors.clear()
        self.endResetModel()
        self.viewChanged.emit(len(self._view), len(data))

    def _select(self) -> array[int] | range:
        view = self._data.select(self._states, self._text, self._order)
        return range(len(self._data)) if view is None else view

    # ------------------------------------------------------------------ filter
    @property
    def state_filter(self) -> frozenset[str] | None:
        """The states shown (None: all)."""
        return self._states

    @property
    def text_filter(self) -> str:
        return self._text

    def set_filter(self, states: Iterable[str] | None = None, text: str | None = None) -> None:
        """Show only rows in ``states`` (None: all) containing ``text`` (None: unchanged)."""
        self._states = None if states is None else frozenset(states)
        if text is not None:
            self._text = text
        self._refresh_view()

    def set_state_filter(self, states: Iterable[str] | None) -> None:
        self.set_filter(states, None)

    def set_text_filter(self, text: str) -> None:
        self.set_filter(self._states, text)

    def _refresh_view(self) -> None:
        self.beginResetModel()
        self._view = self._select()
        self.endResetModel()
        self.viewChanged.emit(len(self._view), len(self._data))

    # ------------------------------------------------------------------ sort
    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort the visible rows by ``column`` (stable; numbers by value)."""
        if not (0 <= column < len(self._titles)):
            return
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        before = [(self._view[p.row()], p.column()) for p in persistent]
        self._sort = (column, order)
        self._order = self._data.sort_order(column, order == Qt.SortOrder.DescendingOrder)
        self._view = self._select()
        if persistent:
            where = {s: r for r, s in enumerate(self._view)}
            for p, (storage, col) in zip(persistent, before, strict=True):
                r = where.get(storage)
                self.changePersistentIndex(
                    p, self.index(r, col) if r is not None else QModelIndex()
                )
        self.layoutChanged.emit()

    # ------------------------------------------------------------------ Qt API
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._view)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._titles)

    def data(self, index: _Index, role: int = _DISPLAY) -> Any:
        if role == _DISPLAY:
            row = index.row()
            if not index.isValid() or row >= len(self._view):
                return None
            column = index.column()
            value = self._data.cell(self._view[row], column)
            return str(value) if column == ROW_COLUMN else value
        if not index.isValid() or index.row() >= len(self._view):
            return None
        column = index.column()
        if role == _DECORATION and column == STATE_COLUMN:
            return self._color(self._data.states[self._view[index.row()]])
        if role == _TOOLTIP and column != ROW_COLUMN:
            value = self._data.cell(self._view[index.row()], column)
            return str(value) or None
        if role == _ALIGN and column == ROW_COLUMN:
            return _RIGHT
        if role == StorageIndexRole:
            return self._view[index.row()]
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        if role != _DISPLAY:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self._titles[section] if 0 <= section < len(self._titles) else None
        return str(section + 1) if 0 <= section < len(self._view) else None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    # ------------------------------------------------------------------ helpers
    def set_dark(self, dark: bool) -> None:
        """Use the colour set for a dark palette."""
        if dark != self._dark:
            self._dark = dark
            self._colors.clear()

    def _color(self, code: int) -> QColor:
        color = self._colors.get(code)
        if color is None:
            color = state_color(self._data.state_names[code], self._dark)
            self._colors[code] = color
        return color

    def copy_text(self, rows: Iterable[int], columns: Iterable[int], *,
                  header: bool = False, limit: int | None = None) -> tuple[str, int]:
        """Tab-separated text of visible ``rows`` × ``columns``; returns (text, rows copied)."""
        cols = sorted(set(columns))
        lines: list[str] = []
        if header:
            lines.append("\t".join(self._titles[c] for c in cols))
        n = 0
        for r in sorted(set(rows)):
            if limit is not None and n >= limit:
                break
            i = self._view[r]
            lines.append("\t".join(_tsv_cell(self._data.cell(i, c)) for c in cols))
            n += 1
        return "\n".join(lines), n


def _tsv_cell(value: object) -> str:
    text = str(value)
    if "\t" in text or "\n" in text or "\r" in text:
        return " ".join(text.split())
    return text


def is_dark(palette: QPalette) -> bool:
    """True when the window background is dark."""
    return palette.color(QPalette.ColorRole.Window).lightness() < 128
