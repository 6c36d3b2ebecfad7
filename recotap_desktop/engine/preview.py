"""What a file will do before it is sent: every row's planned action, old -> new (Qt-free).

:func:`preview_plan` compares a checked :class:`~recotap_desktop.engine.plan.Plan` with the
connection's account mirror (:mod:`recotap_desktop.store.mirror`, refreshed first by
:mod:`recotap_desktop.engine.mirror`) and gives each row one :class:`Planned` action:

``create``     no account has the row's identity; the run creates one.
``update``     an account exists and the row changes at least one value the server
               lists; each change is kept as ``field: old -> new``.
``unchanged``  an account exists and every value the row sends equals the listed one:
               the row is not sent (a success state), unless a segment is chosen
               (membership cannot be read back) or the user asks to send it anyway.
``conflict``   the row cannot do what it says: edition ``crm``, the domain belongs to an
               account with another ``externalId`` (or the CRM API cannot change the
               existing account the row names); edition ``external``, the row's
               ``externalId`` sits on an account with another domain, or the account
               exists with other values while upsert is off.
``not found``  (account field values, ID mappings) no account has the row's key.
``invalid``    the row's own values are invalid (the Check step's problems).

What the API does not list cannot be compared: ``shortName``, ``linkedinUrl`` and ``tags``
are never listed, and edition ``crm`` lists no custom-field values. A row that sends such
a value to an existing account is an ``update`` whose change reads ``field: (not listed)
-> new``; the preview never calls it unchanged. Deals, pipelines and activities are not
listed by the API at all: their rows get no planned action here (the history of earlier
runs is what the app knows about them).

The same comparison, made against the mirror's state just before sending, is what the
runner uses to skip unchanged rows and to read ambiguous answers (an account that
existed before the run is never reported ``created``).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, NamedTuple, Protocol

from recotap_desktop.domain.editions import EditionRules
from recotap_desktop.engine.plan import (
    InvalidRow,
    Plan,
    PlannedItem,
    iter_planned,
    iter_planned_blocks,
)
from recotap_desktop.engine.progress import CancelToken
from recotap_desktop.store.mirror import AccountMirror, MirrorAccount, MirrorInfo, MirrorSnapshot

__all__ = [
    "HISTORY_KINDS",
    "PREVIEW_KINDS",
    "AccountIndex",
    "Change",
    "Planned",
    "Preview",
    "RowPlan",
    "preview_plan",
]

#: Kinds whose rows the preview can plan (the API lists what they change).
PREVIEW_KINDS = frozenset({"accounts", "account-fields", "id-mappings"})
#: Fields of an account item that ``GET /accounts`` does not list.
UNLISTED_FIELDS = ("shortName", "linkedinUrl", "tags")
NOT_LISTED = "(not listed)"
#: Planned rows kept in a :class:`Preview` (the counts go on beyond).
_BATCH = 2_000


class Planned(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    CONFLICT = "conflict"
    NOT_FOUND = "not found"
    INVALID = "invalid"
    #: Kinds the API does not list (deals, pipelines, activities): what the history knows.
    SENT_SAME = "sent before, same values"
    SENT_OTHER = "sent before, other values"
    NOT_SENT_BEFORE = "not sent before"


#: Kinds the API does not list; their preview is what this app sent before.
HISTORY_KINDS = frozenset({"deals", "pipelines", "activities"})


class AccountIndex(Protocol):
    """What the preview reads: the mirror, or a lookup of the file's domains."""

    def by_domains(self, domains: Iterable[str]) -> dict[str, MirrorAccount]: ...

    def by_external_ids(self, ids: Iterable[str]) -> dict[str, list[MirrorAccount]]: ...

    def by_rtp_aids(self, aids: Iterable[str]) -> dict[str, MirrorAccount]: ...


@dataclass(frozen=True, slots=True)
class Change:
    field: str
    old: Any
    new: Any

    def text(self) -> str:
        return f"{self.field}: {_show(self.old)} \u2192 {_show(self.new)}"


