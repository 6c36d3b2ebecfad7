"""Final states of input rows and states of runs.

Every input row of an import ends in exactly one of :class:`RowState`. The server's
own per-item status names the success states (``created``, ``updated``,
``upserted``); ``invalid`` and ``not sent`` are the client's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class RowState(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UPSERTED = "upserted"
    FAILED = "failed"
    SKIPPED = "skipped"
    INVALID = "invalid"
    NOT_SENT = "not sent"


SUCCESS_STATES = frozenset({RowState.CREATED, RowState.UPDATED, RowState.UPSERTED})
ALL_STATES: tuple[RowState, ...] = tuple(RowState)


class RunState(StrEnum):
    PLANNED = "planned"
    RUNNING = "running"
    FINISHED = "finished"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"
    ABORTED = "aborted"


RESUMABLE_RUN_STATES = frozenset(
    {RunState.RUNNING, RunState.CANCELLED, RunState.INTERRUPTED, RunState.ABORTED}
)


@dataclass(frozen=True, slots=True)
class ItemOutcome:
    """What happened to one payload item (which may stand for several input rows)."""

    state: RowState
    message: str = ""
    ids: dict[str, str] = field(default_factory=dict)
    reconciled: bool = False


#: The per-item statuses a server may give, by name (``invalid`` and ``not sent`` are ours).
_SERVER_STATES = {s.value: s for s in RowState if s not in (RowState.INVALID, RowState.NOT_SENT)}


def state_from_server(status: str) -> RowState | None:
    """Map a per-item status string from the server to a row state (None if unknown)."""
    return _SERVER_STATES.get(status.strip().lower())
