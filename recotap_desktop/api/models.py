"""Typed views of the API's answers.

Every model is a frozen dataclass parsed leniently from JSON (``from_json``): a
missing or oddly typed field becomes ``None``/empty rather than an exception, since
the documentation is incomplete (see recotap-api.md §11). Items keep the decoded
JSON object as ``raw`` so that nothing the server said is lost.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from recotap_desktop.domain.domains import normalise_domain

__all__ = [
    "ID_FIELDS",
    "Account",
    "AccountPage",
    "BulkResult",
    "CustomField",
    "ItemResult",
    "MappingResult",
    "Segment",
    "UnmappedAccount",
    "ids_of",
    "parse_bulk_results",
]

#: Identity fields that per-item results (and their input items) may carry.
ID_FIELDS: tuple[str, ...] = (
    "rtp_aid",
    "externalId",
    "domain",
    "externalDealId",
    "externalActivityId",
    "pipelineId",
)

NO_ANSWER_ERROR = (
    "The server gave no answer for this item (its reply did not name it); it may or "
    "may not have been processed."
)


def _opt_str(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return None


def _str(value: object) -> str:
    return _opt_str(value) or ""


def _num(value: object) -> float | None:
    """A number as sent (int stays int); numeric strings are converted; else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value if not (isinstance(value, float) and math.isnan(value)) else None
    if isinstance(value, str) and value.strip():
        try:
            number = float(value)
        except ValueError:
            return None
        if math.isnan(number):
            return None
        return int(number) if number.is_integer() and "." not in value else number
    return None


def _as_dict(value: object) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _error_text(value: object) -> str | None:
    """Flatten an item's ``error`` (string, list of strings, or object) into text."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        for key in ("customMessage", "message", "error"):
            text = _error_text(value.get(key))
            if text:
                return text
        return str(dict(value))
    if isinstance(value, Sequence):
        parts = [t for t in (_error_text(v) for v in value) if t]
        return "; ".join(parts) or None
    return str(value)


def ids_of(item: Mapping[str, Any]) -> dict[str, str]:
    """The identity fields (:data:`ID_FIELDS`) present and non-empty in ``item``."""
    ids: dict[str, str] = {}
    get = item.get
    for name in ID_FIELDS:
        value = get(name)
        if value is None:
            continue
        if type(value) is not str:  # the common case first: one answer per row sent
            value = _opt_str(value)
        if value:
            ids[name] = value
    return ids


@dataclass(frozen=True, slots=True)
class Account:
    """One row of ``GET /accounts`` (§9.1). Scores are numbers as sent, unclamped."""

    external_id: str | None
    name: str
    domain: str
    rtp_aid: str | None
    account_score: float | None
    journey_stage: str | None
    advertising_activity_score: float | None
    website_intent_score: float | None
    g2_intent_score: float | None
    bombora_intent_score: float | None
    last_account_date: str | None
    custom_fields: dict[str, object] = field(default_factory=dict, hash=False)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False, hash=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Account:
        """Parse one account object."""
        return cls(
            external_id=_opt_str(data.get("externalId")) or None,
            name=_str(data.get("name")),
            domain=_str(data.get("domain")),
            rtp_aid=_opt_str(data.get("rtp_aid")) or None,
            account_score=_num(data.get("rtp_account_score")),
            journey_stage=_opt_str(data.get("rtp_journey_stage")),
            advertising_activity_score=_num(data.get("rtp_advertising_activity_score")),
            website_intent_score=_num(data.get("rtp_website_intent_score")),
            g2_intent_score=_num(data.get("rtp_g2_intent_score")),
            bombora_intent_score=_num(data.get("rtp_bombora_intent_score")),
            last_account_date=_opt_str(data.get("rtp_last_account_date")) or None,
            custom_fields=_as_dict(data.get("customFields")),
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class AccountPage:
    """One page of ``GET /accounts``; ``sync_timestamp`` is that response's server time."""

    accounts: list[Account]
    next_cursor: str | None
    has_next_page: bool
    sync_timestamp: str | None


