"""Qt item models over plain Python objects (segments, custom fields, sync runs).

Each model is a :class:`RecordTableModel`: a list of objects plus column
definitions (title, display function, optional sort key). Views put a
``QSortFilterProxyModel`` on top for sorting and search; the models themselves only
hold data and must pass pytest-qt's ``qtmodeltester``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)

from recotap_desktop.ui.run_format import (  # noqa: F401 - re-exported
    HISTORY_COLUMNS,
    KIND_TITLES,
    Column,
    format_counts,
    format_duration,
    format_when,
    kind_title,
    run_counts,
    run_duration,
    run_id,
    run_started,
)

T = TypeVar("T")

#: Role that returns the underlying object of a row.
ObjectRole = Qt.ItemDataRole.UserRole + 1
#: Role that returns the column's sort key.
SortRole = Qt.ItemDataRole.UserRole + 2

_Index = QModelIndex | QPersistentModelIndex


class RecordTableModel(QAbstractTableModel, Generic[T]):
    """A read-only table of objects; one row per object."""

    def __init__(self, columns: Sequence[Column[T]], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._columns = list(columns)
        self._rows: list[T] = []

    # -- data access -------------------------------------------------------
    @property
    def rows(self) -> list[T]:
        """The objects shown (do not modify the list in place)."""
        return self._rows

    def set_rows(self, rows: Iterable[T]) -> None:
        """Replace all rows."""
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def append_rows(self, rows: Iterable[T]) -> None:
        """Add rows at the end (as pages arrive)."""
        new = list(rows)
        if not new:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
        self._rows.extend(new)
        self.endInsertRows()

    def clear(self) -> None:
        """Remove all rows."""
        self.set_rows([])

    # -- Qt API ------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._rows)):
            return None
        if not (0 <= index.column() < len(self._columns)):
            return None
        obj = self._rows[index.row()]
        column = self._columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(obj)
        if role == Qt.ItemDataRole.ToolTipRole:
            return column.tooltip(obj) if column.tooltip else column.text(obj)
        if role == SortRole:
            key = column.sort_key(obj) if column.sort_key else column.text(obj).casefold()
            return key
        if role == ObjectRole:
            return obj
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole
                and 0 <= section < len(self._columns)):
            return self._columns[section].title
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


def make_proxy(model: QAbstractTableModel, parent: QObject | None = None) -> QSortFilterProxyModel:
    """A sort/filter proxy over ``model``: case-insensitive search in every column."""
    proxy = QSortFilterProxyModel(parent)
    proxy.setSourceModel(model)
    proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    proxy.setFilterKeyColumn(-1)
    proxy.setSortRole(SortRole)
    proxy.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    return proxy


# ---------------------------------------------------------------------- segments
def segment_model(parent: QObject | None = None) -> RecordTableModel[Any]:
    """Segments (``api.models.Segment``): name, status, id."""
    return RecordTableModel(
        [
            Column("Name", lambda s: str(s.name or "")),
            Column("Status", lambda s: str(s.status or "")),
            Column("Segment ID", lambda s: str(s.segment_id or "")),
        ],
        parent,
    )


# ---------------------------------------------------------------------- custom fields
LABEL_TYPES: tuple[tuple[str, str], ...] = (
    ("singleLineText", "Single-line text"),
    ("multiLineText", "Multi-line text"),
    ("singleSelection", "Single selection"),
    ("multiSelection", "Multiple selection"),
    ("number", "Number"),
    ("date", "Date"),
)
SELECTION_TYPES = frozenset({"singleSelection", "multiSelection"})
_TYPE_TITLES = dict(LABEL_TYPES)


def label_type_title(label_type: str) -> str:
    """Plain words for a ``labelType``."""
    return _TYPE_TITLES.get(label_type, label_type)


def custom_field_model(parent: QObject | None = None) -> RecordTableModel[Any]:
    """Account custom fields (``api.models.CustomField``)."""
    return RecordTableModel(
        [
            Column("Key", lambda f: str(f.key or "")),
            Column("Label", lambda f: str(f.label or "")),
            Column("Type", lambda f: label_type_title(str(f.label_type or ""))),
            Column("Options", lambda f: ", ".join(str(o) for o in (f.options or ()))),
            Column("Description", lambda f: str(f.description or "")),
        ],
        parent,
    )


def history_model(parent: QObject | None = None) -> RecordTableModel[Any]:
    """Sync runs (``store.history.RunRecord``), newest first as given."""
    return RecordTableModel(HISTORY_COLUMNS, parent)
