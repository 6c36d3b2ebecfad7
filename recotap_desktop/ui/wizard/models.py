"""Small Qt models of the wizard: the file preview and the list of problems."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)

from recotap_desktop.records import Problem

_Index = QModelIndex | QPersistentModelIndex
_DISPLAY = Qt.ItemDataRole.DisplayRole
SortRole = Qt.ItemDataRole.UserRole + 2


class PreviewModel(QAbstractTableModel):
    """The first rows of a file under its headers (row numbers as vertical headers)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._headers: list[str] = []
        self._rows: list[list[str]] = []
        self._first_row = 2

    def set_preview(self, headers: Sequence[str], rows: Sequence[Sequence[str]],
                    first_row: int = 2) -> None:
        """Show ``rows`` (spreadsheet row of the first one: ``first_row``)."""
        self.beginResetModel()
        self._headers = list(headers)
        self._rows = [list(r) for r in rows]
        self._first_row = first_row
        self.endResetModel()

    def clear(self) -> None:
        self.set_preview([], [])

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._headers)

    def data(self, index: _Index, role: int = _DISPLAY) -> Any:
        if role not in (_DISPLAY, Qt.ItemDataRole.ToolTipRole) or not index.isValid():
            return None
        row = self._rows[index.row()]
        return row[index.column()] if index.column() < len(row) else ""

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        if role != _DISPLAY:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self._headers[section] if 0 <= section < len(self._headers) else None
        return str(self._first_row + section)

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


PROBLEM_COLUMNS = ("Row", "Column", "Value", "Reason", "Severity")


class ProblemsModel(QAbstractTableModel):
    """The problems of a checked file: row, column, value, reason, severity."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._problems: list[Problem] = []

    @property
    def problems(self) -> list[Problem]:
        return self._problems

    def set_problems(self, problems: Sequence[Problem]) -> None:
        self.beginResetModel()
        self._problems = list(problems)
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._problems)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(PROBLEM_COLUMNS)

    def data(self, index: _Index, role: int = _DISPLAY) -> Any:
        if not index.isValid():
            return None
        p = self._problems[index.row()]
        column = index.column()
        if role in (_DISPLAY, Qt.ItemDataRole.ToolTipRole):
            return problem_cells(p)[column] if role == _DISPLAY or column in (2, 3) else None
        if role == SortRole:
            return p.row if column == 0 else str(problem_cells(p)[column]).casefold()
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        if role == _DISPLAY and orientation == Qt.Orientation.Horizontal:
            return PROBLEM_COLUMNS[section] if 0 <= section < len(PROBLEM_COLUMNS) else None
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


def problem_cells(p: Problem) -> tuple[Any, str, str, str, str]:
    """Row (or "mapping"), column, value, reason, severity."""
    return (p.row if p.row else "mapping", p.column, p.value, p.reason, p.severity)


class ProblemsProxy(QSortFilterProxyModel):
    """Sort by row number or text; filter by free text and severity."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._text = ""
        self._severity: str | None = None
        self.setSortRole(SortRole)

    def set_text(self, text: str) -> None:
        self.beginFilterChange()
        self._text = text.strip().casefold()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_severity(self, severity: str | None) -> None:
        self.beginFilterChange()
        self._severity = severity
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:
        model = self.sourceModel()
        if not isinstance(model, ProblemsModel):
            return True
        p = model.problems[source_row]
        if self._severity is not None and p.severity != self._severity:
            return False
        if not self._text:
            return True
        text = self._text
        return (text in p.reason.casefold() or text in p.column.casefold()
                or text in p.value.casefold() or text == str(p.row))