@dataclass(frozen=True, slots=True)
class Segment:
    """A static segment that ``POST /accounts`` accepts as ``segmentId`` (§9.8)."""

    segment_id: str
    name: str
    status: str
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False, hash=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Segment:
        """Parse one segment object."""
        return cls(
            segment_id=_str(data.get("segmentId")),
            name=_str(data.get("name")),
            status=_str(data.get("status")),
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class CustomField:
    """An account custom-field definition (§9.6 / §9.7)."""

    key: str
    label: str
    label_type: str
    description: str | None
    options: tuple[str, ...]
    object_type: str
    status: str
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False, hash=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CustomField:
        """Parse one custom-field definition."""
        options = data.get("options")
        opts: tuple[str, ...] = ()
        if isinstance(options, Sequence) and not isinstance(options, str):
            opts = tuple(t for t in (_opt_str(o) for o in options) if t is not None)
        return cls(
            key=_str(data.get("key")),
            label=_str(data.get("label")),
            label_type=_str(data.get("labelType")),
            description=_opt_str(data.get("description")),
            options=opts,
            object_type=_str(data.get("objectType")),
            status=_str(data.get("status")),
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class UnmappedAccount:
    """An account without ``externalId`` (§9.4)."""

    name: str
    domain: str
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False, hash=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> UnmappedAccount:
        """Parse one unmapped-account object."""
        return cls(name=_str(data.get("name")), domain=_str(data.get("domain")), raw=dict(data))


@dataclass(frozen=True, slots=True)
class ItemResult:
    """The server's answer for the input item at position ``index`` of a bulk write.

    ``status`` is the server's status lower-cased (``created``, ``updated``,
    ``upserted``, ``failed``, ``skipped`` or anything else it invents). ``ids`` holds
    whichever identity fields (:data:`ID_FIELDS`) the answer carried.
    """

    index: int
    status: str
    error: str | None
    ids: dict[str, str] = field(default_factory=dict, hash=False)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False, hash=False)

    @property
    def ok(self) -> bool:
        """``True`` unless the status is ``failed`` (``skipped`` counts as ok)."""
        return self.status != "failed"

    @classmethod
    def from_json(cls, index: int, data: object) -> ItemResult:
        """Parse one element of ``results`` (anything that is not an object fails)."""
        if type(data) is not dict and not isinstance(data, Mapping):
            return cls(index, "failed", f"The server's answer for this item was unreadable: "
                       f"{data!r:.200}", {}, {})
        error = data.get("error")
        if error is not None:
            error = _error_text(error)
        status = data.get("status")
        if type(status) is not str:
            status = _opt_str(status)
        if status is None or not status.strip():
            status = "failed" if error else "unknown"
        raw = data if type(data) is dict else dict(data)  # parsed JSON: ours, no copy needed
        return cls(index, status.strip().lower(), error, ids_of(data), raw)

    @classmethod
    def missing(
        cls, index: int, item: Mapping[str, Any] | None = None, strays: Sequence[str] = ()
    ) -> ItemResult:
        """The synthetic ``failed`` result for an input item the server did not answer.

        ``strays`` name the results of the answer that matched no item sent.
        """
        ids = ids_of(item) if isinstance(item, Mapping) else {}
        error = NO_ANSWER_ERROR
        if strays:
            shown = ", ".join(strays[:3]) + (f" and {len(strays) - 3} more" if len(strays) > 3
                                             else "")
            error = (
                "The server's answer did not name this item; it named items that were not "
                f"in the request instead ({shown}). This item may or may not have been "
                "processed."
            )
        return cls(index, "failed", error, ids, {})


@dataclass(frozen=True, slots=True)
class BulkResult:
    """Outcome of a bulk write: one :class:`ItemResult` per input item, in input order.

    ``summary`` counts the items by status plus ``total`` (computed from ``items``,
    so it includes synthetic answers for items the server left out).
    ``attempts`` is how many times the request was sent; ``possibly_repeated`` is
    ``True`` when an earlier attempt may have been processed by the server (5xx or
    lost answer followed by a retry): "already exists" answers then mean delivered.
    """

    items: list[ItemResult]
    summary: dict[str, int]
    attempts: int = 1
    possibly_repeated: bool = False
    #: Results of the answer that named no item of the request (dropped).
    strays: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class MappingResult:
    """Outcome of ``PATCH /accounts/external-ids`` (§9.5)."""

    matched: int
    updated: int
    not_found: list[str]
    attempts: int = 1
    possibly_repeated: bool = False

    @classmethod
    def from_json(
        cls, data: object, *, attempts: int = 1, possibly_repeated: bool = False
    ) -> MappingResult:
        """Parse the ``data`` of the answer."""
        doc = _as_dict(data)
        not_found = doc.get("notFound")
        names: list[str] = []
        if isinstance(not_found, Sequence) and not isinstance(not_found, str):
            names = [t for t in (_opt_str(v) for v in not_found) if t]
        matched = _num(doc.get("matched"))
        updated = _num(doc.get("updated"))
        return cls(
            matched=int(matched) if matched is not None else 0,
            updated=int(updated) if updated is not None else 0,
            not_found=names,
            attempts=attempts,
            possibly_repeated=possibly_repeated,
        )


def _results_of(data: object) -> list[object] | None:
    if isinstance(data, Mapping):
        results = data.get("results")
        if isinstance(results, list):
            return results
        inner = data.get("data")
        if isinstance(inner, list):
            return inner
        return None
    if isinstance(data, list):
        return data
    return None


def _identity(name: str, value: str) -> str:
    return normalise_domain(value) if name == "domain" else value


def parse_bulk_results(
    data: object,
    items: Sequence[Mapping[str, Any]],
    *,
    keys: Sequence[str] = (),
    attempts: int = 1,
    possibly_repeated: bool = False,
) -> BulkResult:
    """Pair the ``results`` of a bulk answer with the input ``items`` by identity.

    ``keys`` are the identity fields of the endpoint, most telling first (e.g.
    ``externalDealId``; ``externalId`` then ``domain`` for accounts of Revision A). A
    result is given to the item that has the same value in the first of ``keys`` that
    both carry (domains compared normalised; items with one identity take their
    results in order). A result that carries none of ``keys`` falls back to its position.
    A result naming an item that was not sent is dropped, and every item left without
    a result gets a synthetic ``failed`` answer saying so: nothing is ever given
    another item's outcome, nothing is silently dropped.
    """
    results = _results_of(data) or []
    index: dict[tuple[str, str], list[int]] = {}
    for i, item in enumerate(items):
        for name in keys:
            value = _opt_str(item.get(name))
            if value:
                index.setdefault((name, _identity(name, value)), []).append(i)
    answered: dict[int, ItemResult] = {}
    strays: list[str] = []
    for position, raw in enumerate(results):
        target: int | None = None
        named = ""
        carried = False
        if isinstance(raw, Mapping):
            for name in keys:
                value = _opt_str(raw.get(name))
                if not value:
                    continue
                carried = True
                candidates = [
                    i for i in index.get((name, _identity(name, value)), []) if i not in answered
                ]
                if candidates:
                    target = candidates[0]
                    break
                named = named or f"{name} {value}"
        if not carried and position < len(items) and position not in answered:
            target = position  # the answer carries no identity: its position is all we have
        if target is None:
            strays.append(named or f"result {position + 1}")
            continue
        answered[target] = ItemResult.from_json(target, raw)
    parsed = [
        answered[i] if i in answered else ItemResult.missing(i, item, strays)
        for i, item in enumerate(items)
    ]
    summary: dict[str, int] = {"total": len(parsed)}
    for result in parsed:
        summary[result.status] = summary.get(result.status, 0) + 1
    return BulkResult(parsed, summary, attempts, possibly_repeated, strays)
