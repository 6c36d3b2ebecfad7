"""Plain words for sync runs and the column definitions of table models (Qt-free).

The main window builds its first frame from these without the item models of
:mod:`recotap_desktop.ui.models`, whose module loads PySide6's ``Qt`` namespace (see
:mod:`recotap_desktop.ui.qt_compat`); :mod:`recotap_desktop.ui.models` re-exports them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Column(Generic[T]):
    """One column: header title, the displayed text and, optionally, a sort key and tooltip."""

    title: str
    text: Callable[[T], str]
    sort_key: Callable[[T], Any] | None = None
    tooltip: Callable[[T], str] | None = None


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
        total = getattr(run, "total_rows", None)  # 0 is a count too (a delta export of nothing)
        return "" if total is None else f"{total} rows"
    text = " · ".join(f"{n} {state}" for state, n in counts.items())
    total = int(getattr(run, "total_rows", 0) or 0)
    return f"{text} (of {total})" if total > sum(counts.values()) else text


def run_id(run: Any) -> int:
    """The id of a run record."""
    value: Any = getattr(run, "id", None)
    if value is None:
        value = getattr(run, "run_id", 0)
    return int(value or 0)


#: The columns of a table of sync runs (``store.history.RunRecord``), newest first as given.
HISTORY_COLUMNS: tuple[Column[Any], ...] = (
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
)


def plural(n: int, word: str) -> str:
    """``"1 request"``, ``"3 requests"``."""
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def settled_rows(counts: dict[str, int]) -> int:
    """Rows with a final answer: every state except ``not sent`` (issue 18: 6)."""
    return sum(n for state, n in counts.items() if state != "not sent")


def run_numbers(headline: str, duration: str, counts: dict[str, int], requests: int,
                retries: int) -> str:
    """``"✖ Stopped in 4 s: 0 of 150 rows have a final state (150 not sent) · 1 request,
    5 retries"``: what the run did, in the units it did it."""
    total = sum(counts.values())
    done = settled_rows(counts)
    unsent = total - done
    rows = f"{done:,} of {plural(total, 'row')} have a final state" if unsent else (
        f"{plural(total, 'row')}")
    if unsent:
        rows += f" ({unsent:,} not sent)"
    sent = plural(requests, "request")
    if retries:
        sent += f", {retries:,} {'retry' if retries == 1 else 'retries'}"
    return f"{headline} in {duration}: {rows} · {sent}."


def items_line(row_counts: dict[str, int], item_counts: dict[str, int], noun: str) -> str:
    """``"117 rows as 59 sales activities: 59 created."`` — rows and the items they make,
    each counted in its own unit, for kinds whose rows group into one item."""
    rows = sum(row_counts.values())
    items = sum(item_counts.values())
    states = " · ".join(f"{n:,} {state}" for state, n in item_counts.items() if n)
    return f"{plural(rows, 'row')} as {items:,} {noun}: {states}."