class RowPlan(NamedTuple):
    """The planned action of one payload item (all its input rows). A tuple: a preview
    of 100 000 rows makes 100 000 of them."""

    action: Planned
    changes: tuple[Change, ...] = ()
    note: str = ""
    #: The account the row names, as it was before the run (``None``: none).
    before: MirrorAccount | None = None
    #: The documented API refuses this row for the account that exists (a ``conflict``
    #: the server answers "already exists"): it is not sent.
    refused: bool = False
    #: Which account the row names, for people: its domain, or its key.
    subject: str = ""

    def changes_text(self) -> str:
        parts = [c.text() for c in self.changes]
        if self.note:
            parts.append(self.note)
        return "; ".join(parts)


@dataclass
class Preview:
    """Every row's planned action and the counts, with the mirror's state it read."""

    kind: str
    mirror: MirrorInfo | None
    counts: Counter[str] = field(default_factory=Counter)
    #: input row -> plan (every row of the file but duplicates folded into their item).
    rows: dict[int, RowPlan] = field(default_factory=dict)
    segment_note: str = ""
    #: Planned from what this app sent before (kinds the API does not list).
    from_history: bool = False
    #: What the rows were compared with (the mirror's in-memory snapshot): whoever keeps
    #: the preview keeps it, so a preview made again after an option changed does not
    #: read the accounts again (:meth:`AccountMirror.snapshot`).
    accounts: AccountIndex | None = field(default=None, repr=False, compare=False)

    def summary(self) -> str:
        order = [p.value for p in Planned]
        parts = [f"{self.counts[k]:,} {k}" for k in order if self.counts.get(k)]
        text = "Planned: " + (", ".join(parts) if parts else "nothing to send") + "."
        if self.from_history:
            text += (" Recotap does not list these records: this is what this app sent "
                     "before to this connection. Every row is sent.")
        elif self.mirror is not None:
            text += (
                f" Compared with the local copy of {self.mirror.count:,} accounts, "
                f"{self.mirror.describe_age()}."
            )
        else:
            text += " Compared with the file's accounts as Recotap lists them now."
        if self.segment_note:
            text += " " + self.segment_note
        return text


def _show(value: Any) -> str:
    if value is None:
        return "\u2205"
    if isinstance(value, str):
        return value if value == NOT_LISTED else json.dumps(value, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False, default=str)


def date_fields(ctx: Any) -> frozenset[str]:
    """The keys of the custom fields of type date in a conversion context."""
    return frozenset(k for k, f in ctx.custom_fields.items()
                     if getattr(f, "label_type", None) == "date")


def _instant(text: str) -> datetime | None:
    """An ISO 8601 date or date-time as an instant: a date alone is midnight UTC and a
    time without a zone is UTC (how the app reads dates, records/base.py)."""
    if not _ISO_DATE.match(text):
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:$|[T ])")


def same_value(old: Any, new: Any, *, date: bool = False) -> bool:
    """Whether the server's ``old`` and the file's ``new`` are the same value.

    Numbers compare as numbers (``75000`` equals ``75000.0``), lists of options as sets,
    an empty text as no value; everything else exactly.
    """
    if type(old) is type(new) and old == new:
        return True  # the common case, first (a name as it was)
    if old in (None, "", []) and new in (None, "", []):
        return True
    if isinstance(old, bool) or isinstance(new, bool):
        return old is new or (old == new and type(old) is type(new))
    if isinstance(old, int | float) and isinstance(new, int | float):
        return float(old) == float(new)
    if isinstance(old, list) and isinstance(new, list):
        return sorted(map(str, old)) == sorted(map(str, new))
    if isinstance(old, str) and isinstance(new, str):
        if old == new:
            return True
        # A date field: the file's day and the server's timestamp of it are one value
        # ("2026-08-27" and "2026-08-27T00:00:00Z").
        if date and (a := _instant(old)) is not None and (b := _instant(new)) is not None:
            return a == b
        return False
    return bool(old == new)


def _custom_changes(
    before: MirrorAccount, custom: Mapping[str, Any] | None, dates: AbstractSet[str] = frozenset()
) -> list[Change]:
    if not custom:
        return []
    if before.custom_fields is None:
        return [Change(f"customFields.{k}", NOT_LISTED, v) for k, v in custom.items()]
    return [
        Change(f"customFields.{k}", before.custom_fields.get(k), v)
        for k, v in custom.items()
        if not same_value(before.custom_fields.get(k), v, date=k in dates)
    ]


