"""Final states of input rows and states of runs.

Every input row of an import ends in exactly one of :class:`RowState`. The server's
own per-item status names the success states (``created``, ``updated``,
``upserted``); ``invalid``, ``not sent``, ``unchanged`` (not sent because Recotap already
holds the values) and ``unknown`` (what a repeated request did cannot be told) are the
client's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from recotap_desktop.records.base import DUPLICATE_IN_FILE


class RowState(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UPSERTED = "upserted"
    FAILED = "failed"
    SKIPPED = "skipped"
    INVALID = "invalid"
    NOT_SENT = "not sent"
    #: Recotap already held the row's values: not sent (a success; issue 16).
    UNCHANGED = "unchanged"
    #: The app cannot tell what a possibly repeated request did; ``retry`` settles it.
    UNKNOWN = "unknown"


class Reason(StrEnum):
    """Why a row ended in its state, as data (issue 17), stored with every outcome.

    The rules that read meaning (which rows a retry sends, what a summary counts) read
    this code, never the message, which is for people and may be reworded. Server text is
    read in one place only, where it is the only source (``senders``: a per-item "already
    exists"), and becomes a code there.
    """

    NONE = ""
    #: A dry run prepared the row; nothing was sent (a retry never sends it).
    DRY_RUN = "dry run"
    #: Left out before sending (the Check page's "Exclude invalid rows").
    EXCLUDED = "excluded"
    #: The row's own values are invalid; it was not sent.
    INVALID = "invalid"
    #: Another row of the file describes the same record; this one was not sent.
    DUPLICATE_IN_FILE = DUPLICATE_IN_FILE
    #: Not sent: the run was cancelled first.
    CANCELLED = "cancelled"
    #: Not sent: the run stopped (an error ended it) first.
    STOPPED = "stopped"
    #: Sent, but no answer came back: the server may or may not have processed it.
    UNANSWERED = "unanswered"
    #: Rejected by the server for its own data, found by splitting a rejected request.
    ISOLATED = "isolated"
    #: Rejected by the server because the record already exists there.
    ALREADY_EXISTS = "already exists"
    #: An earlier attempt whose answer was lost reached the server (a duplicate answer
    #: confirms it).
    RECONCILED = "reconciled"


#: Failures a retry would only repeat: the server refused the row itself.
NOT_RETRYABLE_FAILURES = frozenset({Reason.ISOLATED, Reason.ALREADY_EXISTS})


SUCCESS_STATES = frozenset(
    {RowState.CREATED, RowState.UPDATED, RowState.UPSERTED, RowState.UNCHANGED}
)
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
    reason: Reason = Reason.NONE
    #: The request may have been sent more than once (an earlier answer was lost).
    repeated: bool = False


#: The per-item statuses a server may give, by name (``invalid`` and ``not sent`` are ours).
_SERVER_STATES = {
    s.value: s for s in (RowState.CREATED, RowState.UPDATED, RowState.UPSERTED,
                         RowState.FAILED, RowState.SKIPPED)
}


def state_from_server(status: str) -> RowState | None:
    """Map a per-item status string from the server to a row state (None if unknown)."""
    return _SERVER_STATES.get(status.strip().lower())
