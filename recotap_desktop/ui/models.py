"""Qt item models over plain Python objects (segments, custom fields, sync runs).

Each model is a :class:`RecordTableModel`: a list of objects plus column
definitions (title, display function, optional sort key). Views put a
``QSortFilterProxyModel`` on top for sorting and search; the models themselves only
hold data and must pass pytest-qt's ``qtmodeltester``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)

T = TypeVar("T")

#: Role that returns the underlying object of a row.
ObjectRole = Qt.ItemDataRole.UserRole + 1
#: Role that returns the column's sort key.
SortRole = Qt.ItemDataRole.UserRole + 2

_Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Column(Generic[T]):
    """One column: header title, the displayed text and, optionally, a sort key and tooltip."""

    title: str
    text: Callable[[T], str]
    sort_key: Callable[[T], Any] | None = None
    tooltip: Callable[[T], str] | None = None


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

    def row_object(self, row: int) -> T:
        """The object of ``row``."""
        return self._rows[row]

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


# ---------------------------------------------------------------------- history
KIND_TITLES: dict[str, str] = {
    "accounts": "Accounts",
    "deals": "Deals",
    "pipelines": "Pipelines",
    "activities": "Sales activities",
    "id-mappings": "ID mappings",
    "account-fields": "Account field values",
    "export": "Export scored accounts",
    "export-accounts": "Export scored accounts",
}


def kind_title(kind: str) -> str:
    """Plain words for a run/record kind."""
    return KIND_TITLES.get(kind, kind.replace("-", " ").capitalize())


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value).astimezone()
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def run_started(run: Any) -> datetime | None:
    """When a run started (local time aware datetime), if known."""
    return _parse_time(getattr(run, "started_at", None) or getattr(run, "created_at", None))


def format_when(run: Any) -> str:
    """Start time of a run in local time, ``YYYY-MM-DD HH:MM``."""
    started = run_started(run)
    if started is None:
        return ""
    if started.tzinfo is not None:
        started = started.astimezone()
    return started.strftime("%Y-%m-%d %H:%M")


def run_duration(run: Any) -> float | None:
    """Seconds between start and end of a run, if both are known."""
    start = run_started(run)
    end = _parse_time(getattr(run, "ended_at", None))
    if start is None or end is None:
        return None
    if (start.tzinfo is None) != (end.tzinfo is None):
        return None
    return max(0.0, (end - start).total_seconds())


def format_duration(seconds: float | None) -> str:
    """``75`` -> ``"1 min 15 s"``; ``None`` -> ``""``."""
    if seconds is None:
        return ""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def run_counts(run: Any) -> dict[str, int]:
    """Row counts by state of a run (empty when none are known)."""
    counts = getattr(run, "counts", None) or {}
    return {str(k): int(v) for k, v in dict(counts).items() if v}


def format_counts(run: Any) -> str:
    """``"12 created · 3 failed"``."""
    counts = run_counts(run)
    if not counts:
        total = getattr(run, "total_rows", None)
        return f"{total} rows" if total else ""
    text = " · ".join(f"{n} {state}" for state, n in counts.items())
    total = int(getattr(run, "total_rows", 0) or 0)
    return f"{text} (of {total})" if total > sum(counts.values()) else text


def run_id(run: Any) -> int:
    """The id of a run record."""
    value: Any = getattr(run, "id", None)
    if value is None:
        value = getattr(run, "run_id", 0)
    return int(value or 0)


def history_model(parent: QObject | None = None) -> RecordTableModel[Any]:
    """Sync runs (``store.history.RunRecord``), newest first as given."""
    return RecordTableModel(
        [
            Column("When", format_when, sort_key=run_id),  # ids grow with start time
            Column("Kind", lambda r: kind_title(str(getattr(r, "kind", "")))),
            Column("File", lambda r: str(getattr(r, "file_name", "") or ""),
                   tooltip=lambda r: str(getattr(r, "file_path", "") or "")),
            Column("Connection", lambda r: str(getattr(r, "profile", "") or ""),
                   tooltip=lambda r: f"{getattr(r, 'host', '')} ({getattr(r, 'edition', '')})"),
            Column("Rows", format_counts,
                   sort_key=lambda r: int(getattr(r, "total_rows", 0) or 0)),
            Column("Duration", lambda r: format_duration(run_duration(r)),
                   sort_key=lambda r: run_duration(r) or 0.0),
            Column("State", lambda r: str(getattr(r, "state", "") or "")),
        ],
        parent,
    )