def _account_changes(before: MirrorAccount, item: Mapping[str, Any],
                     dates: AbstractSet[str] = frozenset()) -> list[Change]:
    changes: list[Change] = []
    name = item.get("name", before.name)
    if name != before.name and not same_value(before.name, name):
        changes.append(Change("name", before.name, name))
    ext = item.get("externalId")
    if ext and ext != before.external_id:
        changes.append(Change("externalId", before.external_id, ext))
    for unlisted in UNLISTED_FIELDS:
        value = item.get(unlisted)
        if value:
            changes.append(Change(unlisted, NOT_LISTED, value))
    custom = item.get("customFields")
    if custom:
        changes.extend(_custom_changes(before, custom, dates))
    return changes


def _plan_account_crm(
    item: Mapping[str, Any], domain: str, by_domain: MirrorAccount | None,
    by_ext: Sequence[MirrorAccount], subject: str, dates: AbstractSet[str] = frozenset(),
) -> RowPlan:
    ext = str(item.get("externalId") or "")
    owner = by_ext[0] if by_ext else None
    if owner is not None:
        if owner.domain != domain:
            return RowPlan(
                Planned.CONFLICT,
                note=f"externalId {ext} belongs to the account {owner.domain}",
                before=owner,
                subject=subject,
            )
        changes = _account_changes(owner, item, dates)
        if not changes:
            return RowPlan(Planned.UNCHANGED, before=owner, subject=subject)
        return RowPlan(
            Planned.CONFLICT, tuple(changes),
            "the CRM API cannot change an existing account through an account import "
            "(custom-field values: use an account field values import)",
            before=owner, refused=True,
            subject=subject,
        )
    if by_domain is not None:
        if by_domain.external_id:
            return RowPlan(
                Planned.CONFLICT,
                note=f"the domain belongs to the account with externalId "
                f"{by_domain.external_id}",
                before=by_domain,
                subject=subject,
            )
        # An account without externalId is adopted by the row (the server says "updated").
        return RowPlan(Planned.UPDATE, tuple(_account_changes(by_domain, item, dates)),
                       before=by_domain, subject=subject)
    return RowPlan(Planned.CREATE, subject=subject)


def _plan_account_external(
    item: Mapping[str, Any], domain: str, by_domain: MirrorAccount | None,
    by_ext: Sequence[MirrorAccount], upsert: bool, subject: str,
    dates: AbstractSet[str] = frozenset(),
) -> RowPlan:
    ext = str(item.get("externalId") or "")
    elsewhere = [a for a in by_ext if a.domain != domain]
    if ext and elsewhere:
        return RowPlan(
            Planned.CONFLICT,
            note=f"externalId {ext} sits on the account {elsewhere[0].domain}",
            before=by_domain,
            subject=subject,
        )
    if by_domain is None:
        return RowPlan(Planned.CREATE, subject=subject)
    changes = _account_changes(by_domain, item, dates)
    if not changes:
        return RowPlan(Planned.UNCHANGED, before=by_domain, subject=subject)
    if not upsert:
        return RowPlan(
            Planned.CONFLICT, tuple(changes),
            "the account exists with other values and upsert (update existing) is off",
            before=by_domain, refused=True,
            subject=subject,
        )
    return RowPlan(Planned.UPDATE, tuple(changes), before=by_domain, subject=subject)


def _plan_account_fields(
    item: Mapping[str, Any], found: MirrorAccount | None, key_name: str, subject: str,
    dates: AbstractSet[str] = frozenset(),
) -> RowPlan:
    if found is None:
        return RowPlan(Planned.NOT_FOUND, note=f"no account has {key_name} {item.get('key')}",
        subject=subject,
        )
    changes = _custom_changes(found, item.get("customFields"), dates)
    if not changes:
        return RowPlan(Planned.UNCHANGED, before=found, subject=subject)
    return RowPlan(Planned.UPDATE, tuple(changes), before=found, subject=subject)


def _plan_id_mapping(
    item: Mapping[str, Any], found: MirrorAccount | None, subject: str
) -> RowPlan:
    if found is None:
        return RowPlan(Planned.NOT_FOUND, note=f"no account has the domain {item.get('domain')}",
        subject=subject,
        )
    ext = item.get("externalId")
    if found.external_id == ext:
        return RowPlan(Planned.UNCHANGED, before=found, subject=subject)
    return RowPlan(Planned.UPDATE, (Change("externalId", found.external_id, ext),),
                   before=found, subject=subject)


#: The account fields the mirror lists: a row with only these can be found unchanged
#: without listing its changes.
_LISTED_FIELDS = frozenset({"domain", "name", "externalId"})


def _plan_accounts(
    rules: EditionRules, items: Sequence[Mapping[str, Any]], index: AccountIndex, upsert: bool,
    dates: AbstractSet[str],
) -> list[RowPlan]:
    norm = [str(i.get("domain") or "") for i in items]
    exts = [str(i.get("externalId") or "") for i in items]
    # The common case first, for a whole block: the row's domain, name and externalId
    # are those of one account (whose id no other account has) and the row sends
    # nothing else. Such a row changes nothing: what the full comparison below finds,
    # without a Python call per row.
    same: list[MirrorAccount | None] = [None] * len(items)
    if isinstance(index, MirrorSnapshot):
        names = [n if isinstance(n := i.get("name"), str) else "\0" for i in items]
        same = list(map(index.by_values().get, zip(norm, names, exts, strict=True)))
        if not all(map(_LISTED_FIELDS.issuperset, items)):
            same = [a if a is not None and item.keys() <= _LISTED_FIELDS else None
                    for a, item in zip(same, items, strict=True)]
    rest = [n for n, a in enumerate(same) if a is None]
    domains = index.by_domains([norm[n] for n in rest])
    by_ext = index.by_external_ids([exts[n] for n in rest if exts[n]])
    crm = rules.requires_external_id
    unchanged = Planned.UNCHANGED
    out: list[RowPlan] = []
    for item, d, e, acc in zip(items, norm, exts, same, strict=True):
        if acc is not None:
            out.append(RowPlan(unchanged, (), "", acc, False, d))
            continue
        acc = domains.get(d)
        owners = by_ext.get(e, ()) if e else ()
        if crm:
            out.append(_plan_account_crm(item, d, acc, owners, d, dates))
        else:
            out.append(_plan_account_external(item, d, acc, owners, upsert, d, dates))
    return out


def plan_items(
    kind: str, rules: EditionRules, items: Sequence[Mapping[str, Any]], index: AccountIndex,
    *, upsert: bool, date_fields: AbstractSet[str] = frozenset(),
) -> list[RowPlan]:
    """The planned action of each payload item of ``kind`` (a batch: one lookup each).

    ``items`` are payloads the plan's converter made: their domains are normalised
    already (:func:`~recotap_desktop.records.convert.parse_domain` gives what
    :func:`~recotap_desktop.domain.domains.normalise_domain` gives). ``date_fields``: the
    keys of the custom fields of type date, whose values compare as days and instants
    (:func:`same_value`)."""
    if kind == "accounts":
        return _plan_accounts(rules, items, index, upsert, date_fields)
    if kind == "account-fields":
        keys = [str(i.get("key") or "") for i in items]
        key_name = rules.account_update_key
        if key_name == "rtp_aid":
            found: Mapping[str, MirrorAccount] = index.by_rtp_aids(keys)
        else:
            found = {k: v[0] for k, v in index.by_external_ids(keys).items()}
        return [_plan_account_fields(i, found.get(k), key_name, k, date_fields)
                for i, k in zip(items, keys, strict=True)]
    if kind == "id-mappings":
        norm = [str(i.get("domain") or "") for i in items]
        domains = index.by_domains(norm)
        return [_plan_id_mapping(i, domains.get(d), d) for i, d in zip(items, norm, strict=True)]
    raise ValueError(f"The preview cannot plan {kind} rows.")


@dataclass(frozen=True, slots=True)
class SentBefore:
    """The last time this app sent a record of this identity to this connection."""

    run_id: int
    payload: str


def sent_before(history: Any, kind: str, target: Any,
                key_of: Callable[[Mapping[str, Any]], str | None]) -> dict[str, SentBefore]:
    """What earlier runs of ``kind`` on ``target`` (a RunTarget) delivered, by identity:
    the newest successful outcome of each record, with the item as sent."""
    from recotap_desktop.engine.run_target import RunTarget

    found: dict[str, SentBefore] = {}
    for run in history.list_runs(1_000, kind=kind):
        if RunTarget.of_run(run) != target:
            continue
        for o in history.iter_outcomes(run.id):
            if o.state not in _DELIVERED or not o.ids or "payload" not in o.ids:
                continue
            try:
                payload = json.loads(o.ids["payload"])
            except ValueError:
                continue
            key = key_of(payload) if isinstance(payload, dict) else None
            if key and key not in found:
                found[key] = SentBefore(run.id, o.ids["payload"])
    return found


_DELIVERED = frozenset({"created", "updated", "upserted", "unchanged"})


def plan_from_history(item: Mapping[str, Any], key: str | None,
                      known: Mapping[str, SentBefore]) -> RowPlan:
    """A row of a kind the API does not list, planned from what this app sent before."""
    before = known.get(key) if key else None
    if before is None:
        return RowPlan(Planned.NOT_SENT_BEFORE, subject=key or "")
    same = before.payload == json.dumps(item, ensure_ascii=False, separators=(",", ":"))
    return RowPlan(Planned.SENT_SAME if same else Planned.SENT_OTHER,
                   note=f"run {before.run_id}", subject=key or "")


def preview_from_history(plan: Plan, history: Any, target: Any,
                         cancel: CancelToken | None = None) -> Preview:
    """The preview of a deals, pipelines or activities file: which records this app sent
    before to the same connection (run N, same or other values). These rows are all sent:
    the API cannot say what it holds."""
    job = plan.job
    kind = job.record_kind()
    ctx = job.context()
    known = sent_before(history, job.kind, target, lambda p: kind.item_key(p, ctx))
    preview = Preview(kind=job.kind, mirror=None, from_history=True)
    from recotap_desktop.files import sniff

    source = sniff(job.path, encoding=job.encoding, delimiter=job.delimiter, sheet=job.sheet)
    for entry in iter_planned(job, source, cancel):
        if isinstance(entry, PlannedItem):
            row_plan = plan_from_history(entry.payload, kind.item_key(entry.payload, ctx),
                                         known)
            for row in entry.rows:
                preview.rows[row] = row_plan
                preview.counts[row_plan.action.value] += 1
        elif isinstance(entry, InvalidRow):
            preview.rows[entry.row] = RowPlan(Planned.INVALID, note=entry.message)
            preview.counts[Planned.INVALID.value] += 1
    return preview


def preview_plan(
    plan: Plan, index: AccountIndex, mirror: MirrorInfo | None = None,
    cancel: CancelToken | None = None,
) -> Preview:
    """Every row's planned action (see the module doc). Reads the file again, in batches."""
    job = plan.job
    if job.kind not in PREVIEW_KINDS:
        raise ValueError(f"The preview cannot plan {job.kind} rows.")
    preview = Preview(kind=job.kind, mirror=mirror)
    if isinstance(index, AccountMirror):
        index = index.snapshot()  # one read of the mirror instead of a query per batch
    preview.accounts = index
    if job.kind == "accounts" and job.options.segment_id:
        preview.segment_note = (
            "A segment is chosen: unchanged rows are sent too, to join it (membership "
            "cannot be read back)."
        )
    from recotap_desktop.files import sniff  # the plan's source, read again

    source = sniff(job.path, encoding=job.encoding, delimiter=job.delimiter, sheet=job.sheet)
    rows, counts = preview.rows, preview.counts
    dates = date_fields(job.context())
    for block in iter_planned_blocks(job, source, cancel):
        row_numbers: Sequence[int] = block.rows
        items: Sequence[Mapping[str, Any]] = block.items
        if block.row_entries:
            planned = [e for e in block.row_entries if isinstance(e, PlannedItem)]
            row_numbers = [e.rows[0] for e in planned]
            items = [e.payload for e in planned]
            for entry in block.row_entries:
                if isinstance(entry, InvalidRow):
                    rows[entry.row] = RowPlan(Planned.INVALID, note=entry.message)
                    counts[Planned.INVALID.value] += 1
        if items:
            plans = plan_items(job.kind, job.rules, items, index, upsert=job.options.upsert,
                               date_fields=dates)
            rows.update(zip(row_numbers, plans, strict=True))
            counts.update([p.action.value for p in plans])
    return preview
